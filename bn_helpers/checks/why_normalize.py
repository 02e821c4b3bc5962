"""Checks of assignment 01_why_normalize: standardize, layer_stats, saturation_fraction.

The prediction on noisy batch norm (Section 5) is a written answer graded by hand with a rubric:
its answer is deliberately not in this package."""
from __future__ import annotations

import os
import sys
from typing import Callable

import numpy as np

from .. import diagnostics
from ..data import placement_table
from ._common import REFERENCE_FILES, as_array, close, expect_shape, hidden_rng, random_cases, tolerance
from ._messages import Cases, call, closest, differs, worst

__all__ = ["standardize", "layer_stats", "saturation_fraction"]

#: Files a graded function of this assignment must not call: the reference numerics and the diagnostics.
_FORBIDDEN = REFERENCE_FILES | {os.path.abspath(diagnostics.__file__)}


def _own_code(fn: Callable, name: str, *args) -> None:
    """Fail when ``fn`` calls bn_helpers' reference code (numerics, norms, stats, diagnostics)."""
    seen: list[str] = []

    def profiler(frame, event, arg):
        if event == "call" and os.path.abspath(frame.f_code.co_filename) in _FORBIDDEN:
            seen.append(frame.f_code.co_name)

    old = sys.getprofile()
    sys.setprofile(profiler)
    try:
        call(fn, name, *args)
    finally:
        sys.setprofile(old)
    if seen:
        raise AssertionError(
            f"{name} calls bn_helpers' reference code ({', '.join(sorted(set(seen)))}). "
            "The exercise is to write it yourself with NumPy.")


# --------------------------------------------------------------------------- standardize

def _constant(X) -> np.ndarray:
    """Features whose values are all equal: constant, whatever rounding makes of their computed std."""
    X = np.asarray(X)
    return np.all(X == X[:1], axis=0) if len(X) else np.zeros(X.shape[1:], dtype=bool)


def _standardize_ref(X):
    """(X - mean) / std per feature (population std), in float64; constant features become exactly 0."""
    X = np.asarray(X, dtype=np.float64)
    constant = _constant(X)
    std = X.std(axis=0)
    with np.errstate(all="ignore"):
        z = (X - X.mean(axis=0)) / np.where(constant, 1.0, std)
    return np.where(constant, 0.0, z)


def _safe(std):
    return np.where(std > 0, std, 1.0)


def _standardize_mistakes(X) -> list[tuple[str, Callable]]:
    X = np.asarray(X, dtype=np.float64)
    mean, std, var = X.mean(0), X.std(0), X.var(0)
    out = [
        ("You divided by the sample std (N-1, np.std(..., ddof=1) or pandas' .std()). Standardize with "
         "the population std np.std(X, axis=0), which divides by N.",
         lambda: (X - mean) / _safe(X.std(0, ddof=1))),
        ("You standardized each row over its features (axis=1). A feature is a column: take the mean "
         "and std over the rows, axis=0.",
         lambda: (X - X.mean(1, keepdims=True)) / _safe(X.std(1, keepdims=True))),
        ("You used one mean and one std for the whole array. Each feature gets its own: axis=0, shape (D,).",
         lambda: (X - X.mean()) / X.std()),
        ("Your mean is per feature but your std is one number for the whole array: take both with axis=0.",
         lambda: (X - mean) / X.std()),
        ("Your std is per feature but your mean is one number for the whole array: take both with axis=0.",
         lambda: (X - X.mean()) / _safe(std)),
        ("You forgot to subtract the mean: X / std only rescales. Standardize is (X - mean) / std.",
         lambda: X / _safe(std)),
        ("You subtracted the mean but did not divide by the std.", lambda: X - mean),
        ("You divided by the variance; divide by the standard deviation, its square root.",
         lambda: (X - mean) / _safe(var)),
        ("That is min-max scaling, (X - min) / (max - min), into [0, 1]. Standardizing gives mean 0 and "
         "std 1: (X - mean) / std.",
         lambda: (X - X.min(0)) / _safe(X.max(0) - X.min(0))),
    ]
    for eps in (1e-6, 1e-5, 1e-4, 1e-3, 1e-2):
        out.append((f"You divided by std + eps (eps = {eps:g}): it shrinks a feature with a small std (0.01 in "
                    "these cases) visibly. Divide by the std itself and give constant features their own "
                    "treatment.", (lambda e: lambda: (X - mean) / (std + e))(eps)))
        out.append((f"You divided by sqrt(var + eps) (eps = {eps:g}), batch norm's denominator: it shrinks a "
                    "feature with a small std (0.01 in these cases). Standardizing divides by the std itself; "
                    "give constant features their own treatment.",
                    (lambda e: lambda: (X - mean) / np.sqrt(var + e))(eps)))
    return out


