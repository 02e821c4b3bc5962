"""What every check shares: calling student code safely, comparing, diagnosing.

Student code is called through :func:`call`, which bounds its time
(:data:`TIME_BUDGET` seconds) and turns its exceptions into hints;
:func:`own_code` fails when the student's function leans on ``bn_helpers``'
reference implementations; :func:`diagnose` finds which known mistake an
output matches.
"""
from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import zlib
from typing import Any, Callable, Iterator

import numpy as np
from numpy.typing import NDArray

from .. import _reference

#: Seconds one call of student code may take before the check gives up.
TIME_BUDGET = 5.0

#: Files of reference code a graded function must not call: every module the judge forwards
#: (:data:`bn_helpers._reference.REFERENCE`: numerics, norms, stats, nn, diagnostics, rmsnorm, gradcheck).
REFERENCE_FILES = _reference.files()


class _OutOfTime(BaseException):
    """Raised inside student code when its time budget is spent."""


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
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


def describe(args: tuple) -> str:
    parts = []
    for a in args:
        if isinstance(a, np.ndarray):
            parts.append(f"array of shape {a.shape} ({a.dtype})")
        else:
            parts.append(repr(a))
    return ", ".join(parts)


def call(fn: Callable, name: str, *args, **kwargs) -> Any:
    """Call student code with a time budget; turn its errors into hints."""
    __tracebackhide__ = True  # noqa: F841 (IPython hides this frame)
    try:
        with time_limit(TIME_BUDGET):
            return fn(*args, **kwargs)
    except _OutOfTime:
        raise AssertionError(
            f"{name} did not return within {TIME_BUDGET:g} s on ({describe(args)}). "
            "Is there a loop that never ends? Batch norm needs no Python loop at all: "
            "use NumPy operations along axis 0."
        ) from None
    except NotImplementedError:
        raise AssertionError(
            f"{name} is not implemented yet: replace `raise NotImplementedError()` with your code."
        ) from None
    except Exception as exc:
        raise AssertionError(
            f"{name} raised {type(exc).__name__}: {exc}\n  when called with ({describe(args)}). "
            "Check the shapes of your intermediate results: per-feature statistics over the "
            "batch have shape (D,) and come from axis=0."
        ) from exc


def as_array(value, name: str, what: str) -> NDArray:
    if not isinstance(value, (np.ndarray, np.generic, float, int, list, tuple)):
        raise AssertionError(f"{name} must return {what} as a NumPy array; got {type(value).__name__}")
    return np.asarray(value)


def expect_shape(arr: NDArray, shape: tuple, name: str, what: str, hint: str = "") -> None:
    if arr.shape != shape:
        raise AssertionError(
            f"{name}: {what} has shape {arr.shape}; expected {shape}. {hint}".rstrip()
        )


def expect_dtype(arr: NDArray, dtype, name: str, what: str) -> None:
    if arr.dtype != dtype:
        raise AssertionError(
            f"{name}: {what} has dtype {arr.dtype} but the input was {np.dtype(dtype)}; "
            "keep the input's dtype (avoid np.float64(...) constants and astype)."
        )


def unchanged(before: dict[str, NDArray], after: dict[str, NDArray], name: str) -> None:
    for arg, old in before.items():
        if not np.array_equal(old, after[arg], equal_nan=True):
            raise AssertionError(
                f"{name} changed its argument `{arg}` in place (for example `{arg} -= ...` or "
                f"`{arg}[...] = ...`). The caller still needs it: compute into a new array, "
                f"e.g. `x_centered = x - mean`."
            )


#: Set by the judge while it runs one test cell: every ``files`` set a check watches is added, so the judge can
#: forbid reference calls over the whole cell, not only inside the window (see :func:`declared_reference`).
_DECLARED: list[set[str]] | None = None


@contextlib.contextmanager
def declared_reference() -> Iterator[list[set[str]]]:
    """Within the block, collect the file sets every :func:`watch_reference` of the checks watches."""
    global _DECLARED
    old, _DECLARED = _DECLARED, []
    try:
        yield _DECLARED
    finally:
        _DECLARED = old


@contextlib.contextmanager
def watch_reference(files: set[str] | None = None) -> Iterator[list[str]]:
    """Record calls into reference code (``files``, default :data:`REFERENCE_FILES`) made while the block runs.

    Under the judge the set is also declared for the whole test cell (:func:`declared_reference`): a call the
    student's code makes before or after this window, or while the judge reads a returned value, counts too.
    """
    seen: list[str] = []
    files = REFERENCE_FILES if files is None else files
    if _DECLARED is not None:
        _DECLARED.append(set(files))

    def profiler(frame, event, arg):
        if event == "call" and os.path.abspath(frame.f_code.co_filename) in files:
            seen.append(frame.f_code.co_name)

    old = sys.getprofile()
    sys.setprofile(profiler)
    try:
        yield seen
    finally:
        sys.setprofile(old)


