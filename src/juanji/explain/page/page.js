// juanji explainer page: plain JavaScript, no libraries, no network.
// Every number comes from the float64 port of juanji's layers (port.js, globalThis.juanji.model)
// run on the input shown; each explanation recomputes one number from its parts (window x kernel
// + bias, a pool window, a sum of contributions) and shows it next to the layer's own output.
(function () {
  'use strict';

  var DATA = JSON.parse(document.getElementById('juanji-data').textContent);
  var M = globalThis.juanji.model;  // the float64 port (port.js) with the model's weights
  var TOL = 1e-9;  // relative agreement shown as a check mark (both sides are float64)
  var ACTIVATIONS = { ReLU: 1, LeakyReLU: 1, Sigmoid: 1, Tanh: 1 };
  // the layers as the page reads them: the port's geometry and weights, the label juanji gives
  var L = M.layers.map(function (l, n) {
    return Object.assign({}, l, { index: n, label: DATA.layers[n].label, use_bias: !!l.b,
      inputs_per_output: DATA.layers[n].inputs_per_output });
  });
  var K = DATA.classes.length;

  // ---------------------------------------------------------------- languages
  // Every string the page shows goes through tr(english, {name: value}): English is the key, as
  // a gettext msgid; DATA.strings[lang] maps it to the translation (juanji's one table,
  // explain/page/strings.json). {name} placeholders are filled after translating.
  var LANG = DATA.lang || 'en';
  function tr(msg, args) {
    var table = (DATA.strings || {})[LANG] || {}, s = table[msg] || msg;
    return args ? s.replace(/\{(\w+)\}/g, function (m, key) { return key in args ? String(args[key]) : m; }) : s;
  }
  // the static parts of page.html carry data-t; their English is kept in data-en
  function translateStatic() {
    document.documentElement.lang = LANG === 'zh' ? 'zh-Hans' : 'en';
    document.querySelectorAll('[data-t]').forEach(function (node) {
      if (!node.dataset.en) node.dataset.en = node.textContent.replace(/\s+/g, ' ').trim();
      node.textContent = tr(node.dataset.en);
    });
    document.querySelectorAll('[data-ta]').forEach(function (node) {
      if (!node.dataset.ta) node.dataset.ta = node.getAttribute('aria-label');
      node.setAttribute('aria-label', tr(node.dataset.ta));
    });
    document.querySelectorAll('#lang button').forEach(function (b) {
      b.setAttribute('aria-pressed', String(b.dataset.lang === LANG));
    });
  }

  // ---------------------------------------------------------------- the input and its passes
  function decodeU8(b64) {  // base64 of uint8 pixels -> Float64Array of 0..255
    var s = atob(b64), out = new Float64Array(s.length);
    for (var n = 0; n < s.length; n++) out[n] = s.charCodeAt(n);
    return out;
  }
  var IMAGES = DATA.examples.map(function (e) { return decodeU8(e.pixels); });
  // state.raw: the raw pixels (H, W, C) row-major, 0..255, of the input shown; state.version
  // changes with it, so the passes below are recomputed once per input and class.
  var passes = { key: null, fwd: null, bwd: null };
  function forwardPass() {
    if (passes.key !== state.version) {
      passes = { key: state.version, fwd: M.run(state.raw), bwd: null, bwdLabel: null };
    }
    return passes.fwd;
  }
  function predicted() {
    var p = forwardPass().probs, best = 0;
    for (var n = 1; n < p.length; n++) if (p[n] > p[best]) best = n;
    return best;
  }
  // the class whose loss the backward view differentiates: the one picked, else the one the page
  // was written for, else the predicted class
  function labelShown() {
    if (state.label !== null) return state.label;
    return DATA.label !== null && DATA.label !== undefined && DATA.label < K ? DATA.label : predicted();
  }
  function backwardPass() {
    forwardPass();
    var c = labelShown();
    if (passes.bwdLabel !== c) { passes.bwd = M.trace(state.raw, c); passes.bwdLabel = c; }
    return passes.bwd;
  }
  function shapeOf(k) { return k === 0 ? DATA.input_shape : L[k - 1].out_shape; }
  // act(k): a_k (a_0 the normalised input); grad(k): dL/da_k; {shape, data} row-major, no batch
  function act(e, k) { return { shape: shapeOf(k), data: forwardPass().acts[k] }; }
  function grad(e, k) { return { shape: shapeOf(k), data: backwardPass().grads[k] }; }
  function param(l, name) {
    var layer = L[l];
    return name === 'weight' ? { shape: layer.w_shape, data: layer.w } : { shape: [layer.b.length], data: layer.b };
  }
  function pgrad(e, l, name) {
    var g = backwardPass().params[l];
    return name === 'weight' ? { shape: L[l].w_shape, data: g.dw } : { shape: [g.db.length], data: g.db };
  }
  function rawInput() { return { shape: DATA.input_shape, data: state.raw }; }
  function at(t) {  // at(t, i, j, c) or at(t, i) with row-major strides
    var k = 0;
    for (var n = 1; n < arguments.length; n++) k = k * t.shape[n - 1] + arguments[n];
    return t.data[k];
  }
  function absMax(t) {
    var m = 0;
    for (var n = 0; n < t.data.length; n++) if (Math.abs(t.data[n]) > m) m = Math.abs(t.data[n]);
    return m;
  }

  // ---------------------------------------------------------------- the output-size formula
  // A port of juanji.functional.sizes.output_size (the one formula), with explicit padding:
  //   out = floor((n + p_before + p_after - d*(f - 1) - 1) / s) + 1   (ceil with ceil_mode, where a
  //   window must still start inside the input or its before-padding, PyTorch's rule).
  function checkInt(v, name, minimum) {
    if (!Number.isInteger(v)) throw new TypeError('`' + name + '` must be an int, got ' + v);
    if (v < minimum) throw new RangeError('`' + name + '` must be >= ' + minimum + ', got ' + v);
    return v;
  }
  function outputSize(n, f, s, pBefore, pAfter, d, ceilMode) {
    checkInt(n, 'n', 1); checkInt(f, 'kernel_size', 1); checkInt(s, 'stride', 1);
    checkInt(d, 'dilation', 1); checkInt(pBefore, 'padding', 0); checkInt(pAfter, 'padding', 0);
    var span = d * (f - 1) + 1;
    var room = n + pBefore + pAfter - span;
    var out;
    if (!ceilMode) {
      out = Math.floor(room / s) + 1;
    } else {  // PyTorch: a window may hang past the end, so room may be negative (by < s)
      out = Math.ceil(room / s) + 1;
      if ((out - 1) * s >= n + pBefore) out -= 1;  // it would start in the after-padding: drop it
    }
    if (room < 0 && (!ceilMode || out < 1)) {
      throw new RangeError('`kernel_size` ' + f + ' (spanning ' + span + ' pixels with dilation ' +
        d + ') is larger than the padded input ' + n + ' + ' + pBefore + ' + ' + pAfter + ' = ' +
        (n + pBefore + pAfter));
    }
    return out;
  }

  // ---------------------------------------------------------------- DOM and number helpers
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        var v = attrs[k];
        if (v === undefined || v === null) return;
        if (k === 'text') node.textContent = v;
        else if (k === 'class') node.className = v;
        else if (k === 'style') node.setAttribute('style', v);
        else if (k.slice(0, 2) === 'on') node.addEventListener(k.slice(2), v);
        else node.setAttribute(k, String(v));
      });
    }
    (children || []).forEach(function (c) {
      if (c !== null && c !== undefined) node.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
    });
    return node;
  }
  // ports of juanji.explain.display.fmt and diverging_rgb (a browser test compares them)
  var SIG = DATA.display.sig_digits, SCALE = DATA.display.diverging;
  function fmt(v) {  // at most 7 characters: SIG significant digits, else '-7.8e-4'
    if (Number.isNaN(v)) return 'nan';
    if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
    if (v === 0) return '0';
    var r = Number(v.toPrecision(SIG)), a = Math.abs(r);
    if (a >= 1e-2 && a < 1e3) return String(r);
    var parts = v.toExponential(1).split('e'), mant = parts[0];
    if (mant.slice(-2) === '.0') mant = mant.slice(0, -2);
    return mant + 'e' + Number(parts[1]);
  }
  // diverging scale: blue (negative), white (0), red (positive), saturated at |v| = m
  function rgb(v, m) {
    var t = m > 0 && Number.isFinite(v) ? Math.max(-1, Math.min(1, v / m)) : 0;
    var end = t < 0 ? SCALE[0] : SCALE[2];
    var u = Math.abs(t);
    return [0, 1, 2].map(function (q) { return Math.floor(255 + (end[q] - 255) * u + 0.5); });
  }
  function css(c) { return 'rgb(' + c[0] + ',' + c[1] + ',' + c[2] + ')'; }
  function isDark(c) { return 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2] < 140; }
  // one number as a coloured cell; `attrs` carries data-role etc. for tests and screen readers
  function numCell(v, m, attrs, asButton) {
    var c = rgb(v, m);
    var a = Object.assign({ class: 'cell' + (isDark(c) ? ' dark' : ''), style: 'background:' + css(c),
      'data-value': String(v), title: String(v), text: fmt(v) }, attrs || {});
    if (asButton) a.type = 'button';
    return el(asButton ? 'button' : 'span', a);
  }
  function grid(w, cells, cellSize) {
    return el('div', { class: 'grid', style: '--w:' + w + (cellSize ? ';--cell:' + cellSize : '') }, cells);
  }
  function numSpan(v, role, extra) {
    return el('strong', Object.assign({ 'data-role': role, 'data-value': String(v), title: String(v),
      text: fmt(v) }, extra || {}));
  }
  function agree(a, b, scale) {
    var ok = Math.abs(a - b) <= TOL * Math.max(Math.abs(b), scale || 0, 1e-30) + 1e-15;
    return el('span', { class: ok ? 'ok' : 'bad', 'data-role': 'check', 'data-ok': String(ok),
      text: tr(ok ? ' \u2713 equal' : ' \u2717 differs') });
  }
  function legend(m, what) {
    return el('div', { class: 'legend' }, [
      el('span', { text: what }), el('span', { text: fmt(-m) }),
      el('span', { class: 'ramp', role: 'img', 'aria-label': tr('colour scale from {lo} (blue) through 0 (white) to {hi} (red)', { lo: fmt(-m), hi: fmt(m) }) }),
      el('span', { text: fmt(m) })]);
  }

  // ---------------------------------------------------------------- state
  // ex: the example shown (-1: the learner's drawing or upload); raw: its pixels; version: bumped
  // whenever raw changes
  var state = { ex: 0, raw: IMAGES[0], version: 0, mode: 'forward', k: null, c: 0, neuron: null,
    weight: null, label: null, wc: null, own: null };
  function setInput(ex, raw) {
    state.ex = ex; state.raw = raw; state.version += 1; state.neuron = null; state.weight = null;
  }
  function layerOf(k) { return k > 0 ? L[k - 1] : null; }
  function isForward() { return state.mode === 'forward'; }
  function values(k) { return state.mode === 'forward' ? act(state.ex, k) : grad(state.ex, k); }
  function colName(k) {
    return k === 0 ? tr('input {s}', { s: shapeOf(0).join('\u00d7') }) : L[k - 1].label;
  }
  function pick(k, c) { stopPlayer(); state.k = k; state.c = c; state.neuron = null; state.weight = null; state.wc = null; render(); }

  // ---------------------------------------------------------------- input chooser and pass
  function drawMap(canvas, t, c, m) {
    var h = t.shape[0], w = t.shape[1], ctx = canvas.getContext('2d');
    var img = ctx.createImageData(w, h);
    for (var i = 0; i < h; i++) for (var j = 0; j < w; j++) {
      var col = rgb(at(t, i, j, c), m), q = 4 * (i * w + j);
      img.data[q] = col[0]; img.data[q + 1] = col[1]; img.data[q + 2] = col[2]; img.data[q + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
  }
  // raw pixels (0..255) as the model reads them: grey for one channel, colour for three
  function drawRaw(canvas, raw) {
    var h = DATA.input_shape[0], w = DATA.input_shape[1], C = DATA.input_shape[2];
    var ctx = canvas.getContext('2d'), img = ctx.createImageData(w, h);
    for (var i = 0; i < h; i++) for (var j = 0; j < w; j++) for (var ch = 0; ch < 3; ch++) {
      img.data[4 * (i * w + j) + ch] = raw[(i * w + j) * C + (C === 3 ? ch : 0)];
      img.data[4 * (i * w + j) + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
  }
  function renderExamples() {
    var box = document.getElementById('examples');
    box.textContent = '';
    DATA.examples.forEach(function (e, n) {
      var cv = el('canvas', { width: DATA.input_shape[1], height: DATA.input_shape[0] });
      drawRaw(cv, IMAGES[n]);
      box.appendChild(el('button', { type: 'button', 'aria-pressed': String(n === state.ex),
        'data-example': n, onclick: function () { setInput(n, IMAGES[n]); render(); } },
        [cv, el('span', { text: e.name })]));
    });
  }
  function renderPass() {
    var trueLabel = state.ex >= 0 ? DATA.examples[state.ex].true_label : null;
    var note = document.getElementById('pass-note'), f = forwardPass(), top = predicted();
    document.querySelectorAll('#modes button').forEach(function (b) {
      b.setAttribute('aria-pressed', String(b.dataset.mode === state.mode));
    });
    var truth = trueLabel === null ? '' : tr(' True class: {c}.', { c: DATA.classes[trueLabel] });
    note.dataset.predicted = String(top);
    if (state.mode === 'forward') {
      note.textContent = tr('Predicted: {c} (p = {p}).', { c: DATA.classes[top], p: fmt(f.probs[top]) }) + truth;
    } else {
      var b = backwardPass();
      note.textContent = tr(b.label === top ? 'Gradients of the loss L = \u2212log p[{c}] = {loss} (the predicted class) with respect to every activation.' :
        'Gradients of the loss L = \u2212log p[{c}] = {loss} (the chosen class) with respect to every activation.',
        { c: DATA.classes[b.label], loss: fmt(b.loss) }) + truth;
      note.dataset.loss = String(b.loss);
    }
    // which class's loss to differentiate: any class
    var pickBox = document.getElementById('label-pick'), shown = labelShown();
    pickBox.hidden = state.mode !== 'backward';
    var select = el('select', { id: 'label-select', 'aria-label': tr('the class whose loss is differentiated'),
      onchange: function () { state.label = Number(this.value); state.weight = null; render(); } },
      DATA.classes.map(function (name, n) {
        var opt = el('option', { value: String(n), text: name +
          (n === top ? tr(' (predicted)') : '') + (n === trueLabel ? tr(' (true)') : '') });
        if (n === shown) opt.selected = true;
        return opt;
      }));
    pickBox.replaceChildren(el('span', { text: tr('loss of class ') }), select);
  }

  // ---------------------------------------------------------------- overview: the network
  function renderNetwork() {
    var net = document.getElementById('network');
    net.textContent = '';
    document.getElementById('legend').replaceChildren(
      el('span', { text: tr(isForward() ? 'Activations: blue < 0, white 0, red > 0; each column scaled to its own largest |value| (under its name).' :
        'Gradients dL/da: blue < 0, white 0, red > 0; each column scaled to its own largest |value| (under its name).') }),
      el('span', { class: 'ramp', role: 'img', 'aria-label': tr('diverging colour scale, blue negative, white zero, red positive') }));
    for (var k = 0; k < L.length + 1; k++) {
      var t = values(k), m = absMax(t), shape = shapeOf(k), maps = [];
      if (shape.length === 3) {
        var h = shape[0], w = shape[1], C = shape[2], scale = Math.max(1, Math.floor(40 / Math.max(h, w)));
        for (var c = 0; c < C; c++) {
          var cv = el('canvas', { width: w, height: h, style: 'width:' + w * scale + 'px;height:' + h * scale + 'px' });
          if (k === 0 && state.mode === 'forward') drawRaw(cv, state.raw); else drawMap(cv, t, c, m);
          maps.push(el('button', { type: 'button', class: 'map', 'data-k': k, 'data-c': c,
            'aria-pressed': String(state.k === k && state.c === c),
            'aria-label': colName(k) + tr(', channel {c}', { c: c }), onclick: pick.bind(null, k, c) }, [cv]));
        }
        var cols = Math.ceil(C / 8);
      } else {
        var D = shape[0], cv1 = el('canvas', { width: 1, height: D, style: 'width:12px;height:' + Math.min(160, D * 4) + 'px' });
        drawMap(cv1, { shape: [D, 1, 1], data: t.data }, 0, m);
        maps.push(el('button', { type: 'button', class: 'map', 'data-k': k, 'data-c': 0,
          'aria-pressed': String(state.k === k), 'aria-label': colName(k), onclick: pick.bind(null, k, 0) }, [cv1]));
        cols = 1;
      }
      if (k > 0) net.appendChild(el('div', { class: 'link', 'aria-hidden': 'true' }));
      net.appendChild(el('div', { class: 'column', 'data-k': k }, [
        el('div', { class: 'head', text: colName(k) }),
        el('div', { class: 'scale', text: '\u00b1' + fmt(m) }),
        el('div', { class: 'maps', style: '--cols:' + cols }, maps)]));
    }
    document.getElementById('probs').replaceChildren(probColumn());
  }
  function probColumn() {
    var rows = [], probs = forwardPass().probs;
    var shown = state.mode === 'backward' ? labelShown() : predicted();
    probs.forEach(function (p, n) {
      var cls = n === shown ? 'chosen' : '';
      rows.push(el('span', { class: cls, text: DATA.classes[n] }));
      rows.push(el('span', {}, [el('div', { class: 'bar', style: 'width:' + (100 * p).toFixed(1) + '%' })]));
      rows.push(el('span', { 'data-role': 'prob', 'data-class': n, 'data-value': String(p), text: (100 * p).toFixed(1) + '%' }));
    });
    return el('div', { class: 'column' }, [el('div', { class: 'head', text: tr('probabilities') }),
      el('div', { class: 'probs' }, rows)]);
  }

  // ---------------------------------------------------------------- detail: one map's neurons
  // arrow keys move the focus between the buttons of a grid
  function arrowKeys(ev) {
    var moves = { ArrowLeft: [0, -1], ArrowRight: [0, 1], ArrowUp: [-1, 0], ArrowDown: [1, 0] };
    var d = moves[ev.key], cur = ev.target;
    if (!d || !cur.dataset || cur.dataset.i === undefined) return;
    if (cur.dataset.role === 'unit') d = [d[0] * 10 + d[1], 0];  // units: 10 to a row, numbered along
    var sel = '[data-i="' + (+cur.dataset.i + d[0]) + '"][data-j="' + (+cur.dataset.j + d[1]) + '"]';
    var next = ev.currentTarget.querySelector(sel);
    if (next) { next.focus(); ev.preventDefault(); }
  }
  function renderDetail() {
    var box = document.getElementById('detail');
    box.replaceChildren(el('h2', { id: 'detail-title', text: tr('Feature map') }));
    if (state.k === null) {
      box.appendChild(el('p', { class: 'note', text: tr('Choose a feature map in the network above.') }));
      return;
    }
    var k = state.k, c = state.c, t = values(k), shape = shapeOf(k), m = absMax(t), cells = [];
    var what = state.mode === 'forward' ? 'a' : 'dL/da';
    box.appendChild(el('p', { text: colName(k) + (shape.length === 3 ? tr(', channel {c}', { c: c }) : '') +
      tr(isForward() ? ': activations' : ': gradient of the loss') }));
    box.appendChild(legend(m, what));
    if (shape.length === 3) {
      var h = shape[0], w = shape[1];
      for (var i = 0; i < h; i++) for (var j = 0; j < w; j++) {
        var v = at(t, i, j, c), sel = state.neuron && state.neuron.i === i && state.neuron.j === j;
        var cell = numCell(v, m, { 'data-role': 'neuron', 'data-i': i, 'data-j': j, 'aria-pressed': String(!!sel),
          'aria-label': tr('row {i}, column {j}', { i: i, j: j }) + ', ' + what + ' = ' + fmt(v),
          onclick: (function (i, j) { return function () { state.neuron = { i: i, j: j }; renderExplain(); markNeuron(); }; })(i, j) }, true);
        if (w > 12) cell.classList.add('small');
        if (k === 0 && state.mode === 'forward') greyCell(cell, i, j);
        cells.push(cell);
      }
      var g = grid(w, cells, w > 12 ? '1.1rem' : null);
      g.addEventListener('keydown', arrowKeys);
      box.appendChild(g);
      var layer = layerOf(k);
      if (state.mode === 'backward' && layer && layer.kind === 'MaxPool2D') box.appendChild(routingMask(layer, c));
    } else {
      for (var n = 0; n < shape[0]; n++) {
        var on = state.neuron && state.neuron.i === n;
        cells.push(numCell(at(t, n), m, { 'data-role': 'unit', 'data-i': n, 'data-j': 0, 'aria-pressed': String(!!on),
          'aria-label': tr('unit {n}', { n: n }) + ', ' + what + ' = ' + fmt(at(t, n)),
          onclick: (function (n) { return function () { state.neuron = { i: n, j: 0 }; renderExplain(); markNeuron(); }; })(n) }, true));
      }
      var g1 = grid(Math.min(shape[0], 10), cells);
      g1.addEventListener('keydown', arrowKeys);
      box.appendChild(g1);
    }
  }
  function markNeuron() {
    document.querySelectorAll('#detail [data-role="neuron"], #detail [data-role="unit"]').forEach(function (b) {
      var on = state.neuron && +b.dataset.i === state.neuron.i && +b.dataset.j === state.neuron.j;
      b.setAttribute('aria-pressed', String(!!on));
    });
  }

  // the max-pool routing mask: which input cells won a window, and the gradient they receive
  function routingMask(layer, c) {
    var e = state.ex, arg = forwardPass().args[layer.index], dx = grad(e, layer.index);
    var H = layer.in_shape[0], W = layer.in_shape[1], C = layer.in_shape[2];
    var Ho = layer.out_shape[0], Wo = layer.out_shape[1], count = new Int32Array(H * W);
    for (var i = 0; i < Ho; i++) for (var j = 0; j < Wo; j++) {
      var won = arg[(i * Wo + j) * C + c];  // the winner's flat index in the input (h, w, c)
      if (won >= 0) count[Math.floor(won / C)] += 1;
    }
    var m = absMax(dx), cells = [];
    for (var r2 = 0; r2 < H; r2++) for (var q2 = 0; q2 < W; q2++) {
      var v = at(dx, r2, q2, c), n = count[r2 * W + q2];
      var cell = numCell(v, m, { 'data-role': 'mask-cell', 'data-i': r2, 'data-j': q2, 'data-count': n,
        'aria-label': tr('input row {i}, column {j}', { i: r2, j: q2 }) + (n ? tr(', won {n} window(s)', { n: n }) : tr(', won no window')) +
          tr(', receives {v}', { v: fmt(v) }) }, false);
      if (n) cell.classList.add('win');
      if (W > 12) cell.classList.add('small');
      cells.push(cell);
    }
    return el('div', { class: 'panel' }, [
      el('h3', { text: tr('Routing mask: layer {l} input, channel {c}', { l: layer.index, c: c }) }),
      el('p', { class: 'note', text: tr('Max pooling sends each output gradient to the one cell that won its window (outlined; the first maximum on ties). Every other cell gets 0. Numbers: dL/dx of the layer\u2019s backward.') }),
      grid(W, cells, W > 12 ? '1.1rem' : null)]);
  }

  // ---------------------------------------------------------------- explanations
  function windowCell(layer, x, i, j, a, b, c) {
    // the input cell under tap (a, b) of output (i, j); null when it is padding
    var r = i * layer.stride[0] + a * layer.dilation[0] - layer.padding[0][0];
    var q = j * layer.stride[1] + b * layer.dilation[1] - layer.padding[1][0];
    if (r < 0 || r >= x.shape[0] || q < 0 || q >= x.shape[1]) return null;
    return { r: r, q: q, v: at(x, r, q, c) };
  }

  // is tap (a, b) of output (i, j) in the padding (as opposed to past it, where a ceil-mode window
  // hangs over the edge)? Average pooling counts padding cells only with count_include_pad.
  function inPadding(layer, i, j, a, b) {
    var r = i * layer.stride[0] + a * layer.dilation[0] - layer.padding[0][0];
    var q = j * layer.stride[1] + b * layer.dilation[1] - layer.padding[1][0];
    return r >= -layer.padding[0][0] && r < layer.in_shape[0] + layer.padding[0][1] &&
      q >= -layer.padding[1][0] && q < layer.in_shape[1] + layer.padding[1][1];
  }
  var SHOW_CHANNELS = 4;  // a conv neuron with more input channels shows one at a time
  // every channel's sum of products, each a button that shows that channel's window x kernel
  function channelSums(sums, chosen) {
    return el('div', { class: 'sums' }, [el('span', { class: 'note', text: tr('sum of products per input channel (choose one to see it):') })]
      .concat(sums.map(function (t) {
        return el('button', { type: 'button', class: 'sum', 'data-role': 'channel-pick', 'data-c': t.c,
          'aria-pressed': String(t.c === chosen), onclick: function () { state.wc = t.c; renderExplain(); } },
          [el('span', { text: 'c' + t.c + ': ' }), numSpan(t.sum, 'channel-sum', { 'data-c': t.c })]);
      })));
  }
  function convNeuron(layer, i, j, o) {
    var e = state.ex, x = act(e, layer.index), w = param(layer.index, 'weight');
    var kh = w.shape[0], kw = w.shape[1], cg = w.shape[2], cout = w.shape[3];
    var g = Math.floor(o / (cout / layer.groups)), panels = [], total = 0, absSum = 0, sums = [];
    var mx = absMax(x), mw = absMax(w);
    var chosen = state.wc !== null && state.wc >= g * cg && state.wc < (g + 1) * cg ? state.wc : g * cg;
    for (var cl = 0; cl < cg; cl++) {
      var c = g * cg + cl, win = [], ker = [], prod = [], sum = 0, prods = [];
      for (var a = 0; a < kh; a++) for (var b = 0; b < kw; b++) {
        var cell = windowCell(layer, x, i, j, a, b, c), xv = cell ? cell.v : 0, wv = at(w, a, b, cl, o);
        prods.push(xv * wv);
      }
      var mp = Math.max.apply(null, prods.map(Math.abs));
      for (var a2 = 0, n = 0; a2 < kh; a2++) for (var b2 = 0; b2 < kw; b2++, n++) {
        var cell2 = windowCell(layer, x, i, j, a2, b2, c), xv2 = cell2 ? cell2.v : 0;
        var pos = { 'data-a': a2, 'data-b': b2, 'data-c': c };
        var wc = numCell(xv2, mx, Object.assign({ 'data-role': 'window' }, pos));
        if (!cell2) { wc.classList.add('pad'); wc.style.background = ''; wc.title = tr('padding: 0'); }
        else if (layer.index === 0) greyCell(wc, cell2.r, cell2.q);
        win.push(wc);
        ker.push(numCell(at(w, a2, b2, cl, o), mw, Object.assign({ 'data-role': 'kernel' }, pos)));
        prod.push(numCell(prods[n], mp, Object.assign({ 'data-role': 'product' }, pos)));
        sum += prods[n]; absSum += Math.abs(prods[n]);
      }
      total += sum;
      sums.push({ c: c, sum: sum });
      if (cg > SHOW_CHANNELS && c !== chosen) continue;
      panels.push(el('div', { class: 'panel', 'data-channel': c }, [
        el('h3', { text: tr('input channel {c}', { c: c }) }),
        el('div', { class: 'triple', 'data-kw': kw, style: '--k:' + Math.max(kw, 3) }, [
          el('figure', {}, [grid(kw, win, 'var(--tcell)'), el('figcaption', { text: tr('window of a{k}', { k: layer.index }) })]),
          el('span', { class: 'op', text: '\u00d7' }),
          el('figure', {}, [grid(kw, ker, 'var(--tcell)'), el('figcaption', { text: tr('kernel w[:, :, {c}, {o}]', { c: cl, o: o }) })]),
          el('span', { class: 'op', text: '=' }),
          el('figure', {}, [grid(kw, prod, 'var(--tcell)'), el('figcaption', { text: tr('products') })])]),
        cg > SHOW_CHANNELS ? null : el('p', { class: 'eq' }, [tr('sum of products = '), numSpan(sum, 'channel-sum', { 'data-c': c })])]));
    }
    var bias = layer.use_bias ? at(param(layer.index, 'bias'), o) : 0;
    var z = total + bias, y = at(act(e, layer.index + 1), i, j, o);
    var out = [
      el('p', {}, [tr('Output ({i}, {j}) of filter {o}: each input channel\u2019s window (stride {s}, padding {p}, dilation {d}) times the kernel, element by element, summed, plus the bias.',
        { i: i, j: j, o: o, s: layer.stride.join('\u00d7'), p: JSON.stringify(layer.padding), d: layer.dilation.join('\u00d7') })]),
      cg > SHOW_CHANNELS ? channelSums(sums, chosen) : null,
      el('div', { class: 'channels' }, panels),
      el('p', { class: 'eq' }, [tr('\u03a3 over {n} channel(s) = ', { n: cg }), numSpan(total, 'sum'), tr(' + bias '),
        numSpan(bias, 'bias'), ' = z = ', numSpan(z, 'z'), tr('; the layer\u2019s output: '), numSpan(y, 'layer-out'), agree(z, y, absSum)])];
    var next = L[layer.index + 1];
    if (next && ACTIVATIONS[next.kind]) {
      var yn = at(act(e, layer.index + 2), i, j, o), fz = activate(next, z);
      out.push(el('p', { class: 'eq' }, [next.kind + '(z) = ' + activationFormula(next) + ' = ', numSpan(fz, 'activation'),
        tr('; layer {l} computes: ', { l: next.index }), numSpan(yn, 'activation-layer'), agree(fz, yn, Math.abs(z))]));
    }
    return out;
  }
  function activate(layer, z) {
    if (layer.kind === 'ReLU') return Math.max(z, 0);
    if (layer.kind === 'LeakyReLU') return z > 0 ? z : layer.negative_slope * z;
    if (layer.kind === 'Sigmoid') return 1 / (1 + Math.exp(-z));
    if (layer.kind === 'Tanh') return Math.tanh(z);
    throw new Error('not an activation: ' + layer.kind);
  }
  function activationFormula(layer) {
    if (layer.kind === 'ReLU') return 'max(z, 0)';
    if (layer.kind === 'LeakyReLU') return tr('z if z > 0 else {a}z', { a: layer.negative_slope });
    if (layer.kind === 'Sigmoid') return '1 / (1 + e^\u2212z)';
    if (layer.kind === 'Tanh') return 'tanh(z)';
    throw new Error('not an activation: ' + layer.kind);
  }

  function poolNeuron(layer, i, j, c) {
    var e = state.ex, x = act(e, layer.index), y = at(act(e, layer.index + 1), i, j, c);
    var kh = layer.kernel[0], kw = layer.kernel[1], isMax = layer.kind === 'MaxPool2D';
    var cells = [], vals = [], mx = absMax(x), sum = 0, best = -Infinity;
    var won = isMax ? forwardPass().args[layer.index][(i * layer.out_shape[1] + j) * layer.out_shape[2] + c] : -1;
    var winner = -1, inside = 0, padded = 0;
    for (var a = 0; a < kh; a++) for (var b = 0; b < kw; b++) {
      var cell = windowCell(layer, x, i, j, a, b, c);
      if (cell && winner < 0 && (cell.r * x.shape[1] + cell.q) * x.shape[2] + c === won) winner = a * kw + b;
      if (cell) inside += 1; else if (inPadding(layer, i, j, a, b)) padded += 1;
      var v = cell ? cell.v : (isMax ? -Infinity : 0);
      vals.push(v); sum += v; if (v > best || Number.isNaN(v)) best = v;
      var node = numCell(v, mx, { 'data-role': 'pool-cell', 'data-a': a, 'data-b': b,
        'data-winner': String(a * kw + b === winner) });
      if (!cell) { node.classList.add('pad'); node.style.background = ''; node.textContent = isMax ? '\u2212\u221e' : '0'; }
      if (a * kw + b === winner) node.classList.add('win');
      cells.push(node);
    }
    var parts = [el('p', {}, [tr('Window of output ({i}, {j}), channel {c}: ', { i: i, j: j, c: c }) + kh + '\u00d7' + kw +
      tr(', stride {s}, padding {p}.', { s: layer.stride.join('\u00d7'), p: JSON.stringify(layer.padding) })]), grid(kw, cells)];
    var dy = at(grad(e, layer.index + 1), i, j, c);
    if (isMax) {
      var ties = vals.filter(function (v) { return v === best; }).length;
      parts.push(el('p', { class: 'eq' }, ['max = ', numSpan(best, 'pool-out'), ties > 1
        ? (ties === vals.length ? tr(' ({n} cells tie: every cell of the window is {v}; the first in row-major order, outlined at window offset ', { n: ties, v: fmt(best) })
          : tr(' ({n} cells tie at it; the first in row-major order, outlined at window offset ', { n: ties }))
        : tr(' (the outlined cell, window offset '),
        el('strong', { 'data-role': 'pool-winner', 'data-value': String(winner), text: String(winner) }),
        ties > 1 ? tr(', counts as the winner and gets the whole gradient); the layer\u2019s output: ') :
          tr(', wins); the layer\u2019s output: '), numSpan(y, 'pool-layer'), agree(best, y, 0)]));
      if (state.mode === 'backward') {
        parts.push(el('p', { class: 'eq' }, [tr('Backward: the whole dL/dy = '), numSpan(dy, 'pool-dy'),
          tr(' goes to the winning cell; the other cells of this window get 0 from it.')]));
      }
    } else {
      var div = layer.count_include_pad ? inside + padded : inside, mean = sum / div;
      parts.push(el('p', { class: 'eq' }, [tr('mean = sum '), numSpan(sum, 'pool-sum'), ' / ', numSpan(div, 'pool-divisor'),
        tr(layer.count_include_pad ? ' cells (padding counted)' : ' real cells') + ' = ', numSpan(mean, 'pool-out'),
        tr('; the layer\u2019s output: '), numSpan(y, 'pool-layer'), agree(mean, y, Math.abs(sum) / div)]));
      if (state.mode === 'backward') {
        parts.push(el('p', { class: 'eq' }, [tr('Backward: dL/dy = '), numSpan(dy, 'pool-dy'), tr(' is split equally: every cell of the window receives dL/dy / divisor = '),
          numSpan(dy / div, 'pool-share'), tr(' (summed where windows overlap).')]));
      }
    }
    return parts;
  }

  // backward view of a conv filter: its kernel weights, each with its gradient
  function kernelPicker(layer, o) {
    var e = state.ex, w = param(layer.index, 'weight'), dw = pgrad(e, layer.index, 'weight');
    var kh = w.shape[0], kw = w.shape[1], cg = w.shape[2], g = Math.floor(o / (w.shape[3] / layer.groups));
    var m = absMax(dw), panels = [];
    for (var cl = 0; cl < cg; cl++) {
      var cells = [];
      for (var a = 0; a < kh; a++) for (var b = 0; b < kw; b++) {
        var sel = state.weight && state.weight.a === a && state.weight.b === b && state.weight.c === cl;
        cells.push(numCell(at(dw, a, b, cl, o), m, { 'data-role': 'weight', 'data-a': a, 'data-b': b, 'data-c': cl,
          'data-i': a, 'data-j': b, 'aria-pressed': String(!!sel),
          'aria-label': tr('weight w[{a}, {b}, {c}, {o}] = {w}, gradient {g}', { a: a, b: b, c: cl, o: o, w: fmt(at(w, a, b, cl, o)), g: fmt(at(dw, a, b, cl, o)) }),
          onclick: (function (a, b, cl) { return function () { state.weight = { a: a, b: b, c: cl }; renderExplain(); }; })(a, b, cl) }, true));
      }
      var gr = grid(kw, cells);
      gr.addEventListener('keydown', arrowKeys);
      panels.push(el('figure', { 'data-channel': g * cg + cl }, [gr, el('figcaption', { text: 'dW[:, :, ' + cl + ', ' + o + ']' })]));
    }
    var parts = [el('h3', { text: tr('Kernel weights of filter {o} (colour and number: dL/dW); choose one', { o: o }) }),
      legend(m, 'dL/dW'), el('div', { class: 'triple' }, panels)];
    var dz = grad(e, layer.index + 1), db = 0;
    for (var i = 0; i < dz.shape[0]; i++) for (var j = 0; j < dz.shape[1]; j++) db += at(dz, i, j, o);
    if (layer.use_bias) {
      var dbj = at(pgrad(e, layer.index, 'bias'), o);
      parts.push(el('p', { class: 'eq' }, [tr('Bias: dL/db = \u03a3 over every output pixel of dL/dz = '), numSpan(db, 'db-total'),
        tr('; the layer\u2019s backward: '), numSpan(dbj, 'db-layer'), agree(db, dbj, absMax(dz))]));
    }
    if (state.weight) parts.push(weightGradient(layer, o, state.weight));
    return parts;
  }
  function weightGradient(layer, o, wt) {
    var e = state.ex, x = act(e, layer.index), dz = grad(e, layer.index + 1), w = param(layer.index, 'weight');
    var cg = w.shape[2], c = Math.floor(o / (w.shape[3] / layer.groups)) * cg + wt.c;
    var rows = [], total = 0, absSum = 0;
    for (var i = 0; i < dz.shape[0]; i++) for (var j = 0; j < dz.shape[1]; j++) {
      var cell = windowCell(layer, x, i, j, wt.a, wt.b, c), xv = cell ? cell.v : 0, d = at(dz, i, j, o), p = xv * d;
      total += p; absSum += Math.abs(p);
      rows.push(el('tr', { 'data-role': 'contribution', 'data-i': i, 'data-j': j, 'data-x': String(xv),
        'data-dz': String(d), 'data-value': String(p) }, [
        el('td', { text: '(' + i + ', ' + j + ')' }),
        el('td', { text: cell ? 'a' + layer.index + '[' + cell.r + ', ' + cell.q + ', ' + c + '] = ' + fmt(xv) : tr('padding: 0') }),
        el('td', { text: fmt(d) }), el('td', { text: fmt(p) })]));
    }
    var layerDw = at(pgrad(e, layer.index, 'weight'), wt.a, wt.b, wt.c, o);
    return el('div', { class: 'panel' }, [
      el('h3', { text: tr('dL/dW[{a}, {b}, {c}, {o}]: weight {w}', { a: wt.a, b: wt.b, c: wt.c, o: o, w: fmt(at(w, wt.a, wt.b, wt.c, o)) }) }),
      el('p', { class: 'note', text: tr('The weight is shared by every output pixel of filter {o}, so its gradient is the sum, over all of them, of (the input it multiplied) \u00d7 (dL/dz at that pixel).', { o: o }) }),
      el('div', { class: 'tablewrap' }, [el('table', {}, [
        el('thead', {}, [el('tr', {}, [tr('output (i, j)'), tr('input it multiplied'), 'dL/dz', tr('contribution')].map(function (s) { return el('th', { text: s }); }))]),
        el('tbody', {}, rows),
        el('tfoot', {}, [el('tr', {}, [el('td', { text: tr('sum') }), el('td'), el('td'), el('td', {}, [numSpan(total, 'dw-total')])])])])]),
      el('p', { class: 'eq' }, [tr('\u03a3 contributions = '), numSpan(total, 'dw-sum'), tr('; the layer\u2019s backward dW: '),
        numSpan(layerDw, 'dw-layer'), agree(total, layerDw, absSum)])]);
  }

  // a dense unit: y[n] = b[n] + sum_k x[k] W[k, n]; the largest terms listed, the rest summed
  var DENSE_TERMS = 8;
  function denseNeuron(layer, n) {
    var e = state.ex, x = act(e, layer.index), w = param(layer.index, 'weight'), K = x.data.length;
    var terms = [], total = 0, absSum = 0;
    for (var q = 0; q < K; q++) {
      var p = x.data[q] * at(w, q, n);
      terms.push({ k: q, x: x.data[q], w: at(w, q, n), p: p });
      total += p; absSum += Math.abs(p);
    }
    var shown = terms.slice().sort(function (a, b) { return Math.abs(b.p) - Math.abs(a.p) || a.k - b.k; }).slice(0, DENSE_TERMS);
    var rest = total - shown.reduce(function (s, t) { return s + t.p; }, 0);
    var rows = shown.map(function (t) {
      return el('tr', { 'data-role': 'dense-term', 'data-k': t.k, 'data-x': String(t.x), 'data-w': String(t.w),
        'data-value': String(t.p) }, [el('td', { text: String(t.k) }), el('td', { text: fmt(t.x) }),
        el('td', { text: fmt(t.w) }), el('td', { text: fmt(t.p) })]);
    });
    var hasBias = layer.use_bias, bias = hasBias ? at(param(layer.index, 'bias'), n) : 0;
    var z = total + bias, y = at(act(e, layer.index + 1), n);
    var out = [el('p', {}, [tr('Unit {n} of a dense layer: every one of its {k} inputs times its own weight, summed, plus the bias. The {m} largest terms:',
        { n: n, k: K, m: Math.min(DENSE_TERMS, K) })]),
      el('div', { class: 'tablewrap' }, [el('table', {}, [
        el('thead', {}, [el('tr', {}, [tr('input k'), 'x[k]', 'W[k, ' + n + ']', 'x[k] \u00d7 W[k, ' + n + ']'].map(function (s) { return el('th', { text: s }); }))]),
        el('tbody', {}, rows),
        el('tfoot', {}, [el('tr', {}, [el('td', { text: tr('the other {n}', { n: K - shown.length }) }), el('td'), el('td'),
          el('td', {}, [numSpan(rest, 'dense-rest')])])])])]),
      el('p', { class: 'eq' }, [tr('\u03a3 over {n} inputs = ', { n: K }), numSpan(total, 'sum'), tr(' + bias '), numSpan(bias, 'bias'),
        ' = z = ', numSpan(z, 'z'), tr('; the layer\u2019s output: '), numSpan(y, 'layer-out'), agree(z, y, absSum)])];
    var next = L[layer.index + 1];
    if (next && ACTIVATIONS[next.kind]) {
      var yn = at(act(e, layer.index + 2), n), fz = activate(next, z);
      out.push(el('p', { class: 'eq' }, [next.kind + '(z) = ' + activationFormula(next) + ' = ', numSpan(fz, 'activation'),
        tr('; layer {l} computes: ', { l: next.index }), numSpan(yn, 'activation-layer'), agree(fz, yn, Math.abs(z))]));
    }
    return out;
  }

  // ---------------------------------------------------------------- the window, located and moving
  // A windowed layer's (one with a kernel: conv, pools) output (i, j) reads a window of its input
  // map; the input map is drawn with its padding ring, the window outlined, and a slider (with
  // step and play) moves the output across the map. Forward: the input's values; backward: its
  // gradients, where this output's dL/dz is sent.
  var player = null;
  function stopPlayer() { if (player) { clearInterval(player); player = null; } }
  // an input cell drawn in the grey (or colour) of its raw pixel, its number the normalised value
  function greyCell(node, r, q) {
    var C = DATA.input_shape[2], W = DATA.input_shape[1], base = (r * W + q) * C;
    var rgbv = [0, 1, 2].map(function (ch) { return state.raw[base + (C === 3 ? ch : 0)]; });
    node.style.background = css(rgbv);
    node.className = node.className.replace(' dark', '') + (isDark(rgbv) ? ' dark' : '');
  }
  function locatedWindow(layer, i, j, c) {
    var k = layer.index, x = values(k), H = layer.in_shape[0], W = layer.in_shape[1];
    var pt = layer.padding[0][0], pb = layer.padding[0][1], pl = layer.padding[1][0], pr = layer.padding[1][1];
    var m = absMax(x), cells = [], taps = {};
    for (var a = 0; a < layer.kernel[0]; a++) for (var b = 0; b < layer.kernel[1]; b++) {
      taps[(i * layer.stride[0] + a * layer.dilation[0]) + ',' + (j * layer.stride[1] + b * layer.dilation[1])] = true;
    }
    var small = W + pl + pr > 12;
    for (var r = -pt; r < H + pb; r++) for (var q = -pl; q < W + pr; q++) {
      var inside = r >= 0 && r < H && q >= 0 && q < W, v = inside ? at(x, r, q, c) : 0;
      var node = numCell(v, m, { 'data-h': r, 'data-w': q, 'data-role': taps[(r + pt) + ',' + (q + pl)] ? 'located' : 'map-cell' });
      if (inside && k === 0 && state.mode === 'forward') greyCell(node, r, q);  // the input, in grey
      if (!inside) { node.classList.add('pad'); node.style.background = ''; node.textContent = small ? '' : '0'; }
      if (taps[(r + pt) + ',' + (q + pl)]) node.classList.add('inwin');
      if (small) node.classList.add('small');
      cells.push(node);
    }
    var Ho = layer.out_shape[0], Wo = layer.out_shape[1], pos = i * Wo + j;
    function go(n) {
      n = ((n % (Ho * Wo)) + Ho * Wo) % (Ho * Wo);
      state.neuron = { i: Math.floor(n / Wo), j: n % Wo };
      renderExplain(); markNeuron();
    }
    var slider = el('input', { type: 'range', id: 'slide', min: 0, max: Ho * Wo - 1, step: 1, value: pos,
      'aria-label': tr('output position, row by row'), oninput: function () { stopPlayer(); go(Number(this.value)); } });
    var play = el('button', { type: 'button', id: 'slide-play', text: tr(player ? 'Pause' : 'Play'), onclick: function () {
      if (player) { stopPlayer(); this.textContent = tr('Play'); return; }
      player = setInterval(function () { go(state.neuron.i * Wo + state.neuron.j + 1); }, 600);
      this.textContent = tr('Pause');
    } });
    var step = el('button', { type: 'button', id: 'slide-step', text: tr('Step \u25b6'), onclick: function () { stopPlayer(); go(pos + 1); } });
    return el('div', { class: 'panel located' }, [
      el('h3', { text: tr('Where the window sits: a{k}, channel {c}', { k: k, c: c }) + (state.mode === 'forward' ? '' : ' (dL/da' + k + ')') }),
      el('p', { class: 'note', text: tr('Output ({i}, {j}) reads the outlined {f} window (stride {s}; hatched cells are padding). ',
        { i: i, j: j, f: layer.kernel.join('\u00d7'), s: layer.stride.join('\u00d7') }) + tr(isForward() ?
        'Slide it across the map:' : 'Backward, this output\u2019s dL/dz goes back to these cells, weighted by the kernel:') }),
      grid(W + pl + pr, cells, small ? '0.9rem' : null),
      el('div', { class: 'slider' }, [slider, step, play,
        el('span', { 'data-role': 'slide-pos', 'data-value': String(pos), text: tr('({i}, {j}) of {h}\u00d7{w}', { i: i, j: j, h: Ho, w: Wo }) })])]);
  }

  // ---------------------------------------------------------------- the backward chain
  // dL/da_k at one cell comes from the layer that reads a_k (layer k), through its backward; at
  // the logits it is p - y. One explanation per kind of backward (a table like the port's OPS;
  // a layer of a kind not listed shows its dL/da as the port computed it).
  function flatIndex(k, cell) {
    var sh = shapeOf(k);
    return sh.length === 3 ? (cell.i * sh[1] + cell.j) * sh[2] + cell.c : cell.i;
  }
  function cellName(k, cell) {
    return shapeOf(k).length === 3 ? '(' + cell.i + ', ' + cell.j + ', ' + cell.c + ')' : '[' + cell.i + ']';
  }
  function table(head, rows, foot) {
    return el('div', { class: 'tablewrap' }, [el('table', {}, [
      el('thead', {}, [el('tr', {}, head.map(function (h) { return el('th', { text: h }); }))]),
      el('tbody', {}, rows), foot ? el('tfoot', {}, [foot]) : null])]);
  }
  function row(role, data, cells) {
    return el('tr', Object.assign({ 'data-role': role }, data), cells.map(function (c) {
      return typeof c === 'string' ? el('td', { text: c }) : el('td', {}, [c]);
    }));
  }
  var TOP_TERMS = 12;  // terms listed in a sum; the rest are added up in one row
  // a sum of terms {label cells, value}: the largest |value| listed, the rest summed
  function sumTable(head, terms, role) {
    var total = 0, absSum = 0;
    terms.forEach(function (t) { total += t.value; absSum += Math.abs(t.value); });
    var shown = terms.slice().sort(function (a, b) { return Math.abs(b.value) - Math.abs(a.value); }).slice(0, TOP_TERMS);
    var rest = total - shown.reduce(function (s, t) { return s + t.value; }, 0);
    var rows = shown.map(function (t) {
      return row(role, Object.assign({ 'data-value': String(t.value) }, t.data || {}), t.cells.concat([fmt(t.value)]));
    });
    var foot = terms.length > shown.length ? el('tr', {}, [el('td', { colspan: head.length - 1,
      text: tr('the other {n} terms', { n: terms.length - shown.length }) }), el('td', {}, [numSpan(rest, role + '-rest')])]) : null;
    return { node: table(head, rows, foot), total: total, absSum: absSum, count: terms.length };
  }
  function gradLine(total, want, absSum, k, cell, what) {
    return el('p', { class: 'eq' }, [what + ' = ', numSpan(total, 'step-sum'), tr('; the port\u2019s ') + 'dL/da' + k + cellName(k, cell) + ' = ',
      numSpan(want, 'step-grad'), agree(total, want, absSum)]);
  }
  // each entry: (layer, k, cell) -> DOM nodes explaining dL/da_k[cell] from dL/da_{k+1}
  var STEPS = {
    Dense: function (layer, k, cell) {
      var q = cell.i, dy = grad(state.ex, k + 1), w = param(layer.index, 'weight'), D = dy.data.length;
      var terms = [];
      for (var n = 0; n < D; n++) terms.push({ value: at(dy, n) * at(w, q, n), data: { 'data-n': n },
        cells: [String(n), fmt(at(dy, n)), fmt(at(w, q, n))] });
      var st = sumTable([tr('unit n'), 'dL/dy[n]', 'W[' + q + ', n]', tr('product')], terms, 'dense-dx-term');
      var x = at(act(state.ex, k), q), dw = pgrad(state.ex, layer.index, 'weight'), best = 0;
      for (var n2 = 1; n2 < D; n2++) if (Math.abs(at(dy, n2)) > Math.abs(at(dy, best))) best = n2;
      return [el('p', {}, [tr('Dense backward, dx = dy W\u1d40: input {q} fed every one of the {d} units through its weight W[{q}, n], so its gradient sums dL/dy[n] \u00d7 W[{q}, n] over them.', { q: q, d: D })]),
        st.node, gradLine(st.total, at(grad(state.ex, k), q), st.absSum, k, cell, '\u03a3 dy W\u1d40'),
        el('p', { class: 'eq' }, ['dW = x\u1d40 dy: dL/dW[' + q + ', ' + best + '] = x[' + q + '] ', numSpan(x, 'dense-x'),
          ' \u00d7 dL/dy[' + best + '] ', numSpan(at(dy, best), 'dense-dy'), ' = ', numSpan(x * at(dy, best), 'dense-dw'),
          tr('; the port\u2019s dW: '), numSpan(at(dw, q, best), 'dense-dw-layer'), agree(x * at(dy, best), at(dw, q, best), 0)]),
        el('p', { class: 'note', text: tr('db = dy: each bias gets its unit\u2019s dL/dy (dL/db[{n}] = {v}).',
          { n: best, v: fmt(layer.use_bias ? at(pgrad(state.ex, layer.index, 'bias'), best) : 0) }) })];
    },
    Flatten: function (layer, k, cell) {
      var sh = shapeOf(k), q = flatIndex(k, cell), v = grad(state.ex, k + 1).data[q];
      return [el('p', {}, [tr('Un-flatten: Flatten wrote a{k} row by row, channels fastest, so flat index q = (h \u00d7 {w} + w) \u00d7 {c} + c and back h = \u230aq / {wc}\u230b, w = \u230aq / {c}\u230b mod {w}, c = q mod {c}.',
        { k: k, w: sh[1], c: sh[2], wc: sh[1] * sh[2] })]),
        el('p', { class: 'eq' }, [tr('cell {cell} \u2194 flat index ', { cell: cellName(k, cell) }),
          el('strong', { 'data-role': 'flat-index', 'data-value': String(q), text: String(q) }),
          ': dL/da' + (k + 1) + '[' + q + '] = ', numSpan(v, 'step-sum'), tr(' is its gradient; the port\u2019s: '),
          numSpan(at(grad(state.ex, k), cell.i, cell.j, cell.c), 'step-grad'), agree(v, at(grad(state.ex, k), cell.i, cell.j, cell.c), 0)])];
    },
    MaxPool2D: function (layer, k, cell) { return poolStep(layer, k, cell, true); },
    AvgPool2D: function (layer, k, cell) { return poolStep(layer, k, cell, false); },
    GlobalAvgPool2D: function (layer, k, cell) {
      var n = layer.in_shape[0] * layer.in_shape[1], dy = at(grad(state.ex, k + 1), cell.c);
      return [el('p', {}, [tr('Global average: every cell of channel {c} counts 1/{n} in its mean, so it gets dL/dy[{c}] / {n}.', { c: cell.c, n: n })]), gradLine(dy / n, at(grad(state.ex, k), cell.i, cell.j, cell.c), 0, k, cell, fmt(dy) + ' / ' + n)];
    },
    Conv2D: function (layer, k, cell) { return convDx(layer, k, cell); },
    BatchNorm2D: function (layer, k, cell) {
      var c = cell.c, dy = at(grad(state.ex, k + 1), cell.i, cell.j, c), s = layer.w[c] / Math.sqrt(layer.var[c] + layer.eps);
      return [el('p', {}, [tr('Batch norm (eval) is y = \u03b3 (x \u2212 mean) / \u221a(var + \u03b5) + \u03b2 with fixed statistics, so dx = dy \u00d7 \u03b3 / \u221a(var + \u03b5) = dy \u00d7 {s} for channel {c}.', { s: fmt(s), c: c })]),
        gradLine(dy * s, at(grad(state.ex, k), cell.i, cell.j, c), 0, k, cell, fmt(dy) + ' \u00d7 ' + fmt(s))];
    },
    Dropout: function (layer, k, cell) {
      var v = grad(state.ex, k + 1).data[flatIndex(k, cell)];
      return [el('p', {}, [tr('Dropout does nothing outside training: dx = dy.')]), gradLine(v, grad(state.ex, k).data[flatIndex(k, cell)], 0, k, cell, 'dy')];
    },
  };
  ['ReLU', 'LeakyReLU', 'Sigmoid', 'Tanh'].forEach(function (kind) { STEPS[kind] = activationStep; });
  function activationStep(layer, k, cell) {
    var q = flatIndex(k, cell), z = act(state.ex, k).data[q], a = act(state.ex, k + 1).data[q];
    var da = grad(state.ex, k + 1).data[q], d = derivative(layer, z, a), dz = da * d;
    var what = { ReLU: tr('the ReLU gate 1[z > 0]'), LeakyReLU: tr('1 if z > 0 else {a}', { a: layer.negative_slope }),
      Sigmoid: '\u03c3\u2032(z) = a(1 \u2212 a)', Tanh: 'tanh\u2032(z) = 1 \u2212 a\u00b2' }[layer.kind];
    return [el('p', { class: 'eq' }, ['dz = da \u00d7 ' + what + ': z = ', numSpan(z, 'gate-z'), ', a = ', numSpan(a, 'gate-a'),
      tr(', factor '), numSpan(d, 'gate'), ', da = ', numSpan(da, 'gate-da')]),
      gradLine(dz, grad(state.ex, k).data[q], Math.abs(dz), k, cell, 'dz = ' + fmt(da) + ' \u00d7 ' + fmt(d)),
      layer.kind === 'ReLU' ? el('p', { class: 'note', text: tr(z > 0 ? 'z > 0: the gate is open, the gradient passes.' :
        'z \u2264 0: the gate is shut, this cell gets no gradient (whatever da is).') }) : null];
  }
  function derivative(layer, z, a) {
    if (layer.kind === 'ReLU') return z > 0 ? 1 : 0;
    if (layer.kind === 'LeakyReLU') return z > 0 ? 1 : layer.negative_slope;
    if (layer.kind === 'Sigmoid') return a * (1 - a);
    return 1 - a * a;  // Tanh
  }
  // the outputs (i, j) of a windowed layer whose window reads input cell (h, w), with the tap
  function windowsContaining(layer, h, w) {
    var out = [], Ho = layer.out_shape[0], Wo = layer.out_shape[1];
    for (var i = 0; i < Ho; i++) {
      var a = h - i * layer.stride[0] + layer.padding[0][0];
      if (a < 0 || a % layer.dilation[0] !== 0 || a / layer.dilation[0] >= layer.kernel[0]) continue;
      for (var j = 0; j < Wo; j++) {
        var b = w - j * layer.stride[1] + layer.padding[1][0];
        if (b < 0 || b % layer.dilation[1] !== 0 || b / layer.dilation[1] >= layer.kernel[1]) continue;
        out.push({ i: i, j: j, a: a / layer.dilation[0], b: b / layer.dilation[1] });
      }
    }
    return out;
  }
  function poolStep(layer, k, cell, isMax) {
    var dy = grad(state.ex, k + 1), C = layer.in_shape[2], W = layer.in_shape[1], terms = [];
    var me = (cell.i * W + cell.j) * C + cell.c, arg = isMax ? forwardPass().args[layer.index] : null;
    windowsContaining(layer, cell.i, cell.j).forEach(function (p) {
      var g = at(dy, p.i, p.j, cell.c);
      if (isMax) {
        var won = arg[(p.i * layer.out_shape[1] + p.j) * C + cell.c] === me;
        terms.push({ value: won ? g : 0, data: { 'data-i': p.i, 'data-j': p.j, 'data-won': String(won) },
          cells: ['(' + p.i + ', ' + p.j + ')', tr(won ? 'this cell' : 'another cell'), fmt(g)] });
      } else {
        var div = avgDivisor(layer, p.i, p.j);
        terms.push({ value: g / div, data: { 'data-i': p.i, 'data-j': p.j },
          cells: ['(' + p.i + ', ' + p.j + ')', fmt(g), String(div)] });
      }
    });
    var st = sumTable(isMax ? [tr('window (i, j)'), tr('its max'), 'dL/dy', tr('sent here')] : [tr('window (i, j)'), 'dL/dy', tr('divisor'), tr('share')],
      terms, isMax ? 'route-term' : 'split-term');
    return [el('p', {}, [tr(isMax ? 'Max-pool routing: each window sends its whole dL/dy to the cell that won it; this cell sits in {n} window(s) and sums what those it won send.' :
      'Average split: each window sends dL/dy / divisor to every cell in it; this cell sits in {n} window(s) and sums its shares.', { n: terms.length })]),
      st.node, gradLine(st.total, at(grad(state.ex, k), cell.i, cell.j, cell.c), st.absSum, k, cell, '\u03a3')];
  }
  function avgDivisor(layer, i, j) {
    var inside = 0, padded = 0;
    for (var a = 0; a < layer.kernel[0]; a++) for (var b = 0; b < layer.kernel[1]; b++) {
      var r = i * layer.stride[0] + a * layer.dilation[0] - layer.padding[0][0];
      var q = j * layer.stride[1] + b * layer.dilation[1] - layer.padding[1][0];
      if (r >= 0 && r < layer.in_shape[0] && q >= 0 && q < layer.in_shape[1]) inside += 1;
      else if (inPadding(layer, i, j, a, b)) padded += 1;
    }
    return layer.count_include_pad ? inside + padded : inside;
  }
  // conv dX: the cell met kernel weight w[a, b, c', o] in every window (i, j) that contains it,
  // for every filter o of its group: dL/dx = sum of w[a, b, c', o] dL/dz[i, j, o]
  function convDx(layer, k, cell) {
    var dz = grad(state.ex, k + 1), w = param(layer.index, 'weight'), cg = w.shape[2], Co = w.shape[3];
    var g = Math.floor(cell.c / cg), og = Co / layer.groups, cl = cell.c - g * cg, terms = [];
    var wins = windowsContaining(layer, cell.i, cell.j);
    wins.forEach(function (p) {
      for (var o = g * og; o < (g + 1) * og; o++) {
        var wv = at(w, p.a, p.b, cl, o), d = at(dz, p.i, p.j, o);
        terms.push({ value: wv * d, data: { 'data-i': p.i, 'data-j': p.j, 'data-o': o, 'data-a': p.a, 'data-b': p.b },
          cells: ['(' + p.i + ', ' + p.j + ')', String(o), 'w[' + p.a + ', ' + p.b + ', ' + cl + ', ' + o + '] = ' + fmt(wv), fmt(d)] });
      }
    });
    var st = sumTable([tr('window (i, j)'), tr('filter o'), tr('weight met'), 'dL/dz', tr('product')], terms, 'conv-dx-term');
    return [el('p', {}, [tr('Conv dX (the course\u2019s dA_prev): cell {cell} is in {w} window(s); in each it met one kernel weight of every filter, so its gradient is the sum of (that weight) \u00d7 (that output\u2019s dL/dz): {n} terms.',
      { cell: cellName(k, cell), w: wins.length, n: st.count })]), st.node,
      gradLine(st.total, at(grad(state.ex, k), cell.i, cell.j, cell.c), st.absSum, k, cell, '\u03a3 w \u00d7 dz')];
  }
  function logitStep(n) {
    var b = backwardPass(), c = b.label, rows = [], one = b.z.length === 1;
    var probs = one ? [b.probs[1]] : b.probs;
    probs.forEach(function (p, m) {
      var y = one ? c : (m === c ? 1 : 0), d = p - y;
      rows.push(row('logit-grad', { 'data-n': m, 'data-p': String(p), 'data-y': y, 'data-value': String(d),
        'aria-current': m === n ? 'true' : null }, [one ? 'z' : DATA.classes[m], fmt(p), String(y), fmt(d), fmt(b.grads[L.length][m])]));
    });
    return [el('p', {}, [one ? tr('One logit, binary cross-entropy: dL/dz = \u03c3(z) \u2212 y.') :
      tr('Softmax with cross-entropy: dL/dz = p \u2212 y, with y one-hot on class {c}.', { c: DATA.classes[c] })]),
      table([tr(one ? 'logit' : 'class'), 'p', 'y', 'p \u2212 y', tr('port')], rows)];
  }
  function gradientStep(k, cell) {
    if (k === L.length) return logitStep(cell.i);
    var layer = L[k], step = STEPS[layer.kind];
    var head = el('h3', { text: tr('Backward through layer {l}: ', { l: layer.label }) + 'dL/da' + k + cellName(k, cell) });
    if (!step) return [head, el('p', { class: 'eq' }, ['dL/da' + k + cellName(k, cell) + ' = ',
      numSpan(grad(state.ex, k).data[flatIndex(k, cell)], 'step-grad')])];
    return [head].concat(step(layer, k, cell));
  }
  // the chain: one button per step, logits first; each opens its map at the largest |gradient|
  function renderChain() {
    var box = document.getElementById('chain');
    box.hidden = state.mode !== 'backward';
    if (box.hidden) return;
    var items = [];
    for (var k = L.length; k >= 0; k--) {
      var text = k === L.length ? tr('loss \u2192 logits: p \u2212 y') :
        L[k].label + ' \u2192 dL/da' + k + (STEPS[L[k].kind] ? '' : tr(' (as the port computes it)'));
      items.push(el('li', {}, [el('button', { type: 'button', 'data-step': k, 'aria-pressed': String(state.k === k),
        onclick: (function (k) { return function () { openStep(k); }; })(k), text: text })]));
    }
    box.replaceChildren(el('h2', { text: tr('The backward chain') }),
      el('p', { class: 'note', text: tr('From the loss back to the input, one layer at a time. Each step opens the gradient map it produces at its largest |value|; click any cell there to see how its number is computed.') }),
      el('ol', { class: 'chain' }, items));
  }
  function openStep(k) {
    var g = grad(state.ex, k), best = 0;
    for (var n = 1; n < g.data.length; n++) if (Math.abs(g.data[n]) > Math.abs(g.data[best])) best = n;
    var sh = shapeOf(k);
    state.k = k; state.weight = null;
    if (sh.length === 3) {
      state.c = best % sh[2]; state.neuron = { i: Math.floor(best / (sh[1] * sh[2])), j: Math.floor(best / sh[2]) % sh[1] };
    } else { state.c = 0; state.neuron = { i: best, j: 0 }; }
    render();
    document.getElementById('explain').scrollIntoView({ block: 'nearest' });
  }

  // the forward computation of the selected neuron of map k (k > 0: layer k-1's output)
  function forwardParts(k, layer, cell) {
    var e = state.ex, three = shapeOf(k).length === 3, i = cell.i, j = cell.j, c = cell.c;
    if (!layer) return [el('p', {}, [tr('Input pixel ({i}, {j}, {c}): raw ', { i: i, j: j, c: c }),
      numSpan(at(rawInput(), i, j, c), 'input-raw'), tr(', after normalisation (x / 255 \u2212 mean) / std: '),
      numSpan(at(act(e, 0), i, j, c), 'input')])];
    if (layer.kind === 'Conv2D' && three) return convNeuron(layer, i, j, c);
    if ((layer.kind === 'MaxPool2D' || layer.kind === 'AvgPool2D') && three) return poolNeuron(layer, i, j, c);
    if (layer.kind === 'Dense') return denseNeuron(layer, i);
    var q = flatIndex(k, cell);
    if (ACTIVATIONS[layer.kind]) {
      var z = act(e, k - 1).data[q], fz = activate(layer, z), y = act(e, k).data[q];
      return [el('p', { class: 'eq' }, [layer.kind + '(' + fmt(z) + ') = ' + activationFormula(layer) + ' = ',
        numSpan(fz, 'activation'), tr('; the layer\u2019s output: '), numSpan(y, 'activation-layer'), agree(fz, y, Math.abs(z))])];
    }
    return [el('p', {}, [tr('value: '), numSpan(act(e, k).data[q], 'value')])];
  }
  function renderExplain() {
    var box = document.getElementById('explain');
    box.replaceChildren(el('h2', { id: 'explain-title', text: tr('Computation') }));
    var k = state.k, layer = k === null ? null : layerOf(k), parts = [], back = state.mode === 'backward';
    if (layer && layer.kind === 'Conv2D' && back) parts = parts.concat(kernelPicker(layer, state.c));
    if (state.neuron && k !== null) {
      var three = shapeOf(k).length === 3;
      var cell = three ? { i: state.neuron.i, j: state.neuron.j, c: state.c } : { i: state.neuron.i, j: 0, c: 0 };
      var fwd = forwardParts(k, layer, cell);
      if (back) {
        parts.push(el('p', { class: 'eq' }, ['dL/da' + k + cellName(k, cell) + ' = ',
          numSpan(grad(state.ex, k).data[flatIndex(k, cell)], 'neuron-grad')]));
        parts = parts.concat(gradientStep(k, cell));
        if (layer && layer.kind === 'Dense') parts.push(el('p', { class: 'note', text: tr('So dL/db[{u}] is dL/da{k}[{u}], and dL/dW[k, {u}] = x[k] \u00d7 it for every input k: each weight of the unit gets its input times the unit\u2019s gradient.', { u: cell.i, k: k }) }));
        if (layer && layer.kernel && three) parts.push(locatedWindow(layer, cell.i, cell.j, windowChannel(layer, cell.c)));
        if (layer) parts.push(el('details', { class: 'panel' }, [el('summary', { text: tr('How this neuron was computed (forward)') })].concat(fwd)));
      } else {
        parts = parts.concat(fwd);
        if (layer && layer.kernel && three) parts.push(locatedWindow(layer, cell.i, cell.j, windowChannel(layer, cell.c)));
      }
    }
    if (!parts.length) parts.push(el('p', { class: 'note', text: tr(state.k === null ? 'Choose a feature map, then a neuron.' :
      'Choose a neuron of this map.') }));
    parts.forEach(function (p) { if (p) box.appendChild(p); });
  }
  // the input channel whose map locates the window: a pool reads its own channel; a conv (any
  // layer whose output channels mix inputs) the one shown in its computation
  function windowChannel(layer, c) {
    if (layer.out_shape[2] === layer.in_shape[2] && !layer.w) return c;
    var cg = layer.w_shape[2], g = Math.floor(c / (layer.out_shape[2] / layer.groups));
    return state.wc !== null && state.wc >= g * cg && state.wc < (g + 1) * cg ? state.wc : g * cg;
  }

  // ---------------------------------------------------------------- the output-size playground
  // TensorFlow/Keras 'same' padding along one axis, a port of juanji's same_padding_1d:
  // out = ceil(n / s); total = max((out - 1)*s + d*(f - 1) + 1 - n, 0); the odd pixel goes after.
  function samePadding(n, f, s, d) {
    checkInt(n, 'n', 1); checkInt(f, 'kernel_size', 1); checkInt(s, 'stride', 1); checkInt(d, 'dilation', 1);
    var out = Math.ceil(n / s), total = Math.max((out - 1) * s + d * (f - 1) + 1 - n, 0);
    return [Math.floor(total / 2), total - Math.floor(total / 2)];
  }
  function renderPlayground() {
    var box = document.getElementById('playground');
    var spatial = L.filter(function (l) { return l.kind === 'Conv2D' || l.kind === 'MaxPool2D' || l.kind === 'AvgPool2D'; });
    var first = spatial[0];
    var fields = {
      n: first ? first.in_shape[0] : 8, f: first ? first.kernel[0] : 3, s: first ? first.stride[0] : 1,
      p: first ? first.padding[0][0] : 0, pa: first ? first.padding[0][1] : 0, d: first ? first.dilation[0] : 1 };
    var inputs = {}, form = [];
    if (spatial.length) {
      var select = el('select', { id: 'pg-layer', 'aria-label': tr('start from a layer of the model') },
        spatial.map(function (l) { return el('option', { value: l.index, text: l.index + ': ' + l.kind + tr(' ({s} in)', { s: l.in_shape.join('\u00d7') }) }); }));
      select.addEventListener('change', function () {
        var l = L[+select.value], pad = l.padding[0];
        mode.value = pad[0] === pad[1] ? 'each' : 'explicit';
        set({ n: l.in_shape[0], f: l.kernel[0], s: l.stride[0], p: pad[0], pa: pad[1], d: l.dilation[0] }, !!l.ceil_mode);
      });
      form.push(el('label', {}, [tr('layer'), select]));
    }
    var mode = el('select', { id: 'pg-pad', onchange: update }, [
      el('option', { value: 'each', text: tr('p on each side') }),
      el('option', { value: 'explicit', text: tr('before / after') }),
      el('option', { value: 'same', text: tr("'same' (TensorFlow/Keras)") }),
      el('option', { value: 'valid', text: tr("'valid' (none)") })]);
    mode.value = fields.p === fields.pa ? 'each' : 'explicit';
    var labels = { n: tr('input size n'), f: tr('kernel f'), s: tr('stride s'), p: tr('padding before'), pa: tr('padding after'), d: tr('dilation d') };
    Object.keys(labels).forEach(function (key) {
      inputs[key] = el('input', { type: 'number', id: 'pg-' + key, min: key === 'p' || key === 'pa' ? 0 : 1, max: 512, step: 1,
        value: fields[key], oninput: update });
      if (key === 'p') form.push(el('label', { for: 'pg-pad' }, [tr('padding'), mode]));
      form.push(el('label', { for: 'pg-' + key }, [labels[key], inputs[key]]));
    });
    var ceil = el('input', { type: 'checkbox', id: 'pg-ceil', onchange: update });
    form.push(el('label', { for: 'pg-ceil' }, [tr('ceil mode (pooling)'), ceil]));
    var result = el('div', { id: 'pg-result', 'aria-live': 'polite' });
    box.replaceChildren(el('h2', { id: 'playground-title', text: tr('Output size playground') }),
      el('p', { class: 'note', text: tr('The output size along one axis, from the same formula juanji uses everywhere (juanji.functional.output_size): out = floor((n + p_before + p_after \u2212 d(f \u2212 1) \u2212 1) / s) + 1; with p on each side, n + 2p. \u2018same\u2019 pads so that out = ceil(n / s), the odd pixel after.') }),
      el('div', { class: 'form' }, form), result);
    function set(v, c) { Object.keys(v).forEach(function (k) { inputs[k].value = v[k]; }); ceil.checked = c; update(); }
    function update() {
      var v = {}, err = null, out;
      Object.keys(inputs).forEach(function (k) { v[k] = Number(inputs[k].value); });
      try {
        if (mode.value === 'each') v.pa = v.p;
        else if (mode.value === 'valid') { v.p = 0; v.pa = 0; }
        else if (mode.value === 'same') { var sp = samePadding(v.n, v.f, v.s, v.d); v.p = sp[0]; v.pa = sp[1]; }
        inputs.p.value = v.p; inputs.pa.value = v.pa;
        out = outputSize(v.n, v.f, v.s, v.p, v.pa, v.d, ceil.checked);
      } catch (ex) { err = ex.message; }
      inputs.p.disabled = mode.value === 'same' || mode.value === 'valid';
      inputs.pa.disabled = mode.value !== 'explicit';
      var span = v.d * (v.f - 1) + 1, room = v.n + v.p + v.pa - span, rnd = ceil.checked ? 'ceil' : 'floor';
      var padText = v.p === v.pa ? '2\u00b7' + v.p : v.p + ' + ' + v.pa;
      var kids = [el('p', { class: 'eq' }, [rnd + '((' + v.n + ' + ' + padText + ' \u2212 ' + v.d +
        '\u00b7(' + v.f + ' \u2212 1) \u2212 1) / ' + v.s + ') + 1 = ' + rnd + '(' + room + ' / ' + v.s + ') + 1 = ',
        err ? el('span', { class: 'error', 'data-role': 'pg-error', text: err }) :
          el('strong', { 'data-role': 'pg-out', 'data-value': String(out), text: String(out) })])];
      if (!err) {
        if (room % v.s !== 0) kids.push(el('p', { class: 'note', text: tr('{a} / {b} is not exact: ', { a: room, b: v.s }) + (ceil.checked ?
          tr('ceil mode rounds up, adding a window that hangs over the edge (if it starts inside the input).') :
          tr('floor drops the last {n} pixel(s) no window reaches.', { n: room % v.s })) }));
        kids.push(strips(v, out));
      }
      result.replaceChildren.apply(result, kids);
    }
    update();
  }
  // one row per window position over the padded input (grey = padding)
  function strips(v, out) {
    var total = v.n + v.p + v.pa, rows = [], shown = Math.min(out, 12);
    if (total > 80) return el('p', { class: 'note', text: tr('input too long to draw') });
    for (var o = 0; o < shown; o++) {
      var cells = [];
      for (var q = 0; q < total; q++) {
        var rel = q - o * v.s, tap = rel >= 0 && rel % v.d === 0 && rel / v.d < v.f;
        cells.push(el('span', { class: (q < v.p || q >= v.p + v.n ? 'p' : '') + (tap ? ' on' : '') }));
      }
      rows.push(el('div', { class: 'strip', role: 'img', 'aria-label': tr('window {o} starts at {s}', { o: o, s: o * v.s - v.p }) }, cells));
    }
    if (out > shown) rows.push(el('p', { class: 'note', text: tr('\u2026 and {n} more windows', { n: out - shown }) }));
    return el('div', {}, rows);
  }

  // ---------------------------------------------------------------- drawing and upload
  // An image becomes the model's input as `juanji predict` reads a file (Pillow): convert to
  // grey ('L': (19595 R + 38470 G + 7471 B + 2^15) >> 16) or RGB (alpha dropped), then resize
  // with Pillow's BILINEAR (a triangle filter widened by the scale when shrinking, coefficients
  // in 22-bit fixed point, rows first, rounded to uint8 after each pass).
  var PRECISION = 22;
  function coefficients(inSize, outSize) {
    var scale = inSize / outSize, fscale = Math.max(scale, 1), support = fscale, out = [];
    for (var xx = 0; xx < outSize; xx++) {
      var center = (xx + 0.5) * scale, ww = 0, k = [];
      var xmin = Math.max(Math.trunc(center - support + 0.5), 0);
      var xmax = Math.min(Math.trunc(center + support + 0.5), inSize);
      for (var x = xmin; x < xmax; x++) {
        var t = Math.abs((x - center + 0.5) / fscale), wv = t < 1 ? 1 - t : 0;
        k.push(wv); ww += wv;
      }
      out.push({ xmin: xmin, k: k.map(function (v) {
        var q = ww !== 0 ? v / ww : v;
        return q < 0 ? Math.trunc(-0.5 + q * (1 << PRECISION)) : Math.trunc(0.5 + q * (1 << PRECISION));
      }) });
    }
    return out;
  }
  // one pass along an axis: src (n, inSize) planes -> (n, outSize), uint8 values
  function resample(src, rows, inSize, outSize, stride, along) {
    if (inSize === outSize) return src;
    var co = coefficients(inSize, outSize), out;
    if (along === 'x') {
      out = new Uint8ClampedArray(rows * outSize * stride);
      for (var r = 0; r < rows; r++) for (var xx = 0; xx < outSize; xx++) for (var c = 0; c < stride; c++) {
        var ss = 1 << (PRECISION - 1), cf = co[xx];
        for (var n = 0; n < cf.k.length; n++) ss += src[(r * inSize + cf.xmin + n) * stride + c] * cf.k[n];
        out[(r * outSize + xx) * stride + c] = Math.floor(ss / (1 << PRECISION));
      }
    } else {
      out = new Uint8ClampedArray(outSize * rows * stride);  // rows = the width here
      for (var yy = 0; yy < outSize; yy++) for (var q = 0; q < rows; q++) for (var c2 = 0; c2 < stride; c2++) {
        var s2 = 1 << (PRECISION - 1), cf2 = co[yy];
        for (var m = 0; m < cf2.k.length; m++) s2 += src[((cf2.xmin + m) * rows + q) * stride + c2] * cf2.k[m];
        out[(yy * rows + q) * stride + c2] = Math.floor(s2 / (1 << PRECISION));
      }
    }
    return out;
  }
  // RGBA pixels (sh, sw) -> the model's raw input (H, W, C) as a Float64Array of 0..255
  function toModelInput(rgba, sw, sh) {
    var H = DATA.input_shape[0], W = DATA.input_shape[1], C = DATA.input_shape[2];
    var px = new Uint8ClampedArray(sw * sh * C);
    for (var n = 0; n < sw * sh; n++) {
      var R = rgba[4 * n], G = rgba[4 * n + 1], B = rgba[4 * n + 2];
      if (C === 1) px[n] = (R * 19595 + G * 38470 + B * 7471 + 0x8000) >> 16;
      else { px[3 * n] = R; px[3 * n + 1] = G; px[3 * n + 2] = B; }
    }
    var wide = resample(px, sh, sw, W, C, 'x');  // (sh, W, C)
    var done = resample(wide, W, sh, H, C, 'y');  // (H, W, C)
    return Float64Array.from(done);
  }
  // juanji.data.polarity: border ring r = max(1, round(min(H, W) / 8)) wide, centre = the central
  // half; contrast = centre - border (0..1, channels averaged); light on dark when >= MIN_CONTRAST
  function imageKind(raw) {
    var H = DATA.input_shape[0], W = DATA.input_shape[1], C = DATA.input_shape[2], P = DATA.polarity;
    var r = Math.max(1, Math.round(Math.min(H, W) / 8)), b = 0, nb = 0, ce = 0, nc = 0;
    for (var i = 0; i < H; i++) for (var j = 0; j < W; j++) {
      var g = 0;
      for (var c = 0; c < C; c++) g += raw[(i * W + j) * C + c];
      g = g / C / 255;
      if (i < r || i >= H - r || j < r || j >= W - r) { b += g; nb++; }
      if (i >= Math.floor(H / 4) && i < H - Math.floor(H / 4) && j >= Math.floor(W / 4) && j < W - Math.floor(W / 4)) { ce += g; nc++; }
    }
    return polarityKind(ce / nc - b / nb, P.min_contrast);
  }
  function polarityKind(contrast, minContrast) {
    if (contrast >= minContrast) return 'light on dark';
    if (contrast <= -minContrast) return 'dark on light';
    return null;
  }
  function datasetKind() {
    var P = DATA.polarity;
    if (!P || P.agreement < P.min_agreement) return null;
    return polarityKind(P.centre - P.border, P.min_contrast);
  }
  // the learner's image: state.own holds its pixels before any inversion
  function useOwn(raw, what) {
    var box = document.getElementById('invert');
    var mine = datasetKind() ? imageKind(raw) : null, auto = !!(datasetKind() && mine && mine !== datasetKind());
    state.own = { raw: raw, what: what };
    if (box.dataset.touched !== 'true') box.checked = auto;
    polarityNote();
    applyOwn();
  }
  // what the polarity rule decided for the learner's image, in the page's language
  function polarityNote() {
    var note = document.getElementById('polarity-note');
    if (!state.own) {
      note.textContent = tr('Draw in the box, or upload an image: it is resized and converted as juanji predict reads a file.');
      return;
    }
    var raw = state.own.raw, what = state.own.what;
    var mine = datasetKind() ? imageKind(raw) : null, auto = !!(datasetKind() && mine && mine !== datasetKind());
    note.textContent = datasetKind()
      ? tr('The training images are {kind}; this {what} is {mine}', { kind: tr(datasetKind()), what: tr(what), mine: tr(mine || 'of no clear polarity') }) +
        tr(auto ? ', so it is inverted (255 \u2212 x) as juanji predict does.' : ', so it is used as it is.')
      : tr('The checkpoint stores no polarity of its training images: tick \u201cinvert\u201d if the model was trained on the other polarity.');
    note.dataset.auto = String(auto);
  }
  function applyOwn() {
    if (!state.own) return;
    var raw = state.own.raw, inv = document.getElementById('invert').checked;
    setInput(-1, inv ? raw.map(function (v) { return 255 - v; }) : raw);
    render();
  }
  function setupDrawing() {
    var cv = document.getElementById('draw-canvas'), ctx = cv.getContext('2d'), last = null;
    function clear() { ctx.fillStyle = '#fff'; ctx.fillRect(0, 0, cv.width, cv.height); }
    clear();
    function point(ev) {
      var box = cv.getBoundingClientRect();
      return [(ev.clientX - box.left) * cv.width / box.width, (ev.clientY - box.top) * cv.height / box.height];
    }
    function stroke(p) {
      ctx.strokeStyle = '#000'; ctx.lineWidth = cv.width / 11; ctx.lineCap = 'round'; ctx.lineJoin = 'round';
      ctx.beginPath(); ctx.moveTo(last[0], last[1]); ctx.lineTo(p[0], p[1]); ctx.stroke();
      last = p;
    }
    cv.addEventListener('pointerdown', function (ev) {
      try { cv.setPointerCapture(ev.pointerId); } catch (err) { /* a pointer the browser does not track */ }
      last = point(ev); stroke(last); ev.preventDefault();
    });
    cv.addEventListener('pointermove', function (ev) { if (last) stroke(point(ev)); });
    function end() {
      if (!last) return;
      last = null;
      var img = ctx.getImageData(0, 0, cv.width, cv.height);
      useOwn(toModelInput(img.data, cv.width, cv.height), 'drawing');
    }
    cv.addEventListener('pointerup', end);
    cv.addEventListener('pointercancel', end);
    document.getElementById('draw-clear').addEventListener('click', function () { clear(); });
    document.getElementById('invert').addEventListener('change', function () {
      this.dataset.touched = 'true'; applyOwn();
    });
    document.getElementById('upload').addEventListener('change', function () {
      var file = this.files && this.files[0];
      if (!file) return;
      createImageBitmap(file, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' }).then(function (bmp) {
        var off = document.createElement('canvas');
        off.width = bmp.width; off.height = bmp.height;
        var octx = off.getContext('2d');
        octx.drawImage(bmp, 0, 0);
        useOwn(toModelInput(octx.getImageData(0, 0, bmp.width, bmp.height).data, bmp.width, bmp.height), 'image');
      }, function (err) {
        document.getElementById('polarity-note').textContent = tr('Cannot read {f}: {e}', { f: file.name, e: String(err) });
      });
    });
    document.getElementById('invert-box').hidden = false;
  }

  // ---------------------------------------------------------------- wiring
  function render() {
    renderExamples(); renderPass(); renderNetwork(); renderChain(); renderDetail(); renderExplain();
  }
  document.querySelectorAll('#modes button').forEach(function (b) {
    b.addEventListener('click', function () { state.mode = b.dataset.mode; render(); });
  });
  var firstConv = L.findIndex(function (l) { return l.kind === 'Conv2D'; });
  if (firstConv >= 0) { state.k = firstConv + 1; state.c = 0; }
  setupDrawing();
  document.querySelectorAll('#lang button').forEach(function (b) {
    b.addEventListener('click', function () {
      LANG = b.dataset.lang; translateStatic(); render(); renderPlayground();
      polarityNote();
    });
  });
  translateStatic();
  polarityNote();
  render();
  renderPlayground();
  window.juanji = Object.assign(window.juanji || {}, { outputSize: outputSize, samePadding: samePadding,
    data: DATA, state: state, render: render, fmt: fmt, rgb: rgb, toModelInput: toModelInput,
    predicted: predicted, input: function () { return Array.from(state.raw); } });
})();
