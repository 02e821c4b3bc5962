"""Checks of assignment 04_train_vs_inference: the BatchNorm1d class and keras_to_torch_momentum.

The class check builds the student's class (every call bounded in time),
runs training steps and evaluation passes, and compares the output and the
running statistics with :mod:`bn_helpers.stats` (PyTorch's conventions).
When the running statistics are off, it recomputes them under the known wrong
conventions (biased variance, Keras' reversed momentum, momentum ignored, no
update at all) from the state the class had before the step, and names the
one that matches.
"""
from __future__ import annotations

import os
import warnings
from typing import Callable

import numpy as np

from .. import nn, norms, stats
from ..data import WORKED_BETA, WORKED_GAMMA, worked_example
from ._common import _OutOfTime, as_array, hidden_rng, random_cases, time_limit, watch_reference
from ._messages import Cases, call, closest, worst
from .forward import _FORWARD_MISTAKES

__all__ = ["BatchNorm1d", "keras_to_torch_momentum"]

NAME = "BatchNorm1d"
#: Reference code a student's class must not call. ``numerics.batchnorm_forward``
#: is allowed: the notebook's setup cell provides it for the training-mode normalization.
_FORBIDDEN = {os.path.abspath(m.__file__) for m in (stats, nn, norms)}


# --------------------------------------------------------------------------
# Small tools
# --------------------------------------------------------------------------

def _own_code(run: Callable, name: str, what: str) -> None:
    with watch_reference(_FORBIDDEN) as seen:
        run()
    if seen:
        raise AssertionError(
            f"{name} calls bn_helpers' reference code ({', '.join(sorted(set(seen)))}). "
            f"The exercise is to write {what} yourself with NumPy.")


def _attr(bn, attr: str, d: int, what: str) -> np.ndarray:
    if not hasattr(bn, attr):
        raise AssertionError(f"{NAME} has no attribute `{attr}`: set self.{attr} in __init__ ({what}).")
    value = getattr(bn, attr)
    try:
        arr = np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise AssertionError(f"{NAME}.{attr} must be a NumPy array of shape ({d},); got {type(value).__name__}") from None
    if arr.shape != (d,):
        raise AssertionError(
            f"{NAME}.{attr} has the wrong shape {arr.shape}; expected ({d},), one value per feature "
            "(drop keepdims=True, or index [0]).")
    return arr


def _set_param(bn, attr: str, values: np.ndarray) -> None:
    current = getattr(bn, attr, None)
    if isinstance(current, np.ndarray) and current.shape == values.shape:
        current[...] = values
    else:
        setattr(bn, attr, values.copy())


def _state(bn, d):
    return (_attr(bn, "running_mean", d, "zeros of shape (num_features,)"),
            _attr(bn, "running_var", d, "ones of shape (num_features,)"))


def _method(bn, method: str):
    fn = getattr(bn, method, None)
    if not callable(fn):
        raise AssertionError(f"{NAME} has no method `{method}()`.")
    return fn


_HINT_TRAIN = ("In training mode the statistics are per feature over the batch: axis=0, shape (D,), broadcast over "
               "the rows.")
_HINT_EVAL = ("In eval mode normalize with running_mean and running_var (shape (D,)); they need no batch, so any "
              "number of examples works.")
_HINT_EVAL_ONE = ("In eval mode a single example must work: it is normalized with running_mean and running_var. "
                  "The refusal of a batch of one belongs to training mode only (inside `if self.training:`).")


def _forward(bn, x, mode: str) -> np.ndarray:
    hint = _HINT_TRAIN if mode == "training" else _HINT_EVAL_ONE if x.shape[0] == 1 else _HINT_EVAL
    out = call(_method(bn, "forward"), f"{NAME}.forward ({mode} mode)", x.copy(), hint=hint, names=("x",))
    out = as_array(out, f"{NAME}.forward", "the output")
    if out.shape != x.shape:
        raise AssertionError(
            f"{NAME}.forward ({mode} mode): the output has the wrong shape {out.shape}; it must have the shape "
            f"of x, {x.shape}. The statistics have shape (D,) and broadcast over the rows.")
    return out.astype(np.float64)


