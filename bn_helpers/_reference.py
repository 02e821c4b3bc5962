"""The course's reference code: the modules a graded function must not call.

One list serves both sides. The judge's runner *forwards* every function of
these modules to the grader (:mod:`bn_helpers.judge._view`), and the checks
forbid calls into them (:data:`bn_helpers.checks._common.REFERENCE_FILES`), so
a module added here is forwarded and forbidden at once.
"""
from __future__ import annotations

import importlib.util
import os

#: Modules whose functions the judge computes for the runner and a graded function may not call.
REFERENCE = ("bn_helpers.numerics", "bn_helpers.norms", "bn_helpers.stats", "bn_helpers.nn",
             "bn_helpers.diagnostics", "bn_helpers.rmsnorm", "bn_helpers.gradcheck")

#: Of these, the ones a notebook's setup cell may hand to a graded exercise (``from bn_helpers.numerics import
#: batchnorm_forward`` in 04): a check allows one by leaving it out of its ``watch_reference`` set. Every other
#: module of :data:`REFERENCE`, including any added later, is forbidden in every hidden test cell.
ALLOWABLE = ("bn_helpers.numerics", "bn_helpers.norms", "bn_helpers.stats")


def module_file(name: str) -> str:
    """The absolute path of a module's source, without importing it."""
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        raise ImportError(f"no module named {name!r}")
    return os.path.abspath(spec.origin)


def files(names=REFERENCE) -> set[str]:
    """The source files of the given modules (default: every reference module)."""
    return {module_file(n) for n in names}
