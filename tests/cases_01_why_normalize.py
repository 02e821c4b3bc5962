"""Grading cases of 01_why_normalize: other correct solutions, known mistakes, hostile submissions.

Same names as every ``cases_<assignment>.py`` (see cases_02_forward.py). Edits
replace cells of the instructor's solution by ``grade_id``; a mistake lists
the edits, a phrase its diagnosis must contain, and exactly the test cells
that lose their points (the three exercises are independent of each other; the prediction of Section 5 is a written answer graded by hand).
"""
import numpy as np

ASSIGNMENT = "01_why_normalize"
#: What the notebook's setup cell gives the solution cells.
NAMESPACE = {"np": np}

STANDARDIZE = ("test_standardize", "test_standardize_hidden")
LAYER_STATS = ("test_layer_stats", "test_layer_stats_hidden")
SATURATION = ("test_saturation_fraction", "test_saturation_fraction_hidden")


def _std(body: str) -> dict[str, str]:
    return {"standardize": "def standardize(X):\n    " + body.strip().replace("\n", "\n    ") + "\n"}


def _stats(body: str) -> dict[str, str]:
    return {"layer_stats": "def layer_stats(activations):\n    " + body.strip().replace("\n", "\n    ") + "\n"}


def _sat(body: str) -> dict[str, str]:
    return {"saturation_fraction": "def saturation_fraction(a, threshold=0.97):\n    "
            + body.strip().replace("\n", "\n    ") + "\n"}


_SAFE = "c = np.ptp(X, axis=0) == 0\n"  # constant features found by equality, as the solution does