_LARGE_MEAN = "float32 with mean 1e4 and std 1"
#: On that case a right float32 answer is within 0.004 of the float64 one (300 seeds of such data; the
#: one-pass formula E[x^2] - E[x]^2 is off by 1.5 or more, or NaN): it is judged with this absolute tolerance.
_LARGE_MEAN_ATOL = 0.05
_ONE_PASS = ("on float32 data with mean 1e4 and std 1 your result is off ({worst}), though it is right on every "
             "other case: the signature of the one-pass variance E[x^2] - E[x]^2, which subtracts two numbers "
             "near 1e8 and keeps no digit in float32. Compute the std from the centred data: X.std(axis=0), or "
             "np.sqrt(((X - mean) ** 2).mean(axis=0)).")


def _standardize_cases(hidden):
    rng = np.random.default_rng(1)
    cases = [("the cgpa/iq table", placement_table()["X"]),
             ("three scales (7, 3)", np.column_stack([rng.normal(7.5, 1.0, 7), rng.normal(100, 15, 7),
                                                     rng.normal(0, 0.01, 7)]))]
    const = np.column_stack([rng.normal(2.0, 3.0, 6), np.full(6, 5.0), rng.normal(-1, 1, 6), np.full(6, 0.1)])
    cases.append(("constant features 5.0 and 0.1", const))
    cases.append(("float32 (5, 3)", rng.normal(3.0, 2.0, size=(5, 3)).astype(np.float32)))
    if hidden:
        rng = hidden_rng(1)
        cases += [("random shape", x) for x in random_cases(17)]
        cases.append(("all constant", np.full((4, 3), -2.0)))
        cases.append(("float32 with a constant feature",
                      np.column_stack([np.full(9, 3.0), rng.normal(0, 1, 9)]).astype(np.float32)))
        cases.append(("float64 with mean 1000", rng.normal(1e3, 1.0, size=(50, 4))))
        cases.append((_LARGE_MEAN, rng.normal(1e4, 1.0, size=(50, 4)).astype(np.float32)))
    return cases


