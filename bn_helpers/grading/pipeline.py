"""The instructor's steps, each safe to run again: generate, autograde, feedback, report, export.

Every step reads the course from its ``nbgrader_config.py`` (:class:`.Course`),
lets nbgrader do the grading, and reads the results back from the gradebook and
the files (:func:`.results.gather`), because nbgrader's exit code says whether
*something* failed, not what.
"""
from __future__ import annotations

import filecmp
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat

from . import runner
from .course import GRADING, REPO, Course, assignments, folder_hash, now_iso
from .db import ensure_schema, open_gradebook
from .errors import GradingError
from .results import GRADED, StudentResult, gather

__all__ = ["generate_assignment", "new_course", "autograde", "generate_feedback", "grade_by_hand", "report", "export",
           "find_mistakes", "gradebook_assignments", "apply_late_policy", "precheck"]

#: A student's grading process running longer than this (seconds) is stopped and reported.
DEFAULT_TIMEOUT = 1800.0


def _course(course) -> Course:
    return course if isinstance(course, Course) else Course(course)


def _require_assignment(c: Course, assignment: str) -> None:
    from nbgrader.api import MissingEntry

    with open_gradebook(c.db_url, c.course_id) as gb:
        try:
            gb.find_assignment(assignment)
        except MissingEntry:
            raise GradingError(f"{assignment} is not in the gradebook: run "
                               f"`python -m bn_helpers.grading generate_assignment {assignment}` first") from None


def generate_assignment(course, assignment: str, no_db: bool = False) -> list[Path]:
    """Record ``assignment`` in the gradebook and bring its release up to date, never deleting a file.

    ``nbgrader generate_assignment --force`` deletes the release folder first
    and, when it then fails (a database it cannot open, a missing driver, a
    broken source notebook), leaves it deleted: ``notebooks/<assignment>/`` is
    committed. Here nbgrader writes the release into a temporary folder; only
    when it succeeded are new or changed files copied over the release.
    ``no_db`` only regenerates the release (``make release``). Returns the
    files that changed.

    Raises
    ------
    GradingError
        If the source is missing, the gradebook cannot be opened, or nbgrader fails.
    """
    c = _course(course)
    source = c.source(assignment)
    if not source.is_dir():
        raise GradingError(f"no source folder {source}")
    if not no_db:
        ensure_schema(c.db_url, c.course_id)
    with tempfile.TemporaryDirectory(prefix="release-", dir=c.root / ".grading") as tmp:
        cmd = [sys.executable, "-m", "nbgrader", "generate_assignment", assignment, "--force",
               f"--CourseDirectory.release_directory={tmp}"] + (["--no-db"] if no_db else [])
        runner_env = runner._env(1)
        proc = subprocess.run(cmd, cwd=c.root, capture_output=True, text=True, env=runner_env)
        built = Path(tmp) / assignment
        if proc.returncode != 0 or not built.is_dir():
            raise GradingError(f"`nbgrader generate_assignment {assignment}` failed (nothing was changed): "
                               f"{runner.reason_from_log(proc.stderr + proc.stdout)}")
        release = c.release(assignment)
        changed = []
        for path in sorted(built.rglob("*")):
            if path.is_dir():
                continue
            target = release / path.relative_to(built)
            if not target.exists() or not filecmp.cmp(path, target, shallow=False):
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target)
                changed.append(target)
    return changed


def new_course(dest: Path, root: Path = REPO, names: list[str] | None = None) -> Path:
    """Make a fresh course folder at ``dest`` from ``root``'s solutions and config.

    Copies ``nbgrader_config.py`` and ``solutions/``, then runs
    ``nbgrader generate_assignment`` for each assignment, which fills the
    gradebook and writes ``notebooks/`` (the release).

    Raises
    ------
    GradingError
        If ``dest`` already holds a course (nothing is overwritten), or if
        nbgrader fails.
    """
    dest = Path(dest)
    if (dest / "nbgrader_config.py").exists() or (dest / GRADING).exists():
        raise GradingError(f"{dest} already holds a course; refusing to overwrite it")
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy2(Path(root) / "nbgrader_config.py", dest / "nbgrader_config.py")
    names = names or assignments(root)
    for name in names:
        shutil.copytree(Path(root) / "solutions" / name, dest / "solutions" / name)
    (dest / GRADING).mkdir()
    for name in names:
        generate_assignment(dest, name)
    return dest


