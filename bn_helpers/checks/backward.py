"""Checks of assignment 03_backward: batchnorm_backward (staged) and batchnorm_backward_compact.

Both functions take ``(dout, cache)`` where ``cache`` is the
:class:`bn_helpers.numerics.BatchNormCache` that the reference forward
returns, and give ``(dx, dgamma, dbeta)``. The checks compare with the
reference gradients and, when they differ, with known wrong backward passes
(the mean path or the variance path left out, dgamma without x_hat, sums over
the wrong axis, ...) to name the likely mistake. They also hand the function
a cache of another layout (same field names, another order) to catch code
that reads the cache by position.
"""
from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np
from numpy.typing import NDArray

from .. import numerics
from ..gradcheck import numerical_gradient, rel_error
from ._common import TIME_BUDGET, _OutOfTime, own_code, time_limit

__all__ = ["batchnorm_backward", "batchnorm_backward_compact"]

FIELDS = "cache.x, cache.x_hat, cache.mean, cache.var, cache.inv_std, cache.gamma, cache.beta, cache.eps"


class ReorderedCache(NamedTuple):
    """A cache with BatchNormCache's field names in another order: reading it by position goes wrong."""

    gamma: NDArray
    beta: NDArray
    eps: float
    inv_std: NDArray
    var: NDArray
    mean: NDArray
    x_hat: NDArray
    x: NDArray


def _reordered(cache) -> ReorderedCache:
    return ReorderedCache(**{f: getattr(cache, f) for f in ReorderedCache._fields})


# --------------------------------------------------------------------------
# Reference and known wrong backward passes (float64)
# --------------------------------------------------------------------------

def _parts(dout, cache):
    x_hat = np.asarray(cache.x_hat, dtype=np.float64)
    inv_std = np.asarray(cache.inv_std, dtype=np.float64)
    gamma = np.asarray(cache.gamma, dtype=np.float64)
    dout = np.asarray(dout, dtype=np.float64)
    return dout, x_hat, inv_std, gamma


def _dx(dout, cache, mean_path=True, var_path=True, use_gamma=True, axis=0, divide=True):
    dout, x_hat, inv_std, gamma = _parts(dout, cache)
    g = dout * gamma if use_gamma else dout
    n = g.shape[axis]
    total = n * g
    if mean_path:
        total = total - g.sum(axis=axis, keepdims=True)
    if var_path:
        total = total - x_hat * (g * x_hat).sum(axis=axis, keepdims=True)
    return inv_std * total / (n if divide else 1)


def reference(dout, cache) -> tuple[NDArray, NDArray, NDArray]:
    """The correct gradients in float64."""
    d, x_hat, _, _ = _parts(dout, cache)
    return _dx(dout, cache), (d * x_hat).sum(axis=0), d.sum(axis=0)


_DX_MISTAKES: list[tuple[str, Callable]] = [
    ("You left out the mean path: dx ignores dmean. The mean depends on every x_i, so each x_i "
     "also gets -sum(dcentered)/N through mean = sum(x)/N; add dmean / N to dx.",
     lambda d, c: _dx(d, c, mean_path=False)),
    ("You left out the variance path: dx ignores dvar. var depends on x through centered, so "
     "dcentered gets a second term dvar * 2 * centered / N (in the compact form: "
     "- x_hat * sum(dx_hat * x_hat)).", lambda d, c: _dx(d, c, var_path=False)),
    ("You left out both the mean path and the variance path: dx = dout * gamma * inv_std treats "
     "mean and var as constants, but they depend on every x_i of the batch.",
     lambda d, c: _dx(d, c, mean_path=False, var_path=False)),
    ("You forgot gamma in dx: out = gamma * x_hat + beta, so dx_hat = dout * gamma before "
     "going further back.", lambda d, c: _dx(d, c, use_gamma=False)),
    ("Your sums run over the wrong axis (axis=1, the features). The statistics were taken over "
     "the batch, so their gradients sum over axis=0.", lambda d, c: _dx(d, c, axis=1)),
    ("You forgot to divide by N: mean = sum(x)/N and var = sum(centered**2)/N, so "
     "dx = inv_std / N * (N * dx_hat - sum(dx_hat) - x_hat * sum(dx_hat * x_hat)).",
     lambda d, c: _dx(d, c, divide=False)),
]

