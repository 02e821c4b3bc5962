"""What the gradebook says, checked against the submissions: one row per student, always.

Every student the course knows (enrolled in the gradebook, or with a
submission folder) gets a row with a *status*:

``graded``
    the submission as it is now was autograded and its grades are in the
    gradebook;
``ungradeable``
    grading this submission failed; ``reason`` says why (its log is under
    ``.grading/logs/<assignment>/``);
``pending``
    submitted, not graded as it is now: new, changed since it was graded (a
    resubmission), or graded against an older source; ``autograde`` grades it;
``missing``
    enrolled, nothing submitted.

The score columns: ``score`` (nbgrader's, before any late penalty), ``penalty``
(``nbgrader_config.py``'s late policy), ``final`` (score minus penalty, at
least 0). A row that is not ``graded`` has no score: it is never a silent 0.
A graded row whose written answers still wait for a grader (formgrader,
:func:`.pipeline.grade_by_hand`) lists them in :attr:`StudentResult.awaiting`;
its score is only the autograded part, and the exports leave it blank
(status ``awaiting_hand_grading``).

Two exports (:func:`write_csv`, :func:`write_wide`): the long one, one row per
student and assignment with every detail, and the wide one an LMS gradebook
imports, one row per student and one column per assignment.
"""
from __future__ import annotations

import csv
import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

import nbformat

from .course import Course, folder_hash
from .db import open_gradebook
from .errors import GradingError
from .late import describe_lateness

__all__ = ["CellResult", "StudentResult", "gather", "format_table", "write_csv", "write_wide", "summary",
           "EXPORT_COLUMNS", "WIDE_ID_COLUMNS", "read_judge", "gradebook_view"]

GRADED, UNGRADEABLE, PENDING, MISSING = "graded", "ungradeable", "pending", "missing"
#: The export's status of a graded submission whose written answers wait for a grader (never a number).
AWAITING = "awaiting_hand_grading"
FEEDBACK_STALE = "feedback out of date (the gradebook changed since it was written): run feedback"


class CellResult(NamedTuple):
    """One graded cell of one submission: its score and, if it lost points, why."""

    grade_id: str
    score: float | None
    max_score: float
    message: str


@dataclass
class StudentResult:
    """One student's row for one assignment (see the module docstring for ``status``)."""

    student: str
    assignment: str
    status: str
    reason: str = ""
    score: float | None = None
    max_score: float = 0.0
    penalty: float = 0.0
    timestamp: datetime | None = None
    duedate: datetime | None = None
    seconds_late: float = 0.0
    days_late: int = 0
    cells: list[CellResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    needs_manual_grade: bool = False
    judge: dict | None = None
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    view: str = ""

    @property
    def awaiting(self) -> list[str]:
        """The written answers (grade_ids) of a graded submission still waiting to be graded by hand."""
        return [c.grade_id for c in self.cells if c.score is None] if self.status == GRADED else []

    @property
    def final(self) -> float | None:
        """Score minus late penalty (at least 0); ``None`` unless graded."""
        if self.status != GRADED or self.score is None:
            return None
        return max(0.0, self.score - (self.penalty or 0.0))

    @property
    def graded(self) -> bool:
        return self.status == GRADED

    @property
    def problems(self) -> list[CellResult]:
        return [c for c in self.cells if c.score is not None and c.score < c.max_score]


def _failure_message(cell) -> str:
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            text = f"{out.get('ename')}: {out.get('evalue')}".strip()
            return re.sub(r"\x1b\[[0-9;]*m", "", text)
    return "no error recorded, yet the cell lost points (a number as its last line?)"


def read_judge(path: Path) -> dict | None:
    """The judge's report beside an autograded notebook (``judge.json``, docs/grading-security.md).

    Returns ``{"sandbox": str, "unsandboxed": bool, "disagreements": [str, ...]}``
    (each disagreement as ``"cell: kernel pass, judge fail (why)"``) or
    ``None`` when there is no such file; an unreadable file is reported as such.
    The format written by :mod:`bn_helpers.judge` is ``{"format": 1,
    "notebooks": {name: {"sandbox", "sandboxed", "cells": [...],
    "disagreements": [grade_id, ...]}}}``; a flat record is read the same way.
    """
    path = Path(path)
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text())
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
    except (OSError, ValueError) as exc:
        return {"sandbox": "", "unsandboxed": False, "disagreements": [], "error": f"judge.json unreadable: {exc}"}
    records = data.get("notebooks") if isinstance(data.get("notebooks"), dict) else {"": data}
    sandboxes, unsandboxed, found = [], False, []
    for record in records.values():
        if not isinstance(record, dict):
            continue
        text = record.get("sandbox", "")
        text = text if isinstance(text, str) else json.dumps(text)
        if text and text not in sandboxes:
            sandboxes.append(text)
        unsandboxed |= "UNSANDBOXED" in text or record.get("sandboxed") is False or bool(record.get("unsandboxed"))
        cells = {c.get("grade_id"): c for c in record.get("cells", []) if isinstance(c, dict)}
        for item in record.get("disagreements", []) or []:
            if isinstance(item, dict):
                gid = item.get("grade_id") or item.get("cell") or "?"
                cell = {**cells.get(gid, {}), **item}
            else:
                gid, cell = str(item), cells.get(item, {})
            kernel, judge = cell.get("kernel"), cell.get("judge")
            why = cell.get("judge_message") or cell.get("kernel_message") or ""
            detail = f"kernel {kernel}, judge {judge}" if kernel and judge else ""
            if why:
                detail = f"{detail} ({summary(str(why), 80)})" if detail else summary(str(why), 80)
            found.append(f"{gid}: {detail}" if detail else gid)
    return {"sandbox": "; ".join(sandboxes), "unsandboxed": unsandboxed, "disagreements": found}


