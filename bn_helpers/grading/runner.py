"""Run an nbgrader command for many students, each in its own process, N at a time.

Each student's ``nbgrader autograde ASSIGNMENT --student S`` (or
``generate_feedback``) runs in a process of its own, forked from a server
process that has imported nbgrader once (``multiprocessing``'s *forkserver*),
so a process costs milliseconds rather than the two seconds Python needs to
import nbgrader. A student's process writes its whole log to
``.grading/logs/<assignment>/<student>.log``; it may crash, hang or be killed
without touching any other student. Parallel processes share the gradebook
(:mod:`.db` explains why that is safe).
"""
from __future__ import annotations

import glob
import multiprocessing
import os
import re
import sys
import time
from dataclasses import dataclass
from multiprocessing.connection import wait
from pathlib import Path

__all__ = ["Outcome", "run_students", "default_jobs", "reason_from_log", "warm_up"]

#: Environment for the kernels of parallel graders: one BLAS thread each, N processes on N cores.
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS")
_RETRYABLE = re.compile(r"database is locked|could not serialize access|deadlock detected"
                        r"|Kernel died before replying to kernel_info", re.IGNORECASE)


def default_jobs() -> int:
    """The number of cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS
        return max(1, os.cpu_count() or 1)


@dataclass
class Outcome:
    """How one student's nbgrader process ended."""

    student: str
    returncode: int | None
    seconds: float
    log: Path
    timed_out: bool = False
    attempts: int = 1

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out


_context = None


def _mp_context():
    global _context
    if _context is None:
        if "forkserver" in multiprocessing.get_all_start_methods():
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(["bn_helpers.grading._child", "bn_helpers.grading._forkserver"])
        else:  # pragma: no cover - Windows has no fork
            ctx = multiprocessing.get_context("spawn")
        _context = ctx
    return _context


def warm_up() -> None:
    """Start the server that forks the grading processes now, so that it imports nbgrader in parallel."""
    ctx = _mp_context()
    if ctx.get_start_method() == "forkserver":
        from multiprocessing import forkserver

        forkserver.ensure_running()


def _env(jobs: int) -> dict[str, str]:
    env = dict(os.environ)
    bin_dir = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join([bin_dir, env.get("PATH", "")])  # nbgrader runs `alembic` from PATH
    if jobs > 1:
        for var in THREAD_VARS:
            env.setdefault(var, "1")
    return env


def run_students(course_root: Path, command: str, assignment: str, students: list[str], *, jobs: int,
                 log_dir: Path, force: bool = True, timeout: float | None = None,
                 progress: bool = False, retries: int = 2) -> dict[str, Outcome]:
    """``nbgrader COMMAND ASSIGNMENT --student S [--force]`` for each student, ``jobs`` at a time.

    A process still running after ``timeout`` seconds is stopped (SIGTERM, so
    nbgrader shuts its kernel down; SIGKILL 15 s later) and reported as timed
    out. A process that failed on a locked or conflicting database runs again,
    up to ``retries`` times.
    """
    from ._child import run_nbgrader

    jobs = max(1, int(jobs))
    ctx = _mp_context()
    env = _env(jobs)
    log_dir = Path(log_dir)
    log_dir.mkdir(parents=True, exist_ok=True)
    queue = [(s, 1) for s in students]
    running: dict[int, tuple] = {}  # sentinel -> (process, student, attempt, started, log, kill_at)
    done: dict[str, Outcome] = {}
    bar = None
    if progress and students:
        from tqdm.auto import tqdm

        tqdm.monitor_interval = 0
        bar = tqdm(total=len(students), desc=f"{command} {assignment}", unit="student", file=sys.stderr,
                   dynamic_ncols=True)
    suffix = "" if command == "autograde" else f".{command}"
    try:
        while queue or running:
            while queue and len(running) < jobs:
                student, attempt = queue.pop(0)
                log = log_dir / f"{student}{suffix}.log"
                argv = [command, assignment, "--student", glob.escape(student)] + (["--force"] if force else [])
                proc = ctx.Process(target=run_nbgrader, args=(argv, str(course_root), env, str(log)),
                                   name=f"grade-{student}")
                proc.start()
                running[proc.sentinel] = [proc, student, attempt, time.monotonic(), log, None]
            ready = wait(list(running), timeout=0.5)
            now = time.monotonic()
            for sentinel in list(running):
                proc, student, attempt, started, log, kill_at = running[sentinel]
                if sentinel not in ready:
                    if timeout is not None and kill_at is None and now - started > timeout:
                        proc.terminate()
                        running[sentinel][5] = now + 15.0
                    elif kill_at is not None and now > kill_at:
                        proc.kill()
                    continue
                proc.join()
                del running[sentinel]
                timed_out = kill_at is not None
                code = proc.exitcode
                proc.close()
                if (not timed_out and code != 0 and attempt <= retries and log.exists()
                        and _RETRYABLE.search(log.read_text(errors="replace"))):
                    queue.append((student, attempt + 1))
                    continue
                done[student] = Outcome(student, code, now - started, log, timed_out, attempt)
                if bar is not None:
                    bar.update(1)
                    failed = sum(not o.ok for o in done.values())
                    if failed:
                        bar.set_postfix_str(f"{failed} not graded")
    finally:
        for proc, *_ in running.values():  # interrupted (Ctrl-C): stop the students still running
            proc.terminate()
        for proc, *_ in running.values():
            proc.join(15)
            if proc.exitcode is None:
                proc.kill()
        if bar is not None:
            bar.close()
    return done


_TRACE_END = re.compile(r"^\s*(?P<exc>[A-Za-z_][\w.]*(Error|Exception|Interrupt|Exit|Warning)\b.*)$")
_NBGRADER_ERROR = re.compile(r"\[\w+ \| ERROR\] (?P<msg>.*)$")
_BORING = (
    "There was an error processing assignment", "Please see the", "Traceback (most recent call last)",
    "Removing failed", "Interrupting kernel", "Timeout waiting for execute reply",
)


def reason_from_log(text: str) -> str:
    """The most telling line of a failed nbgrader log: the exception, else nbgrader's own error."""
    lines = text.splitlines()
    exceptions = [m["exc"].strip() for ln in lines if (m := _TRACE_END.match(ln))]
    errors = [m["msg"].strip() for ln in lines if (m := _NBGRADER_ERROR.search(ln))]
    errors = [e for e in errors if e and not e.startswith(_BORING)]
    for exc in exceptions:
        if not exc.startswith(("NbGraderException", "SystemExit")):
            return exc
    if errors:
        return errors[0]
    return exceptions[0] if exceptions else "nbgrader failed without saying why"
