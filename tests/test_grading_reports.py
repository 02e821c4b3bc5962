"""What the instructor reads and uploads: the grade table's count of answers awaiting hand grading, the
exports (the wide file an LMS imports and the long one), the class's mistakes, and feedback that follows
the gradebook (a hand grade entered after the feedback was written gets it written again).

The fast tests build result rows by hand; the slow one grades one real submission with nbgrader.
"""
from __future__ import annotations

import csv
from pathlib import Path

import pytest

from bn_helpers import demo, grading
from bn_helpers.grading import mistakes, results

ROOT = Path(__file__).resolve().parent.parent
A, B = "02_forward", "03_backward"
CR = results.CellResult


def _row(student, assignment, status, **kw):
    return results.StudentResult(student, assignment, status, max_score=20.0, **kw)


def _class() -> list[results.StudentResult]:
    written = CR("written_variance_and_gamma_beta", None, 3.0, "to be graded by hand")
    return [
        _row("alice", A, "graded", score=17.0, cells=[CR("test_batch_mean", 2.0, 2.0, ""), written],
             needs_manual_grade=True, last_name="Liddell", first_name="Alice", email="alice@example.org"),
        _row("alice", B, "graded", score=20.0),
        _row("bruno", A, "graded", score=20.0, penalty=2.0),
        _row("bruno", B, "graded", score=11.0),
        _row("chen", A, "pending", reason="not autograded yet"),
        _row("chen", B, "graded", score=9.0),
        _row("dana", A, "missing", reason="nothing submitted"),
        _row("dana", B, "missing", reason="nothing submitted"),
        _row("eve", A, "ungradeable", reason="not a readable notebook"),
        _row("eve", B, "graded", score=0.0),
    ]


def test_the_table_counts_answers_awaiting_hand_grading():
    rows = [r for r in _class() if r.assignment == A]
    text, _ = results.format_table(rows)
    assert "awaiting hand grading: 1 answer (alice: written_variance_and_gamma_beta)" in text.splitlines()
    text, _ = results.format_table([r for r in _class() if r.assignment == B])
    assert "awaiting hand grading: 0 answers" in text.splitlines()


def test_the_wide_export_is_one_row_per_student_and_never_a_number_for_a_grade_not_final(tmp_path):
    path, blanks = results.write_wide(_class(), tmp_path / "grades.csv", [A, B])
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        header, lines = reader.fieldnames, {r["SIS Login ID"]: r for r in reader}
    assert header == results.WIDE_ID_COLUMNS + [A, B, "Total"]
    assert sorted(lines) == ["alice", "bruno", "chen", "dana", "eve"]  # one row per student
    assert (lines["alice"]["Student"], lines["alice"]["Email address"]) == ("Liddell, Alice", "alice@example.org")
    assert lines["bruno"]["Student"] == "bruno"
    # graded in full: the final score (after the late penalty), and the total
    assert (lines["bruno"][A], lines["bruno"][B], lines["bruno"]["Total"]) == ("18", "11", "29")
    # nothing submitted is 0; graded with 0 points is 0
    assert (lines["dana"][A], lines["dana"][B], lines["dana"]["Total"]) == ("0", "0", "0")
    assert lines["eve"][B] == "0"
    # awaiting hand grading, not graded yet, ungradeable: blank cells, and no partial total
    assert (lines["alice"][A], lines["alice"][B], lines["alice"]["Total"]) == ("", "20", "")
    assert (lines["chen"][A], lines["chen"]["Total"]) == ("", "")
    assert (lines["eve"][A], lines["eve"]["Total"]) == ("", "")
    assert sorted(blanks) == [("alice", A, "awaiting_hand_grading"), ("chen", A, "pending"),
                              ("eve", A, "ungradeable")]


