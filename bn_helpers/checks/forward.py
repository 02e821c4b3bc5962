"""Checks of assignment 02_forward: batch_mean, batch_variance, batchnorm_forward, undo_params."""
from __future__ import annotations

from typing import Callable

import numpy as np

from .. import numerics
from ..data import WORKED_BETA, WORKED_GAMMA, worked_example
from ._common import (as_array, call, close, diagnose, expect_dtype, expect_shape, get_field, large_mean_batch,
                      own_code, random_cases, tolerance, unchanged)

__all__ = ["batch_mean", "batch_variance", "batchnorm_forward", "undo_params"]


def _stats(x, axis=0, ddof=0):
    x64 = np.asarray(x, dtype=np.float64)
    mean = x64.mean(axis=axis, keepdims=True)
    var = x64.var(axis=axis, ddof=ddof, keepdims=True)
    return x64 - mean, var


def _forward_with(center=True, axis=0, ddof=0, denom="sqrt(var+eps)", affine="gamma,beta"):
    def forward(x, gamma, beta, eps):
        xc, var = _stats(x, axis, ddof)
        if not center:
            xc = np.asarray(x, dtype=np.float64)
        d = {
            "sqrt(var+eps)": np.sqrt(var + eps),
            "sqrt(var)+eps": np.sqrt(var) + eps,
            "var+eps": var + eps,
            "sqrt(var)": np.sqrt(var),
            "1": np.ones_like(var),
        }[denom]
        x_hat = xc / d
        return {
            "gamma,beta": gamma * x_hat + beta,
            "beta,gamma": beta * x_hat + gamma,
            "beta": x_hat + beta,
            "gamma": gamma * x_hat,
            "none": x_hat,
        }[affine]
    return forward


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
    ("You normalized each example over its features (axis=1): that is layer norm. Batch norm "
     "computes one mean and variance per feature over the batch: axis=0.",
     _forward_with(axis=1)),
    ("You used one mean and variance for the whole array. Batch norm computes them per "
     "feature over the batch: axis=0, giving shape (D,).", _forward_with(axis=None)),
    ("You forgot gamma: the output must be gamma * x_hat + beta.", _forward_with(affine="beta")),
    ("You forgot beta: the output must be gamma * x_hat + beta.", _forward_with(affine="gamma")),
    ("You swapped gamma and beta: gamma scales (multiplies) and beta shifts (adds): "
     "gamma * x_hat + beta.", _forward_with(affine="beta,gamma")),
    ("You returned x_hat without scale and shift: the output must be gamma * x_hat + beta.",
     _forward_with(affine="none")),
    ("You did not subtract the mean before dividing: x_hat = (x - mean) / sqrt(var + eps).",
     _forward_with(center=False)),
    ("You subtracted the mean but did not divide by sqrt(var + eps).", _forward_with(denom="1")),
]


# --------------------------------------------------------------------------
# The checks
# --------------------------------------------------------------------------

def _check_statistic(fn, name, reference, ddof_hint, hidden):
    """Shared by batch_mean and batch_variance: same shapes, same traps."""
    rng = np.random.default_rng(3)
    x = rng.normal(2.0, 3.0, size=(6, 4))
    cases = [worked_example(), x]
    if hidden:
        cases += list(random_cases(31))
    for case in cases:
        before = case.copy()
        got = as_array(call(fn, name, case), name, "the statistic")
        unchanged({"x": before}, {"x": case}, name)
        n, d = case.shape
        expected = reference(case)
        if got.shape == (n,) and n != d:
            raise AssertionError(
                f"{name}: result has shape {got.shape}, one value per example. Batch statistics "
                f"have one value per feature: use axis=0 to get shape ({d},).")
        if got.ndim == 0 or got.shape == (1, d):
            hint = ("Did you forget axis=0?" if got.ndim == 0 else
                    "Drop keepdims=True (or index [0]) to return shape (D,).")
            expect_shape(got, (d,), name, "the result", hint)
        expect_shape(got, (d,), name, "the result", "Use axis=0.")
        if hidden:
            expect_dtype(got, case.dtype, name, "the result")
        rtol, atol = tolerance(case.dtype)
        if not close(got, expected, rtol, atol):
            hint = ddof_hint(case, got) or f"wrong values for x of shape {case.shape}."
            raise AssertionError(
                f"{name}: {hint}\n  x of shape {case.shape}: expected {np.round(expected, 5)}"
                f"\n  got {np.round(got, 5)}")
    if hidden:
        own_code(fn, name, x)


