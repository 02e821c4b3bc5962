"""What the checks say: where an answer differs, which known mistake it matches, what passed.

* :func:`worst` locates the largest error of an answer ("largest error 3.1e-03
  at [2, 1]: expected 0.0856, got 0.0887, relative error 3.6e-02"), so that a
  message never shows two arrays that look identical to four digits;
* :func:`differs` says what differs between an answer and the expected array
  (shape, NaN, values) and names a next step;
* :func:`closest` finds the known mistake whose output an answer matches;
* :func:`call` calls student code through ``_common.call`` (time budget,
  NotImplementedError) and replaces its generic hint for other exceptions by
  the assignment's own;
* :func:`passed` prints the one line a passing check shows (to stdout: nbgrader
  zeroes a test cell that writes to stderr).
"""
from __future__ import annotations

from collections import Counter
from typing import Callable, Iterable

import numpy as np

from . import _common

__all__ = ["worst", "differs", "closest", "call", "passed", "Cases"]


def _num(v: float, digits: int = 6) -> str:
    return f"{v:.{digits}g}"


def _digits(a: float, b: float) -> int:
    """Significant digits enough to show that ``a`` and ``b`` differ (6 to 15)."""
    for digits in range(6, 16):
        if _num(a, digits) != _num(b, digits):
            return digits
    return 15


def _index(idx: tuple) -> str:
    return "[" + ", ".join(str(int(i)) for i in idx) + "]"


def worst(got, expected) -> str:
    """Where ``got`` is furthest from ``expected`` (same shape): the error, the index, both values."""
    g = np.asarray(got, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    if g.shape != e.shape:
        return f"shape {g.shape}, expected {e.shape}"
    if g.size == 0:
        return "no values"
    bad = ~np.isfinite(g) & np.isfinite(e)
    if bad.any():
        idx = np.unravel_index(int(np.argmax(bad)), g.shape) if g.ndim else ()
        at = f" at {_index(idx)}" if idx else ""
        return (f"{int(bad.sum())} NaN/inf value(s), first{at}: expected {_num(float(e[idx]))}, "
                f"got {_num(float(g[idx]))}")
    with np.errstate(all="ignore"):
        diff = np.abs(g - e)
    diff = np.where(np.isnan(diff), np.inf, diff)
    flat = int(np.argmax(diff))
    idx = np.unravel_index(flat, g.shape) if g.ndim else ()
    d, ev, gv = float(diff[idx]), float(e[idx]), float(g[idx])
    rel = d / abs(ev) if ev != 0 else np.inf
    at = f" at {_index(idx)}" if idx else ""
    rel_text = f"relative error {rel:.1e}" if np.isfinite(rel) else "expected exactly 0"
    k = _digits(ev, gv)
    return f"largest error {d:.2g}{at}: expected {_num(ev, k)}, got {_num(gv, k)} ({rel_text})"


def differs(got, expected, what: str = "the result") -> str:
    """What differs between ``got`` and ``expected``, with a next step to try (one line)."""
    g = np.asarray(got)
    e = np.asarray(expected)
    if g.shape != e.shape:
        if g.shape == e.shape[::-1] and g.ndim == 2:
            return f"{what} has shape {g.shape}, the transpose of {e.shape}: check which axis is which."
        return f"{what} has shape {g.shape}; expected {e.shape}. Print the shape of each intermediate result."
    g64 = g.astype(np.float64)
    if not np.all(np.isfinite(g64)):
        return (f"{what} has NaN or inf ({worst(g64, e)}): look for a division by zero or the square root "
                "of a negative number.")
    return f"{what}: {worst(g64, e)}. Work it out by hand on the smallest case and compare step by step."


def _mismatch(got: np.ndarray, cand: np.ndarray) -> float:
    """Normwise relative distance: max |got - cand| over max |cand| (inf where shapes or NaNs differ)."""
    if cand.shape != got.shape:
        return np.inf
    fin_c, fin_g = np.isfinite(cand), np.isfinite(got)
    if not np.array_equal(fin_c, fin_g):
        return np.inf
    if not fin_c.any():
        return 0.0
    scale = float(np.max(np.abs(cand[fin_c]), initial=0.0)) + 1e-12
    return float(np.max(np.abs(got[fin_c] - cand[fin_c]), initial=0.0)) / scale


def closest(got, candidates: Iterable[tuple[str, object]], tol: float = 1e-4) -> str | None:
    """The message of the candidate output nearest to ``got``, if one lies within ``tol`` (relative, max norm).

    ``candidates`` holds ``(message, output)`` pairs; an output may be a
    zero-argument callable, evaluated with floating-point warnings silenced
    (one that raises, e.g. a broadcast impossible on these shapes, is skipped).
    """
    g = np.asarray(got, dtype=np.float64)
    best, best_err = None, tol
    for message, cand in candidates:
        try:
            with np.errstate(all="ignore"):
                value = cand() if callable(cand) else cand
                c = np.asarray(value, dtype=np.float64)
        except (ValueError, TypeError, IndexError, ZeroDivisionError):
            continue  # a slip that cannot even happen on these shapes (e.g. a broadcast that fails)
        err = _mismatch(g, c)
        if err <= best_err:
            best, best_err = message, err
    return best


def call(fn: Callable, name: str, *args, hint: str | None = None, **kwargs):
    """``_common.call`` with the assignment's own hint for exceptions raised by student code."""
    try:
        return _common.call(fn, name, *args, **kwargs)
    except AssertionError as exc:
        cause = exc.__cause__
        if hint is None or cause is None:
            raise
        raise AssertionError(
            f"{name} raised {type(cause).__name__}: {cause}\n  when called with "
            f"({_common.describe(args)}). {hint}") from cause


class Cases:
    """The labels of the cases a check has passed, for its one-line report."""

    def __init__(self, name: str):
        self.name = name
        self.labels: list[str] = []

    def add(self, label: str) -> None:
        self.labels.append(label)

    def passed(self) -> None:
        passed(self.name, self.labels)


def passed(name: str, labels: list[str]) -> None:
    """Print ``"<name>: k cases passed (a, b, 3 x c)"`` on stdout."""
    counts = Counter(labels)
    parts, seen = [], set()
    for label in labels:
        if label in seen:
            continue
        seen.add(label)
        parts.append(label if counts[label] == 1 else f"{counts[label]} x {label}")
    print(f"{name}: {len(labels)} cases passed ({', '.join(parts)})")
