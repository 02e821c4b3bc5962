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


MEAN_TESTS = ("test_batch_mean", "test_batch_mean_hidden")
#: A wrong batch_mean loses its own cells and those of the solution's batchnorm_forward and undo_params.
MEAN_ALL = (*MEAN_TESTS, *FORWARD_TESTS, *UNDO_TESTS)
#: A wrong batch_variance loses its own cells and those of the solution's batchnorm_forward and undo_params.
VAR_ALL = ("test_batch_variance", "test_batch_variance_hidden", *FORWARD_TESTS, *UNDO_TESTS)


def _mean(body: str) -> dict[str, str]:
    return {"batch_mean": "def batch_mean(x):\n    " + body.strip().replace("\n", "\n    ") + "\n"}


def _var(body: str) -> dict[str, str]:
    return {"batch_variance": "def batch_variance(x):\n    " + body.strip().replace("\n", "\n    ") + "\n"}


def _undo(body: str) -> dict[str, str]:
    return {"undo_params": "def undo_params(x, eps=1e-5):\n    " + body.strip().replace("\n", "\n    ") + "\n"}


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
    # batch_mean
    "mean_is_sum": (_mean("return x.sum(axis=0)"), "the sum", MEAN_ALL),
    "mean_over_n_minus_1": (_mean("return x.sum(axis=0) / (x.shape[0] - 1)"), "N-1", MEAN_ALL),
    "mean_over_d": (_mean("return x.sum(axis=0) / x.shape[1]"), "x.shape[1], the number of features", MEAN_ALL),
    "mean_of_whole_array": (_mean("return np.full(x.shape[1], x.mean())"), "whole array", MEAN_ALL),
    "mean_median": (_mean("return np.median(x, axis=0)"), "median", MEAN_ALL),
    "mean_keepdims": (_mean("return x.mean(axis=0, keepdims=True)"), "keepdims", MEAN_ALL),
    "mean_no_axis": (_mean("return x.mean()"), "forget axis=0", MEAN_ALL),
    "mean_axis_1": (_mean("return x.mean(axis=1)"), "one value per example", MEAN_ALL),
    "mean_float64": (_mean("return x.astype(np.float64).mean(axis=0)"), "dtype",
                     ("test_batch_mean", "test_batch_mean_hidden", "test_batchnorm_forward", "test_batchnorm_forward_hidden")),
    "mean_in_place": (_mean("x -= 0\nx[0] = x[0]\nx /= 1.0\nx[:] = x.mean(axis=0)\nreturn x[0].copy()"), "in place",
                      MEAN_ALL),
    "variance_in_place_on_a_large_mean": (
        _var("if abs(float(x.mean())) > 1e3:\n    x -= x.mean(axis=0)\nmean = x.mean(axis=0)\nreturn ((x - mean) ** 2).mean(axis=0)"),
        "in place", ("test_batch_variance_hidden", "test_batchnorm_forward_hidden")),
    "forward_plain_tuple_cache": (
        {"batchnorm_forward": ("def batchnorm_forward(x, gamma, beta, eps=1e-5):\n"
                               "    mean, var = x.mean(axis=0), x.var(axis=0)\n"
                               "    x_hat = (x - mean) / np.sqrt(var + eps)\n"
                               "    return gamma * x_hat + beta, (x, x_hat, mean, var, 1 / np.sqrt(var + eps), gamma, beta, eps)\n")},
        "a plain tuple has no field names", FORWARD_TESTS),
    "mean_calls_reference": ({"batch_mean": "from bn_helpers.numerics import batch_mean\n"}, "reference code",
                             ("test_batch_mean_hidden", "test_batchnorm_forward_hidden", "test_undo_params_hidden")),
    # batch_variance (batchnorm_forward and undo_params of the solution call it)
    "variance_is_std": (_var("return x.std(axis=0)"), "standard deviation", VAR_ALL),
    "variance_not_centred": (_var("return (x ** 2).mean(axis=0)"), "subtract the mean", VAR_ALL),
    "variance_is_sum": (_var("return ((x - x.mean(axis=0)) ** 2).sum(axis=0)"), "sum of squared", VAR_ALL),
    "variance_mean_abs_dev": (_var("return np.abs(x - x.mean(axis=0)).mean(axis=0)"), "mean absolute deviation",
                              VAR_ALL),
    "variance_sign_flipped": (_var("return x.mean(axis=0) ** 2 - (x ** 2).mean(axis=0)"), "sign is flipped", VAR_ALL),
    "variance_global_mean": (_var("return ((x - x.mean()) ** 2).mean(axis=0)"), "one mean of the whole array",
                             VAR_ALL),
    "variance_squared_deviations": (_var("return (x - x.mean(axis=0)) ** 2"), "before averaging", VAR_ALL),
    "variance_square_of_mean_deviation": (_var("return (x - x.mean(axis=0)).mean(axis=0) ** 2"), "square first",
                                          VAR_ALL),
    # batchnorm_forward
    "eps_squared": (_forward("x_hat = (x - mean) / np.sqrt(var + eps ** 2)\nout = gamma * x_hat + beta"),
                    "eps squared", FORWARD_TESTS),
    "no_eps": (_forward("x_hat = (x - mean) / np.sqrt(var)\nout = gamma * x_hat + beta"), "eps argument",
               FORWARD_TESTS),
    "beta_before_gamma": (_forward("x_hat = (x - mean) / np.sqrt(var + eps)\nout = gamma * (x_hat + beta)"),
                          "before scaling", FORWARD_TESTS),
    "no_scale_and_shift": (_forward("x_hat = (x - mean) / np.sqrt(var + eps)\nout = x_hat"), "without scale and shift",
                           FORWARD_TESTS),
    "not_centred": (_forward("x_hat = x / np.sqrt(var + eps)\nout = gamma * x_hat + beta"), "did not subtract",
                    FORWARD_TESTS),
    "variance_of_uncentred_x": (
        _forward("var = (x ** 2).mean(axis=0)\nx_hat = (x - mean) / np.sqrt(var + eps)\nout = gamma * x_hat + beta"),
        "mean(x**2)", FORWARD_TESTS),
    "not_divided": (_forward("x_hat = x - mean\nout = gamma * x_hat + beta"), "did not divide", FORWARD_TESTS),
    "global_statistics": (
        _forward("m0, v0 = x.mean(), x.var()\nx_hat = (x - m0) / np.sqrt(v0 + eps)\nout = gamma * x_hat + beta"),
        "whole array", FORWARD_TESTS),
    "cache_out_swapped": (
        {"batchnorm_forward": _FORWARD.format(body="x_hat = (x - mean) / np.sqrt(var + eps)\n    out = gamma * x_hat + beta")
         .replace("return out, BatchNormCache(", "return BatchNormCache(").replace(", eps)\n", ", eps), out\n")},
        "(cache, out)", FORWARD_TESTS),
    "returns_out_only": (
        {"batchnorm_forward": "def batchnorm_forward(x, gamma, beta, eps=1e-5):\n"
                              "    return gamma * (x - x.mean(0)) / np.sqrt(x.var(0) + eps) + beta\n"},
        "pair (out, cache)", FORWARD_TESTS),
    "cache_unbiased_var": (
        {"batchnorm_forward": _FORWARD.format(body="x_hat = (x - mean) / np.sqrt(var + eps)\n    out = gamma * x_hat + beta")
         .replace("BatchNormCache(x, x_hat, mean, var,", "BatchNormCache(x, x_hat, mean, x.var(axis=0, ddof=1),")},
        "cache.var is the unbiased", FORWARD_TESTS),
    "cache_inv_std_is_std": (
        {"batchnorm_forward": _FORWARD.format(body="x_hat = (x - mean) / np.sqrt(var + eps)\n    out = gamma * x_hat + beta")
         .replace("1 / np.sqrt(var + eps), gamma", "np.sqrt(var + eps), gamma")},
        "store its inverse", FORWARD_TESTS),
    "cache_x_hat_is_out": (
        {"batchnorm_forward": _FORWARD.format(body="x_hat = (x - mean) / np.sqrt(var + eps)\n    out = gamma * x_hat + beta")
         .replace("BatchNormCache(x, x_hat,", "BatchNormCache(x, out,")},
        "cache.x_hat holds the output", FORWARD_TESTS),
    "cache_keepdims": (
        _forward("mean = x.mean(axis=0, keepdims=True)\nvar = x.var(axis=0, keepdims=True)\n"
                 "x_hat = (x - mean) / np.sqrt(var + eps)\nout = gamma * x_hat + beta"),
        "keepdims", FORWARD_TESTS),
    "forward_float64": (
        _forward("x_hat = (x - mean) / np.sqrt(var + eps)\nout = (gamma * x_hat + beta).astype(np.float64)"),
        "dtype", ("test_batchnorm_forward", "test_batchnorm_forward_hidden")),
    # undo_params
    "undo_inverse_std": (_undo("return 1 / np.sqrt(x.var(axis=0) + eps), x.mean(axis=0)"), "1 / sqrt(var + eps)",
                         UNDO_TESTS),
    "undo_eps_outside_root": (_undo("return x.std(axis=0) + eps, x.mean(axis=0)"), "eps outside the root", UNDO_TESTS),
    "undo_variance": (_undo("return x.var(axis=0) + eps, x.mean(axis=0)"), "is the variance", UNDO_TESTS),
    "undo_unbiased": (_undo("return np.sqrt(x.var(axis=0, ddof=1) + eps), x.mean(axis=0)"), "N-1", UNDO_TESTS),
    "undo_swapped": (_undo("return x.mean(axis=0), np.sqrt(x.var(axis=0) + eps)"), "swapped", UNDO_TESTS),
    "undo_minus_mean": (_undo("return np.sqrt(x.var(axis=0) + eps), -x.mean(axis=0)"), "minus the mean", UNDO_TESTS),
    "undo_scaled_mean": (
        _undo("s = np.sqrt(x.var(axis=0) + eps)\nreturn s, x.mean(axis=0) / s"), "mean / sqrt(var + eps)", UNDO_TESTS),
    "undo_keepdims": (_undo("return np.sqrt(x.var(axis=0, keepdims=True) + eps), x.mean(axis=0, keepdims=True)"),
                      "keepdims", UNDO_TESTS),
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
