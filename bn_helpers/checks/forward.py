"""Checks of assignment 02_forward: batch_mean, batch_variance, batchnorm_forward, undo_params."""
from __future__ import annotations

from typing import Callable

import numpy as np

from ..data import WORKED_BETA, WORKED_GAMMA, worked_example
from ._common import (as_array, close, diagnose, expect_dtype, expect_shape, get_field, hidden_rng, large_mean_batch,
                      own_code, random_cases, tolerance)
from .._validate import check_named
from ._messages import Cases, call, closest, worst

__all__ = ["batch_mean", "batch_variance", "batchnorm_forward", "undo_params"]


def _stats(x, axis=0, ddof=0):
    x64 = np.asarray(x, dtype=np.float64)
    mean = x64.mean(axis=axis, keepdims=True)
    var = x64.var(axis=axis, ddof=ddof, keepdims=True)
    return x64 - mean, var


def _forward_with(center=True, axis=0, ddof=0, denom="sqrt(var+eps)", affine="gamma,beta", var_centered=True):
    """Batch norm in float64, right (the defaults) or with one known slip."""
    def forward(x, gamma, beta, eps):
        xc, var = _stats(x, axis, ddof)
        if not var_centered:
            var = (np.asarray(x, dtype=np.float64) ** 2).mean(axis=axis, keepdims=True)
        if not center:
            xc = np.asarray(x, dtype=np.float64)
        d = {
            "sqrt(var+eps)": lambda: np.sqrt(var + eps),
            "sqrt(var)+eps": lambda: np.sqrt(var) + eps,
            "var+eps": lambda: var + eps,
            "sqrt(var)": lambda: np.sqrt(var),
            "sqrt(var+eps^2)": lambda: np.sqrt(var + eps ** 2),
            "1": lambda: np.ones_like(var),
        }[denom]()
        x_hat = xc / d
        return {
            "gamma,beta": lambda: gamma * x_hat + beta,
            "beta,gamma": lambda: beta * x_hat + gamma,
            "beta": lambda: x_hat + beta,
            "gamma": lambda: gamma * x_hat,
            "none": lambda: x_hat,
            "gamma*(x_hat+beta)": lambda: gamma * (x_hat + beta),
        }[affine]()
    return forward


_reference = _forward_with()

#: Margins of the float32, mean-1e4 cases (tests/test_checks.py measures both sides of them over salted draws).
LARGE_MEAN_RTOL, LARGE_MEAN_ATOL = 0.5, 1.0

_FORWARD_MISTAKES: list[tuple[str, Callable]] = [
    ("You divided by N-1 (the unbiased variance, np.var(..., ddof=1)). Batch norm normalizes "
     "with the biased variance: divide by N (Ioffe & Szegedy, Algorithm 1).",
     _forward_with(ddof=1)),
    ("You divided by sigma + eps, i.e. eps outside the square root (the slip in seed 002). "
     "eps belongs inside: x_hat = (x - mean) / sqrt(var + eps).",
     _forward_with(denom="sqrt(var)+eps")),
    ("You divided by var + eps, without the square root. Divide by the standard deviation "
     "sqrt(var + eps).", _forward_with(denom="var+eps")),
    ("Your result ignores the eps argument (a hard-coded eps, or none at all). Use the eps "
     "passed in: sqrt(var + eps).", _forward_with(denom="sqrt(var)")),
    ("You added eps squared (sqrt(var + eps**2)); add eps itself inside the square root: sqrt(var + eps).",
     _forward_with(denom="sqrt(var+eps^2)")),
    ("You normalized each example over its features (axis=1): that is layer norm. Batch norm "
     "computes one mean and variance per feature over the batch: axis=0.",
     _forward_with(axis=1)),
    ("You used one mean and variance for the whole array. Batch norm computes them per "
     "feature over the batch: axis=0, giving shape (D,).", _forward_with(axis=None)),
    ("You forgot gamma: the output must be gamma * x_hat + beta.", _forward_with(affine="beta")),
    ("You forgot beta: the output must be gamma * x_hat + beta.", _forward_with(affine="gamma")),
    ("You swapped gamma and beta: gamma scales (multiplies) and beta shifts (adds): "
     "gamma * x_hat + beta.", _forward_with(affine="beta,gamma")),
    ("You added beta before scaling: gamma * (x_hat + beta). Scale first, then shift: gamma * x_hat + beta.",
     _forward_with(affine="gamma*(x_hat+beta)")),
    ("You returned x_hat without scale and shift: the output must be gamma * x_hat + beta.",
     _forward_with(affine="none")),
    ("You did not subtract the mean before dividing: x_hat = (x - mean) / sqrt(var + eps).",
     _forward_with(center=False)),
    ("Your variance forgot to subtract the mean: mean(x**2) is not the variance; use mean((x - mean)**2).",
     _forward_with(var_centered=False)),
    ("You subtracted the mean but did not divide by sqrt(var + eps).", _forward_with(denom="1")),
]

