# about: correct, written differently: sums and einsum, keepdims, np.var, a dict-free cache
# expected: 20
# %% [batch_mean]
def batch_mean(x):
    n = x.shape[0]
    return np.sum(x, axis=0, keepdims=True)[0] / n
# %% [batch_variance]
def batch_variance(x):
    centered = x - x.sum(axis=0) / len(x)
    return np.einsum("nd,nd->d", centered, centered) / len(x)
# %% [batchnorm_forward]
def batchnorm_forward(x, gamma, beta, eps=1e-5):
    mean = np.mean(x, axis=0)
    var = np.var(x, axis=0)
    std = np.sqrt(var + eps)
    x_hat = (x - mean) / std
    return x_hat * gamma + beta, BatchNormCache(x, x_hat, mean, var, 1 / std, gamma, beta, eps)
# %% [undo_params]
def undo_params(x, eps=1e-5):
    beta = x.mean(0)
    gamma = np.sqrt(((x - beta) ** 2).mean(0) + eps)
    return gamma, beta
