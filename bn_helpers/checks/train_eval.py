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
from ._common import _OutOfTime, as_array, call, diagnose, random_cases, time_limit, unchanged, watch_reference
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


def _forward(bn, x, mode: str) -> np.ndarray:
    arg = x.copy()
    out = call(_method(bn, "forward"), f"{NAME}.forward", arg)
    unchanged({"x": x}, {"x": arg}, f"{NAME}.forward ({mode} mode)")
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

def _candidates(old_mean, old_var, x, momentum, tracked):
    """(message, mean, var) of the right update and of each known wrong one."""
    x64 = x.astype(np.float64)
    n = x64.shape[0]
    mean, biased = x64.mean(axis=0), x64.var(axis=0)
    unbiased = biased * n / (n - 1)
    m = 1.0 / (tracked + 1) if momentum is None else momentum
    out = [(None, (1 - m) * old_mean + m * mean, (1 - m) * old_var + m * unbiased)]
    out.append((
        "You updated running_var with the biased batch variance (divided by N). PyTorch's "
        "running_var averages the *unbiased* variance, var * N / (N - 1) (Bessel's correction): "
        "with small batches the biased one underestimates the population variance by a factor (N-1)/N.",
        (1 - m) * old_mean + m * mean, (1 - m) * old_var + m * biased))
    out.append((
        "Your momentum convention is reversed (Keras style: running = momentum * running + "
        "(1 - momentum) * batch). In PyTorch's convention momentum weights the *new batch*: "
        "running = (1 - momentum) * running + momentum * batch.",
        m * old_mean + (1 - m) * mean, m * old_var + (1 - m) * unbiased))
    out.append((
        "Your momentum convention is reversed (Keras style) and running_var uses the biased variance. "
        "PyTorch: running = (1 - momentum) * running + momentum * batch, with var * N / (N - 1).",
        m * old_mean + (1 - m) * mean, m * old_var + (1 - m) * biased))
    if momentum is not None and not np.isclose(momentum, 0.1):
        out.append((
            f"Your running statistics ignore the momentum argument (they use 0.1; this layer was built "
            f"with momentum={momentum:g}). Store it in __init__ and use self.momentum.",
            0.9 * old_mean + 0.1 * mean, 0.9 * old_var + 0.1 * unbiased))
    out.append((
        "You replaced the running statistics by the batch statistics instead of averaging them: "
        "running = (1 - momentum) * running + momentum * batch.", mean, unbiased))
    out.append((
        "The running statistics did not change in training mode: each training-mode forward must "
        "update running_mean and running_var.", old_mean, old_var))
    return out


def _check_running(bn, d, old, x, momentum, tracked, dtype, where):
    got_mean, got_var = _state(bn, d)
    cands = _candidates(old[0], old[1], x, momentum, tracked)
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
                   "batches so far: use the factor 1 / num_batches_tracked (after counting this batch), "
                   "as PyTorch does.")
    if message is None:
        which = "running_mean" if not np.allclose(got_mean, want_mean, rtol=1e-4, atol=1e-6) else "running_var"
        message = (f"{which} is wrong after a training step. PyTorch: running = (1 - momentum) * running + "
                   "momentum * batch, with the batch mean and the unbiased batch variance var * N / (N - 1).")
    raise AssertionError(
        f"{NAME}: {message}\n  {where}: expected running_mean {np.round(want_mean[:4], 5)}, running_var "
        f"{np.round(want_var[:4], 5)}\n  got running_mean {np.round(got_mean[:4], 5)}, running_var {np.round(got_var[:4], 5)}")


def _train_step(bn, x, gamma, beta, eps, momentum, tracked, where):
    """One training-mode forward: the output, then the running statistics."""
    d = x.shape[1]
    old = _state(bn, d)
    out = _forward(bn, x, "training")
    expected, _ = _reference_forward(x, gamma, beta, eps)
    if not _close(out, expected, x.dtype):
        message = None
        if np.allclose(out, _eval_output(x, gamma, beta, *old, eps), rtol=1e-4, atol=1e-6):
            message = ("in training mode you normalized with the running statistics; training mode "
                       "normalizes with the statistics of the current batch.")
        message = message or diagnose(out, x, gamma, beta, eps, _FORWARD_MISTAKES)
        raise AssertionError(
            f"{NAME}.forward (training mode): {message or 'wrong output: gamma * (x - batch mean) / sqrt(batch var + eps) + beta.'}"
            f"\n  {where}: first row expected {np.round(expected[0, :4], 5)}, got {np.round(out[0, :4], 5)}")
    _check_running(bn, d, old, x, momentum, tracked, x.dtype, where)


def _reference_forward(x, gamma, beta, eps):
    x64 = x.astype(np.float64)
    mean, var = x64.mean(axis=0), x64.var(axis=0)
    return gamma * (x64 - mean) / np.sqrt(var + eps) + beta, (mean, var)


def _eval_output(x, gamma, beta, mean, var, eps):
    return gamma * (x.astype(np.float64) - mean) / np.sqrt(var + eps) + beta


