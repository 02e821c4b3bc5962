"""Checks of assignment 07_beyond_batchnorm: normalize_backward, rmsnorm_forward, rmsnorm_backward.

* ``normalize_backward(dx_hat, x_hat, inv_std, axes) -> dx``: the gradient
  through ``x_hat = (x - mean) * inv_std`` with the statistics over ``axes``
  (``inv_std`` keeps size 1 along them). The check calls it the way layer,
  spatial batch, instance and group norm would, and (hidden) compares the four
  wrappers built on it with numerical gradients of the reference forwards.
* ``rmsnorm_forward(x, gamma, eps) -> (out, cache)`` and
  ``rmsnorm_backward(dout, cache) -> (dx, dgamma)``: RMSNorm over the last
  axis; the backward is handed the reference's
  :class:`bn_helpers.rmsnorm.RMSNormCache`.

When an answer is wrong, it is compared with known wrong versions (the
``- mean(dx_hat)`` or the ``- x_hat * mean(dx_hat * x_hat)`` term left out, sums
over the wrong axes, RMSNorm subtracting the mean, eps outside the root,
dgamma summed over the wrong axes, ...) to name the likely mistake.
"""
from __future__ import annotations

import os
from typing import Callable

import numpy as np
from numpy.typing import NDArray

from .. import norms, rmsnorm
from ..gradcheck import numerical_gradient
from ._common import REFERENCE_FILES, call, expect_dtype, hidden_rng, watch_reference
from .._validate import check_named
from ._messages import Cases, closest, worst
from ._messages import call as _call_with_hint

__all__ = ["normalize_backward", "rmsnorm_forward", "rmsnorm_backward"]

#: Reference code a graded function of 07 must not call (the course's, plus the RMSNorm reference).
FORBIDDEN = REFERENCE_FILES | {os.path.abspath(rmsnorm.__file__)}

_F64 = np.float64


def _own_code(fn: Callable, name: str, *args) -> None:
    with watch_reference(FORBIDDEN) as seen:
        call(fn, name, *args)
    if seen:
        raise AssertionError(
            f"{name} calls bn_helpers' reference code ({', '.join(sorted(set(seen)))}). "
            "The exercise is to write it yourself with NumPy.")


def _tolerance(dtype) -> float:
    return 2e-4 if np.dtype(dtype) == np.float32 else 1e-7


def _close(got: NDArray, want: NDArray, rtol: float) -> bool:
    scale = float(np.abs(want).max(initial=0.0))
    return got.shape == want.shape and bool(np.allclose(got.astype(_F64), want, rtol=rtol, atol=rtol * scale + 1e-12))


def _as_array(value, name: str, what: str) -> NDArray:
    if not isinstance(value, (np.ndarray, np.generic, float, int, list)):
        raise AssertionError(f"{name} must return {what} as a NumPy array; got {type(value).__name__}")
    return np.asarray(value)


# --------------------------------------------------------------------------
# normalize_backward
# --------------------------------------------------------------------------

_KEEPDIMS_HINT = ("The sums over `axes` must keep those axes as size-1 dimensions "
                  "(np.sum(..., axis=axes, keepdims=True)) so that they broadcast back against x_hat; "
                  "and `axes` is a tuple: np.sum accepts it directly.")


def _nb(g, x_hat, inv_std, axes, mean_term=1.0, var_term=1.0, m=None, scale=True):
    """inv_std * (g - a * sum(g)/m - b * x_hat * sum(g x_hat)/m), the sums over ``axes`` (keepdims)."""
    if m is None:
        m = int(np.prod([x_hat.shape[a] for a in axes])) if axes is not None else x_hat.size
    s1 = np.sum(g, axis=axes, keepdims=True) / m
    s2 = np.sum(g * x_hat, axis=axes, keepdims=True) / m
    out = g - mean_term * s1 - var_term * x_hat * s2
    return inv_std * out if scale else out


def _nb_reference(g, x_hat, inv_std, axes):
    return _nb(g, x_hat, inv_std, axes)


