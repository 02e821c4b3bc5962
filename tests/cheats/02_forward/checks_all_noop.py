# about: makes every function of bn_helpers.checks a no-op, in every checks module too; wrong code
# expected: 0
# %% [batch_mean]
import sys
import bn_helpers.checks as _c
for _mod in [m for n, m in sys.modules.items() if n.startswith("bn_helpers.checks")]:
    for _n in dir(_mod):
        if callable(getattr(_mod, _n)) and not _n.startswith("__"):
            try:
                setattr(_mod, _n, lambda *a, **k: None)
            except Exception:
                pass
def batch_mean(x):
    return x.sum(axis=0)
# %% [batch_variance]
def batch_variance(x):
    return x.std(axis=0)
# %% [batchnorm_forward]
def batchnorm_forward(x, gamma, beta, eps=1e-5):
    return x, None
# %% [undo_params]
def undo_params(x, eps=1e-5):
    return np.ones(x.shape[1]), np.zeros(x.shape[1])
