# about: batchnorm_backward remembers bn_helpers.norms' answers by the inputs' bytes (a probe on a seen input makes no reference call); the hidden test counts every reference call of its cell
# expected: 17
# expected-why: the training cell (3) uses the solution's compact backward: earned
# base: solution
# %% [batchnorm_backward]
from bn_helpers import norms as _ref
_seen = {}
def batchnorm_backward(dout, cache):
    key = (dout.tobytes(), np.asarray(cache.x).tobytes(), np.asarray(cache.gamma).tobytes())
    if key not in _seen:
        _seen[key] = _ref.batchnorm_backward(dout, cache)
    return tuple(np.array(a, copy=True) for a in _seen[key])
