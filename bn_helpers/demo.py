"""``make demo``: the instructor pipeline on the sample class, end to end.

Builds a new course (under the git-ignored ``.grading/demo/``) from ``solutions/``, copies in the sample class kept
under ``tests/sample_class/<assignment>/`` (one script of cells per student),
autogrades it with nbgrader, generates feedback, and prints a grade table.
Exits non-zero if any step fails or any student is missing from the
gradebook, which nbgrader's own exit code does not tell.

Usage: ``python -m bn_helpers.demo [--course DIR] [ASSIGNMENT ...]``
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from .grading import (REPO, GradingError, assignments, autograde, generate_feedback,
                      make_submission, new_course, read_sample, report, results, solution_code)

SAMPLES = REPO / "tests" / "sample_class"


def run(course: Path, names: list[str]) -> int:
    new_course(course, names=names)
    failures = 0
    for name in names:
        samples = sorted((SAMPLES / name).glob("*.py"))
        if not samples:
            print(f"{name}: no sample class under {SAMPLES / name}")
            failures += 1
            continue
        expected = {}
        for path in samples:
            edits, header = read_sample(path)
            if header.get("base") == "solution":
                edits = {**solution_code(course, name), **edits}
            make_submission(course, name, path.stem, edits)
            expected[path.stem] = header
        start = time.perf_counter()
        autograde(course, name)
        feedback = generate_feedback(course, name)
        print(f"\n{name}: autograded {len(samples)} submissions in {time.perf_counter() - start:.0f} s\n")
        table, mismatches = report(results(course, name), {k: float(v["expected"]) for k, v in expected.items()})
        print(table)
        failures += mismatches
        print(f"\nfeedback: {feedback[0].parent.parent.parent}/<student>/{name}/{name}.html")
    return failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assignments", nargs="*", help="default: every assignment with a sample class")
    parser.add_argument("--course", type=Path, help="a new folder for the course "
                        "(default: .grading/demo/<date-time>, which is kept so you can read the feedback)")
    args = parser.parse_args(argv)
    names = args.assignments or [a for a in assignments() if (SAMPLES / a).is_dir()]
    # The demo grades into its own SQLite gradebook, never into a course database named by NBGRADER_DB_URL.
    os.environ.pop("NBGRADER_DB_URL", None)
    course = args.course or REPO / ".grading" / "demo" / time.strftime("%Y%m%d-%H%M%S")
    print(f"course: {course}")
    try:
        failures = run(course, names)
    except GradingError as exc:
        print(f"demo failed: {exc}", file=sys.stderr)
        return 1
    if failures:
        print(f"demo: {failures} result(s) differ from the expected scores (marked !)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
