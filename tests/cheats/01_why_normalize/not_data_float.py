# about: saturation_fraction returns an object whose __float__ calls bn_helpers.diagnostics when the judge reads it; a graded function must return data
# expected: 8
# base: solution
# %% [saturation_fraction]
from bn_helpers import diagnostics as _ref
class _Fraction:
    def __init__(self, a, threshold):
        self.args = (a, threshold)
    def __float__(self):
        return float(_ref.saturation_fraction(*self.args))
    def __array__(self, dtype=None, copy=None):
        return np.asarray(float(self), dtype=dtype)
def saturation_fraction(a, threshold=0.97):
    return _Fraction(a, threshold)
