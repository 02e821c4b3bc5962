"""Grading cases of 04_train_vs_inference: other correct classes, known mistakes, hostile submissions.

Every ``cases_<assignment>.py`` module offers the same names (see
cases_02_forward.py). A mistake replaces the whole ``BatchNorm1d`` cell (or
the ``keras_to_torch_momentum`` cell) by a wrong version, built from one
correct class below by a single textual change.
"""
import numpy as np

from bn_helpers.numerics import batchnorm_forward

ASSIGNMENT = "04_train_vs_inference"
#: What the notebook's setup cell gives the solution cells.
NAMESPACE = {"np": np, "batchnorm_forward": batchnorm_forward}

BN_TESTS = ("test_BatchNorm1d", "test_BatchNorm1d_hidden")
KERAS_TESTS = ("test_keras_to_torch_momentum", "test_keras_to_torch_momentum_hidden")

_CLASS = '''
class BatchNorm1d:
    def __init__(self, num_features, eps=1e-5, momentum=0.1):
        self.eps, self.momentum = eps, momentum
        self.gamma, self.beta = np.ones(num_features), np.zeros(num_features)
        self.running_mean = np.zeros(num_features)
        self.running_var = np.ones(num_features)
        self.num_batches_tracked = 0
        self.training = True

    def forward(self, x):
        if self.training:
            n = x.shape[0]
            if n < 2:
                raise ValueError("Expected more than 1 value per feature when training")
            mean = x.mean(axis=0)
            var = x.var(axis=0)
            self.num_batches_tracked += 1
            m = 1 / self.num_batches_tracked if self.momentum is None else self.momentum
            self.running_mean = (1 - m) * self.running_mean + m * mean
            self.running_var = (1 - m) * self.running_var + m * var * n / (n - 1)
        else:
            mean, var = self.running_mean, self.running_var
        x_hat = (x - mean) / np.sqrt(var + self.eps)
        return self.gamma * x_hat + self.beta

    def train(self):
        self.training = True
        return self

    def eval(self):
        self.training = False
        return self
'''.lstrip("\n")


def _class(*changes: tuple[str, str]) -> dict[str, str]:
    code = _CLASS
    for old, new in changes:
        assert code.count(old) == 1, old
        code = code.replace(old, new)
    return {"BatchNorm1d": code}


_UPDATE = '''            self.running_mean = (1 - m) * self.running_mean + m * mean
            self.running_var = (1 - m) * self.running_var + m * var * n / (n - 1)
'''