def _judge_notes(judge: dict | None) -> list[str]:
    if not judge:
        return []
    notes = []
    if judge.get("error"):
        notes.append(judge["error"])
    if judge.get("unsandboxed"):
        text = judge.get("sandbox") or ""
        notes.append(text if "UNSANDBOXED" in text else f"UNSANDBOXED {text}".strip())
    notes += [f"judge disagrees: {d}" for d in judge.get("disagreements", [])]
    return notes


def _cells(course: Course, sub, student: str, assignment: str) -> tuple[list[CellResult], list[str], bool]:
    cells, notes, manual = [], [], False
    for nb_sub in sub.notebooks:
        path = course.autograded(student, assignment) / f"{nb_sub.name}.ipynb"
        order, graded = {}, {}
        if path.exists():
            try:
                nb = nbformat.read(path, as_version=4)
                for i, c in enumerate(nb.cells):
                    gid = c.metadata.get("nbgrader", {}).get("grade_id")
                    if gid:
                        order.setdefault(gid, i)
                        graded[gid] = c
            except Exception as exc:  # noqa: BLE001 - a damaged file is reported, not fatal
                notes.append(f"autograded notebook unreadable: {exc}")
        for grade in sorted(nb_sub.grades, key=lambda g: (order.get(g.name, 10 ** 6), g.name)):
            top = float(grade.max_score)
            if grade.needs_manual_grade:
                manual = True
                cells.append(CellResult(grade.name, None, top, "to be graded by hand"))
                continue
            score, msg = float(grade.score or 0.0), ""
            cell = graded.get(grade.name, {})
            if score < top:
                if grade.manual_score is not None:
                    msg = f"graded by hand: {score:g} of {top:g}"
                elif (cell.get("metadata", {}).get("nbgrader", {}) if cell else {}).get("solution"):
                    msg = "written answer not given (the released text is unchanged)"
                else:
                    msg = _failure_message(cell)
            cells.append(CellResult(grade.name, score, top, msg))
    if manual:
        todo = [c.grade_id for c in cells if c.score is None]
        notes.append(f"to grade by hand (formgrader): {', '.join(todo)}")
    return cells, notes, manual


def gradebook_view(sub, autograded: Path) -> str:
    """A fingerprint of everything a student's feedback shows: the gradebook's scores, comments and late
    penalty for this submission, and the autograded files (a regrade).

    Two calls give the same text exactly when the feedback written from the first would still be true:
    a hand grade entered in formgrader or :func:`.pipeline.grade_by_hand`, a changed late policy or a
    regrade all change it.
    """
    record = {"autograded": folder_hash(autograded), "notebooks": []}
    for nb in sorted(sub.notebooks, key=lambda n: n.name):
        record["notebooks"].append({
            "name": nb.name,
            "penalty": nb.late_submission_penalty,
            "grades": sorted([g.name, g.auto_score, g.manual_score, g.extra_credit, bool(g.needs_manual_grade)]
                             for g in nb.grades),
            "comments": sorted([c.name, c.auto_comment or "", c.manual_comment or ""] for c in nb.comments),
        })
    return hashlib.sha256(json.dumps(record, sort_keys=True, default=str).encode()).hexdigest()


