"""Checks of assignment 01_why_normalize: standardize, layer_stats, saturation_fraction, prediction_ics."""
from __future__ import annotations

import os
import sys
from typing import Callable

import numpy as np

from .. import diagnostics
from ..data import placement_table
from ._common import REFERENCE_FILES, as_array, call, close, expect_shape, random_cases, tolerance, unchanged

__all__ = ["standardize", "layer_stats", "saturation_fraction", "prediction_ics", "MEASURED_NOISY_BN",
           "ICS_CHOICES", "ICS_ANSWER"]

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

def _standardize_ref(X):
    X = np.asarray(X, dtype=np.float64)
    std = X.std(axis=0)
    return (X - X.mean(axis=0)) / np.where(std > 0, std, 1.0)


def _safe(std):
    return np.where(std > 0, std, 1.0)


_STANDARDIZE_MISTAKES = [
    ("You divided by the sample std (N-1, np.std(..., ddof=1) or pandas' .std()). Standardize with "
     "the population std: np.std(X, axis=0), which divides by N, so that every feature ends with std 1 "
     "over these N rows.", lambda X: (X - X.mean(0)) / _safe(X.std(0, ddof=1))),
    ("You standardized each row over its features (axis=1). A feature is a column: take the mean "
     "and std over the rows, axis=0.",
     lambda X: (X - X.mean(1, keepdims=True)) / _safe(X.std(1, keepdims=True))),
    ("You used one mean and std for the whole array. Each feature gets its own: axis=0, shape (D,).",
     lambda X: (X - X.mean()) / X.std()),
    ("You forgot to subtract the mean: X / std only rescales. Standardize is (X - mean) / std.",
     lambda X: X / _safe(X.std(0))),
    ("You subtracted the mean but did not divide by the std.", lambda X: X - X.mean(0)),
    ("You divided by the variance; divide by the standard deviation, its square root.",
     lambda X: (X - X.mean(0)) / _safe(X.var(0))),
]


def _diagnose(got, X, mistakes, tol=1e-3):
    best, best_err = None, tol
    got = np.asarray(got, dtype=np.float64)
    X = np.asarray(X, dtype=np.float64)
    for message, wrong in mistakes:
        with np.errstate(all="ignore"):
            cand = wrong(X)
        if cand.shape != got.shape or not np.all(np.isfinite(cand)):
            continue
        err = float(np.max(np.abs(got - cand) / (np.abs(cand) + 1e-3), initial=0.0))
        if err <= best_err:
            best, best_err = message, err
    return best


def _standardize_cases(hidden):
    rng = np.random.default_rng(1)
    cases = [placement_table()["X"], np.column_stack([rng.normal(7.5, 1.0, 7), rng.normal(100, 15, 7),
                                                      rng.normal(0, 0.01, 7)])]
    const = np.column_stack([rng.normal(2.0, 3.0, 6), np.full(6, 5.0), rng.normal(-1, 1, 6)])
    cases.append(const)
    if hidden:
        cases += list(random_cases(17))
        cases.append(np.full((4, 3), -2.0))
        cases.append(np.column_stack([np.full(9, 3.0), rng.normal(0, 1, 9)]).astype(np.float32))
        cases.append(rng.normal(1e3, 1.0, size=(50, 4)))
    return cases


def standardize(fn: Callable, hidden: bool = False) -> None:
    """Check ``fn(X) -> (N, D)``: per-feature ``(X - mean) / std`` with the population std.

    A constant feature (std 0) must come out as zeros, not NaN: it is centred
    and left unscaled.

    Raises
    ------
    AssertionError
        Naming the likely mistake (N-1, wrong axis, one statistic for the
        whole array, no centering, no scaling, the variance, NaN on a constant
        feature, a wrong shape, an input changed in place).
    """
    name = "standardize"
    for X in _standardize_cases(hidden):
        before = X.copy()
        got = as_array(call(fn, name, X), name, "the standardized data")
        unchanged({"X": before}, {"X": X}, name)
        expect_shape(got, X.shape, name, "the result", "Standardizing keeps the shape of X: (N, D).")
        if got.dtype.kind != "f":
            raise AssertionError(f"{name}: the result has dtype {got.dtype}; standardized values are floats.")
        std = X.astype(np.float64).std(axis=0)
        if not np.all(np.isfinite(got)):
            bad = sorted(set(np.nonzero(~np.isfinite(got))[1].tolist()))
            if np.any(std[bad] == 0):
                raise AssertionError(
                    f"{name}: NaN or inf in feature(s) {bad}, which are constant (std 0): 0/0. Decide what "
                    "a constant feature becomes; this course's answer: centre it and do not scale it, so it "
                    "becomes all zeros (e.g. divide by np.where(std > 0, std, 1)).")
            raise AssertionError(f"{name}: the result has NaN or inf values for X of shape {X.shape}.")
        expected = _standardize_ref(X)
        rtol, atol = tolerance(X.dtype)
        atol = max(atol, 1e-9) * 10
        if close(got, expected, max(rtol, 1e-6) * 10, atol):
            continue
        constant = std == 0
        if constant.any() and close(got[:, ~constant], expected[:, ~constant], 1e-5, 1e-6):
            raise AssertionError(
                f"{name}: a constant feature (std 0, here columns {np.nonzero(constant)[0].tolist()}) should "
                f"become all zeros (centred, not scaled); got {np.round(got[:3, constant].ravel(), 4)}.")
        message = _diagnose(got, X, _STANDARDIZE_MISTAKES) or (
            "wrong values. Per feature (column): subtract its mean, divide by its std (np.std, axis=0).")
        raise AssertionError(
            f"{name}: {message}\n  X of shape {X.shape} ({X.dtype}): first row expected "
            f"{np.round(expected[0], 4)}, got {np.round(np.asarray(got[0], dtype=np.float64), 4)}")
    if hidden:
        _own_code(fn, name, np.random.default_rng(0).normal(size=(5, 3)))