def _readable_notebook(path: Path) -> str | None:
    try:
        nbformat.read(path, as_version=4)
    except Exception as exc:  # noqa: BLE001 - any reason is the student's notebook's
        return f"{path.name} is not a readable notebook ({exc.__class__.__name__}: {str(exc).splitlines()[0][:120]})"
    return None


def precheck(c: Course, assignment: str, student: str) -> tuple[str | None, list[str]]:
    """What can be told about a submission before grading it: a reason it cannot be graded, and notes.

    The reason (or ``None``) covers what nbgrader would fail on with a less
    clear message: no notebook of the right name, a file that is not a
    notebook, an unreadable ``timestamp.txt``. Notes name test cells the
    student pasted twice, edited or deleted (nbgrader grades the original ones).
    """
    from .late import parse_time

    folder = c.submitted(student, assignment)
    names = c.notebook_names(assignment)
    present = [n for n in names if (folder / f"{n}.ipynb").is_file()]
    if not present:
        found = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
        return (f"no {', '.join(n + '.ipynb' for n in names)} in the submission"
                + (f" (it holds: {', '.join(found[:5])})" if found else " (the folder is empty)")), []
    for name in present:
        problem = _readable_notebook(folder / f"{name}.ipynb")
        if problem:
            return problem, []
    stamp = folder / "timestamp.txt"
    if stamp.is_file():
        text = stamp.read_text(errors="replace").strip()
        try:
            if text:
                parse_time(text)
        except ValueError:
            return f"timestamp.txt does not hold a date and time: {text[:60]!r}", []
    notes = [f"{n}.ipynb not submitted: its cells score 0" for n in names if n not in present]
    for name in present:
        notes += _cell_notes(c, assignment, folder / f"{name}.ipynb")
    return None, notes


def _cell_notes(c: Course, assignment: str, submitted: Path) -> list[str]:
    release = c.release(assignment) / submitted.name
    try:
        sub = nbformat.read(submitted, as_version=4)
        rel = nbformat.read(release, as_version=4) if release.is_file() else None
    except Exception:  # noqa: BLE001 - checked by the caller
        return []
    seen: dict[str, int] = {}
    for cell in sub.cells:
        gid = (cell.get("metadata", {}).get("nbgrader") or {}).get("grade_id")
        if gid:
            seen[gid] = seen.get(gid, 0) + 1
    notes = [f"cell {gid} appears {n} times: the last copy was graded, the others ran as plain cells"
             for gid, n in seen.items() if n > 1]
    if rel is not None:
        mine = {}
        for cell in sub.cells:
            meta = cell.get("metadata", {}).get("nbgrader") or {}
            if meta.get("grade_id"):
                mine[meta["grade_id"]] = cell.source
        tests = [(cell.metadata.nbgrader["grade_id"], cell.source) for cell in rel.cells
                 if cell.metadata.get("nbgrader", {}).get("grade") and not cell.metadata.nbgrader.get("solution")]
        deleted = [gid for gid, _ in tests if gid not in mine]
        edited = [gid for gid, src in tests if gid in mine and mine[gid].strip() != src.strip()]
        if deleted:
            notes.append(f"test cells deleted, restored from the source: {', '.join(deleted)}")
        if edited:
            notes.append(f"test cells edited, graded with the original tests: {', '.join(edited)}")
    return notes