def _standardize_case(fn, name, label, X):
    result = call(fn, name, X, hint=_HINT_01, names=("X",))
    if isinstance(result, tuple):
        raise AssertionError(f"{name} must return the standardized array only; it returned a tuple of "
                             f"{len(result)}. Return (X - mean) / std, not the statistics with it.")
    got = as_array(result, name, "the standardized data")
    if got.shape == X.shape[::-1] and X.shape[0] != X.shape[1]:
        raise AssertionError(f"{name}: the result has shape {got.shape}, the transpose of X {X.shape}. "
                             "Keep X's layout: rows are examples, columns are features.")
    expect_shape(got, X.shape, name, "the result", "Standardizing keeps the shape of X: (N, D).")
    if got.dtype.kind != "f":
        raise AssertionError(f"{name}: the result has dtype {got.dtype}; standardized values are floats.")
    got64 = got.astype(np.float64)
    expected = _standardize_ref(X)
    where = f"{label}, X of shape {X.shape} ({X.dtype})"
    constant = _constant(X)
    if not np.all(np.isfinite(got64)):
        bad = sorted(set(np.nonzero(~np.isfinite(got64))[1].tolist()))
        if np.any(constant[bad]):
            raise AssertionError(
                f"{name}: NaN or inf in feature(s) {bad}, which are constant (std 0): 0/0. Decide what a "
                "constant feature becomes; this course's answer: centre it and do not scale it, so it becomes "
                f"all zeros.\n  {where}")
        if label == _LARGE_MEAN:
            raise AssertionError(f"{name}: " + _ONE_PASS.format(worst=worst(got64, expected)) + f"\n  {where}")
        raise AssertionError(f"{name}: {differs(got64, expected)}\n  {where}")
    rtol, atol = tolerance(X.dtype)
    atol = max(atol, 1e-9) * 10
    if label == _LARGE_MEAN:
        if close(got, expected, 0.0, _LARGE_MEAN_ATOL):
            return
        raise AssertionError(f"{name}: " + _ONE_PASS.format(worst=worst(got64, expected)) + f"\n  {where}")
    if close(got, expected, max(rtol, 1e-6) * 10, atol):
        return
    if constant.any() and close(got[:, ~constant], expected[:, ~constant], 1e-5, 1e-6):
        x = np.asarray(X, dtype=np.float64)
        off = constant & ~np.all(np.abs(got64) < 1e-6, axis=0)
        cols = np.nonzero(off)[0].tolist()
        g = got64[:, off]
        if np.allclose(np.abs(g), 1.0, atol=1e-3):
            stds = x[:, off].std(axis=0)
            raise AssertionError(
                f"{name}: constant feature(s) {cols} (every value {_num(x[0, off])}) came out as "
                f"{_num(g[0])}, not zeros. Their computed std is {float(stds.max()):.1e}, rounding noise "
                "rather than 0, so `std > 0` or `std == 0` misses them: test whether all values are equal "
                f"(np.ptp(X, axis=0) == 0), or compare the std with a tolerance.\n  {where}")
        raise AssertionError(
            f"{name}: a constant feature (all values equal, here columns {cols}) should become all zeros "
            f"(centred, not scaled); {worst(g, expected[:, off])}.\n  {where}")
    message = closest(got64[:, ~constant], [(m, (lambda c: lambda: c()[:, ~constant])(c))
                                             for m, c in _standardize_mistakes(X)])
    message = message or ("wrong values. Per feature (column): subtract its mean, divide by its std "
                          "(np.std, axis=0); print your mean and std and compare them with np.mean and np.std.")
    raise AssertionError(f"{name}: {message}\n  {where}: {worst(got64, expected)}")


def _num(values) -> str:
    values = np.atleast_1d(values)
    return ", ".join(f"{float(v):.6g}" for v in values)


_HINT_01 = "Check the shapes of your intermediate results: one mean and one std per feature (column), axis=0."


def standardize(fn: Callable, hidden: bool = False) -> None:
    """Check ``fn(X) -> (N, D)``: per-feature ``(X - mean) / std`` with the population std.

    A constant feature (all values equal) must come out as zeros, not NaN and
    not +-1: it is centred and left unscaled. Its computed std may be rounding
    noise such as 1.4e-17 instead of 0 (a column of 0.1 repeated).

    Raises
    ------
    AssertionError
        Naming the likely mistake (N-1, wrong axis, one statistic for the
        whole array, no centering, no scaling, the variance, min-max scaling,
        std + eps, NaN or +-1 on a constant feature, E[x^2] - E[x]^2 in
        float32, a wrong shape, a tuple, an input changed in place).
    """
    name = "standardize"
    cases = Cases(name)
    for label, X in _standardize_cases(hidden):
        _standardize_case(fn, name, label, X)
        cases.add(label)
    if hidden:
        _own_code(fn, name, np.random.default_rng(0).normal(size=(5, 3)))
        cases.add("own code")
    cases.passed()


# --------------------------------------------------------------------------- layer_stats

