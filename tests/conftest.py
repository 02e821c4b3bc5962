"""Shared fixtures: a headless matplotlib backend and the repository root."""
import os
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))  # tests/ helpers such as mistakes_02
os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")  # quiet debugpy warning in kernels
os.environ.pop("NBGRADER_DB_URL", None)  # tests grade into their own SQLite gradebooks


def course_cases():
    """The ``cases_<assignment>`` modules of tests/, one per assignment with grading cases."""
    import importlib

    return [importlib.import_module(p.stem) for p in sorted(Path(__file__).parent.glob("cases_*.py"))]
