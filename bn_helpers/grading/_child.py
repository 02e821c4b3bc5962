"""What one grading process runs: an nbgrader command for one student, its output into a log file.

Imported ahead of time by the fork server (:mod:`.runner`), so that each
student's process starts with nbgrader already loaded instead of paying
Python's two seconds of imports again.
"""
from __future__ import annotations

import os
import signal
import sys
import traceback

import nbgrader.apps.nbgraderapp  # noqa: F401  (preloaded for the forked processes)
import nbgrader.api  # noqa: F401
import nbgrader.converters  # noqa: F401
import nbgrader.preprocessors  # noqa: F401
import nbclient  # noqa: F401
import nbconvert.exporters  # noqa: F401  (generate_feedback's HTML: jinja2, mistune, pygments)

from . import db, late, preprocessors  # noqa: F401  (named by nbgrader_config.py)

try:  # the course's sandbox and judge, also named by nbgrader_config.py
    from .. import judge, sandbox  # noqa: F401
except ImportError:  # pragma: no cover
    pass

# What every student's process would otherwise import after the fork (listed from sys.modules at the end of
# one): the judge runs the hidden checks here, the sandbox primes Matplotlib's cache, nbclient asks ipykernel
# for its kernel spec, the gradebook opens SQLite. Imported once here they cost 0.3 s of CPU per student less
# (benchmarks/bench_grading.py); plain nbgrader, one process for the class, pays them once too.
import sqlite3  # noqa: F401,E402
import ipykernel.kernelspec  # noqa: F401,E402
import matplotlib  # noqa: F401,E402
import numpy.ma  # noqa: F401,E402
import numpy.random  # noqa: F401,E402
import sqlalchemy.dialects.sqlite  # noqa: F401,E402

from .. import checks  # noqa: F401,E402
from ..judge import _view  # noqa: F401,E402


def _stop(signum, frame):  # SIGTERM from the parent: a time limit; let nbgrader shut its kernel down
    raise KeyboardInterrupt(f"stopped by signal {signum}")


def run_nbgrader(argv: list[str], cwd: str, env: dict[str, str], log_path: str) -> None:
    """Run ``nbgrader ARGV`` in this (fresh) process, in ``cwd``, and exit with its exit code."""
    code = 1
    try:
        fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(fd)
        os.environ.clear()
        os.environ.update(env)
        os.chdir(cwd)
        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        from .db import install_busy_timeout

        install_busy_timeout()
        print(f"$ nbgrader {' '.join(argv)}", flush=True)
        from nbgrader.apps.nbgraderapp import NbGraderApp

        try:
            NbGraderApp.launch_instance(argv)
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:  # report anything, then exit: the parent reads the log
        traceback.print_exc()
        code = 1
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)
