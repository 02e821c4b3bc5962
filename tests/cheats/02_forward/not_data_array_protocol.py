# about: batch_mean returns an object whose __array__ calls the reference later, when the judge reads it (outside the call); a graded function must return data (the solution's batchnorm_forward and undo_params call it, and fall with it)
# expected: 5
# base: solution
# %% [batch_mean]
from bn_helpers import numerics as _ref
class _Later:
    def __init__(self, x):
        self.x = x
    def __array__(self, dtype=None, copy=None):
        out = _ref.batch_mean(self.x)
        return out if dtype is None else out.astype(dtype)
    def __len__(self):
        return self.x.shape[1]
def batch_mean(x):
    return _Later(x)