def _sync_due_date(c: Course, assignment: str) -> None:
    due = c.late_policy().due_date(assignment)
    if due is None:
        return
    with open_gradebook(c.db_url, c.course_id) as gb:
        a = gb.find_assignment(assignment)
        if a.duedate != due:
            a.duedate = due
            gb.db.commit()


def apply_late_policy(course, assignment: str) -> None:
    """Write the configured due date and each submission's late penalty into the gradebook.

    nbgrader computes a penalty only when it grades; running this after every
    step keeps the gradebook (formgrader, ``nbgrader export``), the table and
    the export in agreement when the policy or a due date changes.

    Raises
    ------
    GradingError
        If a configured due date is not a date.
    """
    c = _course(course)
    policy = c.late_policy()
    try:
        _sync_due_date(c, assignment)
    except ValueError as exc:
        raise GradingError(str(exc)) from None
    with open_gradebook(c.db_url, c.course_id) as gb:
        changed = False
        for sub in gb.assignment_submissions(assignment):
            late = float(sub.total_seconds_late or 0.0)
            for nb in sub.notebooks:
                penalty = policy.penalty(nb.score, late) if late > 0 else None
                if nb.late_submission_penalty != penalty:
                    nb.late_submission_penalty = penalty
                    changed = True
        if changed:
            gb.db.commit()


def _verify(c: Course, assignment: str, students: list[str]) -> dict[str, str | None]:
    """For each student, why the gradebook and files do not hold a complete grading, or None (one session)."""
    from nbgrader.api import MissingEntry

    out: dict[str, str | None] = {}
    with open_gradebook(c.db_url, c.course_id) as gb:
        for student in students:
            out[student] = None
            try:
                sub = gb.find_submission(assignment, student)
            except MissingEntry:
                out[student] = "nbgrader finished, but the gradebook has no submission"
                continue
            for nb in sub.notebooks:
                if not (c.autograded(student, assignment) / f"{nb.name}.ipynb").exists():
                    out[student] = f"nbgrader finished, but the autograded {nb.name}.ipynb is missing"
                    break
                unscored = [g.name for g in nb.grades if g.auto_score is None and not g.needs_manual_grade]
                if unscored:
                    out[student] = f"nbgrader finished, but cell {unscored[0]} has no score"
                    break
    return out


def _needs_grading(c: Course, assignment: str, student: str, digest: str, source: str | None, graded: set) -> bool:
    state = c.read_state(assignment, student)
    return not (state and state.get("ok") and state.get("submission") == digest and state.get("source") == source
                and student in graded
                and all((c.autograded(student, assignment) / f"{n}.ipynb").exists()
                        for n in c.notebook_names(assignment)
                        if (c.submitted(student, assignment) / f"{n}.ipynb").exists()))


