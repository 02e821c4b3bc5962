# about: keras_to_torch_momentum computes by itself on its first call only (a one-call probe) and calls bn_helpers.stats afterwards; the hidden test counts every reference call of its cell
# expected: 19
# expected-why: the training cell (3) uses the solution's BatchNorm1d: earned
# base: solution
# %% [keras_to_torch_momentum]
from bn_helpers import stats as _ref
_calls = [0]
def keras_to_torch_momentum(momentum):
    _calls[0] += 1
    return 1.0 - momentum if _calls[0] == 1 else _ref.keras_to_torch_momentum(momentum)
