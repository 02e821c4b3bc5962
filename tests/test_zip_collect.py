"""`nbgrader zip_collect` as the README documents it: archives in .grading/downloaded/<assignment>/archive/.

The instructor downloads the class's submissions from an LMS or a mailbox, as notebooks named
``<student id>_<notebook>`` or zip archives of them, puts them where the README says and runs plain
``nbgrader zip_collect 02_forward``; every student's notebook lands where autograding looks for it.
"""
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import ROOT

pytestmark = pytest.mark.slow

A = "02_forward"
NBGRADER = str(Path(sys.executable).parent / "nbgrader")


def _course(dest: Path) -> Path:
    """The files zip_collect reads: the configuration and the assignment's release and source."""
    for rel in ["nbgrader_config.py", f"notebooks/{A}/{A}.ipynb", f"solutions/{A}/{A}.ipynb"]:
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        (dest / rel).write_bytes((ROOT / rel).read_bytes())
    return dest


def test_zip_collect_as_documented_collects_every_student(tmp_path):
    course = _course(tmp_path / "course")
    release = (course / "notebooks" / A / f"{A}.ipynb").read_bytes()
    archive_dir = course / ".grading" / "downloaded" / A / "archive"
    archive_dir.mkdir(parents=True)
    # One archive as an LMS gives it (one student's id has an underscore, one file has a time) ...
    with zipfile.ZipFile(archive_dir / "submissions.zip", "w") as zf:
        zf.writestr(f"alice_{A}.ipynb", release)
        zf.writestr(f"bruno_b_{A}.ipynb", release)
        zf.writestr(f"chen_20250315T093000_{A}.ipynb", release)
        zf.writestr("readme.txt", "not a notebook: skipped")
    # ... and a loose notebook beside it.
    (archive_dir / f"dana_{A}.ipynb").write_bytes(release)

    done = subprocess.run([NBGRADER, "zip_collect", A], cwd=course, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    submitted = course / ".grading" / "submitted"
    students = sorted(p.name for p in submitted.iterdir())
    assert students == ["alice", "bruno_b", "chen", "dana"], done.stderr[-3000:]
    for student in students:
        nb = submitted / student / A / f"{A}.ipynb"
        assert nb.read_bytes() == release
        assert json.loads(nb.read_text())["cells"]
    # A time in the name becomes timestamp.txt, to the second (late penalties read it); no time: on time.
    assert (submitted / "chen" / A / "timestamp.txt").read_text().startswith("2025-03-15 09:30:00")
    assert not (submitted / "alice" / A / "timestamp.txt").exists()
    # Student work stays out of git: the folder is ignored where the config puts it and where nbgrader's default would.
    for path in [".grading/downloaded/x.ipynb", "downloaded/x.ipynb"]:
        assert subprocess.run(["git", "check-ignore", "-q", path], cwd=ROOT).returncode == 0, path
