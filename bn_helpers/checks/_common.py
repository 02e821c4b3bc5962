"""What every check shares: calling student code safely, comparing, diagnosing.

Student code is called through :func:`call`, which bounds its time
(:data:`TIME_BUDGET` seconds), turns its exceptions into hints and fails
when it changed an argument in place (every argument is copied before the
call and compared after it);
:func:`own_code` fails when the student's function leans on ``bn_helpers``'
reference implementations; :func:`diagnose` finds which known mistake an
output matches.
"""
from __future__ import annotations

import contextlib
import inspect
import os
import re
import signal
import sys
import threading
import zlib
from typing import Any, Callable, Iterator

import numpy as np
from numpy.typing import NDArray

from .. import _reference
from .._validate import check_named

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


def _describe_one(a) -> str:
    if isinstance(a, np.ndarray):
        return f"array of shape {a.shape} ({a.dtype})"
    if isinstance(a, tuple) and hasattr(type(a), "_fields"):
        return f"a {type(a).__name__}"
    text = repr(a)
    if isinstance(a, (list, tuple, dict)) and len(text) > 80:
        return f"{type(a).__name__} of {len(a)} item(s)"
    return text


def describe(args: tuple) -> str:
    return ", ".join(_describe_one(a) for a in args)


def call(fn: Callable, name: str, *args, names: tuple[str, ...] | None = None, **kwargs) -> Any:
    """Call student code on the checks' arguments: bounded in time, errors turned into hints, nothing changed in place.

    The function gets copies (:func:`snapshot`: arrays, and the arrays inside
    tuples, lists, dicts and named caches), compared with the check's own
    arguments after the call: a function that changed one fails with
    :func:`in_place_message`, and a function that keeps a reference to its
    input cannot change the check's arrays later either, so that whatever a
    check computes from its arguments is computed from what the function was
    given. ``names`` names the positional arguments in that message
    (default: the function's own parameter names, else "argument k").
    """
    __tracebackhide__ = True  # noqa: F841 (IPython hides this frame)
    given, given_kw = [snapshot(a) for a in args], {k: snapshot(v) for k, v in kwargs.items()}
    try:
        with time_limit(TIME_BUDGET):
            result = fn(*given, **given_kw)
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
    arg_names = _argument_names(fn, len(args), names)
    unchanged({**dict(zip(arg_names, args)), **kwargs}, {**dict(zip(arg_names, given)), **given_kw}, name)
    return result


def as_array(value, name: str, what: str) -> NDArray:
    if not isinstance(value, (np.ndarray, np.generic, float, int, list, tuple)):
        raise AssertionError(f"{name} must return {what} as a NumPy array; got {type(value).__name__}")
    return np.asarray(value)


def expect_shape(arr: NDArray, shape: tuple, name: str, what: str, hint: str = "") -> None:
    if arr.shape != shape:
        raise AssertionError(
            f"{name}: {what} has shape {arr.shape}; expected {shape}. {hint}".rstrip()
        )


#: What every exercise states about dtypes, and what a check says when an answer breaks it.
DTYPE_RULE = ("return the input's dtype (float32 in, float32 out); computing in float64 inside is fine if you "
              "cast the result back, e.g. `.astype(x.dtype)`")


def expect_dtype(arr: NDArray, dtype, name: str, what: str) -> None:
    if arr.dtype != dtype:
        raise AssertionError(
            f"{name}: {what} has dtype {arr.dtype} but the input was {np.dtype(dtype)}; {DTYPE_RULE} "
            "(the exercise states it; look for np.float64(...) constants or astype)."
        )


# --------------------------------------------------------------------------
# Nothing changed in place: a snapshot before each call, compared after it
# --------------------------------------------------------------------------

