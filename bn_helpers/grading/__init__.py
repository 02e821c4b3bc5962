"""The instructor's tool: nbgrader's pipeline, parallel, checked, and told truthfully.

``python -m bn_helpers.grading`` (see :mod:`.cli`) runs the steps with
nbgrader's words: ``generate_assignment``, ``autograde``, ``feedback``,
``report``, ``export``, ``db upgrade``. nbgrader does the grading; this package

* grades each student in a process of their own, N at a time (:mod:`.runner`),
  and re-grades a submission when its *content* changed (:mod:`.pipeline`);
* reads every result back from the gradebook and the files, so the grade table
  has a row and a status for every student (:mod:`.results`);
* applies the due dates and late penalties of ``nbgrader_config.py``
  (:mod:`.late`);
* keeps one student's accident (a pasted test cell, a loop that swallows
  interrupts, a crashing kernel) from costing more than the cells it hit
  (:mod:`.preprocessors`);
* opens PostgreSQL or SQLite gradebooks safely from many processes (:mod:`.db`).

Used by ``make demo`` (:mod:`bn_helpers.demo`) and the tests.
"""
from __future__ import annotations

from .course import (GRADING, REPO, Course, GradingError, assignments, folder_hash, make_submission, new_course,
                     read_sample, solution_code)
from .pipeline import apply_late_policy, autograde, export, generate_assignment, generate_feedback, precheck, report
from .results import (EXPORT_COLUMNS, CellResult, StudentResult, format_table, gather, read_judge, summary,
                      write_csv)

__all__ = [
    "REPO", "GRADING", "GradingError", "Course", "CellResult", "StudentResult", "assignments", "new_course",
    "solution_code", "read_sample", "make_submission", "folder_hash", "generate_assignment", "autograde",
    "generate_feedback", "report", "export", "apply_late_policy", "precheck", "gather", "format_table",
    "write_csv", "read_judge", "summary", "EXPORT_COLUMNS", "main",
]


def main(argv: list[str] | None = None) -> int:
    """``python -m bn_helpers.grading``: see :mod:`bn_helpers.grading.cli`."""
    from .cli import main as _main

    return _main(argv)
