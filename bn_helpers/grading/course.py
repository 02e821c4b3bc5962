"""A course folder: nbgrader's configuration read back, its folders, its submissions.

Vocabulary is nbgrader's: *source* (``solutions/``), *release*
(``notebooks/``), *submitted*, *autograded*, *feedback*; every grading folder
lives under ``.grading/`` (see ``nbgrader_config.py``).
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import sys
import time
from pathlib import Path

import nbformat

from .errors import GradingError

__all__ = [
    "REPO", "GRADING", "GradingError", "Course", "assignments", "solution_code",
    "read_sample", "make_submission", "folder_hash",
]

#: The repository root (the folder holding ``nbgrader_config.py``).
REPO = Path(__file__).resolve().parent.parent.parent
GRADING = ".grading"


def assignments(root: Path = REPO) -> list[str]:
    """Names of the assignments in ``root/solutions`` (folders holding a same-named notebook)."""
    return sorted(p.parent.name for p in (Path(root) / "solutions").glob("*/*.ipynb") if p.stem == p.parent.name)


def folder_hash(folder: Path) -> str | None:
    """SHA-256 of a folder's files (relative names and bytes), or ``None`` if it does not exist.

    Editor droppings (``.ipynb_checkpoints``, ``__pycache__``) do not count: a
    resubmission is a change of what the student handed in, not of its date.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return None
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if not path.is_file() or {".ipynb_checkpoints", "__pycache__"} & set(rel.parts):
            continue
        digest.update(rel.as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _ensure_tools_on_path() -> None:
    """nbgrader runs ``alembic`` (its gradebook migrations) from PATH: put this Python's bin first."""
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = os.pathsep.join([bin_dir, os.environ.get("PATH", "")])


class Course:
    """A course folder as ``nbgrader_config.py`` describes it: folders, gradebook URL, late policy.

    Reading the configuration the way nbgrader does keeps one truth: the tool
    grades into the database and folders nbgrader itself would use.
    """

    def __init__(self, root: Path = REPO):
        from nbgrader.coursedir import CourseDirectory
        from traitlets.config.loader import PyFileConfigLoader

        self.root = Path(root).resolve()
        if not (self.root / "nbgrader_config.py").is_file():
            raise GradingError(f"{self.root} has no nbgrader_config.py: not a course folder")
        _ensure_tools_on_path()
        self.config = PyFileConfigLoader("nbgrader_config.py", path=str(self.root)).load_config()
        kwargs = {} if "root" in self.config.get("CourseDirectory", {}) else {"root": str(self.root)}
        self.coursedir = CourseDirectory(config=self.config, **kwargs)
        (self.root / GRADING).mkdir(exist_ok=True)

    # -- configuration -------------------------------------------------------------------------
    @property
    def db_url(self) -> str:
        return self.coursedir.db_url

    @property
    def course_id(self) -> str:
        return self.coursedir.course_id

    def late_policy(self):
        from .late import LatePenalty

        return LatePenalty(config=self.config)

    # -- folders ---------------------------------------------------------------------------------
    def _dir(self, name: str, student: str, assignment: str) -> Path:
        return Path(self.coursedir.format_path(getattr(self.coursedir, name), student, assignment))

    def source(self, assignment: str) -> Path:
        return self._dir("source_directory", ".", assignment)

    def release(self, assignment: str) -> Path:
        return self._dir("release_directory", ".", assignment)

    def submitted(self, student: str, assignment: str) -> Path:
        return self._dir("submitted_directory", student, assignment)

    def autograded(self, student: str, assignment: str) -> Path:
        return self._dir("autograded_directory", student, assignment)

    def feedback(self, student: str, assignment: str) -> Path:
        return self._dir("feedback_directory", student, assignment)

    def logs(self, assignment: str) -> Path:
        return self.root / GRADING / "logs" / assignment

    def state_file(self, assignment: str, student: str) -> Path:
        return self.root / GRADING / "state" / assignment / f"{student}.json"

    def notebook_names(self, assignment: str) -> list[str]:
        """The notebooks of an assignment (by name, without ``.ipynb``), from its source folder."""
        return sorted(p.stem for p in self.source(assignment).glob("*.ipynb"))

    def submitted_students(self, assignment: str) -> list[str]:
        """Students with a folder ``submitted/<student>/<assignment>/``."""
        top = Path(self.coursedir.format_path(self.coursedir.submitted_directory, ".", "."))
        if not top.is_dir():
            return []
        return sorted(p.name for p in top.iterdir() if (p / assignment).is_dir() and not p.name.startswith("."))

    # -- what was graded -------------------------------------------------------------------------
    def read_state(self, assignment: str, student: str) -> dict | None:
        path = self.state_file(assignment, student)
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError):
            return None

    def write_state(self, assignment: str, student: str, state: dict) -> None:
        path = self.state_file(assignment, student)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps(state, indent=1, sort_keys=True))
        os.replace(tmp, path)

    def feedback_state_file(self, assignment: str, student: str) -> Path:
        """What the gradebook said when this student's feedback was written (outside the feedback folder,
        which is released to students)."""
        return self.root / GRADING / "state" / assignment / "feedback" / f"{student}.json"

    def read_feedback_view(self, assignment: str, student: str) -> str | None:
        """The gradebook's view (:func:`.results.gradebook_view`) the student's feedback was written from."""
        try:
            return json.loads(self.feedback_state_file(assignment, student).read_text()).get("gradebook")
        except (OSError, ValueError, AttributeError):
            return None

    def write_feedback_view(self, assignment: str, student: str, view: str) -> None:
        path = self.feedback_state_file(assignment, student)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps({"gradebook": view, "written_at": now_iso()}))
        os.replace(tmp, path)

    def source_hash(self, assignment: str) -> str | None:
        return folder_hash(self.source(assignment))


_SOLUTION_MARK = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*\n?", re.MULTILINE)


def solution_code(course: Path, assignment: str) -> dict[str, str]:
    """The instructor's code of each solution cell, by ``grade_id``, markers removed."""
    nb = nbformat.read(Path(course) / "solutions" / assignment / f"{assignment}.ipynb", as_version=4)
    return {
        cell.metadata["nbgrader"]["grade_id"]: _SOLUTION_MARK.sub("", cell.source)
        for cell in nb.cells
        if cell.metadata.get("nbgrader", {}).get("solution") and cell.cell_type == "code"  # not written answers
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


def make_submission(course: Path, assignment: str, student: str, edits: dict[str, str | None],
                    timestamp: str | None = None, replace: bool = False) -> Path:
    """Write a student's submission: the release notebook with some cells edited.

    ``edits`` maps a cell's ``grade_id`` to its new source (``None`` deletes
    the cell). The notebook lands where ``nbgrader collect`` would put it:
    ``.grading/submitted/<student>/<assignment>/<assignment>.ipynb``, with
    ``timestamp.txt`` beside it when ``timestamp`` is given (nbgrader's format,
    e.g. ``2025-03-15 10:00:00 UTC``). ``replace=True`` stands for a
    resubmission: it overwrites the notebook (and the timestamp).

    Raises
    ------
    GradingError
        If an edit names a cell the notebook does not have, or the submission
        already exists and ``replace`` is false (a student's work is never
        overwritten by accident).
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
    if target.exists() and not replace:
        raise GradingError(f"{target} exists; refusing to overwrite a submission")
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, target)
    if timestamp is not None:
        (folder / "timestamp.txt").write_text(timestamp + "\n")
    return target


def now_iso() -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime())
