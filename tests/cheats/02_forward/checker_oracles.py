# about: answers with the checks' own oracles (checks.forward._stats, checks.forward._reference)
# expected: 0
# %% [batch_mean]
from bn_helpers.checks import forward as _oracle
def batch_mean(x):
    centered, _ = _oracle._stats(x)
    return (x - centered)[0].astype(x.dtype)
# %% [batch_variance]
def batch_variance(x):
    return _oracle._stats(x)[1][0].astype(x.dtype)
# %% [batchnorm_forward]
def batchnorm_forward(x, gamma, beta, eps=1e-5):
    out = _oracle._reference(x, gamma, beta, eps).astype(x.dtype)
    mean, var = x.mean(0), x.var(0)
    x_hat = (x - mean) / np.sqrt(var + eps)
    return out, BatchNormCache(x, x_hat, mean, var, 1 / np.sqrt(var + eps), gamma, beta, eps)
