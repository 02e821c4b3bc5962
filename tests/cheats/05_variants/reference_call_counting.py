# about: layernorm_forward computes by itself on every other call (so a one-call probe may see no reference) and calls the reference on the rest; the hidden test counts every reference call of its cell
# expected: 16
# expected-why: the training cell (3) uses the solution's group norm: earned
# base: solution
# %% [layernorm_forward]
from bn_helpers import norms as _ref
_calls = [0]
def _own(x, gamma, beta, eps):
    axes = tuple(range(1, x.ndim))
    mean, var = x.mean(axis=axes, keepdims=True), x.var(axis=axes, keepdims=True)
    view = (1, -1) + (1,) * (x.ndim - 2)
    return gamma.reshape(view) * (x - mean) / np.sqrt(var + eps) + beta.reshape(view)
def layernorm_forward(x, gamma, beta, eps=1e-5):
    _calls[0] += 1
    return _own(x, gamma, beta, eps) if _calls[0] % 2 else _ref.layernorm_forward(x, gamma, beta, eps)[0]
