// juanji's forward and backward in float64, for every layer juanji has (channels-last).
// Reads the model embedded by page.py (model_data) and defines the testing contract
// globalThis.juanji = {forward(image), backward(image, classIndex)}: image [H][W][C] raw 0..255.
"use strict";
(function () {
  function decode(b64) {  // base64 of little-endian float64 -> Float64Array
    const s = atob(b64), bytes = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) bytes[i] = s.charCodeAt(i);
    const dv = new DataView(bytes.buffer), out = new Float64Array(bytes.length / 8);
    for (let i = 0; i < out.length; i++) out[i] = dv.getFloat64(8 * i, true);
    return out;
  }
  function nest(a, shape) {  // flat row-major -> nested arrays of shape
    if (shape.length === 1) return Array.from(a.subarray(0, shape[0]));
    const step = a.length / shape[0], out = [];
    for (let i = 0; i < shape[0]; i++) out.push(nest(a.subarray(i * step, (i + 1) * step), shape.slice(1)));
    return out;
  }
  function flat(image, shape) {  // nested [H][W][C] -> Float64Array
    const f = new Float64Array(shape.reduce((p, q) => p * q, 1));
    let k = 0;
    (function walk(v) { if (Array.isArray(v)) v.forEach(walk); else f[k++] = Number(v); })(image);
    if (k !== f.length) throw new Error("image must be [" + shape.join("][") + "] values, got " + k);
    return f;
  }
  const size = (s) => s.reduce((p, q) => p * q, 1);

  // Conv2D: y[o,p,co] = b[co] + sum_{i,j,ci} x[o*sh-pt+i*dh, p*sw-pl+j*dw, g*cg+ci] w[i,j,ci,co]
  function convLoop(L, visit) {
    const [H, W, C] = L.in_shape, [Ho, Wo, Co] = L.out_shape, [kh, kw] = L.kernel;
    const [sh, sw] = L.stride, [dh, dw] = L.dilation, pt = L.padding[0][0], pl = L.padding[1][0];
    const cg = C / L.groups, og = Co / L.groups;
    for (let o = 0; o < Ho; o++) for (let p = 0; p < Wo; p++) for (let co = 0; co < Co; co++) {
      const yi = (o * Wo + p) * Co + co, g = Math.floor(co / og);
      for (let i = 0; i < kh; i++) {
        const h = o * sh - pt + i * dh; if (h < 0 || h >= H) continue;
        for (let j = 0; j < kw; j++) {
          const w = p * sw - pl + j * dw; if (w < 0 || w >= W) continue;
          for (let ci = 0; ci < cg; ci++)
            visit(yi, (h * W + w) * C + g * cg + ci, ((i * kw + j) * cg + ci) * Co + co);
        }
      }
    }
  }
  // Pools: window cells (h, w) in the input, row-major; padded cells reported as -1.
  function poolLoop(L, visit) {
    const [H, W, C] = L.in_shape, [Ho, Wo] = L.out_shape, [kh, kw] = L.kernel;
    const [sh, sw] = L.stride, [dh, dw] = L.dilation, pt = L.padding[0][0], pl = L.padding[1][0];
    const pb = L.padding[0][1], pr = L.padding[1][1];
    for (let o = 0; o < Ho; o++) for (let p = 0; p < Wo; p++) for (let c = 0; c < C; c++) {
      const cells = []; let padded = 0;
      for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) {
        const h = o * sh - pt + i * dh, w = p * sw - pl + j * dw;
        if (h >= 0 && h < H && w >= 0 && w < W) cells.push((h * W + w) * C + c);
        else if (h >= -pt && h < H + pb && w >= -pl && w < W + pr) padded++;
      }
      visit((o * Wo + p) * C + c, cells, padded);
    }
  }
  const OPS = {
    Conv2D: {
      forward(L, x) {
        const y = new Float64Array(size(L.out_shape)), Co = L.out_shape[2], w = L.w, b = L.b;
        if (b) for (let k = 0; k < y.length; k++) y[k] = b[k % Co];
        convLoop(L, (yi, xi, wi) => { y[yi] += x[xi] * w[wi]; });
        return y;
      },
      backward(L, x, y, dy) {
        const dx = new Float64Array(x.length), dw = new Float64Array(L.w.length), w = L.w;
        convLoop(L, (yi, xi, wi) => { dx[xi] += w[wi] * dy[yi]; dw[wi] += x[xi] * dy[yi]; });
        let db = null;
        if (L.b) { db = new Float64Array(L.b.length); for (let k = 0; k < dy.length; k++) db[k % db.length] += dy[k]; }
        return { dx, dw, db };
      },
    },
    MaxPool2D: {
      forward(L, x) {
        const y = new Float64Array(size(L.out_shape)); L.arg = new Int32Array(y.length);
        poolLoop(L, (yi, cells) => {
          let best = -Infinity, at = -1;
          for (const k of cells) if (x[k] > best || at < 0) { best = x[k]; at = k; }  // first max wins
          y[yi] = best; L.arg[yi] = at;
        });
        return y;
      },
      backward(L, x, y, dy) {
        const dx = new Float64Array(x.length);
        for (let k = 0; k < dy.length; k++) if (L.arg[k] >= 0) dx[L.arg[k]] += dy[k];
        return { dx };
      },
    },
    AvgPool2D: {
      divisor(cells, padded, L) { return L.count_include_pad ? cells.length + padded : cells.length; },
      forward(L, x) {
        const y = new Float64Array(size(L.out_shape)), self = this;
        poolLoop(L, (yi, cells, padded) => {
          let s = 0; for (const k of cells) s += x[k]; y[yi] = s / self.divisor(cells, padded, L);
        });
        return y;
      },
      backward(L, x, y, dy) {
        const dx = new Float64Array(x.length), self = this;
        poolLoop(L, (yi, cells, padded) => {
          const g = dy[yi] / self.divisor(cells, padded, L); for (const k of cells) dx[k] += g;
        });
        return { dx };
      },
    },
    GlobalAvgPool2D: {
      forward(L, x) {
        const C = L.in_shape[2], n = x.length / C, y = new Float64Array(C);
        for (let k = 0; k < x.length; k++) y[k % C] += x[k];
        for (let c = 0; c < C; c++) y[c] /= n;
        return y;
      },
      backward(L, x, y, dy) {
        const C = L.in_shape[2], n = x.length / C, dx = new Float64Array(x.length);
        for (let k = 0; k < x.length; k++) dx[k] = dy[k % C] / n;
        return { dx };
      },
    },
    Dense: {  // y = x W + b, W (D_in, D_out)
      forward(L, x) {
        const Do = L.out_shape[0], y = L.b ? Float64Array.from(L.b) : new Float64Array(Do);
        for (let i = 0; i < x.length; i++) { const xi = x[i]; for (let o = 0; o < Do; o++) y[o] += xi * L.w[i * Do + o]; }
        return y;
      },
      backward(L, x, y, dy) {  // dx = dy W^T, dW = x^T dy, db = dy
        const Do = dy.length, dx = new Float64Array(x.length), dw = new Float64Array(L.w.length);
        for (let i = 0; i < x.length; i++) for (let o = 0; o < Do; o++) {
          dx[i] += dy[o] * L.w[i * Do + o]; dw[i * Do + o] = x[i] * dy[o];
        }
        return { dx, dw, db: L.b ? Float64Array.from(dy) : null };
      },
    },
    ReLU: { f: (z) => (z > 0 ? z : 0), d: (z) => (z > 0 ? 1 : 0) },
    LeakyReLU: { f: (z, L) => (z > 0 ? z : L.negative_slope * z), d: (z, L) => (z > 0 ? 1 : L.negative_slope) },
    Sigmoid: { f: (z) => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z))), d: (z, L, y) => y * (1 - y) },
    Tanh: { f: (z) => Math.tanh(z), d: (z, L, y) => 1 - y * y },
    BatchNorm2D: {  // eval: y = gamma (x - mean) / sqrt(var + eps) + beta
      forward(L, x) {
        const C = L.in_shape[2], y = new Float64Array(x.length);
        for (let k = 0; k < x.length; k++) { const c = k % C; y[k] = L.w[c] * (x[k] - L.mean[c]) / Math.sqrt(L.var[c] + L.eps) + L.b[c]; }
        return y;
      },
      backward(L, x, y, dy) {
        const C = L.in_shape[2], dx = new Float64Array(x.length), dw = new Float64Array(C), db = new Float64Array(C);
        for (let k = 0; k < x.length; k++) {
          const c = k % C, inv = 1 / Math.sqrt(L.var[c] + L.eps);
          dx[k] = dy[k] * L.w[c] * inv; dw[c] += dy[k] * (x[k] - L.mean[c]) * inv; db[c] += dy[k];
        }
        return { dx, dw, db };
      },
    },
    Dropout: { identity: true }, Flatten: { identity: true },
  };
  function op(L) {
    const o = OPS[L.kind];
    if (!o) throw new Error("the page cannot compute a " + L.kind + " layer");
    if (o.identity) return { forward: (L, x) => x, backward: (L, x, y, dy) => ({ dx: dy }) };
    if (o.f) return {
      forward: (L, x) => x.map((z) => o.f(z, L)),
      backward: (L, x, y, dy) => ({ dx: dy.map((g, k) => g * o.d(x[k], L, y[k])) }),
    };
    return o;
  }

  function makeModel(M) {
    const layers = M.layers.map((L) => {
      const out = Object.assign({}, L);
      for (const key of ["w", "b", "mean", "var"]) if (L[key]) out[key] = decode(L[key]);
      return out;
    });
    const norm = (raw) => Float64Array.from(raw, (v, k) => {
      const c = k % M.normalizer.mean.length;
      return (v / 255 - M.normalizer.mean[c]) / M.normalizer.std[c];
    });
    // One pass on a raw image (flat Float64Array, 0..255, (H, W, C) row-major): acts[0] is the
    // normalised input, acts[k] layer k-1's output; probs; the logits z.
    function run(raw) {
      const x0 = norm(raw), acts = [x0], args = [];
      for (const L of layers) {
        acts.push(op(L).forward(L, acts[acts.length - 1]));
        args.push(L.arg ? Int32Array.from(L.arg) : null);  // max-pool winners, input flat indices
      }
      const z = acts[acts.length - 1];
      let probs;
      if (z.length === 1) { const p = OPS.Sigmoid.f(z[0]); probs = [1 - p, p]; } else {
        const m = Math.max(...z), e = Array.from(z, (v) => Math.exp(v - m)), s = e.reduce((a, b) => a + b, 0);
        probs = e.map((v) => v / s);
      }
      return { acts, probs, z, args };
    }
    // The forward pass and the gradients of L = -log p[c] (softmax) or the binary cross-entropy of
    // the one logit with label c: grads[k] = dL/d acts[k], params[i] = {dw, db} of layer i.
    function trace(raw, classIndex) {
      const r = run(raw), K = r.probs.length, c = Number(classIndex);
      if (!Number.isInteger(c) || c < 0 || c >= K) throw new Error("classIndex must be 0.." + (K - 1) + ", got " + classIndex);
      let dz, loss;
      if (r.z.length === 1) {
        const zz = r.z[0];  // BCE(z, y) = max(z, 0) - z y + log(1 + exp(-|z|))
        loss = Math.max(zz, 0) - zz * c + Math.log1p(Math.exp(-Math.abs(zz)));
        dz = Float64Array.of(r.probs[1] - c);
      } else {
        loss = -Math.log(r.probs[c]); dz = Float64Array.from(r.probs, (p, k) => p - (k === c ? 1 : 0));
      }
      const grads = new Array(layers.length + 1), params = new Array(layers.length);
      grads[layers.length] = dz;
      for (let i = layers.length - 1; i >= 0; i--) {
        const L = layers[i];
        if (L.arg) L.arg = r.args[i];  // the winners of this image
        const g = op(L).backward(L, r.acts[i], r.acts[i + 1], grads[i + 1]);
        params[i] = { dw: g.dw || null, db: g.db || null };
        grads[i] = g.dx;
      }
      return Object.assign(r, { label: c, loss, grads, params });
    }
    return {
      layers, input_shape: M.input_shape, normalizer: M.normalizer, run, trace, norm,
      forward(image) {
        const r = run(flat(image, M.input_shape));
        return { probabilities: r.probs, layers: layers.map((L, i) => ({ name: L.kind, output: nest(r.acts[i + 1], L.out_shape) })) };
      },
      backward(image, classIndex) {
        const t = trace(flat(image, M.input_shape), classIndex);
        const out = layers.map((L, i) => {
          const entry = { name: L.kind, dOutput: nest(t.grads[i + 1], L.out_shape) };
          if (t.params[i].dw) entry.dWeight = nest(t.params[i].dw, L.w_shape);
          if (t.params[i].db) entry.dBias = Array.from(t.params[i].db);
          return entry;
        });
        return { loss: t.loss, layers: out, dInput: nest(t.grads[0], M.input_shape) };
      },
    };
  }
  const embedded = document.getElementById("juanji-model");
  if (embedded && embedded.textContent.trim() !== "null") {
    const model = makeModel(JSON.parse(embedded.textContent));
    globalThis.juanji = { forward: (im) => model.forward(im), backward: (im, c) => model.backward(im, c), model };
  }
})();
