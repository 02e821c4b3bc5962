"""``make hub`` runs this first: can every user run the course's Python?

JupyterHub's LocalProcessSpawner starts each student's server as that student,
from the course's ``.venv``. A virtual environment is only links to the Python
it was made from: made from a Python under ``/root`` (pyenv, a root-only
install), every student's server fails with ``Permission denied:
.venv/bin/jupyterhub-singleuser``. This checks, with the file modes, that other
users can reach and run the interpreter and read the standard library and the
environment's packages, and says how to rebuild when they cannot.

Usage::

    python deploy/check_venv.py            # exit 0: fine; 1: not usable by others (says why and what to do)
"""
from __future__ import annotations

import os
import stat
import sys
import sysconfig
from pathlib import Path


def blocked(path: Path) -> list[str]:
    """Why a user other than the owner cannot use ``path``: one line per offending component ([] if none).

    Every folder on the way must be searchable by others (``o+x``); the path
    itself, once links are resolved, readable (``o+r``), and searchable if a
    folder or executable if a file that has any execute bit.
    """
    problems = []
    target = Path(os.path.realpath(path))
    for folder in reversed(target.parents):
        mode = folder.stat().st_mode
        if not mode & stat.S_IXOTH:
            problems.append(f"{folder} is not open to other users (mode {stat.filemode(mode)})")
    mode = target.stat().st_mode
    if not mode & stat.S_IROTH:
        problems.append(f"{target} is not readable by other users (mode {stat.filemode(mode)})")
    if (stat.S_ISDIR(mode) or mode & stat.S_IXUSR) and not mode & stat.S_IXOTH:
        problems.append(f"{target} cannot be run or entered by other users (mode {stat.filemode(mode)})")
    return problems


def check(prefix: Path | None = None) -> list[str]:
    """Problems that keep other users from running this environment's Python ([] when there are none)."""
    prefix = Path(prefix or sys.prefix)
    needed = [prefix / "bin" / "python", Path(sysconfig.get_paths()["stdlib"]),
              Path(sysconfig.get_paths()["purelib"])]
    problems: list[str] = []
    for path in needed:
        if path.exists():
            problems += [p for p in blocked(path) if p not in problems]
    return problems


def main() -> int:
    problems = check()
    if not problems:
        return 0
    real = os.path.realpath(Path(sys.prefix) / "bin" / "python")
    print(f"Students could not start their servers: the course's environment {sys.prefix} runs the Python at\n"
          f"{real}, which other users cannot use:", file=sys.stderr)
    for line in problems:
        print(f"  - {line}", file=sys.stderr)
    print("Rebuild the environment from a Python every user can run, e.g. the system's:\n"
          "  rm -rf .venv && make hub PYTHON=/usr/bin/python3     (Python 3.11 or newer)", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
