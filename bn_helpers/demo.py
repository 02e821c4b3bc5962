"""``make demo``: the instructor pipeline on the sample class, end to end.

Builds a new course (under the git-ignored ``.grading/demo/``) from
``solutions/``, copies in the sample class kept under
``tests/sample_class/<assignment>/`` (one script of cells per student),
autogrades it with ``python -m bn_helpers.grading``'s machinery (each student
in their own nbgrader process, as many at a time as there are cores),
generates feedback, and prints the grade table with the expected scores beside
the real ones. Then the instructor's part: a sample student's written answer
(header ``by_hand: <grade_id>=<points> (rubric ...)``) is graded by hand, as in
formgrader, and the table is printed again with the total updated, the
feedback written again (the gradebook changed) and the class's mistakes at a
glance (:mod:`.grading.mistakes`). Exits non-zero if any step fails, any
sample student is not graded or has no up-to-date feedback, or any score
differs from the expected one. Students of the other assignments share the
demo's gradebook and are listed as "missing" in each table; they count only
if they were graded or failed for this assignment.

Usage: ``python -m bn_helpers.demo [--course DIR] [-j N] [ASSIGNMENT ...]``
"""
from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

from .grading import (REPO, GradingError, assignments, autograde, find_mistakes, format_mistakes, format_table,
                      generate_feedback, grade_by_hand, make_submission, new_course, read_sample, solution_code)

SAMPLES = REPO / "tests" / "sample_class"


def run(course: Path, names: list[str], jobs: int | None = None) -> int:
    new_course(course, names=names)
    failures = 0
    for name in names:
        samples = sorted((SAMPLES / name).glob("*.py"))
        if not samples:
            print(f"{name}: no sample class under {SAMPLES / name}")
            failures += 1
            continue
        expected, by_hand = {}, []
        for path in samples:
            edits, header = read_sample(path)
            if header.get("base") == "solution":
                edits = {**solution_code(course, name), **edits}
            make_submission(course, name, path.stem, edits)
            expected[path.stem] = float(header["expected"])
            m = re.match(r"(\w+)=([\d.]+)\s*(.*)", header.get("by_hand", ""))
            if m:
                by_hand.append((path.stem, m[1], float(m[2]), m[3]))
        start = time.perf_counter()
        autograde(course, name, jobs=jobs, progress=True)
        rows, feedback, no_feedback = generate_feedback(course, name, jobs=jobs)
        print(f"\n{name}: autograded {len(samples)} submissions and wrote their feedback in "
              f"{time.perf_counter() - start:.0f} s\n")
        table, mismatches = format_table(rows, expected)
        print(table)
        failures += mismatches + not_graded(rows, expected) + len(no_feedback)
        if feedback:
            print(f"\nfeedback: {feedback[0].parent.parent.parent}/<student>/{name}/{name}.html")
        if by_hand:
            failures += _grade_by_hand(course, name, by_hand, expected, jobs)
        print("\n" + format_mistakes(find_mistakes(course, name)))
    return failures


def not_graded(rows, expected: dict[str, float]) -> int:
    """Rows that count as failures: a sample student not graded, or anyone else graded wrongly or failing.

    The demo's one gradebook holds the students of every assignment; for this assignment the others
    submitted nothing and are rightly "missing".
    """
    return sum(not r.graded if r.student in expected else r.status not in ("graded", "missing") for r in rows)


def _grade_by_hand(course: Path, name: str, by_hand: list, expected: dict[str, float], jobs: int | None) -> int:
    """The instructor reads the written answers against the rubric and enters the points (formgrader's form);
    the feedback of those students is written again, since the gradebook changed."""
    print(f"\n{name}: written answers graded by hand (in class: formgrader, `make instructor`; the rubric is "
          f"shown under each question)")
    totals = {}
    for student, grade_id, points, why in by_hand:
        totals[student] = grade_by_hand(course, name, student, grade_id, points)[0]
        expected[student] += points
        print(f"  {student}: {grade_id} {points:g} points {why}".rstrip() + f" -> total {totals[student]:g}")
    rows, files, no_feedback = generate_feedback(course, name, jobs=jobs)
    table, mismatches = format_table(rows, expected)
    print("\n" + table + "\n")
    wrong = 0
    for student, total in totals.items():  # the feedback was written again: it shows the new total
        html = next((p for p in files if p.parent.parent.name == student), None)
        shown = feedback_total(html)
        wrong += shown != total
        print(f"feedback of {student}: Score {shown if shown is not None else 'missing'}"
              + ("" if shown == total else f"   ! the gradebook says {total:g}"))
    return mismatches + not_graded(rows, expected) + len(no_feedback) + wrong


def feedback_total(html: Path | None) -> float | None:
    """The submission's score in nbgrader's feedback HTML (its first "Score: x / y"), or None."""
    m = re.search(r"Score: ([\d.]+) / ", html.read_text()) if html is not None and html.exists() else None
    return float(m[1]) if m else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assignments", nargs="*", help="default: every assignment with a sample class")
    parser.add_argument("--course", type=Path, help="a new folder for the course "
                        "(default: .grading/demo/<date-time>, which is kept so you can read the feedback)")
    parser.add_argument("-j", "--jobs", type=int, default=None, help="students graded at once (default: cores)")
    args = parser.parse_args(argv)
    names = args.assignments or [a for a in assignments() if (SAMPLES / a).is_dir()]
    # The demo grades into its own SQLite gradebook, never into a course database named by NBGRADER_DB_URL.
    os.environ.pop("NBGRADER_DB_URL", None)
    course = args.course or REPO / ".grading" / "demo" / time.strftime("%Y%m%d-%H%M%S")
    print(f"course: {course}")
    try:
        failures = run(course, names, args.jobs)
    except GradingError as exc:
        print(f"demo failed: {exc}", file=sys.stderr)
        return 1
    if failures:
        print(f"demo: {failures} result(s) not graded or different from the expected scores (marked !)",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