MISTAKES = {
    "sample_std": (
        _std("s = X.std(axis=0, ddof=1)\nreturn (X - X.mean(axis=0)) / np.where(s > 0, s, 1.0)"),
        "ddof=1", STANDARDIZE),
    "wrong_axis": (
        _std("s = X.std(axis=1, keepdims=True)\nreturn (X - X.mean(axis=1, keepdims=True)) / np.where(s > 0, s, 1.0)"),
        "axis=1", STANDARDIZE),
    "no_centering": (
        _std("s = X.std(axis=0)\nreturn X / np.where(s > 0, s, 1.0)"),
        "forgot to subtract the mean", STANDARDIZE),
    "nan_on_constant": (
        _std("return (X - X.mean(axis=0)) / X.std(axis=0)"),
        "constant", ("test_standardize", "test_standardize_hidden")),
    "in_place": (
        _std("s = X.std(axis=0)\nX -= X.mean(axis=0)\nX /= np.where(s > 0, s, 1.0)\nreturn X"),
        "in place", STANDARDIZE),
    # the miss: a column of 0.1 repeated has a computed std of 1.4e-17, not 0
    "constant_std_greater_than_zero": (
        _std("std = X.std(axis=0)\nreturn (X - X.mean(axis=0)) / np.where(std > 0, std, 1.0)"),
        "rounding noise", STANDARDIZE),
    "constant_std_equals_zero": (
        _std("s = X.std(axis=0)\ns[s == 0] = 1\nreturn (X - X.mean(axis=0)) / s"),
        "rounding noise", STANDARDIZE),
    # the miss: E[x^2] - E[x]^2 in float32 at mean 100
    "one_pass_float32": (
        _std(_SAFE + "m = X.mean(axis=0)\ns = np.sqrt(np.abs((X ** 2).mean(axis=0) - m ** 2))\n"
             "return np.where(c, 0.0, (X - m) / np.where(c, 1.0, s))"),
        "E[x^2] - E[x]^2", ("test_standardize_hidden",)),
    "std_plus_eps": (
        _std("return (X - X.mean(axis=0)) / (X.std(axis=0) + 1e-5)"), "std + eps", STANDARDIZE),
    "sqrt_var_plus_eps": (
        _std("return (X - X.mean(axis=0)) / np.sqrt(X.var(axis=0) + 1e-5)"), "sqrt(var + eps)", STANDARDIZE),
    "min_max": (
        _std(_SAFE + "lo, hi = X.min(axis=0), X.max(axis=0)\nreturn np.where(c, 0.0, (X - lo) / np.where(c, 1.0, hi - lo))"),
        "min-max", STANDARDIZE),
    "global_stats": (_std("return (X - X.mean()) / X.std()"), "whole array", STANDARDIZE),
    "global_std": (_std(_SAFE + "return np.where(c, 0.0, (X - X.mean(axis=0)) / X.std())"), "std is one number",
                   STANDARDIZE),
    "no_scaling": (_std("return X - X.mean(axis=0)"), "did not divide", STANDARDIZE),
    "divides_by_variance": (
        _std(_SAFE + "return np.where(c, 0.0, (X - X.mean(axis=0)) / np.where(c, 1.0, X.var(axis=0)))"),
        "variance", STANDARDIZE),
    "returns_statistics_too": (
        _std(_SAFE + "m, s = X.mean(axis=0), X.std(axis=0)\nreturn np.where(c, 0.0, (X - m) / np.where(c, 1.0, s)), m, s"),
        "tuple", STANDARDIZE),
    "global_mean": (_std(_SAFE + "return np.where(c, 0.0, (X - X.mean()) / np.where(c, 1.0, X.std(axis=0)))"),
                    "mean is one number", STANDARDIZE),
    "transposed": (_std(_SAFE + "return np.where(c, 0.0, (X - X.mean(axis=0)) / np.where(c, 1.0, X.std(axis=0))).T"),
                   "transpose", STANDARDIZE),
    "std_only": (
        _stats("return [float(np.std(a)) for a in activations]"),
        "only the std", LAYER_STATS),
    "per_unit_stats": (
        _stats("return [(a.mean(axis=0), a.std(axis=0)) for a in activations]"),
        "not one per unit", LAYER_STATS),
    "stats_sample_std": (
        _stats("return [(float(np.mean(a)), float(np.std(a, ddof=1))) for a in activations]"),
        "ddof=1", LAYER_STATS),
    "stats_rms": (
        _stats("return [(float(np.mean(a)), float(np.sqrt(np.mean(np.asarray(a) ** 2)))) for a in activations]"),
        "forgot to subtract the mean", LAYER_STATS),
    # the miss: statistics of |a| got a bare "wrong mean or std"
    "stats_of_abs": (
        _stats("return [(float(np.mean(np.abs(a))), float(np.std(np.abs(a)))) for a in activations]"),
        "|a|", LAYER_STATS),
    "stats_mean_of_abs": (
        _stats("return [(float(np.mean(np.abs(a))), float(np.std(a))) for a in activations]"),
        "mean of |a|", LAYER_STATS),
    "stats_swapped": (_stats("return [(float(np.std(a)), float(np.mean(a))) for a in activations]"),
                      "swapped", LAYER_STATS),
    "stats_variance": (_stats("return [(float(np.mean(a)), float(np.var(a))) for a in activations]"),
                       "variance", LAYER_STATS),
    "stats_average_of_unit_stds": (
        _stats("return [(float(np.mean(a)), float(np.mean(np.std(a, axis=0)))) for a in activations]"),
        "average of per-unit", LAYER_STATS),
    "stats_two_lists": (
        _stats("return [float(np.mean(a)) for a in activations], [float(np.std(a)) for a in activations]"),
        "(means, stds)", LAYER_STATS),
    "stats_map": (_stats("return map(lambda a: (float(np.mean(a)), float(np.std(a))), activations)"),
                  "list(...)", LAYER_STATS),
    "mean_only": (_stats("return [float(np.mean(a)) for a in activations]"), "only the mean", LAYER_STATS),
    "skips_a_layer": (_stats("return [(float(np.mean(a)), float(np.std(a))) for a in activations[1:]]"),
                      "pair(s) for", LAYER_STATS),
    "greater_equal": (
        _sat("return float(np.mean(np.abs(a) >= threshold))"),
        ">=", SATURATION),
    "no_abs": (
        _sat("return float(np.mean(a > threshold))"),
        "absolute value", SATURATION),
    "count": (
        _sat("return int(np.sum(np.abs(a) > threshold))"),
        "count", SATURATION),
    "threshold_ignored": (
        _sat("return float(np.mean(np.abs(a) > 0.97))"),
        "threshold argument", SATURATION),
    # the miss: a percentage got a bare "wrong fraction"
    "percent": (_sat("return 100 * float(np.mean(np.abs(a) > threshold))"), "percentage", SATURATION),
    "count_over_rows": (_sat("return np.sum(np.abs(a) > threshold) / len(a)"), "number of rows", SATURATION),
    "negative_side_sign": (_sat("return float(np.mean((a > threshold) | (a < threshold)))"), "a < -threshold",
                           SATURATION),
    "mixed_sides": (_sat("return float(np.mean((a > threshold) | (a <= -threshold)))"), "two sides", SATURATION),
    "unsaturated_fraction": (_sat("return float(np.mean(np.abs(a) <= threshold))"), "unsaturated", SATURATION),
    "compares_the_mean": (_sat("return np.abs(a).mean() > threshold"), "yes/no", SATURATION),
    "tanh_again": (_sat("return float(np.mean(np.abs(np.tanh(a)) > threshold))"), "tanh again", SATURATION),
    "per_column": (_sat("return np.mean(np.abs(a) > threshold, axis=0)"), "one number", SATURATION),
    "calls_reference": (
        {"saturation_fraction": "from bn_helpers.diagnostics import saturation_fraction\n"},
        "reference code", ("test_saturation_fraction_hidden",)),
}


