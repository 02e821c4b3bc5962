"""Grading cases of 05_variants: other correct solutions, known mistakes, hostile submissions.

Every ``cases_<assignment>.py`` module offers the same names (see
cases_02_forward.py). The five graded functions do not call each other, so a
mistake in one loses exactly that function's test cells.
"""
import numpy as np

ASSIGNMENT = "05_variants"
#: What the notebook's setup cell gives the solution cells.
NAMESPACE = {"np": np}


def _tests(name: str) -> tuple[str, str]:
    return (f"test_{name}", f"test_{name}_hidden")


SBN, LN, IN, GN, BRN = ("spatial_batchnorm_forward", "layernorm_forward", "instancenorm_forward",
                        "groupnorm_forward", "batch_renorm_forward")

_PER_AXES = '''
def {name}(x, gamma, beta, eps=1e-5):
    axes = {axes}
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True{ddof})
    x_hat = (x - mean) / {denom}
    shape = (1, -1) + (1,) * (x.ndim - 2)
    return gamma.reshape(shape) * x_hat + beta.reshape(shape)
'''


def _per_axes(name, axes, ddof="", denom="np.sqrt(var + eps)"):
    return {name: _PER_AXES.format(name=name, axes=axes, ddof=ddof, denom=denom).lstrip("\n")}


_GN = '''
def groupnorm_forward(x, gamma, beta, G, eps=1e-5):
    n, c, h, w = x.shape
    xg = x.reshape({view})
    mean = xg.mean(axis={axes}, keepdims=True)
    var = xg.var(axis={axes}, keepdims=True{ddof})
    x_hat = ((xg - mean) / np.sqrt(var + eps)).reshape(n, c, h, w)
    return gamma.reshape(1, -1, 1, 1) * x_hat + beta.reshape(1, -1, 1, 1){cast}
'''


def _gn(view="n, G, c // G, h, w", axes="(2, 3, 4)", ddof="", cast=""):
    return {GN: _GN.format(view=view, axes=axes, ddof=ddof, cast=cast).lstrip("\n")}


_BRN = '''
def batch_renorm_forward(x, gamma, beta, running_mean, running_var, r_max, d_max, eps=1e-5):
    mean = x.mean(axis=0)
    sigma_b = {sigma_b}
    sigma = {sigma}
    r = {r}
    d = {d}
    x_hat = (x - mean) / sigma_b * r + d
    return gamma * x_hat + beta
'''
_R = "np.clip(sigma_b / sigma, 1 / r_max, r_max)"
_D = "np.clip((mean - running_mean) / sigma, -d_max, d_max)"


def _brn(sigma_b="np.sqrt(x.var(axis=0) + eps)", sigma="np.sqrt(running_var + eps)", r=_R, d=_D):
    return {BRN: _BRN.format(sigma_b=sigma_b, sigma=sigma, r=r, d=d).lstrip("\n")}


