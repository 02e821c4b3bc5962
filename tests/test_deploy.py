"""deploy/: what `make hub` checks before it starts the classroom's hub."""
import json
import os
import runpy
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

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


def test_make_hub_checks_the_environment_before_installing_into_it(tmp_path):
    """A venv made from a Python under /root is refused in seconds, not after minutes of pip (make's dry run)."""
    # --no-print-directory: under make test (MAKELEVEL set) make would add "Entering directory" lines.
    done = subprocess.run(["make", "-n", "--no-print-directory", "hub", f"VENV={tmp_path / 'venv'}"], cwd=ROOT,
                          capture_output=True, text=True, check=True)
    lines = done.stdout.splitlines()
    check = next(i for i, line in enumerate(lines) if "deploy/check_venv.py" in line)
    install = next(i for i, line in enumerate(lines) if "pip install" in line and "[hub]" in line)
    assert check < install, done.stdout
    # An absolute VENV is used as given (not glued under the clone's folder).
    assert lines[-1].endswith(f"&& {tmp_path / 'venv'}/bin/jupyterhub -f {ROOT / 'deploy' / 'jupyterhub_config.py'}"), \
        done.stdout


def _run_config(path: Path):
    """A traitlets config file as Jupyter loads it (get_config provided): the Config it fills."""
    from traitlets.config import Config

    config = Config()
    runpy.run_path(str(path), init_globals={"get_config": lambda: config})
    return config


def test_every_server_has_the_course_environment_first_on_its_path(tmp_path, monkeypatch):
    """The spawner's PATH: the course's .venv/bin, then the system's, never the hub's (root's pyenv, cargo)."""
    roster = {"admins": ["ana"], "courses": {"batchnorm": {"instructors": ["ana"], "students": ["alice"]}}}
    (tmp_path / "roster.json").write_text(json.dumps(roster))
    monkeypatch.setenv("BN_ROSTER", str(tmp_path / "roster.json"))
    monkeypatch.setenv("BN_EXCHANGE", str(tmp_path / "exchange"))
    monkeypatch.setenv("PATH", "/root/.pyenv/shims:" + os.environ["PATH"])
    c = _run_config(ROOT / "deploy" / "jupyterhub_config.py")
    venv_bin = str(Path(sys.executable).parent)
    assert c.Spawner.cmd == [f"{venv_bin}/jupyterhub-singleuser"]
    for name, role in [("alice", "student"), ("ana", "instructor")]:
        spawner = SimpleNamespace(user=SimpleNamespace(name=name), environment={})
        c.Spawner.pre_spawn_hook(spawner)
        assert spawner.environment["PATH"].split(os.pathsep) == [venv_bin, "/usr/local/bin", "/usr/bin", "/bin"]
        assert spawner.environment["JUPYTER_CONFIG_PATH"].split(os.pathsep)[0] == str(ROOT / "deploy" / "jupyter" / role)


def test_a_terminal_keeps_the_course_environment_on_its_path(tmp_path, monkeypatch):
    """A JupyterLab terminal on the hub is not a login shell: Debian's /etc/profile would reset PATH.

    The shell command is the one jupyter_server_terminals builds from the students' and instructors'
    common server config; it runs `command -v python` with the PATH the hub gives every server.
    """
    pytest.importorskip("jupyter_server_terminals")
    from jupyter_server.serverapp import ServerApp
    from jupyter_server_terminals.app import TerminalsExtensionApp

    if not Path("/bin/bash").exists():
        pytest.skip("no /bin/bash")
    monkeypatch.setenv("SHELL", "/bin/bash")

    def shell_command(config):
        app = TerminalsExtensionApp()
        app.serverapp = ServerApp(config=config)
        app.initialize_configurables()
        return app.terminal_manager.shell_command

    venv_bin = Path(sys.executable).parent
    env = {"PATH": f"{venv_bin}:/usr/bin:/bin", "HOME": str(tmp_path), "SHELL": "/bin/bash"}

    def python_in(shell):
        return subprocess.run([*shell, "-c", "command -v python"], env=env, capture_output=True, text=True).stdout.strip()

    ours = shell_command(_run_config(ROOT / "deploy" / "jupyter" / "common" / "jupyter_server_config.py"))
    assert "-l" not in ours and "--login" not in ours
    assert python_in(ours) == str(venv_bin / "python")
    default = shell_command(None)  # what a server without this config runs: a login shell
    profile = Path("/etc/profile")
    if profile.exists() and "PATH=" in profile.read_text() and not sys.stdout.isatty():
        assert "-l" in default
        assert python_in(default) != str(venv_bin / "python")  # the failure this config prevents
