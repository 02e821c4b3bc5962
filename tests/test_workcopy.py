"""The learner's working copy (`make lab`, jupyter/lab.py): made from the release, never overwritten.

A course update arrives by `git pull`, which changes `notebooks/` only; the
learner's answers live in the git-ignored `my_work/` and survive it.
"""
import importlib.util
import json
import shutil
import subprocess
import sys
import urllib.request

import nbformat
import pytest

from conftest import ROOT
from test_lab import _free_port, _serve, _stop

spec = importlib.util.spec_from_file_location("course_lab", ROOT / "jupyter" / "lab.py")
lab = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = lab
spec.loader.exec_module(lab)

NB = "02_forward/02_forward.ipynb"


def _release(tmp_path):
    release = tmp_path / "notebooks"
    shutil.copytree(ROOT / "notebooks", release, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    return release


def _answer(path, text="# my answer\n"):
    nb = nbformat.read(path, as_version=4)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution"))
    cell.source = text
    nbformat.write(nb, path)
    return cell.metadata["nbgrader"]["grade_id"]


def _course_update(release, new_assignment="07_extra"):
    """What a new release does: edits a notebook's prose and adds an assignment."""
    nb = nbformat.read(release / NB, as_version=4)
    nb.cells[0].source += "\n\n(Updated in the new release.)"
    nbformat.write(nb, release / NB)
    (release / new_assignment).mkdir()
    shutil.copy(release / NB, release / new_assignment / f"{new_assignment}.ipynb")


def test_first_run_copies_the_whole_release(tmp_path):
    release = _release(tmp_path)
    report = lab.sync(release, tmp_path / "my_work")
    files = sorted(p.relative_to(release).as_posix() for p in release.rglob("*") if p.is_file())
    assert report.created and sorted(report.added) == files
    for rel in files:
        assert (tmp_path / "my_work" / rel).read_bytes() == (release / rel).read_bytes()
    assert report.lines()[0].startswith("Made your working copy")


def test_answers_survive_a_new_release_which_adds_what_is_missing(tmp_path):
    release, work = _release(tmp_path), tmp_path / "my_work"
    lab.sync(release, work)
    _answer(work / NB)
    mine = (work / NB).read_bytes()
    _course_update(release)
    report = lab.sync(release, work)
    assert not report.created and report.added == ["07_extra/07_extra.ipynb"]
    assert (work / NB).read_bytes() == mine
    assert report.updated_in_release == [NB]
    assert any("newer 02_forward/02_forward.ipynb" in line and "rename yours" in line for line in report.lines())
    # nothing new: nothing copied, the note about the newer notebook stays until the learner acts
    again = lab.sync(release, work)
    assert again.added == [] and again.updated_in_release == [NB] and (work / NB).read_bytes() == mine


def test_renaming_takes_the_updated_notebook_and_keeps_the_old_work(tmp_path):
    release, work = _release(tmp_path), tmp_path / "my_work"
    lab.sync(release, work)
    _answer(work / NB)
    mine = (work / NB).read_bytes()
    _course_update(release)
    lab.sync(release, work)
    (work / NB).rename(work / "02_forward" / "02_forward.mine.ipynb")
    report = lab.sync(release, work)
    assert report.added == [NB] and report.updated_in_release == []
    assert (work / NB).read_bytes() == (release / NB).read_bytes()
    assert (work / "02_forward" / "02_forward.mine.ipynb").read_bytes() == mine


def test_release_unchanged_learner_edited_is_not_reported(tmp_path):
    release, work = _release(tmp_path), tmp_path / "my_work"
    lab.sync(release, work)
    _answer(work / NB)
    report = lab.sync(release, work)
    assert report.added == [] and report.updated_in_release == [] and report.lines() == []


def test_missing_release_is_an_error_that_names_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope"):
        lab.sync(tmp_path / "nope", tmp_path / "my_work")
    assert not (tmp_path / "my_work").exists()


def _git(cwd, *args):
    proc = subprocess.run(["git", "-c", "user.name=Course", "-c", "user.email=course@example.org", *args],
                          cwd=cwd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def _contents(base, token, path, body=None):
    req = urllib.request.Request(f"{base}/api/contents/{path}?token={token}", method="PUT" if body else "GET",
                                 data=json.dumps(body).encode() if body else None,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read())


@pytest.mark.slow
def test_answers_survive_git_pull_and_a_second_make_lab(tmp_path):
    """A learner clones the course, answers in JupyterLab, pulls a course update, runs make lab again."""
    upstream = tmp_path / "upstream"
    upstream.mkdir()
    _git(upstream, "init", "-q", "-b", "main")
    _release(upstream)
    shutil.copy(ROOT / ".gitignore", upstream / ".gitignore")
    _git(upstream, "add", "-A")
    _git(upstream, "commit", "-q", "-m", "release 1")
    _git(tmp_path, "clone", "-q", str(upstream), "learner")
    clone = tmp_path / "learner"
    where = (f"WORK={clone / 'my_work'}", f"RELEASE={clone / 'notebooks'}")

    proc, base, token, _ = _serve("lab", _free_port(), tmp_path, *where)
    try:  # the learner answers an exercise and saves, through JupyterLab's contents API
        model = _contents(base, token, NB)
        cell = next(c for c in model["content"]["cells"] if c["metadata"].get("nbgrader", {}).get("solution"))
        cell["source"] = "def batch_mean(x):\n    return x.mean(axis=0)  # my answer\n"
        _contents(base, token, NB, {"type": "notebook", "format": "json", "content": model["content"]})
    finally:
        _stop(proc)
    assert "# my answer" in (clone / "my_work" / NB).read_text()
    assert _git(clone, "status", "--porcelain") == ""  # the working copy is git-ignored

    _course_update(upstream / "notebooks")
    _git(upstream, "add", "-A")
    _git(upstream, "commit", "-q", "-m", "release 2")
    _git(clone, "pull", "-q", "--ff-only")  # no conflict: the learner never edited a tracked file
    assert "Updated in the new release" in (clone / "notebooks" / NB).read_text()

    proc, base, token, startup = _serve("lab", _free_port(), tmp_path, *where)
    try:
        assert "Added to your working copy" in startup and "07_extra/07_extra.ipynb" in startup
        assert "The course has a newer 02_forward/02_forward.ipynb; yours is kept" in startup
        model = _contents(base, token, NB)
        sources = "".join("".join(c["source"]) for c in model["content"]["cells"])
        assert "# my answer" in sources and "Updated in the new release" not in sources
        assert _contents(base, token, "07_extra")["type"] == "directory"
    finally:
        _stop(proc)