def _mean_hint(x, got):
    if np.allclose(got, np.asarray(x, dtype=np.float64).sum(axis=0)):
        return "You returned the sum: divide by the batch size N = x.shape[0]."
    return None


def _variance_hint(x, got):
    x64 = np.asarray(x, dtype=np.float64)
    n = x64.shape[0]
    if n > 1 and np.allclose(got, x64.var(axis=0, ddof=1), rtol=1e-4):
        return ("You divided by N-1 (the unbiased variance, np.var(..., ddof=1)). Batch norm "
                "normalizes with the biased variance: divide by N.")
    if np.allclose(got, x64.std(axis=0), rtol=1e-4):
        return "You returned the standard deviation; the variance is its square."
    if np.allclose(got, (x64 ** 2).mean(axis=0), rtol=1e-4):
        return "You forgot to subtract the mean: var = mean((x - mean)^2)."
    return None


def batch_mean(fn: Callable, hidden: bool = False) -> None:
    """Check ``fn(x) -> (D,)``, the per-feature mean of an (N, D) batch.

    Raises
    ------
    AssertionError
        Naming the likely mistake (wrong axis, keepdims, a sum, in-place change).
    """
    _check_statistic(fn, "batch_mean", lambda x: x.astype(np.float64).mean(axis=0), _mean_hint, hidden)


def batch_variance(fn: Callable, hidden: bool = False) -> None:
    """Check ``fn(x) -> (D,)``, the per-feature *biased* variance of an (N, D) batch.

    With ``hidden=True`` it also needs a float32 batch with mean 1e4 and noise
    1e-2 to come out non-negative and within 15% of the float64 value: the
    one-pass formula E[x^2] - E[x]^2 fails that (catastrophic cancellation).

    Raises
    ------
    AssertionError
        Naming the likely mistake (N-1, the std, no centering, wrong axis, ...).
    """
    name = "batch_variance"
    _check_statistic(fn, name, lambda x: x.astype(np.float64).var(axis=0), _variance_hint, hidden)
    if hidden:
        x = large_mean_batch()
        got = np.asarray(call(fn, name, x), dtype=np.float64)
        truth = x.astype(np.float64).var(axis=0)
        if got.shape != truth.shape or np.any(got < 0) or not np.allclose(got, truth, rtol=0.15):
            raise AssertionError(
                f"{name}: on float32 data with mean 1e4 and std 1e-2 the variance should be about "
                f"{truth.mean():.1e}; got {np.round(got, 6)}. The one-pass formula E[x^2] - E[x]^2 "
                "subtracts two numbers near 1e8 and loses every digit in float32 (it can even go "
                "negative). Subtract the mean first: mean((x - mean)^2).")


