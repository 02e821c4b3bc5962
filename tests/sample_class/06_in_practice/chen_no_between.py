# about: the typical mistake: merged variance without the between-device term
# expected: 5
# %% [fold_batchnorm]
def fold_batchnorm(W, b, gamma, beta, running_mean, running_var, eps=1e-5):
    s = gamma / np.sqrt(running_var + eps)
    return W * s, (b - running_mean) * s + beta
# %% [merge_batch_stats]
def merge_batch_stats(counts, means, variances):
    w = np.asarray(counts)[:, None] / np.sum(counts)
    return (w * means).sum(0), (w * variances).sum(0)
