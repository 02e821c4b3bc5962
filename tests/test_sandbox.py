"""The sandbox (bn_helpers.sandbox): what student code can and cannot do while it is graded.

Each test starts real sandboxed processes (bubblewrap); they are skipped where
bubblewrap does not work, except the tests of what happens then (UNSANDBOXED).
"""
import json
import logging
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from bn_helpers.sandbox import UNSANDBOXED, Sandbox, SandboxedKernelManager, SandboxError, seccomp_filter

SANDBOX = Sandbox()
needs_bwrap = pytest.mark.skipif(not SANDBOX.status()[0], reason=SANDBOX.status()[1])
SECRET = "s3cr3t-token-for-the-sandbox-test"

PROBE = textwrap.dedent("""
    import json, os, resource, socket, subprocess, sys, threading
    out = {"uid": os.getuid(), "cwd": os.getcwd(), "env": dict(os.environ)}
    t = threading.Thread(target=lambda: out.update(thread=True)); t.start(); t.join()
    for name, fn in [("fork", os.fork), ("subprocess", lambda: subprocess.run(["true"]))]:
        try:
            if fn() == 0:
                os._exit(0)
            out[name] = "allowed"
        except OSError as e:
            out[name] = e.errno
    def can_write(path):
        try:
            with open(path, "w") as f:
                f.write("x")
            return True
        except OSError:
            return False
    out["write_work"] = can_write("written-here.txt")
    out["write_venv"] = can_write(os.path.join(sys.prefix, "planted.txt"))
    out["course"] = os.path.exists(sys.argv[1])
    out["home_tmp"] = os.listdir("/tmp")
    try:
        socket.create_connection(("1.1.1.1", 80), timeout=2)
        out["net"] = "open"
    except OSError as e:
        out["net"] = str(e)
    out["as"] = resource.getrlimit(resource.RLIMIT_AS)[0]
    try:
        bytearray(6 * 1024 ** 3)
        out["big"] = "allocated"
    except MemoryError:
        out["big"] = "refused"
    print(json.dumps(out))
""")


def run_probe(tmp_path, sandbox, monkeypatch):
    monkeypatch.setenv("NBGRADER_DB_URL", f"postgresql://grader:{SECRET}@db:5432/course")
    monkeypatch.setenv("GRADER_API_TOKEN", SECRET)
    course = tmp_path / "course"
    course.mkdir()
    (course / "gradebook.db").write_text("grades")
    work = tmp_path / "box" / "work"
    work.mkdir(parents=True)
    (work / "probe.py").write_text(PROBE)
    argv, sandboxed = sandbox.command([sys.executable, "probe.py", str(course)], work)
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1]), sandboxed, work


@needs_bwrap
def test_sandboxed_process_is_confined(tmp_path, monkeypatch):
    out, sandboxed, work = run_probe(tmp_path, SANDBOX, monkeypatch)
    assert sandboxed and out["uid"] == 65534 and out["thread"] is True
    assert out["fork"] == 1 and out["subprocess"] == 1          # EPERM: no child processes
    assert not out["course"] and not out["write_venv"]          # no view of the course, system read-only
    assert out["write_work"] and (work / "written-here.txt").exists()  # its own folder only
    assert "unreachable" in out["net"] or "Network" in out["net"]
    assert out["as"] == SANDBOX.memory_bytes and out["big"] == "refused"
    assert SECRET not in json.dumps(out["env"]) and "NBGRADER_DB_URL" not in out["env"]
    assert out["home_tmp"] == ["home"]                          # a private /tmp


#: Reads every file it can reach under /proc (environ and cmdline of every process, bwrap's PID 1
#: included, maps, status, mountinfo...) and prints it all: what a student cell could print.
PROC_READER = textwrap.dedent("""
    import os, sys
    seen, dump = 0, []
    for root, dirs, files in os.walk("/proc", followlinks=False):
        parts = root.split("/")
        # per-task copies and the kernel's tunables add nothing the process files do not show
        dirs[:] = [d for d in dirs if d not in ("task", "net", "sys", "fs", "bus", "irq", "driver", "tty")]
        for name in files:
            if name in ("pagemap", "kcore", "kmsg", "mem", "clear_refs", "kpagecount", "kpageflags", "kpagecgroup"):
                continue
            path = os.path.join(root, name)
            if os.path.islink(path):  # fd/0 and friends: pipes that would block, seen through their owners
                continue
            try:
                with open(path, "rb") as f:
                    data = f.read(1 << 20)
            except OSError:
                continue
            seen += 1
            dump.append(data)
    sys.stdout.buffer.write(b"\\n".join(dump))
    print("\\nPROC-FILES-READ", seen, open("/proc/1/cmdline", "rb").read() != b"")
""")


