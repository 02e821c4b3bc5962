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
from ._common import call, expect_dtype, hidden_rng, own_code
from ._messages import Cases, closest, worst

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


def _dx(dout, cache, mean_path=True, var_path=True, use_gamma=True, axis=0, divide=True, a=1.0, b=1.0):
    """dx = inv_std / N * (N g - a sum(g) - b x_hat sum(g x_hat)), g = dout * gamma; a, b may be per feature."""
    dout, x_hat, inv_std, gamma = _parts(dout, cache)
    g = dout * gamma if use_gamma else dout
    n = g.shape[axis]
    total = n * g
    if mean_path:
        total = total - a * g.sum(axis=axis, keepdims=True)
    if var_path:
        total = total - b * x_hat * (g * x_hat).sum(axis=axis, keepdims=True)
    return inv_std * total / (n if divide else 1)


def reference(dout, cache) -> tuple[NDArray, NDArray, NDArray]:
    """The correct gradients in float64."""
    d, x_hat, _, _ = _parts(dout, cache)
    return _dx(dout, cache), (d * x_hat).sum(axis=0), d.sum(axis=0)


def _without_eps(dout, cache):
    """The right formula with x_hat and inv_std recomputed without eps (1 / sqrt(var))."""
    var = np.asarray(cache.var, np.float64)
    inv_std = 1.0 / np.sqrt(var)
    x_hat = (np.asarray(cache.x, np.float64) - np.asarray(cache.mean, np.float64)) * inv_std
    fake = numerics.BatchNormCache(cache.x, x_hat, cache.mean, cache.var, inv_std, cache.gamma, cache.beta, cache.eps)
    return _dx(dout, fake)


def _x_in_variance_path(dout, cache):
    """The staged graph with x instead of centered = x - mean in the variance path."""
    dout, x_hat, inv_std, gamma = _parts(dout, cache)
    x = np.asarray(cache.x, np.float64)
    n = x.shape[0]
    dx_hat = dout * gamma
    dinv_std = (dx_hat * x).sum(axis=0)
    dvar = -0.5 * inv_std ** 3 * dinv_std
    dcentered = dx_hat * inv_std + dvar * 2 * x / n
    return dcentered - dcentered.sum(axis=0) / n


def _diagonal_only(dout, cache):
    dout, x_hat, inv_std, gamma = _parts(dout, cache)
    n = dout.shape[0]
    return dout * gamma * inv_std * (1 - 1 / n - x_hat ** 2 / n)


