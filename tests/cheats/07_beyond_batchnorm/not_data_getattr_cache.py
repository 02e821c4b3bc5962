# about: rmsnorm_forward returns a cache whose fields come from __getattr__ (the reference computes them when read); a graded function must return data
# expected: 9
# base: solution
# %% [rmsnorm_forward]
from bn_helpers import rmsnorm as _ref
class _Cache:
    def __init__(self, x, gamma, eps):
        self._args = (x, gamma, eps)
    def __getattr__(self, name):
        return getattr(_ref.rmsnorm_forward(*self._args)[1], name)
    def __iter__(self):
        return iter(_ref.rmsnorm_forward(*self._args)[1])
def rmsnorm_forward(x, gamma, eps=1e-5):
    return _ref.rmsnorm_forward(x, gamma, eps)[0], _Cache(x, gamma, eps)
