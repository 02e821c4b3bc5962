"""The class's mistakes at a glance: per graded function, how many students made each named mistake.

The checks name the mistakes they recognise ("batch_variance: You divided by
N-1 (the unbiased variance ...)"); the judge's verdict on each test cell is
what the autograded notebook and the gradebook hold (see
:mod:`bn_helpers.judge`), and :func:`.results.gather` reads it back as each
lost cell's message. Here those messages are grouped by the function a test
cell checks (``test_<function>...``) and by the mistake's first line (numbers,
shapes and case labels aside), so that an instructor reads, before the next
lecture, which mistakes were common and which written answers still wait for
a grader.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import nbformat

from .course import Course
from .results import GRADED, StudentResult, summary

__all__ = ["Mistake", "ClassMistakes", "class_mistakes", "format_mistakes", "mistake_of"]

_NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?", re.IGNORECASE)
_ENAME = re.compile(r"^[A-Za-z_][\w.]*(?:Error|Exception|Interrupt|Exit)\s*:\s*")


@dataclass
class Mistake:
    """One named mistake in one function: the students who made it and one of their messages."""

    function: str
    text: str
    students: list[str] = field(default_factory=list)
    example: str = ""


@dataclass
class ClassMistakes:
    """One assignment's mistakes: by function (most common first), and the written answers waiting."""

    assignment: str
    graded: list[str]
    functions: list[str]
    by_function: dict[str, list[Mistake]]
    waiting: dict[str, list[str]]
    not_graded: list[str]


def _graded_cells(course: Course, assignment: str) -> tuple[list[str], set[str]]:
    """The assignment's graded functions (solution code cells) and its autograded test cells, from the source."""
    functions, tests = [], set()
    for path in sorted(course.source(assignment).glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            meta = cell.get("metadata", {}).get("nbgrader", {})
            gid = meta.get("grade_id")
            if not gid:
                continue
            if meta.get("solution") and cell.cell_type == "code":
                functions.append(gid)
            elif meta.get("grade") and not meta.get("solution"):
                tests.add(gid)
    return functions, tests


def _function_of(test_id: str, functions: list[str]) -> str:
    """The function a test cell checks: the longest ``f`` with ``test_id`` = ``test_<f>...``, else the cell."""
    fits = [f for f in functions if test_id == f"test_{f}" or test_id.startswith(f"test_{f}_")]
    return max(fits, key=len) if fits else test_id


def mistake_of(message: str, function: str = "") -> tuple[str, str]:
    """(key, text) of a check's failure message: its first line without the exception's name and the
    function's name; the key also without numbers, so one mistake on different cases is counted once."""
    line = message.strip().splitlines()[0].strip() if message.strip() else "no message"
    line = _ENAME.sub("", line, count=1)
    if function and line.startswith(f"{function}:"):
        line = line[len(function) + 1:].strip()
    return _NUMBER.sub("#", line).lower(), line


def _example(student: str, cell, text: str) -> str:
    """Where one student showed the mistake: the cell and the case (the message's lines after the first,
    or the mistake's ``text`` when there are none)."""
    lines = [ln.strip() for ln in cell.message.strip().splitlines()]
    return f"{student}, {cell.grade_id}: {' '.join(ln for ln in lines[1:] if ln) or text}"


def class_mistakes(course: Course, assignment: str, rows: list[StudentResult]) -> ClassMistakes:
    """Group the lost test cells of ``rows`` (one assignment's, from :func:`.results.gather`) by function and
    named mistake; a student counts once per mistake and function, however many cases or cells showed it."""
    functions, tests = _graded_cells(course, assignment)
    found: dict[tuple[str, str], Mistake] = {}
    waiting: dict[str, list[str]] = {}
    graded = [r for r in rows if r.status == GRADED]
    for r in graded:
        for gid in r.awaiting:
            waiting.setdefault(gid, []).append(r.student)
        for cell in r.problems:
            if cell.grade_id not in tests:
                continue  # a written answer, graded by hand
            fn = _function_of(cell.grade_id, functions)
            key, text = mistake_of(cell.message, fn)
            m = found.setdefault((fn, key), Mistake(fn, text, example=_example(r.student, cell, text)))
            if r.student not in m.students:
                m.students.append(r.student)
    by_function: dict[str, list[Mistake]] = {}
    for m in found.values():
        by_function.setdefault(m.function, []).append(m)
    for ms in by_function.values():
        ms.sort(key=lambda m: (-len(m.students), m.text))
    order = functions + sorted(set(by_function) - set(functions))
    return ClassMistakes(assignment, [r.student for r in graded], order, by_function, waiting,
                         [r.student for r in rows if r.status not in (GRADED, "missing")])


def format_mistakes(report: ClassMistakes, width: int = 110) -> str:
    """The report as text: per function, each mistake with its count and one example message."""
    n = len(report.graded)
    lines = [f"{report.assignment}: the class's mistakes in {n} graded submission{'' if n == 1 else 's'}"]
    for fn in report.functions:
        ms = report.by_function.get(fn, [])
        if not ms:
            lines.append(f"  {fn}: no student lost points" if n else f"  {fn}: -")
            continue
        who = sorted({s for m in ms for s in m.students})
        lines.append(f"  {fn}: {len(who)} of {n} student{'' if n == 1 else 's'} lost points")
        for m in ms:
            k = len(m.students)
            lines.append(f"    {k:>3} student{' ' if k == 1 else 's'}  {summary(m.text, width - 18)}")
            lines.append(f"{'':18}e.g. {summary(m.example, width - 22)}")
    if report.waiting:
        total = sum(len(v) for v in report.waiting.values())
        lines.append(f"  written answers waiting for a grader: {total}")
        for gid, students in report.waiting.items():
            lines.append(f"    {gid}: {len(students)} ({', '.join(students)})")
    else:
        lines.append("  written answers waiting for a grader: 0")
    if report.not_graded:
        lines.append(f"  not graded, so not counted: {', '.join(report.not_graded)}")
    return "\n".join(lines)
