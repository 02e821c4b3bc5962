"""Grading cases of 03_backward: other correct solutions, known mistakes, hostile submissions.

Same names as ``cases_02_forward.py`` (see its docstring). The two graded
functions are independent (the compact one does not call the staged one), so
a mistake in one loses only that function's test cells.
"""
import numpy as np

from bn_helpers.numerics import BatchNormCache, batchnorm_forward

ASSIGNMENT = "03_backward"
#: What the notebook's setup cell gives the solution cells.
NAMESPACE = {"np": np, "BatchNormCache": BatchNormCache, "batchnorm_forward": batchnorm_forward}

STAGED = ("test_batchnorm_backward", "test_batchnorm_backward_hidden")
#: A wrong compact backward also loses the training run of Section 5.1 (its gradient check fails).
COMPACT = ("test_batchnorm_backward_compact", "test_batchnorm_backward_compact_hidden",
           "test_batchnorm_backward_compact_training")

_STAGED = '''
def batchnorm_backward(dout, cache):
    {read}
    n = x.shape[0]
    centered = x - mean
    x_hat = centered * inv_std
    dbeta = {dbeta}
    dgamma = {dgamma}
    {dx_hat}
    dcentered = dx_hat * inv_std
    dinv_std = (dx_hat * centered).sum(axis=0)
    dvar = -0.5 * inv_std**3 * dinv_std
    {var_path}
    dmean = -dcentered.sum(axis=0)
    dx = {dx}
    return {ret}
'''
_STAGED_DEFAULTS = dict(
    read="x, mean, inv_std, gamma = cache.x, cache.mean, cache.inv_std, cache.gamma",
    dbeta="dout.sum(axis=0)", dgamma="(dout * x_hat).sum(axis=0)", dx_hat="dx_hat = dout * gamma",
    var_path="dcentered = dcentered + dvar * 2 * centered / n", dx="dcentered + dmean / n",
    ret="dx, dgamma, dbeta")


def _staged(**changes) -> dict[str, str]:
    return {"batchnorm_backward": _STAGED.format(**{**_STAGED_DEFAULTS, **changes})}


_COMPACT = '''
def batchnorm_backward_compact(dout, cache):
    x_hat, inv_std = cache.x_hat, cache.inv_std
    n = dout.shape[0]
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    g = {g}
    dx = {dx}
    return {ret}
'''
_COMPACT_DEFAULTS = dict(g="dout * cache.gamma",
                         dx="inv_std / n * (n * g - g.sum(axis=0) - x_hat * (g * x_hat).sum(axis=0))",
                         ret="dx, dgamma, dbeta")


def _compact(**changes) -> dict[str, str]:
    return {"batchnorm_backward_compact": _COMPACT.format(**{**_COMPACT_DEFAULTS, **changes})}