def _dx_mistakes(dout, cache, compact: bool) -> list[tuple[str, Callable]]:
    n = np.shape(dout)[0]
    std = 1.0 / np.asarray(cache.inv_std, np.float64)
    mean_term = "the - sum(dx_hat) term" if compact else "dmean / N"
    var_term = "the - x_hat * sum(dx_hat * x_hat) term" if compact else "the dvar path into centered"
    out = [
        (f"You left out the mean path: dx ignores dmean. The mean depends on every x_i, so each x_i also gets "
         f"-sum(dcentered)/N through mean = sum(x)/N ({mean_term}).", lambda: _dx(dout, cache, mean_path=False)),
        (f"You left out the variance path: dx ignores dvar. var depends on x through centered, so dcentered "
         f"gets a second term dvar * 2 * centered / N ({var_term}).", lambda: _dx(dout, cache, var_path=False)),
        ("You left out both the mean path and the variance path: dx = dout * gamma * inv_std treats mean and "
         "var as constants, but they depend on every x_i of the batch.",
         lambda: _dx(dout, cache, mean_path=False, var_path=False)),
        (f"The mean path has the wrong sign: mean enters as x - mean, so dx gets MINUS sum(dx_hat) * inv_std / N "
         f"({mean_term}).", lambda: _dx(dout, cache, a=-1.0)),
        (f"The variance path has the wrong sign: d(inv_std)/d(var) = -0.5 * inv_std**3 is negative, so the term is "
         f"MINUS x_hat * sum(dx_hat * x_hat) * inv_std / N ({var_term}).", lambda: _dx(dout, cache, b=-1.0)),
        ("The variance path is twice too large: d(inv_std)/d(var) = -0.5 * inv_std**3 (the 0.5 is missing?).",
         lambda: _dx(dout, cache, b=2.0)),
        ("The variance path is half what it should be: d(centered**2)/d(centered) = 2 * centered "
         "(the 2 is missing?).", lambda: _dx(dout, cache, b=0.5)),
        ("The variance path uses inv_std**2 where d(inv_std)/d(var) = -0.5 * (var + eps)**-1.5 = -0.5 * inv_std**3.",
         lambda: _dx(dout, cache, b=std)),
        ("The variance path uses inv_std where d(inv_std)/d(var) = -0.5 * inv_std**3.",
         lambda: _dx(dout, cache, b=std ** 2)),
        ("The variance path is divided by N twice: var = sum(centered**2) / N brings one 1/N, not two.",
         lambda: _dx(dout, cache, b=1.0 / n)),
        ("dmean is not divided by N: mean = sum(x) / N, so each x_i gets dmean / N.",
         lambda: _dx(dout, cache, a=float(n))),
        ("Your variance path uses x where the graph has centered = x - mean (dinv_std = sum(dx_hat * centered), "
         "dcentered += dvar * 2 * centered / N).", lambda: _x_in_variance_path(dout, cache)),
        ("You recomputed the std without eps: inv_std = 1 / sqrt(var + eps), as in the forward (cache.inv_std "
         "has it).", lambda: _without_eps(dout, cache)),
        ("You kept only the diagonal of the Jacobian (d x_hat_i / d x_i): every x_j of the batch moves mean and "
         "var, so dx_i collects sums over the whole batch: - sum(dx_hat) and - x_hat * sum(dx_hat * x_hat).",
         lambda: _diagonal_only(dout, cache)),
        ("You forgot gamma in dx: out = gamma * x_hat + beta, so dx_hat = dout * gamma before going further back.",
         lambda: _dx(dout, cache, use_gamma=False)),
        ("Your sums run over the wrong axis (axis=1, the features). The statistics were taken over the batch, so "
         "their gradients sum over axis=0.", lambda: _dx(dout, cache, axis=1)),
        ("You forgot to divide by N: mean = sum(x)/N and var = sum(centered**2)/N, so "
         "dx = inv_std / N * (N * dx_hat - sum(dx_hat) - x_hat * sum(dx_hat * x_hat)).",
         lambda: _dx(dout, cache, divide=False)),
        ("You divided by N twice: dx = inv_std / N * (N * dx_hat - sum(dx_hat) - x_hat * sum(dx_hat * x_hat)).",
         lambda: _dx(dout, cache) / n),
        ("dx lacks the factor inv_std: every path into x goes through x_hat = centered * inv_std.",
         lambda: _dx(dout, cache) * std),
    ]
    if compact:
        out += [
            ("Your variance term uses x where the closed form has x_hat: - x_hat * sum(dx_hat * x_hat).",
             lambda: _compact_with(dout, cache, np.asarray(cache.x, np.float64), "inner")),
            ("Your variance term uses x where the closed form has x_hat: - x_hat * sum(dx_hat * x_hat).",
             lambda: _compact_with(dout, cache, np.asarray(cache.x, np.float64), "both")),
        ]
    return out


def _compact_with(dout, cache, other, where):
    """The closed form with ``other`` in place of x_hat inside the variance term's sum (or in both places)."""
    d, x_hat, inv_std, gamma = _parts(dout, cache)
    g = d * gamma
    n = g.shape[0]
    outer = other if where == "both" else x_hat
    return inv_std / n * (n * g - g.sum(axis=0) - outer * (g * other).sum(axis=0))