_DGAMMA_MISTAKES = [
    ("dgamma without x_hat: you returned sum(dout). out = gamma * x_hat + beta, so "
     "dgamma = sum(dout * x_hat, axis=0); sum(dout) is dbeta.", lambda d, c: _parts(d, c)[0].sum(0)),
    ("dgamma uses x instead of x_hat: out = gamma * x_hat + beta, so dgamma = sum(dout * x_hat, axis=0).",
     lambda d, c: (_parts(d, c)[0] * np.asarray(c.x, np.float64)).sum(0)),
    ("dgamma is multiplied by gamma: dgamma = sum(dout * x_hat, axis=0), no gamma in it.",
     lambda d, c: (_parts(d, c)[0] * _parts(d, c)[1]).sum(0) * _parts(d, c)[3]),
]

_DBETA_MISTAKES = [
    ("You swapped dgamma and dbeta: dbeta = sum(dout, axis=0), dgamma = sum(dout * x_hat, axis=0).",
     lambda d, c: (_parts(d, c)[0] * _parts(d, c)[1]).sum(0)),
    ("dbeta is multiplied by gamma: out = gamma * x_hat + beta, so dbeta = sum(dout, axis=0).",
     lambda d, c: _parts(d, c)[0].sum(0) * _parts(d, c)[3]),
]


def _which(got, dout, cache, mistakes, rtol=1e-3) -> str | None:
    got = np.asarray(got, dtype=np.float64)
    for message, wrong in mistakes:
        with np.errstate(all="ignore"):
            candidate = wrong(dout, cache)
        scale = np.abs(candidate).max(initial=0.0) + 1e-12
        if candidate.shape == got.shape and np.allclose(got, candidate, rtol=rtol, atol=rtol * scale):
            return message
    return None


# --------------------------------------------------------------------------
# Calling the student's backward
# --------------------------------------------------------------------------

_READ_ERRORS = (TypeError, ValueError, IndexError, KeyError, AttributeError)


def _call(fn, name, dout, cache, layout: str):
    """Call ``fn(dout, cache)``; explain failures that come from reading the cache."""
    try:
        with time_limit(TIME_BUDGET):
            return fn(dout, cache)
    except _OutOfTime:
        raise AssertionError(
            f"{name} did not return within {TIME_BUDGET:g} s on dout of shape {dout.shape}. Is there "
            "a loop that never ends? The backward pass needs no Python loop: sums over axis=0.") from None
    except NotImplementedError:
        raise AssertionError(
            f"{name} is not implemented yet: replace `raise NotImplementedError()` with your code.") from None
    except _READ_ERRORS as exc:
        text = f"{type(exc).__name__}: {exc}"
        cache_words = ("unpack", "indices must be", "has no attribute", "not subscriptable",
                       "index out of range", "KeyError", "positional")
        if isinstance(exc, KeyError) or any(w in text for w in cache_words):
            raise AssertionError(
                f"{name} could not read the cache ({text}) when handed {layout}. Use the cache's "
                f"named fields: {FIELDS}. Do not unpack it as a tuple, index it by position or "
                "as a dict, or look for fields of your own layout: the cache comes from "
                "bn_helpers.numerics.batchnorm_forward.") from exc
        raise AssertionError(
            f"{name} raised {text}\n  when called with dout of shape {dout.shape} and {layout}. "
            "Check the shapes: dout and x_hat are (N, D); inv_std, gamma and the sums over the "
            "batch are (D,).") from exc
    except Exception as exc:
        raise AssertionError(
            f"{name} raised {type(exc).__name__}: {exc}\n  when called with dout of shape "
            f"{dout.shape} and {layout}.") from exc


def _unpack(result, name):
    if not (isinstance(result, (tuple, list)) and len(result) == 3):
        raise AssertionError(f"{name} must return a triple (dx, dgamma, dbeta); got {type(result).__name__}"
                             + (f" of length {len(result)}" if isinstance(result, (tuple, list)) else ""))
    out = []
    for value, label in zip(result, ("dx", "dgamma", "dbeta")):
        if not isinstance(value, (np.ndarray, np.generic, float, int, list)):
            raise AssertionError(f"{name}: {label} must be a NumPy array; got {type(value).__name__}")
        out.append(np.asarray(value))
    return out


def _copy_cache(cache):
    return numerics.BatchNormCache(*(np.array(v, copy=True) if isinstance(v, np.ndarray) else v for v in cache))


def _case(x, gamma, beta, eps, seed):
    _, cache = numerics.batchnorm_forward(x, gamma, beta, eps)
    dout = np.random.default_rng(seed).standard_normal(x.shape).astype(x.dtype)
    return dout, cache


def _tolerance(dtype):
    return (1e-3, 1e-4) if np.dtype(dtype) == np.float32 else (1e-7, 1e-9)