def _tol(dtype):
    return (2e-4, 2e-5) if np.dtype(dtype) == np.float32 else (1e-7, 1e-9)


def _close(a, b, dtype):
    rtol, atol = _tol(dtype)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=atol))


# --------------------------------------------------------------------------
# The running statistics, right and wrong
# --------------------------------------------------------------------------

def _candidates(old_mean, old_var, x, momentum, tracked, evals=0, default_momentum=False, out=None):
    """(message, mean, var) of the right update and of each known wrong one."""
    x64 = x.astype(np.float64)
    n = x64.shape[0]
    mean, biased = x64.mean(axis=0), x64.var(axis=0)
    unbiased = biased * n / (n - 1)
    m = 1.0 / (tracked + 1) if momentum is None else momentum

    def avg(w, new_mean, new_var):
        return (1 - w) * old_mean + w * new_mean, (1 - w) * old_var + w * new_var

    res = [(None, *avg(m, mean, unbiased))]
    res.append((
        "You updated running_var with the biased batch variance (divided by N). PyTorch's "
        "running_var averages the *unbiased* variance, var * N / (N - 1) (Bessel's correction): "
        "with small batches the biased one underestimates the population variance by a factor (N-1)/N.",
        *avg(m, mean, biased)))
    res.append((
        "Your momentum convention is reversed (Keras style: running = momentum * running + "
        "(1 - momentum) * batch). In PyTorch's convention momentum weights the *new batch*: "
        "running = (1 - momentum) * running + momentum * batch.", *avg(1 - m, mean, unbiased)))
    res.append((
        "Your momentum convention is reversed (Keras style) and running_var uses the biased variance. "
        "PyTorch: running = (1 - momentum) * running + momentum * batch, with var * N / (N - 1).",
        *avg(1 - m, mean, biased)))
    res.append(("running_var averages the batch standard deviation; it averages the (unbiased) variance, "
                "var * N / (N - 1).", *avg(m, mean, np.sqrt(unbiased))))
    res.append(("running_var averages the batch standard deviation; it averages the unbiased variance, "
                "var * N / (N - 1).", *avg(m, mean, np.sqrt(biased))))
    if out is not None:
        o = np.asarray(out, np.float64)
        res.append(("You updated the running statistics with the mean and variance of the layer's OUTPUT; "
                    "average the statistics of the input batch x.", *avg(m, o.mean(0), o.var(0) * n / (n - 1))))
    if momentum is not None and not np.isclose(momentum, 0.1):
        res.append((
            f"Your running statistics ignore the momentum argument (they use 0.1; this layer was built "
            f"with momentum={momentum:g}). Store it in __init__ and use self.momentum.", *avg(0.1, mean, unbiased)))
    if default_momentum:
        res.append(("Your default momentum is 0.99 (Keras'); PyTorch's default is momentum=0.1, the weight of "
                    "the new batch.", *avg(0.99, mean, unbiased)))
    if momentum is None:
        if evals:
            res.append((
                f"With momentum=None you counted the {evals} eval-mode call(s) in num_batches_tracked: the "
                "cumulative average must count training batches only (increment it inside `if self.training:`).",
                *avg(1.0 / (tracked + 1 + evals), mean, unbiased)))
        res.append((
            "With momentum=None your cumulative average is off by one batch: after counting this batch, "
            "the factor is 1 / num_batches_tracked (1 for the first batch, 1/2 for the second, ...).",
            *avg(1.0 / (tracked + 2), mean, unbiased)))
        if tracked > 0:
            res.append((
                "With momentum=None your cumulative average is off by one batch: after counting this batch, "
                "the factor is 1 / num_batches_tracked (1 for the first batch, 1/2 for the second, ...).",
                *avg(1.0 / tracked, mean, unbiased)))
        res.append(("With momentum=None you used momentum 0.1; None means a cumulative average, factor "
                    "1 / num_batches_tracked (as in PyTorch).", *avg(0.1, mean, unbiased)))
    res.append((
        "You replaced the running statistics by the batch statistics instead of averaging them: "
        "running = (1 - momentum) * running + momentum * batch.", mean, unbiased))
    res.append((
        "The running statistics did not change in training mode: each training-mode forward must "
        "update running_mean and running_var.", old_mean, old_var))
    return res