def _dgamma_mistakes(dout, cache):
    d, x_hat, inv_std, gamma = _parts(dout, cache)
    return [
        ("dgamma is the MEAN of dout * x_hat over the batch; gradients of a parameter shared by every example "
         "add up: dgamma = sum(dout * x_hat, axis=0).", lambda: (d * x_hat).mean(0)),
        ("dgamma without x_hat: you returned sum(dout). out = gamma * x_hat + beta, so "
         "dgamma = sum(dout * x_hat, axis=0); sum(dout) is dbeta.", lambda: d.sum(0)),
        ("dgamma uses x instead of x_hat: out = gamma * x_hat + beta, so dgamma = sum(dout * x_hat, axis=0).",
         lambda: (d * np.asarray(cache.x, np.float64)).sum(0)),
        ("dgamma uses x - mean instead of x_hat: x_hat includes the division by sqrt(var + eps).",
         lambda: (d * x_hat / inv_std).sum(0)),
        ("dgamma is multiplied by gamma: dgamma = sum(dout * x_hat, axis=0), no gamma in it.",
         lambda: (d * x_hat).sum(0) * gamma),
        ("dgamma is multiplied by inv_std: dgamma = sum(dout * x_hat, axis=0); x_hat already holds the division.",
         lambda: (d * x_hat).sum(0) * inv_std),
    ]


def _dbeta_mistakes(dout, cache):
    d, x_hat, _, gamma = _parts(dout, cache)
    return [
        ("You swapped dgamma and dbeta: dbeta = sum(dout, axis=0), dgamma = sum(dout * x_hat, axis=0).",
         lambda: (d * x_hat).sum(0)),
        ("dbeta is the MEAN of dout over the batch; gradients of a parameter shared by every example add up: "
         "dbeta = sum(dout, axis=0).", lambda: d.mean(0)),
        ("dbeta is multiplied by gamma: out = gamma * x_hat + beta, so dbeta = sum(dout, axis=0).",
         lambda: d.sum(0) * gamma),
    ]


def _dx_fallback(got, want, x_hat, compact: bool, tol: float = 1e-6) -> str:
    """Name the broken path of an unrecognized dx from two facts every right dx obeys."""
    got = np.asarray(got, np.float64)
    scale = float(np.abs(want).max(initial=0.0)) * len(want) + 1e-12
    with np.errstate(all="ignore"):
        ratio = (got * want).sum(axis=0) / (want * want).sum(axis=0)
    if np.all(np.isfinite(ratio)) and np.allclose(got, want * ratio, rtol=1e-4, atol=1e-9 * scale):
        return (f"your dx is the right one times a factor per feature ({ratio.min():.4g} to {ratio.max():.4g}): "
                "check the factors gamma, inv_std and 1/N.")
    colsum = np.abs(got.sum(axis=0) - want.sum(axis=0)).max(initial=0.0) / scale
    orth = np.abs((got * x_hat).sum(axis=0) - (want * x_hat).sum(axis=0)).max(initial=0.0) / scale
    if colsum > tol:
        return ("your dx does not sum to zero over the batch (a right dx does, because the mean is subtracted): "
                "the mean path (" + ("the - sum(dx_hat) term" if compact else "dmean / N") + ") is missing or wrong.")
    if orth > tol:
        return ("your dx is not orthogonal to x_hat (a right dx is, up to eps: sum(dx * x_hat, axis=0) = 0, "
                "because x_hat is divided by its own std): the variance path (" + (
                    "the - x_hat * sum(dx_hat * x_hat) term" if compact else "dvar") + ") is off.")
    if compact:
        return ("wrong dx. Check each term of dx = inv_std / N * (N * dx_hat - sum(dx_hat) - x_hat * "
                "sum(dx_hat * x_hat)) with dx_hat = dout * gamma, on a (3, 2) batch by hand.")
    return ("wrong dx. Walk the graph backwards node by node: dx_hat, then dcentered and dinv_std, dvar, the "
            "second path into centered, dmean, and finally dx; compare each with the compact form.")


# --------------------------------------------------------------------------
# Calling the student's backward
# --------------------------------------------------------------------------

_READ_ERRORS = (TypeError, ValueError, IndexError, KeyError, AttributeError)