MISTAKES = {
    "biased_running_var": (
        _class(("m * var * n / (n - 1)", "m * var")), "biased batch variance", BN_TESTS),
    "keras_convention": (
        _class((_UPDATE, "            self.running_mean = m * self.running_mean + (1 - m) * mean\n"
                         "            self.running_var = m * self.running_var + (1 - m) * var * n / (n - 1)\n")),
        "reversed", BN_TESTS),
    "updates_in_eval": (
        _class(("        if self.training:\n            n = x.shape[0]", "        if True:\n            n = x.shape[0]"),
               ("        else:\n            mean, var = self.running_mean, self.running_var\n",
                "        if not self.training:\n            mean, var = self.running_mean, self.running_var\n")),
        "updated the running statistics in eval mode", BN_TESTS),
    "eval_uses_batch_stats": (
        _class(("            mean, var = self.running_mean, self.running_var", "            mean, var = x.mean(0), x.var(0)")),
        "batch statistics", BN_TESTS),
    "zero_running_var": (
        _class(("self.running_var = np.ones(num_features)", "self.running_var = np.zeros(num_features)")),
        "running_var initialized to zeros", BN_TESTS),
    "in_place": (
        _class(("        x_hat = (x - mean) / np.sqrt(var + self.eps)\n",
                "        x -= mean\n        x /= np.sqrt(var + self.eps)\n        x_hat = x\n")),
        "in place", BN_TESTS),
    "wrong_shape": (
        _class(("            mean = x.mean(axis=0)\n            var = x.var(axis=0)\n",
                "            mean = x.mean(axis=0, keepdims=True)\n            var = x.var(axis=0, keepdims=True)\n")),
        "wrong shape", BN_TESTS),
    "eval_returns_none": (
        _class(("        self.training = False\n        return self", "        self.training = False")),
        "return self", BN_TESTS),
    "momentum_ignored": (
        _class(("m = 1 / self.num_batches_tracked if self.momentum is None else self.momentum", "m = 0.1")),
        "ignore the momentum", BN_TESTS),
    "no_batch_of_one_guard": (
        _class(('            if n < 2:\n                raise ValueError("Expected more than 1 value per feature when training")\n', ""),
               ("m * var * n / (n - 1)", "m * x.var(axis=0, ddof=1)")),
        "ONE example", BN_TESTS),
    "momentum_none_unsupported": (
        _class(("m = 1 / self.num_batches_tracked if self.momentum is None else self.momentum", "m = self.momentum")),
        "momentum=None", ("test_BatchNorm1d_hidden",)),
    # momentum=None (the miss: eval calls counted in the cumulative average)
    "momentum_none_counts_eval": (
        _class(("            self.num_batches_tracked += 1\n", ""),
               ("    def forward(self, x):\n", "    def forward(self, x):\n        self.num_batches_tracked += 1\n")),
        "eval-mode call", ("test_BatchNorm1d_hidden",)),
    "momentum_none_off_by_one": (
        _class(("m = 1 / self.num_batches_tracked if", "m = 1 / (self.num_batches_tracked + 1) if")),
        "off by one", ("test_BatchNorm1d_hidden",)),
    "momentum_none_as_default": (
        _class(("m = 1 / self.num_batches_tracked if self.momentum is None else self.momentum",
                "m = 0.1 if self.momentum is None else self.momentum")),
        "used momentum 0.1", ("test_BatchNorm1d_hidden",)),
    # the running statistics
    "running_var_of_std": (_class(("m * var * n / (n - 1)", "m * np.sqrt(var * n / (n - 1))")), "standard deviation",
                           BN_TESTS),
    "running_stats_of_output": (
        _class((_UPDATE, "            out = (x - mean) / np.sqrt(var + self.eps) * self.gamma + self.beta\n"
                         "            self.running_mean = (1 - m) * self.running_mean + m * out.mean(axis=0)\n"
                         "            self.running_var = (1 - m) * self.running_var + m * out.var(axis=0) * n / (n - 1)\n")),
        "OUTPUT", BN_TESTS),
    "keras_default_momentum": (_class(("eps=1e-5, momentum=0.1", "eps=1e-5, momentum=0.99")), "default momentum is 0.99",
                               BN_TESTS),
    "keras_default_eps": (_class(("eps=1e-5, momentum=0.1", "eps=1e-3, momentum=0.1")), "default eps", BN_TESTS),
    "replaced_not_averaged": (
        _class((_UPDATE, "            self.running_mean = mean\n            self.running_var = var * n / (n - 1)\n")),
        "replaced", BN_TESTS),
    "never_updated": (_class((_UPDATE, "")), "did not change", BN_TESTS),
    # training-mode output
    "training_uses_running_stats": (
        _class(("            self.running_var = (1 - m) * self.running_var + m * var * n / (n - 1)\n",
                "            self.running_var = (1 - m) * self.running_var + m * var * n / (n - 1)\n"
                "            mean, var = self.running_mean, self.running_var\n")),
        "normalized with the running statistics", BN_TESTS),
    "training_unbiased": (
        _class(("            var = x.var(axis=0)\n", "            var = x.var(axis=0, ddof=1)\n"),
               ("m * var * n / (n - 1)", "m * var")),
        "N-1", BN_TESTS),
    "training_sigma_plus_eps": (
        _class(("        x_hat = (x - mean) / np.sqrt(var + self.eps)\n", "        x_hat = (x - mean) / (np.sqrt(var) + self.eps)\n")),
        "sigma + eps", BN_TESTS),
    "forgot_gamma": (_class(("        return self.gamma * x_hat + self.beta", "        return x_hat + self.beta")),
                     "forgot gamma", BN_TESTS),
    # eval-mode output
    "eval_no_eps": (
        _class(("        x_hat = (x - mean) / np.sqrt(var + self.eps)\n",
                "        x_hat = (x - mean) / np.sqrt(var + (self.eps if self.training else 0))\n")),
        "ignored eps", BN_TESTS),
    "eval_ignores_running_var": (
        _class(("            mean, var = self.running_mean, self.running_var",
                "            mean, var = self.running_mean, np.ones_like(self.running_var)")),
        "ignored running_var", BN_TESTS),
    "eval_ignores_running_mean": (
        _class(("            mean, var = self.running_mean, self.running_var", "            mean, var = 0.0, self.running_var")),
        "did not subtract running_mean", BN_TESTS),
    "eval_forgets_gamma_beta": (
        _class(("        return self.gamma * x_hat + self.beta",
                "        return self.gamma * x_hat + self.beta if self.training else x_hat")),
        "forgot gamma and beta", BN_TESTS),
    # the miss: a layer that refuses one example in eval mode was told about axis=0
    "eval_refuses_one_example": (
        _class(('            if n < 2:\n                raise ValueError("Expected more than 1 value per feature when training")\n', ""),
               ("    def forward(self, x):\n",
                '    def forward(self, x):\n        if x.shape[0] < 2:\n            raise ValueError("need 2 examples")\n')),
        "single example must work", BN_TESTS),
    "train_returns_none": (
        _class(("        self.training = True\n        return self", "        self.training = True")), "return self", BN_TESTS),
    "eval_keeps_training": (
        _class(("        self.training = False\n        return self", "        return self")),
        "self.training = False", BN_TESTS),
    "keras_sign_flipped": (
        {"keras_to_torch_momentum": "def keras_to_torch_momentum(m):\n    return m - 1\n"}, "sign", KERAS_TESTS),
    "keras_inverse": (
        {"keras_to_torch_momentum": "def keras_to_torch_momentum(m):\n    return 1 / m\n"}, "1/m", KERAS_TESTS),
    "keras_percent": (
        {"keras_to_torch_momentum": "def keras_to_torch_momentum(m):\n    return 100 * (1 - m)\n"}, "percentage",
        KERAS_TESTS),
    "calls_reference": (
        {"BatchNorm1d": "from bn_helpers.nn import BatchNorm1d\n"},
        "reference code", ("test_BatchNorm1d_hidden",)),
    "keras_unchanged": (
        {"keras_to_torch_momentum": "def keras_to_torch_momentum(m):\n    return m\n"},
        "unchanged", KERAS_TESTS),
    "keras_rounded": (
        {"keras_to_torch_momentum": "def keras_to_torch_momentum(m):\n    return round(1 - m, 2)\n"},
        "rounded", ("test_keras_to_torch_momentum_hidden",)),
    "keras_calls_reference": (
        {"keras_to_torch_momentum": "from bn_helpers.stats import keras_to_torch_momentum\n"},
        "reference code", ("test_keras_to_torch_momentum_hidden",)),
}