def gather(course: Course, assignment: str) -> list[StudentResult]:
    """Every student's row for ``assignment``, sorted by student id (see the module docstring).

    Raises
    ------
    GradingError
        If the assignment is not in the gradebook (run ``generate_assignment``).
    """
    from nbgrader.api import MissingEntry

    policy = course.late_policy()
    source_hash = course.source_hash(assignment)
    submitted = set(course.submitted_students(assignment))
    rows = []
    with open_gradebook(course.db_url, course.course_id) as gb:
        try:
            a = gb.find_assignment(assignment)
        except MissingEntry:
            raise GradingError(f"{assignment} is not in the gradebook {course.db_url.split('@')[-1]}: run "
                               f"`python -m bn_helpers.grading generate_assignment {assignment}` first") from None
        max_score = float(a.max_score or 0.0)
        duedate = a.duedate
        enrolled = {s.id: s for s in gb.students}
        subs = {sub.student.id: sub for sub in gb.assignment_submissions(assignment)}
        for sid in sorted(set(enrolled) | submitted | set(subs)):
            person = enrolled.get(sid)
            row = StudentResult(sid, assignment, MISSING, max_score=max_score, duedate=duedate,
                                first_name=(person.first_name or "") if person else "",
                                last_name=(person.last_name or "") if person else "",
                                email=(person.email or "") if person else "")
            rows.append(row)
            sub = subs.get(sid)
            state = course.read_state(assignment, sid)
            if sid not in submitted:
                if sub is None:
                    row.reason = "nothing submitted"
                    continue
                row.notes.append("graded, but its submission folder is gone")
            else:
                now = folder_hash(course.submitted(sid, assignment))
                if state is not None and state.get("submission") != now:
                    row.status, row.reason = PENDING, ("changed since it was graded (a resubmission): "
                                                       "run autograde" if state.get("ok") else
                                                       "changed since grading failed: run autograde")
                    continue
                if state is not None and state.get("source") != source_hash:
                    row.status, row.reason = PENDING, "the assignment's source changed since: run autograde"
                    continue
                if state is not None and not state.get("ok"):
                    row.status, row.reason = UNGRADEABLE, state.get("reason") or "grading failed"
                    continue
                if sub is None:
                    row.status = PENDING
                    row.reason = ("not autograded yet" if state is None else
                                  "graded, but not in this gradebook (another database?): run autograde")
                    continue
                if state is None:
                    row.notes.append("graded by plain nbgrader: autograde records it to notice resubmissions")
                else:
                    row.notes += state.get("notes", [])
            missing_nb = [n.name for n in sub.notebooks
                          if not (course.autograded(sid, assignment) / f"{n.name}.ipynb").exists()]
            if missing_nb:
                row.status = PENDING if sid in submitted else UNGRADEABLE
                row.reason = f"autograded notebook {', '.join(missing_nb)}.ipynb is missing: run autograde"
                continue
            row.status = GRADED
            row.score = float(sub.score or 0.0)
            row.penalty = float(sub.late_submission_penalty or 0.0)
            row.timestamp = sub.timestamp
            row.seconds_late = float(sub.total_seconds_late or 0.0)
            row.days_late = policy.days_late(row.seconds_late)
            cells, notes, manual = _cells(course, sub, sid, assignment)
            row.cells, row.needs_manual_grade = cells, manual
            row.notes += notes
            row.judge = read_judge(course.autograded(sid, assignment) / "judge.json")
            row.notes += _judge_notes(row.judge)
            row.view = gradebook_view(sub, course.autograded(sid, assignment))
            written = [course.feedback(sid, assignment) / f"{n.name}.html" for n in sub.notebooks]
            if any(p.exists() for p in written) and course.read_feedback_view(assignment, sid) != row.view:
                row.notes.append(FEEDBACK_STALE)
    return rows


def summary(message: str, width: int = 110) -> str:
    """First line of a failure message, shortened for a table."""
    line = message.strip().splitlines()[0] if message.strip() else ""
    if "\n" in message.strip():
        rest = [ln.strip() for ln in message.strip().splitlines()[1:] if ln.strip()]
        if rest and line.endswith("."):
            line = f"{line} {rest[0]}"
    return line if len(line) <= width else line[: width - 1] + "…"


