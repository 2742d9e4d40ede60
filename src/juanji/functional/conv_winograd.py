"""Winograd F(4x4, 3x3) convolution: 3x3 kernels, stride 1, dilation 1, groups 1, any padding.

Each 4x4 block of output pixels is computed from the 6x6 tile of the padded input that covers it
(tiles overlap by 2) with the minimal-filtering identity (Lavin & Gray, 2016):

    Y = A^T [ (G g G^T) ⊙ (B^T d B) ] A          per tile, per (input, output) channel pair

summed over input channels, with d the 6x6 input tile, g the 3x3 kernel, G (6, 3), B^T (6, 6)
and A^T (4, 6) the constant matrices below. Summed over C_in, the elementwise product becomes
36 matrix products, one per point (k) of the 6x6 transformed tile:

    U[k] = (G ⊗ G) g          (36, C_in, C_out)    the transformed kernels
    V[k] = (B^T ⊗ B^T) d      (36, P, C_in)        the transformed tiles, P = N * tiles
    M[k] = V[k] @ U[k]        (36, P, C_out)
    Y    = (A^T ⊗ A^T) M      (16, P, C_out)       scattered back to (N, Ho, Wo, C_out)

Every 2-D transform is one GEMM with the Kronecker product of the 1-D matrices (36x36, 36x9,
16x36), so all the work is in BLAS. 36 products of (P, C_in) @ (C_in, C_out) replace the 9 of a
direct conv on 16/36 as many rows each: 2.25x fewer multiplications.

Backward runs the adjoints, for dY = dL/dy:

    dM = (A^T ⊗ A^T)^T dY                 (36, P, C_out)
    dU[k] = V[k]^T @ dM[k]                (36, C_in, C_out)  ->  dw = (G ⊗ G)^T dU
    dV[k] = dM[k] @ U[k]^T                (36, P, C_in)      ->  dd = (B^T ⊗ B^T)^T dV
    dx = every tile's dd added back where it was read (tiles overlap), the padding cropped off
    db = dY summed over N, Ho, Wo (done by conv.py)

Accuracy: the transforms multiply and divide by up to 24, so float32 results carry a few 1e-6
relative error (about 10x im2col's); float64 stays near 1e-14.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._parallel import gemm_work, over_batch, sum_over_batch
from .memory import batch_chunk
from .windows import pad_nhwc, unpad_nhwc

MIN_CHANNELS = 16  # fewer input channels: the banded/shifted convs win (3 channels: 2x faster)
MIN_OUT = 4        # smaller outputs than 4x4: the tiles are mostly padding
CHUNK_BYTES = 4 * 2**20  # images per chunk so one chunk's transformed tiles fit ~L2/L3

_BT = np.array([[4, 0, -5, 0, 1, 0],
                [0, -4, -4, 1, 1, 0],
                [0, 4, -4, -1, 1, 0],
                [0, -2, -1, 2, 1, 0],
                [0, 2, -1, -2, 1, 0],
                [0, 4, 0, -5, 0, 1]], dtype=np.float64)  # (6, 6) input transform B^T
_G = np.array([[1 / 4, 0, 0],
               [-1 / 6, -1 / 6, -1 / 6],
               [-1 / 6, 1 / 6, -1 / 6],
               [1 / 24, 1 / 12, 1 / 6],
               [1 / 24, -1 / 12, 1 / 6],
               [0, 0, 1]], dtype=np.float64)  # (6, 3) kernel transform G
_AT = np.array([[1, 1, 1, 1, 1, 0],
                [0, 1, -1, 2, -2, 0],
                [0, 1, 1, 4, 4, 0],
                [0, 1, -1, 8, -8, 1]], dtype=np.float64)  # (4, 6) output transform A^T

_KB = np.kron(_BT, _BT)  # (36, 36): vec(B^T d B) = (B^T ⊗ B^T) vec(d), row-major vec
_KG = np.kron(_G, _G)    # (36, 9)
_KA = np.kron(_AT, _AT)  # (16, 36)
_MATS = {np.dtype(t): tuple(m.astype(t) for m in (_KB, _KG, _KA))
         for t in (np.float32, np.float64)}


@dataclass(frozen=True, slots=True)
class WinogradCache:
    """What backward needs: the transformed tiles per chunk and the transformed kernels."""

    v: list          # per chunk of images: (36, P_chunk, C_in) transformed input tiles
    u: np.ndarray    # (36, C_in, C_out) transformed kernels
    chunk: int       # images per chunk
    tiles: tuple     # (th, tw) tiles per image along H and W
    padded_shape: tuple  # (N, 4*th + 2, 4*tw + 2, C_in): the padded input incl. extra
    padding: tuple   # ((top, bottom), (left, right)) of the conv itself
    in_hw: tuple     # (H, W)


def usable(x_shape: tuple, w_shape: tuple, out_hw: tuple, stride: tuple, dilation: tuple,
           groups: int, dtype) -> bool:
    """Whether F(4x4, 3x3) applies and is expected to beat the other formulations.

    >>> usable((64, 32, 32, 32), (3, 3, 32, 64), (32, 32), (1, 1), (1, 1), 1, np.float32)
    True
    >>> usable((32, 64, 64, 3), (3, 3, 3, 32), (64, 64), (1, 1), (1, 1), 1, np.float32)
    False
    """
    n, _, _, c_in = x_shape
    return (tuple(w_shape[:2]) == (3, 3) and stride == (1, 1) and dilation == (1, 1)
            and groups == 1 and c_in >= MIN_CHANNELS and w_shape[3] > 0 and n > 0
            and min(out_hw) >= MIN_OUT and np.dtype(dtype) in _MATS)


def _chunk(n: int, tiles: int, c: int, itemsize: int) -> int:
    """Images per chunk: few enough for a cache-sized working set, within the memory budget."""
    per_image = 36 * tiles * c * itemsize  # one image's transformed tiles
    fit = batch_chunk(n, per_image, "conv2d (winograd)")
    return max(1, min(fit, CHUNK_BYTES // per_image))


def forward(x: np.ndarray, w: np.ndarray, b, pad: tuple, out_hw: tuple):
    """y (N, Ho, Wo, C_out) and the cache; x (N, H, W, C_in), w (3, 3, C_in, C_out)."""
    n, h, wd, c_in = x.shape
    c_out = w.shape[3]
    ho, wo = out_hw
    th, tw = -(-ho // 4), -(-wo // 4)
    (pt, pb), (pl, pr) = pad
    hp, wp = 4 * th + 2, 4 * tw + 2  # every tile inside: extra zero rows/columns bottom/right
    xp = pad_nhwc(x, ((pt, hp - h - pt), (pl, wp - wd - pl)))  # (N, Hp, Wp, C_in)
    kb, kg, ka = _MATS[x.dtype]
    u = kg @ w.reshape(9, c_in * c_out)  # (36, 9) @ (9, C_in*C_out) -> (36, C_in*C_out)
    u = u.reshape(36, c_in, c_out)  # (36, C_in, C_out)
    chunk = _chunk(n, th * tw, max(c_in, c_out), x.dtype.itemsize)
    y = np.empty((n, 4 * th, 4 * tw, c_out), dtype=x.dtype)  # (N, 4th, 4tw, C_out)
    starts = list(range(0, n, chunk))
    vs = [None] * len(starts)

    def body(part: slice) -> None:  # chunks part.start .. part.stop - 1, on one thread
        for i in range(part.start, part.stop):
            s, e = starts[i], min(starts[i] + chunk, n)
            v = _tiles(xp[s:e], th, tw, kb)  # (36, P, C_in)
            vs[i] = v
            m = np.matmul(v, u)  # (36, P, C_in) @ (36, C_in, C_out) -> (36, P, C_out)
            yt = ka @ m.reshape(36, -1)  # (16, 36) @ (36, P*C_out) -> (16, P*C_out)
            yt = yt.reshape(4, 4, e - s, th, tw, c_out)  # (4, 4, n, th, tw, C_out)
            # (n, th, 4, tw, 4, C_out) into y[s:e] viewed as tiles
            y[s:e].reshape(e - s, th, 4, tw, 4, c_out)[...] = yt.transpose(2, 3, 0, 4, 1, 5)

    over_batch(body, len(starts), gemm_work(36 * n * th * tw * c_in * c_out), blas=True)
    if 4 * th != ho or 4 * tw != wo:
        y = np.ascontiguousarray(y[:, :ho, :wo])  # (N, Ho, Wo, C_out): the extra cut off
    if b is not None:
        y += b.reshape(c_out)  # (C_out,) broadcast over (N, Ho, Wo)
    cache = WinogradCache(v=vs, u=u, chunk=chunk, tiles=(th, tw), padded_shape=xp.shape,
                          padding=pad, in_hw=(h, wd))
    return y, cache


def _tiles(xp: np.ndarray, th: int, tw: int, kb: np.ndarray) -> np.ndarray:
    """Transformed 6x6 tiles of a padded chunk (n, 4th+2, 4tw+2, C) -> (36, n*th*tw, C)."""
    n, _, _, c = xp.shape
    sn, sh, sw, sc = xp.strides
    view = np.lib.stride_tricks.as_strided(
        xp, (6, 6, n, th, tw, c), (sh, sw, sn, 4 * sh, 4 * sw, sc),
        writeable=False)  # (6, 6, n, th, tw, C): tile (t1, t2)'s cell (i, j), overlapping
    d = view.reshape(36, n * th * tw * c)  # (36, P*C), the one gather copy
    return (kb @ d).reshape(36, n * th * tw, c)  # (36, 36) @ (36, P*C) -> (36, P, C)


def backward(dy: np.ndarray, cache: WinogradCache, need_dx: bool):
    """(dx or None, dw) for dy (N, Ho, Wo, C_out); dx (N, H, W, C_in), dw (3, 3, C_in, C_out)."""
    n, ho, wo, c_out = dy.shape
    th, tw = cache.tiles
    u = cache.u
    c_in = u.shape[1]
    kb, kg, ka = _MATS[dy.dtype]
    dxp = np.empty(cache.padded_shape, dtype=dy.dtype) if need_dx else None  # (N, Hp, Wp, C_in)
    ut = u.transpose(0, 2, 1)  # (36, C_out, C_in), a view
    starts = list(range(0, n, cache.chunk))

    def body(part: slice) -> np.ndarray:  # chunks part.start .. part.stop - 1; returns dU
        du = np.zeros((36, c_in, c_out), dtype=dy.dtype)  # (36, C_in, C_out)
        for i in range(part.start, part.stop):
            s, e = starts[i], min(starts[i] + cache.chunk, n)
            dyt = np.zeros((e - s, th, 4, tw, 4, c_out), dtype=dy.dtype)  # (n,th,4,tw,4,C_out)
            dyt.reshape(e - s, 4 * th, 4 * tw, c_out)[:, :ho, :wo] = dy[s:e]  # 0 past Ho, Wo
            dyt = dyt.transpose(2, 4, 0, 1, 3, 5).reshape(16, -1)  # (16, n*th*tw*C_out), copy
            dm = (ka.T @ dyt).reshape(36, -1, c_out)  # (36, 16) @ (16, P*C_out) -> (36,P,C_out)
            v = cache.v[i]  # (36, P, C_in)
            du += np.matmul(v.transpose(0, 2, 1), dm)  # (36, C_in, P) @ (36, P, C_out)
            if need_dx:
                dv = np.matmul(dm, ut)  # (36, P, C_out) @ (36, C_out, C_in) -> (36, P, C_in)
                dd = kb.T @ dv.reshape(36, -1)  # (36, 36) @ (36, P*C_in) -> (36, P*C_in)
                _fold(dd.reshape(6, 6, e - s, th, tw, c_in), dxp[s:e])
        return du

    macs = 36 * n * th * tw * c_in * c_out * (2 if need_dx else 1)
    du = sum_over_batch(body, len(starts), gemm_work(macs), blas=True)  # (36, C_in, C_out)
    dw = (kg.T @ du.reshape(36, -1)).reshape(3, 3, c_in, c_out)  # (9, 36) @ (36, C_in*C_out)
    if not need_dx:
        return None, dw
    return unpad_nhwc(dxp, cache.padding, cache.in_hw), dw  # (N, H, W, C_in)


def _fold(dd: np.ndarray, out: np.ndarray) -> None:
    """Add overlapping 6x6 tile gradients back: dd (6, 6, n, th, tw, C) -> out (n, 4th+2,
    4tw+2, C), written whole. Rows 0-3 of tile t land on rows 4t..4t+3 (no overlap, one
    assignment), rows 4-5 add onto the next tile's rows 0-1; the same along W."""
    _, _, n, th, tw, c = dd.shape
    rows = np.zeros((n, th + 1, 4, 6, tw, c), dtype=dd.dtype)  # (n, th+1, 4, 6, tw, C)
    rows[:, :th] = dd[:4].transpose(2, 3, 0, 1, 4, 5)  # (n, th, 4, 6, tw, C)
    rows[:, 1:, :2] += dd[4:].transpose(2, 3, 0, 1, 4, 5)  # (n, th, 2, 6, tw, C)
    rows = rows.reshape(n, 4 * th + 4, 6, tw, c)[:, :4 * th + 2]  # (n, 4th+2, 6, tw, C)
    cols = out.reshape(n, 4 * th + 2, 1, 4 * tw + 2, c)  # written through the view below
    full = np.zeros((n, 4 * th + 2, tw + 1, 4, c), dtype=dd.dtype)  # (n, Hp, tw+1, 4, C)
    full[:, :, :tw] = rows[:, :, :4].transpose(0, 1, 3, 2, 4)  # (n, Hp, tw, 4, C)
    full[:, :, 1:, :2] += rows[:, :, 4:].transpose(0, 1, 3, 2, 4)  # (n, Hp, tw, 2, C)
    cols[:, :, 0] = full.reshape(n, 4 * th + 2, 4 * tw + 4, c)[:, :, :4 * tw + 2]