ALTERNATIVES = {
    "masks, keepdims and statistics by hand": {
        "standardize": (
            "def standardize(X):\n"
            "    X = np.asarray(X, dtype=float)\n"
            "    mu = X.sum(axis=0, keepdims=True) / len(X)\n"
            "    sd = np.sqrt(((X - mu) ** 2).mean(axis=0, keepdims=True))\n"
            "    out = np.zeros_like(X)\n"
            "    np.divide(X - mu, sd, out=out, where=np.ptp(X, axis=0, keepdims=True) > 0)\n"
            "    return out\n"),
        "layer_stats": (
            "def layer_stats(activations):\n"
            "    out = []\n"
            "    for a in activations:\n"
            "        a = np.ravel(a).astype(np.float64)\n"
            "        m = a.sum() / a.size\n"
            "        out.append((m, np.sqrt(((a - m) ** 2).mean())))\n"
            "    return out\n"),
        "saturation_fraction": (
            "def saturation_fraction(a, threshold=0.97):\n"
            "    a = np.asarray(a)\n"
            "    return np.count_nonzero((a > threshold) | (a < -threshold)) / a.size\n"),
    },
    "copy, boolean index and tuples": {
        "standardize": (
            "def standardize(X):\n"
            "    Z = X - X.mean(0)\n"
            "    s = X.std(0)\n"
            "    s[np.isclose(s, 0, atol=1e-12)] = 1\n"
            "    return Z / s\n"),
        "layer_stats": "def layer_stats(activations):\n    return list(map(lambda a: (np.mean(a), np.std(a)), activations))\n",
        "saturation_fraction": "def saturation_fraction(a, threshold=0.97):\n    return (abs(a) > threshold).mean()\n",
    },
}

ALTERNATIVES["a relative tolerance for constant features, float64 inside"] = {
    "standardize": (
        "def standardize(X):\n"
        "    X64 = np.asarray(X, dtype=np.float64)\n"
        "    mean, std = X64.mean(axis=0), X64.std(axis=0)\n"
        "    constant = std <= 1e-12 * (np.abs(mean) + 1e-300)\n"
        "    return (X64 - mean) / np.where(constant, np.inf, std)\n"),
    "layer_stats": "def layer_stats(activations):\n    return [tuple(float(f(np.ravel(a))) for f in (np.mean, np.std)) for a in activations]\n",
    "saturation_fraction": (
        "def saturation_fraction(a, threshold=0.97):\n"
        "    flat = np.ravel(a)\n"
        "    return sum(1 for v in flat if abs(v) > threshold) / len(flat)\n"),
}

#: A graded function that never returns, and the test cells it must lose (and only those).
LOOP = ({"layer_stats": "def layer_stats(activations):\n    while True:\n        pass\n"}, LAYER_STATS)
#: A mistake whose test cells the student deleted, and which cells were deleted.
DELETE = ("greater_equal", ("test_saturation_fraction", "test_saturation_fraction_hidden", "test_layer_stats"))

#: The mistake also graded through real nbgrader (tests/test_grading.py), beside the sample class's;
#: every mistake is graded through the same checks in tests/test_checks.py, which is what a test cell runs.
NBGRADER_MISTAKES = ['wrong_axis']