def _check_case(fn, name, dout, cache, strict_dtype, layout="a BatchNormCache from bn_helpers.numerics.batchnorm_forward"):
    dout_in, cache_in = dout.copy(), _copy_cache(cache)
    if layout.startswith("a BatchNormCache"):
        passed = cache_in
    else:
        passed = _reordered(cache_in)
    result = _call(fn, name, dout_in, passed, layout)
    if not np.array_equal(dout_in, dout):
        raise AssertionError(
            f"{name} changed its argument `dout` in place (for example `dout *= gamma`). The caller "
            "may still need it: compute into a new array, e.g. `dx_hat = dout * gamma`.")
    for field, old in zip(numerics.BatchNormCache._fields, cache):
        if isinstance(old, np.ndarray) and not np.array_equal(getattr(cache_in, field), old):
            raise AssertionError(
                f"{name} changed cache.{field} in place (for example `x_hat *= ...` or "
                f"`centered -= ...` on an array read from the cache). The cache belongs to the "
                "forward pass: compute into new arrays.")
    dx, dgamma, dbeta = _unpack(result, name)
    n, d = cache.x.shape
    want_dx, want_dgamma, want_dbeta = reference(dout, cache)
    where = f"dout and x of shape {(n, d)} ({cache.x.dtype}), eps={cache.eps:g}"
    for got, label in ((dgamma, "dgamma"), (dbeta, "dbeta")):
        if got.shape == (n,) and n != d:
            raise AssertionError(
                f"{name}: {label} has shape {got.shape}, one value per example: the sum runs over "
                f"the wrong axis. Sum over the batch, axis=0, to get one value per feature, ({d},).")
    if dx.shape != (n, d):
        raise AssertionError(
            f"{name}: dx has shape {dx.shape}; it must have the shape of x, {(n, d)} ({where}). "
            "Sums over the batch have shape (D,) and broadcast back over the rows; do not return "
            "a sum or a flattened array as dx.")
    for got, label in ((dgamma, "dgamma"), (dbeta, "dbeta")):
        if got.shape != (d,):
            raise AssertionError(f"{name}: {label} has shape {got.shape}; expected ({d},), one value per "
                                 "feature (sum over axis=0, without keepdims).")
    if strict_dtype:
        for got, label in ((dx, "dx"), (dgamma, "dgamma"), (dbeta, "dbeta")):
            if got.dtype != cache.x.dtype:
                raise AssertionError(
                    f"{name}: {label} has dtype {got.dtype} but the forward's x was {cache.x.dtype}; keep "
                    "the input's dtype (avoid astype(np.float64) and np.float64(...) constants).")
    rtol, _ = _tolerance(cache.x.dtype)
    if (not np.allclose(want_dgamma, want_dbeta, rtol=1e-3)
            and np.allclose(dgamma.astype(np.float64), want_dbeta, rtol=1e-3, atol=1e-6)
            and np.allclose(dbeta.astype(np.float64), want_dgamma, rtol=1e-3, atol=1e-6)):
        raise AssertionError(f"{name}: {_DBETA_MISTAKES[0][0]}\n  ({where})")
    for got, want, label, mistakes in ((dx, want_dx, "dx", _DX_MISTAKES),
                                       (dgamma, want_dgamma, "dgamma", _DGAMMA_MISTAKES),
                                       (dbeta, want_dbeta, "dbeta", _DBETA_MISTAKES)):
        scale = np.abs(want).max(initial=0.0)
        if np.allclose(got.astype(np.float64), want, rtol=rtol, atol=rtol * scale + 1e-12):
            continue
        message = _which(got, dout, cache, mistakes)
        if message is None and label == "dx":
            message = ("wrong dx. Walk the graph backwards node by node: dx_hat, then dcentered and "
                       "dinv_std, dvar, the second path into centered, dmean, and finally dx.")
        elif message is None:
            message = f"wrong {label}."
        raise AssertionError(
            f"{name}: {message}\n  {where}: first row of {label} expected "
            f"{np.round(np.atleast_1d(want)[:4] if label != 'dx' else want[0, :4], 6)}, got "
            f"{np.round((np.atleast_1d(got)[:4] if label != 'dx' else got[0, :4]).astype(np.float64), 6)}")
    return dx, dgamma, dbeta


def _check_layouts(fn, name, dout, cache):
    """The reference cache passed; now the same fields in another order."""
    layout = "a cache with the same named fields in another order"
    try:
        _check_case(fn, name, dout, cache, strict_dtype=False, layout=layout)
    except AssertionError as exc:
        text = str(exc)
        if "could not read the cache" in text:
            raise
        raise AssertionError(
            f"{name} reads the cache by position: it works with a BatchNormCache but gives wrong "
            f"results (or fails) with a cache whose fields come in another order. Use the cache's "
            f"named fields: {FIELDS}.\n  With the reordered cache: {text.splitlines()[0]}") from None


