"""Grading cases of 06_in_practice: other correct solutions, known mistakes, hostile submissions.

Same names as cases_02_forward.py. A mistake replaces the ``fold_batchnorm``
or the ``merge_batch_stats`` cell by a wrong version.
"""
import numpy as np

ASSIGNMENT = "06_in_practice"
#: What the notebook's setup cell gives the solution cells.
NAMESPACE = {"np": np}

FOLD_TESTS = ("test_fold_batchnorm", "test_fold_batchnorm_hidden")
MERGE_TESTS = ("test_merge_batch_stats", "test_merge_batch_stats_hidden")

_FOLD = '''
def fold_batchnorm(W, b, gamma, beta, running_mean, running_var, eps=1e-5):
    s = {scale}
    return {W}, {b}
'''


def _fold(scale="gamma / np.sqrt(running_var + eps)", W="W * s", b="(b - running_mean) * s + beta") -> dict[str, str]:
    return {"fold_batchnorm": _FOLD.format(scale=scale, W=W, b=b)}


_MERGE = '''
def merge_batch_stats(counts, means, variances):
    n = np.asarray(counts, dtype=float)[:, None]
    mean = {mean}
    var = {var}
    return {ret}
'''


def _merge(mean="(n * means).sum(0) / n.sum()", var="(n * (variances + (means - mean) ** 2)).sum(0) / n.sum()",
           ret="mean, var") -> dict[str, str]:
    return {"merge_batch_stats": _MERGE.format(mean=mean, var=var, ret=ret)}


MISTAKES = {
    "fold_rows": (_fold(W="W * s[:, None]"), "ROWS", FOLD_TESTS),
    "fold_no_mean": (_fold(b="b * s + beta"), "running mean", FOLD_TESTS),
    "fold_no_eps": (_fold(scale="gamma / np.sqrt(running_var)"), "no eps", FOLD_TESTS),
    "fold_no_sqrt": (_fold(scale="gamma / (running_var + eps)"), "no square root", FOLD_TESTS),
    "fold_no_beta": (_fold(b="(b - running_mean) * s"), "forgot beta", FOLD_TESTS),
    "fold_ignores_bias": (_fold(b="-running_mean * s + beta"), "own bias", FOLD_TESTS),
    "fold_eps_hard_coded": (_fold(scale="gamma / np.sqrt(running_var + 1e-5)"), "eps argument", FOLD_TESTS),
    "fold_transposed": (_fold(W="(W * s).T"), "transpose", FOLD_TESTS),
    "fold_calls_reference": (
        {"fold_batchnorm": "from bn_helpers.stats import fold_batchnorm\n"}, "reference code",
        ("test_fold_batchnorm_hidden",)),
    "fold_divides": (_fold(W="W / s", b="(b - running_mean) / s + beta"), "instead of multiplying", FOLD_TESTS),
    "fold_no_gamma": (_fold(scale="1 / np.sqrt(running_var + eps)"), "forgot gamma", FOLD_TESTS),
    "fold_mean_sign": (_fold(b="(b + running_mean) * s + beta"), "wrong sign", FOLD_TESTS),
    "fold_beta_scaled": (_fold(b="(b - running_mean + beta) * s"), "scaled beta", FOLD_TESTS),
    "fold_mean_after_scaling": (_fold(b="b * s - running_mean + beta"), "after scaling", FOLD_TESTS),
    "fold_bias_not_scaled": (_fold(b="b - running_mean + beta"), "did not scale the bias", FOLD_TESTS),
    "fold_bias_unchanged": (_fold(b="b"), "left the bias b unchanged", FOLD_TESTS),
    "fold_multiplies_by_std": (_fold(scale="gamma * np.sqrt(running_var + eps)"), "instead of dividing", FOLD_TESTS),
    "fold_in_place": (
        {"fold_batchnorm": ("def fold_batchnorm(W, b, gamma, beta, running_mean, running_var, eps=1e-5):\n"
                            "    s = gamma / np.sqrt(running_var + eps)\n"
                            "    W *= s\n"
                            "    return W, (b - running_mean) * s + beta\n")},
        "in place", FOLD_TESTS),
    "fold_wrong_bias_shape": (_fold(b="((b - running_mean) * s + beta)[None, :]"), "b_folded has shape", FOLD_TESTS),
    "merge_unweighted_mean": (_merge(mean="means.mean(0)"), "unweighted average", MERGE_TESTS),
    "merge_no_between": (_merge(var="(n * variances).sum(0) / n.sum()"), "between-device", MERGE_TESTS),
    "merge_unbiased": (
        _merge(var="((n - 1) * variances + n * (means - mean) ** 2).sum(0) / (n.sum() - 1)"), "unbiased",
        MERGE_TESTS),
    "merge_one_pass": (
        {"merge_batch_stats": (
            "def merge_batch_stats(counts, means, variances):\n"
            "    w = np.asarray(counts)[:, None] / np.sum(counts)\n"
            "    mean = (w * means).sum(0)\n"
            "    second = (w * (variances + means ** 2)).sum(0)\n"
            "    return mean.astype(means.dtype), (second.astype(means.dtype) - mean.astype(means.dtype) ** 2)\n")},
        "E[x^2] - E[x]^2", ("test_merge_batch_stats_hidden",)),
    "merge_keepdims": (
        _merge(mean="(n * means).sum(0, keepdims=True) / n.sum()",
               var="(n * (variances + (means - mean) ** 2)).sum(0, keepdims=True) / n.sum()"),
        "shape", MERGE_TESTS),
    "merge_mean_not_divided": (_merge(mean="(n * means).sum(0)"), "forgot to divide by n", MERGE_TESTS),
    "merge_unweighted_variance": (_merge(var="(variances + (means - mean) ** 2).mean(0)"), "without weighting",
                                  MERGE_TESTS),
    "merge_no_within": (_merge(var="(n * (means - mean) ** 2).sum(0) / n.sum()"), "within-device", MERGE_TESTS),
    "merge_inputs_as_std": (_merge(var="(n * (variances ** 2 + (means - mean) ** 2)).sum(0) / n.sum()"),
                            "standard deviations", MERGE_TESTS),
    "merge_treated_as_unbiased": (
        _merge(var="((n - 1) * variances + n * (means - mean) ** 2).sum(0) / n.sum()"), "unbiased variances",
        MERGE_TESTS),
    "merge_between_unweighted": (_merge(var="(n * variances).sum(0) / n.sum() + means.var(0)"), "equally",
                                 MERGE_TESTS),
    "merge_between_around_unweighted_mean": (
        _merge(var="(n * (variances + (means - means.mean(0)) ** 2)).sum(0) / n.sum()"), "unweighted average of the means",
        MERGE_TESTS),
    "merge_returns_std": (_merge(var="np.sqrt((n * (variances + (means - mean) ** 2)).sum(0) / n.sum())"),
                          "standard deviation", MERGE_TESTS),
    "merge_swapped": (_merge(ret="var, mean"), "(var, mean)", MERGE_TESTS),
    "merge_calls_reference": (
        {"merge_batch_stats": "from bn_helpers.stats import merge_batch_stats\n"}, "reference code",
        ("test_merge_batch_stats_hidden",)),
}