def fresh_args(name: str, args: tuple) -> tuple:
    """``args`` with every float array scaled entrywise by a fresh factor in [0.75, 1.25] (dtype, shape and signs kept).

    The factors come from :func:`hidden_rng` (salted by the judge), so the probe's input is one the student's
    code has not seen in this test and cannot recompute from the public seeds: an answer cached by input or
    looked up fails. Scaling by positive factors keeps what a valid input needs (positive variances, zeros).
    """
    rng = hidden_rng(zlib.crc32(name.encode()) ^ 0x0C0DE)
    out = []
    for a in args:
        if isinstance(a, np.ndarray) and a.dtype.kind == "f":
            a = (a * rng.uniform(0.75, 1.25, a.shape)).astype(a.dtype)
        out.append(a)
    return tuple(out)


def _agree(got, expected, rtol: float, atol: float) -> bool:
    """Whether a result matches the reference's, array by array (tuples and lists compared item by item)."""
    if isinstance(expected, (tuple, list)):
        return (isinstance(got, (tuple, list)) and len(got) >= len(expected)
                and all(_agree(g, e, rtol, atol) for g, e in zip(got, expected)))
    try:
        g, e = np.asarray(got), np.asarray(expected)
    except Exception:
        return False
    if g.dtype.kind not in "biuf" or e.dtype.kind not in "biuf" or g.shape != e.shape:
        return False
    return bool(np.allclose(g.astype(np.float64), e.astype(np.float64), rtol=rtol, atol=atol, equal_nan=True))


def own_code(fn: Callable, name: str, *args, reference: Callable | None = None,
             pick: Callable | None = None) -> None:
    """Fail when ``fn`` calls bn_helpers' reference code, probed on a fresh input (:func:`fresh_args`).

    With ``reference`` (the trusted function, same arguments), the probe's result must also agree with it:
    ``pick(result)`` (default: the result) against ``reference(*fresh)``, at :func:`tolerance` of the first
    array argument's dtype. Under the judge, every reference call of the whole hidden test cell counts as well.
    """
    fresh = fresh_args(name, args)
    with watch_reference() as seen:
        got = call(fn, name, *fresh)
    if seen:
        raise AssertionError(
            f"{name} calls bn_helpers' reference code ({', '.join(sorted(set(seen)))}). "
            "The exercise is to write it yourself with NumPy."
        )
    if reference is not None:
        expected = reference(*fresh)
        dtype = next((a.dtype for a in fresh if isinstance(a, np.ndarray) and a.dtype.kind == "f"), np.float64)
        if not _agree(pick(got) if pick is not None else got, expected, *tolerance(dtype)):
            raise AssertionError(
                f"{name} gave a wrong result on a fresh input (the same shapes, new values): does it depend on "
                "inputs it has seen before?")


def diagnose(got: NDArray, x, gamma, beta, eps, mistakes, tol=1e-3) -> str | None:
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


def close(got: NDArray, expected: NDArray, rtol: float, atol: float) -> bool:
    return got.shape == expected.shape and bool(
        np.allclose(got.astype(np.float64), expected.astype(np.float64), rtol=rtol, atol=atol)
    )


def tolerance(dtype) -> tuple[float, float]:
    """(rtol, atol) for an answer in ``dtype``.

    float32: normalizing data whose mean is many standard deviations from 0
    (random cases reach |mean|/std ~ 90) leaves absolute rounding errors up to
    ~4e-5 in outputs of size ~1 (measured over 400 draws of the hidden cases),
    so an absolute tolerance of 1e-5 failed correct answers near 0; every known
    mistake differs by 1e-3 or more.
    """
    return (1e-4, 1e-4) if np.dtype(dtype) == np.float32 else (1e-7, 1e-9)


#: A secret the judge mixes into the seeds of hidden random cases (None: the public seeds). Set only
#: inside :func:`salted`: the hidden cases a grade rests on are then not the ones anyone can draw at home
#: with ``checks.<name>(fn, hidden=True)``, so a table of memorised answers fails them.
SEED_SALT: int | None = None


def hidden_rng(seed: int) -> np.random.Generator:
    """``np.random.default_rng(seed)``, salted with :data:`SEED_SALT` when the judge grades."""
    return np.random.default_rng(seed if SEED_SALT is None else [seed, SEED_SALT])


@contextlib.contextmanager
def salted(salt: int | None) -> Iterator[None]:
    """Within the block, :func:`hidden_rng` and :func:`random_cases` draw from ``[seed, salt]``."""
    global SEED_SALT
    old, SEED_SALT = SEED_SALT, salt
    try:
        yield
    finally:
        SEED_SALT = old


def random_cases(seed: int, count: int = 6) -> Iterator[NDArray]:
    """Random (N, D) batches, N from 2 to 64 and D from 1 to 20, float64 and float32 (seed salted by the judge)."""
    rng = hidden_rng(seed)
    for k in range(count):
        n, d = int(rng.integers(2, 65)), int(rng.integers(1, 21))
        x = rng.normal(rng.normal(0, 3, d), rng.uniform(0.1, 5, d), size=(n, d))
        yield x.astype(np.float32 if k % 2 else np.float64)


def large_mean_batch() -> NDArray:
    """float32 data with mean 1e4 and noise 1e-2: E[x^2] - E[x]^2 returns garbage here."""
    rng = np.random.default_rng(2015)
    return (1e4 + 1e-2 * rng.standard_normal((64, 8))).astype(np.float32)


def get_field(cache, field: str):
    if isinstance(cache, dict):
        return cache.get(field)
    return getattr(cache, field, None)
