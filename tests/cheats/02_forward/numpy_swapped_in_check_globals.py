# about: swaps `np` in the globals of every checks module for a numpy whose comparisons always pass; wrong code
# expected: 0
# %% [batch_mean]
import sys, types
import numpy
import bn_helpers.checks
_fake = types.ModuleType("numpy")
_fake.__dict__.update(numpy.__dict__)
_fake.allclose = lambda *a, **k: True
_fake.isclose = lambda a, b, *r, **k: numpy.ones(numpy.broadcast(a, b).shape, bool)
_fake.array_equal = lambda *a, **k: True
for _name, _mod in list(sys.modules.items()):
    if _name.startswith("bn_helpers.checks") and hasattr(_mod, "np"):
        _mod.np = _fake
def batch_mean(x):
    return np.zeros(x.shape[1], x.dtype)