MISTAKES = {
    "bn_batch_axis_only": (_per_axes(SBN, "(0,)"), "batch only", _tests(SBN)),
    "bn_layer_axes": (_per_axes(SBN, "(1, 2, 3)"), "that is layer norm", _tests(SBN)),
    "bn_unbiased": (_per_axes(SBN, "(0, 2, 3)", ddof=", ddof=1"), "N-1", _tests(SBN)),
    "ln_channel_axis_only": (_per_axes(LN, "(1,)"), "channels only", _tests(LN)),
    "ln_batch_axis": (_per_axes(LN, "(0,)"), "that is batch norm", _tests(LN)),
    "ln_sigma_plus_eps": (_per_axes(LN, "tuple(range(1, x.ndim))", denom="(np.sqrt(var) + eps)"),
                          "sigma + eps", _tests(LN)),
    "in_batchnorm_axes": (_per_axes(IN, "(0, 2, 3)"), "spatial batch norm", _tests(IN)),
    "in_layer_axes": (_per_axes(IN, "(1, 2, 3)"), "that is layer norm", _tests(IN)),
    "in_unbiased": (_per_axes(IN, "(2, 3)", ddof=", ddof=1"), "N-1", _tests(IN)),
    "gn_interleaved_groups": (_gn(view="n, c // G, G, h, w", axes="(1, 3, 4)"), "not consecutive", _tests(GN)),
    "gn_groups_of_G": (_gn(view="n, c // G, G, h, w", axes="(2, 3, 4)"), "C/G groups of G", _tests(GN)),
    "gn_ignores_G": (_gn(view="n, 1, c, h, w"), "does not depend on G", _tests(GN)),
    "gn_unbiased": (_gn(ddof=", ddof=1"), "N-1", _tests(GN)),
    "gn_float64_output": (_gn(cast=".astype(np.float64)"), "dtype", ("test_groupnorm_forward", "test_groupnorm_forward_hidden")),
    "brn_r_not_clipped": (_brn(r="sigma_b / sigma"), "r is not clipped", _tests(BRN)),
    "brn_d_not_clipped": (_brn(d="(mean - running_mean) / sigma"), "d is not clipped", _tests(BRN)),
    "brn_nothing_clipped": (_brn(r="sigma_b / sigma", d="(mean - running_mean) / sigma"), "Neither", _tests(BRN)),
    "brn_d_sign_flipped": (_brn(d="np.clip((running_mean - mean) / sigma, -d_max, d_max)"), "wrong sign", _tests(BRN)),
    "brn_eps_outside_sqrt": (_brn(sigma_b="np.sqrt(x.var(axis=0)) + eps", sigma="np.sqrt(running_var) + eps"),
                             "sigma + eps", _tests(BRN)),
    "brn_unbiased": (_brn(sigma_b="np.sqrt(x.var(axis=0, ddof=1) + eps)"), "N-1", _tests(BRN)),
    # formula slips, with the right axes (the issue: instance norm without eps, or without gamma and beta)
    "in_no_eps": (_per_axes(IN, "(2, 3)", denom="np.sqrt(var)"), "ignored eps", _tests(IN)),
    "in_sigma_plus_eps": (_per_axes(IN, "(2, 3)", denom="(np.sqrt(var) + eps)"), "sigma + eps", _tests(IN)),
    "in_no_gamma_beta": (
        {IN: _per_axes(IN, "(2, 3)")[IN].replace("return gamma.reshape(shape) * x_hat + beta.reshape(shape)", "return x_hat")},
        "forgot gamma and beta", _tests(IN)),
    "in_width_only": (_per_axes(IN, "(3,)"), "width only", _tests(IN)),
    # the issue: a ValueError in 05 code was answered with 02's hint about axis=0
    "in_gamma_not_reshaped": (
        {IN: _per_axes(IN, "(2, 3)")[IN].replace("gamma.reshape(shape) * x_hat + beta.reshape(shape)", "gamma * x_hat + beta")},
        "(1, C, 1, 1)", _tests(IN)),
    "sbn_no_eps": (_per_axes(SBN, "(0, 2, 3)", denom="np.sqrt(var)"), "ignored eps", _tests(SBN)),
    "sbn_no_root": (_per_axes(SBN, "(0, 2, 3)", denom="(var + eps)"), "without the square root", _tests(SBN)),
    "sbn_no_beta": (
        {SBN: _per_axes(SBN, "(0, 2, 3)")[SBN].replace(" + beta.reshape(shape)", "")}, "forgot beta", _tests(SBN)),
    "sbn_instance_axes": (_per_axes(SBN, "(2, 3)"), "instance norm", _tests(SBN)),
    "sbn_whole_array": (_per_axes(SBN, "None"), "whole array", _tests(SBN)),
    "sbn_flat_without_transpose": (
        {SBN: ("def spatial_batchnorm_forward(x, gamma, beta, eps=1e-5):\n"
               "    c = x.shape[1]\n"
               "    flat = x.reshape(-1, c)\n"
               "    x_hat = ((flat - flat.mean(0)) / np.sqrt(flat.var(0) + eps)).reshape(x.shape)\n"
               "    return gamma.reshape(1, c, 1, 1) * x_hat + beta.reshape(1, c, 1, 1)\n")},
        "without moving C last", _tests(SBN)),
    "ln_no_eps": (_per_axes(LN, "tuple(range(1, x.ndim))", denom="np.sqrt(var)"), "ignored eps", _tests(LN)),
    "ln_whole_array": (_per_axes(LN, "None"), "whole array", _tests(LN)),
    "ln_no_keepdims": (
        {LN: _per_axes(LN, "tuple(range(1, x.ndim))")[LN].replace("keepdims=True", "keepdims=False")},
        "keepdims=True", _tests(LN)),
    "gn_no_eps": ({GN: _gn()[GN].replace("np.sqrt(var + eps)", "np.sqrt(var)")}, "ignored eps", _tests(GN)),
    "gn_positions_only": (_gn(axes="(3, 4)"), "positions only", _tests(GN)),
    "gn_channels_only": (_gn(axes="(2,)"), "forgot part of it", _tests(GN)),
    "gn_no_gamma_beta": (
        {GN: _gn()[GN].replace("return gamma.reshape(1, -1, 1, 1) * x_hat + beta.reshape(1, -1, 1, 1)", "return x_hat")},
        "forgot gamma and beta", _tests(GN)),
    "brn_r_lower_bound_zero": (_brn(r="np.clip(sigma_b / sigma, 0, r_max)"), "lower bound", _tests(BRN)),
    "brn_d_over_batch_std": (_brn(d="np.clip((mean - running_mean) / sigma_b, -d_max, d_max)"), "batch std", _tests(BRN)),
    "brn_r_of_variances": (
        _brn(r="np.clip((sigma_b / sigma) ** 2, 1 / r_max, r_max)"), "compares variances", _tests(BRN)),
    "brn_r_after_d": (
        {BRN: _brn()[BRN].replace("x_hat = (x - mean) / sigma_b * r + d", "x_hat = ((x - mean) / sigma_b + d) * r")},
        "after adding d", _tests(BRN)),
    "brn_plain_batch_norm": (_brn(r="1.0", d="0.0"), "ignores r and d", _tests(BRN)),
    "brn_running_stats_only": (
        {BRN: _brn()[BRN].replace("x_hat = (x - mean) / sigma_b * r + d", "x_hat = (x - running_mean) / sigma")},
        "running statistics alone", _tests(BRN)),
    "brn_sigma_no_eps": (_brn(sigma="np.sqrt(running_var)"), "sigma has no eps", _tests(BRN)),
    "brn_no_gamma_beta": (
        {BRN: _brn()[BRN].replace("return gamma * x_hat + beta", "return x_hat")}, "forgot gamma and beta", _tests(BRN)),
    "calls_reference": (
        {LN: ("def layernorm_forward(x, gamma, beta, eps=1e-5):\n"
              "    from bn_helpers import norms\n"
              "    return norms.layernorm_forward(x, gamma, beta, eps)[0]\n")},
        "reference code", ("test_layernorm_forward_hidden",)),
}


