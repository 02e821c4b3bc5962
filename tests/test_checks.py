"""bn_helpers.checks: correct code passes, each known mistake is named, loops are cut short."""
import contextlib
import io
import re
import time
import warnings

import nbformat
import numpy as np
import pytest

from bn_helpers import checks, demo, grading
from conftest import ROOT, course_cases

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


def _failures(assignment, namespace, printed: dict | None = None) -> dict[str, str]:
    """Each check (visible and hidden) on ``namespace``'s functions: {test cell: message} of the failures."""
    failed = {}
    for name in _graded(assignment):
        for hidden in (False, True):
            cell = f"test_{name}" + ("_hidden" if hidden else "")
            out = io.StringIO()
            try:
                with contextlib.redirect_stdout(out):
                    getattr(checks, name)(namespace[name], hidden=hidden)
            except AssertionError as exc:
                failed[cell] = str(exc)
            if printed is not None:
                printed[cell] = out.getvalue()
    return failed


def _passes_quietly(assignment, edits=None):
    """Every check passes, prints one line saying so on stdout, and warns nothing (stderr zeroes a test cell)."""
    printed = {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert _failures(assignment, _functions(assignment, edits), printed) == {}
    assert [str(w.message) for w in caught] == []
    for cell, text in printed.items():
        name = cell.removeprefix("test_").removesuffix("_hidden")
        assert text.count("\n") == 1 and text.startswith(f"{name}: "), (cell, text)


@pytest.mark.parametrize("assignment", CASES)
def test_solution_passes(assignment):
    _passes_quietly(assignment)


@pytest.mark.parametrize("assignment, name", [(a, n) for a, m in CASES.items() for n in m.ALTERNATIVES])
def test_other_correct_implementations_pass(assignment, name):
    _passes_quietly(assignment, CASES[assignment].ALTERNATIVES[name])


def test_a_pass_names_its_cases(capsys):
    def batch_mean(x):
        return x.mean(axis=0)
    checks.batch_mean(batch_mean, hidden=True)
    out = capsys.readouterr()
    assert out.out == (
        "batch_mean: 10 cases passed (worked example, random (6, 4), float32 (7, 3), 6 x random shape, own code)\n")
    assert out.err == ""


@pytest.mark.parametrize("assignment, mistake", [(a, n) for a, m in CASES.items() for n in m.MISTAKES])
def test_each_mistake_is_named(assignment, mistake):
    edits, phrase, lost = CASES[assignment].MISTAKES[mistake]
    failed = _failures(assignment, _functions(assignment, edits))
    assert set(failed) == set(lost)
    assert phrase in failed[lost[0]], failed[lost[0]]
    for message in failed.values():  # short, and never the checker's source
        assert message.count("\n") <= 3 and "bn_helpers/checks" not in message, message
        assert not re.search(r"lambda \w*:|def \w+\(", message), message


def _points(assignment) -> dict[str, float]:
    nb = nbformat.read(ROOT / "solutions" / assignment / f"{assignment}.ipynb", as_version=4)
    return {c.metadata["nbgrader"]["grade_id"]: float(c.metadata["nbgrader"]["points"]) for c in nb.cells
            if c.metadata.get("nbgrader", {}).get("grade") and c.metadata["nbgrader"].get("grade_id", "").startswith("test_")}


def _release_code(assignment) -> dict[str, str]:
    nb = nbformat.read(ROOT / "notebooks" / assignment / f"{assignment}.ipynb", as_version=4)
    return {c.metadata["nbgrader"]["grade_id"]: c.source for c in nb.cells
            if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code"}


@pytest.mark.parametrize("assignment", CASES)
def test_sample_class_scores_as_expected_through_the_checks(assignment):
    """The demo's students, graded by the same checks as their test cells call (fast; test_grading runs nbgrader)."""
    points = _points(assignment)
    for path in sorted((demo.SAMPLES / assignment).glob("*.py")):
        edits, header = grading.read_sample(path)
        base = grading.solution_code(grading.REPO, assignment) if header.get("base") == "solution" else _release_code(assignment)
        code = {**base, **{k: v for k, v in edits.items()
                           if v is not None and not k.startswith("test_") and k in base}}  # not written answers
        namespace = dict(CASES[assignment].NAMESPACE)
        for source in code.values():
            exec(source, namespace)
        failed = _failures(assignment, namespace)
        score = sum(p for cell, p in points.items() if cell not in failed)
        assert score == float(header["expected"]), (path.stem, failed)


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


def test_a_mismatch_shows_its_largest_error_with_digits_that_differ():
    from bn_helpers.checks._messages import differs, worst
    got = np.array([[0.0856123, 1.0], [2.0, 3.0]])
    want = np.array([[0.0856191, 1.0], [2.0, 3.0]])
    text = worst(got, want)
    assert text.startswith("largest error 6.8e-06 at [0, 0]: expected 0.0856191, got 0.0856123")
    assert "relative error 7.9e-05" in text
    assert "NaN" in worst(np.array([np.nan, 1.0]), np.array([0.5, 1.0]))
    assert "transpose" in differs(got[:, :1].T, got[:, :1])
