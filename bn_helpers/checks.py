"""Checks that teach: the tests behind every graded function.

Each ``checks.<name>(fn)`` runs a student's function on a few cases and
returns ``None`` when it behaves like the reference. Otherwise it raises
``AssertionError`` whose message names the likely mistake, found by comparing
the student's output with the outputs of known wrong implementations
(unbiased variance, eps outside the square root, the wrong axis, ...).

``hidden=True`` adds what the autograder runs on top: random shapes, float32
and float64, a float32 batch with a large mean (where E[x^2] - E[x]^2 goes
negative), and a check that the function is the student's own code rather
than a call into ``bn_helpers.numerics``.

Every call of student code is bounded in time (:data:`TIME_BUDGET` seconds),
so an infinite loop fails one test quickly instead of eating the grading run.
"""
from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from typing import Any, Callable, Iterator

import numpy as np
from numpy.typing import NDArray

from . import numerics
from .data import WORKED_BETA, WORKED_GAMMA, worked_example

__all__ = ["batch_mean", "batch_variance", "batchnorm_forward", "undo_params", "TIME_BUDGET"]

#: Seconds one call of student code may take before the check gives up.
TIME_BUDGET = 5.0

_REFERENCE_FILES = {os.path.abspath(numerics.__file__)}


# --------------------------------------------------------------------------
# Calling student code: bounded in time, exceptions turned into hints
# --------------------------------------------------------------------------


class _OutOfTime(BaseException):
    """Raised inside student code when its time budget is spent."""


@contextlib.contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    usable = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not usable:  # e.g. Windows: no SIGALRM; nbgrader's cell timeout still applies
        yield
        return

    def on_alarm(signum, frame):
        raise _OutOfTime()

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _describe(args: tuple) -> str:
    parts = []
    for a in args:
        if isinstance(a, np.ndarray):
            parts.append(f"array of shape {a.shape} ({a.dtype})")
        else:
            parts.append(repr(a))
    return ", ".join(parts)


def _call(fn: Callable, name: str, *args, **kwargs) -> Any:
    """Call student code with a time budget; turn its errors into hints."""
    try:
        with _time_limit(TIME_BUDGET):
            return fn(*args, **kwargs)
    except _OutOfTime:
        raise AssertionError(
            f"{name} did not return within {TIME_BUDGET:g} s on ({_describe(args)}). "
            "Is there a loop that never ends? Batch norm needs no Python loop at all: "
            "use NumPy operations along axis 0."
        ) from None
    except NotImplementedError:
        raise AssertionError(
            f"{name} is not implemented yet: replace `raise NotImplementedError()` with your code."
        ) from None
    except Exception as exc:
        raise AssertionError(
            f"{name} raised {type(exc).__name__}: {exc}\n  when called with ({_describe(args)}). "
            "Check the shapes of your intermediate results: per-feature statistics over the "
            "batch have shape (D,) and come from axis=0."
        ) from exc


def _as_array(value, name: str, what: str) -> NDArray:
    if not isinstance(value, (np.ndarray, np.generic, float, int, list, tuple)):
        raise AssertionError(f"{name} must return {what} as a NumPy array; got {type(value).__name__}")
    return np.asarray(value)


def _expect_shape(arr: NDArray, shape: tuple, name: str, what: str, hint: str = "") -> None:
    if arr.shape != shape:
        raise AssertionError(
            f"{name}: {what} has shape {arr.shape}; expected {shape}. {hint}".rstrip()
        )


def _expect_dtype(arr: NDArray, dtype, name: str, what: str) -> None:
    if arr.dtype != dtype:
        raise AssertionError(
            f"{name}: {what} has dtype {arr.dtype} but the input was {np.dtype(dtype)}; "
            "keep the input's dtype (avoid np.float64(...) constants and astype)."
        )


def _unchanged(before: dict[str, NDArray], after: dict[str, NDArray], name: str) -> None:
    for arg, old in before.items():
        if not np.array_equal(old, after[arg], equal_nan=True):
            raise AssertionError(
                f"{name} changed its argument `{arg}` in place (for example `{arg} -= ...` or "
                f"`{arg}[...] = ...`). The caller still needs it: compute into a new array, "
                f"e.g. `x_centered = x - mean`."
            )


@contextlib.contextmanager
def _watch_reference() -> Iterator[list[str]]:
    """Record calls into ``bn_helpers.numerics`` made while the block runs."""
    seen: list[str] = []

    def profiler(frame, event, arg):
        if event == "call" and os.path.abspath(frame.f_code.co_filename) in _REFERENCE_FILES:
            seen.append(frame.f_code.co_name)

    old = sys.getprofile()
    sys.setprofile(profiler)
    try:
        yield seen
    finally:
        sys.setprofile(old)


def _own_code(fn: Callable, name: str, *args) -> None:
    with _watch_reference() as seen:
        _call(fn, name, *args)
    if seen:
        raise AssertionError(
            f"{name} calls bn_helpers' reference code ({', '.join(sorted(set(seen)))}). "
            "The exercise is to write it yourself with NumPy."
        )


