"""``make demo``: the instructor pipeline on the sample class, end to end.

Builds a new course (under the git-ignored ``.grading/demo/``) from
``solutions/``, copies in the sample class kept under
``tests/sample_class/<assignment>/`` (one script of cells per student),
autogrades it with ``python -m bn_helpers.grading``'s machinery (each student
in their own nbgrader process, as many at a time as there are cores),
generates feedback, and prints the grade table with the expected scores beside
the real ones. Then the instructor's part: a sample student's written answer
(header ``by_hand: <grade_id>=<points> (rubric ...)``) is graded by hand, as in
formgrader, and the table is printed again with the total updated. Exits
non-zero if any step fails, any student is not graded, or any score differs
from the expected one.

Usage: ``python -m bn_helpers.demo [--course DIR] [-j N] [ASSIGNMENT ...]``
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import re

from .grading import (REPO, GradingError, assignments, autograde, format_table, generate_feedback, grade_by_hand,
                      make_submission, new_course, read_sample, report, solution_code)

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
        failures += mismatches + sum(not r.graded for r in rows) + len(no_feedback)
        if feedback:
            print(f"\nfeedback: {feedback[0].parent.parent.parent}/<student>/{name}/{name}.html")
        if by_hand:
            failures += _grade_by_hand(course, name, by_hand, expected)
    return failures


def _grade_by_hand(course: Path, name: str, by_hand: list, expected: dict[str, float]) -> int:
    """The instructor reads the written answers against the rubric and enters the points (formgrader's form)."""
    print(f"\n{name}: written answers graded by hand (in class: formgrader, `make instructor`; the rubric is "
          f"shown under each question)")
    for student, grade_id, points, why in by_hand:
        total, top = grade_by_hand(course, name, student, grade_id, points)
        expected[student] += points
        print(f"  {student}: {grade_id} {points:g} points {why}".rstrip() + f" -> total {total:g} of {top:g}")
    table, mismatches = format_table(report(course, name), expected)
    print("\n" + table)
    return mismatches


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