MISTAKES = {
    "no_mean_path": (_staged(dx="dcentered"), "mean path", STAGED),
    "no_variance_path": (_staged(var_path="pass"), "variance path", STAGED),
    "dgamma_without_x_hat": (_staged(dgamma="dout.sum(axis=0)"), "dgamma without x_hat", STAGED),
    "sums_over_axis_1": (_staged(dbeta="dout.sum(axis=1)", dgamma="(dout * x_hat).sum(axis=1)"),
                         "wrong axis", STAGED),
    "reads_cache_by_position": (
        _staged(read="x, x_hat_cached, mean, var, inv_std, gamma, beta, eps = cache"), "by position", STAGED),
    "own_cache_layout": (_staged(read="x, mean, inv_std, gamma = cache"), "named fields", STAGED),
    "dict_cache": (_staged(read="x, mean, inv_std, gamma = cache['x'], cache['mean'], cache['inv_std'], cache['gamma']"),
                   "named fields", STAGED),
    "dx_wrong_shape": (_staged(ret="dx.sum(axis=0), dgamma, dbeta"), "shape", STAGED),
    "dout_in_place": (_staged(dx_hat="dout *= gamma\n    dx_hat = dout"), "in place", STAGED),
    "compact_no_variance_path": (
        _compact(dx="inv_std / n * (n * g - g.sum(axis=0))"), "variance path", COMPACT),
    "compact_no_mean_path": (
        _compact(dx="inv_std / n * (n * g - x_hat * (g * x_hat).sum(axis=0))"), "mean path", COMPACT),
    "compact_forgot_gamma": (_compact(g="dout"), "forgot gamma", COMPACT),
    "compact_no_division_by_n": (
        _compact(dx="inv_std * (n * g - g.sum(axis=0) - x_hat * (g * x_hat).sum(axis=0))"), "divide by N", COMPACT),
    "compact_swapped_dgamma_dbeta": (_compact(ret="dx, dbeta, dgamma"), "swapped", COMPACT),
    # float64 back for float32 in: the training run (float64 data) does not see it
    "compact_float64": (_compact(ret="dx.astype(np.float64), dgamma, dbeta"), "dtype", COMPACT[:2]),
    # dgamma and dbeta
    "dgamma_mean": (_staged(dgamma="(dout * x_hat).mean(axis=0)"), "MEAN", STAGED),
    "dbeta_mean": (_staged(dbeta="dout.mean(axis=0)"), "MEAN", STAGED),
    "dgamma_times_gamma": (_staged(dgamma="(dout * x_hat).sum(axis=0) * gamma"), "multiplied by gamma", STAGED),
    "dgamma_uses_x": (_staged(dgamma="(dout * x).sum(axis=0)"), "x instead of x_hat", STAGED),
    "dgamma_uses_centered": (_staged(dgamma="(dout * centered).sum(axis=0)"), "x - mean instead of x_hat", STAGED),
    "dbeta_times_gamma": (_staged(dbeta="dout.sum(axis=0) * gamma"), "dbeta is multiplied by gamma", STAGED),
    "swapped_dgamma_dbeta": (_staged(ret="dx, dbeta, dgamma"), "swapped", STAGED),
    "dgamma_keepdims": (_staged(dgamma="(dout * x_hat).sum(axis=0, keepdims=True)"), "keepdims", STAGED),
    # the variance path
    "variance_path_sign": (_staged(var_path="dvar = -dvar\n    dcentered = dcentered + dvar * 2 * centered / n"),
                           "variance path has the wrong sign", STAGED),
    "variance_path_no_half": (_staged(var_path="dcentered = dcentered + 2 * dvar * 2 * centered / n"),
                              "twice too large", STAGED),
    "variance_path_no_two": (_staged(var_path="dcentered = dcentered + dvar * centered / n"), "half", STAGED),
    "variance_path_inv_std_squared": (
        _staged(var_path="dvar = -0.5 * inv_std**2 * dinv_std\n    dcentered = dcentered + dvar * 2 * centered / n"),
        "inv_std**2", STAGED),
    "variance_path_n_squared": (_staged(var_path="dcentered = dcentered + dvar * 2 * centered / n / n"),
                                "divided by N twice", STAGED),
    "variance_path_uses_x": (
        _staged(var_path="dinv_std = (dx_hat * x).sum(axis=0)\n    dvar = -0.5 * inv_std**3 * dinv_std\n"
                         "    dcentered = dx_hat * inv_std + dvar * 2 * x / n"), "uses x where", STAGED),
    # the mean path and the rest
    "mean_path_sign": (_staged(dx="dcentered - dmean / n"), "mean path has the wrong sign", STAGED),
    "dmean_not_divided": (_staged(dx="dcentered + dmean"), "not divided by N", STAGED),
    "dx_divided_twice": (_staged(dx="(dcentered + dmean / n) / n"), "divided by N twice", STAGED),
    "std_without_eps": (_staged(read="x, mean, gamma = cache.x, cache.mean, cache.gamma\n"
                                     "    inv_std = 1 / np.sqrt(cache.var)"), "without eps", STAGED),
    "staged_forgot_gamma": (_staged(dx_hat="dx_hat = dout"), "forgot gamma", STAGED),
    "diagonal_only": (_staged(dx="dout * gamma * inv_std * (1 - 1 / n - x_hat ** 2 / n)"), "diagonal", STAGED),
    "cache_in_place": (_staged(read="x, mean, inv_std, gamma = cache.x, cache.mean, cache.inv_std, cache.gamma\n"
                                    "    x -= mean\n    x += mean"), "changed cache.x in place", STAGED),
    "staged_float64": (_staged(ret="dx.astype(np.float64), dgamma, dbeta"), "dtype", STAGED),
    # compact: the miss, "walk the graph node by node" for the compact form
    "compact_variance_sign": (_compact(dx="inv_std / n * (n * g - g.sum(axis=0) + x_hat * (g * x_hat).sum(axis=0))"),
                              "variance path has the wrong sign", COMPACT),
    "compact_mean_sign": (_compact(dx="inv_std / n * (n * g + g.sum(axis=0) - x_hat * (g * x_hat).sum(axis=0))"),
                          "mean path has the wrong sign", COMPACT),
    "compact_no_inv_std": (_compact(dx="1 / n * (n * g - g.sum(axis=0) - x_hat * (g * x_hat).sum(axis=0))"),
                           "lacks the factor inv_std", COMPACT),
    "compact_dgamma_mean": ({"batchnorm_backward_compact": _COMPACT.format(**_COMPACT_DEFAULTS).replace(
        "dgamma = (dout * x_hat).sum(axis=0)", "dgamma = (dout * x_hat).mean(axis=0)")}, "MEAN", COMPACT),
    "compact_diagonal_only": (_compact(dx="g * inv_std * (1 - 1 / n - x_hat ** 2 / n)"), "diagonal", COMPACT),
    "compact_mean_term_off": (
        _compact(dx="inv_std / n * (n * g - 0.9 * g.sum(axis=0) - x_hat * (g * x_hat).sum(axis=0))"),
        "does not sum to zero", COMPACT),
    "compact_variance_term_off": (
        _compact(dx="inv_std / n * (n * g - g.sum(axis=0) - 0.9 * x_hat * (g * x_hat).sum(axis=0))"),
        "not orthogonal to x_hat", COMPACT),
    "compact_variance_term_uses_x": (
        _compact(dx="inv_std / n * (n * g - g.sum(axis=0) - x_hat * (g * cache.x).sum(axis=0))"),
        "uses x where the closed form has x_hat", COMPACT),
    "compact_gamma_twice": (
        _compact(dx="cache.gamma * inv_std / n * (n * g - g.sum(axis=0) - x_hat * (g * x_hat).sum(axis=0))"),
        "factor per feature", COMPACT),
    "calls_reference": (
        {"batchnorm_backward_compact": (
            "def batchnorm_backward_compact(dout, cache):\n"
            "    from bn_helpers import norms\n"
            "    same = BatchNormCache(*(getattr(cache, f) for f in BatchNormCache._fields))\n"
            "    return norms.batchnorm_backward_compact(dout, same)\n")},
        "reference code", ("test_batchnorm_backward_compact_hidden", "test_batchnorm_backward_compact_training")),
}