def _layer_cases(hidden):
    rng = np.random.default_rng(2)
    cases = [
        ("two one-row layers", [np.array([[1.0, 3.0]]), np.array([[-2.0, 2.0]])]),
        ("three layers of 8 examples",
         [rng.normal(0.5, 2.0, size=(8, 5)), rng.normal(-1.0, 0.5, size=(8, 3)), np.tanh(rng.normal(size=(8, 3)))]),
        ("a float32 layer", [rng.normal(1.0, 3.0, size=(6, 4)).astype(np.float32)]),
    ]
    if hidden:
        rng = hidden_rng(2)
        cases.append(("float32 (64, 100) and float64 (64, 10)",
                      [rng.normal(3.0, 2.0, size=(64, 100)).astype(np.float32), rng.normal(size=(64, 10))]))
        cases.append(("a 1-D and a 4-D layer", [rng.normal(size=(30,)), rng.uniform(size=(4, 2, 3, 3))]))
        cases.append(("a constant layer", [np.full((5, 4), 2.5)]))
        cases.append(("no layers", []))
    return cases


def _pair_hints(a64, m, s, mean, std):
    n = a64.size
    absa = np.abs(a64)
    per_unit = [a64.std(axis=k).mean() for k in range(a64.ndim)] if a64.ndim > 1 else []
    return [
        (np.isclose(m, absa.mean()) and np.isclose(s, absa.std()) and not np.isclose(m, mean),
         "You took the mean and std of |a| (np.abs): the course looks at the signed activations, whose mean "
         "shows the drift, a.mean() and a.std()."),
        (np.isclose(m, absa.mean()) and np.isclose(s, std) and not np.isclose(m, mean),
         "Your mean is the mean of |a|; take the mean of the signed activations, a.mean()."),
        (np.isclose(m, std) and np.isclose(s, mean), "You swapped them: each pair is (mean, std)."),
        (np.isclose(m, mean) and np.isclose(s, std**2) and not np.isclose(std, std**2),
         "The second number is the variance; return the standard deviation (a.std())."),
        (np.isclose(m, mean) and n > 1 and np.isclose(s, a64.std(ddof=1)),
         "You used the sample std (N-1, ddof=1); use the population std a.std() (divides by the number of "
         "entries), like the rest of the course."),
        (np.isclose(m, mean) and np.isclose(s, np.sqrt(np.mean(a64**2))),
         "The second number is the root mean square: you forgot to subtract the mean before squaring."),
        (np.isclose(m, mean) and any(np.isclose(s, p) for p in per_unit),
         "Your std is an average of per-unit (or per-example) stds; take one std over all entries of the "
         "layer: a.std() without axis (it also counts how the units' means differ)."),
    ]


def layer_stats(fn: Callable, hidden: bool = False) -> None:
    """Check ``fn(activations) -> list[(mean, std)]``, one pair of floats per layer, over all entries.

    Raises
    ------
    AssertionError
        Naming the likely mistake: per-unit arrays instead of one number per
        layer, the std alone, (std, mean) swapped, the variance, N-1, the
        statistics of |a|, an average of per-unit stds, (means, stds) instead
        of pairs, an input changed in place.
    """
    name = "layer_stats"
    passed = Cases(name)
    for label, acts in _layer_cases(hidden):
        _layer_case(fn, name, label, acts)
        passed.add(label)
    if hidden:
        _own_code(fn, name, [np.ones((2, 2)), np.arange(4.0).reshape(2, 2)])
        passed.add("own code")
    passed.passed()