def _nb_mistakes(g, x_hat, inv_std, axes) -> list:
    nd = x_hat.ndim
    other = tuple(a for a in range(nd) if a not in axes)
    m = int(np.prod([x_hat.shape[a] for a in axes]))
    return [
        ("You left out the mean term, - mean(dx_hat) over `axes`: the mean depends on every x in the group, so "
         "each dx also gets - inv_std * sum(dx_hat) / M.", lambda: _nb(g, x_hat, inv_std, axes, mean_term=0.0)),
        ("You left out the x_hat term, - x_hat * mean(dx_hat * x_hat) over `axes`: the variance depends on every "
         "x in the group, and that path brings it.", lambda: _nb(g, x_hat, inv_std, axes, var_term=0.0)),
        ("You left out both the mean and the x_hat term: dx = inv_std * dx_hat treats mean and variance as "
         "constants, but they depend on every x of the group.",
         lambda: _nb(g, x_hat, inv_std, axes, mean_term=0.0, var_term=0.0)),
        ("The mean term has the wrong sign: x enters as x - mean, so dx gets MINUS inv_std * mean(dx_hat).",
         lambda: _nb(g, x_hat, inv_std, axes, mean_term=-1.0)),
        ("The x_hat term has the wrong sign: it is MINUS inv_std * x_hat * mean(dx_hat * x_hat).",
         lambda: _nb(g, x_hat, inv_std, axes, var_term=-1.0)),
        ("You summed where the formula has means: divide both sums over `axes` by M, the number of values in "
         "one group (the product of x_hat.shape[a] for a in axes).",
         lambda: _nb(g, x_hat, inv_std, axes, m=1)),
        ("M is wrong: you divided by M - 1 (as in the unbiased variance). The forward's statistics are means "
         "over the group, so both terms divide by M itself, the product of x_hat.shape[a] for a in axes.",
         lambda: _nb(g, x_hat, inv_std, axes, m=m - 1) if m > 1 else None),
        ("M is wrong: you divided by x_hat.shape[0], the batch size. M is the number of values averaged in one "
         "group: the product of x_hat.shape[a] for a in axes.",
         lambda: _nb(g, x_hat, inv_std, axes, m=x_hat.shape[0])),
        ("M is wrong: you divided by x_hat.size, every value of the array. M is the number of values averaged in "
         "one group: the product of x_hat.shape[a] for a in axes.",
         lambda: _nb(g, x_hat, inv_std, axes, m=x_hat.size)),
        ("M is wrong: you used the size of the first axis in `axes` only. M is the product of x_hat.shape[a] "
         "over ALL the axes in `axes`.", lambda: _nb(g, x_hat, inv_std, axes, m=x_hat.shape[axes[0]])),
        ("Your sums run over the wrong axes: the other axes (those NOT in `axes`). The statistics were taken "
         "over `axes`, so their gradients sum over `axes`.",
         lambda: _nb(g, x_hat, inv_std, other) if other else None),
        ("Your sums run over axis 0 only, as in batch norm. Here the statistics were taken over `axes`, "
         "whatever they are: sum over `axes`.", lambda: _nb(g, x_hat, inv_std, (0,))),
        ("Your sums run over the whole array (axis=None). Sum over `axes` only: one group per entry of the "
         "other axes.", lambda: _nb(g, x_hat, inv_std, None)),
        ("Your sums run over the last axis only. Sum over every axis in `axes`.",
         lambda: _nb(g, x_hat, inv_std, (nd - 1,))),
        ("dx lacks the factor inv_std: every path into x goes through x_hat = (x - mean) * inv_std.",
         lambda: _nb(g, x_hat, inv_std, axes, scale=False)),
        ("You multiplied by inv_std twice (inv_std**2): x_hat already holds one division by the std.",
         lambda: inv_std * _nb(g, x_hat, inv_std, axes)),
    ]


def _nb_fallback(got, want, x_hat, axes, tol) -> str:
    scale = float(np.abs(want).max(initial=0.0)) * max(1, x_hat.size) + 1e-12
    mean_err = float(np.abs(np.sum(got - want, axis=axes)).max(initial=0.0)) / scale
    orth_err = float(np.abs(np.sum((got - want) * x_hat, axis=axes)).max(initial=0.0)) / scale
    if mean_err > tol:
        return ("wrong dx. A right dx sums to zero over `axes` in every group (the mean was subtracted); yours "
                "does not: check the - mean(dx_hat) term and the axes it runs over.")
    if orth_err > tol:
        return ("wrong dx. A right dx is orthogonal to x_hat over `axes` (up to eps); yours is not: check the "
                "- x_hat * mean(dx_hat * x_hat) term.")
    return ("wrong dx. Check each term of dx = inv_std * (dx_hat - mean(dx_hat) - x_hat * mean(dx_hat * x_hat)), "
            "the means over `axes`, on a small case by hand.")


def _nb_case(kind, x, axes_view, view, eps, seed, rng=None):
    """(label, dx_hat, x_hat, inv_std, axes) as the wrapper of ``kind`` would call normalize_backward."""
    rng = rng or np.random.default_rng(seed)
    xv = x.reshape(view)
    mean = xv.astype(_F64).mean(axis=axes_view, keepdims=True)
    var = xv.astype(_F64).var(axis=axes_view, keepdims=True)
    inv_std = 1.0 / np.sqrt(var + eps)
    x_hat = (xv - mean) * inv_std
    dx_hat = rng.standard_normal(xv.shape)
    dt = x.dtype
    return (f"{kind}, x_hat of shape {xv.shape}, axes={axes_view}, {np.dtype(dt).name}",
            dx_hat.astype(dt), x_hat.astype(dt), inv_std.astype(dt), tuple(axes_view))