# --------------------------------------------------------------------------- layer_stats

def _layer_cases(hidden):
    rng = np.random.default_rng(2)
    cases = [
        [np.array([[1.0, 3.0]]), np.array([[-2.0, 2.0]])],
        [rng.normal(0.5, 2.0, size=(8, 5)), rng.normal(-1.0, 0.5, size=(8, 3)), np.tanh(rng.normal(size=(8, 3)))],
    ]
    if hidden:
        cases.append([rng.normal(3.0, 2.0, size=(64, 100)).astype(np.float32),
                      rng.normal(size=(64, 10))])
        cases.append([rng.normal(size=(30,)), rng.uniform(size=(4, 2, 3, 3))])
        cases.append([np.full((5, 4), 2.5)])
        cases.append([])
    return cases


def layer_stats(fn: Callable, hidden: bool = False) -> None:
    """Check ``fn(activations) -> list[(mean, std)]``, one pair of floats per layer, over all entries.

    Raises
    ------
    AssertionError
        Naming the likely mistake: per-unit arrays instead of one number per
        layer, the std alone, (std, mean) swapped, the variance, N-1, an input
        changed in place.
    """
    name = "layer_stats"
    for acts in _layer_cases(hidden):
        before = [a.copy() for a in acts]
        result = call(fn, name, list(acts))
        unchanged({f"activations[{i}]": b for i, b in enumerate(before)},
                  {f"activations[{i}]": a for i, a in enumerate(acts)}, name)
        if not isinstance(result, (list, tuple)):
            raise AssertionError(
                f"{name} must return a list with one (mean, std) pair per layer; got {type(result).__name__}.")
        if len(result) != len(acts):
            raise AssertionError(f"{name}: returned {len(result)} entries for {len(acts)} layers; "
                                 "return one (mean, std) pair per layer.")
        for i, (a, pair) in enumerate(zip(acts, result)):
            a64 = np.asarray(a, dtype=np.float64)
            mean, std = float(a64.mean()), float(a64.std())
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
                    f"{name}: layer {i} gave {shapes} instead of two numbers. Take the mean and std over "
                    "all entries of the layer's array (a.mean(), a.std(), no axis): one number each, "
                    "not one per unit.")
            m, s = (float(p.ravel()[0]) for p in parts)
            rtol = 1e-5 if a64.dtype != np.asarray(a).dtype or np.asarray(a).dtype == np.float32 else 1e-9
            if np.isclose(m, mean, rtol=rtol, atol=1e-7) and np.isclose(s, std, rtol=rtol, atol=1e-7):
                continue
            n = a64.size
            hints = [
                (np.isclose(m, std) and np.isclose(s, mean), "You swapped them: each pair is (mean, std)."),
                (np.isclose(m, mean) and np.isclose(s, std**2), "The second number is the variance; "
                 "return the standard deviation (a.std())."),
                (np.isclose(m, mean) and n > 1 and np.isclose(s, a64.std(ddof=1)),
                 "You used the sample std (N-1, ddof=1); use the population std a.std() (divides by the "
                 "number of entries), like the rest of the course."),
                (np.isclose(m, mean) and np.isclose(s, np.sqrt(np.mean(a64**2))),
                 "The second number is the root mean square: you forgot to subtract the mean before squaring."),
            ]
            hint = next((h for c, h in hints if c), "wrong mean or std.")
            raise AssertionError(
                f"{name}: {hint}\n  layer {i} (shape {a64.shape}): expected ({mean:.5g}, {std:.5g}), "
                f"got ({m:.5g}, {s:.5g})")
    if hidden:
        _own_code(fn, name, [np.ones((2, 2)), np.arange(4.0).reshape(2, 2)])


# --------------------------------------------------------------------------- saturation_fraction