def _eval_pass(bn, x, gamma, beta, eps, where):
    d = x.shape[1]
    before = _state(bn, d)
    out = _forward(bn, x, "eval")
    after = _state(bn, d)
    if not (np.array_equal(before[0], after[0]) and np.array_equal(before[1], after[1])):
        raise AssertionError(
            f"{NAME}: you updated the running statistics in eval mode. Evaluation must not change the model: "
            "update running_mean and running_var only when self.training is True (otherwise each prediction "
            f"on test data shifts them).\n  {where}: running_mean went from {np.round(before[0][:4], 5)} to "
            f"{np.round(after[0][:4], 5)}")
    expected = _eval_output(x, gamma, beta, *before, eps)
    if not _close(out, expected, x.dtype):
        batch, _ = _reference_forward(x, gamma, beta, eps) if x.shape[0] > 1 else (None, None)
        if batch is not None and np.allclose(out, batch, rtol=1e-4, atol=1e-6):
            message = ("in eval mode you normalized with the batch statistics. At inference normalize with "
                       "running_mean and running_var, so that each example's output depends on that example only.")
        elif np.allclose(out, _eval_output(x, gamma, beta, before[0], before[1] * 0 + 1.0, eps), rtol=1e-4, atol=1e-6) \
                and not np.allclose(before[1], 1.0):
            message = "in eval mode you ignored running_var: divide by sqrt(running_var + eps)."
        else:
            message = ("wrong output in eval mode: gamma * (x - running_mean) / sqrt(running_var + eps) + beta.")
        raise AssertionError(
            f"{NAME}.forward (eval mode): {message}\n  {where}: first row expected {np.round(expected[0, :4], 5)}, "
            f"got {np.round(out[0, :4], 5)}")


def _mode_switch(bn, method: str, flag: bool):
    result = call(_method(bn, method), f"{NAME}.{method}")
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
    return call(cls, NAME, *args, **kwargs)


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
    against :mod:`bn_helpers.stats`, ``momentum=None`` (cumulative average), and
    a check that the class does not call ``bn_helpers.stats``/``nn``/``norms``.

    Raises
    ------
    AssertionError
        Naming the likely mistake: biased variance in running_var, momentum
        convention reversed (Keras style) or ignored, running statistics
        updated in eval mode, eval mode using batch statistics, running_var
        initialized to zeros, the input changed in place, wrong shapes,
        ``train``/``eval`` not returning self.
    """
    if not callable(cls):
        raise AssertionError(f"{NAME} must be a class; got {type(cls).__name__}")
    # the initial state and the mode switches
    bn = _new(cls, 3)
    _check_init(bn, 3)
    _mode_switch(bn, "eval", False)
    _mode_switch(bn, "train", True)

    # the worked example, one step from (0, 1)
    bn = _new(cls, 1)
    _set_param(bn, "gamma", np.array([WORKED_GAMMA]))
    _set_param(bn, "beta", np.array([WORKED_BETA]))
    x = worked_example()
    _train_step(bn, x, np.array([WORKED_GAMMA]), np.array([WORKED_BETA]), 1e-5, 0.1, 0,
                "worked example [2.3, -0.5, 1.8, 3.2, -1.2], momentum 0.1")

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
    _mode_switch(bn, "eval", False)
    _eval_pass(bn, rng.normal(1.0, 2.0, size=(5, d)), gamma, beta, 0.5, f"{where}, eval on x of shape (5, 4)")
    _eval_pass(bn, rng.normal(1.0, 2.0, size=(1, d)), gamma, beta, 0.5, f"{where}, eval on ONE example")
    _mode_switch(bn, "train", True)
    _train_step(bn, rng.normal(size=(7, d)), gamma, beta, 0.5, 0.3, 2, f"{where}, training again after eval()")
    _single_example_raises(bn, d)

    if hidden:
        _hidden_cases(cls, rng)


def _hidden_cases(cls, rng):
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
                                 f"bn_helpers.stats' ({where}).")
        _mode_switch(bn, "eval", False)
        _eval_pass(bn, (x0 + 1.0).astype(dtype), gamma.astype(np.float64), beta.astype(np.float64), 1e-5,
                   f"{where}, eval on x of shape {x0.shape}")
    # momentum=None: a cumulative average
    d = 3
    try:
        bn = _new(cls, d, momentum=None)
        for step in range(4):
            _train_step(bn, rng.normal(step, 1 + step, size=(5 + step, d)), np.ones(d), np.zeros(d), 1e-5, None, step,
                        f"BatchNorm1d(3, momentum=None), step {step + 1}")
    except AssertionError as exc:
        first, _, rest = str(exc).partition("\n")
        raise AssertionError(
            f"{NAME}(momentum=None) must keep a cumulative average (factor 1 / num_batches_tracked, as in "
            f"PyTorch). {first}\n{rest}".rstrip()) from None
    # no calls into the reference running statistics or network
    def run():
        layer = _new(cls, 2)
        _forward(layer, rng.normal(size=(4, 2)), "training")
        _method(layer, "eval")()
        _forward(layer, rng.normal(size=(3, 2)), "eval")
    _own_code(run, NAME, "the layer and its running statistics (only batchnorm_forward from the setup cell may be used)")


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
    values = [0.99, 0.9, 0.5, 0.0, 1.0]
    if hidden:
        rng = np.random.default_rng(99)
        values += [float(v) for v in rng.uniform(0, 1, 6)] + [np.float32(0.999), np.float64(0.97)]
    for m in values:
        got = call(fn, name, m)
        try:
            got_f = float(got)
        except (TypeError, ValueError):
            raise AssertionError(f"{name} must return a number; got {type(got).__name__} for m={m!r}") from None
        want = 1.0 - float(m)
        if np.isclose(got_f, want, rtol=1e-6, atol=1e-7):
            continue
        hints = [
            (np.isclose(got_f, float(m)), "You returned Keras' momentum unchanged. The two conventions are "
             "reversed: Keras' momentum weights the OLD value, PyTorch's the NEW batch, so m_torch = 1 - m_keras."),
            (m != 0 and np.isclose(got_f, 1.0 / float(m)), "You returned 1/m. The weights of old and new add "
             "up to 1 in both conventions: m_torch = 1 - m_keras."),
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
