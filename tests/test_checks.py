"""bn_helpers.checks: correct code passes, each known mistake is named, loops are cut short."""
import time

import numpy as np
import pytest

from bn_helpers import checks, grading
from conftest import course_cases

CASES = {m.ASSIGNMENT: m for m in course_cases()}


def _functions(assignment, edits=None) -> dict:
    """The instructor's solution functions, with some cells replaced, executed in one namespace."""
    cells = {**grading.solution_code(grading.REPO, assignment), **(edits or {})}
    namespace = dict(CASES[assignment].NAMESPACE)
    for code in cells.values():
        exec(code, namespace)
    return namespace


def _graded(assignment):
    return list(grading.solution_code(grading.REPO, assignment))


def _failures(assignment, namespace) -> dict[str, str]:
    failed = {}
    for name in _graded(assignment):
        for hidden in (False, True):
            try:
                getattr(checks, name)(namespace[name], hidden=hidden)
            except AssertionError as exc:
                failed[f"test_{name}" + ("_hidden" if hidden else "")] = str(exc)
    return failed


@pytest.mark.parametrize("assignment", CASES)
def test_solution_passes(assignment):
    assert _failures(assignment, _functions(assignment)) == {}


@pytest.mark.parametrize("assignment, name", [(a, n) for a, m in CASES.items() for n in m.ALTERNATIVES])
def test_other_correct_implementations_pass(assignment, name):
    assert _failures(assignment, _functions(assignment, CASES[assignment].ALTERNATIVES[name])) == {}


@pytest.mark.parametrize("assignment, mistake", [(a, n) for a, m in CASES.items() for n in m.MISTAKES])
def test_each_mistake_is_named(assignment, mistake):
    edits, phrase, lost = CASES[assignment].MISTAKES[mistake]
    failed = _failures(assignment, _functions(assignment, edits))
    assert set(failed) == set(lost)
    assert phrase in failed[lost[0]], failed[lost[0]]


def test_not_implemented_is_explained():
    def batch_mean(x):
        raise NotImplementedError()
    with pytest.raises(AssertionError, match="batch_mean is not implemented yet"):
        checks.batch_mean(batch_mean)


def test_infinite_loop_is_cut_short(monkeypatch):
    monkeypatch.setattr(checks._common, "TIME_BUDGET", 0.5)
    def undo_params(x, eps=1e-5):
        while True:
            pass
    start = time.perf_counter()
    with pytest.raises(AssertionError, match="did not return within 0.5 s"):
        checks.undo_params(undo_params)
    assert time.perf_counter() - start < 3


def test_other_exceptions_carry_a_hint():
    def batchnorm_forward(x, gamma, beta, eps=1e-5):
        return np.concatenate([x, gamma]), None  # (N, D) and (D,): different numbers of dimensions
    with pytest.raises(AssertionError, match=r"(?s)raised ValueError.*axis=0"):
        checks.batchnorm_forward(batchnorm_forward)


def test_missing_cache_field_is_named():
    def batchnorm_forward(x, gamma, beta, eps=1e-5):
        x_hat = (x - x.mean(0)) / np.sqrt(x.var(0) + eps)
        return gamma * x_hat + beta, {"x_hat": x_hat}
    with pytest.raises(AssertionError, match="the cache has no field `mean`"):
        checks.batchnorm_forward(batchnorm_forward)