ALTERNATIVES = {
    "transpose and flatten, explicit sums": {
        SBN: ("def spatial_batchnorm_forward(x, gamma, beta, eps=1e-5):\n"
              "    n, c, h, w = x.shape\n"
              "    flat = x.transpose(0, 2, 3, 1).reshape(-1, c)\n"
              "    mean = flat.sum(axis=0) / len(flat)\n"
              "    var = ((flat - mean) ** 2).sum(axis=0) / len(flat)\n"
              "    out = gamma * (flat - mean) / np.sqrt(var + eps) + beta\n"
              "    return out.reshape(n, h, w, c).transpose(0, 3, 1, 2)\n"),
        LN: ("def layernorm_forward(x, gamma, beta, eps=1e-5):\n"
             "    flat = x.reshape(x.shape[0], -1)\n"
             "    mean = flat.mean(axis=1)[:, None]\n"
             "    std = np.sqrt(((flat - mean) ** 2).mean(axis=1)[:, None] + eps)\n"
             "    x_hat = ((flat - mean) / std).reshape(x.shape)\n"
             "    if x.ndim == 4:\n"
             "        return x_hat * gamma[None, :, None, None] + beta[None, :, None, None]\n"
             "    return x_hat * gamma + beta\n"),
        IN: ("def instancenorm_forward(x, gamma, beta, eps=1e-5):\n"
             "    n, c, h, w = x.shape\n"
             "    flat = x.reshape(n, c, h * w)\n"
             "    x_hat = (flat - flat.mean(-1, keepdims=True)) / np.sqrt(flat.var(-1, keepdims=True) + eps)\n"
             "    return x_hat.reshape(x.shape) * gamma[:, None, None] + beta[:, None, None]\n"),
        GN: ("def groupnorm_forward(x, gamma, beta, G, eps=1e-5):\n"
             "    n, c, h, w = x.shape\n"
             "    flat = x.reshape(n, G, -1)\n"
             "    inv_std = 1.0 / np.sqrt(flat.var(axis=2, keepdims=True) + eps)\n"
             "    x_hat = ((flat - flat.mean(axis=2, keepdims=True)) * inv_std).reshape(x.shape)\n"
             "    return x_hat * gamma[:, None, None] + beta[:, None, None]\n"),
        BRN: ("def batch_renorm_forward(x, gamma, beta, running_mean, running_var, r_max, d_max, eps=1e-5):\n"
              "    mu, var = x.mean(0), x.var(0)\n"
              "    inv_std = 1 / np.sqrt(var + eps)\n"
              "    sigma = np.sqrt(running_var + eps)\n"
              "    r = np.minimum(np.maximum(1 / (inv_std * sigma), 1 / r_max), r_max)\n"
              "    d = np.minimum(np.maximum((mu - running_mean) / sigma, -d_max), d_max)\n"
              "    return gamma * ((x - mu) * inv_std * r + d) + beta\n"),
    },
    "float64 accumulation cast back, one shared helper per cell": {
        SBN: ("def spatial_batchnorm_forward(x, gamma, beta, eps=1e-5):\n"
              "    x64 = x.astype(np.float64)\n"
              "    m = x64.mean((0, 2, 3), keepdims=True); v = x64.var((0, 2, 3), keepdims=True)\n"
              "    out = gamma[:, None, None] * (x64 - m) / np.sqrt(v + eps) + beta[:, None, None]\n"
              "    return out.astype(x.dtype)\n"),
        LN: ("def layernorm_forward(x, gamma, beta, eps=1e-5):\n"
             "    def standardize(a, axes):\n"
             "        return (a - a.mean(axes, keepdims=True)) / np.sqrt(a.var(axes, keepdims=True) + eps)\n"
             "    if x.ndim == 2:\n"
             "        return gamma * standardize(x, 1) + beta\n"
             "    return gamma[:, None, None] * standardize(x, (1, 2, 3)) + beta[:, None, None]\n"),
        IN: ("def instancenorm_forward(x, gamma, beta, eps=1e-5):\n"
             "    out = np.empty_like(x)\n"
             "    for c in range(x.shape[1]):\n"
             "        xc = x[:, c]\n"
             "        m = xc.mean(axis=(1, 2), keepdims=True)\n"
             "        out[:, c] = gamma[c] * (xc - m) / np.sqrt(((xc - m) ** 2).mean(axis=(1, 2), keepdims=True) + eps) + beta[c]\n"
             "    return out\n"),
        GN: ("def groupnorm_forward(x, gamma, beta, G, eps=1e-5):\n"
             "    n, c, h, w = x.shape\n"
             "    parts = np.split(x, G, axis=1)\n"
             "    normed = [(p - p.mean((1, 2, 3), keepdims=True)) / np.sqrt(p.var((1, 2, 3), keepdims=True) + eps) for p in parts]\n"
             "    return np.concatenate(normed, axis=1) * gamma.reshape(1, c, 1, 1) + beta.reshape(1, c, 1, 1)\n"),
        BRN: ("def batch_renorm_forward(x, gamma, beta, running_mean, running_var, r_max, d_max, eps=1e-5):\n"
              "    x64 = x.astype(np.float64)\n"
              "    mu = x64.mean(0); sb = np.sqrt(x64.var(0) + eps); s = np.sqrt(running_var.astype(np.float64) + eps)\n"
              "    r = np.clip(sb / s, 1.0 / r_max, r_max); d = np.clip((mu - running_mean) / s, -d_max, d_max)\n"
              "    return (gamma * ((x64 - mu) / sb * r + d) + beta).astype(x.dtype)\n"),
    },
}

