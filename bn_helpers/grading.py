"""The instructor pipeline, scripted: a course, submissions, autograde, gradebook.

nbgrader does the work (``generate_assignment``, ``autograde``,
``generate_feedback``); this module drives it in a course folder and reads
the results back from the gradebook, because nbgrader's exit code is 0 even
when a notebook could not be graded. Used by ``make demo`` and by the tests.

Vocabulary is nbgrader's: *source* (``solutions/``), *release*
(``notebooks/``), *submitted*, *autograded*, *feedback*. See the nbgrader
documentation, "Managing assignment files" and "Autograding".
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

import nbformat

__all__ = [
    "REPO", "GradingError", "CellResult", "StudentResult", "assignments", "new_course",
    "solution_code", "read_sample", "make_submission", "autograde", "results", "generate_feedback",
]

#: The repository root (the folder holding ``nbgrader_config.py``).
REPO = Path(__file__).resolve().parent.parent
GRADING = ".grading"


class GradingError(RuntimeError):
    """A step of the pipeline failed; the message says which and why."""


class CellResult(NamedTuple):
    """One graded cell of one submission: its score and, if it lost points, why."""

    grade_id: str
    score: float
    max_score: float
    message: str


class StudentResult(NamedTuple):
    """A student's autograded submission of one assignment, read from the gradebook."""

    student: str
    score: float
    max_score: float
    cells: list[CellResult]

    @property
    def problems(self) -> list[CellResult]:
        return [c for c in self.cells if c.score < c.max_score]


def assignments(root: Path = REPO) -> list[str]:
    """Names of the assignments in ``root/solutions`` (folders holding a same-named notebook)."""
    return sorted(p.parent.name for p in (Path(root) / "solutions").glob("*/*.ipynb") if p.stem == p.parent.name)


def _nbgrader(course: Path, *args: str, timeout: float = 3600) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "nbgrader", *args]
    env = dict(os.environ)
    # nbgrader runs `alembic` (its gradebook migrations) from PATH: put this Python's bin first.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    proc = subprocess.run(cmd, cwd=course, capture_output=True, text=True, timeout=timeout, env=env)
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-15:])
        raise GradingError(f"`nbgrader {' '.join(args)}` exited with {proc.returncode}:\n{tail}")
    return proc


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
        _nbgrader(dest, "generate_assignment", name)
    return dest


_SOLUTION_MARK = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*\n?", re.MULTILINE)


def solution_code(course: Path, assignment: str) -> dict[str, str]:
    """The instructor's code of each solution cell, by ``grade_id``, markers removed."""
    nb = nbformat.read(Path(course) / "solutions" / assignment / f"{assignment}.ipynb", as_version=4)
    return {
        cell.metadata["nbgrader"]["grade_id"]: _SOLUTION_MARK.sub("", cell.source)
        for cell in nb.cells
        if cell.metadata.get("nbgrader", {}).get("solution")
    }


_SAMPLE_CELL = re.compile(r"^# %% \[(?P<op>delete )?(?P<id>[\w-]+)\][^\n]*\n", re.MULTILINE)


def read_sample(path: Path) -> tuple[dict[str, str | None], dict[str, str]]:
    """Read a sample submission written as a script of cells.

    The file starts with ``# key: value`` header lines (``expected: 20``,
    ``about: ...``); then each ``# %% [grade_id]`` line starts the new source
    of that cell, and ``# %% [delete grade_id]`` deletes the cell. A file with
    no cells stands for the untouched release.

    Returns
    -------
    edits : dict mapping grade_id to new source, or None to delete the cell
    header : dict of the header's key/value pairs
    """
    text = Path(path).read_text()
    marks = list(_SAMPLE_CELL.finditer(text))
    head = text[: marks[0].start()] if marks else text
    header = dict(re.findall(r"^# (\w+): (.*)$", head, re.MULTILINE))
    edits: dict[str, str | None] = {}
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        edits[m["id"]] = None if m["op"] else text[m.end(): end].strip("\n") + "\n"
    return edits, header


def make_submission(course: Path, assignment: str, student: str, edits: dict[str, str | None]) -> Path:
    """Write a student's submission: the release notebook with some cells edited.

    ``edits`` maps a cell's ``grade_id`` to its new source (``None`` deletes
    the cell). The notebook lands where ``nbgrader collect`` would put it:
    ``.grading/submitted/<student>/<assignment>/<assignment>.ipynb``.

    Raises
    ------
    GradingError
        If an edit names a cell the notebook does not have, or the submission
        already exists (a student's work is never overwritten).
    """
    course = Path(course)
    nb = nbformat.read(course / "notebooks" / assignment / f"{assignment}.ipynb", as_version=4)
    ids = {c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells}
    unknown = set(edits) - ids
    if unknown:
        raise GradingError(f"{student}: no cell with grade_id {sorted(unknown)} in {assignment}")
    cells = []
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in edits:
            if edits[gid] is None:
                continue
            cell.source = edits[gid]
        cells.append(cell)
    nb.cells = cells
    folder = course / GRADING / "submitted" / student / assignment
    target = folder / f"{assignment}.ipynb"
    if target.exists():
        raise GradingError(f"{target} exists; refusing to overwrite a submission")
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, target)
    return target


def autograde(course: Path, assignment: str, timeout: float = 3600) -> subprocess.CompletedProcess:
    """Run ``nbgrader autograde`` on every submission of ``assignment``, then verify it.

    Never passes ``--force``: already autograded submissions keep their grades.

    Raises
    ------
    GradingError
        If nbgrader fails, or if any submitted notebook is missing from the
        gradebook afterwards (see :func:`results`).
    """
    proc = _nbgrader(Path(course), "autograde", assignment, timeout=timeout)
    results(course, assignment)  # raises if anything did not make it into the gradebook
    return proc