def _cases(hidden):
    rng = np.random.default_rng(7)
    x = rng.normal(1.0, 2.0, size=(6, 4))
    gamma, beta = rng.uniform(0.5, 2.0, 4), rng.normal(0.0, 1.0, 4)
    cases = [_case(x, gamma, beta, 1e-5, 1), _case(x[:5, :3] * 0.1, gamma[:3], beta[:3], 0.5, 2)]
    if hidden:
        for k in range(6):
            n, d = int(rng.integers(2, 65)), int(rng.integers(1, 21))
            if n == d:
                n += 1
            dtype = np.float32 if k % 2 else np.float64
            xr = rng.normal(rng.normal(0, 3, d), rng.uniform(0.1, 5, d), size=(n, d)).astype(dtype)
            cases.append(_case(xr, rng.uniform(0.5, 2, d).astype(dtype), rng.normal(0, 1, d).astype(dtype),
                               1e-5, 10 + k))
        two = np.array([[1.0, -2.0, 0.5], [3.0, 4.0, 0.5 + 1e-3]])  # N = 2, one nearly flat feature
        cases.append(_case(two, np.array([1.5, 0.5, 2.0]), np.zeros(3), 1e-5, 20))
    return cases


def _gradient_check(fn, name):
    """Compare with central differences through the reference forward (small shapes, float64)."""
    rng = np.random.default_rng(13)
    for n, d in ((4, 3), (3, 2), (7, 1)):
        x = rng.normal(0.5, 1.5, size=(n, d))
        gamma, beta = rng.uniform(0.5, 2, d), rng.normal(0, 1, d)
        dout = rng.standard_normal((n, d))
        _, cache = numerics.batchnorm_forward(x, gamma, beta)
        dx, dgamma, dbeta = _unpack(_call(fn, name, dout.copy(), _copy_cache(cache), "a BatchNormCache"), name)
        numeric = {
            "dx": numerical_gradient(lambda v: numerics.batchnorm_forward(v, gamma, beta)[0], x, dout),
            "dgamma": numerical_gradient(lambda g: numerics.batchnorm_forward(x, g, beta)[0], gamma, dout),
            "dbeta": numerical_gradient(lambda b: numerics.batchnorm_forward(x, gamma, b)[0], beta, dout),
        }
        for label, got in (("dx", dx), ("dgamma", dgamma), ("dbeta", dbeta)):
            err = rel_error(got.astype(np.float64), numeric[label]) if got.shape == numeric[label].shape else np.inf
            if err > 1e-5:
                raise AssertionError(
                    f"{name}: {label} fails the numerical gradient check (relative error {err:.1e} on "
                    f"x of shape {(n, d)}, random dout). Compare with bn_helpers.gradcheck."
                    "numerical_gradient on a small batch, as in Section 4.")


def _check(fn: Callable, name: str, hidden: bool) -> None:
    cases = _cases(hidden)
    for dout, cache in cases:
        _check_case(fn, name, dout, cache, strict_dtype=hidden)
    _check_layouts(fn, name, *cases[0])
    if hidden:
        _gradient_check(fn, name)
        dout, cache = cases[0]
        own_code(fn, name, dout.copy(), _copy_cache(cache))


def batchnorm_backward(fn: Callable, hidden: bool = False) -> None:
    """Check the staged ``fn(dout, cache) -> (dx, dgamma, dbeta)`` against the reference gradients.

    Cases: a (6, 4) batch with random ``dout`` and per-feature gamma; a (5, 3)
    batch with eps=0.5 (so that eps matters); then the first case again with
    a cache whose named fields come in another order. ``hidden=True`` adds
    random shapes in float32 and float64 (dtype kept), N = 2 with a nearly
    flat feature, a numerical gradient check on small shapes, and a check
    that no reference code of ``bn_helpers`` is called.

    Raises
    ------
    AssertionError
        Naming the likely mistake: the mean path or the variance path left
        out, gamma forgotten, sums over axis=1, no 1/N, dgamma without x_hat,
        dgamma and dbeta swapped, a cache read by position or by fields it
        does not have, dx of the wrong shape, an input changed in place, a
        dtype not kept.
    """
    _check(fn, "batchnorm_backward", hidden)


def batchnorm_backward_compact(fn: Callable, hidden: bool = False) -> None:
    """Check the closed-form ``fn(dout, cache) -> (dx, dgamma, dbeta)``; same cases as :func:`batchnorm_backward`.

    Raises
    ------
    AssertionError
        As :func:`batchnorm_backward`: in the compact form the mean path is
        the ``- sum(dx_hat)`` term and the variance path the
        ``- x_hat * sum(dx_hat * x_hat)`` term.
    """
    _check(fn, "batchnorm_backward_compact", hidden)
