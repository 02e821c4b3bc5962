"""Real nbgrader autograding in a temporary course: the grades instructors will see.

One course, one ``nbgrader autograde`` run over every submission below (the
sample class of ``make demo`` plus one student per known mistake and the
hostile cases), then each test reads the gradebook.
"""
import json

import pytest

from bn_helpers import demo, grading
from conftest import ROOT
from mistakes_02 import MISTAKES

pytestmark = pytest.mark.slow
A = "02_forward"
FULL = 20.0

LOOP = "def undo_params(x, eps=1e-5):\n    while True:\n        pass\n"
TAMPER_TESTS = {gid: "assert True\n" for gid in (
    "test_batch_mean", "test_batch_mean_hidden", "test_batch_variance", "test_batch_variance_hidden",
    "test_batchnorm_forward", "test_batchnorm_forward_hidden", "test_undo_params", "test_undo_params_hidden")}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course = grading.new_course(tmp_path_factory.mktemp("course") / "course", root=ROOT, names=[A])
    solution = grading.solution_code(course, A)
    students = {
        "solution": solution,
        "untouched": {},
        "tamper_correct_code": {**solution, **TAMPER_TESTS},
        "tamper_wrong_forward": {**solution, **MISTAKES["sigma_plus_eps"][0], **TAMPER_TESTS},
        "deleted_tests": {**solution, **MISTAKES["forgot_beta"][0],
                          "test_batchnorm_forward": None, "test_batchnorm_forward_hidden": None, "test_undo_params": None},
        "infinite_loop": {**solution, "undo_params": LOOP},
    }
    students.update({f"mistake_{k}": {**solution, **edits} for k, (edits, _, _) in MISTAKES.items()})
    for student, edits in students.items():
        grading.make_submission(course, A, student, edits)
    for path in sorted((demo.SAMPLES / A).glob("*.py")):
        edits, header = grading.read_sample(path)
        if header.get("base") == "solution":
            edits = {**solution, **edits}
        grading.make_submission(course, A, f"sample_{path.stem}", edits)
    grading.autograde(course, A)
    feedback = grading.generate_feedback(course, A)
    return course, {r.student: r for r in grading.results(course, A)}, feedback


def lost(result):
    return {c.grade_id for c in result.problems}


def test_solutions_score_full_marks(graded):
    _, results, _ = graded
    assert results["solution"].max_score == FULL
    assert results["solution"].score == FULL, results["solution"].problems


def test_untouched_release_scores_zero(graded):
    _, results, _ = graded
    r = results["untouched"]
    assert r.score == 0 and r.max_score == FULL
    assert all("not implemented yet" in c.message for c in r.cells)


def test_tampered_tests_are_restored_and_code_graded_on_its_merit(graded):
    course, results, _ = graded
    assert results["tamper_correct_code"].score == FULL
    r = results["tamper_wrong_forward"]
    assert lost(r) == {"test_batchnorm_forward", "test_batchnorm_forward_hidden"}
    assert r.score == FULL - 7
    cells = json.loads((course / ".grading/autograded/tamper_wrong_forward" / A / f"{A}.ipynb").read_text())["cells"]
    sources = ["".join(c["source"]) for c in cells if c["metadata"].get("nbgrader", {}).get("grade")]
    assert sources and not any(s.strip() == "assert True" for s in sources)


def test_deleted_test_cells_are_reinserted_and_graded(graded):
    _, results, _ = graded
    r = results["deleted_tests"]
    assert {c.grade_id for c in r.cells} >= {"test_batchnorm_forward", "test_undo_params"}
    assert lost(r) == {"test_batchnorm_forward", "test_batchnorm_forward_hidden"}
    assert r.score == FULL - 7


def test_infinite_loop_loses_only_its_tests(graded):
    _, results, _ = graded
    r = results["infinite_loop"]
    assert lost(r) == {"test_undo_params", "test_undo_params_hidden"}
    assert r.score == FULL - 4
    assert all("did not return within" in c.message for c in r.problems)


@pytest.mark.parametrize("mistake", MISTAKES)
def test_each_known_mistake_loses_points_with_its_diagnosis(graded, mistake):
    _, results, _ = graded
    _, phrase, cells = MISTAKES[mistake]
    r = results[f"mistake_{mistake}"]
    assert lost(r) == set(cells)
    assert r.score < FULL
    first = next(c for c in r.problems if c.grade_id == cells[0])
    assert phrase in first.message, first.message


def test_sample_class_scores_as_expected(graded):
    _, results, _ = graded
    for path in sorted((demo.SAMPLES / A).glob("*.py")):
        _, header = grading.read_sample(path)
        assert results[f"sample_{path.stem}"].score == float(header["expected"]), path.stem


def test_feedback_for_every_student(graded):
    _, results, feedback = graded
    assert len(feedback) == len(results)
    html = next(f for f in feedback if "mistake_unbiased_in_forward" in str(f)).read_text()
    assert "N-1" in html and "13" in html


def test_gradebook_is_read_not_exit_codes(graded, tmp_path):
    """A submission nbgrader cannot grade is reported, though nbgrader exits 0."""
    course, _, _ = graded
    bad = course / ".grading/submitted/broken_student" / A
    bad.mkdir(parents=True)
    (bad / f"{A}.ipynb").write_text("this is not a notebook")
    with pytest.raises(grading.GradingError, match="broken_student"):
        grading.autograde(course, A)


def test_demo_reports_unexpected_scores(tmp_path, monkeypatch):
    samples = tmp_path / "samples" / A
    samples.mkdir(parents=True)
    (samples / "claims_full_marks.py").write_text("# about: untouched, but claims 20\n# expected: 20\n")
    monkeypatch.setattr(demo, "SAMPLES", tmp_path / "samples")
    assert demo.main(["--course", str(tmp_path / "course"), A]) == 1


def test_refuses_to_overwrite(graded):
    course, _, _ = graded
    with pytest.raises(grading.GradingError, match="refusing to overwrite"):
        grading.make_submission(course, A, "solution", {})
    with pytest.raises(grading.GradingError, match="already holds a course"):
        grading.new_course(course, root=ROOT, names=[A])