def _check_running(bn, d, old, x, momentum, tracked, dtype, where, evals=0, default_momentum=False, out=None):
    got_mean, got_var = _state(bn, d)
    cands = _candidates(old[0], old[1], x, momentum, tracked, evals, default_momentum, out)
    _, want_mean, want_var = cands[0]
    rtol, atol = _tol(dtype)
    atol = max(atol, 1e-6)
    if np.allclose(got_mean, want_mean, rtol=rtol, atol=atol) and np.allclose(got_var, want_var, rtol=rtol, atol=atol):
        return
    message = next((msg for msg, cm, cv in cands[1:]
                    if np.allclose(got_mean, cm, rtol=1e-4, atol=1e-6) and np.allclose(got_var, cv, rtol=1e-4, atol=1e-6)),
                   None)
    if momentum is None and message is None:
        message = ("With momentum=None the running statistics must be the cumulative average of all "
                   "training batches so far: use the factor 1 / num_batches_tracked (after counting this batch), "
                   "as PyTorch does.")
    if message is None:
        which = "running_mean" if not np.allclose(got_mean, want_mean, rtol=1e-4, atol=1e-6) else "running_var"
        message = (f"{which} is wrong after a training step. PyTorch: running = (1 - momentum) * running + "
                   "momentum * batch, with the batch mean and the unbiased batch variance var * N / (N - 1).")
    bad_mean = not np.allclose(got_mean, want_mean, rtol=rtol, atol=atol)
    label, got, want = ("running_mean", got_mean, want_mean) if bad_mean else ("running_var", got_var, want_var)
    raise AssertionError(f"{NAME}: {message}\n  {where}: {label} {worst(got, want)}")


def _reference_forward(x, gamma, beta, eps):
    x64 = x.astype(np.float64)
    mean, var = x64.mean(axis=0), x64.var(axis=0)
    return gamma * (x64 - mean) / np.sqrt(var + eps) + beta, (mean, var)


def _eval_output(x, gamma, beta, mean, var, eps):
    return gamma * (x.astype(np.float64) - mean) / np.sqrt(var + eps) + beta


def _train_step(bn, x, gamma, beta, eps, momentum, tracked, where, evals=0, defaults=False):
    """One training-mode forward: the output, then the running statistics."""
    d = x.shape[1]
    old = _state(bn, d)
    out = _forward(bn, x, "training")
    expected, _ = _reference_forward(x, gamma, beta, eps)
    if not _close(out, expected, x.dtype):
        cands = [("in training mode you normalized with the running statistics; training mode "
                  "normalizes with the statistics of the current batch.", _eval_output(x, gamma, beta, *old, eps))]
        new = _candidates(old[0], old[1], x, momentum, tracked)[0][1:]
        cands.append(("in training mode you normalized with the running statistics (just updated); training "
                      "mode normalizes with the statistics of the current batch.",
                      _eval_output(x, gamma, beta, *new, eps)))
        if defaults:
            cands.append(("your default eps is 1e-3 (Keras'); PyTorch's default is eps=1e-5.",
                          _reference_forward(x, gamma, beta, 1e-3)[0]))
        cands += [(m, (lambda f: lambda: f(x, gamma, beta, eps))(f)) for m, f in _FORWARD_MISTAKES]
        message = closest(out, cands) or ("wrong output: gamma * (x - batch mean) / sqrt(batch var + eps) + beta; "
                                          "print the batch mean and var you normalize with and compare.")
        raise AssertionError(f"{NAME}.forward (training mode): {message}\n  {where}: {worst(out, expected)}")
    _check_running(bn, d, old, x, momentum, tracked, x.dtype, where, evals, defaults, out)


