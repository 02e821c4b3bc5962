# about: the compact backward with the variance term's sign flipped (+ x_hat * sum(dx_hat * x_hat))
# expected: 10
# base: solution
# %% [batchnorm_backward_compact]
def batchnorm_backward_compact(dout, cache):
    x_hat, inv_std = cache.x_hat, cache.inv_std
    n = dout.shape[0]
    g = dout * cache.gamma
    dx = inv_std / n * (n * g - g.sum(axis=0) + x_hat * (g * x_hat).sum(axis=0))
    return dx, (dout * x_hat).sum(axis=0), dout.sum(axis=0)
