"""Seeded toy-scale experiments behind the notebooks' claims, one module per assignment.

Each claim a notebook makes about an experiment is asserted by a test in
``tests/test_experiments_<assignment>.py`` on the same seeded run.
"""
from . import train_eval
from . import backward
from . import why_normalize
from . import variants
from . import in_practice

__all__ = ["train_eval", "backward", "why_normalize", "variants", "in_practice"]
