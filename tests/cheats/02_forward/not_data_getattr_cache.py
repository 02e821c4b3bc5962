# about: batchnorm_forward returns a cache object whose fields come from __getattr__ (computed by the reference when read); a graded function must return data
# expected: 13
# base: solution
# %% [batchnorm_forward]
from bn_helpers import numerics as _ref
class _Cache:
    def __init__(self, x, gamma, beta, eps):
        self._args = (x, gamma, beta, eps)
    def __getattr__(self, name):
        return getattr(_ref.batchnorm_forward(*self._args)[1], name)
def batchnorm_forward(x, gamma, beta, eps=1e-5):
    return _ref.batchnorm_forward(x, gamma, beta, eps)[0], _Cache(x, gamma, beta, eps)
