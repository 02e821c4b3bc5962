"""Real nbgrader autograding in a temporary course: the grades instructors will see.

For every assignment that has grading cases (tests/cases_*.py): a course whose
submissions below (the sample class of ``make demo`` with its correct,
differently written, mistaken, untouched and tampering students; a
deleted-cells and an infinite-loop student; known mistakes: all of 02's and
one of each other assignment's, whose every mistake and other correct
implementation test_checks.py runs through the same checks a test cell calls)
are autograded by ``bn_helpers.grading.autograde``, each student in their own
nbgrader process, two at a time; then each test reads the rows it returns.
Expected scores come from the points of the source notebook's test cells.
"""
import json
import sys

import nbformat
import pytest

from bn_helpers import demo, grading
from conftest import ROOT, course_cases

# one worker runs the whole module: its module-scoped fixture is computed once (make test: --dist loadgroup)
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("test_grading")]
CASES = {m.ASSIGNMENT: m for m in course_cases()}


def _graded_cells(assignment) -> list[dict]:
    nb = nbformat.read(ROOT / "solutions" / assignment / f"{assignment}.ipynb", as_version=4)
    return [c.metadata["nbgrader"] for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]


def points(assignment) -> dict[str, float]:
    """The autograded test cells and their points (written answers are graded by hand)."""
    return {m["grade_id"]: float(m["points"]) for m in _graded_cells(assignment) if not m.get("solution")}


def maximum(assignment) -> float:
    """The assignment's maximum score, written answers included."""
    return sum(float(m["points"]) for m in _graded_cells(assignment))


def students(course, case) -> dict[str, dict]:
    """Submissions for one assignment: the sample class, hostile cases, graded mistakes.

    The sample class provides the correct solution (``base: solution``, no
    edits) and the untouched release (no edits); the fixture files them
    under "solution" and "untouched" as well.
    """
    a = case.ASSIGNMENT
    solution = grading.solution_code(course, a)
    tests = {gid: "assert True\n" for gid in points(a)}
    mistake, deleted = case.DELETE
    out = {}
    for path in sorted((demo.SAMPLES / a).glob("*.py")):
        edits, header = grading.read_sample(path)
        out[f"sample_{path.stem}"] = {**solution, **edits} if header.get("base") == "solution" else edits
    out.update({
        "deleted_tests": {**solution, **case.MISTAKES[mistake][0], **{gid: None for gid in deleted}},
        "infinite_loop": {**solution, **case.LOOP[0]},
    })
    if a == "02_forward":  # the model assignment also checks that tampering gains nothing on correct code
        out["tamper_correct_code"] = {**solution, **tests}
    out.update({f"mistake_{k}": {**solution, **case.MISTAKES[k][0]} for k in case.NBGRADER_MISTAKES})
    return out


def _aliases(case) -> dict[str, str]:
    """The "solution" and "untouched" students: the sample students who submitted exactly that."""
    out = {}
    written = {m["grade_id"] for m in _graded_cells(case.ASSIGNMENT) if m.get("solution")}
    for path in sorted((demo.SAMPLES / case.ASSIGNMENT).glob("*.py")):
        edits, header = grading.read_sample(path)
        if header.get("base") == "solution" and set(edits) <= written:  # at most written answers added
            out.setdefault("solution", f"sample_{path.stem}")
        elif not edits and header.get("base") != "solution":
            out["untouched"] = f"sample_{path.stem}"
    return out


