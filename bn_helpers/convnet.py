"""A small convolutional network on the 8x8 digits, in NumPy, S seeds trained in lockstep.

Layers are forward/backward pairs (cs231n's convention): ``forward(...) ->
(out, cache)``, ``backward(dout, cache) -> gradients``. Activations keep the
layout **(N, S*C, H, W)**: the channels of S independent networks (one per
seed) side by side, so that one NumPy call runs all of them and every
normalization of :mod:`bn_helpers.norms` applies unchanged:

==============  ==========================================  ======================
norm            statistics (per seed)                       call on (N, S*C, H, W)
==============  ==========================================  ======================
``"batch"``     per channel over (N, H, W)                  spatial BN
``"group"``     per image and group of C/G channels         group norm, S*G groups
``"layer"``     per image over (C, H, W)                    group norm, S groups
``"instance"``  per image and channel over (H, W)           instance norm
==============  ==========================================  ======================

The network (:class:`ConvNet`)::

    x (N, 1, 8, 8) -> conv 3x3 (C1) -> norm -> ReLU -> 2x2 average pool
      -> conv 3x3 (C2) -> norm -> ReLU -> global average pool (or flatten) -> Linear (10)

Global average pooling is ResNet's head; on 8x8 digits it learns slowly (0.5-0.8
test accuracy after one epoch, measured), so the experiments flatten the 4x4
maps instead (``head="flatten"``: 0.88-0.97 after one epoch).

Convolutions have padding 1 and stride 1 (the shape is kept) and are computed
as one batched matrix product over the 3x3 windows of the padded input
(im2col with ``numpy.lib.stride_tricks.sliding_window_view``; cs231n's
``conv_forward_im2col``, without Cython).

References
----------
Wu & He, "Group Normalization", arXiv:1803.08494, Section 3 (Eq. 1-3, the
sets of pixels each method averages over; Figure 2); Ioffe & Szegedy,
arXiv:1502.03167, Section 3.2 (per-channel statistics over N, H, W for
convolutional layers); Hoffer et al., arXiv:1705.08741, Section 4 (ghost
batch norm); PyTorch documentation, ``torch.nn.Conv2d``, ``torch.nn.BatchNorm2d``.
"""
from __future__ import annotations

from typing import NamedTuple, Sequence

import numpy as np
from numpy.typing import NDArray

from . import norms
from ._validate import as_float_array, check_int, check_number

__all__ = ["NORMS", "ConvCache", "conv3x3_forward", "conv3x3_backward", "norm_forward", "norm_backward",
           "avgpool2_forward", "avgpool2_backward", "gap_forward", "gap_backward", "ConvNet"]

#: The normalizations :class:`ConvNet` knows, and ``None`` (no normalization, a bias instead).
NORMS = ("batch", "group", "layer", "instance")


def _check_4d(x, name: str, channels: int | None = None) -> NDArray:
    x = as_float_array(x, name, (4,))
    if channels is not None and x.shape[1] != channels:
        raise ValueError(f"{name} must have {channels} channels on axis 1 (N, S*C, H, W); got shape {x.shape}")
    return x


class ConvCache(NamedTuple):
    """What :func:`conv3x3_forward` keeps: the im2col matrix (S, N*H*W, Cin*9), the weights (S, Cout, Cin, 3, 3), the input shape."""

    cols: NDArray
    w: NDArray
    x_shape: tuple[int, ...]


def _im2col(x5: NDArray) -> NDArray:
    """(N, S, C, H, W) -> (S, N*H*W, C*9): the 3x3 neighbourhoods (padding 1) of every position, per network."""
    n, s, c, h, w = x5.shape
    xp = np.zeros((s, n, h + 2, w + 2, c), dtype=x5.dtype)
    xp[:, :, 1:-1, 1:-1] = x5.transpose(1, 0, 3, 4, 2)
    windows = np.lib.stride_tricks.sliding_window_view(xp, (3, 3), axis=(2, 3))     # (S, N, H, W, C, 3, 3)
    return windows.reshape(s, n * h * w, c * 9)


def _to_images(y: NDArray, n: int, h: int, w: int) -> NDArray:
    """(S, N*H*W, C) -> (N, S*C, H, W)."""
    s, _, c = y.shape
    return y.reshape(s, n, h, w, c).transpose(1, 0, 4, 2, 3).reshape(n, s * c, h, w)