def _layer_case(fn, name, label, acts):
    result = call(fn, name, list(acts), hint="Each layer's array can have any shape: take a.mean() and a.std() "
                  "over all its entries (no axis).", names=("activations",))
    stats = [(float(np.mean(np.asarray(a, np.float64))), float(np.std(np.asarray(a, np.float64)))) for a in acts]
    if not isinstance(result, (list, tuple)):
        extra = (" Wrap it in list(...)." if hasattr(result, "__iter__") and not isinstance(result, (dict, np.ndarray))
                 else "")
        raise AssertionError(
            f"{name} must return a list with one (mean, std) pair per layer; got {type(result).__name__}.{extra}")
    if (len(result) == 2 and all(isinstance(r, (list, tuple, np.ndarray)) and len(r) == len(acts) for r in result)
            and len(acts) > 0 and np.allclose(np.asarray(result[0], np.float64), [m for m, _ in stats])
            and np.allclose(np.asarray(result[1], np.float64), [s for _, s in stats])):
        raise AssertionError(f"{name}: you returned (means, stds), two lists; return one (mean, std) pair per "
                             "layer: [(mean_1, std_1), (mean_2, std_2), ...] (zip them).")
    if len(result) != len(acts):
        raise AssertionError(f"{name}: returned {len(result)} pair(s) for {len(acts)} layer(s) ({label}); "
                             "return one (mean, std) pair per layer, in the order of the layers.")
    for i, (a, pair, (mean, std)) in enumerate(zip(acts, result, stats)):
        a64 = np.asarray(a, dtype=np.float64)
        if np.ndim(pair) == 0:
            v = float(pair)
            hint = ("You returned only the std of each layer" if np.isclose(v, std) else
                    "You returned only the mean of each layer" if np.isclose(v, mean) else
                    "You returned one number per layer")
            raise AssertionError(f"{name}: {hint}; return a pair (mean, std) for each layer, "
                                 f"e.g. [(mean_1, std_1), (mean_2, std_2), ...].")
        parts = [np.asarray(p) for p in pair] if isinstance(pair, (tuple, list)) else [np.asarray(pair)]
        if len(parts) != 2 or any(p.size != 1 for p in parts):
            shapes = [p.shape for p in parts]
            raise AssertionError(
                f"{name}: layer {i} gave {shapes} instead of two numbers. Take the mean and std over all "
                "entries of the layer's array (a.mean(), a.std(), no axis): one number each, not one per unit.")
        m, s = (float(p.ravel()[0]) for p in parts)
        rtol = 1e-5 if np.asarray(a).dtype != np.float64 else 1e-9
        if np.isclose(m, mean, rtol=rtol, atol=1e-7) and np.isclose(s, std, rtol=rtol, atol=1e-7):
            continue
        hint = next((h for c, h in _pair_hints(a64, m, s, mean, std) if c), None)
        if hint is None:
            which = ("the mean and the std are" if not np.isclose(m, mean, rtol=1e-5) and not np.isclose(s, std, rtol=1e-5)
                     else "the mean is" if not np.isclose(m, mean, rtol=1e-5) else "the std is")
            hint = (f"{which} wrong. Use one number over all entries of each layer: float(np.mean(a)), "
                    "float(np.std(a)); try them on the layer below by hand.")
        raise AssertionError(
            f"{name}: {hint}\n  layer {i} of {label} (shape {a64.shape}): expected ({mean:.6g}, {std:.6g}), "
            f"got ({m:.6g}, {s:.6g})")


# --------------------------------------------------------------------------- saturation_fraction

def _saturation_cases(hidden):
    a = np.array([[-1.0, -0.99, -0.97, -0.5], [0.0, 0.3, 0.97, 0.98], [0.999, 0.2, -0.1, 0.4]])
    cases = [("(3, 4) at threshold 0.97", a, 0.97), ("(3, 4) at threshold 0.5", a, 0.5),
             ("(3, 4) with the default threshold", a, None), ("(3, 4) in float32 at threshold 0.5", a.astype(np.float32), 0.5)]
    if hidden:
        rng = hidden_rng(4)
        cases.append(("random (64, 30)", np.tanh(rng.normal(0, 3, size=(64, 30))), 0.9))
        cases.append(("float32 1-D", np.tanh(rng.normal(0, 2, size=(100,))).astype(np.float32), 0.97))
        cases.append(("4-D", np.tanh(rng.normal(0, 2, size=(4, 3, 5, 5))), 0.99))
        cases.append(("values exactly at the threshold", np.array([0.97, -0.97, 0.5, -0.5]), 0.97))
        cases.append(("zeros at threshold 0", np.zeros((3, 3)), 0.0))
    return cases


