"""`make lab` serves the learner's working copy in student view, quietly; `make instructor` shows nbgrader's panels."""
import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from conftest import ROOT

pytestmark = pytest.mark.slow

STARTUP = 300  # seconds: JupyterLab starts in ~5 s on a quiet laptop, minutes on a loaded 2-core CI machine
HINT = "To stop the server: press Ctrl-C twice here"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, ""


def _start(cmd: list[str], port: int, log_path, ready: str, env=None):
    """Start a server command in its own process group; wait until its output holds ``ready`` and its address."""
    log = open(log_path, "w+")
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            start_new_session=True, env=env)
    deadline = time.time() + STARTUP
    try:
        while time.time() < deadline:
            log.seek(0)
            text = log.read()
            m = re.search(rf"http://127\.0\.0\.1:{port}/lab\?token=(\w+)", text)
            if m and ready in text:
                return proc, f"http://127.0.0.1:{port}", m[1], text
            assert proc.poll() is None, text[-3000:]
            time.sleep(0.5)
        raise AssertionError(f"no address with a token (and {ready!r}) in {STARTUP} s:\n{text[-3000:]}")
    except BaseException:
        _stop(proc)
        raise


def _serve(target: str, port: int, folder, *make_vars: str):
    """Start `make <target>` on a port; return (process, base_url, token, output so far)."""
    flags = f"--ServerApp.allow_root=True --no-browser --port={port} --ServerApp.port_retries=0"
    ready = HINT if target == "lab" else "/lab?token="
    return _start(["make", "-s", target, f"LAB_FLAGS={flags}", *make_vars], port, folder / f"{target}.log", ready)


def _stop(proc):
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)


def _disabled(page: str) -> str:
    m = re.search(r'"disabledExtensions": \[([^\]]*)\]', page)
    return m[1] if m else ""


def test_make_lab_is_the_quiet_student_view_of_the_working_copy(tmp_path):
    work = tmp_path / "my_work"
    port = _free_port()
    proc, base, token, startup = _serve("lab", port, tmp_path, f"WORK={work}")
    try:
        # JupyterLab 4 and Notebook 7 (tree and notebook pages) read the same page config
        for page in ("lab", "tree", "notebooks/02_forward/02_forward.ipynb"):
            status, html = _get(f"{base}/{page}?token={token}")
            assert status == 200, page
            disabled = _disabled(html)
            for plugin in ("formgrader", "create-assignment", "course-list", "assignment-list", "menu"):
                assert f'"@jupyter/nbgrader:{plugin}"' in disabled, (page, plugin)  # menu: the empty "Nbgrader" menu
            assert "validate-assignment" not in disabled  # students keep the Validate button
        assert _get(f"{base}/formgrader?token={token}")[0] == 404
        # it serves the working copy, made from the release, not notebooks/ itself
        status, listing = _get(f"{base}/api/contents/02_forward?token={token}")
        assert status == 200 and '"02_forward/02_forward.ipynb"' in listing
        release = sorted(p.relative_to(ROOT / "notebooks") for p in (ROOT / "notebooks").rglob("*.ipynb")
                         if ".ipynb_checkpoints" not in p.parts)
        assert release and sorted(p.relative_to(work) for p in work.rglob("*.ipynb")) == release
    finally:
        _stop(proc)
    lines = [ln for ln in startup.splitlines() if ln.strip()]  # the output up to the stop hint (before our requests)
    # a quiet first run: the working-copy line, Jupyter's address block, how to stop; no INFO/WARNING wall
    assert lines[0].startswith("Made your working copy"), lines[:3]
    assert lines[-1].startswith(HINT) and f"jupyter server stop {port}" in lines[-1], lines[-3:]
    assert lines[-2].strip() == f"http://127.0.0.1:{port}/lab?token={token}", lines[-3:]
    noise = [ln for ln in lines if re.match(r"\[[IWD] ", ln)]
    assert not noise, noise
    assert len(lines) <= 10, lines


def test_without_make_the_readme_command_works_as_any_user(tmp_path):
    """The README's plain command (no --allow-root on the command line) starts, as root too."""
    port = _free_port()
    work = tmp_path / "my_work"
    sync = subprocess.run([str(ROOT / ".venv/bin/python"), "jupyter/lab.py", "--sync-only", "--work", str(work)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert sync.returncode == 0, sync.stderr
    env = {**os.environ, "JUPYTER_CONFIG_PATH": str(ROOT / "jupyter" / "student")}
    cmd = [str(ROOT / ".venv/bin/jupyter"), "lab", f"--notebook-dir={work}", "--no-browser", f"--port={port}",
           "--ServerApp.port_retries=0"]
    proc, base, token, text = _start(cmd, port, tmp_path / "plain.log", "/lab?token=", env=env)
    try:
        assert "Running as root is not recommended" not in text
        status, listing = _get(f"{base}/api/contents?token={token}")
        assert status == 200 and '"02_forward"' in listing
    finally:
        _stop(proc)


def test_make_instructor_shows_formgrader(tmp_path):
    proc, base, token, _ = _serve("instructor", _free_port(), tmp_path)
    try:
        status, page = _get(f"{base}/lab?token={token}")
        assert status == 200
        assert "formgrader" not in _disabled(page)
        assert _get(f"{base}/formgrader?token={token}")[0] == 200
    finally:
        _stop(proc)
