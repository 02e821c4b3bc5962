"""notebooks/ is a fresh nbgrader release of solutions/, and leaks nothing."""
import filecmp
import json
import os
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
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "hidden=True", "MARK SCHEME", "Rubric for the grader"):
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


def _written_answers(cells):
    """(question cell, answer cell) pairs: a manually graded markdown answer and the cell right above it."""
    return [(cells[i - 1], c) for i, c in enumerate(cells)
            if c.cell_type == "markdown" and c.metadata.get("nbgrader", {}).get("solution")]


def _points(cells):
    return sum(c.metadata["nbgrader"].get("points", 0) for c in cells
               if c.metadata.get("nbgrader", {}).get("grade"))


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_written_answers_have_a_rubric_and_a_model_answer_the_release_hides(assignment):
    """Every assignment grades understanding too: at least one written answer, about 10-15 % of its points.

    The answer cell holds the model answer (solutions/ only); the locked question cell above it holds the
    rubric between MARK SCHEME markers, which the release strips and autograding restores for formgrader.
    """
    source = _cells(ROOT / "solutions" / assignment / f"{assignment}.ipynb")
    release = _cells(ROOT / "notebooks" / assignment / f"{assignment}.ipynb")
    released = {c.metadata["nbgrader"]["grade_id"]: c for c in release if "nbgrader" in c.metadata}
    release_text = "\n".join(c.source for c in release)
    pairs = _written_answers(source)
    assert pairs, f"{assignment} has no written answer (markdown cell graded by hand)"
    written = 0
    for question, answer in pairs:
        meta, qmeta = answer.metadata["nbgrader"], question.metadata.get("nbgrader", {})
        gid = meta["grade_id"]
        assert meta["grade"] and not meta["task"] and not meta["locked"] and meta["points"] > 0, meta
        written += meta["points"]
        assert re.fullmatch(r"### BEGIN SOLUTION\n.*\n### END SOLUTION", answer.source, re.S), gid
        model = answer.source.split("\n")[1:-1]
        assert "Model answer" in model[0], gid
        # the question: locked, not graded itself, with the rubric for the grader
        assert question.cell_type == "markdown" and qmeta.get("locked") and not qmeta.get("grade"), gid
        rubric = re.search(r"^### BEGIN MARK SCHEME\n(.*?)\n### END MARK SCHEME$", question.source, re.S | re.M)
        assert rubric and "Rubric for the grader" in rubric[1] and f"{meta['points']:g} point" in rubric[1], gid
        # the release: the question without the rubric, the answer cell empty, no line of the model answer
        assert released[gid].source == "YOUR ANSWER HERE", gid
        shown = released[qmeta["grade_id"]].source
        assert shown.strip() and shown.strip() in question.source and "Rubric" not in shown, gid
        for line in model + rubric[1].split("\n"):
            if len(line) > 40:
                assert line not in release_text, (gid, line)
    total = _points(source)
    assert 0.1 <= written / total <= 0.35, (written, total)
    header = re.search(r"assignment \d+ of \d+ · ([\d.]+) points", source[0].source)
    assert header and float(header[1]) == total, "the intro's points must add up the graded cells"


@pytest.mark.slow
def test_rubric_survives_into_autograding_for_formgrader(tmp_path):
    """nbgrader itself, with the course's ClearMarkScheme setting: release without the rubric, autograded
    copy (what formgrader shows) with the rubric and the student's answer, never the model answer."""
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config()
    question, answer = _written_answers(_cells(ROOT / "solutions" / "02_forward" / "02_forward.ipynb"))[0]
    nb = nbformat.v4.new_notebook(cells=[question, answer])
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    (tmp_path / "source" / "a").mkdir(parents=True)
    nbformat.write(nb, tmp_path / "source" / "a" / "a.ipynb")
    (tmp_path / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.CourseDirectory.root = {str(tmp_path)!r}\nc.CourseDirectory.course_id = 't'\n"
        f"c.ClearMarkScheme.enforce_metadata = {config.ClearMarkScheme.enforce_metadata!r}\n")

    def nbgrader(*args):
        env = {**os.environ, "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")}
        proc = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=tmp_path, capture_output=True, text=True,
                              env=env)  # nbgrader runs alembic, which lives beside the interpreter
        assert proc.returncode == 0, proc.stderr[-2000:]

    nbgrader("db", "student", "add", "s")
    nbgrader("generate_assignment", "a", "--force")
    release = nbformat.read(tmp_path / "release" / "a" / "a.ipynb", as_version=4)
    assert "MARK SCHEME" not in release.cells[0].source and release.cells[1].source == "YOUR ANSWER HERE"
    release.cells[1].source = "My own answer."
    (tmp_path / "submitted" / "s" / "a").mkdir(parents=True)
    nbformat.write(release, tmp_path / "submitted" / "s" / "a" / "a.ipynb")
    nbgrader("autograde", "a", "--force")
    graded = nbformat.read(tmp_path / "autograded" / "s" / "a" / "a.ipynb", as_version=4)
    assert "Rubric for the grader" in graded.cells[0].source and graded.cells[1].source == "My own answer."
    assert "Model answer" not in json.dumps(graded)


def test_nbgrader_config():
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config()
    course = config.CourseDirectory
    assert course.source_directory == "solutions" and course.release_directory == "notebooks"
    for step in ("submitted", "autograded", "feedback"):
        assert getattr(course, f"{step}_directory").startswith(".grading")
    assert course.db_url.endswith("/.grading/gradebook.db")
    assert config.OverwriteCells.add_missing_cells is True
    assert config.ClearMarkScheme.enforce_metadata is False  # rubrics of written answers live in locked question cells
    assert 5 <= config.Execute.timeout <= 60
    assert config.IgnorePattern.enabled and re.search(config.IgnorePattern.pattern, "RuntimeWarning: divide by zero")
    ignored = subprocess.run(["git", "check-ignore", "-q", ".grading/gradebook.db"], cwd=ROOT)
    assert ignored.returncode == 0, ".grading/ must be git-ignored"