def snapshot(value):
    """A deep copy of the arrays in ``value``: an array, or (named) tuples, lists and dicts of them.

    Anything else (a number, a string, an object) is kept as it is: the checks pass no other mutable argument.
    """
    if isinstance(value, np.ndarray):
        return np.array(value, copy=True)
    if isinstance(value, tuple) and hasattr(type(value), "_fields"):
        return type(value)._make(snapshot(v) for v in value)
    if isinstance(value, (list, tuple)):
        return (tuple if isinstance(value, tuple) else list)(snapshot(v) for v in value)
    if isinstance(value, dict):
        return {k: snapshot(v) for k, v in value.items()}
    return value


def _same_array(old: NDArray, new) -> bool:
    if not isinstance(new, np.ndarray) or old.shape != new.shape or old.dtype != new.dtype:
        return False
    try:
        return bool(np.array_equal(old, new, equal_nan=True))
    except TypeError:  # a dtype without NaN (object, str)
        return bool(np.array_equal(old, new))


def changed_part(old, new, path: str) -> str | None:
    """The first part of ``new`` that differs from ``old``, its :func:`snapshot` ("x", "cache.x_hat", "a[2]"), or None."""
    if isinstance(old, np.ndarray):
        return None if _same_array(old, new) else path
    if isinstance(old, tuple) and hasattr(type(old), "_fields"):
        parts = zip(type(old)._fields, old, new)
        return next((w for f, o, n in parts if (w := changed_part(o, n, f"{path}.{f}"))), None)
    if isinstance(old, (list, tuple)):
        if not isinstance(new, (list, tuple)) or len(new) != len(old):
            return path
        return next((w for i, (o, n) in enumerate(zip(old, new)) if (w := changed_part(o, n, f"{path}[{i}]"))), None)
    if isinstance(old, dict):
        if not isinstance(new, dict) or set(new) != set(old):
            return path
        return next((w for k, o in old.items() if (w := changed_part(o, new[k], f"{path}[{k!r}]"))), None)
    return None


def _argument_names(fn: Callable, count: int, names) -> list[str]:
    """Names of the first ``count`` positional arguments: ``names``, else the function's own, else "argument k"."""
    found = list(names or ())[:count]
    if len(found) < count:
        try:
            params = [p.name for p in inspect.signature(fn).parameters.values()
                      if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        except (TypeError, ValueError):
            params = []
        found += params[len(found):count]
    return found + [f"argument {k + 1}" for k in range(len(found), count)]


def in_place_message(name: str, path: str) -> str:
    """What a check says when student code changed ``path`` (an argument, or an array inside one) in place."""
    root = re.split(r"[.\[]", path, maxsplit=1)[0]
    if path == root:
        return (f"{name} changed its argument `{path}` in place (for example `{path} -= ...` or "
                f"`{path}[...] = ...`). The caller still needs it: compute into a new array, "
                f"e.g. `x_centered = x - mean`.")
    return (f"{name} changed {path} in place (for example `a *= ...` or `a[...] = ...` on an array read from "
            f"`{root}`). `{root}` belongs to the caller, who still needs it: compute into new arrays.")


def unchanged(before: dict, after: dict, name: str) -> None:
    """Fail when an argument (``after[name]``) differs from its :func:`snapshot` ``before[name]``."""
    for arg, old in before.items():
        where = changed_part(old, after[arg], arg)
        if where:
            raise AssertionError(in_place_message(name, where))


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
    """float32 data with mean 1e4 and noise 1e-2: E[x^2] - E[x]^2 returns garbage here (a hidden case: salted)."""
    rng = hidden_rng(2015)
    return (1e4 + 1e-2 * rng.standard_normal((64, 8))).astype(np.float32)


def get_field(cache, field: str, cache_type: str = "BatchNormCache"):
    """``cache.<field>`` (a dict's entry), or None when the cache lacks that field.

    Raises
    ------
    TypeError
        If ``cache`` has no named fields at all (a plain tuple or list, an
        array): "cache must be a BatchNormCache, or an object or dict with its
        named fields; got tuple of 8 items" (from :func:`bn_helpers._validate.check_named`).
    """
    check_named(cache, "cache", cache_type)
    if isinstance(cache, dict):
        return cache.get(field)
    return getattr(cache, field, None)