def _saturation_hints(a, t_used, t, got, expected):
    x = np.abs(np.asarray(a, dtype=np.float64))
    signed = np.asarray(a, dtype=np.float64)
    count = float(np.sum(x > t_used))
    rows = np.shape(a)[0] if np.ndim(a) else 1
    return [
        (np.isclose(got, 100 * expected) and expected != 0, "You returned a percentage; return a fraction "
         "between 0 and 1 (no * 100), e.g. float(np.mean(np.abs(a) > threshold))."),
        (np.isclose(got, np.mean(x >= t_used)), "You counted |a| >= threshold; a unit exactly at the threshold "
         "is not saturated: use a strict |a| > threshold."),
        (np.isclose(got, np.mean((signed > t_used) | (signed <= -t_used))) or np.isclose(
            got, np.mean((signed >= t_used) | (signed < -t_used))),
         "Your two sides disagree: one uses > and the other >= (or <=). Use |a| > threshold on both sides."),
        (np.isclose(got, np.mean(signed > t_used)) or np.isclose(got, np.mean(signed >= t_used)),
         "You forgot the absolute value: tanh saturates at both ends, near -1 as well as near +1."),
        (np.isclose(got, np.mean((signed > t_used) | (signed < t_used))),
         "Your negative side compares a < threshold instead of a < -threshold; |a| > threshold does both sides."),
        (np.isclose(got, count) and got != expected, "You returned the count; divide by the number of entries "
         "(or use np.mean of the boolean array)."),
        (rows != x.size and np.isclose(got, count / rows), "You divided the count by the number of rows "
         "(len(a)); divide by the number of entries, a.size (or use np.mean)."),
        (np.isclose(got, 1 - expected), "You returned the fraction of *unsaturated* entries (|a| <= threshold)."),
        (np.isclose(got, np.mean(np.abs(np.tanh(signed)) > t_used)), "You applied tanh again: a already holds "
         "tanh activations; compare |a| with the threshold directly."),
        (t is not None and np.isclose(got, np.mean(x > 0.97)), "You ignored the threshold argument "
         "(0.97 hard-coded?): use the threshold passed in."),
    ]


def saturation_fraction(fn: Callable, hidden: bool = False) -> None:
    """Check ``fn(a, threshold=0.97) -> float``: the fraction of entries with ``|a| > threshold`` (strict).

    Raises
    ------
    AssertionError
        Naming the likely mistake: ``>=`` instead of ``>``, no absolute value
        (only the positive side), a < threshold on the negative side, a count
        instead of a fraction, a percentage, a count over the rows, the
        fraction of unsaturated entries, tanh applied again, the threshold
        ignored, True/False, an array instead of one number, an input changed
        in place.
    """
    name = "saturation_fraction"
    passed = Cases(name)
    hint = "a can have any shape (1-D, 2-D, 4-D): work on all its entries at once, np.abs(a) > threshold."
    for label, a, t in _saturation_cases(hidden):
        names = ("a", "threshold")
        result = call(fn, name, a, hint=hint, names=names) if t is None else call(fn, name, a, t, hint=hint, names=names)
        t_used = 0.97 if t is None else t
        if np.ndim(result) != 0:
            raise AssertionError(
                f"{name}: returned an array of shape {np.shape(result)}; return one number, the fraction over "
                "all entries (np.mean(...) without axis).")
        if isinstance(result, (bool, np.bool_)):
            raise AssertionError(
                f"{name}: returned {bool(result)}, a yes/no answer; return the fraction of entries with |a| > "
                "threshold, a number between 0 and 1 (np.mean of the boolean array, not a comparison of a mean).")
        try:
            got = float(result)
        except (TypeError, ValueError):
            raise AssertionError(f"{name} must return a number; got {type(result).__name__}.") from None
        expected = float(np.mean(np.abs(np.asarray(a, dtype=np.float64)) > t_used))
        if np.isclose(got, expected, atol=1e-9):
            passed.add(label)
            continue
        message = next((h for c, h in _saturation_hints(a, t_used, t, got, expected) if c),
                       "wrong fraction: count the entries with |a| > threshold and divide by a.size; check "
                       "your result on the (3, 4) example by hand.")
        raise AssertionError(
            f"{name}: {message}\n  {label} (threshold={t_used}): expected {expected:.6g}, "
            f"got {got:.6g}")
    if hidden:
        _own_code(fn, name, np.linspace(-1, 1, 9), 0.5)
        passed.add("own code")
    passed.passed()
