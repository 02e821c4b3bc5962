"""Grading cases of 01_why_normalize: other correct solutions, known mistakes, hostile submissions.

Same names as every ``cases_<assignment>.py`` (see cases_02_forward.py). Edits
replace cells of the instructor's solution by ``grade_id``; a mistake lists
the edits, a phrase its diagnosis must contain, and exactly the test cells
that lose their points (the four exercises are independent of each other).
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
    "calls_reference": (
        {"saturation_fraction": "from bn_helpers.diagnostics import saturation_fraction\n"},
        "reference code", ("test_saturation_fraction_hidden",)),
    "wrong_prediction": (
        {"prediction_ics": "def prediction_ics():\n    return 'a'\n"},
        "measured", ("test_prediction_ics_hidden",)),
    "not_a_letter": (
        {"prediction_ics": "def prediction_ics():\n    return 'noisy BN trains well'\n"},
        "one of", ("test_prediction_ics", "test_prediction_ics_hidden")),
}


ALTERNATIVES = {
    "masks, keepdims and statistics by hand": {
        "standardize": (
            "def standardize(X):\n"
            "    X = np.asarray(X, dtype=float)\n"
            "    mu = X.sum(axis=0, keepdims=True) / len(X)\n"
            "    sd = np.sqrt(((X - mu) ** 2).mean(axis=0, keepdims=True))\n"
            "    out = np.zeros_like(X)\n"
            "    np.divide(X - mu, sd, out=out, where=sd > 0)\n"
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
        "prediction_ics": "def prediction_ics():\n    return ' B '\n",
    },
    "copy, boolean index and tuples": {
        "standardize": (
            "def standardize(X):\n"
            "    Z = X - X.mean(0)\n"
            "    s = X.std(0)\n"
            "    s[s == 0] = 1\n"
            "    return Z / s\n"),
        "layer_stats": "def layer_stats(activations):\n    return list(map(lambda a: (np.mean(a), np.std(a)), activations))\n",
        "saturation_fraction": "def saturation_fraction(a, threshold=0.97):\n    return (abs(a) > threshold).mean()\n",
        "prediction_ics": "def prediction_ics():\n    return '(b)'\n",
    },
}

#: A graded function that never returns, and the test cells it must lose (and only those).
LOOP = ({"layer_stats": "def layer_stats(activations):\n    while True:\n        pass\n"}, LAYER_STATS)
#: A mistake whose test cells the student deleted, and which cells were deleted.
DELETE = ("greater_equal", ("test_saturation_fraction", "test_saturation_fraction_hidden", "test_layer_stats"))

#: The mistake also graded through real nbgrader (tests/test_grading.py), beside the sample class's;
#: every mistake is graded through the same checks in tests/test_checks.py, which is what a test cell runs.
NBGRADER_MISTAKES = ['wrong_axis']
