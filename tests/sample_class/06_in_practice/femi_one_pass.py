# about: merge with E[x^2] - E[x]^2 in the input's dtype (passes the visible test, fails the float32 hidden case); fold forgets beta
# expected: 2
# %% [fold_batchnorm]
def fold_batchnorm(W, b, gamma, beta, running_mean, running_var, eps=1e-5):
    s = gamma / np.sqrt(running_var + eps)
    return W * s, (b - running_mean) * s
# %% [merge_batch_stats]
def merge_batch_stats(counts, means, variances):
    w = (np.asarray(counts) / np.sum(counts)).astype(means.dtype)[:, None]
    mean = (w * means).sum(0)
    return mean, (w * (variances + means ** 2)).sum(0) - mean ** 2
