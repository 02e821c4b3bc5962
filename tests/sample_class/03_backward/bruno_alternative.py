# about: correct, written differently: cs231n-style staged graph recomputed from x, var and eps; means in the compact form
# expected: 23
# %% [batchnorm_backward]
def batchnorm_backward(dout, cache):
    N = dout.shape[0]
    xmu = cache.x - cache.mean
    ivar = 1.0 / np.sqrt(cache.var + cache.eps)
    xhat = xmu * ivar
    dbeta = np.sum(dout, axis=0)
    dgamma = np.sum(dout * xhat, axis=0)
    dxhat = dout * cache.gamma
    divar = np.sum(dxhat * xmu, axis=0)
    dvar = -0.5 * ivar ** 3 * divar
    dxmu = dxhat * ivar + 2.0 * xmu * dvar / N
    dmu = -np.sum(dxmu, axis=0)
    return dxmu + dmu / N, dgamma, dbeta
# %% [batchnorm_backward_compact]
def batchnorm_backward_compact(dout, cache):
    g = dout * cache.gamma
    dx = cache.inv_std * (g - g.mean(axis=0) - cache.x_hat * (g * cache.x_hat).mean(axis=0))
    return dx, (dout * cache.x_hat).sum(axis=0), dout.sum(axis=0)