def _nb_cases(hidden: bool):
    rng = np.random.default_rng(12)
    cases = [
        _nb_case("layer norm", rng.normal(1, 2, (6, 5)), (1,), (6, 5), 1e-5, 1),
        _nb_case("spatial batch norm", rng.normal(-1, 3, (4, 3, 2, 2)), (0, 2, 3), (4, 3, 2, 2), 1e-5, 2),
        _nb_case("layer norm", rng.normal(0.5, 2, (5, 4)).astype(np.float32), (1,), (5, 4), 1e-5, 7),
    ]
    if hidden:
        rng = hidden_rng(12)
        cases.append(_nb_case("instance norm", rng.normal(0, 1, (3, 4, 3, 2)), (2, 3), (3, 4, 3, 2), 1e-5, 3, rng))
        cases.append(_nb_case("group norm (G=2)", rng.normal(2, 1, (2, 4, 3, 3)), (2, 3, 4), (2, 2, 2, 3, 3),
                              1e-5, 4, rng))
        cases.append(_nb_case("layer norm on tokens", rng.normal(0, 2, (2, 3, 7)), (2,), (2, 3, 7), 1e-5, 5, rng))
        cases.append(_nb_case("layer norm, eps = 0.5", 0.3 * rng.normal(0, 1, (5, 4)), (1,), (5, 4), 0.5, 6, rng))
        for k in range(6):
            dtype = np.float32 if k % 2 else np.float64
            n, c, h, w = (int(v) for v in rng.integers(2, 6, 4))
            choice = k % 3
            x = rng.normal(rng.normal(0, 3), rng.uniform(0.3, 4), (n, c, h, w)).astype(dtype)
            if choice == 0:
                cases.append(_nb_case("random spatial batch norm", x, (0, 2, 3), x.shape, 1e-5, 10 + k, rng))
            elif choice == 1:
                cases.append(_nb_case("random layer norm", x, (1, 2, 3), x.shape, 1e-5, 10 + k, rng))
            else:
                cases.append(_nb_case("random instance norm", x, (2, 3), x.shape, 1e-5, 10 + k, rng))
    return cases


def _nb_check_case(fn, name, label, dx_hat, x_hat, inv_std, axes):
    try:
        result = call(fn, name, dx_hat.copy(), x_hat.copy(), inv_std.copy(), axes,
                      names=("dx_hat", "x_hat", "inv_std", "axes"))
    except AssertionError as exc:
        cause = exc.__cause__
        if cause is not None and isinstance(cause, (ValueError, IndexError, TypeError)):
            raise AssertionError(f"{name} raised {type(cause).__name__}: {cause}\n  on {label}. {_KEEPDIMS_HINT}") \
                from cause
        raise
    dx = _as_array(result, name, "dx")
    g, xh, s = (a.astype(_F64) for a in (dx_hat, x_hat, inv_std))
    want = _nb_reference(g, xh, s, axes)
    if dx.shape != want.shape:
        raise AssertionError(
            f"{name}: dx has shape {dx.shape}; it must have the shape of x_hat, {want.shape} ({label}). "
            f"{_KEEPDIMS_HINT}")
    expect_dtype(dx, x_hat.dtype, name, "dx")
    rtol = _tolerance(x_hat.dtype)
    if _close(dx, want, rtol):
        return
    got = dx.astype(_F64)
    message = closest(got, [(m, c) for m, c in _nb_mistakes(g, xh, s, axes)], tol=max(1e-4, 10 * rtol))
    if message is None:
        message = _nb_fallback(got, want, xh, axes, max(1e-6, 10 * rtol))
    raise AssertionError(f"{name}: {message}\n  {label}: dx {worst(got, want)}")


