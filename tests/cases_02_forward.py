"""Grading cases of 02_forward: other correct solutions, known mistakes, hostile submissions.

Every ``cases_<assignment>.py`` module offers the same names, used by the fast
tests of ``bn_helpers.checks`` (test_checks.py) and by real nbgrader
autograding (test_grading.py). Edits replace cells of the instructor's
solution by ``grade_id``. A mistake lists the cell edits, a phrase the
diagnosis must contain, and exactly the test cells that lose their points
(here the solution's batchnorm_forward and undo_params call its batch_variance).
"""
import numpy as np

from bn_helpers.numerics import BatchNormCache

ASSIGNMENT = "02_forward"
#: What the notebook's setup cell gives the solution cells.
NAMESPACE = {"np": np, "BatchNormCache": BatchNormCache}

FORWARD_TESTS = ("test_batchnorm_forward", "test_batchnorm_forward_hidden")
UNDO_TESTS = ("test_undo_params", "test_undo_params_hidden")

_FORWARD = '''
def batchnorm_forward(x, gamma, beta, eps=1e-5):
    mean = x.mean(axis=0)
    var = x.var(axis=0)
    {body}
    return out, BatchNormCache(x, x_hat, mean, var, 1 / np.sqrt(var + eps), gamma, beta, eps)
'''


def _forward(body: str) -> dict[str, str]:
    return {"batchnorm_forward": _FORWARD.format(body=body.strip().replace("\n", "\n    "))}


MISTAKES = {
    "unbiased_variance": (
        {"batch_variance": "def batch_variance(x):\n    return x.var(axis=0, ddof=1)\n"},
        "N-1", ("test_batch_variance", "test_batch_variance_hidden", *FORWARD_TESTS, *UNDO_TESTS)),
    "unbiased_in_forward": (
        _forward("var = x.var(axis=0, ddof=1)\nx_hat = (x - mean) / np.sqrt(var + eps)\nout = gamma * x_hat + beta"),
        "N-1", FORWARD_TESTS),
    "sigma_plus_eps": (
        _forward("x_hat = (x - mean) / (np.sqrt(var) + eps)\nout = gamma * x_hat + beta"),
        "sigma + eps", FORWARD_TESTS),
    "eps_outside_sqrt_no_root": (
        _forward("x_hat = (x - mean) / (var + eps)\nout = gamma * x_hat + beta"),
        "square root", FORWARD_TESTS),
    "eps_hard_coded": (
        _forward("x_hat = (x - mean) / np.sqrt(var + 1e-5)\nout = gamma * x_hat + beta"),
        "eps argument", FORWARD_TESTS),
    "wrong_axis": (
        _forward("m1 = x.mean(axis=1, keepdims=True)\nv1 = x.var(axis=1, keepdims=True)\n"
                 "x_hat = (x - m1) / np.sqrt(v1 + eps)\nout = gamma * x_hat + beta"),
        "axis=1", FORWARD_TESTS),
    "forgot_gamma": (
        _forward("x_hat = (x - mean) / np.sqrt(var + eps)\nout = x_hat + beta"),
        "forgot gamma", FORWARD_TESTS),
    "forgot_beta": (
        _forward("x_hat = (x - mean) / np.sqrt(var + eps)\nout = gamma * x_hat"),
        "forgot beta", FORWARD_TESTS),
    "swapped_gamma_beta": (
        _forward("x_hat = (x - mean) / np.sqrt(var + eps)\nout = beta * x_hat + gamma"),
        "swapped", FORWARD_TESTS),
    "in_place": (
        _forward("x -= mean\nx /= np.sqrt(var + eps)\nx_hat = x\nout = gamma * x_hat + beta"),
        "in place", FORWARD_TESTS),
    "wrong_shape": (
        _forward("x_hat = (x - mean) / np.sqrt(var + eps)\nout = (gamma * x_hat + beta).ravel()"),
        "shape", FORWARD_TESTS),
    "one_pass_variance": (
        {"batch_variance": "def batch_variance(x):\n    return (x ** 2).mean(axis=0) - x.mean(axis=0) ** 2\n"},
        "E[x^2]", ("test_batch_variance_hidden", "test_batchnorm_forward_hidden")),
    "undo_std_without_eps": (
        {"undo_params": "def undo_params(x, eps=1e-5):\n    return x.std(axis=0), x.mean(axis=0)\n"},
        "without eps", UNDO_TESTS),
    "calls_reference": (
        {"batchnorm_forward": "from bn_helpers.numerics import batchnorm_forward\n"},
        "reference code", ("test_batchnorm_forward_hidden",)),
}


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

#: A graded function that never returns, and the test cells it must lose (and only those).
LOOP = ({"undo_params": "def undo_params(x, eps=1e-5):\n    while True:\n        pass\n"}, UNDO_TESTS)
#: A mistake whose test cells the student deleted, and which cells were deleted.
DELETE = ("forgot_beta", ("test_batchnorm_forward", "test_batchnorm_forward_hidden", "test_undo_params"))

#: The mistakes also graded through real nbgrader (tests/test_grading.py): every one the
#: issue names (the rest go through the same checks in tests/test_checks.py).
NBGRADER_MISTAKES = ["unbiased_variance", "sigma_plus_eps", "eps_outside_sqrt_no_root", "eps_hard_coded",
                     "wrong_axis", "forgot_gamma", "forgot_beta", "swapped_gamma_beta", "in_place", "wrong_shape"]
