"""Grading cases of 07_beyond_batchnorm: other correct solutions, known mistakes, hostile submissions.

Same names as cases_02_forward.py. The three graded functions do not call each
other (rmsnorm_backward is checked with the reference's cache), so a mistake in
one loses exactly that function's test cells. The written answer is graded by
hand and is not part of these cases.
"""
import numpy as np

from bn_helpers.rmsnorm import RMSNormCache

ASSIGNMENT = "07_beyond_batchnorm"
#: What the notebook's setup cell gives the solution cells (it defines RMSNormCache with the same fields).
NAMESPACE = {"np": np, "RMSNormCache": RMSNormCache}

NB, RF, RB = "normalize_backward", "rmsnorm_forward", "rmsnorm_backward"


def _tests(name: str) -> tuple[str, str]:
    return (f"test_{name}", f"test_{name}_hidden")


_NB = '''
def normalize_backward(dx_hat, x_hat, inv_std, axes):
    mean_g = {mean_g}
    mean_gx = {mean_gx}
    return {ret}
'''
_MEAN_G = "dx_hat.mean(axis=axes, keepdims=True)"
_MEAN_GX = "(dx_hat * x_hat).mean(axis=axes, keepdims=True)"
_RET = "inv_std * (dx_hat - mean_g - x_hat * mean_gx)"


def _nb(mean_g=_MEAN_G, mean_gx=_MEAN_GX, ret=_RET) -> dict[str, str]:
    return {NB: _NB.format(mean_g=mean_g, mean_gx=mean_gx, ret=ret).lstrip("\n")}


_RF = '''
def rmsnorm_forward(x, gamma, eps=1e-5):
    inv_rms = {inv}
    x_hat = {x_hat}
    return {out}, RMSNormCache(x, x_hat, inv_rms, gamma, eps)
'''
_INV = "1.0 / np.sqrt((x * x).mean(axis=-1, keepdims=True) + eps)"


def _rf(inv=_INV, x_hat="x * inv_rms", out="gamma * x_hat") -> dict[str, str]:
    return {RF: _RF.format(inv=inv, x_hat=x_hat, out=out).lstrip("\n")}


_RB = '''
def rmsnorm_backward(dout, cache):
    dx_hat = {dx_hat}
    mean_gx = {mean_gx}
    dx = {dx}
    dgamma = {dgamma}
    return dx, dgamma
'''
_RB_MEAN = "(dx_hat * cache.x_hat).mean(axis=-1, keepdims=True)"
_RB_DX = "cache.inv_rms * (dx_hat - cache.x_hat * mean_gx)"
_RB_DG = "(dout * cache.x_hat).reshape(-1, dout.shape[-1]).sum(axis=0)"


def _rb(dx_hat="dout * cache.gamma", mean_gx=_RB_MEAN, dx=_RB_DX, dgamma=_RB_DG) -> dict[str, str]:
    return {RB: _RB.format(dx_hat=dx_hat, mean_gx=mean_gx, dx=dx, dgamma=dgamma).lstrip("\n")}


_CENTERED = "(x - x.mean(axis=-1, keepdims=True))"

