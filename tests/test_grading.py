"""Real nbgrader autograding in a temporary course: the grades instructors will see.

One course holding every assignment that has grading cases (tests/cases_*.py),
one ``nbgrader autograde`` run per assignment over all its submissions below
(the sample class of ``make demo``, one student per known mistake, and the
hostile cases), then each test reads the gradebook. Expected scores come from
the points of the source notebook's test cells.
"""
import json

import nbformat
import pytest

from bn_helpers import demo, grading
from conftest import ROOT, course_cases

pytestmark = pytest.mark.slow
CASES = {m.ASSIGNMENT: m for m in course_cases()}


def points(assignment) -> dict[str, float]:
    nb = nbformat.read(ROOT / "solutions" / assignment / f"{assignment}.ipynb", as_version=4)
    return {c.metadata["nbgrader"]["grade_id"]: float(c.metadata["nbgrader"]["points"])
            for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")}


def students(course, case) -> dict[str, dict]:
    a = case.ASSIGNMENT
    solution = grading.solution_code(course, a)
    tests = {gid: "assert True\n" for gid in points(a)}
    mistake, deleted = case.DELETE
    out = {
        "solution": solution,
        "untouched": {},
        "tamper_correct_code": {**solution, **tests},
        "tamper_wrong_code": {**solution, **case.MISTAKES[case.TAMPER_MISTAKE][0], **tests},
        "deleted_tests": {**solution, **case.MISTAKES[mistake][0], **{gid: None for gid in deleted}},
        "infinite_loop": {**solution, **case.LOOP[0]},
    }
    out.update({f"alternative_{i}": {**solution, **edits} for i, edits in enumerate(case.ALTERNATIVES.values())})
    out.update({f"mistake_{k}": {**solution, **edits} for k, (edits, _, _) in case.MISTAKES.items()})
    for path in sorted((demo.SAMPLES / a).glob("*.py")):
        edits, header = grading.read_sample(path)
        out[f"sample_{path.stem}"] = {**solution, **edits} if header.get("base") == "solution" else edits
    return out


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course = grading.new_course(tmp_path_factory.mktemp("course") / "course", root=ROOT, names=list(CASES))
    results, feedback = {}, {}
    for a, case in CASES.items():
        for student, edits in students(course, case).items():
            grading.make_submission(course, a, student, edits)
        grading.autograde(course, a)
        feedback[a] = grading.generate_feedback(course, a)
        results[a] = {r.student: r for r in grading.results(course, a)}
    return course, results, feedback


def lost(result):
    return {c.grade_id for c in result.problems}


@pytest.mark.parametrize("a", CASES)
def test_solutions_and_other_correct_code_score_full_marks(graded, a):
    _, results, _ = graded
    full = sum(points(a).values())
    for name, r in results[a].items():
        if name == "solution" or name.startswith("alternative_"):
            assert (r.score, r.max_score) == (full, full), (name, r.problems)


@pytest.mark.parametrize("a", CASES)
def test_untouched_release_scores_zero(graded, a):
    _, results, _ = graded
    r = results[a]["untouched"]
    assert r.score == 0 and r.max_score == sum(points(a).values())
    assert all("not implemented yet" in c.message for c in r.cells)


@pytest.mark.parametrize("a", CASES)
def test_tampered_tests_are_restored_and_code_graded_on_its_merit(graded, a):
    course, results, _ = graded
    full, pts = sum(points(a).values()), points(a)
    assert results[a]["tamper_correct_code"].score == full
    r = results[a]["tamper_wrong_code"]
    expected_lost = set(CASES[a].MISTAKES[CASES[a].TAMPER_MISTAKE][2])
    assert lost(r) == expected_lost and r.score == full - sum(pts[g] for g in expected_lost)
    cells = json.loads((course / ".grading/autograded/tamper_wrong_code" / a / f"{a}.ipynb").read_text())["cells"]
    sources = ["".join(c["source"]) for c in cells if c["metadata"].get("nbgrader", {}).get("grade")]
    assert len(sources) == len(pts) and not any(s.strip() == "assert True" for s in sources)


@pytest.mark.parametrize("a", CASES)
def test_deleted_test_cells_are_reinserted_and_graded(graded, a):
    _, results, _ = graded
    mistake, deleted = CASES[a].DELETE
    r = results[a]["deleted_tests"]
    assert {c.grade_id for c in r.cells} == set(points(a))
    assert lost(r) == set(CASES[a].MISTAKES[mistake][2])


@pytest.mark.parametrize("a", CASES)
def test_infinite_loop_loses_only_its_tests(graded, a):
    _, results, _ = graded
    r = results[a]["infinite_loop"]
    assert lost(r) == set(CASES[a].LOOP[1])
    assert r.score == sum(points(a).values()) - sum(points(a)[g] for g in CASES[a].LOOP[1])
    assert all("did not return within" in c.message for c in r.problems)


@pytest.mark.parametrize("a, mistake", [(a, m) for a, case in CASES.items() for m in case.MISTAKES])
def test_each_known_mistake_loses_points_with_its_diagnosis(graded, a, mistake):
    _, results, _ = graded
    _, phrase, cells = CASES[a].MISTAKES[mistake]
    r = results[a][f"mistake_{mistake}"]
    assert lost(r) == set(cells)
    assert r.score == sum(points(a).values()) - sum(points(a)[g] for g in cells)
    first = next(c for c in r.problems if c.grade_id == cells[0])
    assert phrase in first.message, first.message


@pytest.mark.parametrize("a", CASES)
def test_sample_class_scores_as_expected(graded, a):
    _, results, _ = graded
    samples = sorted((demo.SAMPLES / a).glob("*.py"))
    assert len(samples) >= 5
    for path in samples:
        _, header = grading.read_sample(path)
        assert results[a][f"sample_{path.stem}"].score == float(header["expected"]), path.stem


@pytest.mark.parametrize("a", CASES)
def test_feedback_for_every_student(graded, a):
    _, results, feedback = graded
    assert len(feedback[a]) == len(results[a])
    mistake = next(iter(CASES[a].MISTAKES))
    html = next(f for f in feedback[a] if f"mistake_{mistake}" in str(f)).read_text()
    assert CASES[a].MISTAKES[mistake][1] in html


def test_gradebook_is_read_not_exit_codes(graded):
    """A submission nbgrader cannot grade is reported, though nbgrader exits 0."""
    course, _, _ = graded
    a = next(iter(CASES))
    bad = course / ".grading/submitted/broken_student" / a
    bad.mkdir(parents=True)
    (bad / f"{a}.ipynb").write_text("this is not a notebook")
    with pytest.raises(grading.GradingError, match="broken_student"):
        grading.autograde(course, a)


def test_demo_reports_unexpected_scores(tmp_path, monkeypatch):
    a = next(iter(CASES))
    samples = tmp_path / "samples" / a
    samples.mkdir(parents=True)
    (samples / "claims_full_marks.py").write_text("# about: untouched, but claims full marks\n# expected: 20\n")
    monkeypatch.setattr(demo, "SAMPLES", tmp_path / "samples")
    assert demo.main(["--course", str(tmp_path / "course"), a]) == 1


def test_refuses_to_overwrite(graded):
    course, _, _ = graded
    a = next(iter(CASES))
    with pytest.raises(grading.GradingError, match="refusing to overwrite"):
        grading.make_submission(course, a, "solution", {})
    with pytest.raises(grading.GradingError, match="already holds a course"):
        grading.new_course(course, root=ROOT, names=[a])