def test_the_long_export_says_awaiting_hand_grading_instead_of_a_partial_score(tmp_path):
    path = results.write_csv(_class(), tmp_path / "long.csv")
    rows = {(r["student_id"], r["assignment"]): r for r in csv.DictReader(path.open())}
    alice = rows[("alice", A)]
    assert (alice["status"], alice["score"], alice["raw_score"]) == ("awaiting_hand_grading", "", "")
    assert "written_variance_and_gamma_beta" in alice["reason"] and "autograded part 17 of 20" in alice["reason"]
    assert (rows[("bruno", A)]["status"], rows[("bruno", A)]["score"]) == ("graded", "18")
    assert rows[("alice", B)]["status"] == "graded"


def _message(fn, text, case="case 1 (x of shape (4, 3), float64)"):
    return f"AssertionError: {fn}: {text}\n  {case}: largest error 0.31 at [2, 1]: expected 0.0856, got 0.0887"


N1 = "You divided by N-1 (the unbiased variance, np.var(..., ddof=1)). Batch norm normalizes with the biased one."


def test_mistakes_are_counted_per_function_and_student():
    c = grading.Course.__new__(grading.Course)  # only its source folder is read
    c.source = lambda a: ROOT / "solutions" / a
    rows = [
        _row("alice", A, "graded", score=17.0,
             cells=[CR("written_variance_and_gamma_beta", None, 3.0, "to be graded by hand")]),
        # chen: the same mistake in the visible and the hidden test (other shapes): counted once
        _row("chen", A, "graded", score=12.0, cells=[
            CR("test_batch_variance", 0.0, 2.0, _message("batch_variance", N1)),
            CR("test_batch_variance_hidden", 0.0, 3.0, _message("batch_variance", N1, "random case 7 (x of shape "
                                                                               "(16, 5), float32)")),
            CR("test_batchnorm_forward", 0.0, 3.0, _message("batchnorm_forward", N1)),
            CR("written_variance_and_gamma_beta", 0.0, 3.0, "written answer not given")]),
        _row("gina", A, "graded", score=18.0, cells=[
            CR("test_batch_variance_hidden", 0.0, 3.0, _message("batch_variance", N1.replace("1", "1 ")))]),
        _row("femi", A, "graded", score=17.0, cells=[
            CR("test_batch_mean", 0.0, 2.0, _message("batch_mean", "result has shape (4,), one value per example.")),
            CR("test_batch_variance", 0.0, 2.0, _message("batch_variance", N1))]),
        _row("dana", A, "missing"), _row("eve", A, "ungradeable", reason="not a readable notebook"),
    ]
    report = mistakes.class_mistakes(c, A, rows)
    assert report.functions == ["batch_mean", "batch_variance", "batchnorm_forward", "undo_params"]
    var = report.by_function["batch_variance"]
    assert [(m.text, sorted(m.students)) for m in var][0] == (N1, ["chen", "femi"])
    assert var[0].example == ("chen, test_batch_variance: case 1 (x of shape (4, 3), float64): largest error 0.31 "
                              "at [2, 1]: expected 0.0856, got 0.0887")
    assert [sorted(m.students) for m in var[1:]] == [["gina"]]  # a different text is a different mistake
    assert [m.students for m in report.by_function["batch_mean"]] == [["femi"]]
    (dana,) = mistakes.class_mistakes(c, A, [_row("dana", A, "graded", score=0.0, cells=[
        CR("test_undo_params", 0.0, 2.0, "AssertionError: undo_params is not implemented yet")])]
                                      ).by_function["undo_params"]
    assert dana.example == "dana, test_undo_params: undo_params is not implemented yet"
    assert report.waiting == {"written_variance_and_gamma_beta": ["alice"]}
    assert report.not_graded == ["eve"]
    text = mistakes.format_mistakes(report)
    assert "batch_variance: 3 of 4 students lost points" in text
    assert "  2 students  You divided by N-1" in text and "undo_params: no student lost points" in text
    assert "written answers waiting for a grader: 1" in text and "written_variance_and_gamma_beta: 1 (alice)" in text
    assert "not graded, so not counted: eve" in text


def test_a_check_message_names_its_mistake_without_numbers_or_the_function():
    key, text = mistakes.mistake_of(_message("batch_mean", "result has shape (4,), one value per example."),
                                    "batch_mean")
    assert text == "result has shape (4,), one value per example."
    assert key == mistakes.mistake_of(_message("batch_mean", "result has shape (7,), one value per example."),
                                      "batch_mean")[0]
    assert mistakes.mistake_of("", "f")[1] == "no message"


