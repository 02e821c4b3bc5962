"""bn_helpers.checks: correct code passes, each known mistake is named, loops are cut short."""
import time

import numpy as np
import pytest

from bn_helpers import checks, grading
from bn_helpers.numerics import BatchNormCache
from mistakes_02 import MISTAKES

GRADED = ("batch_mean", "batch_variance", "batchnorm_forward", "undo_params")


def _functions(edits=None) -> dict:
    """The instructor's solution functions, with some cells replaced, executed in one namespace."""
    cells = {**grading.solution_code(grading.REPO, "02_forward"), **(edits or {})}
    namespace = {"np": np, "BatchNormCache": BatchNormCache}
    for name in GRADED:
        exec(cells[name], namespace)
    return namespace


def _run_all(namespace, hidden):
    for name in GRADED:
        getattr(checks, name)(namespace[name], hidden=hidden)


@pytest.mark.parametrize("hidden", [False, True])
def test_solution_passes(hidden):
    _run_all(_functions(), hidden)


ALTERNATIVES = {
    "np.var and keepdims": {
        "batch_variance": "def batch_variance(x):\n    return np.var(x, axis=0, keepdims=True)[0]\n",
        "batchnorm_forward": (
            "def batchnorm_forward(x, gamma, beta, eps=1e-5):\n"
            "    mean = x.mean(axis=0, keepdims=True)\n"
            "    var = x.var(axis=0, keepdims=True)\n"
            "    x_hat = (x - mean) / np.sqrt(var + eps)\n"
            "    cache = BatchNormCache(x, x_hat, mean[0], var[0], 1 / np.sqrt(var[0] + eps), gamma, beta, eps)\n"
            "    return x_hat * gamma + beta, cache\n"),
    },
    "einsum and a dict cache": {
        "batch_mean": "def batch_mean(x):\n    return np.einsum('nd->d', x) / x.shape[0]\n",
        "batchnorm_forward": (
            "def batchnorm_forward(x, gamma, beta, eps=1e-5):\n"
            "    mean = batch_mean(x); xc = x - mean; var = (xc * xc).sum(0) / len(x)\n"
            "    inv_std = (var + eps) ** -0.5\n"
            "    x_hat = xc * inv_std\n"
            "    return gamma * x_hat + beta, dict(x=x, x_hat=x_hat, mean=mean, var=var, inv_std=inv_std)\n"),
    },
    "float64 accumulation cast back": {
        "batch_variance": ("def batch_variance(x):\n    x64 = x.astype(np.float64)\n"
                           "    return ((x64 - x64.mean(0)) ** 2).mean(0).astype(x.dtype)\n"),
        "undo_params": "def undo_params(x, eps=1e-5):\n    return np.sqrt(np.var(x, 0) + eps), np.mean(x, 0)\n",
    },
}


@pytest.mark.parametrize("name", ALTERNATIVES)
def test_other_correct_implementations_pass(name):
    _run_all(_functions(ALTERNATIVES[name]), hidden=True)


@pytest.mark.parametrize("mistake", MISTAKES)
def test_each_mistake_is_named(mistake):
    edits, phrase, lost = MISTAKES[mistake]
    namespace = _functions(edits)
    failed = {}
    for name in GRADED:
        for hidden in (False, True):
            test_id = f"test_{name}" + ("_hidden" if hidden else "")
            try:
                getattr(checks, name)(namespace[name], hidden=hidden)
            except AssertionError as exc:
                failed[test_id] = str(exc)
    assert set(failed) == set(lost)
    assert phrase in failed[lost[0]], failed[lost[0]]


def test_not_implemented_is_explained():
    def batch_mean(x):
        raise NotImplementedError()
    with pytest.raises(AssertionError, match="batch_mean is not implemented yet"):
        checks.batch_mean(batch_mean)


def test_infinite_loop_is_cut_short(monkeypatch):
    monkeypatch.setattr(checks._common, "TIME_BUDGET", 0.5)
    def undo_params(x, eps=1e-5):
        while True:
            pass
    start = time.perf_counter()
    with pytest.raises(AssertionError, match="did not return within 0.5 s"):
        checks.undo_params(undo_params)
    assert time.perf_counter() - start < 3


def test_other_exceptions_carry_a_hint():
    def batchnorm_forward(x, gamma, beta, eps=1e-5):
        return np.concatenate([x, gamma]), None  # (N, D) and (D,): different numbers of dimensions
    with pytest.raises(AssertionError, match=r"(?s)raised ValueError.*axis=0"):
        checks.batchnorm_forward(batchnorm_forward)


def test_missing_cache_field_is_named():
    def batchnorm_forward(x, gamma, beta, eps=1e-5):
        x_hat = (x - x.mean(0)) / np.sqrt(x.var(0) + eps)
        return gamma * x_hat + beta, {"x_hat": x_hat}
    with pytest.raises(AssertionError, match="the cache has no field `mean`"):
        checks.batchnorm_forward(batchnorm_forward)