def _call(fn, name, dout, cache, layout: str):
    """Call ``fn(dout, cache)`` through the checks' :func:`call` (time, in place); explain failures to read the cache."""
    try:
        return call(fn, name, dout, cache, names=("dout", "cache"))
    except AssertionError as failure:
        exc = failure.__cause__
        if exc is None:  # out of time, not implemented, an argument changed in place: as it is
            raise
    if isinstance(exc, _READ_ERRORS):
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
    raise AssertionError(f"{name} raised {type(exc).__name__}: {exc}\n  when called with dout of shape "
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


def _case(x, gamma, beta, eps, seed, rng=None):
    _, cache = numerics.batchnorm_forward(x, gamma, beta, eps)
    dout = (rng or np.random.default_rng(seed)).standard_normal(x.shape).astype(x.dtype)
    return dout, cache


def _tolerance(dtype):
    return (1e-3, 1e-4) if np.dtype(dtype) == np.float32 else (1e-7, 1e-9)


def _check_case(fn, name, label, dout, cache, strict_dtype,
                layout="a BatchNormCache from bn_helpers.numerics.batchnorm_forward"):
    cache_in = _copy_cache(cache)
    passed = cache_in if layout.startswith("a BatchNormCache") else _reordered(cache_in)
    dx, dgamma, dbeta = _unpack(_call(fn, name, dout.copy(), passed, layout), name)
    n, d = cache.x.shape
    want_dx, want_dgamma, want_dbeta = reference(dout, cache)
    where = f"{label} (dout and x of shape {(n, d)}, {cache.x.dtype}, eps={cache.eps:g})"
    for got, label in ((dgamma, "dgamma"), (dbeta, "dbeta")):
        if got.shape == (n,) and n != d:
            raise AssertionError(
                f"{name}: {label} has shape {got.shape}, one value per example: the sum runs over "
                f"the wrong axis. Sum over the batch, axis=0, to get one value per feature, ({d},).")
    if dx.shape != (n, d):
        raise AssertionError(
            f"{name}: dx has shape {dx.shape}; it must have the shape of x, {(n, d)}, {where}. "
            "Sums over the batch have shape (D,) and broadcast back over the rows; do not return "
            "a sum or a flattened array as dx.")
    for got, label in ((dgamma, "dgamma"), (dbeta, "dbeta")):
        if got.shape != (d,):
            raise AssertionError(f"{name}: {label} has shape {got.shape}; expected ({d},), one value per "
                                 "feature (sum over axis=0, without keepdims).")
    if strict_dtype:
        for got, label in ((dx, "dx"), (dgamma, "dgamma"), (dbeta, "dbeta")):
            expect_dtype(got, cache.x.dtype, name, label)
    rtol, _ = _tolerance(cache.x.dtype)
    if (not np.allclose(want_dgamma, want_dbeta, rtol=1e-3)
            and np.allclose(dgamma.astype(np.float64), want_dbeta, rtol=1e-3, atol=1e-6)
            and np.allclose(dbeta.astype(np.float64), want_dgamma, rtol=1e-3, atol=1e-6)):
        raise AssertionError(f"{name}: {_dbeta_mistakes(dout, cache)[0][0]}\n  {where}")
    compact = "compact" in name
    x_hat64 = np.asarray(cache.x_hat, np.float64)
    for got, want, label, mistakes in ((dx, want_dx, "dx", lambda: _dx_mistakes(dout, cache, compact)),
                                       (dgamma, want_dgamma, "dgamma", lambda: _dgamma_mistakes(dout, cache)),
                                       (dbeta, want_dbeta, "dbeta", lambda: _dbeta_mistakes(dout, cache))):
        scale = np.abs(want).max(initial=0.0)
        if label == "dx":   # dx is a difference of terms of size |inv_std * gamma * dout|; at N = 2 they cancel
            scale = max(scale, float(np.abs(np.asarray(cache.inv_std, np.float64) * np.asarray(cache.gamma, np.float64)
                                            * dout.astype(np.float64)).max(initial=0.0)))
        got64 = got.astype(np.float64)
        if np.allclose(got64, want, rtol=rtol, atol=rtol * scale + 1e-12):
            continue
        message = closest(got64, mistakes(), tol=max(1e-4, 10 * rtol))
        if message is None and label == "dx":
            message = _dx_fallback(got64, want, x_hat64, compact, tol=max(1e-6, 10 * rtol))
        elif message is None:
            formula = "sum(dout * x_hat, axis=0)" if label == "dgamma" else "sum(dout, axis=0)"
            message = f"wrong {label}: {label} = {formula}, one value per feature."
        raise AssertionError(f"{name}: {message}\n  {where}: {label} {worst(got64, want)}")
    return dx, dgamma, dbeta


def _check_layouts(fn, name, dout, cache):
    """The reference cache passed; now the same fields in another order."""
    layout = "a cache with the same named fields in another order"
    try:
        _check_case(fn, name, "the first case again", dout, cache, strict_dtype=False, layout=layout)
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
    f32 = np.float32
    cases = [("random (6, 4)", *_case(x, gamma, beta, 1e-5, 1)),
             ("(5, 3) with a large eps", *_case(x[:5, :3] * 0.1, gamma[:3], beta[:3], 0.5, 2)),
             ("float32 (6, 4)", *_case(x.astype(f32), gamma.astype(f32), beta.astype(f32), 1e-5, 3))]
    if hidden:
        rng = hidden_rng(7)
        for k in range(6):
            n, d = int(rng.integers(2, 65)), int(rng.integers(1, 21))
            if n == d:
                n += 1
            dtype = np.float32 if k % 2 else np.float64
            xr = rng.normal(rng.normal(0, 3, d), rng.uniform(0.1, 5, d), size=(n, d)).astype(dtype)
            cases.append(("random shape", *_case(xr, rng.uniform(0.5, 2, d).astype(dtype),
                                                 rng.normal(0, 1, d).astype(dtype), 1e-5, 10 + k, rng)))
        two = np.array([[1.0, -2.0, 0.5], [3.0, 4.0, 0.5 + 1e-3]])  # N = 2, one nearly flat feature
        cases.append(("N = 2 with a nearly flat feature", *_case(two, np.array([1.5, 0.5, 2.0]), np.zeros(3), 1e-5, 20)))
    return cases


def _gradient_check(fn, name):
    """Compare with central differences through the reference forward (small shapes, float64)."""
    rng = hidden_rng(13)
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
    passed = Cases(name)
    cases = _cases(hidden)
    for label, dout, cache in cases:
        _check_case(fn, name, label, dout, cache, strict_dtype=True)
        passed.add(label)
    _check_layouts(fn, name, *cases[0][1:])
    passed.add("a cache with its fields in another order")
    if hidden:
        _gradient_check(fn, name)
        passed.add("numerical gradients")
        dout, cache = cases[0][1:]
        own_code(fn, name, dout.copy(), _copy_cache(cache), reference=reference)
        passed.add("own code")
    passed.passed()


def batchnorm_backward(fn: Callable, hidden: bool = False) -> None:
    """Check the staged ``fn(dout, cache) -> (dx, dgamma, dbeta)`` against the reference gradients.

    Cases: a (6, 4) batch with random ``dout`` and per-feature gamma; a (5, 3)
    batch with eps=0.5 (so that eps matters); the (6, 4) batch in float32
    (the dtype kept); then the first case again with
    a cache whose named fields come in another order. ``hidden=True`` adds
    random shapes in float32 and float64 (dtype kept), N = 2 with a nearly
    flat feature, a numerical gradient check on small shapes, and a check
    that no reference code of ``bn_helpers`` is called.

    Raises
    ------
    AssertionError
        Naming the likely mistake: the mean path or the variance path left
        out or with the wrong sign or factor, x instead of centered, eps
        dropped, only the Jacobian's diagonal, gamma forgotten, sums over
        axis=1, no 1/N or 1/N twice, dgamma or dbeta as a mean, without x_hat
        or scaled, dgamma and dbeta swapped, a cache read by position or by
        fields it does not have, dx of the wrong shape, an input changed in
        place, a dtype not kept. An unrecognized dx is located by the two
        facts every right dx obeys: it sums to zero over the batch (the mean
        path) and is orthogonal to x_hat (the variance path).
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