def _eval_pass(bn, x, gamma, beta, eps, where):
    d = x.shape[1]
    before = _state(bn, d)
    out = _forward(bn, x, "eval")
    after = _state(bn, d)
    if not (np.array_equal(before[0], after[0]) and np.array_equal(before[1], after[1])):
        raise AssertionError(
            f"{NAME}: you updated the running statistics in eval mode. Evaluation must not change the model: "
            "update running_mean and running_var only when self.training is True (otherwise each prediction "
            f"on test data shifts them).\n  {where}: running_mean {worst(after[0], before[0])}")
    rm, rv = before
    expected = _eval_output(x, gamma, beta, rm, rv, eps)
    if _close(out, expected, x.dtype):
        return
    x64 = x.astype(np.float64)
    cands = []
    if x.shape[0] > 1:
        cands.append(("in eval mode you normalized with the batch statistics. At inference normalize with "
                      "running_mean and running_var, so that each example's output depends on that example only.",
                      _reference_forward(x, gamma, beta, eps)[0]))
    if not np.allclose(rv, 1.0):
        cands.append(("in eval mode you ignored running_var: divide by sqrt(running_var + eps).",
                      _eval_output(x, gamma, beta, rm, np.ones_like(rv), eps)))
    if not np.allclose(rm, 0.0):
        cands.append(("in eval mode you did not subtract running_mean: (x - running_mean) / sqrt(running_var + eps).",
                      _eval_output(x, gamma, beta, np.zeros_like(rm), rv, eps)))
    cands += [
        ("in eval mode you ignored eps: divide by sqrt(running_var + eps).",
         gamma * (x64 - rm) / np.sqrt(rv) + beta),
        ("in eval mode eps is outside the square root: divide by sqrt(running_var + eps), not sqrt(running_var) + eps.",
         gamma * (x64 - rm) / (np.sqrt(rv) + eps) + beta),
        ("in eval mode you divided by running_var + eps, without the square root: divide by the std.",
         gamma * (x64 - rm) / (rv + eps) + beta),
        ("in eval mode you forgot gamma and beta: gamma * x_hat + beta in both modes.",
         (x64 - rm) / np.sqrt(rv + eps)),
        ("in eval mode you forgot gamma: gamma * x_hat + beta in both modes.", (x64 - rm) / np.sqrt(rv + eps) + beta),
        ("in eval mode you forgot beta: gamma * x_hat + beta in both modes.", gamma * (x64 - rm) / np.sqrt(rv + eps)),
    ]
    message = closest(out, cands) or "wrong output in eval mode: gamma * (x - running_mean) / sqrt(running_var + eps) + beta."
    raise AssertionError(f"{NAME}.forward (eval mode): {message}\n  {where}: {worst(out, expected)}")


def _mode_switch(bn, method: str, flag: bool):
    result = call(_method(bn, method), f"{NAME}.{method}", hint=f"{method}() takes no argument: it sets "
                  f"self.training and returns self.")
    if result is not bn:
        raise AssertionError(
            f"{NAME}.{method}() must return self (PyTorch's convention, so that `model = model.{method}()` "
            f"and chaining work); it returned {type(result).__name__}.")
    training = getattr(bn, "training", None)
    if not isinstance(training, (bool, np.bool_)) or bool(training) != flag:
        raise AssertionError(
            f"{NAME}.{method}() must set self.training = {flag}; after it self.training is "
            f"{getattr(bn, 'training', 'missing')!r}.")


def _single_example_raises(bn, d):
    try:
        with time_limit(5.0), warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            _method(bn, "forward")(np.ones((1, d)))
    except _OutOfTime:
        raise AssertionError(f"{NAME}.forward did not return within 5 s on a batch of one example.") from None
    except NotImplementedError:
        raise AssertionError(f"{NAME}.forward is not implemented yet: replace `raise NotImplementedError()` "
                             "with your code.") from None
    except Exception:
        return
    raise AssertionError(
        f"{NAME}.forward in training mode accepted a batch of ONE example. Its batch variance is 0, every "
        "normalized value is 0, and running_var * N / (N - 1) divides by zero. Raise a ValueError, as "
        "PyTorch does: 'Expected more than 1 value per channel when training'.")


def _new(cls, *args, **kwargs):
    return call(cls, NAME, *args, hint="BatchNorm1d(num_features, eps=1e-5, momentum=0.1) must accept these "
                "keywords (momentum may be None) and set up arrays of shape (num_features,).", **kwargs)