def test_the_demo_does_not_count_other_assignments_students_as_failures():
    rows = [_row("sample_alice", A, "graded", score=20.0), _row("sample_zed", A, "missing"),
            _row("sample_yan", A, "pending")]
    assert demo.not_graded(rows, {"sample_alice": 20.0}) == 1  # only sample_yan, who is not missing
    assert demo.not_graded(rows, {"sample_alice": 20.0, "sample_zed": 0.0}) == 2


@pytest.mark.slow
def test_feedback_follows_a_hand_grade_entered_after_it_was_written(tmp_path):
    """Item 2 of issue 17: after formgrader's grade (here grade_by_hand), `feedback` writes the new score."""
    a = "07_beyond_batchnorm"
    sample = next(p for p in sorted((demo.SAMPLES / a).glob("*.py")) if "by_hand" in grading.read_sample(p)[1])
    edits, header = grading.read_sample(sample)
    grade_id, points = header["by_hand"].split()[0].split("=")
    course = grading.new_course(tmp_path / "course", root=ROOT, names=[a])
    if header.get("base") == "solution":
        edits = {**grading.solution_code(course, a), **edits}
    grading.make_submission(course, a, "alice", edits)
    (row,) = [r for r in grading.autograde(course, a, jobs=1) if r.student == "alice"]
    assert row.graded and row.awaiting == [grade_id]
    rows, files, failed = grading.generate_feedback(course, a, jobs=1)
    assert not failed and len(files) == 1
    html = files[0]
    assert demo.feedback_total(html) == row.score
    stamp = html.stat().st_mtime_ns

    # unchanged gradebook: nothing written again
    grading.generate_feedback(course, a, jobs=1)
    assert html.stat().st_mtime_ns == stamp

    total, _ = grading.grade_by_hand(course, a, "alice", grade_id, float(points))
    assert total == row.score + float(points)
    (stale,) = [r for r in grading.report(course, a) if r.student == "alice"]
    assert results.FEEDBACK_STALE in stale.notes  # the table says so before `feedback` runs
    out = grading.main(["--course", str(course), "feedback", a])
    assert out == 0
    assert html.stat().st_mtime_ns != stamp and demo.feedback_total(html) == total
    (fresh,) = [r for r in grading.report(course, a) if r.student == "alice"]
    assert results.FEEDBACK_STALE not in fresh.notes and not fresh.awaiting


def test_the_gradebook_view_changes_with_everything_the_feedback_shows(tmp_path):
    from types import SimpleNamespace as NS

    def sub(manual=None, penalty=None, comment="", auto=2.0):
        grades = [NS(name="test_batch_mean", auto_score=auto, manual_score=None, extra_credit=None,
                     needs_manual_grade=False),
                  NS(name="written_x", auto_score=None, manual_score=manual, extra_credit=None,
                     needs_manual_grade=manual is None)]
        comments = [NS(name="written_x", auto_comment=None, manual_comment=comment)]
        return NS(notebooks=[NS(name=A, late_submission_penalty=penalty, grades=grades, comments=comments)])

    (tmp_path / f"{A}.ipynb").write_text("{}")
    base = results.gradebook_view(sub(), tmp_path)
    assert results.gradebook_view(sub(), tmp_path) == base
    changed = [results.gradebook_view(sub(manual=2.5), tmp_path),   # a hand grade (formgrader)
               results.gradebook_view(sub(penalty=1.0), tmp_path),  # a late penalty
               results.gradebook_view(sub(comment="see the rubric"), tmp_path),  # a comment
               results.gradebook_view(sub(auto=0.0), tmp_path)]     # a regrade with another score
    (tmp_path / f"{A}.ipynb").write_text('{"cells": []}')          # a regrade with other outputs
    changed.append(results.gradebook_view(sub(), tmp_path))
    assert len({base, *changed}) == 6
