# about: under the judge, calls the forwarded reference with 72 MB of arguments and asks nn.mlp for 1.2 GB of weights, to grow the grader's memory; the calls are refused, the correct code keeps full marks
# expected: 20
# base: solution
# %% [batch_mean]
from bn_helpers import nn as _nn, numerics as _ref
def batch_mean(x):
    return x.mean(axis=0)
if _ref.batch_mean.__code__.co_name == "reference_function":  # only in the judge's runner
    for _attempt in (lambda: _ref.batch_mean(np.zeros((9000, 1000))), lambda: _nn.mlp([8, 12000, 12000])):
        try:
            _attempt()
        except Exception:
            pass