def _check_init(bn, d):
    for attr, want, what in (("gamma", 1.0, "ones"), ("beta", 0.0, "zeros"), ("running_mean", 0.0, "zeros")):
        value = _attr(bn, attr, d, f"{what} of shape (num_features,)")
        if not np.allclose(value, want):
            raise AssertionError(f"{NAME}: a new layer must have {attr} = {what} (PyTorch's initial state); got {value}.")
    var = _attr(bn, "running_var", d, "ones of shape (num_features,)")
    if np.allclose(var, 0.0):
        raise AssertionError(
            f"{NAME}: running_var initialized to zeros. Used in eval mode before (or soon after) training, it "
            "divides by sqrt(0 + eps) ~ 0.003: outputs about 300 times too large. PyTorch starts running_var "
            "at ones (and running_mean at zeros).")
    if not np.allclose(var, 1.0):
        raise AssertionError(f"{NAME}: a new layer must have running_var = ones (PyTorch's initial state); got {var}.")
    if getattr(bn, "training", None) is not True and not isinstance(getattr(bn, "training", None), np.bool_):
        raise AssertionError(f"{NAME}: a new layer must be in training mode: self.training = True in __init__.")


# --------------------------------------------------------------------------
# The checks
# --------------------------------------------------------------------------

def BatchNorm1d(cls, hidden: bool = False) -> None:  # noqa: N802 (the graded name is the class's)
    """Check a ``BatchNorm1d(num_features, eps=1e-5, momentum=0.1)`` class against PyTorch's conventions.

    Visible cases: the initial state; ``train()``/``eval()`` returning self
    and setting ``training``; the worked example (running_mean 0.112,
    running_var 1.2547 after one step); two training steps with eps=0.5 and
    momentum=0.3 and given gamma and beta; eval passes (a batch and a single
    example); back to training; a batch of one in training mode must raise.

    With ``hidden=True``: random shapes in float64 and float32, several steps
    against :mod:`bn_helpers.stats`, ``momentum=None`` (cumulative average)
    with eval passes between the training steps (which must not count), and
    a check that the class does not call ``bn_helpers.stats``/``nn``/``norms``.

    Raises
    ------
    AssertionError
        Naming the likely mistake: biased variance or the std in running_var,
        momentum convention reversed (Keras style), ignored, or Keras' default
        0.99, running statistics of the output, updated in eval mode, or
        replaced instead of averaged, momentum=None counting eval calls, off
        by one or taken as 0.1, eval mode using batch statistics, ignoring
        running_var, running_mean, eps or gamma and beta, eval mode refusing
        one example, training mode normalizing with running statistics,
        running_var initialized to zeros, the input changed in place, wrong
        shapes, ``train``/``eval`` not returning self.
    """
    if not callable(cls):
        raise AssertionError(f"{NAME} must be a class; got {type(cls).__name__}")
    passed = Cases(NAME)
    # the initial state and the mode switches
    bn = _new(cls, 3)
    _check_init(bn, 3)
    passed.add("initial state")
    _mode_switch(bn, "eval", False)
    _mode_switch(bn, "train", True)
    passed.add("train()/eval()")

    # the worked example, one step from (0, 1)
    bn = _new(cls, 1)
    _set_param(bn, "gamma", np.array([WORKED_GAMMA]))
    _set_param(bn, "beta", np.array([WORKED_BETA]))
    x = worked_example()
    _train_step(bn, x, np.array([WORKED_GAMMA]), np.array([WORKED_BETA]), 1e-5, 0.1, 0,
                "worked example [2.3, -0.5, 1.8, 3.2, -1.2], default eps and momentum", defaults=True)
    passed.add("worked example")

    # two steps with eps and momentum given, then eval, then train again
    rng = np.random.default_rng(404)
    d = 4
    gamma, beta = rng.uniform(0.5, 2.0, d), rng.normal(0.0, 1.0, d)
    bn = _new(cls, d, eps=0.5, momentum=0.3)
    _set_param(bn, "gamma", gamma)
    _set_param(bn, "beta", beta)
    where = "BatchNorm1d(4, eps=0.5, momentum=0.3)"
    for step in range(2):
        xb = rng.normal(rng.normal(0, 3, d), rng.uniform(0.5, 3, d), size=(6, d))
        _train_step(bn, xb, gamma, beta, 0.5, 0.3, step, f"{where}, step {step + 1} on x of shape (6, 4)")
    passed.add("two steps with eps=0.5 and momentum=0.3")
    _mode_switch(bn, "eval", False)
    _eval_pass(bn, rng.normal(1.0, 2.0, size=(5, d)), gamma, beta, 0.5, f"{where}, eval on x of shape (5, 4)")
    passed.add("eval on a batch")
    _eval_pass(bn, rng.normal(1.0, 2.0, size=(1, d)), gamma, beta, 0.5, f"{where}, eval on ONE example")
    passed.add("eval on one example")
    _mode_switch(bn, "train", True)
    _train_step(bn, rng.normal(size=(7, d)), gamma, beta, 0.5, 0.3, 2, f"{where}, training again after eval()",
                evals=2)
    passed.add("training again")
    _single_example_raises(bn, d)
    passed.add("a training batch of one refused")
    # float32 batches: the same conventions (the output's dtype is not graded: float64 gamma may promote it)
    bn = _new(cls, 3)
    x32 = rng.normal(2.0, 3.0, size=(6, 3)).astype(np.float32)
    _train_step(bn, x32, np.ones(3), np.zeros(3), 1e-5, 0.1, 0, "BatchNorm1d(3), a float32 batch (6, 3)")
    _mode_switch(bn, "eval", False)
    _eval_pass(bn, (x32 + 1).astype(np.float32), np.ones(3), np.zeros(3), 1e-5, "BatchNorm1d(3), eval on float32 (6, 3)")
    passed.add("float32")

    if hidden:
        _hidden_cases(cls, hidden_rng(405), passed)
    passed.passed()


