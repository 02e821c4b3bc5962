"""The README's PostgreSQL path on a real server: the driver, an empty database, two assignments at once.

The test starts its own PostgreSQL (Debian's ``postgresql`` package: ``initdb``
and ``pg_ctl`` on a temporary folder and port, as the ``postgres`` user when
run as root, since PostgreSQL refuses to run as root), makes an empty database
as a course would have it, and runs the instructor's commands against it with
``NBGRADER_DB_URL=postgresql://...`` (psycopg 3, the ``postgres`` extra):
``db upgrade`` on the empty database (and nbgrader's own afterwards),
``generate_assignment``, two ``autograde`` runs of two assignments at the same
time, ``feedback``, ``report`` and ``export``. It skips, saying why, where
PostgreSQL or psycopg cannot be had.
"""
from __future__ import annotations

import csv
import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from bn_helpers import grading
from conftest import ROOT

# one worker runs the whole module: its module-scoped fixture is computed once (make test: --dist loadgroup)
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("test_postgres")]
ASSIGNMENTS = ("02_forward", "06_in_practice")
PY = sys.executable


def _pg_bin() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4]))
    return Path(versions[-1]).parent if versions else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def postgres_url():
    """A running PostgreSQL with an empty database ``batchnorm`` owned by ``grader``; its URL."""
    try:
        import psycopg
    except ImportError:
        pytest.skip('psycopg 3 is not installed: pip install -e ".[postgres]" (or "psycopg[binary]")')
    bin_dir = _pg_bin()
    if bin_dir is None:
        pytest.skip("PostgreSQL is not installed (Debian: apt-get install postgresql; .ci/run does it)")
    as_root = os.geteuid() == 0
    if as_root and not shutil.which("runuser"):
        pytest.skip("running as root without runuser: PostgreSQL refuses to run as root")
    home = Path(tempfile.mkdtemp(prefix="bn-pg-"))  # not under pytest's root-only tmp: the postgres user reads it
    port = _free_port()

    def run(*cmd: str) -> subprocess.CompletedProcess:
        cmd = (["runuser", "-u", "postgres", "--"] if as_root else []) + list(cmd)
        return subprocess.run(cmd, capture_output=True, text=True, timeout=300)

    try:
        if as_root:
            shutil.chown(home, "postgres")
        init = run(str(bin_dir / "initdb"), "-D", str(home / "data"), "-A", "trust", "-U", "postgres")
        if init.returncode != 0:
            pytest.skip(f"initdb failed: {init.stderr.strip()[-500:]}")
        start = run(str(bin_dir / "pg_ctl"), "-D", str(home / "data"), "-l", str(home / "server.log"), "-w",
                    "-t", "120", "-o", f"-p {port} -k {home} -c listen_addresses=127.0.0.1", "start")
        if start.returncode != 0:
            pytest.skip(f"PostgreSQL did not start: {start.stderr.strip()[-500:]}")
        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{port}/postgres", autocommit=True) as conn:
            conn.execute("CREATE ROLE grader LOGIN PASSWORD 'secret'")
            conn.execute("CREATE DATABASE batchnorm OWNER grader")
        yield f"postgresql://grader:secret@127.0.0.1:{port}/batchnorm"
    finally:
        run(str(bin_dir / "pg_ctl"), "-D", str(home / "data"), "-m", "immediate", "stop")
        shutil.rmtree(home, ignore_errors=True)


def _tool(course: Path, url: str, *args: str) -> subprocess.Popen:
    env = {**os.environ, "NBGRADER_DB_URL": url, "PYTHONPATH": str(course)}
    return subprocess.Popen([PY, "-m", "bn_helpers.grading", *args], cwd=course, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _ok(proc: subprocess.Popen, code: int = 0, timeout: float = 3600) -> str:
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == code, f"exit {proc.returncode}\n{out}\n{err[-3000:]}"
    return out


def test_the_postgresql_path_with_two_assignments_graded_at_once(postgres_url, tmp_path):
    course = tmp_path / "course"
    course.mkdir()
    shutil.copy2(ROOT / "nbgrader_config.py", course)
    for a in ASSIGNMENTS:
        shutil.copytree(ROOT / "solutions" / a, course / "solutions" / a)
        shutil.copytree(ROOT / "notebooks" / a, course / "notebooks" / a)

    # An empty database: nbgrader's migrations cannot start from nothing, the tool creates the tables;
    # nbgrader's own upgrade then has nothing to do.
    assert "created the gradebook's tables" in _ok(_tool(course, postgres_url, "db", "upgrade"))
    env = {**os.environ, "NBGRADER_DB_URL": postgres_url, "PATH": f"{Path(PY).parent}{os.pathsep}{os.environ['PATH']}"}
    plain = subprocess.run(["nbgrader", "db", "upgrade"], cwd=course, env=env, capture_output=True, text=True)
    assert plain.returncode == 0, plain.stderr[-2000:]

    expected = {}
    for a in ASSIGNMENTS:
        _ok(_tool(course, postgres_url, "generate_assignment", a))
        solution = grading.solution_code(course, a)
        for path in sorted((ROOT / "tests" / "sample_class" / a).glob("*.py")):
            edits, header = grading.read_sample(path)
            grading.make_submission(course, a, path.stem, {**solution, **edits} if header.get("base") == "solution"
                                    else edits)
            expected[a, path.stem] = float(header["expected"])

    # Two assignments graded at the same time, each two students at a time: four writers at once.
    started = time.monotonic()
    runs = {a: _tool(course, postgres_url, "autograde", a, "-j", "2", "--no-progress") for a in ASSIGNMENTS}
    outputs = {a: _ok(proc) for a, proc in runs.items()}
    print(f"two assignments, {len(expected)} submissions, graded in {time.monotonic() - started:.0f} s")

    os.environ["NBGRADER_DB_URL"] = postgres_url
    try:
        everyone = {s for (_, s) in expected}
        for a in ASSIGNMENTS:
            rows = {r.student: r for r in grading.report(course, a)}
            assert set(rows) == everyone, outputs[a]  # the other assignment's students: enrolled, nothing submitted
            for student, r in rows.items():
                if (a, student) in expected:
                    assert r.graded and r.final == expected[a, student], (a, student, outputs[a])
                else:
                    assert r.status == "missing" and r.final is None, (a, student, outputs[a])
    finally:
        del os.environ["NBGRADER_DB_URL"]

    feedback = _ok(_tool(course, postgres_url, "feedback", ASSIGNMENTS[0]))
    assert "NO FEEDBACK" not in feedback
    _ok(_tool(course, postgres_url, "export"))  # the wide file: a row per student, a column per assignment
    wide = {r["SIS Login ID"]: r for r in csv.DictReader((course / ".grading" / "grades.csv").open())}
    assert set(wide) == everyone
    for (a, student), score in expected.items():
        assert float(wide[student][a]) == score, wide[student]
    _ok(_tool(course, postgres_url, "export", "--long"))
    exported = {(r["assignment"], r["student_id"]): r
                for r in csv.DictReader((course / ".grading" / "grades-long.csv").open())}
    assert set(exported) == {(a, s) for a in ASSIGNMENTS for s in everyone}
    for key, r in exported.items():
        if key in expected:
            assert r["status"] == "graded" and float(r["score"]) == expected[key], r
        else:
            assert r["status"] == "missing" and r["score"] == "0", r
    assert not (course / ".grading" / "gradebook.db").exists()  # everything went to PostgreSQL

    import psycopg

    with psycopg.connect(postgres_url) as conn:
        count = conn.execute("SELECT count(*) FROM submitted_assignment").fetchone()[0]
    assert count == len(expected)