# --------------------------------------------------------------------------
# Known mistakes: each maps (x, gamma, beta, eps) to what that mistake returns
# --------------------------------------------------------------------------

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


def _diagnose(got: NDArray, x, gamma, beta, eps, mistakes, tol=1e-3) -> str | None:
    """The message of the known mistake whose output is closest to ``got``, if any is close."""
    best, best_err = None, tol
    got = np.asarray(got, dtype=np.float64)
    for message, wrong in mistakes:
        with np.errstate(all="ignore"):
            candidate = wrong(x, gamma, beta, eps)
        if candidate.shape != got.shape:
            continue
        err = float(np.max(np.abs(got - candidate) / (np.abs(candidate) + 1e-3), initial=0.0))
        if err <= best_err:
            best, best_err = message, err
    return best


def _close(got: NDArray, expected: NDArray, rtol: float, atol: float) -> bool:
    return got.shape == expected.shape and bool(
        np.allclose(got.astype(np.float64), expected.astype(np.float64), rtol=rtol, atol=atol)
    )


def _tolerance(dtype) -> tuple[float, float]:
    return (1e-4, 1e-5) if np.dtype(dtype) == np.float32 else (1e-7, 1e-9)


def _random_cases(seed: int, count: int = 6) -> Iterator[NDArray]:
    """Random (N, D) batches, N from 2 to 64 and D from 1 to 20, float64 and float32."""
    rng = np.random.default_rng(seed)
    for k in range(count):
        n, d = int(rng.integers(2, 65)), int(rng.integers(1, 21))
        x = rng.normal(rng.normal(0, 3, d), rng.uniform(0.1, 5, d), size=(n, d))
        yield x.astype(np.float32 if k % 2 else np.float64)


def _large_mean_batch() -> NDArray:
    """float32 data with mean 1e4 and noise 1e-2: E[x^2] - E[x]^2 returns garbage here."""
    rng = np.random.default_rng(2015)
    return (1e4 + 1e-2 * rng.standard_normal((64, 8))).astype(np.float32)


# --------------------------------------------------------------------------
# The checks
# --------------------------------------------------------------------------

def _check_statistic(fn, name, reference, ddof_hint, hidden):
    """Shared by batch_mean and batch_variance: same shapes, same traps."""
    rng = np.random.default_rng(3)
    x = rng.normal(2.0, 3.0, size=(6, 4))
    cases = [worked_example(), x]
    if hidden:
        cases += list(_random_cases(31))
    for case in cases:
        before = case.copy()
        got = _as_array(_call(fn, name, case), name, "the statistic")
        _unchanged({"x": before}, {"x": case}, name)
        n, d = case.shape
        expected = reference(case)
        if got.shape == (n,) and n != d:
            raise AssertionError(
                f"{name}: result has shape {got.shape}, one value per example. Batch statistics "
                f"have one value per feature: use axis=0 to get shape ({d},).")
        if got.ndim == 0 or got.shape == (1, d):
            hint = ("Did you forget axis=0?" if got.ndim == 0 else
                    "Drop keepdims=True (or index [0]) to return shape (D,).")
            _expect_shape(got, (d,), name, "the result", hint)
        _expect_shape(got, (d,), name, "the result", "Use axis=0.")
        if hidden:
            _expect_dtype(got, case.dtype, name, "the result")
        rtol, atol = _tolerance(case.dtype)
        if not _close(got, expected, rtol, atol):
            hint = ddof_hint(case, got) or f"wrong values for x of shape {case.shape}."
            raise AssertionError(
                f"{name}: {hint}\n  x of shape {case.shape}: expected {np.round(expected, 5)}"
                f"\n  got {np.round(got, 5)}")
    if hidden:
        _own_code(fn, name, x)


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
        x = _large_mean_batch()
        got = np.asarray(_call(fn, name, x), dtype=np.float64)
        truth = x.astype(np.float64).var(axis=0)
        if got.shape != truth.shape or np.any(got < 0) or not np.allclose(got, truth, rtol=0.15):
            raise AssertionError(
                f"{name}: on float32 data with mean 1e4 and std 1e-2 the variance should be about "
                f"{truth.mean():.1e}; got {np.round(got, 6)}. The one-pass formula E[x^2] - E[x]^2 "
                "subtracts two numbers near 1e8 and loses every digit in float32 (it can even go "
                "negative). Subtract the mean first: mean((x - mean)^2).")