ALTERNATIVES = {
    "batchnorm_forward from the setup, in-place updates, a params dict": {
        "BatchNorm1d": '''
class BatchNorm1d:
    """PyTorch-style batch norm."""
    def __init__(self, num_features, eps=1e-5, momentum=0.1):
        self.params = {"gamma": np.ones(num_features), "beta": np.zeros(num_features)}
        self.running_mean, self.running_var = np.zeros(num_features), np.ones(num_features)
        self.eps, self.momentum, self.count, self.training = eps, momentum, 0, True

    gamma = property(lambda self: self.params["gamma"])
    beta = property(lambda self: self.params["beta"])

    def forward(self, x):
        if not self.training:
            return self.gamma * (x - self.running_mean) / np.sqrt(self.running_var + self.eps) + self.beta
        out, cache = batchnorm_forward(x, self.gamma, self.beta, self.eps)
        self.count += 1
        m = self.momentum if self.momentum is not None else 1.0 / self.count
        n = len(x)
        self.running_mean *= 1 - m
        self.running_mean += m * cache.mean
        self.running_var *= 1 - m
        self.running_var += m * cache.var * (n / (n - 1))
        return out

    def train(self):
        self.training = True
        return self

    def eval(self):
        self.training = False
        return self
''',
        "keras_to_torch_momentum": "def keras_to_torch_momentum(m):\n    return float(np.subtract(1.0, m))\n",
    },
    "ddof=1, a mode flag through train(mode), float32 kept": {
        "BatchNorm1d": '''
class BatchNorm1d:
    def __init__(self, num_features, eps=1e-5, momentum=0.1):
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.gamma = np.ones(num_features)
        self.beta = np.zeros(num_features)
        self.running_mean = np.zeros(num_features)
        self.running_var = np.full(num_features, 1.0)
        self.seen = 0
        self.train()

    def train(self, mode=True):
        self.training = mode
        return self

    def eval(self):
        return self.train(False)

    def _normalize(self, x, mean, var):
        return (x - mean) * (1.0 / np.sqrt(var + self.eps)) * self.gamma + self.beta

    def forward(self, x):
        x = np.asarray(x)
        if not self.training:
            return self._normalize(x, self.running_mean, self.running_var)
        if x.shape[0] == 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input of shape {x.shape}")
        self.seen += 1
        w = 1.0 / self.seen if self.momentum is None else self.momentum
        self.running_mean = self.running_mean + w * (np.mean(x, axis=0) - self.running_mean)
        self.running_var = self.running_var + w * (np.var(x, axis=0, ddof=1) - self.running_var)
        return self._normalize(x, np.mean(x, axis=0), np.var(x, axis=0))
''',
        "keras_to_torch_momentum": "def keras_to_torch_momentum(momentum):\n    torch_momentum = 1 - momentum\n    return torch_momentum\n",
    },
}