def _num(x: float | None) -> str:
    return "-" if x is None else f"{x:g}"


def format_table(rows: list[StudentResult], expected: dict[str, float] | None = None,
                 width: int = 100) -> tuple[str, int]:
    """The grade table: one line per student, then one per lost cell and note; and how many
    final scores differ from ``expected`` (marked ``!``)."""
    expected = expected or {}
    name_w = max([7] + [len(r.student) for r in rows])
    head = (f"{'student':<{name_w}}  {'status':<11} {'score':>5} {'max':>4} {'late':>9} {'penalty':>7} "
            f"{'final':>5}" + (f" {'expected':>8}" if expected else "") + "  what went wrong")
    lines = [head]
    indent = " " * (len(head) - len("what went wrong"))
    mismatches = 0
    for r in rows:
        want = expected.get(r.student)
        bad = want is not None and (r.final is None or abs(want - r.final) > 1e-9)
        mismatches += bad
        details = []
        if r.status != GRADED:
            details.append(r.reason)
        details += [f"{c.grade_id}: {summary(c.message, width)}" for c in r.problems]
        details += r.notes
        late = describe_lateness(r.seconds_late).replace(" ", "") if r.status == GRADED else ""
        exp = (f" {_num(want) if want is not None else '':>8}" if expected else "") + ("!" if bad else " ")
        lines.append(f"{r.student:<{name_w}}  {r.status:<11} {_num(r.score):>5} {r.max_score:>4g} {late or '-':>9} "
                     f"{(_num(r.penalty) if r.status == GRADED else '-'):>7} {_num(r.final):>5}{exp} "
                     f"{summary(details[0], width) if details else '-'}")
        lines += [f"{indent}{summary(d, width)}" for d in details[1:]]
    counts = {s: sum(r.status == s for r in rows) for s in (GRADED, UNGRADEABLE, PENDING, MISSING)}
    lines.append("")
    lines.append(", ".join(f"{n} {s}" for s, n in counts.items() if n or s == GRADED) + f" of {len(rows)} students")
    not_graded = [r for r in rows if r.status in (UNGRADEABLE, PENDING)]
    if not_graded:
        lines.append("NOT GRADED: " + ", ".join(f"{r.student} ({r.status})" for r in not_graded))
    missing = [r.student for r in rows if r.status == MISSING]
    if missing:
        lines.append("nothing submitted: " + ", ".join(missing))
    lines.append(awaiting_line(rows))
    return "\n".join(lines), mismatches


def awaiting_line(rows: list[StudentResult]) -> str:
    """``awaiting hand grading: N answers (student: cell, ...)`` for one assignment's rows."""
    waiting = [(r.student, r.awaiting) for r in rows if r.awaiting]
    n = sum(len(cells) for _, cells in waiting)
    return (f"awaiting hand grading: {n} answer{'' if n == 1 else 's'}"
            + (" (" + "; ".join(f"{s}: {', '.join(c)}" for s, c in waiting) + ")" if waiting else ""))


EXPORT_COLUMNS = [
    "assignment", "student_id", "last_name", "first_name", "email", "status", "score", "max_score",
    "raw_score", "late_penalty", "timestamp", "duedate", "seconds_late", "days_late", "needs_manual_grade",
    "reason", "notes",
]


def _iso(t: datetime | None) -> str:
    return "" if t is None else t.strftime("%Y-%m-%d %H:%M:%S UTC")


def export_status(r: StudentResult) -> str:
    """The status an export gives: ``awaiting_hand_grading`` for a graded row with answers still to grade."""
    return AWAITING if r.awaiting else r.status


def export_score(r: StudentResult) -> float | None:
    """The number an export gives, or ``None`` (a blank cell): the final score of a submission graded in
    full; 0 for nothing submitted; never a number for one not graded yet or awaiting hand grading."""
    status = export_status(r)
    return r.final if status == GRADED else (0.0 if status == MISSING else None)


