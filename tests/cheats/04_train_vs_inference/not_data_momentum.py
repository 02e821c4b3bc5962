# about: keras_to_torch_momentum returns an object whose __float__ calls bn_helpers.stats when the judge reads it; a graded function must return data
# expected: 17
# expected-why: the training cell (3) uses the solution's BatchNorm1d: earned
# base: solution
# %% [keras_to_torch_momentum]
from bn_helpers import stats as _ref
class _Momentum:
    def __init__(self, m):
        self.m = m
    def __float__(self):
        return float(_ref.keras_to_torch_momentum(self.m))
    def __array__(self, dtype=None, copy=None):
        return np.asarray(float(self), dtype=dtype)
def keras_to_torch_momentum(momentum):
    return _Momentum(momentum)
