# about: the typical mistake: the variance path left out (var treated as a constant; the mean path kept), in both forms
# expected: 0
# %% [batchnorm_backward]
def batchnorm_backward(dout, cache):
    n = dout.shape[0]
    dbeta = dout.sum(axis=0)
    dgamma = (dout * cache.x_hat).sum(axis=0)
    dcentered = dout * cache.gamma * cache.inv_std
    dmean = -dcentered.sum(axis=0)
    return dcentered + dmean / n, dgamma, dbeta
# %% [batchnorm_backward_compact]
def batchnorm_backward_compact(dout, cache):
    g = dout * cache.gamma
    return cache.inv_std * (g - g.mean(axis=0)), (dout * cache.x_hat).sum(axis=0), dout.sum(axis=0)
