# about: replaces checks.batch_mean by a no-op in the kernel (the first example); no code at all
# expected: 0
# %% [batch_mean]
from bn_helpers import checks
setattr(checks, "batch_mean", lambda *a, **k: None)
def batch_mean(x):
    raise NotImplementedError()
