"""notebooks/ is a fresh nbgrader release of solutions/, and leaks nothing."""
import filecmp
import json
import re
import subprocess
import sys

import nbformat
import pytest

from bn_helpers import grading
from conftest import ROOT

ASSIGNMENTS = grading.assignments(ROOT)


def test_course_map_assignments_present():
    assert "02_forward" in ASSIGNMENTS


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_in_sync(assignment, tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "nbgrader", "generate_assignment", assignment, "--no-db", "--force",
         f"--CourseDirectory.release_directory={tmp_path}/rel"],
        cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    cmp = filecmp.dircmp(tmp_path / "rel" / assignment, ROOT / "notebooks" / assignment)
    assert not (cmp.diff_files or cmp.left_only or cmp.right_only), "run `make release` and commit notebooks/"


def _cells(path):
    return nbformat.read(path, as_version=4).cells


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_leaks_no_solution_or_hidden_test(assignment):
    text = (ROOT / "notebooks" / assignment / f"{assignment}.ipynb").read_text()
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "hidden=True"):
        assert marker not in text
    source = {c.metadata["nbgrader"]["grade_id"]: c for c in _cells(ROOT / "solutions" / assignment / f"{assignment}.ipynb")
              if c.metadata.get("nbgrader", {}).get("solution")}
    released = {c.metadata["nbgrader"]["grade_id"]: c.source for c in _cells(ROOT / "notebooks" / assignment / f"{assignment}.ipynb")
                if c.metadata.get("nbgrader", {}).get("solution")}
    assert released.keys() == source.keys()
    for gid, cell in source.items():
        code = cell.source
        if cell.cell_type == "markdown":  # a written answer: the model answer and rubric become nbgrader's text stub
            assert "### BEGIN SOLUTION" in code and released[gid] == "YOUR ANSWER HERE", gid
            continue
        stub = re.sub(r"([ \t]*)### BEGIN SOLUTION.*?### END SOLUTION",
                      lambda m: f"{m[1]}# YOUR CODE HERE\n{m[1]}raise NotImplementedError()", code, flags=re.S)
        assert stub != code and released[gid] == stub, f"{gid}: the release is not the source with the solution stubbed out"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_source_is_committed_clean_and_well_formed(assignment):
    cells = _cells(ROOT / "solutions" / assignment / f"{assignment}.ipynb")
    solution_ids, test_ids = [], []
    for c in cells:
        if c.cell_type == "code":
            assert not c.outputs and c.execution_count is None, "commit source notebooks without outputs"
        meta = c.metadata.get("nbgrader", {})
        if c.cell_type == "markdown" and meta.get("solution"):  # a written answer, graded by hand
            assert meta.get("grade") and meta.get("points", 0) > 0 and not meta.get("locked"), meta
            continue
        if meta.get("solution"):
            solution_ids.append(meta["grade_id"])
            # one graded function per solution cell, and its grade_id is the function's name
            defined = re.findall(r"^(?:def|class) (\w+)", c.source, re.MULTILINE)
            assert defined == [meta["grade_id"]], (meta["grade_id"], defined)
        if meta.get("grade"):
            test_ids.append(meta["grade_id"])
            assert meta["grade_id"].startswith("test_") and meta["points"] > 0
            last = [ln for ln in c.source.splitlines() if ln.strip() and not ln.startswith("#")][-1]
            assert not re.fullmatch(r"[\d.\s]+", last), "a bare number would read as partial credit"
            assert "print(" not in c.source and "stderr" not in c.source
    for sid in solution_ids:
        assert f"test_{sid}" in test_ids and f"test_{sid}_hidden" in test_ids


def test_nbgrader_config():
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config()
    course = config.CourseDirectory
    assert course.source_directory == "solutions" and course.release_directory == "notebooks"
    for step in ("submitted", "autograded", "feedback"):
        assert getattr(course, f"{step}_directory").startswith(".grading")
    assert course.db_url.endswith("/.grading/gradebook.db")
    assert config.OverwriteCells.add_missing_cells is True
    assert 5 <= config.Execute.timeout <= 60
    assert config.IgnorePattern.enabled and re.search(config.IgnorePattern.pattern, "RuntimeWarning: divide by zero")
    ignored = subprocess.run(["git", "check-ignore", "-q", ".grading/gradebook.db"], cwd=ROOT)
    assert ignored.returncode == 0, ".grading/ must be git-ignored"
