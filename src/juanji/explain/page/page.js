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
      text: ok ? ' \u2713 equal' : ' \u2717 differs' });
  }
  function legend(m, what) {
    return el('div', { class: 'legend' }, [
      el('span', { text: what }), el('span', { text: fmt(-m) }),
      el('span', { class: 'ramp', role: 'img', 'aria-label': 'colour scale from ' + fmt(-m) +
        ' (blue) through 0 (white) to ' + fmt(m) + ' (red)' }),
      el('span', { text: fmt(m) })]);
  }

  // ---------------------------------------------------------------- state
  // ex: the example shown (-1: the learner's drawing or upload); raw: its pixels; version: bumped
  // whenever raw changes
  var state = { ex: 0, raw: IMAGES[0], version: 0, mode: 'forward', k: null, c: 0, neuron: null,
    weight: null, label: null };
  function setInput(ex, raw) {
    state.ex = ex; state.raw = raw; state.version += 1; state.neuron = null; state.weight = null;
  }
  function layerOf(k) { return k > 0 ? L[k - 1] : null; }
  function values(k) { return state.mode === 'forward' ? act(state.ex, k) : grad(state.ex, k); }
  function colName(k) {
    return k === 0 ? 'input ' + shapeOf(0).join('\u00d7') : L[k - 1].label;
  }
  function pick(k, c) { state.k = k; state.c = c; state.neuron = null; state.weight = null; render(); }

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
    var truth = trueLabel === null ? '' : ' True class: ' + DATA.classes[trueLabel] + '.';
    note.dataset.predicted = String(top);
    if (state.mode === 'forward') {
      note.textContent = 'Predicted: ' + DATA.classes[top] + ' (p = ' + fmt(f.probs[top]) + ').' + truth;
    } else {
      var b = backwardPass();
      note.textContent = 'Gradients of the loss L = \u2212log p[' + DATA.classes[b.label] + '] = ' + fmt(b.loss) +
        ' (the ' + (b.label === top ? 'predicted' : 'chosen') + ' class) with respect to every activation.' + truth;
      note.dataset.loss = String(b.loss);
    }
    // which class's loss to differentiate: any class
    var pickBox = document.getElementById('label-pick'), shown = labelShown();
    pickBox.hidden = state.mode !== 'backward';
    var select = el('select', { id: 'label-select', 'aria-label': 'the class whose loss is differentiated',
      onchange: function () { state.label = Number(this.value); state.weight = null; render(); } },
      DATA.classes.map(function (name, n) {
        var opt = el('option', { value: String(n), text: name +
          (n === top ? ' (predicted)' : '') + (n === trueLabel ? ' (true)' : '') });
        if (n === shown) opt.selected = true;
        return opt;
      }));
    pickBox.replaceChildren(el('span', { text: 'loss of class ' }), select);
  }

  // ---------------------------------------------------------------- overview: the network
  function renderNetwork() {
    var net = document.getElementById('network');
    net.textContent = '';
    document.getElementById('legend').replaceChildren(
      el('span', { text: (state.mode === 'forward' ? 'Activations' : 'Gradients dL/da') +
        ': blue < 0, white 0, red > 0; each column scaled to its own largest |value| (under its name).' }),
      el('span', { class: 'ramp', role: 'img', 'aria-label': 'diverging colour scale, blue negative, white zero, red positive' }));
    for (var k = 0; k < L.length + 1; k++) {
      var t = values(k), m = absMax(t), shape = shapeOf(k), maps = [];
      if (shape.length === 3) {
        var h = shape[0], w = shape[1], C = shape[2], scale = Math.max(1, Math.floor(40 / Math.max(h, w)));
        for (var c = 0; c < C; c++) {
          var cv = el('canvas', { width: w, height: h, style: 'width:' + w * scale + 'px;height:' + h * scale + 'px' });
          if (k === 0 && state.mode === 'forward') drawRaw(cv, state.raw); else drawMap(cv, t, c, m);
          maps.push(el('button', { type: 'button', class: 'map', 'data-k': k, 'data-c': c,
            'aria-pressed': String(state.k === k && state.c === c),
            'aria-label': colName(k) + ', channel ' + c, onclick: pick.bind(null, k, c) }, [cv]));
        }
        var cols = Math.ceil(C / 8);
      } else {
        var D = shape[0], cv1 = el('canvas', { width: 1, height: D, style: 'width:12px;height:' + Math.min(160, D * 4) + 'px' });
        drawMap(cv1, { shape: [D, 1, 1], data: t.data }, 0, m);
        maps.push(el('button', { type: 'button', class: 'map', 'data-k': k, 'data-c': 0,
          'aria-pressed': String(state.k === k), 'aria-label': colName(k), onclick: pick.bind(null, k, 0) }, [cv1]));
        cols = 1;
      }
      net.appendChild(el('div', { class: 'column', 'data-k': k }, [
        el('div', { class: 'head', text: colName(k) }),
        el('div', { class: 'scale', text: '\u00b1' + fmt(m) }),
        el('div', { class: 'maps', style: '--cols:' + cols }, maps)]));
    }
    net.appendChild(probColumn());
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
    return el('div', { class: 'column' }, [el('div', { class: 'head', text: 'probabilities' }),
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
    box.replaceChildren(el('h2', { id: 'detail-title', text: 'Feature map' }));
    if (state.k === null) {
      box.appendChild(el('p', { class: 'note', text: 'Choose a feature map in the network above.' }));
      return;
    }
    var k = state.k, c = state.c, t = values(k), shape = shapeOf(k), m = absMax(t), cells = [];
    var what = state.mode === 'forward' ? 'a' : 'dL/da';
    box.appendChild(el('p', { text: colName(k) + (shape.length === 3 ? ', channel ' + c : '') +
      (state.mode === 'forward' ? ': activations' : ': gradient of the loss') }));
    box.appendChild(legend(m, what));
    if (shape.length === 3) {
      var h = shape[0], w = shape[1];
      for (var i = 0; i < h; i++) for (var j = 0; j < w; j++) {
        var v = at(t, i, j, c), sel = state.neuron && state.neuron.i === i && state.neuron.j === j;
        var cell = numCell(v, m, { 'data-role': 'neuron', 'data-i': i, 'data-j': j, 'aria-pressed': String(!!sel),
          'aria-label': 'row ' + i + ', column ' + j + ', ' + what + ' = ' + fmt(v),
          onclick: (function (i, j) { return function () { state.neuron = { i: i, j: j }; renderExplain(); markNeuron(); }; })(i, j) }, true);
        if (w > 12) cell.classList.add('small');
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
          'aria-label': 'unit ' + n + ', ' + what + ' = ' + fmt(at(t, n)),
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
        'aria-label': 'input row ' + r2 + ', column ' + q2 + (n ? ', won ' + n + ' window(s)' : ', won no window') +
          ', receives ' + fmt(v) }, false);
      if (n) cell.classList.add('win');
      if (W > 12) cell.classList.add('small');
      cells.push(cell);
    }
    return el('div', { class: 'panel' }, [
      el('h3', { text: 'Routing mask: layer ' + layer.index + ' input, channel ' + c }),
      el('p', { class: 'note', text: 'Max pooling sends each output gradient to the one cell that won its window ' +
        '(outlined; the first maximum on ties). Every other cell gets 0. Numbers: dL/dx of the layer\u2019s backward.' }),
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
  function convNeuron(layer, i, j, o) {
    var e = state.ex, x = act(e, layer.index), w = param(layer.index, 'weight');
    var kh = w.shape[0], kw = w.shape[1], cg = w.shape[2], cout = w.shape[3];
    var g = Math.floor(o / (cout / layer.groups)), panels = [], total = 0, absSum = 0;
    var mx = absMax(x), mw = absMax(w);
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
        if (!cell2) { wc.classList.add('pad'); wc.style.background = ''; wc.title = 'padding: 0'; }
        win.push(wc);
        ker.push(numCell(at(w, a2, b2, cl, o), mw, Object.assign({ 'data-role': 'kernel' }, pos)));
        prod.push(numCell(prods[n], mp, Object.assign({ 'data-role': 'product' }, pos)));
        sum += prods[n]; absSum += Math.abs(prods[n]);
      }
      total += sum;
      panels.push(el('div', { class: 'panel', 'data-channel': c }, [
        el('h3', { text: 'input channel ' + c }),
        el('div', { class: 'triple' }, [
          el('figure', {}, [grid(kw, win), el('figcaption', { text: 'window of a' + layer.index })]),
          el('span', { class: 'op', text: '\u00d7' }),
          el('figure', {}, [grid(kw, ker), el('figcaption', { text: 'kernel w[:, :, ' + cl + ', ' + o + ']' })]),
          el('span', { class: 'op', text: '=' }),
          el('figure', {}, [grid(kw, prod), el('figcaption', { text: 'products' })])]),
        el('p', { class: 'eq' }, ['sum of products = ', numSpan(sum, 'channel-sum', { 'data-c': c })])]));
    }
    var bias = layer.use_bias ? at(param(layer.index, 'bias'), o) : 0;
    var z = total + bias, y = at(act(e, layer.index + 1), i, j, o);
    var out = [
      el('p', {}, ['Output (' + i + ', ' + j + ') of filter ' + o + ': each input channel\u2019s window (stride ' +
        layer.stride.join('\u00d7') + ', padding ' + JSON.stringify(layer.padding) + ', dilation ' +
        layer.dilation.join('\u00d7') + ') times the kernel, element by element, summed, plus the bias.']),
      el('div', { class: 'channels' }, panels),
      el('p', { class: 'eq' }, ['\u03a3 over ' + cg + ' channel(s) = ', numSpan(total, 'sum'), ' + bias ',
        numSpan(bias, 'bias'), ' = z = ', numSpan(z, 'z'), '; the layer\u2019s output: ', numSpan(y, 'layer-out'), agree(z, y, absSum)])];
    var next = L[layer.index + 1];
    if (next && ACTIVATIONS[next.kind]) {
      var yn = at(act(e, layer.index + 2), i, j, o), fz = activate(next, z);
      out.push(el('p', { class: 'eq' }, [next.kind + '(z) = ' + activationFormula(next) + ' = ', numSpan(fz, 'activation'),
        '; layer ' + next.index + ' computes: ', numSpan(yn, 'activation-layer'), agree(fz, yn, Math.abs(z))]));
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
    if (layer.kind === 'LeakyReLU') return 'z if z > 0 else ' + layer.negative_slope + 'z';
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
    var parts = [el('p', {}, ['Window of output (' + i + ', ' + j + '), channel ' + c + ': ' + kh + '\u00d7' + kw +
      ', stride ' + layer.stride.join('\u00d7') + ', padding ' + JSON.stringify(layer.padding) + '.']), grid(kw, cells)];
    var dy = at(grad(e, layer.index + 1), i, j, c);
    if (isMax) {
      parts.push(el('p', { class: 'eq' }, ['max = ', numSpan(best, 'pool-out'), ' (the outlined cell, window offset ',
        el('strong', { 'data-role': 'pool-winner', 'data-value': String(winner), text: String(winner) }),
        ', wins; on ties the first in row-major order); the layer\u2019s output: ', numSpan(y, 'pool-layer'), agree(best, y, 0)]));
      if (state.mode === 'backward') {
        parts.push(el('p', { class: 'eq' }, ['Backward: the whole dL/dy = ', numSpan(dy, 'pool-dy'),
          ' goes to the winning cell; the other cells of this window get 0 from it.']));
      }
    } else {
      var div = layer.count_include_pad ? inside + padded : inside, mean = sum / div;
      parts.push(el('p', { class: 'eq' }, ['mean = sum ', numSpan(sum, 'pool-sum'), ' / ', numSpan(div, 'pool-divisor'),
        (layer.count_include_pad ? ' cells (padding counted)' : ' real cells') + ' = ', numSpan(mean, 'pool-out'),
        '; the layer\u2019s output: ', numSpan(y, 'pool-layer'), agree(mean, y, Math.abs(sum) / div)]));
      if (state.mode === 'backward') {
        parts.push(el('p', { class: 'eq' }, ['Backward: dL/dy = ', numSpan(dy, 'pool-dy'), ' is split equally: every cell of ' +
          'the window receives dL/dy / divisor = ', numSpan(dy / div, 'pool-share'), ' (summed where windows overlap).']));
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
          'aria-label': 'weight w[' + a + ', ' + b + ', ' + cl + ', ' + o + '] = ' + fmt(at(w, a, b, cl, o)) + ', gradient ' + fmt(at(dw, a, b, cl, o)),
          onclick: (function (a, b, cl) { return function () { state.weight = { a: a, b: b, c: cl }; renderExplain(); }; })(a, b, cl) }, true));
      }
      var gr = grid(kw, cells);
      gr.addEventListener('keydown', arrowKeys);
      panels.push(el('figure', { 'data-channel': g * cg + cl }, [gr, el('figcaption', { text: 'dW[:, :, ' + cl + ', ' + o + ']' })]));
    }
    var parts = [el('h3', { text: 'Kernel weights of filter ' + o + ' (colour and number: dL/dW); choose one' }),
      legend(m, 'dL/dW'), el('div', { class: 'triple' }, panels)];
    var dz = grad(e, layer.index + 1), db = 0;
    for (var i = 0; i < dz.shape[0]; i++) for (var j = 0; j < dz.shape[1]; j++) db += at(dz, i, j, o);
    if (layer.use_bias) {
      var dbj = at(pgrad(e, layer.index, 'bias'), o);
      parts.push(el('p', { class: 'eq' }, ['Bias: dL/db = \u03a3 over every output pixel of dL/dz = ', numSpan(db, 'db-total'),
        '; the layer\u2019s output: ', numSpan(dbj, 'db-layer'), agree(db, dbj, absMax(dz))]));
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
        el('td', { text: cell ? 'a' + layer.index + '[' + cell.r + ', ' + cell.q + ', ' + c + '] = ' + fmt(xv) : 'padding: 0' }),
        el('td', { text: fmt(d) }), el('td', { text: fmt(p) })]));
    }
    var layerDw = at(pgrad(e, layer.index, 'weight'), wt.a, wt.b, wt.c, o);
    return el('div', { class: 'panel' }, [
      el('h3', { text: 'dL/dW[' + wt.a + ', ' + wt.b + ', ' + wt.c + ', ' + o + ']: weight ' + fmt(at(w, wt.a, wt.b, wt.c, o)) }),
      el('p', { class: 'note', text: 'The weight is shared by every output pixel of filter ' + o + ', so its gradient is the ' +
        'sum, over all of them, of (the input it multiplied) \u00d7 (dL/dz at that pixel).' }),
      el('div', { class: 'tablewrap' }, [el('table', {}, [
        el('thead', {}, [el('tr', {}, ['output (i, j)', 'input it multiplied', 'dL/dz', 'contribution'].map(function (s) { return el('th', { text: s }); }))]),
        el('tbody', {}, rows),
        el('tfoot', {}, [el('tr', {}, [el('td', { text: 'sum' }), el('td'), el('td'), el('td', {}, [numSpan(total, 'dw-total')])])])])]),
      el('p', { class: 'eq' }, ['\u03a3 contributions = ', numSpan(total, 'dw-sum'), '; the layer\u2019s backward dW: ',
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
    var out = [el('p', {}, ['Unit ' + n + ' of a dense layer: every one of its ' + K + ' inputs times its own weight, ' +
        'summed, plus the bias. The ' + Math.min(DENSE_TERMS, K) + ' largest terms:']),
      el('div', { class: 'tablewrap' }, [el('table', {}, [
        el('thead', {}, [el('tr', {}, ['input k', 'x[k]', 'W[k, ' + n + ']', 'x[k] \u00d7 W[k, ' + n + ']'].map(function (s) { return el('th', { text: s }); }))]),
        el('tbody', {}, rows),
        el('tfoot', {}, [el('tr', {}, [el('td', { text: 'the other ' + (K - shown.length) }), el('td'), el('td'),
          el('td', {}, [numSpan(rest, 'dense-rest')])])])])]),
      el('p', { class: 'eq' }, ['\u03a3 over ' + K + ' inputs = ', numSpan(total, 'sum'), ' + bias ', numSpan(bias, 'bias'),
        ' = z = ', numSpan(z, 'z'), '; the layer\u2019s output: ', numSpan(y, 'layer-out'), agree(z, y, absSum)])];
    var next = L[layer.index + 1];
    if (next && ACTIVATIONS[next.kind]) {
      var yn = at(act(e, layer.index + 2), n), fz = activate(next, z);
      out.push(el('p', { class: 'eq' }, [next.kind + '(z) = ' + activationFormula(next) + ' = ', numSpan(fz, 'activation'),
        '; layer ' + next.index + ' computes: ', numSpan(yn, 'activation-layer'), agree(fz, yn, Math.abs(z))]));
    }
    return out;
  }

  function renderExplain() {
    var box = document.getElementById('explain');
    box.replaceChildren(el('h2', { id: 'explain-title', text: 'Computation' }));
    var k = state.k, layer = k === null ? null : layerOf(k), parts = [];
    if (layer && layer.kind === 'Conv2D' && state.mode === 'backward') parts = parts.concat(kernelPicker(layer, state.c));
    if (state.neuron && shapeOf(k).length === 3) {
      var i = state.neuron.i, j = state.neuron.j, c = state.c, e = state.ex;
      if (!layer) parts.push(el('p', {}, ['Input pixel (' + i + ', ' + j + ', ' + c + '): raw ',
        numSpan(at(rawInput(), i, j, c), 'input-raw'), ', after normalisation ',
        numSpan(at(act(e, 0), i, j, c), 'input'), '; dL/dx = ', numSpan(at(grad(e, 0), i, j, c), 'input-grad')]));
      else if (layer.kind === 'Conv2D') parts = parts.concat(convNeuron(layer, i, j, c));
      else if (layer.kind === 'MaxPool2D' || layer.kind === 'AvgPool2D') parts = parts.concat(poolNeuron(layer, i, j, c));
      else if (ACTIVATIONS[layer.kind]) {
        var z = at(act(e, k - 1), i, j, c), fz = activate(layer, z), y = at(act(e, k), i, j, c);
        parts.push(el('p', { class: 'eq' }, [layer.kind + '(' + fmt(z) + ') = ' + activationFormula(layer) + ' = ',
          numSpan(fz, 'activation'), '; the layer\u2019s output: ', numSpan(y, 'activation-layer'), agree(fz, y, Math.abs(z))]));
      } else {
        parts.push(el('p', {}, ['value: ', numSpan(at(act(e, k), i, j, c), 'value')]));
      }
      if (layer && state.mode === 'backward') {
        parts.push(el('p', { class: 'eq' }, ['dL/d(this output) = ', numSpan(at(grad(e, k), i, j, c), 'neuron-grad')]));
      }
    }
    if (state.neuron && k !== null && shapeOf(k).length === 1) {
      var u = state.neuron.i, e1 = state.ex;
      if (layer && layer.kind === 'Dense') parts = parts.concat(denseNeuron(layer, u));
      else if (layer && ACTIVATIONS[layer.kind]) {
        var z1 = at(act(e1, k - 1), u), fz1 = activate(layer, z1), y1 = at(act(e1, k), u);
        parts.push(el('p', { class: 'eq' }, [layer.kind + '(' + fmt(z1) + ') = ' + activationFormula(layer) + ' = ',
          numSpan(fz1, 'activation'), '; the layer\u2019s output: ', numSpan(y1, 'activation-layer'), agree(fz1, y1, Math.abs(z1))]));
      } else {
        parts.push(el('p', {}, ['value: ', numSpan(at(act(e1, k), u), 'value')]));
      }
      if (layer && state.mode === 'backward') {
        parts.push(el('p', { class: 'eq' }, ['dL/d(this output) = ', numSpan(at(grad(e1, k), u), 'neuron-grad')]));
        if (layer.kind === 'Dense') parts.push(el('p', { class: 'note', text: 'So dL/db[' + u + '] is this same number, and ' +
          'dL/dW[k, ' + u + '] = x[k] \u00d7 it for every input k: each weight of the unit gets its input times the unit\u2019s gradient.' }));
      }
    }
    if (!parts.length) parts.push(el('p', { class: 'note', text: state.k === null ? 'Choose a feature map, then a neuron.' :
      'Choose a neuron of this map' + (layer && layer.kind === 'Conv2D' ? '' : '') + '.' }));
    parts.forEach(function (p) { box.appendChild(p); });
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
      var select = el('select', { id: 'pg-layer', 'aria-label': 'start from a layer of the model' },
        spatial.map(function (l) { return el('option', { value: l.index, text: l.index + ': ' + l.kind + ' (' + l.in_shape.join('\u00d7') + ' in)' }); }));
      select.addEventListener('change', function () {
        var l = L[+select.value], pad = l.padding[0];
        mode.value = pad[0] === pad[1] ? 'each' : 'explicit';
        set({ n: l.in_shape[0], f: l.kernel[0], s: l.stride[0], p: pad[0], pa: pad[1], d: l.dilation[0] }, !!l.ceil_mode);
      });
      form.push(el('label', {}, ['layer', select]));
    }
    var mode = el('select', { id: 'pg-pad', onchange: update }, [
      el('option', { value: 'each', text: 'p on each side' }),
      el('option', { value: 'explicit', text: 'before / after' }),
      el('option', { value: 'same', text: "'same' (TensorFlow/Keras)" }),
      el('option', { value: 'valid', text: "'valid' (none)" })]);
    mode.value = fields.p === fields.pa ? 'each' : 'explicit';
    var labels = { n: 'input size n', f: 'kernel f', s: 'stride s', p: 'padding before', pa: 'padding after', d: 'dilation d' };
    Object.keys(labels).forEach(function (key) {
      inputs[key] = el('input', { type: 'number', id: 'pg-' + key, min: key === 'p' || key === 'pa' ? 0 : 1, max: 512, step: 1,
        value: fields[key], oninput: update });
      if (key === 'p') form.push(el('label', { for: 'pg-pad' }, ['padding', mode]));
      form.push(el('label', { for: 'pg-' + key }, [labels[key], inputs[key]]));
    });
    var ceil = el('input', { type: 'checkbox', id: 'pg-ceil', onchange: update });
    form.push(el('label', { for: 'pg-ceil' }, ['ceil mode (pooling)', ceil]));
    var result = el('div', { id: 'pg-result', 'aria-live': 'polite' });
    box.replaceChildren(el('h2', { id: 'playground-title', text: 'Output size playground' }),
      el('p', { class: 'note', text: 'The output size along one axis, from the same formula juanji uses everywhere ' +
        '(juanji.functional.output_size): out = floor((n + p_before + p_after \u2212 d(f \u2212 1) \u2212 1) / s) + 1; ' +
        'with p on each side, n + 2p. \u2018same\u2019 pads so that out = ceil(n / s), the odd pixel after.' }),
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
        if (room % v.s !== 0) kids.push(el('p', { class: 'note', text: room + ' / ' + v.s + ' is not exact: ' + (ceil.checked ?
          'ceil mode rounds up, adding a window that hangs over the edge (if it starts inside the input).' :
          'floor drops the last ' + (room % v.s) + ' pixel(s) no window reaches.') }));
        kids.push(strips(v, out));
      }
      result.replaceChildren.apply(result, kids);
    }
    update();
  }
  // one row per window position over the padded input (grey = padding)
  function strips(v, out) {
    var total = v.n + v.p + v.pa, rows = [], shown = Math.min(out, 12);
    if (total > 80) return el('p', { class: 'note', text: 'input too long to draw' });
    for (var o = 0; o < shown; o++) {
      var cells = [];
      for (var q = 0; q < total; q++) {
        var rel = q - o * v.s, tap = rel >= 0 && rel % v.d === 0 && rel / v.d < v.f;
        cells.push(el('span', { class: (q < v.p || q >= v.p + v.n ? 'p' : '') + (tap ? ' on' : '') }));
      }
      rows.push(el('div', { class: 'strip', role: 'img', 'aria-label': 'window ' + o + ' starts at ' + (o * v.s - v.p) }, cells));
    }
    if (out > shown) rows.push(el('p', { class: 'note', text: '\u2026 and ' + (out - shown) + ' more windows' }));
    return el('div', {}, rows);
  }

  // ---------------------------------------------------------------- wiring
  function render() {
    renderExamples(); renderPass(); renderNetwork(); renderDetail(); renderExplain();
  }
  document.querySelectorAll('#modes button').forEach(function (b) {
    b.addEventListener('click', function () { state.mode = b.dataset.mode; render(); });
  });
  var firstConv = L.findIndex(function (l) { return l.kind === 'Conv2D'; });
  if (firstConv >= 0) { state.k = firstConv + 1; state.c = 0; }
  render();
  renderPlayground();
  window.juanji = Object.assign(window.juanji || {}, { outputSize: outputSize, samePadding: samePadding,
    data: DATA, state: state, render: render, fmt: fmt, rgb: rgb });
})();