#: A graded function that never returns, and the test cells it must lose (and only those).
LOOP = ({"keras_to_torch_momentum": "def keras_to_torch_momentum(m):\n    while True:\n        pass\n"}, KERAS_TESTS)
#: A mistake whose test cells the student deleted, and which cells were deleted.
DELETE = ("biased_running_var", BN_TESTS)

#: The mistake also graded through real nbgrader (tests/test_grading.py), beside the sample class's;
#: every mistake is graded through the same checks in tests/test_checks.py, which is what a test cell runs.
NBGRADER_MISTAKES = ['updates_in_eval']

#: Mistakes that also lose the training run of Section 4.1 (``checks.training.BatchNorm1d``): the training-mode
#: output differs from the batch's normalization (the gradient check fails), the eval-mode logits differ from the
#: reference network's by more than ``EVAL_RTOL`` (measured 1.8e-3 to 0.6 for these; a correct layer 1e-15), or the
#: layer calls the reference. The others (momentum=None, shapes, return values, gamma which the loop keeps at 1,
#: eps ignored in eval mode only: 2e-5) train exactly as the reference does: the class checks catch them.
_LOSE_TRAINING = ("in_place", "running_stats_of_output", "keras_default_eps", "never_updated",
                  "training_uses_running_stats", "training_unbiased", "training_sigma_plus_eps",
                  "eval_ignores_running_mean", "calls_reference",
                  "biased_running_var", "keras_convention", "updates_in_eval", "eval_uses_batch_stats",
                  "zero_running_var", "running_var_of_std", "keras_default_momentum", "replaced_not_averaged",
                  "eval_ignores_running_var", "eval_keeps_training")
for _m in _LOSE_TRAINING:
    MISTAKES[_m] = (*MISTAKES[_m][:2], (*MISTAKES[_m][2], "test_BatchNorm1d_training"))
del _m
