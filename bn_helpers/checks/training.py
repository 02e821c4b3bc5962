"""Checks of 03, 04 and 05 that put the student's code to work: it trains a network (:mod:`bn_helpers.loop`).

``checks.training.<name>(fn)`` trains the 64-100-100-10 network of
:mod:`bn_helpers.loop` on the digits twice, over the same seeds: once with
normalization layers that call ``fn`` and once with the reference's, and runs
the whole-network gradient check through ``fn``. It passes when, for every
seed, the test accuracy with ``fn`` ends within :data:`MARGIN` of the
reference's and every parameter's gradient agrees with central differences
(relative error below :data:`GRAD_TOL`); for 04's layer, the eval-mode logits
must also agree with the reference network's (:data:`EVAL_RTOL`). Its failure names the function to
revisit, gives both accuracies per seed, and says where the gradient check
first goes wrong (counting from the output: a wrong ``dgamma`` shows at that
layer's ``gamma``, a wrong ``dx`` at the weights below it).

Every call of ``fn`` is time-bounded and watched: a call that reaches
``bn_helpers``' reference code (the code the exercise asks you to write)
fails the check, so the reference's work never earns the points. Seeds are
stacked along the feature axis, so one call per layer and step serves every
seed, and the gradient check stacks its perturbed networks the same way: about
50 calls for the training run of :data:`STEPS` steps and 2 to 8 for the
gradient check.
"""
from __future__ import annotations

import os
from typing import Callable

import numpy as np

from .. import loop, nn, norms, stats
from . import _common
from ._common import REFERENCE_FILES, hidden_rng, watch_reference

__all__ = ["batchnorm_backward_compact", "BatchNorm1d", "groupnorm_forward"]

#: A seed's final test accuracy with the student's code may be this much below the reference's (the
#: curves of a correct answer coincide up to rounding; the known wrong backward passes end 0.5 lower or more).
MARGIN = 0.03
#: Largest relative error of a parameter's gradient in the gradient check (correct code: about 1e-9).
GRAD_TOL = 1e-6
#: 04: largest relative difference between the eval-mode logits of the network with the student's layer and the
#: reference's, trained on the same batches (max |difference| / max |reference logit|, per seed). In training mode
#: a correct layer computes the batch's normalization, so both runs follow the same path and the eval-mode logits,
#: which the running statistics decide, agree to 1e-15; every known mistake of the running statistics or of the
#: eval-mode formula that changes them moves them by 1.8e-3 or more (measured on 3 x 3 seeds; ignoring eps only
#: in eval mode, 2e-5, is left to the class checks). Every known 04 answer, correct or not, got the same verdict
#: from this cell under 24 random salts.
EVAL_RTOL = 1e-4
#: Steps of the graded runs, with the test accuracy measured after the last: every call of student code
#: crosses the judge's sandbox boundary, so a graded run makes about 60 calls (2 per step, a few to evaluate
#: and for the gradient check), and a test cell, visible and hidden seeds, about 120.
STEPS = 25
#: Order in which the gradient check's parameters are reached from the output.
_FROM_OUTPUT = ("W3", "beta2", "gamma2", "W2", "beta1", "gamma1", "W1")

_ALL_REFERENCE = REFERENCE_FILES
#: 04 may call numerics.batchnorm_forward (the setup cell gives it), not the layers or the running statistics.
_LAYER_FORBIDDEN = {os.path.abspath(m.__file__) for m in (stats, nn, norms)}


_REFERENCE_ACC: dict[tuple, np.ndarray] = {}


class _Guard:
    """``call(fn, name, *args)`` for :class:`bn_helpers.loop.PluggedNorm`: time-bounded, reference calls recorded."""

    def __init__(self, forbidden: set[str]) -> None:
        self.forbidden, self.seen = forbidden, set()

    def __call__(self, fn: Callable, name: str, *args):
        __tracebackhide__ = True  # noqa: F841
        with watch_reference(self.forbidden) as seen:
            try:
                return _common.call(fn, name, *args)
            finally:
                self.seen.update(seen)


def _public_names(seen: set[str]) -> list[str]:
    names = sorted(n for n in seen if not n.startswith(("_", "<")))
    return names or sorted(seen)


def _where(errors: dict[str, float]) -> str | None:
    """Where the gradient check first fails, counting from the output; None when it passes."""
    bad = [k for k in _FROM_OUTPUT if not errors[k] < GRAD_TOL]
    if not bad:
        return None
    first, layer = bad[0], bad[0][-1]
    if first.startswith(("gamma", "beta")):
        what = f"norm layer {layer}'s d{first[:-1]} (relative error {errors[first]:.1e})"
    elif first == "W3":
        what = f"the output layer (relative error {errors[first]:.1e}): the norm layers' outputs are not what their gradients assume"
    else:
        what = (f"the weights below norm layer {layer}, W{layer} (relative error {errors[first]:.1e}): "
                f"norm layer {layer}'s dx is off")
    rest = ", ".join(bad[1:])
    return what + (f"; wrong too: {rest}" if rest else "")


