"""Figures and measurements of assignment 07_beyond_batchnorm: what RMSNorm keeps and drops; pre- vs post-LN.

:func:`offset_sweep` adds a common offset ``c`` to one standardized row and
records the mean and the standard deviation of the normalized row under layer
norm and under an RMSNorm forward (the student's or the reference). With
``eps = 0`` both are exact: layer norm gives mean 0 and std 1 for every ``c``;
RMSNorm gives mean ``c / sqrt(1 + c**2)`` and std ``1 / sqrt(1 + c**2)``
(``mean(x**2) = 1 + c**2`` for a row of mean ``c`` and std 1), so a large
offset squeezes the row toward the constant ``sign(c)``.

:func:`placement_sweep` measures, at initialization, the norm of the gradient
of the last block's output weights in a residual stack of ``depth`` blocks
``F(x) = relu(x W1) W2``, with layer norm after each residual addition
("post-LN", ``x <- LN(x + F(x))``) or inside the branch ("pre-LN",
``x <- x + F(LN(x))``, and a final LN), as Xiong et al. (arXiv:2002.04745)
analyse for transformers (here without attention): under pre-LN the last
block's gradient shrinks as the depth grows, under post-LN it does not.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from .. import norms
from ..plots.style import condition_color
from ._threads import one_thread

__all__ = ["offset_sweep", "rmsnorm_offset_formula", "plot_offset_sweep", "last_block_gradient", "stream_norm", "placement_sweep",
           "plot_placement"]


def offset_sweep(rms_forward: Callable, offsets=None, d: int = 64, seed: int = 0) -> dict:
    """Mean and std over the row of the normalized ``z + c``, ``z`` a standardized row of ``d`` values.

    Parameters
    ----------
    rms_forward : callable
        ``rms_forward(x, gamma, eps) -> (out, cache)``, RMSNorm over the last axis.
    offsets : array_like, optional
        The offsets ``c`` (default 81 values from -4 to 4).
    d : int, default 64
        Features per row.
    seed : int, default 0
        Seed of ``z``.

    Returns
    -------
    dict with ``"offsets"`` and, for ``"layer norm"`` and ``"RMSNorm"``, a pair
    ``(mean, std)`` of arrays over the offsets (gamma = 1, beta = 0, eps = 0).
    """
    offsets = np.linspace(-4.0, 4.0, 81) if offsets is None else np.asarray(offsets, dtype=np.float64)
    z = np.random.default_rng(seed).standard_normal(d)
    z = (z - z.mean()) / z.std()
    x = z[None, :] + offsets[:, None]
    ones, zeros = np.ones(d), np.zeros(d)
    ln = np.asarray(norms.layernorm_forward(x, ones, zeros, eps=0.0)[0])
    rms = np.asarray(rms_forward(x, ones, 0.0)[0])
    return {"offsets": offsets, "layer norm": (ln.mean(axis=1), ln.std(axis=1)),
            "RMSNorm": (rms.mean(axis=1), rms.std(axis=1))}


def rmsnorm_offset_formula(offsets) -> tuple[np.ndarray, np.ndarray]:
    """The exact RMSNorm row mean ``c / sqrt(1 + c**2)`` and std ``1 / sqrt(1 + c**2)`` (eps = 0)."""
    c = np.asarray(offsets, dtype=np.float64)
    root = np.sqrt(1.0 + c * c)
    return c / root, 1.0 / root


def plot_offset_sweep(ax, sweep: dict):
    """Row mean (solid) and row std (dashed) of the normalized row against the offset; returns ``ax``."""
    c = sweep["offsets"]
    for label in ("layer norm", "RMSNorm"):
        mean, std = sweep[label]
        color = condition_color(label)
        ax.plot(c, mean, color=color, lw=2, label=f"{label}: mean of the row")
        ax.plot(c, std, color=color, lw=2, ls="--", label=f"{label}: std of the row")
    ax.axhline(0.0, color="0.8", lw=0.8, zorder=0)
    ax.set_xlabel("offset c added to every feature of the row (in units of the row's std)")
    ax.set_ylabel("statistic of the normalized row")
    ax.set_title("Layer norm re-centers, RMSNorm does not")
    ax.legend(fontsize=8, loc="lower right")
    return ax


def _ln_rows(x: np.ndarray, eps: float = 1e-5):
    """Layer norm of each row without gamma and beta: (x_hat, inv_std with a size-1 last axis)."""
    inv = 1.0 / np.sqrt(x.var(axis=1, keepdims=True) + eps)
    return (x - x.mean(axis=1, keepdims=True)) * inv, inv


def _placement_run(depth: int, placement: str, width: int, batch: int, seed: int, noise: float):
    """Forward through ``depth`` residual blocks and back through the final layer norm.

    Returns the last block's hidden activation ``a`` (batch, width), the gradient ``dx``
    flowing into the last block's output, and the residual stream ``x_L`` entering the
    final layer norm (pre-LN) or leaving the last one (post-LN), each (batch, width).
    """
    if placement not in ("post", "pre"):
        raise ValueError(f"placement must be 'post' or 'pre'; got {placement!r}")
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, width))
    dout = rng.standard_normal((batch, width))
    if noise:
        x = x * (1.0 + noise * np.random.default_rng(seed + 10_000).standard_normal(x.shape))
    scale = np.sqrt(1.0 / width)
    for _ in range(depth):
        w1, w2 = rng.normal(0.0, scale, (width, width)), rng.normal(0.0, scale, (width, width))
        if placement == "post":
            a = np.maximum(x @ w1, 0.0)
            x, inv = _ln_rows(x + a @ w2)
        else:
            a = np.maximum(_ln_rows(x)[0] @ w1, 0.0)
            x = x + a @ w2
    x_hat, inv = (x, inv) if placement == "post" else _ln_rows(x)
    dx = norms.normalize_backward(dout, x_hat, inv, (1,))  # through the last LN: into the last block's output
    return a, dx, x


def last_block_gradient(depth: int, placement: str, width: int = 32, batch: int = 64, seed: int = 0,
                        noise: float = 0.0) -> float:
    """Norm of dL/dW2 of the last block at initialization, ``L = sum(out * dout)`` with random ``dout``.

    Parameters
    ----------
    depth : int
        Number of residual blocks.
    placement : {"post", "pre"}
        Layer norm after the residual addition, or at the input of the branch (plus a final LN).
    width, batch : int
        Features and examples; weights are N(0, 1/width), inputs and ``dout`` standard normal.
    seed : int
        Seed of the inputs, ``dout`` and the weights.
    noise : float
        Relative perturbation of the inputs (the tests' rounding-level check).

    Returns
    -------
    float, the Frobenius norm of the gradient of the last block's W2.

    References
    ----------
    Xiong et al., arXiv:2002.04745, Section 3 (Theorem 1 and the lemmas before it).
    """
    a, dx, _ = _placement_run(depth, placement, width, batch, seed, noise)
    return float(np.linalg.norm(a.T @ dx))


def stream_norm(depth: int, placement: str, width: int = 32, batch: int = 64, seed: int = 0,
                noise: float = 0.0) -> float:
    """Mean row norm ``||x_L||`` of the residual stream at the final layer norm (set-up of :func:`last_block_gradient`).

    For pre-LN, the stream that enters the final layer norm; for post-LN, the last
    layer norm's output (``sqrt(width)`` up to eps, at any depth).

    References
    ----------
    Xiong et al., arXiv:2002.04745, Section 3: for pre-LN, ``E||x_L||^2`` grows linearly with
    the depth L, and the final layer norm divides the gradient reaching the last layers by
    ``||x_L||``, so their gradient shrinks as the network gets deeper (Theorem 1).
    """
    _, _, x = _placement_run(depth, placement, width, batch, seed, noise)
    return float(np.linalg.norm(x, axis=1).mean())


def placement_sweep(depths=(2, 4, 8, 16, 32, 64), seeds=(0, 1, 2, 3, 4), noise: float = 0.0,
                    width: int = 32, batch: int = 64) -> dict:
    """:func:`last_block_gradient` and :func:`stream_norm` for every depth, seed and placement (one run each).

    Returns
    -------
    dict with ``"depths"``; for ``"post-LN"`` and ``"pre-LN"``, an array (seeds, depths) of gradient
    norms; and ``"stream"``, a dict with the same two keys of arrays (seeds, depths) of ``||x_L||``.
    """
    out = {"depths": np.asarray(depths), "stream": {}}
    with one_thread():
        for label, placement in (("post-LN", "post"), ("pre-LN", "pre")):
            runs = [[_placement_run(d, placement, width, batch, s, noise) for d in depths] for s in seeds]
            out[label] = np.array([[float(np.linalg.norm(a.T @ dx)) for a, dx, _ in row] for row in runs])
            out["stream"][label] = np.array([[float(np.linalg.norm(x, axis=1).mean()) for _, _, x in row]
                                             for row in runs])
    return out


def plot_placement(ax, sweep: dict):
    """Gradient norm of the last block against depth, mean over seeds with a min-max band; returns ``ax``."""
    depths = sweep["depths"]
    color = condition_color("layer norm")
    for label, style in (("post-LN", "--"), ("pre-LN", "-")):
        g = sweep[label]
        ax.fill_between(depths, g.min(axis=0), g.max(axis=0), color=color, alpha=0.15 if style == "-" else 0.08)
        ax.plot(depths, g.mean(axis=0), style, marker="o", color=color, lw=2,
                label=f"{label} (mean and range over {len(g)} seeds)")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("depth (residual blocks)")
    ax.set_ylabel("norm of dL/dW2, last block")
    ax.set_title("At initialization: the last block's gradient")
    ax.legend(fontsize=8)
    return ax