def _saturation_cases(hidden):
    a = np.array([[-1.0, -0.99, -0.97, -0.5], [0.0, 0.3, 0.97, 0.98], [0.999, 0.2, -0.1, 0.4]])
    cases = [(a, 0.97), (a, 0.5), (a, None)]
    if hidden:
        rng = np.random.default_rng(4)
        cases.append((np.tanh(rng.normal(0, 3, size=(64, 30))), 0.9))
        cases.append((np.tanh(rng.normal(0, 2, size=(100,))).astype(np.float32), 0.97))
        cases.append((np.tanh(rng.normal(0, 2, size=(4, 3, 5, 5))), 0.99))
        cases.append((np.array([0.97, -0.97, 0.5, -0.5]), 0.97))
        cases.append((np.zeros((3, 3)), 0.0))
    return cases


def saturation_fraction(fn: Callable, hidden: bool = False) -> None:
    """Check ``fn(a, threshold=0.97) -> float``: the fraction of entries with ``|a| > threshold`` (strict).

    Raises
    ------
    AssertionError
        Naming the likely mistake: ``>=`` instead of ``>``, no absolute value
        (only the positive side), a count instead of a fraction, the fraction
        of unsaturated entries, the threshold ignored, an array instead of one
        number, an input changed in place.
    """
    name = "saturation_fraction"
    for a, t in _saturation_cases(hidden):
        before = a.copy()
        result = call(fn, name, a) if t is None else call(fn, name, a, t)
        unchanged({"a": before}, {"a": a}, name)
        t_used = 0.97 if t is None else t
        if np.ndim(result) != 0:
            raise AssertionError(
                f"{name}: returned an array of shape {np.shape(result)}; return one number, the fraction over "
                "all entries (np.mean(...) without axis).")
        got = float(result)
        x = np.abs(np.asarray(a, dtype=np.float64))
        expected = float(np.mean(x > t_used))
        if np.isclose(got, expected, atol=1e-9):
            continue
        signed = np.asarray(a, dtype=np.float64)
        hints = [
            (np.isclose(got, np.mean(x >= t_used)), "You counted |a| >= threshold; a unit exactly at the "
             "threshold is not saturated: use a strict |a| > threshold."),
            (np.isclose(got, np.mean(signed > t_used)) or np.isclose(got, np.mean(signed >= t_used)),
             "You forgot the absolute value: tanh saturates at both ends, near -1 as well as near +1."),
            (np.isclose(got, np.sum(x > t_used)) and got != expected, "You returned the count; divide by "
             "the number of entries (or use np.mean of the boolean array)."),
            (np.isclose(got, 1 - expected), "You returned the fraction of *unsaturated* entries (|a| <= threshold)."),
            (t is not None and np.isclose(got, np.mean(x > 0.97)), "You ignored the threshold argument "
             "(0.97 hard-coded?): use the threshold passed in."),
        ]
        hint = next((h for c, h in hints if c), "wrong fraction.")
        raise AssertionError(
            f"{name}: {hint}\n  a of shape {np.shape(a)}, threshold={t_used}: expected {expected:.4f}, got {got:.4f}")
    if hidden:
        _own_code(fn, name, np.linspace(-1, 1, 9), 0.5)


# --------------------------------------------------------------------------- prediction_ics

#: The choices offered in the notebook.
ICS_CHOICES = {
    "a": "noisy BN trains much worse than BN, about like the network without BN",
    "b": "noisy BN trains about as well as BN, and far better than without BN",
    "c": "noisy BN fails to train at all (chance accuracy, about 0.1)",
}
#: Measured by ``bn_helpers.experiments.why_normalize.noisy_bn_run`` (3x100 sigmoid, batch 60,
#: lr 0.1, seed 0, 1000 steps): test accuracy at the last step. tests/test_experiments_01.py
#: re-runs it and asserts these numbers.
MEASURED_NOISY_BN = {"BN": 0.977, "noisy BN (n=1)": 0.978, "no BN": 0.809}
ICS_ANSWER = "b"


def _letter(value):
    if not isinstance(value, str):
        raise AssertionError(
            f"prediction_ics must return one of the letters 'a', 'b', 'c' as a string; got {value!r}.")
    letter = value.strip().strip("()").strip().lower()
    if letter not in ICS_CHOICES:
        raise AssertionError(
            f"prediction_ics must return one of 'a', 'b', 'c'; got {value!r}.")
    return letter


def prediction_ics(fn: Callable, hidden: bool = False) -> None:
    """Check the predict-then-verify answer on Santurkar et al.'s noisy batch norm.

    The visible check only checks that the answer is one of the letters; the
    hidden one grades it against the measured result (:data:`MEASURED_NOISY_BN`).

    Raises
    ------
    AssertionError
        If the answer is not a letter of :data:`ICS_CHOICES`, or (hidden) not
        the measured outcome; the message says what was measured.
    """
    letter = _letter(call(fn, "prediction_ics"))
    if hidden and letter != ICS_ANSWER:
        measured = ", ".join(f"{k} {v:.3f}" for k, v in MEASURED_NOISY_BN.items())
        raise AssertionError(
            f"prediction_ics: you predicted ({letter}) {ICS_CHOICES[letter]}; the seeded experiment measured "
            f"test accuracy after 1000 steps: {measured}. That is ({ICS_ANSWER}): "
            f"{ICS_CHOICES[ICS_ANSWER]}. Distributions that change at every step did not hurt training.")
