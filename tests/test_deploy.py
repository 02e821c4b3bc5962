"""deploy/: what `make hub` checks before it starts the classroom's hub."""
import subprocess
import sys
from pathlib import Path

from conftest import ROOT

sys.path.insert(0, str(ROOT / "deploy"))
import check_venv  # noqa: E402


def test_a_python_behind_a_private_folder_is_named_with_the_folder(tmp_path):
    private = tmp_path / "root"
    (private / "bin").mkdir(parents=True)
    python = private / "bin" / "python3.11"
    python.write_text("#!/bin/sh\n")
    python.chmod(0o755)
    (tmp_path / "venv" / "bin").mkdir(parents=True)
    (tmp_path / "venv" / "bin" / "python").symlink_to(python)
    private.chmod(0o700)  # like /root

    def blocked(path):  # pytest's own temporary folders are private too: judge what lies below tmp_path
        return [p for p in check_venv.blocked(path) if p.startswith(f"{tmp_path}/")]

    assert blocked(tmp_path / "venv" / "bin" / "python") == [f"{private} is not open to other users (mode drwx------)"]
    private.chmod(0o755)
    assert blocked(tmp_path / "venv" / "bin" / "python") == []
    python.chmod(0o750)  # executable by its owner and group only
    assert blocked(python) == [f"{python} is not readable by other users (mode -rwxr-x---)",
                                          f"{python} cannot be run or entered by other users (mode -rwxr-x---)"]


def test_make_hub_refuses_an_environment_students_cannot_run(tmp_path):
    """The check as make hub runs it: the system's Python passes; this one is judged by its real path."""
    system = Path("/usr/bin/python3")
    if system.exists():
        assert check_venv.blocked(system) == []
    done = subprocess.run([sys.executable, str(ROOT / "deploy" / "check_venv.py")], capture_output=True, text=True)
    expected = check_venv.check()
    assert done.returncode == (1 if expected else 0)
    for line in expected:
        assert line in done.stderr
    if expected:
        assert "make hub PYTHON=/usr/bin/python3" in done.stderr


def test_the_hub_recipe_uses_the_safe_commands():
    """deploy/README.md: the instructor's clone works from root's copy, generate_assignment is the tool's."""
    text = (ROOT / "deploy" / "README.md").read_text()
    assert "safe.directory /opt/batchnorm/.git" in text
    assert "python -m bn_helpers.grading generate_assignment" in text
    assert "(`nbgrader generate_assignment" not in text
    assert "deploy/check_venv.py" in (ROOT / "Makefile").read_text()