def db_url(course: Path) -> str:
    """The gradebook's URL, as ``nbgrader_config.py`` chooses it: ``NBGRADER_DB_URL`` or the SQLite file."""
    return os.environ.get("NBGRADER_DB_URL") or f"sqlite:///{Path(course).resolve() / GRADING / 'gradebook.db'}"


def _failure_message(cell) -> str:
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            text = f"{out.get('ename')}: {out.get('evalue')}".strip()
            return re.sub(r"\x1b\[[0-9;]*m", "", text)
    return "no output recorded"


def results(course: Path, assignment: str) -> list[StudentResult]:
    """Every submitted student's result, read from the gradebook and the autograded notebooks.

    Raises
    ------
    GradingError
        If a submitted student has no graded submission in the gradebook, a
        graded cell has no score, or the autograded notebook is missing:
        that is, whenever nbgrader exited 0 without grading everything.
    """
    from nbgrader.api import Gradebook, MissingEntry

    course = Path(course)
    submitted = sorted(p.name for p in (course / GRADING / "submitted").iterdir()
                       if (p / assignment).is_dir())
    out = []
    with Gradebook(db_url(course)) as gb:
        for student in submitted:
            try:
                sub = gb.find_submission(assignment, student)
            except MissingEntry:
                raise GradingError(f"{student}: submitted but not in the gradebook: autograding failed") from None
            cells = []
            for nb_sub in sub.notebooks:
                path = course / GRADING / "autograded" / student / assignment / f"{nb_sub.name}.ipynb"
                if not path.exists():
                    raise GradingError(f"{student}: autograded notebook {path} is missing")
                graded = {c.metadata.get("nbgrader", {}).get("grade_id"): c
                          for c in nbformat.read(path, as_version=4).cells}
                for grade in sorted(nb_sub.grades, key=lambda g: g.name):
                    if grade.score is None:
                        raise GradingError(f"{student}: cell {grade.name} has no score")
                    cell = graded.get(grade.name, {})
                    msg = _failure_message(cell) if grade.score < grade.max_score else ""
                    cells.append(CellResult(grade.name, float(grade.score), float(grade.max_score), msg))
            out.append(StudentResult(student, float(sub.score), float(sub.max_score), cells))
    return out


def generate_feedback(course: Path, assignment: str) -> list[Path]:
    """Run ``nbgrader generate_feedback`` and return the feedback files, one per student.

    Raises
    ------
    GradingError
        If nbgrader fails or an autograded student has no feedback file.
    """
    course = Path(course)
    _nbgrader(course, "generate_feedback", assignment)
    files = []
    for r in results(course, assignment):
        html = course / GRADING / "feedback" / r.student / assignment / f"{assignment}.html"
        if not html.exists():
            raise GradingError(f"{r.student}: no feedback at {html}")
        files.append(html)
    return files


def summary(message: str, width: int = 110) -> str:
    """First line of a failure message, shortened for a table."""
    line = message.strip().splitlines()[0] if message.strip() else ""
    if "\n" in message.strip():
        rest = [ln.strip() for ln in message.strip().splitlines()[1:] if ln.strip()]
        if rest and line.endswith("."):
            line = f"{line} {rest[0]}"
    return line if len(line) <= width else line[: width - 1] + "…"


def report(results_: list[StudentResult], expected: dict[str, float] | None = None) -> tuple[str, int]:
    """A grade table (student, score, max, what went wrong) and how many scores differ from ``expected``."""
    expected = expected or {}
    lines = [f"{'student':<24} {'score':>5} {'max':>4}  {'expected':>8}  what went wrong"]
    mismatches = 0
    for r in results_:
        want = expected.get(r.student)
        bad = want is not None and want != r.score
        mismatches += bad
        shown = "" if want is None else f"{want:g}"
        lost = r.problems
        first = f"{lost[0].grade_id}: {summary(lost[0].message, 90)}" if lost else "-"
        lines.append(f"{r.student:<24} {r.score:>5g} {r.max_score:>4g}  {shown:>8}{' !' if bad else '  '}  {first}")
        lines += [f"{'':<48}{c.grade_id}: {summary(c.message, 90)}" for c in lost[1:]]
    return "\n".join(lines), mismatches


def main(argv: list[str] | None = None) -> int:
    """``python -m bn_helpers.grading {autograde,feedback,report} ASSIGNMENT``: nbgrader, then the gradebook read back.

    Exits 1 if nbgrader fails or any submitted notebook is missing from the
    gradebook, which nbgrader's own exit code does not tell.
    """
    import argparse

    parser = argparse.ArgumentParser(prog="python -m bn_helpers.grading", description=main.__doc__.splitlines()[0])
    parser.add_argument("step", choices=["autograde", "feedback", "report"])
    parser.add_argument("assignment")
    parser.add_argument("--course", type=Path, default=REPO, help="course root (default: this repository)")
    args = parser.parse_args(argv)
    try:
        if args.step == "autograde":
            autograde(args.course, args.assignment)
        elif args.step == "feedback":
            files = generate_feedback(args.course, args.assignment)
            print(f"feedback: {len(files)} files under {args.course / GRADING / 'feedback'}")
        print(report(results(args.course, args.assignment))[0])
    except GradingError as exc:
        print(f"grading failed: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
