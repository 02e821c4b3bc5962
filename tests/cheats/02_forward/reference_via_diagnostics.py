# about: batch_mean takes the per-column means from bn_helpers.diagnostics.layer_stats (forwarded to the grader, but never on a hand-kept forbidden list) (the solution's batchnorm_forward and undo_params call it, and fall with it)
# expected: 12
# base: solution
# %% [batch_mean]
from bn_helpers import diagnostics as _diag
def batch_mean(x):
    return np.array([m for m, _ in _diag.layer_stats(list(x.T))], dtype=x.dtype)