def _wrappers(fn, name="normalize_backward"):
    """Layer, spatial batch, instance and group norm backward built on the student's ``fn``, as the notebook gives them.

    ``fn`` is called through :func:`call` (time budget, nothing changed in place).
    """

    def make(view_of, axes_of):
        def backward(dout, cache):
            x = cache.x
            not_channel = (0,) + tuple(range(2, x.ndim))
            shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
            dbeta = dout.sum(axis=not_channel)
            dgamma = (dout * cache.x_hat).sum(axis=not_channel)
            view, axes = view_of(x), axes_of(x)
            dx_hat = (dout * cache.gamma.reshape(shape)).reshape(view)
            inv_std = np.expand_dims(cache.inv_std, axes)
            dx = call(fn, name, dx_hat, cache.x_hat.reshape(view), inv_std, axes,
                      names=("dx_hat", "x_hat", "inv_std", "axes"))
            return np.asarray(dx).reshape(x.shape), dgamma, dbeta
        return backward

    same = lambda x: x.shape  # noqa: E731
    return {
        "layer norm": (norms.layernorm_forward, make(same, lambda x: tuple(range(1, x.ndim))), (3, 4, 2, 2), {}),
        "spatial batch norm": (norms.spatial_batchnorm_forward, make(same, lambda x: (0, 2, 3)), (3, 2, 2, 3), {}),
        "instance norm": (norms.instancenorm_forward, make(same, lambda x: (2, 3)), (2, 3, 2, 3), {}),
        "group norm": (norms.groupnorm_forward,
                       make(lambda x: (x.shape[0], 2, x.shape[1] // 2) + x.shape[2:], lambda x: (2, 3, 4)),
                       (2, 4, 2, 2), {"G": 2}),
    }


def _nb_gradient_check(fn, name):
    rng = hidden_rng(21)
    for kind, (forward, backward, shape, extra) in _wrappers(fn, name).items():
        x = rng.normal(0.5, 1.5, shape)
        c = shape[1]
        gamma, beta, dout = rng.uniform(0.5, 2, c), rng.normal(0, 1, c), rng.standard_normal(shape)
        _, cache = forward(x, gamma, beta, **extra)
        try:
            dx, dgamma, dbeta = backward(dout, cache)
        except AssertionError as failure:  # a check's verdict from inside (out of time, in place): as it is
            exc = failure.__cause__
            if exc is None:
                raise
            raise AssertionError(f"{name}, used by the {kind} backward, raised {type(exc).__name__}: {exc}. "
                                 f"{_KEEPDIMS_HINT}") from exc
        except Exception as exc:  # the wrapper's own reshape of a dx of the wrong size
            raise AssertionError(f"{name}, used by the {kind} backward, gave a dx it could not reshape "
                                 f"({type(exc).__name__}: {exc}). {_KEEPDIMS_HINT}") from exc
        numeric = numerical_gradient(lambda v: forward(v, gamma, beta, **extra)[0], x, dout)
        err = float(np.abs(dx - numeric).max() / (np.abs(numeric).max() + 1e-12))
        if not np.all(np.isfinite(dx)) or err > 1e-6:
            raise AssertionError(
                f"{name}: the {kind} backward built on it fails the numerical gradient check (max error "
                f"{err:.1e} relative to the largest entry, x of shape {shape}, random dout). Compare with "
                "bn_helpers.gradcheck.numerical_gradient on a small case.")


def normalize_backward(fn: Callable, hidden: bool = False) -> None:
    """Check ``fn(dx_hat, x_hat, inv_std, axes) -> dx`` against the compact backward over ``axes``.

    Cases: layer norm on (6, 5), axes (1,); spatial batch norm on (4, 3, 2, 2),
    axes (0, 2, 3); layer norm on float32 (5, 4) (dtype kept). ``hidden=True`` adds instance norm, group norm on the
    (N, G, C/G, H, W) view, layer norm on (B, T, D) tokens, a large eps, random
    shapes in float32 and float64 (dtype kept), the layer, spatial batch,
    instance and group norm backward built on ``fn`` against numerical
    gradients of the reference forwards, and a check that no reference code is
    called.

    Raises
    ------
    AssertionError
        Naming the likely mistake: the mean term or the x_hat term left out
        or with the wrong sign, sums instead of means, a wrong M (M - 1, the
        batch size, the whole array, one axis), sums over the wrong axes (the other
        axes, axis 0 only, the whole array, the last axis), inv_std missing
        or twice, sums without keepdims, an input changed in place, a dtype
        not kept.
    """
    name = "normalize_backward"
    passed = Cases(name)
    cases = _nb_cases(hidden)
    for label, dx_hat, x_hat, inv_std, axes in cases:
        _nb_check_case(fn, name, label, dx_hat, x_hat, inv_std, axes)
        passed.add(label.split(",")[0])
    if hidden:
        _nb_gradient_check(fn, name)
        passed.add("four wrappers against numerical gradients")
        _, dx_hat, x_hat, inv_std, axes = cases[0]
        _own_code(fn, name, dx_hat.copy(), x_hat.copy(), inv_std.copy(), axes)
        passed.add("own code")
    passed.passed()


# --------------------------------------------------------------------------
# rmsnorm_forward
# --------------------------------------------------------------------------

_RMS_HINT = ("Check the shapes: x is (..., D), gamma (D,); statistics per row are over the last axis, "
             "axis=-1 with keepdims=True, shape (..., 1). Read the cache by its fields: cache.x_hat, cache.inv_rms, "
             "cache.gamma.")


def _rms_out(x, gamma, eps, axis=-1, center=False, eps_outside=False, root=True, use_gamma=True, mean=True, ddof=0):
    x = np.asarray(x, _F64)
    gamma = np.asarray(gamma, _F64)
    if center:
        x = x - x.mean(axis=axis, keepdims=True)
    count = x.size if axis is None else x.shape[axis]
    if ddof and count <= ddof:
        return None
    ms = np.sum(x * x, axis=axis, keepdims=True) / ((count - ddof) if mean else 1)
    if eps_outside:
        denom = np.sqrt(ms) + eps
    elif root:
        denom = np.sqrt(ms + eps)
    else:
        denom = ms + eps
    return x / denom * (gamma if use_gamma else 1.0)


def _rms_out_mistakes(x, gamma, eps) -> list:
    x64 = np.asarray(x, _F64)
    return [
        ("You subtracted the mean: that is layer norm (without beta). RMSNorm does not re-center: "
         "out = gamma * x / sqrt(mean(x**2) + eps), x itself, not x - mean.",
         lambda: _rms_out(x, gamma, eps, center=True)),
        ("You divided by the standard deviation, sqrt(var + eps), without subtracting the mean. RMSNorm divides "
         "by the root mean SQUARE of x: sqrt(mean(x**2) + eps), where the mean is not removed.",
         lambda: x64 / np.sqrt(x64.var(axis=-1, keepdims=True) + eps) * gamma),
        ("eps sits outside the square root: you divided by sqrt(mean(x**2)) + eps. The convention (PyTorch's "
         "rms_norm, this course) is sqrt(mean(x**2) + eps).", lambda: _rms_out(x, gamma, eps, eps_outside=True)),
        ("You ignored eps: divide by sqrt(mean(x**2) + eps).", lambda: _rms_out(x, gamma, 0.0)),
        ("You divided by the mean square, without the square root: RMS = sqrt(mean(x**2) + eps).",
         lambda: _rms_out(x, gamma, eps, root=False)),
        ("You used the sum of squares where RMSNorm has their MEAN over the D features: "
         "sqrt(mean(x**2) + eps).", lambda: _rms_out(x, gamma, eps, mean=False)),
        ("You divided the sum of squares by D - 1: RMSNorm takes the MEAN of x**2 over the D features, "
         "sum(x**2) / D, as np.mean(x**2, axis=-1) does.", lambda: _rms_out(x, gamma, eps, ddof=1)),
        ("Your statistics run over axis 1, which is the last axis only for 2-D input: for (B, T, D) tokens it "
         "is T. RMSNorm normalizes over the features, the LAST axis: axis=-1, keepdims=True.",
         lambda: _rms_out(x, gamma, eps, axis=1) if x64.ndim > 2 else None),
        ("Your statistics run over axis 0 (the batch), as in batch norm. RMSNorm normalizes each row over its "
         "features: the LAST axis, axis=-1.", lambda: _rms_out(x, gamma, eps, axis=0)),
        ("Your statistics run over the whole array. RMSNorm normalizes each row on its own, over the last "
         "axis (axis=-1, keepdims=True).", lambda: _rms_out(x, gamma, eps, axis=None)),
        ("You forgot gamma: out = gamma * x_hat.", lambda: _rms_out(x, gamma, eps, use_gamma=False)),
        ("You divided by gamma: out = gamma * x / sqrt(mean(x**2) + eps).",
         lambda: _rms_out(x, gamma, eps, use_gamma=False) / np.asarray(gamma, _F64)),
    ]


def _rms_cases(hidden: bool):
    rng = np.random.default_rng(19)
    cases = [("random (4, 6)", rng.normal(0.5, 2, (4, 6)), rng.uniform(0.5, 2, 6), 1e-5),
             ("tokens (2, 3, 5) with eps = 0.5", 0.5 * rng.normal(0, 1, (2, 3, 5)), rng.uniform(0.5, 2, 5), 0.5)]
    f32 = np.float32
    cases.append(("float32 tokens (3, 2, 4)", rng.normal(1, 2, (3, 2, 4)).astype(f32), rng.uniform(0.5, 2, 4).astype(f32),
                  1e-5))
    if hidden:
        rng = hidden_rng(19)
        for k in range(6):
            dtype = np.float32 if k % 2 else np.float64
            shape = tuple(int(v) for v in rng.integers(1, 6, int(rng.integers(1, 5))))
            if shape[-1] < 2:
                shape = shape[:-1] + (3,)
            x = rng.normal(rng.normal(0, 2), rng.uniform(0.3, 4), shape).astype(dtype)
            cases.append(("random shape", x, rng.uniform(0.5, 2, shape[-1]).astype(dtype), 1e-5))
        shape = (int(rng.integers(6, 10)), int(rng.integers(8, 17)), int(rng.integers(8, 17)))  # always a large one
        x = rng.normal(rng.normal(0, 2), rng.uniform(0.3, 4), shape)
        cases.append(("random tokens", x, rng.uniform(0.5, 2, shape[-1]), 1e-5))
        zero = np.zeros((3, 4))
        zero[1] = [1.0, -2.0, 3.0, 0.5]
        cases.append(("a row of zeros (eps keeps it finite)", zero, np.array([1.0, 2.0, 0.5, 1.5]), 1e-5))
        cases.append(("one feature (D = 1)", np.array([[2.0], [-0.5], [3.0]]), np.array([1.5]), 1e-5))
    return cases


#: How many of :func:`_rms_cases`' cases are visible (the rest are hidden and drawn through ``hidden_rng``).
_VISIBLE_RMS = 3


def _read(cache, field):
    if isinstance(cache, dict):
        return cache.get(field)
    return getattr(cache, field, None)


def rmsnorm_forward(fn: Callable, hidden: bool = False) -> None:
    """Check ``fn(x, gamma, eps) -> (out, cache)``: RMSNorm over the last axis.

    ``out`` must equal ``gamma * x / sqrt(mean(x**2, axis=-1) + eps)``; the cache
    must hold ``x_hat`` and ``inv_rms`` (shape (..., 1), as the exercise states) with
    those values. Cases: (4, 6); (2, 3, 5) tokens with eps=0.5; float32 tokens (3, 2, 4)
    (dtype kept). ``hidden=True``
    adds random shapes of 1 to 4 axes in float32 and float64 (dtype kept), a
    row of zeros, D = 1, and a check that no reference code is called.

    Raises
    ------
    AssertionError
        Naming the likely mistake: the mean subtracted (layer norm), the std
        instead of the RMS, eps outside the root or ignored, no root, a sum
        instead of a mean or a divisor D - 1, the wrong axis (batch, axis 1 of
        tokens, whole array), gamma forgotten or divided by, a cache without
        ``x_hat``/``inv_rms`` or without field names, ``inv_rms`` of shape
        (...,), an input changed in place, a dtype not kept.
    """
    name = "rmsnorm_forward"
    passed = Cases(name)
    cases = _rms_cases(hidden)
    for label, x, gamma, eps in cases:
        result = _call_with_hint(fn, name, x.copy(), gamma.copy(), eps, hint=_RMS_HINT, names=("x", "gamma", "eps"))
        if not (isinstance(result, (tuple, list)) and len(result) == 2):
            raise AssertionError(f"{name} must return a pair (out, cache); got {type(result).__name__}"
                                 + (f" of length {len(result)}" if isinstance(result, (tuple, list)) else ""))
        out = _as_array(result[0], name, "out")
        want_cache = rmsnorm.rmsnorm_forward(x, gamma, eps)[1]
        want = _rms_out(x, gamma, eps)  # float64 whatever the dtype of x
        where = f"{label} (x of shape {x.shape}, {x.dtype}, eps={eps:g})"
        if out.shape != x.shape:
            raise AssertionError(f"{name}: out has shape {out.shape}; it must have the shape of x, {x.shape} "
                                 f"({where}). Keep the last axis with keepdims=True in the mean of x**2.")
        expect_dtype(out, x.dtype, name, "out")
        rtol = _tolerance(x.dtype)
        if not _close(out, want, rtol):
            got = out.astype(_F64)
            message = closest(got, _rms_out_mistakes(x, gamma, eps), tol=max(1e-4, 10 * rtol))
            if message is None:
                message = "wrong out: out = gamma * x / sqrt(mean(x**2, axis=-1, keepdims=True) + eps)."
            raise AssertionError(f"{name}: {message}\n  {where}: out {worst(got, want)}")
        cache = result[1]
        try:
            check_named(cache, cache_type="RMSNormCache")
        except TypeError as exc:
            raise AssertionError(f"{name}: {exc}. Return RMSNormCache(x, x_hat, inv_rms, gamma, eps), as the "
                                 "notebook's setup cell defines it: the backward reads its fields by name.") from None
        for field, ref in (("x_hat", want_cache.x_hat), ("inv_rms", want_cache.inv_rms)):
            value = _read(cache, field)
            if value is None:
                raise AssertionError(
                    f"{name}: the cache has no field `{field}`. Return RMSNormCache(x, x_hat, inv_rms, gamma, eps), "
                    "as the notebook's setup cell defines it: the backward reads cache.x_hat and cache.inv_rms.")
            value = np.asarray(value, _F64)
            ref = np.asarray(ref, _F64)
            if field == "inv_rms" and value.shape != ref.shape:
                hint = (" You dropped the last axis: keep it with keepdims=True" if value.shape == ref.shape[:-1] else "")
                raise AssertionError(
                    f"{name}: cache.inv_rms has shape {value.shape}; it must have shape {ref.shape}, (..., 1), as the "
                    f"exercise states, so that it broadcasts against x (the backward multiplies by it).{hint} "
                    f"({where}).")
            if value.size != ref.size or not np.allclose(value.reshape(ref.shape), ref, rtol=10 * rtol,
                                                          atol=10 * rtol * np.abs(ref).max(initial=0.0)):
                raise AssertionError(
                    f"{name}: out is right but cache.{field} is not ({where}): x_hat = x * inv_rms with "
                    "inv_rms = 1 / sqrt(mean(x**2, axis=-1, keepdims=True) + eps)"
                    + (f"; got shape {value.shape}, expected {ref.shape}" if value.size != ref.size else "") + ".")
        passed.add(label)
    if hidden:
        _, x, gamma, eps = cases[0]
        _own_code(fn, name, x.copy(), gamma.copy(), eps)
        passed.add("own code")
    passed.passed()


# --------------------------------------------------------------------------
# rmsnorm_backward
# --------------------------------------------------------------------------

def _rms_grads(dout, cache, rms_path=True, mean_term=False, sign=1.0, divide=True, use_gamma=True, axis=-1,
               scale=True, n=None):
    d = np.asarray(dout, _F64)
    x_hat = np.asarray(cache.x_hat, _F64)
    inv = np.asarray(cache.inv_rms, _F64)
    g = d * np.asarray(cache.gamma, _F64) if use_gamma else d
    n = n if n is not None else x_hat.shape[axis] if divide else 1
    out = g.copy()
    if rms_path:
        out = out - sign * x_hat * np.sum(g * x_hat, axis=axis, keepdims=True) / n
    if mean_term:
        out = out - np.sum(g, axis=axis, keepdims=True) / n
    return inv * out if scale else out


def _rms_dx_mistakes(dout, cache) -> list:
    return [
        ("You left out the path through the RMS: dx = dout * gamma * inv_rms treats the RMS as a constant, but "
         "it depends on every feature of the row. Add - inv_rms * x_hat * mean(dx_hat * x_hat) over the last axis.",
         lambda: _rms_grads(dout, cache, rms_path=False)),
        ("You used the layer-norm backward, with its - mean(dx_hat) term. That term comes from the mean, and "
         "RMSNorm subtracts no mean: dx = inv_rms * (dx_hat - x_hat * mean(dx_hat * x_hat)).",
         lambda: _rms_grads(dout, cache, mean_term=True)),
        ("The RMS term has the wrong sign: d(inv_rms)/dx is negative, so dx gets MINUS "
         "inv_rms * x_hat * mean(dx_hat * x_hat).", lambda: _rms_grads(dout, cache, sign=-1.0)),
        ("You summed where the formula has a mean: divide sum(dx_hat * x_hat) over the last axis by D.",
         lambda: _rms_grads(dout, cache, divide=False)),
        ("You forgot gamma in dx: out = gamma * x_hat, so dx_hat = dout * gamma before going further back.",
         lambda: _rms_grads(dout, cache, use_gamma=False)),
        ("You took D from x.shape[0], the number of rows: D is the number of features, x.shape[-1] (the mean in "
         "the RMS term runs over the last axis).", lambda: _rms_grads(dout, cache, n=np.shape(dout)[0])
         if np.shape(dout)[0] != np.shape(dout)[-1] else None),
        ("Your sum in the RMS term runs over axis 0 (the batch). Each row has its own RMS: sum over the last "
         "axis, keepdims=True.", lambda: _rms_grads(dout, cache, axis=0)),
        ("dx lacks the factor inv_rms: every path into x goes through x_hat = x * inv_rms.",
         lambda: _rms_grads(dout, cache, scale=False)),
    ]


def _rms_dgamma(dout, cache):
    d = np.asarray(dout, _F64)
    x_hat = np.asarray(cache.x_hat, _F64)
    return (d * x_hat).reshape(-1, x_hat.shape[-1]).sum(axis=0)


def _rms_dgamma_mistakes(dout, cache) -> list:
    d = np.asarray(dout, _F64).reshape(-1, np.shape(dout)[-1])
    x_hat = np.asarray(cache.x_hat, _F64).reshape(d.shape)
    return [
        ("dgamma is the MEAN of dout * x_hat; gradients of a parameter shared by every row add up: "
         "sum over every axis but the last.", lambda: (d * x_hat).mean(axis=0)),
        ("dgamma without x_hat: out = gamma * x_hat, so dgamma = sum(dout * x_hat) over every axis but the last.",
         lambda: d.sum(axis=0)),
        ("dgamma uses x instead of x_hat: out = gamma * x_hat, so dgamma = sum(dout * x_hat).",
         lambda: (d * np.asarray(cache.x, _F64).reshape(d.shape)).sum(axis=0)),
        ("dgamma is multiplied by gamma: dgamma = sum(dout * x_hat), no gamma in it.",
         lambda: (d * x_hat).sum(axis=0) * np.asarray(cache.gamma, _F64)),
    ]


def _rms_backward_cases(hidden: bool):
    out = []
    salted = hidden_rng(40)
    for label, x, gamma, eps in _rms_cases(hidden):
        _, cache = rmsnorm.rmsnorm_forward(x, gamma, eps)
        rng = np.random.default_rng(len(out) + 40) if len(out) < _VISIBLE_RMS else salted
        dout = rng.standard_normal(x.shape).astype(x.dtype)
        out.append((label, dout, cache))
    return out


def _copy_rms_cache(cache):
    return rmsnorm.RMSNormCache(*(np.array(v, copy=True) if isinstance(v, np.ndarray) else v for v in cache))


def rmsnorm_backward(fn: Callable, hidden: bool = False) -> None:
    """Check ``fn(dout, cache) -> (dx, dgamma)`` with the reference's ``RMSNormCache``.

    Cases: (4, 6); (2, 3, 5) tokens with eps=0.5 (dgamma sums over the first
    two axes); float32 tokens (3, 2, 4) (dtype kept). ``hidden=True`` adds random shapes of 1 to 4 axes in float32 and
    float64 (dtype kept), a row of zeros, D = 1, numerical gradients through
    the reference forward, and a check that no reference code is called.

    Raises
    ------
    AssertionError
        Naming the likely mistake: the path through the RMS left out, the
        layer-norm backward (a - mean(dx_hat) term), the wrong sign, a sum
        instead of a mean, D taken from x.shape[0], gamma forgotten, the sum over axis 0, inv_rms
        missing; dgamma summed over the wrong axes (its shape), as a mean,
        without x_hat, with x or times gamma; inputs changed in place.
    """
    name = "rmsnorm_backward"
    passed = Cases(name)
    cases = _rms_backward_cases(hidden)
    for label, dout, cache in cases:
        result = _call_with_hint(fn, name, dout.copy(), _copy_rms_cache(cache), hint=_RMS_HINT, names=("dout", "cache"))
        if not (isinstance(result, (tuple, list)) and len(result) == 2):
            raise AssertionError(f"{name} must return a pair (dx, dgamma); got {type(result).__name__}"
                                 + (f" of length {len(result)}" if isinstance(result, (tuple, list)) else ""))
        dx, dgamma = _as_array(result[0], name, "dx"), _as_array(result[1], name, "dgamma")
        x = cache.x
        D = x.shape[-1]
        where = f"{label} (x of shape {x.shape}, {x.dtype}, eps={cache.eps:g})"
        if dx.shape != x.shape:
            raise AssertionError(f"{name}: dx has shape {dx.shape}; it must have the shape of x, {x.shape} ({where}). "
                                 "Keep the last axis in the mean (keepdims=True).")
        if dgamma.shape != (D,):
            hint = ("you summed over axis 0 only: with more than two axes, gamma is shared by every row of every "
                    "leading axis, so sum over ALL axes but the last (e.g. reshape to (-1, D) and sum axis 0)"
                    if dgamma.shape == x.shape[1:] and x.ndim > 2 else
                    "you summed over the last axis (the features): sum over every OTHER axis, one value per feature"
                    if dgamma.shape == x.shape[:-1] else "one value per feature, summed over every axis but the last")
            raise AssertionError(f"{name}: dgamma has shape {dgamma.shape}; expected ({D},): {hint} ({where}).")
        for got, lab in ((dx, "dx"), (dgamma, "dgamma")):
            expect_dtype(got, x.dtype, name, lab)
        rtol = 10 * _tolerance(x.dtype)
        for got, want, lab, mistakes in ((dx, _rms_grads(dout, cache), "dx", _rms_dx_mistakes),
                                         (dgamma, _rms_dgamma(dout, cache), "dgamma", _rms_dgamma_mistakes)):
            if _close(got, want, rtol):
                continue
            got64 = got.astype(_F64)
            message = closest(got64, mistakes(dout, cache), tol=max(1e-4, 10 * rtol))
            if message is None:
                message = ("wrong dx: dx = inv_rms * (dx_hat - x_hat * mean(dx_hat * x_hat, axis=-1, keepdims=True)) "
                           "with dx_hat = dout * gamma" if lab == "dx" else
                           "wrong dgamma: dgamma = sum(dout * x_hat) over every axis but the last")
            raise AssertionError(f"{name}: {message}\n  {where}: {lab} {worst(got64, want)}")
        passed.add(label)
    if hidden:
        rng = hidden_rng(23)
        for shape in ((4, 5), (2, 3, 4)):
            x = rng.normal(0.3, 1.5, shape)
            gamma, dout = rng.uniform(0.5, 2, shape[-1]), rng.standard_normal(shape)
            _, cache = rmsnorm.rmsnorm_forward(x, gamma)
            dx, dgamma = (np.asarray(v, _F64) for v in call(fn, name, dout.copy(), _copy_rms_cache(cache),
                                                            names=("dout", "cache")))
            num_dx = numerical_gradient(lambda v: rmsnorm.rmsnorm_forward(v, gamma)[0], x, dout)
            num_dg = numerical_gradient(lambda g: rmsnorm.rmsnorm_forward(x, g)[0], gamma, dout)
            for lab, got, num in (("dx", dx, num_dx), ("dgamma", dgamma, num_dg)):
                err = float(np.abs(got - num).max() / (np.abs(num).max() + 1e-12)) if got.shape == num.shape else np.inf
                if not err <= 1e-6:
                    raise AssertionError(f"{name}: {lab} fails the numerical gradient check (max error {err:.1e} "
                                         f"relative to the largest entry, x of shape {shape}, random dout).")
        passed.add("numerical gradients")
        _, dout, cache = cases[0]
        _own_code(fn, name, dout.copy(), _copy_rms_cache(cache))
        passed.add("own code")
    passed.passed()