def batchnorm_forward(fn: Callable, hidden: bool = False) -> None:
    """Check ``fn(x, gamma, beta, eps) -> (out, cache)`` against the reference.

    Cases: the worked example; a (6, 4) batch with per-feature gamma and beta
    (N != D, so a wrong axis shows); the same batch with eps=0.5 (so the place
    of eps shows). The cache must be a :class:`bn_helpers.numerics.BatchNormCache`
    (or have its fields) with the right ``x_hat``, ``mean`` and ``var``.

    Raises
    ------
    AssertionError
        Naming the likely mistake: N-1, eps outside the square root (sigma+eps),
        no square root, eps ignored, wrong axis, gamma or beta forgotten or
        swapped, no centering, an input changed in place, a wrong shape or dtype.
    """
    name = "batchnorm_forward"
    rng = np.random.default_rng(5)
    x = rng.normal(1.0, 2.0, size=(6, 4))
    gamma, beta = rng.uniform(0.5, 2.0, 4), rng.normal(0.0, 1.0, 4)
    cases = [
        (worked_example(), np.array([WORKED_GAMMA]), np.array([WORKED_BETA]), 1e-5),
        (x, gamma, beta, 1e-5),
        (x, gamma, beta, 0.5),
    ]
    if hidden:
        for xr in random_cases(57):
            d = xr.shape[1]
            cases.append((xr, rng.uniform(0.5, 2, d).astype(xr.dtype), rng.normal(0, 1, d).astype(xr.dtype), 1e-5))
    for xc, g, b, eps in cases:
        _check_forward_case(fn, name, xc, g, b, eps, strict_dtype=hidden)
    if hidden:
        xl = large_mean_batch()
        d = xl.shape[1]
        g, b = np.ones(d, np.float32), np.zeros(d, np.float32)
        result = call(fn, name, xl, g, b, eps=1e-5)
        out = np.asarray(result[0], dtype=np.float64) if isinstance(result, tuple) else np.asarray(result)
        expected, _ = numerics.batchnorm_forward(xl.astype(np.float64), g, b, eps=1e-5)
        if out.shape != expected.shape or not np.all(np.isfinite(out)) or not np.allclose(out, expected, atol=0.3):
            raise AssertionError(
                f"{name}: on float32 data with mean 1e4 and std 1e-2 the output should look like a "
                "standard normal sample; yours is far off (or NaN). Compute the variance as "
                "mean((x - mean)^2), not E[x^2] - E[x]^2, which cancels catastrophically in float32.")
        own_code(fn, name, x, gamma, beta, 1e-5)


def _check_forward_case(fn, name, x, gamma, beta, eps, strict_dtype):
    args = {"x": x.copy(), "gamma": gamma.copy(), "beta": beta.copy()}
    result = call(fn, name, args["x"], args["gamma"], args["beta"], eps=eps)
    unchanged({"x": x, "gamma": gamma, "beta": beta}, args, name)
    if not (isinstance(result, tuple) and len(result) == 2):
        raise AssertionError(f"{name} must return a pair (out, cache); got {type(result).__name__}")
    out = as_array(result[0], name, "out")
    cache = result[1]
    expected, ref_cache = numerics.batchnorm_forward(x.astype(np.float64), gamma, beta, eps=eps)
    rtol, atol = tolerance(x.dtype)
    where = f"x of shape {x.shape} ({x.dtype}), eps={eps:g}"
    if out.shape != x.shape:
        message = diagnose(out, x, gamma, beta, eps, _FORWARD_MISTAKES)
        raise AssertionError(
            f"{name}: out has shape {out.shape}; it must have the shape of x, {x.shape} ({where}). "
            + (message or "Check that mean and var have shape (D,) (axis=0) so they broadcast over the rows."))
    if strict_dtype:
        expect_dtype(out, x.dtype, name, "out")
    if not close(out, expected, rtol, atol):
        message = diagnose(out, x, gamma, beta, eps, _FORWARD_MISTAKES)
        if message is None:
            message = _cache_hint(cache, ref_cache) or (
                "Compare step by step with the worked example: mean, variance, x_hat, then gamma * x_hat + beta.")
        raise AssertionError(
            f"{name}: {message}\n  wrong output for {where}: first row expected "
            f"{np.round(expected[0], 6)}, got {np.round(out[0].astype(np.float64), 6)}")
    for field in ("x_hat", "mean", "var"):
        value = get_field(cache, field)
        if value is None:
            raise AssertionError(
                f"{name}: the cache has no field `{field}`. Return "
                "BatchNormCache(x=..., x_hat=..., mean=..., var=..., inv_std=..., gamma=..., beta=..., eps=...) "
                "from bn_helpers.numerics: the backward pass (assignment 03) reads it.")
        want = getattr(ref_cache, field)
        got = np.asarray(value)
        if got.shape != want.shape or not close(got, want, max(rtol, 1e-6), atol):
            raise AssertionError(
                f"{name}: cache.{field} is wrong (expected shape {want.shape}, got {got.shape}; "
                f"expected {np.round(want.ravel()[:4], 4)}, got {np.round(got.ravel()[:4].astype(np.float64), 4)}).")