_HINT_02 = ("Check the shapes of your intermediate results: per-feature statistics over the batch have shape "
            "(D,) and come from axis=0.")


# --------------------------------------------------------------------------
# batch_mean and batch_variance
# --------------------------------------------------------------------------

def _statistic_cases(hidden):
    rng = np.random.default_rng(3)
    x = rng.normal(2.0, 3.0, size=(6, 4))
    cases = [("worked example", worked_example()), ("random (6, 4)", x),
             ("float32 (7, 3)", rng.normal(-1.0, 2.0, size=(7, 3)).astype(np.float32))]
    if hidden:
        cases += [("random shape", xr) for xr in random_cases(31)]
    return cases, x


def _check_statistic(fn, name, reference, hints, hidden, passed: Cases):
    """Shared by batch_mean and batch_variance: same shapes, same traps."""
    cases, x = _statistic_cases(hidden)
    for label, case in cases:
        got = as_array(call(fn, name, case, hint=_HINT_02, names=("x",)), name, "the statistic")
        n, d = case.shape
        expected = reference(case)
        if got.shape == (n,) and n != d:
            raise AssertionError(
                f"{name}: result has shape {got.shape}, one value per example. Batch statistics "
                f"have one value per feature: use axis=0 to get shape ({d},).")
        if got.shape == (n, d) and n > 1:
            raise AssertionError(
                f"{name}: result has shape {got.shape}, the shape of x: you returned one value per entry "
                f"(e.g. the deviations before averaging). Average over the batch, axis=0, to get shape ({d},).")
        if got.ndim == 0 or got.shape == (1, d):
            hint = ("Did you forget axis=0?" if got.ndim == 0 else
                    "Drop keepdims=True (or index [0]) to return shape (D,).")
            expect_shape(got, (d,), name, "the result", hint)
        expect_shape(got, (d,), name, "the result", "Use axis=0.")
        expect_dtype(got, case.dtype, name, "the result")
        rtol, atol = tolerance(case.dtype)
        if not close(got, expected, rtol, atol):
            hint = closest(got, hints(case)) or (
                "wrong values. Compute it by hand on the worked example [2.3, -0.5, 1.8, 3.2, -1.2] "
                "(mean 1.12, variance 2.8376) and compare.")
            raise AssertionError(f"{name}: {hint}\n  {label} (x of shape {case.shape}, {case.dtype}): "
                                 f"{worst(got, expected)}")
        passed.add(label)
    if hidden:
        own_code(fn, name, x, reference=reference)


def _mean_hints(x):
    x64 = np.asarray(x, dtype=np.float64)
    n, d = x64.shape
    out = [
        ("You returned the sum: divide by the batch size N = x.shape[0]"
         + (" (x.shape[1], the number of features, is 1 here)." if d == 1 else "."), x64.sum(axis=0)),
        ("You returned one mean of the whole array for every feature: average over axis=0 only.",
         np.full(d, x64.mean())),
        ("You returned the median; batch norm uses the mean.", np.median(x64, axis=0)),
    ]
    if n > 1:
        out.insert(1, ("You divided by N-1; the mean divides by the batch size N.", x64.sum(axis=0) / (n - 1)))
    if d > 1:
        out.append(("You divided by the number of features D = x.shape[1]; divide by the batch size N = x.shape[0].",
                    x64.sum(axis=0) / d))
    if n == d:
        out.append(("You averaged over the features (axis=1); average over the batch, axis=0.", x64.mean(axis=1)))
    return out