def _run(name: str, make: Callable, forbidden: set[str], hidden: bool, hint: str, compare_eval: bool = False) -> None:
    __tracebackhide__ = True  # noqa: F841
    if hidden:
        rng = hidden_rng(1611)
        seeds = [int(s) for s in rng.integers(100, 10_000, size=3)]
    else:
        seeds = [0, 1, 2]
    guard = _Guard(forbidden)
    try:
        ours = loop.train(make(guard), seeds, steps=STEPS, eval_every=STEPS)
        errors = loop.gradient_check(make(guard), seed=seeds[0])
    except ValueError as exc:          # a wrong shape or type, found by PluggedNorm
        raise AssertionError(f"{name} in the training loop: {exc}") from None
    if guard.seen:
        raise AssertionError(
            f"{name} calls bn_helpers' reference code ({', '.join(_public_names(guard.seen))}). "
            "Here your own code trains the network: write it yourself with NumPy.")
    key = (name, tuple(seeds))
    if key not in _REFERENCE_ACC:        # the reference's run depends on the seeds only: computed once
        ref = loop.train(loop.REFERENCE[name], seeds, steps=STEPS, eval_every=STEPS)
        _REFERENCE_ACC[key] = (ref["test_acc"][:, -1], ref["net"].eval_logits)
    (acc_ref, logits_ref), acc = _REFERENCE_ACC[key], ours["test_acc"][:, -1]
    low = (acc < acc_ref - MARGIN) | ~np.isfinite(ours["loss"]).all(axis=1)
    where = _where(errors)
    eval_off = None
    if compare_eval:
        with np.errstate(invalid="ignore", over="ignore"):
            off = np.abs(ours["net"].eval_logits - logits_ref).max(axis=(1, 2)) / np.abs(logits_ref).max(axis=(1, 2))
        if not (off <= EVAL_RTOL).all():
            eval_off = float(np.nan_to_num(off, nan=np.inf).max())
    fmt = lambda a: ", ".join(f"{v:.2f}" for v in a)  # noqa: E731
    seeds_text = ", ".join(map(str, seeds)) if not hidden else f"{len(seeds)} hidden seeds"
    if low.any() or where or eval_off is not None:
        msg = (f"your {name}: after {STEPS} steps the network with your layer is at test accuracy {fmt(acc)} "
               f"where the reference reaches {fmt(acc_ref)} (seeds {seeds_text})")
        if where:
            msg += f"; the whole-network gradient check fails first at {where}"
            if not low.any():
                msg += " (the accuracy is close: training forgives a slightly wrong gradient, the gradient check does not)"
        elif eval_off is not None:
            msg += (f"; training mode is right (the gradient check passes and both networks took the same steps), "
                    f"but in eval mode the network's outputs differ from the reference's by up to {eval_off:.1e} "
                    f"of their scale (allowed {EVAL_RTOL:.0e}): eval mode uses your running_mean and running_var, "
                    f"so look at how you update them (momentum, the N/(N-1) factor) and how eval mode uses them")
        else:
            msg += "; the gradient check passes, so look at the values your layer computes"
        raise AssertionError(f"{msg}. Revisit your {name}: {hint}")
    print(f"{name} in the training loop: {len(seeds)} seeds{'' if hidden else f' ({seeds_text})'} end at "
          f"test accuracy {fmt(acc)} (reference {fmt(acc_ref)}); gradient check passed "
          f"(largest relative error {max(errors.values()):.0e}); {ours['calls']} calls of your code in training")


def batchnorm_backward_compact(fn: Callable, hidden: bool = False) -> None:
    """03: ``fn(dout, cache) -> (dx, dgamma, dbeta)`` as the backward of both batch-norm layers (reference forward).

    Raises
    ------
    AssertionError
        When a seed's final test accuracy is more than :data:`MARGIN` below the
        reference's, the gradient check fails, ``fn`` raises or returns the wrong
        shapes, or ``fn`` calls ``bn_helpers``' reference code.
    """
    name = "batchnorm_backward_compact"
    _run(name, lambda guard: loop.with_backward(fn, name, call=guard), _ALL_REFERENCE, hidden,
         f"run checks.{name}({name}) for a diagnosis on small cases.")


def BatchNorm1d(cls: Callable, hidden: bool = False) -> None:
    """04: ``cls(D)`` as both batch-norm layers (its forward in both modes; the reference backward).

    Eval-mode accuracy measures the layer's running statistics, and so do the
    eval-mode logits: both networks take the same training steps (training mode
    normalizes with the batch's statistics), so the logits must agree with the
    reference's to :data:`EVAL_RTOL` of their scale.

    Raises
    ------
    AssertionError
        As :func:`batchnorm_backward_compact`; also when a seed's eval-mode
        logits differ from the reference's by more than :data:`EVAL_RTOL`
        (relative to the largest reference logit). A call into ``bn_helpers``'
        layers or running statistics fails (``numerics.batchnorm_forward`` is allowed).
    """
    name = "BatchNorm1d"
    _run(name, lambda guard: loop.with_layer(cls, name, call=guard), _LAYER_FORBIDDEN, hidden,
         "in training mode the output is the batch's normalization; test accuracy is measured in eval mode, "
         "with your running statistics (run checks.BatchNorm1d(BatchNorm1d) for a diagnosis).", compare_eval=True)


def groupnorm_forward(fn: Callable, hidden: bool = False) -> None:
    """05: ``fn`` as both normalization layers, group norm over groups of 25 features (4 per hidden layer).

    The backward is the reference's ``norms.normalize_backward`` over each group.

    Raises
    ------
    AssertionError
        As :func:`batchnorm_backward_compact`.
    """
    name = "groupnorm_forward"
    _run(name, lambda guard: loop.with_groupnorm(fn, name, call=guard), _ALL_REFERENCE, hidden,
         "the backward assumes group norm's output; run checks.groupnorm_forward(groupnorm_forward) for a diagnosis.")