def export_row(r: StudentResult) -> dict[str, str]:
    """A row of the long CSV export: ``score`` is the final score, blank unless graded in full (0 when missing)."""
    final, status = export_score(r), export_status(r)
    scored = status == GRADED
    if status == AWAITING:
        reason = (f"{len(r.awaiting)} written answer(s) to grade by hand (formgrader): {', '.join(r.awaiting)}; "
                  f"autograded part {r.score:g} of {r.max_score:g}")
    elif status == GRADED:
        reason = "; ".join(f"{c.grade_id}: {summary(c.message, 200)}" for c in r.problems)
    else:
        reason = r.reason
    return {
        "assignment": r.assignment, "student_id": r.student, "last_name": r.last_name,
        "first_name": r.first_name, "email": r.email, "status": status,
        "score": "" if final is None else f"{final:g}", "max_score": f"{r.max_score:g}",
        "raw_score": f"{r.score:g}" if scored else "",
        "late_penalty": f"{r.penalty:g}" if scored else "",
        "timestamp": _iso(r.timestamp), "duedate": _iso(r.duedate),
        "seconds_late": f"{r.seconds_late:.0f}" if r.status == GRADED else "",
        "days_late": str(r.days_late) if r.status == GRADED else "",
        "needs_manual_grade": "yes" if r.needs_manual_grade else "",
        "reason": reason,
        "notes": "; ".join(r.notes),
    }


def _write_atomically(path: Path, header: list[str], rows: list[dict[str, str]]) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    tmp.replace(path)
    return path


def write_csv(rows: list[StudentResult], path: Path) -> Path:
    """Write the long export (one row per student and assignment, :data:`EXPORT_COLUMNS`) atomically."""
    return _write_atomically(path, EXPORT_COLUMNS, [export_row(r) for r in rows])


#: The wide export's first columns: Canvas's gradebook CSV identifies a student by its first five columns
#: (Student, ID, SIS User ID, SIS Login ID, Section); Moodle's CSV grade import maps one chosen column to a
#: user field ("Map from" Email address "to" useremail, or a login to username).
WIDE_ID_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Email address"]
TOTAL_COLUMN = "Total"


def wide_table(rows: list[StudentResult], assignments: list[str] | None = None
               ) -> tuple[list[str], list[dict[str, str]], list[tuple[str, str, str]]]:
    """The wide export as (header, rows, blanks): one row per student, a column per assignment and the total.

    A cell holds the final score (after the late penalty) of a submission graded in full, 0 for nothing
    submitted, and is left blank otherwise: not graded yet, ungradeable, or awaiting hand grading. A blank
    is "no grade" to Canvas and Moodle, never a 0. The total is the sum when every cell of the row is a
    number, blank otherwise (a partial sum would read as a grade). ``blanks`` lists each blank cell as
    (student, assignment, status).
    """
    assignments = assignments or list(dict.fromkeys(r.assignment for r in rows))
    people: dict[str, dict[str, StudentResult]] = {}
    for r in rows:
        people.setdefault(r.student, {})[r.assignment] = r
    header = WIDE_ID_COLUMNS + list(assignments) + [TOTAL_COLUMN]
    out, blanks = [], []
    for student in sorted(people):
        mine = people[student]
        anyone = next(iter(mine.values()))
        name = ", ".join(p for p in (anyone.last_name, anyone.first_name) if p) or student
        line = {"Student": name, "ID": "", "SIS User ID": "", "SIS Login ID": student, "Section": "",
                "Email address": anyone.email}
        scores = []
        for a in assignments:
            r = mine.get(a)
            score = export_score(r) if r is not None else None
            if score is None:
                blanks.append((student, a, export_status(r) if r is not None else "not in the gradebook"))
            line[a] = "" if score is None else f"{score:g}"
            scores.append(score)
        line[TOTAL_COLUMN] = "" if any(x is None for x in scores) else f"{sum(scores):g}"
        out.append(line)
    return header, out, blanks


def write_wide(rows: list[StudentResult], path: Path, assignments: list[str] | None = None
               ) -> tuple[Path, list[tuple[str, str, str]]]:
    """Write the wide export (:func:`wide_table`) atomically, UTF-8; returns the path and the blank cells.

    References
    ----------
    Canvas, "How do I import grades in the Gradebook?" (community.canvaslms.com, Instructor Guide): the
    CSV's columns Student, ID, SIS User ID, SIS Login ID and Section identify the student, each further
    column is an assignment, matched by name (an unknown name becomes a new assignment: delete the Total
    column before importing). Moodle, "Grade import" (docs.moodle.org/en/Grade_import): CSV grade
    import maps one column to a user field (e.g. Email address to useremail) and each grade column to a
    grade item; unmapped columns are ignored.
    """
    header, lines, blanks = wide_table(rows, assignments)
    return _write_atomically(path, header, lines), blanks