def _variance_hints(x):
    x64 = np.asarray(x, dtype=np.float64)
    n, d = x64.shape
    var = x64.var(axis=0)
    out = [
        ("You returned the standard deviation; the variance is its square.", np.sqrt(var)),
        ("You forgot to subtract the mean: var = mean((x - mean)^2), not mean(x^2).", (x64 ** 2).mean(axis=0)),
        ("You returned the sum of squared deviations; divide it by N (take the mean).", var * n),
        ("You returned the mean absolute deviation, mean(|x - mean|); the variance squares: mean((x - mean)^2).",
         np.abs(x64 - x64.mean(0)).mean(axis=0)),
        ("Your sign is flipped: E[x]^2 - E[x^2] is minus the variance. Better still, mean((x - mean)^2), which "
         "also survives float32.", -var),
        ("You centred with one mean of the whole array; centre each feature with its own mean (axis=0).",
         ((x64 - x64.mean()) ** 2).mean(axis=0)),
        ("You squared the mean deviation, (mean(x - mean))^2, which is 0: square first, then average.",
         np.zeros(d)),
    ]
    if d > 1:
        out.append(("You divided by the number of features D; divide by the batch size N.", var * n / d))
    if n > 1:
        out.insert(0, ("You divided by N-1 (the unbiased variance, np.var(..., ddof=1)). Batch norm normalizes "
                       "with the biased variance: divide by N.", x64.var(axis=0, ddof=1)))
    return out


def batch_mean(fn: Callable, hidden: bool = False) -> None:
    """Check ``fn(x) -> (D,)``, the per-feature mean of an (N, D) batch.

    Raises
    ------
    AssertionError
        Naming the likely mistake (wrong axis, keepdims, a sum, N-1, D, the
        mean of the whole array, the median, in-place change).
    """
    passed = Cases("batch_mean")
    _check_statistic(fn, "batch_mean", lambda x: x.astype(np.float64).mean(axis=0), _mean_hints, hidden, passed)
    if hidden:
        passed.add("own code")
    passed.passed()


def batch_variance(fn: Callable, hidden: bool = False) -> None:
    """Check ``fn(x) -> (D,)``, the per-feature *biased* variance of an (N, D) batch.

    With ``hidden=True`` it also needs a float32 batch with mean 1e4 and noise
    1e-2 to come out non-negative and within 15% of the float64 value: the
    one-pass formula E[x^2] - E[x]^2 fails that (catastrophic cancellation).

    Raises
    ------
    AssertionError
        Naming the likely mistake (N-1, the std, no centering, a sum, the
        mean absolute deviation, the sign, wrong axis, E[x^2] - E[x]^2 in
        float32, ...).
    """
    name = "batch_variance"
    passed = Cases(name)
    _check_statistic(fn, name, lambda x: x.astype(np.float64).var(axis=0), _variance_hints, hidden, passed)
    if hidden:
        x = large_mean_batch()
        truth = x.astype(np.float64).var(axis=0)
        got = np.asarray(call(fn, name, x, hint=_HINT_02, names=("x",)), dtype=np.float64)
        # The margin is set by what float32 allows: over 3000 salted draws a correct two-pass variance in
        # float32 is off by at most 14% (99th percentile 9%); the one-pass formula by 1e5 or more (its smallest).
        if got.shape != truth.shape or np.any(got < 0) or not np.allclose(got, truth, rtol=LARGE_MEAN_RTOL):
            raise AssertionError(
                f"{name}: on float32 data with mean 1e4 and std 1e-2 the variance should be about "
                f"{truth.mean():.1e}; {worst(got, truth)}.\n  The one-pass formula E[x^2] - E[x]^2 subtracts two "
                "numbers near 1e8 and loses every digit in float32 (it can even go negative). Subtract the mean "
                "first: mean((x - mean)^2).")
        passed.add("float32 with mean 1e4")
        passed.add("own code")
    passed.passed()


# --------------------------------------------------------------------------
# batchnorm_forward
# --------------------------------------------------------------------------