#: A graded function that never returns, and the test cells it must lose (and only those).
LOOP = ({IN: "def instancenorm_forward(x, gamma, beta, eps=1e-5):\n    while True:\n        pass\n"}, _tests(IN))
#: A mistake whose test cells the student deleted, and which cells were deleted.
DELETE = ("brn_d_sign_flipped", (*_tests(BRN), "test_layernorm_forward"))

#: The mistake also graded through real nbgrader (tests/test_grading.py), beside the sample class's;
#: every mistake is graded through the same checks in tests/test_checks.py, which is what a test cell runs.
NBGRADER_MISTAKES = ["bn_batch_axis_only"]

#: Group-norm mistakes that also lose the training run of Section 2.6 (``checks.training.groupnorm_forward``):
#: the output differs from the group normalization the reference backward assumes, so the whole-network
#: gradient check fails. ``gn_channels_only`` coincides with group norm on the network's (N, C, 1, 1) layers.
_LOSE_TRAINING = ("gn_interleaved_groups", "gn_groups_of_G", "gn_ignores_G", "gn_unbiased", "gn_no_eps",
                  "gn_positions_only", "gn_no_gamma_beta")
for _m in _LOSE_TRAINING:
    MISTAKES[_m] = (*MISTAKES[_m][:2], (*MISTAKES[_m][2], "test_groupnorm_forward_training"))
del _m
