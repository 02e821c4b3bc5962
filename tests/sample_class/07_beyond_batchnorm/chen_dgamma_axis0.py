# about: the typical mistake: RMSNorm's dgamma summed over axis 0 only, right for (N, D) but (T, D) for (B, T, D) tokens
# expected: 8
# base: solution
# %% [rmsnorm_backward]
def rmsnorm_backward(dout, cache):
    """Backward of rmsnorm_forward. dout: shape of x. Returns (dx, dgamma), dgamma of shape (D,)."""
    dx_hat = dout * cache.gamma
    mean_gx = (dx_hat * cache.x_hat).mean(axis=-1, keepdims=True)
    dx = cache.inv_rms * (dx_hat - cache.x_hat * mean_gx)
    dgamma = (dout * cache.x_hat).sum(axis=0)
    return dx, dgamma