def batchnorm_forward(fn: Callable, hidden: bool = False) -> None:
    """Check ``fn(x, gamma, beta, eps) -> (out, cache)`` against the reference.

    Cases: the worked example; a (6, 4) batch with per-feature gamma and beta
    (N != D, so a wrong axis shows); the same batch with eps=0.5 (so the place
    of eps shows), and in float32 (the dtype kept). The cache must be a :class:`bn_helpers.numerics.BatchNormCache`
    (or have its fields) with the right ``x_hat``, ``mean`` and ``var`` (and
    ``inv_std`` when it has one).

    Raises
    ------
    AssertionError
        Naming the likely mistake: N-1, eps outside the square root (sigma+eps),
        no square root, eps ignored or squared, wrong axis, gamma or beta
        forgotten, swapped or applied in the wrong order, no centering, a
        variance without centering, an input changed in place, (cache, out)
        swapped, a wrong shape or dtype, E[x^2] - E[x]^2 in float32.
    """
    name = "batchnorm_forward"
    passed = Cases(name)
    rng = np.random.default_rng(5)
    x = rng.normal(1.0, 2.0, size=(6, 4))
    gamma, beta = rng.uniform(0.5, 2.0, 4), rng.normal(0.0, 1.0, 4)
    cases = [
        ("worked example", worked_example(), np.array([WORKED_GAMMA]), np.array([WORKED_BETA]), 1e-5),
        ("random (6, 4)", x, gamma, beta, 1e-5),
        ("large eps", x, gamma, beta, 0.5),
        ("float32 (6, 4)", x.astype(np.float32), gamma.astype(np.float32), beta.astype(np.float32), 1e-5),
    ]
    if hidden:
        params = hidden_rng(58)
        for xr in random_cases(57):
            d = xr.shape[1]
            cases.append(("random shape", xr, params.uniform(0.5, 2, d).astype(xr.dtype),
                          params.normal(0, 1, d).astype(xr.dtype), 1e-5))
    for label, xc, g, b, eps in cases:
        _check_forward_case(fn, name, label, xc, g, b, eps)
        passed.add(label)
    if hidden:
        xl = large_mean_batch()
        d = xl.shape[1]
        g, b = np.ones(d, np.float32), np.zeros(d, np.float32)
        expected = _reference(xl, g, b, 1e-5)
        result = call(fn, name, xl, g, b, eps=1e-5, hint=_HINT_02, names=("x", "gamma", "beta"))
        out = np.asarray(result[0] if isinstance(result, tuple) else result, dtype=np.float64)
        # Over 3000 salted draws a correct float32 forward (two-pass, the mean accumulated in float32) is off by
        # at most 0.50 (99th percentile 0.37): float32 near 1e4 has a spacing of 1e-3, a tenth of the data's std;
        # the one-pass variance is off by 2.6 or more in every draw.
        if out.shape != expected.shape or not np.all(np.isfinite(out)) or not np.allclose(out, expected,
                                                                                           atol=LARGE_MEAN_ATOL):
            raise AssertionError(
                f"{name}: on float32 data with mean 1e4 and std 1e-2 the output should look like a standard "
                f"normal sample; {worst(out, expected)}.\n  Compute the variance as mean((x - mean)^2), not "
                "E[x^2] - E[x]^2, which cancels catastrophically in float32.")
        passed.add("float32 with mean 1e4")
        own_code(fn, name, x, gamma, beta, 1e-5, reference=_reference, pick=lambda r: r[0])
        passed.add("own code")
    passed.passed()


def _is_array(value) -> bool:
    return isinstance(value, (np.ndarray, np.generic, list))


def _check_forward_case(fn, name, label, x, gamma, beta, eps):
    result = call(fn, name, x.copy(), gamma.copy(), beta.copy(), eps=eps, hint=_HINT_02, names=("x", "gamma", "beta"))
    if not (isinstance(result, tuple) and len(result) == 2):
        what = type(result).__name__ + (f" of length {len(result)}" if isinstance(result, (tuple, list)) else "")
        raise AssertionError(f"{name} must return a pair (out, cache); got {what}.")
    if not _is_array(result[0]) and _is_array(result[1]) and np.shape(result[1]) == x.shape:
        raise AssertionError(f"{name} returned (cache, out); return them in the order (out, cache).")
    out = as_array(result[0], name, "out")
    cache = result[1]
    expected = _reference(x, gamma, beta, eps)
    rtol, atol = tolerance(x.dtype)
    where = f"{label} (x of shape {x.shape}, {x.dtype}, eps={eps:g})"
    if out.shape != x.shape:
        message = diagnose(out, x, gamma, beta, eps, _FORWARD_MISTAKES)
        raise AssertionError(
            f"{name}: out has shape {out.shape}; it must have the shape of x, {x.shape}, {where}. "
            + (message or "Check that mean and var have shape (D,) (axis=0) so they broadcast over the rows."))
    expect_dtype(out, x.dtype, name, "out")
    if not close(out, expected, rtol, atol):
        message = closest(out, [(m, (lambda f: lambda: f(x, gamma, beta, eps))(f)) for m, f in _FORWARD_MISTAKES])
        if message is None:
            message = _cache_hint(cache, x, eps) or (
                "wrong output. Compare step by step with the worked example: mean 1.12, variance 2.8376, "
                "x_hat[0] 0.70, then gamma * x_hat + beta gives 1.14.")
        raise AssertionError(f"{name}: {message}\n  {where}: {worst(out, expected)}")
    _check_cache(name, cache, x, eps, rtol, atol, where)


