# about: puts a stub module in sys.modules['bn_helpers.checks'] (and on the package) whose every check passes
# expected: 0
# %% [batch_mean]
import sys, types
import bn_helpers
_stub = types.ModuleType("bn_helpers.checks")
_stub.__getattr__ = lambda name: (lambda *a, **k: None)
sys.modules["bn_helpers.checks"] = _stub
bn_helpers.checks = _stub
checks = _stub
def batch_mean(x):
    return x[0]
# %% [batch_variance]
def batch_variance(x):
    return x[0] * 0
