"""`make lab` serves the course in student view; `make instructor` shows nbgrader's instructor panels."""
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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, ""


def _serve(target: str, port: int, folder):
    """Start `make <target>` on a port; yield (base_url, token, output so far)."""
    log = open(folder / f"{target}.log", "w+")
    flags = f"--ServerApp.allow_root=True --no-browser --port={port} --ServerApp.port_retries=0"
    proc = subprocess.Popen(["make", "-s", target, f"LAB_FLAGS={flags}"], cwd=ROOT, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.time() + 90
    try:
        while time.time() < deadline:
            log.seek(0)
            text = log.read()
            m = re.search(rf"http://127\.0\.0\.1:{port}/lab\?token=(\w+)", text)
            if m:
                return proc, f"http://127.0.0.1:{port}", m[1], text
            assert proc.poll() is None, text[-3000:]
            time.sleep(0.5)
        raise AssertionError("JupyterLab did not print its address with a token in 90 s")
    except BaseException:
        os.killpg(proc.pid, signal.SIGTERM)
        raise


def _stop(proc):
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=30)


def test_make_lab_is_the_student_view(tmp_path):
    proc, base, token, _ = _serve("lab", _free_port(), tmp_path)
    try:
        status, page = _get(f"{base}/lab?token={token}")
        assert status == 200
        disabled = re.search(r'"disabledExtensions": \[([^\]]*)\]', page)[1]
        assert "@jupyter/nbgrader:formgrader" in disabled and "@jupyter/nbgrader:create-assignment" in disabled
        assert "validate-assignment" not in disabled  # students keep the Validate button
        assert _get(f"{base}/formgrader?token={token}")[0] == 404
        status, listing = _get(f"{base}/api/contents?token={token}")
        assert status == 200 and '"02_forward"' in listing  # serves notebooks/, not the repository
    finally:
        _stop(proc)


def test_make_instructor_shows_formgrader(tmp_path):
    proc, base, token, _ = _serve("instructor", _free_port(), tmp_path)
    try:
        status, page = _get(f"{base}/lab?token={token}")
        assert status == 200
        disabled = re.search(r'"disabledExtensions": \[([^\]]*)\]', page)
        assert not disabled or "formgrader" not in disabled[1]
        assert _get(f"{base}/formgrader?token={token}")[0] == 200
    finally:
        _stop(proc)