def _get(cache, field: str):
    if isinstance(cache, dict):
        return cache.get(field)
    return getattr(cache, field, None)


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
        for xr in _random_cases(57):
            d = xr.shape[1]
            cases.append((xr, rng.uniform(0.5, 2, d).astype(xr.dtype), rng.normal(0, 1, d).astype(xr.dtype), 1e-5))
    for xc, g, b, eps in cases:
        _check_forward_case(fn, name, xc, g, b, eps, strict_dtype=hidden)
    if hidden:
        xl = _large_mean_batch()
        d = xl.shape[1]
        g, b = np.ones(d, np.float32), np.zeros(d, np.float32)
        result = _call(fn, name, xl, g, b, eps=1e-5)
        out = np.asarray(result[0], dtype=np.float64) if isinstance(result, tuple) else np.asarray(result)
        expected, _ = numerics.batchnorm_forward(xl.astype(np.float64), g, b, eps=1e-5)
        if out.shape != expected.shape or not np.all(np.isfinite(out)) or not np.allclose(out, expected, atol=0.3):
            raise AssertionError(
                f"{name}: on float32 data with mean 1e4 and std 1e-2 the output should look like a "
                "standard normal sample; yours is far off (or NaN). Compute the variance as "
                "mean((x - mean)^2), not E[x^2] - E[x]^2, which cancels catastrophically in float32.")
        _own_code(fn, name, x, gamma, beta, 1e-5)


def _check_forward_case(fn, name, x, gamma, beta, eps, strict_dtype):
    args = {"x": x.copy(), "gamma": gamma.copy(), "beta": beta.copy()}
    result = _call(fn, name, args["x"], args["gamma"], args["beta"], eps=eps)
    _unchanged({"x": x, "gamma": gamma, "beta": beta}, args, name)
    if not (isinstance(result, tuple) and len(result) == 2):
        raise AssertionError(f"{name} must return a pair (out, cache); got {type(result).__name__}")
    out = _as_array(result[0], name, "out")
    cache = result[1]
    expected, ref_cache = numerics.batchnorm_forward(x.astype(np.float64), gamma, beta, eps=eps)
    rtol, atol = _tolerance(x.dtype)
    where = f"x of shape {x.shape} ({x.dtype}), eps={eps:g}"
    if out.shape != x.shape:
        message = _diagnose(out, x, gamma, beta, eps, _FORWARD_MISTAKES)
        raise AssertionError(
            f"{name}: out has shape {out.shape}; it must have the shape of x, {x.shape} ({where}). "
            + (message or "Check that mean and var have shape (D,) (axis=0) so they broadcast over the rows."))
    if strict_dtype:
        _expect_dtype(out, x.dtype, name, "out")
    if not _close(out, expected, rtol, atol):
        message = _diagnose(out, x, gamma, beta, eps, _FORWARD_MISTAKES)
        if message is None:
            message = _cache_hint(cache, ref_cache) or (
                "Compare step by step with the worked example: mean, variance, x_hat, then gamma * x_hat + beta.")
        raise AssertionError(
            f"{name}: {message}\n  wrong output for {where}: first row expected "
            f"{np.round(expected[0], 6)}, got {np.round(out[0].astype(np.float64), 6)}")
    for field in ("x_hat", "mean", "var"):
        value = _get(cache, field)
        if value is None:
            raise AssertionError(
                f"{name}: the cache has no field `{field}`. Return "
                "BatchNormCache(x=..., x_hat=..., mean=..., var=..., inv_std=..., gamma=..., beta=..., eps=...) "
                "from bn_helpers.numerics: the backward pass (assignment 03) reads it.")
        want = getattr(ref_cache, field)
        got = np.asarray(value)
        if got.shape != want.shape or not _close(got, want, max(rtol, 1e-6), atol):
            raise AssertionError(
                f"{name}: cache.{field} is wrong (expected shape {want.shape}, got {got.shape}; "
                f"expected {np.round(want.ravel()[:4], 4)}, got {np.round(got.ravel()[:4].astype(np.float64), 4)}).")


def _cache_hint(cache, ref_cache) -> str | None:
    """Point at the first cached statistic that is off."""
    for field, label in (("mean", "the batch mean"), ("var", "the batch variance"), ("x_hat", "x_hat")):
        value = _get(cache, field)
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
        cases += [(xr, 1e-5) for xr in _random_cases(91)]
    for x, eps in cases:
        before = x.copy()
        result = _call(fn, name, x, eps=eps)
        _unchanged({"x": before}, {"x": x}, name)
        if not (isinstance(result, tuple) and len(result) == 2):
            raise AssertionError(f"{name} must return a pair (gamma, beta); got {type(result).__name__}")
        gamma, beta = (np.asarray(r, dtype=np.float64) for r in result)
        d = x.shape[1]
        for arr, label in ((gamma, "gamma"), (beta, "beta")):
            _expect_shape(arr, (d,), name, label, "One value per feature: use axis=0.")
        x64 = x.astype(np.float64)
        mean, var = x64.mean(axis=0), x64.var(axis=0)
        out, _ = numerics.batchnorm_forward(x64, gamma, beta, eps=eps)
        rtol, atol = _tolerance(x.dtype)
        if _close(out, x64, max(rtol, 1e-6), max(atol, 1e-6) * (1 + np.abs(x64).max())):
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
        _own_code(fn, name, rng.normal(size=(5, 2)), 1e-5)