def _cache_hint(cache, ref_cache) -> str | None:
    """Point at the first cached statistic that is off."""
    for field, label in (("mean", "the batch mean"), ("var", "the batch variance"), ("x_hat", "x_hat")):
        value = get_field(cache, field)
        if value is None:
            continue
        got = np.asarray(value, dtype=np.float64)
        want = getattr(ref_cache, field)
        if got.shape != want.shape or not np.allclose(got, want, rtol=1e-4, atol=1e-6):
            return f"wrong output; the first wrong step is {label} (cache.{field})."
    return None


def undo_params(fn: Callable, hidden: bool = False) -> None:
    """Check ``fn(x, eps) -> (gamma, beta)`` such that batch norm returns ``x`` unchanged.

    The answer is ``gamma = sqrt(var + eps)`` and ``beta = mean`` per feature
    (Ioffe & Szegedy, arXiv:1502.03167, Section 3: "the transformation inserted
    in the network can represent the identity transform").

    Raises
    ------
    AssertionError
        Naming the likely mistake (the std without eps, the variance, N-1,
        swapped outputs, wrong shapes).
    """
    name = "undo_params"
    rng = np.random.default_rng(11)
    cases = [(worked_example(), 1e-5), (rng.normal(3.0, 2.0, size=(7, 3)), 0.5)]
    if hidden:
        cases += [(xr, 1e-5) for xr in random_cases(91)]
    for x, eps in cases:
        before = x.copy()
        result = call(fn, name, x, eps=eps)
        unchanged({"x": before}, {"x": x}, name)
        if not (isinstance(result, tuple) and len(result) == 2):
            raise AssertionError(f"{name} must return a pair (gamma, beta); got {type(result).__name__}")
        gamma, beta = (np.asarray(r, dtype=np.float64) for r in result)
        d = x.shape[1]
        for arr, label in ((gamma, "gamma"), (beta, "beta")):
            expect_shape(arr, (d,), name, label, "One value per feature: use axis=0.")
        x64 = x.astype(np.float64)
        mean, var = x64.mean(axis=0), x64.var(axis=0)
        out, _ = numerics.batchnorm_forward(x64, gamma, beta, eps=eps)
        rtol, atol = tolerance(x.dtype)
        if close(out, x64, max(rtol, 1e-6), max(atol, 1e-6) * (1 + np.abs(x64).max())):
            continue
        hints = [
            (np.allclose(gamma, mean) and np.allclose(beta, np.sqrt(var + eps)),
             "You swapped them: gamma must be sqrt(var + eps) and beta the mean."),
            (np.allclose(gamma, np.sqrt(var)), "gamma is the std without eps: use sqrt(var + eps), "
             "the same denominator the forward pass divided by."),
            (np.allclose(gamma, var + eps) or np.allclose(gamma, var),
             "gamma is the variance; it must be the standard deviation sqrt(var + eps)."),
            (np.allclose(gamma, np.sqrt(x64.var(axis=0, ddof=1) + eps)),
             "You used the unbiased variance (N-1); the forward pass divides by N."),
            (not np.allclose(beta, mean), "beta must be the batch mean, so that adding it back undoes the centering."),
        ]
        hint = next((h for cond, h in hints if cond), "wrong gamma or beta: batch norm with them must return x.")
        raise AssertionError(
            f"{name}: {hint}\n  batchnorm_forward(x, gamma, beta, eps={eps:g}) with your gamma and beta "
            f"does not give x back (x of shape {x.shape}).")
    if hidden:
        own_code(fn, name, rng.normal(size=(5, 2)), 1e-5)