def conv3x3_forward(x, w, b) -> tuple[NDArray, ConvCache]:
    """3x3 convolution, padding 1, stride 1, of S stacked networks.

    ``out[n, s*Cout + o, h, w] = b[s, o] + sum_{i, u, v} w[s, o, i, u, v] * x_pad[n, s*Cin + i, h + u, w + v]``
    (cross-correlation, as ``torch.nn.Conv2d``; network s only sees its own channels).

    Parameters
    ----------
    x : array_like, shape (N, S*Cin, H, W)
    w : array_like, shape (S, Cout, Cin, 3, 3)
    b : array_like, shape (S, Cout)

    Returns
    -------
    out : ndarray, shape (N, S*Cout, H, W)
    cache : ConvCache

    Raises
    ------
    ValueError
        If ``x`` is not 4-D, ``w`` is not (S, Cout, Cin, 3, 3) with S*Cin the
        channels of ``x``, or ``b`` is not (S, Cout); the message gives both shapes.

    References
    ----------
    PyTorch documentation, ``torch.nn.Conv2d`` (``padding=1``, ``groups=S``);
    cs231n assignment 2, ``conv_forward_im2col``.
    """
    x = as_float_array(x, "x", (4,))
    w = as_float_array(w, "w", (5,), "(S, Cout, Cin, 3, 3)")
    s, c_out, c_in = w.shape[:3]
    if w.shape[3:] != (3, 3) or x.shape[1] != s * c_in:
        raise ValueError(f"w must have shape (S, Cout, Cin, 3, 3) with S*Cin = {x.shape[1]} (the channels of x, "
                         f"shape {x.shape}); got shape {w.shape}")
    b = np.asarray(b, dtype=x.dtype)
    if b.shape != (s, c_out):
        raise ValueError(f"b must have shape (S, Cout) = {(s, c_out)}; got shape {b.shape}")
    n, _, h, wd = x.shape
    cols = _im2col(x.reshape(n, s, c_in, h, wd))
    w = w.astype(x.dtype, copy=False)
    out = np.matmul(cols, w.reshape(s, c_out, c_in * 9).transpose(0, 2, 1)) + b[:, None, :]   # (S, N*H*W, Cout)
    return _to_images(out, n, h, wd), ConvCache(cols, w, x.shape)


def conv3x3_backward(dout, cache: ConvCache, need_dx: bool = True) -> tuple[NDArray | None, NDArray, NDArray]:
    """Backward of :func:`conv3x3_forward`: ``(dx, dw, db)`` of the shapes of ``x``, ``w``, ``b``.

    ``dw`` is ``dout`` times the im2col matrix; ``dx`` is the 3x3 correlation
    of ``dout`` with the kernels flipped and their in/out channels swapped
    (the transposed convolution, again one im2col and one matrix product).
    With ``need_dx=False`` (a first layer) ``dx`` is None.
    """
    if not isinstance(cache, ConvCache):
        raise TypeError(f"cache must be the ConvCache returned by conv3x3_forward; got {type(cache).__name__}")
    s, c_out, c_in = cache.w.shape[:3]
    n, _, h, wd = cache.x_shape
    dout = _check_4d(dout, "dout", s * c_out)
    if dout.shape != (n, s * c_out, h, wd):
        raise ValueError(f"dout must have shape {(n, s * c_out, h, wd)} (the output's); got shape {dout.shape}")
    d5 = dout.reshape(n, s, c_out, h, wd)
    d = d5.transpose(1, 0, 3, 4, 2).reshape(s, n * h * wd, c_out)
    db = d.sum(axis=1)
    dw = np.matmul(d.transpose(0, 2, 1), cache.cols).reshape(cache.w.shape)
    if not need_dx:
        return None, dw, db
    w_t = cache.w[..., ::-1, ::-1].transpose(0, 1, 3, 4, 2).reshape(s, c_out * 9, c_in)   # (o, u, v) x i
    return _to_images(np.matmul(_im2col(d5), w_t), n, h, wd), dw, db


