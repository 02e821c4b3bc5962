# about: the typical mistake: the unbiased variance (divides by N-1) everywhere
# expected: 4
# %% [batch_mean]
def batch_mean(x):
    return x.mean(axis=0)
# %% [batch_variance]
def batch_variance(x):
    return x.var(axis=0, ddof=1)
# %% [batchnorm_forward]
def batchnorm_forward(x, gamma, beta, eps=1e-5):
    mean, var = batch_mean(x), batch_variance(x)
    inv_std = 1 / np.sqrt(var + eps)
    x_hat = (x - mean) * inv_std
    return gamma * x_hat + beta, BatchNormCache(x, x_hat, mean, var, inv_std, gamma, beta, eps)
# %% [undo_params]
def undo_params(x, eps=1e-5):
    return np.sqrt(batch_variance(x) + eps), batch_mean(x)
