# about: batch_mean remembers the reference's answer by the input's bytes, so a probe on an input it has seen makes no reference call; the hidden test counts every reference call of its cell (the solution's batchnorm_forward and undo_params call it, and fall with it)
# expected: 12
# base: solution
# %% [batch_mean]
from bn_helpers import numerics as _ref
_seen = {}
def batch_mean(x):
    key = (x.shape, x.dtype.str, x.tobytes())
    if key not in _seen:
        _seen[key] = _ref.batch_mean(x)
    return _seen[key].copy()