def autograde(course, assignment: str, students: list[str] | None = None, *, force: bool = False,
              jobs: int | None = None, timeout: float | None = DEFAULT_TIMEOUT,
              progress: bool = False) -> list[StudentResult]:
    """Autograde what needs it, each student in their own nbgrader process, ``jobs`` at a time.

    A submission is graded when it is new, when its content changed since it
    was graded (a resubmission, told by a hash of its files, not by a date), when
    the assignment's source changed, or when its last grading failed; with
    ``force``, always. Returns every student's row (:func:`.results.gather`).

    Raises
    ------
    GradingError
        If the gradebook cannot be opened, the assignment is not in it, or a
        named student has no submission.
    """
    c = _course(course)
    ensure_schema(c.db_url, c.course_id)
    _require_assignment(c, assignment)
    apply_late_policy(c, assignment)  # the due date nbgrader's own late plugin will read
    submitted = c.submitted_students(assignment)
    if students:
        unknown = [s for s in students if s not in submitted]
        if unknown:
            raise GradingError(f"no submission of {assignment} from {', '.join(unknown)} "
                               f"(expected {c.submitted(unknown[0], assignment)})")
        chosen = list(dict.fromkeys(students))
    else:
        chosen = submitted
    source = c.source_hash(assignment)
    with open_gradebook(c.db_url, c.course_id) as gb:
        graded = {sub.student.id for sub in gb.assignment_submissions(assignment)}
    todo, digests, notes = [], {}, {}
    for student in chosen:
        digests[student] = folder_hash(c.submitted(student, assignment))
        problem, notes[student] = precheck(c, assignment, student)
        if problem:
            c.write_state(assignment, student, {"submission": digests[student], "source": source, "ok": False,
                                                "reason": problem, "graded_at": now_iso(), "notes": []})
            continue
        if force or _needs_grading(c, assignment, student, digests[student], source, graded):
            todo.append(student)
    outcomes = runner.run_students(c.root, "autograde", assignment, todo, jobs=jobs or runner.default_jobs(),
                                   log_dir=c.logs(assignment), force=True, timeout=timeout, progress=progress)
    verified = _verify(c, assignment, [s for s in todo if outcomes[s].ok]) if todo else {}
    for student in todo:
        out = outcomes[student]
        log = out.log.relative_to(c.root) if out.log.is_relative_to(c.root) else out.log
        if out.timed_out:
            reason = f"grading took longer than {timeout:g} s and was stopped (log: {log})"
        elif out.returncode != 0:
            reason = f"{runner.reason_from_log(out.log.read_text(errors='replace'))} (log: {log})"
        else:
            reason = verified[student]
            if reason:
                reason += f" (log: {log})"
        c.write_state(assignment, student, {
            "submission": digests[student], "source": source, "ok": reason is None, "reason": reason or "",
            "graded_at": now_iso(), "seconds": round(out.seconds, 2), "attempts": out.attempts,
            "log": str(log), "notes": notes[student]})
    apply_late_policy(c, assignment)
    return gather(c, assignment)


def generate_feedback(course, assignment: str, students: list[str] | None = None, *, force: bool = False,
                      jobs: int | None = None, progress: bool = False) -> tuple[list[StudentResult], list[Path], list[str]]:
    """Write the HTML feedback of every graded student (``nbgrader generate_feedback``, one process each).

    A student's feedback is written again whenever the gradebook's view of the
    submission changed since it was written (:func:`.results.gradebook_view`:
    a hand grade entered in formgrader or by :func:`grade_by_hand`, a late
    penalty, a regrade), not by file dates; with ``force``, all of it. Returns
    the rows, the feedback files of graded students, and the graded students
    whose feedback could not be written.
    """
    c = _course(course)
    apply_late_policy(c, assignment)
    rows = gather(c, assignment)
    chosen = [r for r in rows if r.status == GRADED and (not students or r.student in students)]
    names = c.notebook_names(assignment)

    def mine(student: str) -> list[Path]:
        auto = c.autograded(student, assignment)
        return [c.feedback(student, assignment) / f"{n}.html" for n in names if (auto / f"{n}.ipynb").exists()]

    def stale(r: StudentResult) -> bool:
        return not all(p.exists() for p in mine(r.student)) or c.read_feedback_view(assignment, r.student) != r.view

    todo = [r.student for r in chosen if force or stale(r)]
    outcomes = runner.run_students(c.root, "generate_feedback", assignment, todo, jobs=jobs or runner.default_jobs(),
                                   log_dir=c.logs(assignment), force=True, progress=progress)
    views = {r.student: r.view for r in chosen}
    for student in todo:
        if outcomes[student].ok and mine(student) and all(p.exists() for p in mine(student)):
            c.write_feedback_view(assignment, student, views[student])
    rows = gather(c, assignment)  # the table says which feedback is still out of date (a failed student)
    files, failed = [], []
    for r in rows:
        if r.status != GRADED or (students and r.student not in students):
            continue
        written = mine(r.student)
        if written and all(p.exists() for p in written) and c.read_feedback_view(assignment, r.student) == r.view:
            files += written
        else:
            failed.append(r.student)
    return rows, files, failed