JOBS = 2  # the machine has two cores: two students at a time


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Per assignment: ({student: their course folder}, {student: result}, feedback files)."""
    root = tmp_path_factory.mktemp("courses")
    out = {}
    for a, case in CASES.items():
        course = grading.new_course(root / a, root=ROOT, names=[a])
        for student, edits in students(ROOT, case).items():
            grading.make_submission(course, a, student, edits)
        rows = grading.autograde(course, a, jobs=JOBS)
        not_graded = [(r.student, r.reason) for r in rows if not r.graded]
        assert not not_graded, not_graded
        _, feedback, no_feedback = grading.generate_feedback(course, a, jobs=JOBS)
        assert not no_feedback, no_feedback
        results = {r.student: r for r in rows}
        for alias, student in _aliases(case).items():
            results[alias] = results[student]
        out[a] = ({student: course for student in results}, results, feedback)
    return out


def autograded_problems(result):
    """The autograded cells that lost points (written answers wait for the instructor)."""
    return [c for c in result.problems if c.grade_id in points(result.assignment)]


def lost(result):
    return {c.grade_id for c in autograded_problems(result)}


@pytest.mark.parametrize("a", CASES)
def test_solutions_and_other_correct_code_score_full_marks(graded, a):
    _, results, _ = graded[a]
    full = sum(points(a).values())
    assert "solution" in results
    for name, r in results.items():
        if name == "solution" or name.startswith("alternative_"):
            assert (r.score, r.max_score) == (full, maximum(a)), (name, r.problems)


@pytest.mark.parametrize("a", CASES)
def test_untouched_release_scores_zero(graded, a):
    _, results, _ = graded[a]
    r = results["untouched"]
    assert r.score == 0 and r.max_score == maximum(a)
    assert all("not implemented yet" in c.message for c in r.cells if c.grade_id in points(a))


def _tamperers(a) -> list[str]:
    """Sample students who rewrote test cells."""
    out = []
    for path in sorted((demo.SAMPLES / a).glob("*.py")):
        edits, _ = grading.read_sample(path)
        if set(edits) & set(points(a)):
            out.append(f"sample_{path.stem}")
    return out


@pytest.mark.parametrize("a", CASES)
def test_tampered_tests_are_restored_and_code_graded_on_its_merit(graded, a):
    course_of, results, _ = graded[a]
    assert _tamperers(a), "the sample class needs a student who rewrote the tests"
    for student in _tamperers(a):  # scored as their code deserves: test_sample_class_scores_as_expected
        path = course_of[student] / ".grading/autograded" / student / a / f"{a}.ipynb"
        cells = json.loads(path.read_text())["cells"]
        sources = ["".join(c["source"]) for c in cells if c["metadata"].get("nbgrader", {}).get("grade_id") in points(a)]
        assert len(sources) == len(points(a)) and not any(src.strip() == "assert True" for src in sources)
        assert results[student].score < sum(points(a).values())
    if a == "02_forward":
        assert results["tamper_correct_code"].score == sum(points(a).values())


@pytest.mark.parametrize("a", CASES)
def test_deleted_test_cells_are_reinserted_and_graded(graded, a):
    _, results, _ = graded[a]
    mistake, deleted = CASES[a].DELETE
    r = results["deleted_tests"]
    assert {c.grade_id for c in r.cells} >= set(points(a))
    assert lost(r) == set(CASES[a].MISTAKES[mistake][2])


@pytest.mark.parametrize("a", CASES)
def test_infinite_loop_loses_only_its_tests(graded, a):
    _, results, _ = graded[a]
    r = results["infinite_loop"]
    assert lost(r) == set(CASES[a].LOOP[1])
    assert r.score == sum(points(a).values()) - sum(points(a)[g] for g in CASES[a].LOOP[1])
    assert all("did not return within" in c.message for c in autograded_problems(r))


@pytest.mark.parametrize("a, mistake", [(a, m) for a, case in CASES.items() for m in case.NBGRADER_MISTAKES])
def test_each_known_mistake_loses_points_with_its_diagnosis(graded, a, mistake):
    _, results, _ = graded[a]
    _, phrase, cells = CASES[a].MISTAKES[mistake]
    r = results[f"mistake_{mistake}"]
    assert lost(r) == set(cells)
    assert r.score == sum(points(a).values()) - sum(points(a)[g] for g in cells)
    first = next(c for c in autograded_problems(r) if c.grade_id == cells[0])
    assert phrase in first.message, first.message


@pytest.mark.parametrize("a", CASES)
def test_sample_class_scores_as_expected(graded, a):
    _, results, _ = graded[a]
    samples = sorted((demo.SAMPLES / a).glob("*.py"))
    assert len(samples) >= 5
    for path in samples:
        _, header = grading.read_sample(path)
        assert results[f"sample_{path.stem}"].score == float(header["expected"]), path.stem


@pytest.mark.parametrize("a", CASES)
def test_feedback_for_every_student(graded, a):
    _, results, feedback = graded[a]
    assert len(feedback) == len({r.student for r in results.values()})
    mistake = CASES[a].NBGRADER_MISTAKES[0]
    html = next(f for f in feedback if f"mistake_{mistake}" in str(f)).read_text()
    assert CASES[a].MISTAKES[mistake][1] in html


def test_a_submission_that_cannot_be_graded_is_a_row_with_its_reason(graded):
    """Nothing is hidden: the bad notebook is named with why, every other student keeps their row."""
    a = next(iter(CASES))
    course = graded[a][0]["solution"]
    bad = course / ".grading/submitted/broken_student" / a
    bad.mkdir(parents=True)
    (bad / f"{a}.ipynb").write_text("this is not a notebook")
    rows = {r.student: r for r in grading.autograde(course, a, jobs=JOBS)}
    assert rows["broken_student"].status == "ungradeable" and "not a readable notebook" in rows["broken_student"].reason
    assert rows["broken_student"].final is None
    assert sum(r.graded for r in rows.values()) == len(rows) - 1
    table, _ = grading.format_table(list(rows.values()))
    assert "NOT GRADED: broken_student (ungradeable)" in table


def test_demo_reports_unexpected_scores(tmp_path, monkeypatch):
    a = next(iter(CASES))
    samples = tmp_path / "samples" / a
    samples.mkdir(parents=True)
    (samples / "claims_full_marks.py").write_text("# about: untouched, but claims full marks\n# expected: 20\n")
    monkeypatch.setattr(demo, "SAMPLES", tmp_path / "samples")
    assert demo.main(["--course", str(tmp_path / "course"), a]) == 1


def test_refuses_to_overwrite(graded):
    a = next(iter(CASES))
    course_of = graded[a][0]
    student = _aliases(CASES[a])["solution"]
    with pytest.raises(grading.GradingError, match="refusing to overwrite"):
        grading.make_submission(course_of[student], a, student, {})
    with pytest.raises(grading.GradingError, match="already holds a course"):
        grading.new_course(course_of[student], root=ROOT, names=[a])


def test_a_written_answer_graded_by_hand_updates_the_total(graded):
    """What `make demo` shows and formgrader's grade form does: points entered by hand, the total updated."""
    a = "07_beyond_batchnorm"   # alice_correct's written answer carries a `by_hand:` grade
    course_of, results, _ = graded[a]
    student = next(s for s in results if s.startswith("sample_")
                   and grading.read_sample(demo.SAMPLES / a / f"{s[len('sample_'):]}.py")[1].get("by_hand"))
    header = grading.read_sample(demo.SAMPLES / a / f"{student[len('sample_'):]}.py")[1]
    grade_id, points = header["by_hand"].split()[0].split("=")
    course = course_of[student]
    before = {r.student: r for r in grading.report(course, a)}[student]
    assert before.needs_manual_grade and any(c.grade_id == grade_id and c.score is None for c in before.cells)
    with pytest.raises(grading.GradingError, match="between 0 and"):
        grading.grade_by_hand(course, a, student, grade_id, 99)
    with pytest.raises(grading.GradingError, match="no graded cell"):
        grading.grade_by_hand(course, a, student, "no_such_cell", 1)
    total, top = grading.grade_by_hand(course, a, student, grade_id, float(points))
    after = {r.student: r for r in grading.report(course, a)}[student]
    assert total == before.score + float(points) == after.score and top == maximum(a)
    assert not after.needs_manual_grade
    assert [c.score for c in after.cells if c.grade_id == grade_id] == [float(points)]


@pytest.mark.parametrize("a", CASES)
def test_no_feedback_file_gives_the_answers_away(graded, a):
    """Issue 9: every feedback file (sample class, known mistakes, hostile students) without hidden tests,
    checker source or the instructor's paths (tests/_leaks.py; the cheat corpus adds secrets)."""
    from _leaks import leaks

    course_of, results, feedback = graded[a]
    assert feedback
    for path in feedback:
        student = path.parent.parent.name
        course = course_of[student]
        submitted = course / ".grading" / "submitted" / student / a / f"{a}.ipynb"
        found = leaks(path, submitted, a, [str(course), str(ROOT), sys.prefix])
        assert not found, f"{student}'s feedback shows {found[:3]}"
