"""``python -m bn_helpers.grading``: the instructor's one tool, with nbgrader's words.

::

    python -m bn_helpers.grading generate_assignment 02_forward [--no-db]   # gradebook + release, never deletes
    python -m bn_helpers.grading autograde 02_forward [--student S ...] [--force] [-j N]
    python -m bn_helpers.grading feedback 02_forward [--student S ...] [--force]
    python -m bn_helpers.grading report 02_forward
    python -m bn_helpers.grading mistakes [02_forward ...]               # the class's named mistakes
    python -m bn_helpers.grading export [02_forward ...] [--to FILE] [--long]   # .grading/grades.csv
    python -m bn_helpers.grading db upgrade                              # also on an empty database

Every step but ``generate_assignment``, ``mistakes`` and ``db`` prints the
grade table: a row for every student, with status, score, late penalty, final
score and what went wrong, and below it how many written answers await hand
grading. Exit code: 0 when every submission is graded (and, for ``feedback``,
has feedback written from the gradebook as it is now); 1 when any submission
is not, each one named below the table; 2 when the step could not run at all
(no gradebook, a bad configuration). A student who submitted nothing is
listed, and does not change the exit code; neither do answers awaiting hand
grading (the table counts them; the export leaves their grade blank).
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .course import REPO, Course
from .errors import GradingError

__all__ = ["main"]


def _default_course() -> Path:
    cwd = Path.cwd()
    return cwd if (cwd / "nbgrader_config.py").is_file() else REPO


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bn_helpers.grading",
                                description="The instructor's tool: nbgrader's pipeline, parallel and checked.",
                                epilog="Exit code: 0 all submissions graded; 1 some not (named); 2 could not run.")
    p.add_argument("--course", type=Path, default=None,
                   help="course folder with nbgrader_config.py (default: the current folder if it has one, "
                        "else this repository)")
    sub = p.add_subparsers(dest="step", required=True, metavar="STEP")

    def students(q):
        q.add_argument("--student", action="append", default=[], metavar="ID",
                       help="only this student (repeat, or separate with commas)")

    def jobs(q):
        q.add_argument("-j", "--jobs", type=int, default=None,
                       help="students graded at the same time (default: the number of cores)")
        q.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bar")

    q = sub.add_parser("generate_assignment", help="record an assignment in the gradebook and update its release")
    q.add_argument("assignment")
    q.add_argument("--no-db", action="store_true", help="only regenerate the release (make release)")

    q = sub.add_parser("autograde", help="autograde new, changed and failed submissions, in parallel")
    q.add_argument("assignment")
    students(q)
    q.add_argument("--force", action="store_true", help="grade again even unchanged, graded submissions")
    jobs(q)
    q.add_argument("--timeout", type=float, default=1800.0,
                   help="seconds one student's grading may take before it is stopped (default 1800)")

    q = sub.add_parser("feedback", help="write the HTML feedback of every graded student")
    q.add_argument("assignment")
    students(q)
    q.add_argument("--force", action="store_true", help="write all feedback again")
    jobs(q)

    q = sub.add_parser("report", help="print the grade table")
    q.add_argument("assignment")

    q = sub.add_parser("mistakes", help="per graded function, how many students made each named mistake, "
                                        "and the written answers still waiting for a grader")
    q.add_argument("assignments", nargs="*", help="default: every assignment in the gradebook")

    q = sub.add_parser("export", help="write the grades CSV for an LMS (default .grading/grades.csv): one row per "
                                      "student, a column per assignment and the total")
    q.add_argument("assignments", nargs="*", help="default: every assignment in the gradebook")
    q.add_argument("--to", type=Path, default=None, help="the CSV file to write")
    q.add_argument("--long", action="store_true", help="one row per student and assignment, with status, raw "
                   "score, late penalty and reasons (default file .grading/grades-long.csv)")

    q = sub.add_parser("db", help="the gradebook database")
    q.add_argument("action", choices=["upgrade"],
                   help="upgrade: create the tables in an empty database, or migrate an older one")
    return p


def _split(values: list[str]) -> list[str]:
    return [s for v in values for s in v.split(",") if s]


def _table(rows, out=None) -> int:
    from .results import GRADED, MISSING, format_table

    out = out or sys.stdout  # not a default argument: the stream of the moment (tests swap it)

    by_assignment: dict[str, list] = {}
    for r in rows:
        by_assignment.setdefault(r.assignment, []).append(r)
    for name, group in by_assignment.items():
        print(f"\n{name}", file=out)
        print(format_table(group)[0], file=out)
    return int(any(r.status not in (GRADED, MISSING) for r in rows))


def main(argv: list[str] | None = None) -> int:
    """Run one step; see the module docstring for the steps and exit codes."""
    from . import pipeline
    from .db import upgrade

    args = _parser().parse_args(argv)
    try:
        course = Course(args.course or _default_course())
        if args.step == "generate_assignment":
            changed = pipeline.generate_assignment(course, args.assignment, no_db=args.no_db)
            where = course.release(args.assignment).relative_to(course.root)
            print(f"{args.assignment}: {'' if args.no_db else 'in the gradebook; '}release {where}/ "
                  + (f"updated ({', '.join(p.name for p in changed)})" if changed else "unchanged"))
            return 0
        if args.step == "db":
            print(upgrade(course.db_url, course.course_id))
            return 0
        if args.step == "autograde":
            rows = pipeline.autograde(course, args.assignment, _split(args.student) or None, force=args.force,
                                      jobs=args.jobs, timeout=args.timeout, progress=args.progress)
            return _table(rows)
        if args.step == "feedback":
            rows, files, failed = pipeline.generate_feedback(course, args.assignment, _split(args.student) or None,
                                                             force=args.force, jobs=args.jobs,
                                                             progress=args.progress)
            code = _table(rows)
            where = Path(course.coursedir.format_path(course.coursedir.feedback_directory, ".", ".")).resolve()
            print(f"feedback: {len(files)} files under {os.path.relpath(where, Path.cwd())}/<student>/"
                  f"{args.assignment}/")
            if failed:
                print(f"NO FEEDBACK (or none as the gradebook is now) for: {', '.join(failed)} (logs under "
                      f"{course.logs(args.assignment).relative_to(course.root)}/)")
                code = 1
            return code
        if args.step == "report":
            return _table(pipeline.report(course, args.assignment))
        if args.step == "mistakes":
            from .mistakes import format_mistakes

            for name in args.assignments or pipeline.gradebook_assignments(course):
                print(format_mistakes(pipeline.find_mistakes(course, name)) + "\n")
            return 0
        if args.step == "export":
            path, rows, blanks = pipeline.export(course, args.assignments or None, args.to, long=args.long)
            code = _table(rows)
            students = len({r.student for r in rows})
            print(f"\nexported {len(rows) if args.long else students} rows "
                  f"({students} students, {len({r.assignment for r in rows})} assignments) to {path}")
            if blanks:
                print(f"{len(blanks)} grade(s) left blank, not a number (a blank is 'no grade' to the LMS): "
                      + ", ".join(f"{s}/{a} ({why})" for s, a, why in blanks))
            return code
    except GradingError as exc:
        print(f"grading: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("grading: interrupted", file=sys.stderr)
        return 130
    return 2  # pragma: no cover - argparse rejects unknown steps


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
