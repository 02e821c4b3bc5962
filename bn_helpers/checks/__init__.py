"""Checks that teach: the tests behind every graded function.

Each ``checks.<name>(fn)`` runs a student's function on a few cases and
returns ``None`` when it behaves like the reference. Otherwise it raises
``AssertionError`` whose message names the likely mistake, found by comparing
the student's output with the outputs of known wrong implementations
(unbiased variance, eps outside the square root, the wrong axis, ...).

``hidden=True`` adds what the autograder runs on top: random shapes, float32
and float64, a float32 batch with a large mean (where E[x^2] - E[x]^2 goes
negative), and a check that the function is the student's own code rather
than a call into ``bn_helpers.numerics``.

Every call of student code is bounded in time (:data:`TIME_BUDGET` seconds),
so an infinite loop fails one test quickly instead of eating the grading run.

One module per assignment: ``forward`` (02); ``_common`` holds what they share.
"""
import functools as _functools
import os as _os
import types as _types

from ._common import TIME_BUDGET
from .forward import batch_mean, batch_variance, batchnorm_forward, undo_params
from .train_eval import BatchNorm1d, keras_to_torch_momentum
from .backward import batchnorm_backward, batchnorm_backward_compact
from .why_normalize import layer_stats, saturation_fraction, standardize
from .variants import batch_renorm_forward, groupnorm_forward, instancenorm_forward, layernorm_forward, spatial_batchnorm_forward
from .in_practice import fold_batchnorm, merge_batch_stats
from .beyond import normalize_backward, rmsnorm_backward, rmsnorm_forward

_HERE = _os.path.dirname(_os.path.abspath(__file__))


def _without_checker_frames(tb):
    """A traceback with the checks' own frames left out (only the student's code stays)."""
    kept = []
    while tb is not None:
        if not _os.path.abspath(tb.tb_frame.f_code.co_filename).startswith(_HERE + _os.sep):
            kept.append(tb)
        tb = tb.tb_next
    out = None
    for t in reversed(kept):
        out = _types.TracebackType(out, t.tb_frame, t.tb_lasti, t.tb_lineno)
    return out


class _CheckFailed(AssertionError):
    """A check's verdict: shown by IPython as the message alone (and the student's own frames, if any).

    It is an ``AssertionError`` (and says so: ``type(exc).__name__``), so nbgrader,
    pytest and ``except AssertionError`` treat it as before; IPython renders it
    with :meth:`_render_traceback_` instead of the frames of the checker, whose
    source lines would give the answer away.
    """

    def _render_traceback_(self) -> list[str]:
        lines: list[str] = []
        cause = self.__cause__
        if cause is not None:
            try:
                from IPython import get_ipython

                lines += get_ipython().InteractiveTB.structured_traceback(
                    type(cause), cause, cause.__traceback__, tb_offset=0)
            except Exception:  # no IPython shell: the exception line alone
                import traceback

                lines += [ln.rstrip("\n") for ln in traceback.format_exception_only(type(cause), cause)]
            lines += ["", "The above exception was the direct cause of the check's failure:", ""]
        lines.append(f"\x1b[0;31mAssertionError\x1b[0m: {self}")
        return lines


_CheckFailed.__name__ = _CheckFailed.__qualname__ = "AssertionError"
_CheckFailed.__module__ = "builtins"


def _public(check):
    """What a test cell calls: the check, whose failure shows the diagnosis and the numbers only.

    A failing check raises a fresh ``AssertionError`` (:class:`_CheckFailed`)
    that IPython shows as its message alone: the student never sees the
    checker's frames or source (whose lines would give the answer away). An
    exception raised in the student's code stays attached as the cause, with
    the student's frames only.
    """
    @_functools.wraps(check)
    def run(*args, **kwargs):
        __tracebackhide__ = True  # noqa: F841 (read by IPython and pytest)
        try:
            return check(*args, **kwargs)
        except AssertionError as exc:
            clean, cause = _CheckFailed(*exc.args), exc.__cause__
        except Exception as exc:  # a check tripped over an answer it did not expect
            clean = _CheckFailed(f"{check.__name__}: your answer could not be checked: {type(exc).__name__}: {exc}")
            cause = exc
        if cause is not None:
            cause = cause.with_traceback(_without_checker_frames(cause.__traceback__))
        raise clean from cause

    run.__wrapped_check__ = check
    return run



__all__ = ["batch_mean", "batch_variance", "batchnorm_forward", "undo_params", "batchnorm_backward", "batchnorm_backward_compact", "BatchNorm1d", "keras_to_torch_momentum", "TIME_BUDGET", "standardize", "layer_stats", "saturation_fraction", "spatial_batchnorm_forward", "layernorm_forward", "instancenorm_forward", "groupnorm_forward", "batch_renorm_forward", "fold_batchnorm", "merge_batch_stats", "normalize_backward", "rmsnorm_forward", "rmsnorm_backward"]

# Every check a test cell calls fails with its message alone (see _public): wrap whatever __all__ exports.
for _name in __all__:
    if callable(globals()[_name]):
        globals()[_name] = _public(globals()[_name])
del _name

# In a notebook, a cell that needs an unfinished exercise or a skipped cell says which (bn_helpers._hints).
from .. import _hints as _hints_module  # noqa: E402

_hints_module.install()

# Your layer in the training loop (03, 04, 05): checks.training.<name>(fn), failing with its message alone too.
from . import training  # noqa: E402

for _name in training.__all__:
    setattr(training, _name, _public(getattr(training, _name)))
del _name
