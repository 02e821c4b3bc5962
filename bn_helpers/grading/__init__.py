"""The instructor's tool: nbgrader's pipeline, parallel, checked, and told truthfully.

``python -m bn_helpers.grading`` (see :mod:`.cli`) runs the steps with
nbgrader's words: ``generate_assignment``, ``autograde``, ``feedback``,
``report``, ``mistakes``, ``export``, ``db upgrade``. nbgrader does the grading; this package

* grades each student in a process of their own, N at a time (:mod:`.runner`),
  and re-grades a submission when its *content* changed (:mod:`.pipeline`);
* reads every result back from the gradebook and the files, so the grade table
  has a row and a status for every student (:mod:`.results`);
* writes feedback again whenever the gradebook's view of a submission changed
  (a hand grade, a late penalty, a regrade), and exports what an LMS imports:
  one row per student, a column per assignment, no number for a grade not final;
* counts the class's named mistakes per graded function (:mod:`.mistakes`);
* applies the due dates and late penalties of ``nbgrader_config.py``
  (:mod:`.late`);
* keeps one student's accident (a pasted test cell, a loop that swallows
  interrupts, a crashing kernel) from costing more than the cells it hit
  (:mod:`.preprocessors`);
* opens PostgreSQL or SQLite gradebooks safely from many processes (:mod:`.db`).

Used by ``make demo`` (:mod:`bn_helpers.demo`) and the tests.

The modules form layers, read from the bottom up: each imports only modules
listed before it in :data:`LAYERS` (``tests/test_grading_layers.py`` parses
every import, those inside functions too, and fails on a cycle or an upward
import). This file is the front door above them all: it names where each
public name lives and imports it on first use.
"""
from __future__ import annotations

import importlib

#: The modules from the bottom up; a module imports only modules before it.
LAYERS = (
    "errors",         # GradingError
    "late",           # due dates and late penalties (an nbgrader plugin)
    "preprocessors",  # nbgrader preprocessors named by nbgrader_config.py
    "db",             # the gradebook database: drivers, schema, many writers
    "_child",         # what one grading process runs
    "_forkserver",    # the fork server's last import: its heap frozen (gc.freeze)
    "runner",         # many grading processes, N at a time
    "course",         # a course folder: configuration, folders, grading state, sample submissions
    "results",        # one row per student read back from the gradebook; the CSV exports
    "mistakes",       # the class's named mistakes per graded function
    "pipeline",       # the steps: generate, autograde, feedback, report, export, mistakes
    "cli",            # python -m bn_helpers.grading
    "__main__",
)

#: Where each public name lives; imported on first use, so that ``python -m bn_helpers.grading`` can start
#: its grading processes before paying for nbgrader's imports (see :func:`.runner.warm_up`).
_NAMES = {
    "errors": ["GradingError"],
    "course": ["REPO", "GRADING", "Course", "assignments", "folder_hash", "make_submission", "read_sample",
               "solution_code"],
    "pipeline": ["apply_late_policy", "autograde", "export", "generate_assignment", "generate_feedback", "grade_by_hand",
                 "find_mistakes", "new_course", "precheck", "report"],
    "results": ["EXPORT_COLUMNS", "CellResult", "StudentResult", "format_table", "gather", "read_judge", "summary",
                "write_csv", "write_wide"],
    "mistakes": ["format_mistakes"],
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