def _reference_cache(x, eps) -> dict:
    x64 = np.asarray(x, dtype=np.float64)
    mean, var = x64.mean(axis=0), x64.var(axis=0)
    inv_std = 1.0 / np.sqrt(var + eps)
    return {"x_hat": (x64 - mean) * inv_std, "mean": mean, "var": var, "inv_std": inv_std}


def _check_cache(name, cache, x, eps, rtol, atol, where):
    try:
        check_named(cache)
    except TypeError as exc:
        raise AssertionError(f"{name}: {exc}. Return BatchNormCache(x=..., x_hat=..., mean=..., var=..., inv_std=..., "
                             "gamma=..., beta=..., eps=...): the backward pass (assignment 03) reads it by name.") from None
    want_all = _reference_cache(x, eps)
    x64 = np.asarray(x, dtype=np.float64)
    for field in ("x_hat", "mean", "var", "inv_std"):
        value = get_field(cache, field)
        if value is None:
            if field == "inv_std":
                continue  # optional: the backward of 03 recomputes it from var and eps
            raise AssertionError(
                f"{name}: the cache has no field `{field}`. Return "
                "BatchNormCache(x=..., x_hat=..., mean=..., var=..., inv_std=..., gamma=..., beta=..., eps=...) "
                "from bn_helpers.numerics: the backward pass (assignment 03) reads it.")
        want = want_all[field]
        got = np.asarray(value)
        if got.shape != want.shape:
            hint = (" Drop keepdims=True (or index [0])." if got.shape == (1,) + want.shape else "")
            raise AssertionError(f"{name}: cache.{field} has shape {got.shape}; expected {want.shape}.{hint}\n"
                                 f"  {where}")
        if close(got, want, max(rtol, 1e-6), atol):
            continue
        got64 = got.astype(np.float64)
        n = x64.shape[0]
        hint_lists = {
            "var": lambda: [
                ("cache.var is the unbiased variance (N-1); store the biased one you normalized with.",
                 x64.var(axis=0, ddof=1) if n > 1 else want),
                ("cache.var holds the standard deviation; store the variance.", np.sqrt(want)),
                ("cache.var includes eps; store the batch variance itself (eps is kept separately).", want + eps)],
            "inv_std": lambda: [
                ("cache.inv_std holds sqrt(var + eps); store its inverse, 1 / sqrt(var + eps).",
                 np.sqrt(want_all["var"] + eps)),
                ("cache.inv_std has no eps: 1 / sqrt(var + eps).", 1 / np.sqrt(want_all["var"]))],
            "x_hat": lambda: [
                ("cache.x_hat holds the output gamma * x_hat + beta; store x_hat, before scale and shift.",
                 _x_hat_affine(cache, want))],
            "mean": lambda: [],
        }
        with np.errstate(all="ignore"):
            hints = hint_lists[field]()
        message = closest(got64, hints) or f"cache.{field} is wrong."
        raise AssertionError(f"{name}: {message}\n  {where}: cache.{field} {worst(got64, want)}")


def _x_hat_affine(cache, x_hat):
    gamma, beta = get_field(cache, "gamma"), get_field(cache, "beta")
    if gamma is None or beta is None:
        return np.full_like(x_hat, np.nan)
    with np.errstate(all="ignore"):
        return np.asarray(gamma, np.float64) * x_hat + np.asarray(beta, np.float64)


def _cache_hint(cache, x, eps) -> str | None:
    """Point at the first cached statistic that is off."""
    try:
        check_named(cache)
    except TypeError:
        return None
    want_all = _reference_cache(x, eps)
    for field, label in (("mean", "the batch mean"), ("var", "the batch variance"), ("x_hat", "x_hat")):
        value = get_field(cache, field)
        if value is None:
            continue
        try:
            got = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            continue
        want = want_all[field]
        if got.shape != want.shape or not np.allclose(got, want, rtol=1e-4, atol=1e-6):
            return f"wrong output; the first wrong step is {label} (cache.{field})."
    return None


# --------------------------------------------------------------------------
# undo_params
# --------------------------------------------------------------------------