MISTAKES = {
    # one backward for every normalization
    "nb_no_mean_term": (_nb(ret="inv_std * (dx_hat - x_hat * mean_gx)"), "left out the mean term", _tests(NB)),
    "nb_no_xhat_term": (_nb(ret="inv_std * (dx_hat - mean_g)"), "left out the x_hat term", _tests(NB)),
    "nb_no_terms": (_nb(ret="inv_std * dx_hat"), "left out both", _tests(NB)),
    "nb_mean_sign": (_nb(ret="inv_std * (dx_hat + mean_g - x_hat * mean_gx)"), "wrong sign", _tests(NB)),
    "nb_axis0": (_nb(mean_g="dx_hat.mean(axis=0, keepdims=True)", mean_gx="(dx_hat * x_hat).mean(axis=0, keepdims=True)"),
                 "axis 0 only", _tests(NB)),
    "nb_whole_array": (_nb(mean_g="dx_hat.mean()", mean_gx="(dx_hat * x_hat).mean()"), "whole array", _tests(NB)),
    "nb_last_axis": (_nb(mean_g="dx_hat.mean(axis=-1, keepdims=True)",
                         mean_gx="(dx_hat * x_hat).mean(axis=-1, keepdims=True)"), "last axis only", _tests(NB)),
    "nb_no_keepdims": (_nb(mean_g="dx_hat.mean(axis=axes)", mean_gx="(dx_hat * x_hat).mean(axis=axes)"),
                       "keepdims", _tests(NB)),
    "nb_sums_not_means": (_nb(mean_g="dx_hat.sum(axis=axes, keepdims=True)",
                              mean_gx="(dx_hat * x_hat).sum(axis=axes, keepdims=True)"), "summed where", _tests(NB)),
    "nb_m_is_batch_size": (_nb(mean_g="dx_hat.sum(axis=axes, keepdims=True) / x_hat.shape[0]",
                               mean_gx="(dx_hat * x_hat).sum(axis=axes, keepdims=True) / x_hat.shape[0]"),
                           "the batch size", _tests(NB)),
    "nb_no_inv_std": (_nb(ret="dx_hat - mean_g - x_hat * mean_gx"), "lacks the factor inv_std", _tests(NB)),
    "nb_float64_output": (_nb(ret="(inv_std * (dx_hat - mean_g - x_hat * mean_gx)).astype(np.float64)"), "dtype",
                          _tests(NB)),
    "nb_m_minus_1": (_nb(mean_g="dx_hat.sum(axis=axes, keepdims=True) / (np.prod([x_hat.shape[a] for a in axes]) - 1)",
                         mean_gx="(dx_hat * x_hat).sum(axis=axes, keepdims=True) / "
                                 "(np.prod([x_hat.shape[a] for a in axes]) - 1)"), "M - 1", _tests(NB)),
    "nb_in_place": (
        {NB: ("def normalize_backward(dx_hat, x_hat, inv_std, axes):\n"
              "    mean_gx = (dx_hat * x_hat).mean(axis=axes, keepdims=True)\n"
              "    dx_hat -= dx_hat.mean(axis=axes, keepdims=True) + x_hat * mean_gx\n"
              "    return inv_std * dx_hat\n")}, "in place", _tests(NB)),
    "nb_calls_reference": (
        {NB: ("def normalize_backward(dx_hat, x_hat, inv_std, axes):\n"
              "    from bn_helpers import norms\n"
              "    return norms.normalize_backward(dx_hat, x_hat, inv_std, axes)\n")},
        "reference code", ("test_normalize_backward_hidden",)),
    # RMSNorm forward
    "rf_subtracts_mean": (_rf(inv=f"1.0 / np.sqrt(({_CENTERED} ** 2).mean(axis=-1, keepdims=True) + eps)",
                              x_hat=f"{_CENTERED} * inv_rms"), "subtracted the mean", _tests(RF)),
    "rf_std_not_rms": (_rf(inv="1.0 / np.sqrt(x.var(axis=-1, keepdims=True) + eps)"), "standard deviation", _tests(RF)),
    "rf_eps_outside_root": (_rf(inv="1.0 / (np.sqrt((x * x).mean(axis=-1, keepdims=True)) + eps)"),
                            "eps sits outside", _tests(RF)),
    "rf_no_eps": (_rf(inv="1.0 / np.sqrt((x * x).mean(axis=-1, keepdims=True))"), "ignored eps", _tests(RF)),
    "rf_no_root": (_rf(inv="1.0 / ((x * x).mean(axis=-1, keepdims=True) + eps)"), "without the square root", _tests(RF)),
    "rf_sum_of_squares": (_rf(inv="1.0 / np.sqrt((x * x).sum(axis=-1, keepdims=True) + eps)"), "sum of squares",
                          _tests(RF)),
    "rf_batch_axis": (_rf(inv="1.0 / np.sqrt((x * x).mean(axis=0, keepdims=True) + eps)"), "axis 0", _tests(RF)),
    "rf_no_keepdims": (_rf(inv="1.0 / np.sqrt((x * x).mean(axis=-1) + eps)"), "keepdims=True", _tests(RF)),
    "rf_no_gamma": (_rf(out="x_hat"), "forgot gamma", _tests(RF)),
    "rf_float64_output": (_rf(out="(gamma * x_hat).astype(np.float64)"), "dtype", _tests(RF)),
    "rf_d_minus_1": (_rf(inv="1.0 / np.sqrt((x * x).sum(axis=-1, keepdims=True) / (x.shape[-1] - 1) + eps)"), "D - 1",
                     _tests(RF)),
    "rf_axis_1": (_rf(inv="1.0 / np.sqrt((x * x).mean(axis=1, keepdims=True) + eps)"), "axis 1", _tests(RF)),
    "rf_inv_rms_flat": (
        {RF: ("def rmsnorm_forward(x, gamma, eps=1e-5):\n"
              "    inv_rms = 1.0 / np.sqrt((x * x).mean(axis=-1) + eps)\n"
              "    x_hat = x * inv_rms[..., None]\n"
              "    return gamma * x_hat, RMSNormCache(x, x_hat, inv_rms, gamma, eps)\n")}, "(..., 1)", _tests(RF)),
    "rf_plain_tuple_cache": (_rf(out="gamma * x_hat, (x, x_hat, inv_rms, gamma, eps)\n    return None"),
                             "no field names", _tests(RF)),
    "rf_calls_reference": (
        {RF: ("def rmsnorm_forward(x, gamma, eps=1e-5):\n"
              "    from bn_helpers.rmsnorm import rmsnorm_forward as reference\n"
              "    return reference(x, gamma, eps)\n")}, "reference code", ("test_rmsnorm_forward_hidden",)),
    # RMSNorm backward
    "rb_no_rms_path": (_rb(dx="cache.inv_rms * dx_hat"), "path through the RMS", _tests(RB)),
    "rb_layernorm_backward": (
        _rb(dx="cache.inv_rms * (dx_hat - dx_hat.mean(axis=-1, keepdims=True) - cache.x_hat * mean_gx)"),
        "layer-norm backward", _tests(RB)),
    "rb_sign": (_rb(dx="cache.inv_rms * (dx_hat + cache.x_hat * mean_gx)"), "wrong sign", _tests(RB)),
    "rb_sum_not_mean": (_rb(mean_gx="(dx_hat * cache.x_hat).sum(axis=-1, keepdims=True)"), "summed where", _tests(RB)),
    "rb_no_gamma": (_rb(dx_hat="dout"), "forgot gamma", _tests(RB)),
    "rb_d_from_shape0": (_rb(mean_gx="(dx_hat * cache.x_hat).sum(axis=-1, keepdims=True) / dout.shape[0]"),
                         "x.shape[0]", _tests(RB)),
    "rb_no_inv_rms": (_rb(dx="dx_hat - cache.x_hat * mean_gx"), "lacks the factor inv_rms", _tests(RB)),
    "rb_dgamma_axis0": (_rb(dgamma="(dout * cache.x_hat).sum(axis=0)"), "summed over axis 0 only", _tests(RB)),
    "rb_dgamma_last_axis": (_rb(dgamma="(dout * cache.x_hat).sum(axis=-1)"), "summed over the last axis", _tests(RB)),
    "rb_dgamma_no_xhat": (_rb(dgamma="dout.reshape(-1, dout.shape[-1]).sum(axis=0)"), "without x_hat", _tests(RB)),
    "rb_dgamma_mean": (_rb(dgamma="(dout * cache.x_hat).reshape(-1, dout.shape[-1]).mean(axis=0)"), "MEAN",
                       _tests(RB)),
}


