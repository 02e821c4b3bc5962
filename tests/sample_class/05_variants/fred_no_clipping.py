# about: layer norm over the channel axis only for images, and batch renorm without clipping r and d
# expected: 12
# %% [spatial_batchnorm_forward]
def spatial_batchnorm_forward(x, gamma, beta, eps=1e-5):
    """Batch norm for (N, C, H, W): per channel, over (N, H, W). Returns out, shape of x."""
    mean = x.mean(axis=(0, 2, 3), keepdims=True)
    var = x.var(axis=(0, 2, 3), keepdims=True)
    x_hat = (x - mean) / np.sqrt(var + eps)
    return gamma.reshape(1, -1, 1, 1) * x_hat + beta.reshape(1, -1, 1, 1)
# %% [layernorm_forward]
def layernorm_forward(x, gamma, beta, eps=1e-5):
    axes = (1,)
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    x_hat = (x - mean) / np.sqrt(var + eps)
    shape = (1, -1) + (1,) * (x.ndim - 2)
    return gamma.reshape(shape) * x_hat + beta.reshape(shape)
# %% [instancenorm_forward]
def instancenorm_forward(x, gamma, beta, eps=1e-5):
    """Instance norm: per example and channel, over (H, W). x (N, C, H, W); gamma, beta (C,)."""
    mean = x.mean(axis=(2, 3), keepdims=True)
    var = x.var(axis=(2, 3), keepdims=True)
    x_hat = (x - mean) / np.sqrt(var + eps)
    return gamma.reshape(1, -1, 1, 1) * x_hat + beta.reshape(1, -1, 1, 1)
# %% [groupnorm_forward]
def groupnorm_forward(x, gamma, beta, G, eps=1e-5):
    """Group norm: per example and group of C // G consecutive channels. x (N, C, H, W); gamma, beta (C,)."""
    n, c, h, w = x.shape
    xg = x.reshape(n, G, c // G, h, w)
    mean = xg.mean(axis=(2, 3, 4), keepdims=True)
    var = xg.var(axis=(2, 3, 4), keepdims=True)
    x_hat = ((xg - mean) / np.sqrt(var + eps)).reshape(n, c, h, w)
    return gamma.reshape(1, -1, 1, 1) * x_hat + beta.reshape(1, -1, 1, 1)
# %% [batch_renorm_forward]
def batch_renorm_forward(x, gamma, beta, running_mean, running_var, r_max, d_max, eps=1e-5):
    mean = x.mean(axis=0)
    sigma_b = np.sqrt(x.var(axis=0) + eps)
    sigma = np.sqrt(running_var + eps)
    r = sigma_b / sigma
    d = (mean - running_mean) / sigma
    x_hat = (x - mean) / sigma_b * r + d
    return gamma * x_hat + beta