def undo_params(fn: Callable, hidden: bool = False) -> None:
    """Check ``fn(x, eps) -> (gamma, beta)`` such that batch norm returns ``x`` unchanged.

    The answer is ``gamma = sqrt(var + eps)`` and ``beta = mean`` per feature
    (Ioffe & Szegedy, arXiv:1502.03167, Section 3: "the transformation inserted
    in the network can represent the identity transform").

    Raises
    ------
    AssertionError
        Naming the likely mistake (the std without eps, eps outside the root,
        the variance, 1 / std, N-1, swapped outputs, beta = -mean or mean / std,
        wrong shapes).
    """
    name = "undo_params"
    passed = Cases(name)
    rng = np.random.default_rng(11)
    cases = [("worked example", worked_example(), 1e-5), ("random (7, 3) with a large eps", rng.normal(3.0, 2.0, size=(7, 3)), 0.5),
             ("float32 (6, 2)", rng.normal(-2.0, 1.5, size=(6, 2)).astype(np.float32), 1e-5)]
    if hidden:
        cases += [("random shape", xr, 1e-5) for xr in random_cases(91)]
    for label, x, eps in cases:
        result = call(fn, name, x, eps=eps, hint=_HINT_02, names=("x",))
        if not (isinstance(result, tuple) and len(result) == 2):
            raise AssertionError(f"{name} must return a pair (gamma, beta); got {type(result).__name__}")
        d = x.shape[1]
        for value, what in zip(result, ("gamma", "beta")):
            arr = as_array(value, name, what)
            hint = ("Drop keepdims=True (or index [0])." if arr.shape == (1, d) else
                    "One value per feature: use axis=0.")
            expect_shape(arr, (d,), name, what, hint)
        gamma, beta = (np.asarray(r, dtype=np.float64) for r in result)
        x64 = x.astype(np.float64)
        mean, var = x64.mean(axis=0), x64.var(axis=0)
        out = _reference(x64, gamma, beta, eps)
        rtol, atol = tolerance(x.dtype)
        if close(out, x64, max(rtol, 1e-6), max(atol, 1e-6) * (1 + np.abs(x64).max())):
            passed.add(label)
            continue
        want_gamma = np.sqrt(var + eps)
        tight = 1e-6 if x.dtype == np.float32 else 1e-9

        def same(a, b):
            return bool(np.allclose(a, b, rtol=tight, atol=1e-12))

        gamma_ok = same(gamma, want_gamma)
        hints = [
            (same(gamma, mean) and same(beta, want_gamma),
             "You swapped them: gamma must be sqrt(var + eps) and beta the mean."),
            (same(gamma, np.sqrt(var)), "gamma is the std without eps: use sqrt(var + eps), "
             "the same denominator the forward pass divided by."),
            (same(gamma, np.sqrt(var) + eps), "gamma is sqrt(var) + eps, eps outside the root: use "
             "sqrt(var + eps), the denominator the forward pass divided by."),
            (same(gamma, var + eps) or same(gamma, var),
             "gamma is the variance; it must be the standard deviation sqrt(var + eps)."),
            (same(gamma, 1 / want_gamma), "gamma is 1 / sqrt(var + eps): the forward divided by the std, "
             "so undoing it multiplies by the std, gamma = sqrt(var + eps)."),
            (x.shape[0] > 1 and same(gamma, np.sqrt(x64.var(axis=0, ddof=1) + eps)),
             "You used the unbiased variance (N-1); the forward pass divides by N."),
            (gamma_ok and same(beta, -mean) and not same(mean, 0 * mean),
             "beta is minus the mean; it must be the mean itself, so that adding it back undoes the centering."),
            (gamma_ok and same(beta, mean / want_gamma),
             "beta is mean / sqrt(var + eps); beta is added after scaling, so it is the mean itself."),
            (gamma_ok, "gamma is right; beta must be the batch mean, so that adding it back undoes the centering."),
        ]
        hint = next((h for cond, h in hints if cond), "wrong gamma and beta: batch norm with them must return x: "
                    "gamma = sqrt(var + eps), beta = mean.")
        label_worst = (f"gamma {worst(gamma, want_gamma)}" if not gamma_ok else f"beta {worst(beta, mean)}")
        raise AssertionError(f"{name}: {hint}\n  {label} (x of shape {x.shape}, eps={eps:g}): {label_worst}")
    if hidden:
        own_code(fn, name, rng.normal(size=(5, 2)), 1e-5,
                 reference=lambda x, eps: (np.sqrt(x.var(axis=0) + eps), x.mean(axis=0)))
        passed.add("own code")
    passed.passed()