ALTERNATIVES = {
    "explicit sums and M, 1 / rms, r**3 * x, einsum for dgamma": {
        NB: ("def normalize_backward(dx_hat, x_hat, inv_std, axes):\n"
             "    m = 1\n"
             "    for a in axes:\n"
             "        m *= x_hat.shape[a]\n"
             "    s1 = np.sum(dx_hat, axis=axes, keepdims=True)\n"
             "    s2 = np.sum(dx_hat * x_hat, axis=axes, keepdims=True)\n"
             "    return inv_std / m * (m * dx_hat - s1 - x_hat * s2)\n"),
        RF: ("def rmsnorm_forward(x, gamma, eps=1e-5):\n"
             "    rms = np.sqrt(np.mean(np.square(x), axis=-1, keepdims=True) + eps)\n"
             "    x_hat = x / rms\n"
             "    return x_hat * gamma, RMSNormCache(x=x, x_hat=x_hat, inv_rms=1 / rms, gamma=gamma, eps=eps)\n"),
        RB: ("def rmsnorm_backward(dout, cache):\n"
             "    d = dout.shape[-1]\n"
             "    g = dout * cache.gamma\n"
             "    r = cache.inv_rms\n"
             "    dx = r * g - r ** 3 * cache.x * np.sum(g * cache.x, axis=-1, keepdims=True) / d\n"
             "    dgamma = np.einsum('nd,nd->d', dout.reshape(-1, d), cache.x_hat.reshape(-1, d))\n"
             "    return dx, dgamma\n"),
    },
    "moved axes and flat groups, float64 accumulation cast back": {
        NB: ("def normalize_backward(dx_hat, x_hat, inv_std, axes):\n"
             "    keep = [a for a in range(x_hat.ndim) if a not in axes]\n"
             "    order = keep + list(axes)\n"
             "    g = np.transpose(dx_hat, order).astype(np.float64)\n"
             "    xh = np.transpose(x_hat, order).astype(np.float64)\n"
             "    flat_g, flat_x = g.reshape(g.shape[:len(keep)] + (-1,)), xh.reshape(g.shape[:len(keep)] + (-1,))\n"
             "    dx = flat_g - flat_g.mean(-1, keepdims=True) - flat_x * (flat_g * flat_x).mean(-1, keepdims=True)\n"
             "    dx = np.transpose(dx.reshape(g.shape), np.argsort(order)) * inv_std\n"
             "    return dx.astype(x_hat.dtype)\n"),
        RF: ("def rmsnorm_forward(x, gamma, eps=1e-5):\n"
             "    x64 = x.astype(np.float64)\n"
             "    inv_rms = (1 / np.sqrt(np.einsum('...d,...d->...', x64, x64)[..., None] / x.shape[-1] + eps)).astype(x.dtype)\n"
             "    x_hat = x * inv_rms\n"
             "    return (gamma * x_hat).astype(x.dtype), RMSNormCache(x, x_hat, inv_rms, gamma, eps)\n"),
        RB: ("def rmsnorm_backward(dout, cache):\n"
             "    x_hat, inv_rms = cache.x_hat, cache.inv_rms\n"
             "    g = dout * cache.gamma\n"
             "    proj = (g * x_hat).sum(axis=-1, keepdims=True) / x_hat.shape[-1]\n"
             "    dgamma = (dout * x_hat).sum(axis=tuple(range(dout.ndim - 1)))\n"
             "    return inv_rms * (g - x_hat * proj), dgamma\n"),
    },
}

#: A graded function that never returns, and the test cells it must lose (and only those).
LOOP = ({NB: "def normalize_backward(dx_hat, x_hat, inv_std, axes):\n    while True:\n        pass\n"}, _tests(NB))
#: A mistake whose test cells the student deleted, and which cells were deleted.
DELETE = ("rb_no_rms_path", (*_tests(RB), "test_normalize_backward"))

#: The mistake also graded through real nbgrader (tests/test_grading.py), beside the sample class's;
#: every mistake is graded through the same checks in tests/test_checks.py, which is what a test cell runs.
NBGRADER_MISTAKES = ["rb_dgamma_axis0"]