def grade_by_hand(course, assignment: str, student: str, grade_id: str, score: float,
                  notebook: str | None = None) -> tuple[float, float]:
    """Enter the instructor's score for a manually graded cell, as formgrader's grade form does.

    Parameters
    ----------
    course : path or Course
    assignment, student, grade_id : str
        The written answer's cell (its nbgrader ``grade_id``) in this student's submission.
    score : float
        Points given after reading the answer against the rubric, 0 to the cell's points.
    notebook : str, optional
        The notebook's name (default: the assignment's name, one notebook per assignment).

    Returns
    -------
    (score, max_score) : the submission's new total and its maximum (before any late penalty).

    Raises
    ------
    GradingError
        If the submission or the cell is not in the gradebook (autograde first), or ``score``
        is outside 0 to the cell's points.

    References
    ----------
    nbgrader's formgrader, ``PUT /formgrader/api/grade/<id>``: sets ``manual_score`` and
    clears ``needs_manual_grade``; the same fields are written here.
    """
    from nbgrader.api import MissingEntry

    c = _course(course)
    with open_gradebook(c.db_url, c.course_id) as gb:
        try:
            grade = gb.find_grade(grade_id, notebook or assignment, assignment, student)
        except MissingEntry:
            raise GradingError(f"no graded cell {grade_id!r} for {student} in {assignment}: "
                               f"autograde the submission first, and check the cell's grade_id") from None
        top = float(grade.max_score)
        if not 0.0 <= float(score) <= top:
            raise GradingError(f"{grade_id}: a score between 0 and {top:g} points; got {score!r}")
        grade.manual_score = float(score)
        grade.needs_manual_grade = False
        gb.db.commit()
        sub = gb.find_submission(assignment, student)
        total, top_total = float(sub.score), float(sub.max_score)
    apply_late_policy(c, assignment)
    return total, top_total


def report(course, assignment: str) -> list[StudentResult]:
    """Every student's row, with the configured late policy applied first."""
    c = _course(course)
    apply_late_policy(c, assignment)
    return gather(c, assignment)


def gradebook_assignments(course) -> list[str]:
    """The names of the assignments in the gradebook, sorted."""
    c = _course(course)
    with open_gradebook(c.db_url, c.course_id) as gb:
        return sorted(a.name for a in gb.assignments)


def export(course, assignments: list[str] | None = None, to: Path | None = None, *, long: bool = False
           ) -> tuple[Path, list[StudentResult], list[tuple[str, str, str]]]:
    """Write the grades CSV for an LMS: every student of every assignment (default: all in the gradebook).

    The default is the wide file an LMS gradebook imports (:func:`.results.write_wide`: one row per
    student, a column per assignment and the total; a grade that is not final is a blank cell); ``long``
    writes one row per student and assignment with every detail (:data:`.results.EXPORT_COLUMNS`).
    Default file: ``.grading/grades.csv`` (``grades-long.csv`` for the long one; git-ignored). Returns the
    path, the rows, and the blank cells of the wide file as (student, assignment, status).
    """
    from .results import export_score, export_status, write_csv, write_wide

    c = _course(course)
    assignments = assignments or gradebook_assignments(c)
    rows = []
    for a in assignments:
        rows += report(c, a)
    path = Path(to) if to else c.root / GRADING / ("grades-long.csv" if long else "grades.csv")
    if not path.is_absolute():
        path = Path.cwd() / path
    if long:
        blanks = [(r.student, r.assignment, export_status(r)) for r in rows if export_score(r) is None]
        return write_csv(rows, path), rows, blanks
    path, blanks = write_wide(rows, path, list(assignments))
    return path, rows, blanks


def find_mistakes(course, assignment: str):
    """The class's named mistakes in ``assignment`` (:func:`.mistakes.class_mistakes`), late policy applied."""
    from .mistakes import class_mistakes

    c = _course(course)
    return class_mistakes(c, assignment, report(c, assignment))