ALTERNATIVES = {
    "a diagonal matrix, einsum": {
        "fold_batchnorm": (
            "def fold_batchnorm(W, b, gamma, beta, running_mean, running_var, eps=1e-5):\n"
            "    inv_std = 1.0 / np.sqrt(running_var + eps)\n"
            "    W_folded = W @ np.diag(gamma * inv_std)\n"
            "    b_folded = beta + gamma * (b - running_mean) * inv_std\n"
            "    return W_folded, b_folded\n"),
        "merge_batch_stats": (
            "def merge_batch_stats(counts, means, variances):\n"
            "    n = np.sum(counts)\n"
            "    mean = np.einsum('k,kd->d', counts, means) / n\n"
            "    dev = means - mean\n"
            "    var = (np.einsum('k,kd->d', counts, variances) + np.einsum('k,kd->d', counts, dev * dev)) / n\n"
            "    return mean, var\n"),
    },
    "pairwise merges in float64 (Chan et al.)": {
        "fold_batchnorm": (
            "def fold_batchnorm(W, b, gamma, beta, running_mean, running_var, eps=1e-5):\n"
            "    scale = (gamma * (running_var + eps) ** -0.5)[None, :]\n"
            "    return np.multiply(W, scale), np.squeeze((b - running_mean) * scale + beta, 0)\n"),
        "merge_batch_stats": (
            "def merge_batch_stats(counts, means, variances):\n"
            "    n, mean, m2 = 0.0, 0.0, 0.0\n"
            "    for n_k, m_k, v_k in zip(counts, means.astype(np.float64), variances.astype(np.float64)):\n"
            "        delta = m_k - mean\n"
            "        total = n + n_k\n"
            "        mean = mean + delta * n_k / total\n"
            "        m2 = m2 + v_k * n_k + delta ** 2 * n * n_k / total\n"
            "        n = total\n"
            "    return mean.astype(means.dtype), (m2 / n).astype(means.dtype)\n"),
    },
}

#: A graded function that never returns, and the test cells it must lose (and only those).
LOOP = ({"merge_batch_stats": "def merge_batch_stats(counts, means, variances):\n    while True:\n        pass\n"},
        MERGE_TESTS)
#: A mistake whose test cells the student deleted, and which cells were deleted.
DELETE = ("merge_no_between", MERGE_TESTS)

#: The mistake also graded through real nbgrader (tests/test_grading.py), beside the sample class's;
#: every mistake is graded through the same checks in tests/test_checks.py, which is what a test cell runs.
NBGRADER_MISTAKES = ["fold_no_mean"]