@needs_bwrap
def test_no_secret_of_the_grader_anywhere_under_proc(tmp_path, monkeypatch):
    """Issue 15 item 4: bwrap itself starts with an empty environment, so /proc/1/environ (bubblewrap's
    PID 1 in the sandbox) and every other file under /proc hold nothing of the grader's environment."""
    monkeypatch.setenv("NBGRADER_DB_URL", f"postgresql://grader:{SECRET}@db:5432/course")
    monkeypatch.setenv("GRADER_API_TOKEN", SECRET)
    work = tmp_path / "box" / "work"
    work.mkdir(parents=True)
    (work / "read_proc.py").write_text(PROC_READER)
    argv, sandboxed = SANDBOX.command([sys.executable, "read_proc.py"], work)
    proc = subprocess.run(argv, capture_output=True, timeout=300)
    assert proc.returncode == 0 and sandboxed, proc.stderr[-2000:]
    out = proc.stdout
    summary = out.rsplit(b"PROC-FILES-READ", 1)[1].split()
    assert int(summary[0]) > 100 and summary[1] == b"True"  # it did read /proc, bwrap's PID 1 included
    assert b"GRADER_API_TOKEN" not in out and b"NBGRADER_DB_URL" not in out
    assert SECRET.encode() not in out and SECRET.encode() not in proc.stderr


@needs_bwrap
def test_cpu_limit_stops_a_busy_loop(tmp_path):
    work = tmp_path / "box" / "work"
    work.mkdir(parents=True)
    argv, _ = Sandbox(cpu_seconds=1).command([sys.executable, "-c", "while True: pass"], work)
    t0 = time.monotonic()
    proc = subprocess.run(argv, capture_output=True, timeout=120)
    assert proc.returncode != 0 and time.monotonic() - t0 < 60


def test_seccomp_program():
    prog = seccomp_filter("x86_64")
    assert prog is not None and len(prog) % 8 == 0 and len(prog) // 8 > 10
    assert seccomp_filter("aarch64") is not None and seccomp_filter("sparc") is None


def test_without_bubblewrap_grading_says_unsandboxed(tmp_path, monkeypatch, caplog):
    sandbox = Sandbox(bwrap="/nonexistent/bwrap")
    ok, text = sandbox.status()
    assert not ok and text.startswith(UNSANDBOXED)
    with caplog.at_level(logging.WARNING):
        assert sandbox.require() == (False, text)
    assert UNSANDBOXED in caplog.text
    with pytest.raises(SandboxError, match=UNSANDBOXED):
        Sandbox(bwrap="/nonexistent/bwrap", mode="require").require()
    out, sandboxed, _ = run_probe(tmp_path, sandbox, monkeypatch)  # still: clean environment and limits
    assert not sandboxed and SECRET not in json.dumps(out["env"]) and out["as"] == sandbox.memory_bytes


@needs_bwrap
def test_sandboxed_kernel_runs_interrupts_caps_output_and_cleans_up(tmp_path):
    from bn_helpers.sandbox import SandboxedExecute

    folder = tmp_path / "submission"
    folder.mkdir()
    (folder / "data.txt").write_text("submitted file")
    nb = new_notebook(cells=[
        new_code_cell("import os\nprint(open('data.txt').read(), os.getcwd())\nopen('new.txt', 'w').write('x')"),
        new_code_cell("while True:\n    pass"),
        new_code_cell("from bn_helpers import checks\nprint('after', checks.__file__)"),
        new_code_cell("for _ in range(300):\n    print('x' * 1000)"),
    ])
    managers = []

    class Recording(SandboxedKernelManager):
        def __init__(self, **kw):
            super().__init__(**kw)
            managers.append(self)

    execute = SandboxedExecute(timeout=5, interrupt_on_timeout=True, kernel_manager_class=Recording,
                               max_output=100_000)
    execute.preprocess(nb, {"metadata": {"path": str(folder)}})
    assert nb.cells[0].outputs[0].text.startswith("submitted file /work")
    assert not (folder / "new.txt").exists()                       # writes stay in the sandbox's copy
    assert any(o.get("ename") == "KeyboardInterrupt" for o in nb.cells[1].outputs)
    assert "after /course/lib/bn_helpers/checks" in nb.cells[2].outputs[0].text
    printed = "".join(o.get("text", "") for o in nb.cells[3].outputs)
    assert "truncated" in printed and len(printed) < 110_000
    assert managers and managers[0].sandboxed and managers[0]._private is None  # private folder removed


@pytest.mark.slow
def test_unsandboxed_autograde_warns_and_still_grades(tmp_path):
    """A course whose bwrap is missing: nbgrader autograde says UNSANDBOXED, judge.json records it."""
    from bn_helpers import grading

    a = "02_forward"
    course = grading.new_course(tmp_path / "course", names=[a])
    with open(course / "nbgrader_config.py", "a") as f:
        f.write('\nc.Sandbox.bwrap = "/nonexistent/bwrap"\n')
    grading.make_submission(course, a, "alice", grading.solution_code(course, a))
    env = {**os.environ, "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])}
    env.pop("NBGRADER_DB_URL", None)
    proc = subprocess.run([sys.executable, "-m", "nbgrader", "autograde", a], cwd=course, capture_output=True,
                          text=True, env=env, timeout=3600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert UNSANDBOXED in proc.stderr
    record = json.loads((course / ".grading/autograded/alice" / a / "judge.json").read_text())
    nb_record = record["notebooks"][a]
    assert nb_record["sandboxed"] is False and nb_record["sandbox"].startswith(UNSANDBOXED)
    assert all(c["judge"] == "pass" for c in nb_record["cells"])
    graded = nbformat.read(course / ".grading/autograded/alice" / a / f"{a}.ipynb", as_version=4)
    assert graded.cells
