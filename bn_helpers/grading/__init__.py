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

import importlib

#: Where each public name lives; imported on first use, so that ``python -m bn_helpers.grading`` can start
#: its grading processes before paying for nbgrader's imports (see :func:`.runner.warm_up`).
_NAMES = {
    "course": ["REPO", "GRADING", "GradingError", "Course", "assignments", "folder_hash", "make_submission",
               "new_course", "read_sample", "solution_code"],
    "pipeline": ["apply_late_policy", "autograde", "export", "generate_assignment", "generate_feedback", "grade_by_hand",
                 "precheck", "report"],
    "results": ["EXPORT_COLUMNS", "CellResult", "StudentResult", "format_table", "gather", "read_judge", "summary",
                "write_csv"],
}
_WHERE = {name: module for module, names in _NAMES.items() for name in names}

__all__ = [name for names in _NAMES.values() for name in names] + ["main"]


def __getattr__(name: str):
    if name in _WHERE:
        value = getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


def main(argv: list[str] | None = None) -> int:
    """``python -m bn_helpers.grading``: see :mod:`bn_helpers.grading.cli`."""
    from .cli import main as _main

    return _main(argv)