def _hidden_cases(cls, rng, passed: Cases):
    for k, x0 in enumerate(random_cases(4040, count=4)):
        d, dtype = x0.shape[1], x0.dtype
        momentum = [0.1, 0.05, 0.5, 0.9][k]
        bn = _new(cls, d, momentum=momentum)
        gamma = rng.uniform(0.5, 2, d).astype(dtype)
        beta = rng.normal(0, 1, d).astype(dtype)
        _set_param(bn, "gamma", gamma.astype(np.float64))
        _set_param(bn, "beta", beta.astype(np.float64))
        ref = stats.init_running_stats(d)
        where = f"BatchNorm1d({d}, momentum={momentum}), {dtype} batches"
        for step in range(3):
            n = int(rng.integers(2, 40))
            x = (x0[:1] + rng.normal(0, 2, (n, d))).astype(dtype)
            _train_step(bn, x, gamma.astype(np.float64), beta.astype(np.float64), 1e-5, momentum, step,
                        f"{where}, step {step + 1}, x of shape {x.shape}")
            _, _, ref = stats.batchnorm_train_step(x.astype(np.float64), gamma.astype(np.float64),
                                                   beta.astype(np.float64), ref, momentum=momentum)
        got = _state(bn, d)
        rtol = 1e-3 if dtype == np.float32 else 1e-6
        if not (np.allclose(got[0], ref.mean, rtol=rtol, atol=1e-6) and np.allclose(got[1], ref.var, rtol=rtol, atol=1e-6)):
            raise AssertionError(f"{NAME}: after 3 training steps the running statistics drifted from "
                                 f"bn_helpers.stats' ({where}): running_mean {worst(got[0], ref.mean)}.")
        _mode_switch(bn, "eval", False)
        _eval_pass(bn, (x0 + 1.0).astype(dtype), gamma.astype(np.float64), beta.astype(np.float64), 1e-5,
                   f"{where}, eval on x of shape {x0.shape}")
        passed.add("random shape, 3 steps and eval")
    # momentum=None: a cumulative average of the training batches, eval passes in between
    d = 3
    try:
        bn = _new(cls, d, momentum=None)
        for step in range(4):
            _train_step(bn, rng.normal(step, 1 + step, size=(5 + step, d)), np.ones(d), np.zeros(d), 1e-5, None, step,
                        f"BatchNorm1d(3, momentum=None), step {step + 1} after {step} eval pass(es)", evals=step)
            _mode_switch(bn, "eval", False)
            _eval_pass(bn, rng.normal(0, 2, size=(4, d)), np.ones(d), np.zeros(d), 1e-5,
                       f"BatchNorm1d(3, momentum=None), eval after step {step + 1}")
            _mode_switch(bn, "train", True)
    except AssertionError as exc:
        first, _, rest = str(exc).partition("\n")
        if "momentum=None" not in first:
            first = ("momentum=None must keep a cumulative average (factor 1 / num_batches_tracked, as in PyTorch). "
                     + first)
        raise AssertionError(f"{first}\n{rest}".rstrip()) from None
    passed.add("momentum=None with eval passes between steps")
    # no calls into the reference running statistics or network
    def run():
        layer = _new(cls, 2)
        _forward(layer, rng.normal(size=(4, 2)), "training")
        _method(layer, "eval")()
        _forward(layer, rng.normal(size=(3, 2)), "eval")
    _own_code(run, NAME, "the layer and its running statistics (only batchnorm_forward from the setup cell may be used)")
    passed.add("own code")