ALTERNATIVES = {
    "cs231n-style staged graph and means in the compact form": {
        "batchnorm_backward": (
            "def batchnorm_backward(dout, cache):\n"
            "    N = dout.shape[0]\n"
            "    xmu = cache.x - cache.mean\n"
            "    sqrtvar = np.sqrt(cache.var + cache.eps)\n"
            "    ivar = 1.0 / sqrtvar\n"
            "    xhat = xmu * ivar\n"
            "    dbeta = np.sum(dout, axis=0)\n"
            "    dgamma = np.sum(dout * xhat, axis=0)\n"
            "    dxhat = dout * cache.gamma\n"
            "    divar = np.sum(dxhat * xmu, axis=0)\n"
            "    dxmu1 = dxhat * ivar\n"
            "    dsqrtvar = -1.0 / (sqrtvar ** 2) * divar\n"
            "    dvar = 0.5 * ivar * dsqrtvar\n"
            "    dsq = 1.0 / N * np.ones_like(dout) * dvar\n"
            "    dxmu2 = 2 * xmu * dsq\n"
            "    dmu = -1 * np.sum(dxmu1 + dxmu2, axis=0)\n"
            "    dx2 = 1.0 / N * np.ones_like(dout) * dmu\n"
            "    return dxmu1 + dxmu2 + dx2, dgamma, dbeta\n"),
        "batchnorm_backward_compact": (
            "def batchnorm_backward_compact(dout, cache):\n"
            "    g = dout * cache.gamma\n"
            "    dx = cache.inv_std * (g - g.mean(axis=0) - cache.x_hat * (g * cache.x_hat).mean(axis=0))\n"
            "    return dx, (dout * cache.x_hat).sum(0), dout.sum(0)\n"),
    },
    "einsum, keepdims and a list": {
        "batchnorm_backward": (
            "def batchnorm_backward(dout, cache):\n"
            "    n = len(dout)\n"
            "    c = cache.x - cache.mean[None, :]\n"
            "    s = cache.inv_std[None, :]\n"
            "    dxh = dout * cache.gamma\n"
            "    dvar = np.einsum('nd,nd->d', dxh, c)[None, :] * -0.5 * s ** 3\n"
            "    dc = dxh * s + dvar * 2.0 * c / n\n"
            "    dx = dc - dc.sum(axis=0, keepdims=True) / n\n"
            "    return [dx, np.einsum('nd,nd->d', dout, c * s), dout.sum(axis=0)]\n"),
        "batchnorm_backward_compact": (
            "def batchnorm_backward_compact(dout, cache):\n"
            "    n = dout.shape[0]\n"
            "    xh = cache.x_hat\n"
            "    dgamma = np.einsum('nd,nd->d', dout, xh)\n"
            "    dbeta = np.einsum('nd->d', dout)\n"
            "    dx = (cache.gamma * cache.inv_std / n) * (n * dout - dbeta - xh * dgamma)\n"
            "    return dx, dgamma, dbeta\n"),
    },
}

#: A graded function that never returns, and the test cells it must lose (and only those).
LOOP = ({"batchnorm_backward_compact": "def batchnorm_backward_compact(dout, cache):\n    while True:\n        pass\n"},
        COMPACT)
#: A mistake whose test cells the student deleted, and which cells were deleted.
DELETE = ("no_mean_path", (*STAGED, "test_batchnorm_backward_compact"))

#: The mistake also graded through real nbgrader (tests/test_grading.py), beside the sample class's;
#: every mistake is graded through the same checks in tests/test_checks.py, which is what a test cell runs.
NBGRADER_MISTAKES = ['own_cache_layout']
