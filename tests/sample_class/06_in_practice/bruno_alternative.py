# about: correct, written differently: a diagonal matrix for the fold, a pairwise (Chan et al.) merge
# expected: 10
# %% [fold_batchnorm]
def fold_batchnorm(W, b, gamma, beta, running_mean, running_var, eps=1e-5):
    inv_std = 1.0 / np.sqrt(running_var + eps)
    return W @ np.diag(gamma * inv_std), beta + gamma * (b - running_mean) * inv_std
# %% [merge_batch_stats]
def merge_batch_stats(counts, means, variances):
    n, mean, m2 = 0.0, 0.0, 0.0
    for n_k, m_k, v_k in zip(counts, means.astype(np.float64), variances.astype(np.float64)):
        delta = m_k - mean
        total = n + n_k
        mean = mean + delta * n_k / total
        m2 = m2 + v_k * n_k + delta ** 2 * n * n_k / total
        n = total
    return mean, m2 / n