def keras_to_torch_momentum(fn: Callable, hidden: bool = False) -> None:
    """Check ``fn(m) -> 1 - m``: Keras' BN momentum converted to PyTorch's.

    Keras: ``moving = m * moving + (1 - m) * batch`` (default 0.99); PyTorch:
    ``running = (1 - m') * running + m' * batch`` (default 0.1).

    Raises
    ------
    AssertionError
        Naming the likely mistake: the momentum returned unchanged, 1/m,
        a percentage, a rounded value, not a number; with ``hidden=True``
        also random values and a call into ``bn_helpers.stats``.
    """
    name = "keras_to_torch_momentum"
    passed = Cases(name)
    values = [0.99, 0.9, 0.5, 0.0, 1.0, np.float32(0.9)]
    if hidden:
        rng = hidden_rng(99)
        values += [float(v) for v in rng.uniform(0, 1, 6)] + [np.float32(0.999), np.float64(0.97)]
    for m in values:
        got = call(fn, name, m, hint="m is a number between 0 and 1 (a float or a NumPy scalar).")
        if isinstance(got, (bool, np.bool_)):
            raise AssertionError(f"{name} must return a number; got {got!r} for m={m!r}.")
        try:
            got_f = float(got)
        except (TypeError, ValueError):
            raise AssertionError(f"{name} must return a number; got {type(got).__name__} for m={m!r}") from None
        want = 1.0 - float(m)
        if np.isclose(got_f, want, rtol=1e-6, atol=1e-7):
            passed.add("NumPy scalar" if isinstance(m, np.generic) else "random momentum" if m not in (
                0.99, 0.9, 0.5, 0.0, 1.0) else f"m={float(m):g}")
            continue
        hints = [
            (np.isclose(got_f, float(m)), "You returned Keras' momentum unchanged. The two conventions are "
             "reversed: Keras' momentum weights the OLD value, PyTorch's the NEW batch, so m_torch = 1 - m_keras."),
            (np.isclose(got_f, -want), "Your sign is flipped: m - 1 is negative; m_torch = 1 - m_keras."),
            (m != 0 and np.isclose(got_f, 1.0 / float(m)), "You returned 1/m. The weights of old and new add "
             "up to 1 in both conventions: m_torch = 1 - m_keras."),
            (want != 0 and np.isclose(got_f, 1.0 / want), "You returned 1 / (1 - m). The weights of old and new "
             "add up to 1 in both conventions: m_torch = 1 - m_keras."),
            (np.isclose(got_f, 100 * want), "You returned a percentage; momentum is a fraction: 1 - m."),
            (np.isclose(got_f, want, atol=0.006), "Your result is rounded; return 1 - m exactly."),
        ]
        hint = next((h for ok, h in hints if ok), "wrong value: Keras' moving = m * moving + (1 - m) * batch "
                    "matches PyTorch's running = (1 - m') * running + m' * batch when m' = 1 - m.")
        raise AssertionError(f"{name}: {hint}\n  for m={float(m):g}: expected {want:.6g}, got {got_f:.6g}")
    if hidden:
        def run():
            call(fn, name, 0.99)
        _own_code(run, name, "the conversion")
        passed.add("own code")
    passed.passed()
