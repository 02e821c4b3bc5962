"""Figures and measurements of assignment 07_beyond_batchnorm: what RMSNorm keeps and drops.

:func:`offset_sweep` adds a common offset ``c`` to one standardized row and
records the mean and the standard deviation of the normalized row under layer
norm and under an RMSNorm forward (the student's or the reference). With
``eps = 0`` both are exact: layer norm gives mean 0 and std 1 for every ``c``;
RMSNorm gives mean ``c / sqrt(1 + c**2)`` and std ``1 / sqrt(1 + c**2)``
(``mean(x**2) = 1 + c**2`` for a row of mean ``c`` and std 1), so a large
offset squeezes the row toward the constant ``sign(c)``.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from .. import norms
from ..plots.style import condition_color

__all__ = ["offset_sweep", "rmsnorm_offset_formula", "plot_offset_sweep"]


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
