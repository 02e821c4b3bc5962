# about: rmsnorm_forward computes by itself only on small inputs (where a probe is expected) and calls the reference on the rest; the hidden test counts every reference call of its cell
# expected: 10
# base: solution
# %% [rmsnorm_forward]
from bn_helpers import rmsnorm as _ref
def _own(x, gamma, eps):
    inv_rms = 1.0 / np.sqrt((x * x).mean(axis=-1, keepdims=True) + eps)
    return gamma * (x * inv_rms), RMSNormCache(x, x * inv_rms, inv_rms, gamma, eps)
def rmsnorm_forward(x, gamma, eps=1e-5):
    return _own(x, gamma, eps) if np.size(x) <= 30 else _ref.rmsnorm_forward(x, gamma, eps)
