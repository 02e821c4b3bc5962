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
from ._common import TIME_BUDGET
from .forward import batch_mean, batch_variance, batchnorm_forward, undo_params
from .train_eval import BatchNorm1d, keras_to_torch_momentum
from .backward import batchnorm_backward, batchnorm_backward_compact
from .why_normalize import layer_stats, prediction_ics, saturation_fraction, standardize
from .variants import batch_renorm_forward, groupnorm_forward, instancenorm_forward, layernorm_forward, spatial_batchnorm_forward
from .in_practice import fold_batchnorm, merge_batch_stats

__all__ = ["batch_mean", "batch_variance", "batchnorm_forward", "undo_params", "batchnorm_backward", "batchnorm_backward_compact", "BatchNorm1d", "keras_to_torch_momentum", "TIME_BUDGET", "standardize", "layer_stats", "saturation_fraction", "prediction_ics", "spatial_batchnorm_forward", "layernorm_forward", "instancenorm_forward", "groupnorm_forward", "batch_renorm_forward", "fold_batchnorm", "merge_batch_stats"]