def _ghost_view(x: NDArray, ghost: int) -> NDArray:
    """(N, SC, H, W) -> (B, N/B * SC, H, W): each ghost batch of B rows becomes its own set of channels."""
    n, sc, h, w = x.shape
    return x.reshape(n // ghost, ghost, sc, h, w).transpose(1, 0, 2, 3, 4).reshape(ghost, n // ghost * sc, h, w)


def _unghost(x: NDArray, n: int) -> NDArray:
    ghost, ksc, h, w = x.shape
    k = n // ghost
    return x.reshape(ghost, k, ksc // k, h, w).transpose(1, 0, 2, 3, 4).reshape(n, ksc // k, h, w)


def norm_forward(kind: str, x, gamma, beta, S: int = 1, G: int = 4, ghost: int | None = None, eps: float = 1e-5):
    """Normalize ``x`` (N, S*C, H, W) of S stacked networks with ``kind`` (one of :data:`NORMS`), in training mode.

    Thin wrappers around :mod:`bn_helpers.norms` (see the module's table):
    the formulas, and their ``eps`` inside the square root, are written there once.

    Parameters
    ----------
    kind : {"batch", "group", "layer", "instance"}
    x : array_like, shape (N, S*C, H, W)
    gamma, beta : array_like, shape (S*C,)
    S : int, default 1
        Number of stacked networks.
    G : int, default 4
        Groups per network (group norm only); must divide C.
    ghost : int, optional
        Batch norm only: normalize each run of ``ghost`` consecutive rows with
        its own statistics (ghost batch norm, Hoffer et al., arXiv:1705.08741,
        Section 4); must divide N.
    eps : float, default 1e-5

    Returns
    -------
    out : ndarray, shape of ``x``
    cache : tuple
        For :func:`norm_backward` (the :class:`bn_helpers.norms.NormCache`
        inside has ``mean`` and ``var`` of each set of statistics).

    Raises
    ------
    ValueError
        If ``kind`` is unknown, S does not divide the channels, G does not
        divide C, or ``ghost`` does not divide N.
    """
    x = as_float_array(x, "x", (4,))
    S = check_int(S, "S", 1)
    n, sc = x.shape[:2]
    if sc % S:
        raise ValueError(f"x must have S*C channels with S={S}; got shape {x.shape}")
    if kind == "batch":
        if ghost is None or ghost == n:
            out, cache = norms.spatial_batchnorm_forward(x, gamma, beta, eps)
            return out, cache, (None, n)
        ghost = check_int(ghost, "ghost", 1)
        if n % ghost:
            raise ValueError(f"ghost must divide the batch size N={n}; got ghost={ghost}")
        k = n // ghost
        out, cache = norms.spatial_batchnorm_forward(_ghost_view(x, ghost), np.tile(gamma, k), np.tile(beta, k), eps)
        return _unghost(out, n), cache, (ghost, n)
    if kind == "group":
        out, cache = norms.groupnorm_forward(x, gamma, beta, S * G, eps)
    elif kind == "layer":
        out, cache = norms.groupnorm_forward(x, gamma, beta, S, eps)
    elif kind == "instance":
        out, cache = norms.instancenorm_forward(x, gamma, beta, eps)
    else:
        raise ValueError(f"kind must be one of {NORMS}; got {kind!r}")
    return out, cache, (None, n)


def norm_backward(kind: str, dout, cache) -> tuple[NDArray, NDArray, NDArray]:
    """Backward of :func:`norm_forward` (the ``cache`` it returned, a pair): ``(dx, dgamma, dbeta)``."""
    inner, (ghost, n) = cache
    if kind == "batch":
        if ghost is None:
            return norms.spatial_batchnorm_backward(dout, inner)
        dx, dgamma, dbeta = norms.spatial_batchnorm_backward(_ghost_view(np.asarray(dout), ghost), inner)
        k = n // ghost
        return _unghost(dx, n), dgamma.reshape(k, -1).sum(axis=0), dbeta.reshape(k, -1).sum(axis=0)
    if kind in ("group", "layer"):
        return norms.groupnorm_backward(dout, inner)
    if kind == "instance":
        return norms.instancenorm_backward(dout, inner)
    raise ValueError(f"kind must be one of {NORMS}; got {kind!r}")


def avgpool2_forward(x) -> tuple[NDArray, tuple[int, ...]]:
    """2x2 average pooling, stride 2: (N, C, H, W) -> (N, C, H/2, W/2); H and W must be even."""
    x = as_float_array(x, "x", (4,))
    n, c, h, w = x.shape
    if h % 2 or w % 2:
        raise ValueError(f"x must have even H and W (N, C, H, W); got shape {x.shape}")
    out = x[:, :, 0::2, 0::2] + x[:, :, 1::2, 0::2]
    out += x[:, :, 0::2, 1::2]
    out += x[:, :, 1::2, 1::2]
    out *= 0.25
    return out, x.shape


def avgpool2_backward(dout, x_shape: tuple[int, ...]) -> NDArray:
    """Backward of :func:`avgpool2_forward`: each input pixel gets a quarter of its window's gradient."""
    n, c, h, w = x_shape
    d = np.asarray(dout)[:, :, :, None, :, None] * 0.25
    return np.broadcast_to(d, (n, c, h // 2, 2, w // 2, 2)).reshape(x_shape)


def gap_forward(x) -> tuple[NDArray, tuple[int, ...]]:
    """Global average pooling: (N, C, H, W) -> (N, C), the mean over H and W."""
    x = as_float_array(x, "x", (4,))
    return x.mean(axis=(2, 3)), x.shape


def gap_backward(dout, x_shape: tuple[int, ...]) -> NDArray:
    """Backward of :func:`gap_forward`: ``dout / (H*W)`` at every position."""
    n, c, h, w = x_shape
    return np.broadcast_to(np.asarray(dout)[:, :, None, None] / (h * w), x_shape).copy()


class ConvNet:
    """S copies of the small conv net of this module (one per seed), trained in lockstep.

    ``conv(1 -> C1) -> norm -> ReLU -> avgpool 2x2 -> conv(C1 -> C2) -> norm ->
    ReLU -> global average pool -> Linear(C2 -> 10)`` (or, with
    ``head="flatten"``, the 4x4 maps flattened into ``Linear(16 C2 -> 10)``), on images (N, 1, 8, 8)
    (the digits, :func:`bn_helpers.data.load_digits_split`, rows of 64).
    Weights: Kaiming normal, std ``sqrt(2 / fan_in)`` (He et al.,
    arXiv:1502.01852, Section 2.2), seeded per network by
    ``numpy.random.default_rng(seed)``; gamma 1, beta 0; the convolutions
    have a bias only without normalization.

    Batch norm keeps running statistics per channel (momentum 0.1, the
    unbiased variance over the N*H*W values, as ``torch.nn.BatchNorm2d``) and
    uses them in evaluation mode; group, layer and instance norm compute the
    same statistics in both modes.

    Parameters
    ----------
    norm : {"batch", "group", "layer", "instance"} or None, or a sequence of them
        One for all networks, or one per network (networks with the same
        norm must be consecutive): then several normalizations train in one
        lockstep, each network exactly as it would alone.
    seeds : sequence of int
        One network per seed (S = len(seeds)); a seed may repeat with another norm.
    channels : (int, int), default (16, 16)
        C1 and C2.
    G : int, default 4
        Groups of group norm; must divide C1 and C2.
    ghost : int, optional
        Batch norm in training mode over ghost batches of this many rows.
    momentum : float, default 0.1
        Of the running statistics (PyTorch's convention).
    head : {"gap", "flatten"}, default "gap"
    dtype : default float32

    Attributes
    ----------
    params : dict of str -> ndarray
        ``w1`` (S, C1, 1, 3, 3), ``b1`` (S, C1), ``g1``, ``be1`` (S*C1,),
        ``w2`` (S, C2, C1, 3, 3), ``b2`` (S, C2), ``g2``, ``be2`` (S*C2,),
        ``W`` (S, C2, 10) (``"flatten"``: (S, 16 C2, 10)), ``b`` (S, 10).
    running : dict of str -> ndarray
        ``mean1``, ``var1`` (S*C1,), ``mean2``, ``var2`` (S*C2,) (used by batch norm only).

    Raises
    ------
    ValueError
        If a norm is unknown, ``seeds`` is empty or differs in length from a
        sequence ``norm``, networks of one norm are not consecutive, G does
        not divide a layer's channels, or ``ghost`` is given without batch norm.
    """

    def __init__(self, norm, seeds: Sequence[int], channels: tuple[int, int] = (16, 16), G: int = 4,
                 ghost: int | None = None, momentum: float = 0.1, head: str = "gap", dtype=np.float32):
        if head not in ("gap", "flatten"):
            raise ValueError(f"head must be 'gap' or 'flatten'; got {head!r}")
        self.head = head
        seeds = [int(s) for s in seeds]
        if not seeds:
            raise ValueError("seeds must hold at least one seed; got an empty sequence")
        kinds = [norm] * len(seeds) if norm is None or isinstance(norm, str) else list(norm)
        if len(kinds) != len(seeds):
            raise ValueError(f"norm must be one name or one per seed ({len(seeds)}); got {len(kinds)}")
        for k in kinds:
            if k is not None and k not in NORMS:
                raise ValueError(f"norm must be one of {NORMS} or None; got {k!r}")
        blocks = []                                          # (kind, first network, end)
        for s, k in enumerate(kinds):
            if blocks and blocks[-1][0] == k:
                blocks[-1][2] = s + 1
            elif any(b[0] == k for b in blocks):
                raise ValueError(f"networks with the same norm must be consecutive; got {kinds}")
            else:
                blocks.append([k, s, s + 1])
        c1, c2 = (check_int(c, "channels", 1) for c in channels)
        if "group" in kinds and (c1 % G or c2 % G):
            raise ValueError(f"G must divide both channel counts {channels}; got G={G}")
        if ghost is not None and "batch" not in kinds:
            raise ValueError(f"ghost batches need norm='batch'; got norm={norm!r}")
        self.norm = norm if norm is None or isinstance(norm, str) else tuple(kinds)
        self.kinds, self.blocks = kinds, [tuple(b) for b in blocks]
        self.seeds, self.G, self.ghost, self.dtype = seeds, G, ghost, np.dtype(dtype)
        self.momentum = check_number(momentum, "momentum", 0, 1)
        self.S, self.channels = len(seeds), (c1, c2)
        p = {k: [] for k in ("w1", "w2", "W")}
        for seed in seeds:
            rng = np.random.default_rng(seed)
            p["w1"].append(rng.standard_normal((c1, 1, 3, 3)) * np.sqrt(2 / 9))
            p["w2"].append(rng.standard_normal((c2, c1, 3, 3)) * np.sqrt(2 / (9 * c1)))
            fan_in = c2 if head == "gap" else c2 * 16
            p["W"].append(rng.standard_normal((fan_in, 10)) * np.sqrt(1 / fan_in))
        S = self.S
        self.params = {k: np.array(v, dtype=self.dtype) for k, v in p.items()}
        for i, c in ((1, c1), (2, c2)):
            self.params[f"b{i}"] = np.zeros((S, c), self.dtype)
            self.params[f"g{i}"] = np.ones(S * c, self.dtype)
            self.params[f"be{i}"] = np.zeros(S * c, self.dtype)
        self.params["b"] = np.zeros((S, 10), self.dtype)
        self.running = {"mean1": np.zeros(S * c1, self.dtype), "var1": np.ones(S * c1, self.dtype),
                        "mean2": np.zeros(S * c2, self.dtype), "var2": np.ones(S * c2, self.dtype)}
        self._plain = np.array([k is None for k in kinds], dtype=self.dtype)[:, None]    # (S, 1): has a conv bias

    def trainable(self) -> list[str]:
        """Names of the parameters that learn (conv biases of networks without a norm; gamma, beta of the others)."""
        names = ["w1", "w2", "W", "b"]
        if any(k is not None for k in self.kinds):
            names += ["g1", "be1", "g2", "be2"]
        if any(k is None for k in self.kinds):
            names += ["b1", "b2"]
        return names

    def _images(self, X) -> NDArray:
        """Rows of 64 pixels -> (N, S, 8, 8); X is (N, 64), the same for every network, or (S, N, 64)."""
        X = np.asarray(X, dtype=self.dtype)
        if X.ndim == 2 and X.shape[1] == 64:
            return np.broadcast_to(X.reshape(-1, 1, 8, 8), (len(X), self.S, 8, 8))
        if X.ndim == 3 and X.shape[0] == self.S and X.shape[2] == 64:
            return X.reshape(self.S, -1, 8, 8).transpose(1, 0, 2, 3)
        raise ValueError(f"X must have shape (N, 64) or (S, N, 64) with S={self.S}; got shape {X.shape}")

    def _norm_block(self, kind, i, h, sl, n_nets, training, update_stats):
        p, r = self.params, self.running
        g, be = p[f"g{i}"][sl], p[f"be{i}"][sl]
        if kind == "batch" and not training:
            scale = g / np.sqrt(r[f"var{i}"][sl] + 1e-5)
            shift = be - r[f"mean{i}"][sl] * scale
            return h * scale[:, None, None] + shift[:, None, None], None
        out, cache, meta = norm_forward(kind, h, g, be, n_nets, self.G, self.ghost if kind == "batch" else None)
        if kind == "batch" and update_stats:
            m, sc = self.momentum, h.shape[1]
            count = (meta[0] or h.shape[0]) * h.shape[2] * h.shape[3]
            mean, var = cache.mean.reshape(-1, sc).mean(axis=0), cache.var.reshape(-1, sc).mean(axis=0)
            r[f"mean{i}"][sl] = (1 - m) * r[f"mean{i}"][sl] + m * mean
            r[f"var{i}"][sl] = (1 - m) * r[f"var{i}"][sl] + m * var * count / max(count - 1, 1)
        return out, (cache, meta)

    def _norm(self, i: int, h: NDArray, training: bool, update_stats: bool):
        """Each block of networks with one norm normalized by it; a block without a norm passes through."""
        c = self.channels[i - 1]
        outs, caches = [], []
        for kind, a, b in self.blocks:
            sl = slice(a * c, b * c)
            part = h if len(self.blocks) == 1 else h[:, sl]
            if kind is None:
                outs.append(part)
                caches.append(None)
                continue
            out, cache = self._norm_block(kind, i, part, sl, b - a, training, update_stats)
            outs.append(out)
            caches.append(cache)
        return (outs[0] if len(outs) == 1 else np.concatenate(outs, axis=1)), caches

    def _norm_backward(self, i: int, dh: NDArray, caches, grads: dict) -> NDArray:
        c = self.channels[i - 1]
        grads[f"g{i}"], grads[f"be{i}"] = np.zeros_like(self.params[f"g{i}"]), np.zeros_like(self.params[f"be{i}"])
        parts = []
        for (kind, a, b), cache in zip(self.blocks, caches):
            sl = slice(a * c, b * c)
            part = dh if len(self.blocks) == 1 else dh[:, sl]
            if kind is None:
                parts.append(part)
                continue
            dx, grads[f"g{i}"][sl], grads[f"be{i}"][sl] = norm_backward(kind, part, cache)
            parts.append(dx)
        return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)

    def forward(self, X, training: bool = False, update_stats: bool = True):
        """Logits (S, N, 10) and the caches for :meth:`backward`.

        ``X`` is (N, 64) (the same images for every network) or (S, N, 64).
        In training mode batch norm uses the batch's statistics (and, with
        ``update_stats``, updates the running ones); otherwise the running ones.
        """
        p, S = self.params, self.S
        caches = {}
        h = self._images(X)
        for i in (1, 2):
            h, caches[f"conv{i}"] = conv3x3_forward(h, p[f"w{i}"], p[f"b{i}"] * self._plain)
            h, caches[f"norm{i}"] = self._norm(i, h, training, update_stats)
            caches[f"relu{i}"] = h > 0
            h = h * caches[f"relu{i}"]
            if i == 1:
                h, caches["pool"] = avgpool2_forward(h)
        caches["head_in"] = h.shape
        if self.head == "gap":
            h, caches["gap"] = gap_forward(h)                                       # (N, S*C2)
        feats = h.reshape(len(h), S, -1).transpose(1, 0, 2)                        # (S, N, C2 or C2*4*4)
        caches["feats"] = feats
        return np.matmul(feats, p["W"]) + p["b"][:, None, :], caches

    def backward(self, dlogits, caches) -> dict[str, NDArray]:
        """Gradients of ``sum(logits * dlogits)`` for every parameter (keys of ``params``), training mode."""
        p = self.params
        dlogits = np.asarray(dlogits, dtype=self.dtype)
        grads = {"W": np.matmul(caches["feats"].transpose(0, 2, 1), dlogits), "b": dlogits.sum(axis=1)}
        dfeats = np.matmul(dlogits, p["W"].transpose(0, 2, 1))                      # (S, N, C2)
        dh = dfeats.transpose(1, 0, 2).reshape(dlogits.shape[1], -1)
        dh = gap_backward(dh, caches["gap"]) if self.head == "gap" else dh.reshape(caches["head_in"])
        for i in (2, 1):
            if i == 1:
                dh = avgpool2_backward(dh, caches["pool"])
            dh = dh * caches[f"relu{i}"]
            dh = self._norm_backward(i, dh, caches[f"norm{i}"], grads)
            dh, grads[f"w{i}"], db = conv3x3_backward(dh, caches[f"conv{i}"], need_dx=i > 1)
            grads[f"b{i}"] = db * self._plain
        return grads

    def loss_and_grads(self, X, y) -> tuple[NDArray, dict[str, NDArray]]:
        """Softmax cross-entropy per network (S,) on a training batch, and its gradients.

        ``y`` is (N,) or (S, N). The gradient of each network is that of its own
        mean loss over the batch (the networks share no parameter).
        """
        logits, caches = self.forward(X, training=True)
        y = np.broadcast_to(np.asarray(y), logits.shape[:2])
        z = logits - logits.max(axis=2, keepdims=True)
        log_p = z - np.log(np.exp(z).sum(axis=2, keepdims=True))
        s_idx, n_idx = np.ogrid[:logits.shape[0], :logits.shape[1]]
        loss = -log_p[s_idx, n_idx, y].mean(axis=1)
        d = np.exp(log_p)
        d[s_idx, n_idx, y] -= 1.0
        return loss, self.backward(d / logits.shape[1], caches)

    def fit(self, X, y, *, epochs: float | None = None, steps: int | None = None, batch_size: int = 16,
            lr: float = 0.05, momentum: float = 0.9, order_seed: int | None = None) -> NDArray:
        """SGD with momentum (PyTorch's form, ``v = momentum * v + g; p -= lr * v``) on softmax cross-entropy.

        Network s draws its batches from its own shuffles.

        Each epoch, network s visits the training set in the order of
        ``numpy.random.default_rng([seeds[s], epoch, order_seed or 0])``,
        in batches of ``batch_size`` (an incomplete last batch is dropped), for
        ``steps`` steps or ``epochs`` epochs (exactly one of the two).
        Returns the mean training loss of each network at each step, (steps, S).
        """
        X, y = np.asarray(X, dtype=self.dtype), np.asarray(y)
        batch_size = check_int(batch_size, "batch_size", 2)
        lr = check_number(lr, "lr", 0, low_open=True)
        momentum = check_number(momentum, "momentum", 0, 1, high_open=True)
        if self.ghost is not None and batch_size % self.ghost:
            raise ValueError(f"batch_size must be a multiple of ghost={self.ghost}; got {batch_size}")
        per_epoch = len(X) // batch_size
        if (epochs is None) == (steps is None):
            raise ValueError(f"give exactly one of epochs and steps; got epochs={epochs}, steps={steps}")
        total = check_int(steps, "steps", 0) if steps is not None else int(round(epochs * per_epoch))
        losses, order = [], None
        velocity = {name: np.zeros_like(self.params[name]) for name in self.trainable()}
        for step in range(total):
            epoch, k = divmod(step, per_epoch)
            if k == 0:
                base = 0 if order_seed is None else int(order_seed)
                order = np.array([np.random.default_rng([s, epoch, base]).permutation(len(X)) for s in self.seeds])
            idx = order[:, k * batch_size:(k + 1) * batch_size]                        # (S, B)
            loss, grads = self.loss_and_grads(X[idx], y[idx])
            for name, v in velocity.items():
                v *= momentum
                v += grads[name]
                self.params[name] -= (lr * v).astype(self.dtype, copy=False)
            losses.append(loss)
        return np.array(losses)

    def accuracy(self, X, y, training: bool = False, batch_size: int | None = None) -> NDArray:
        """Accuracy of each network (S,): eval mode, or training mode over consecutive batches of ``batch_size``."""
        y = np.asarray(y)
        if not training:
            return (self.forward(X)[0].argmax(axis=2) == y).mean(axis=1)
        n = len(y) - len(y) % batch_size
        logits = np.concatenate([self.forward(X[k:k + batch_size], training=True, update_stats=False)[0]
                                 for k in range(0, n, batch_size)], axis=1)
        return (logits.argmax(axis=2) == y[:n]).mean(axis=1)
