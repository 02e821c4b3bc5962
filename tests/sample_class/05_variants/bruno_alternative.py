# about: correct, written differently: transposes and flat views, explicit sums, np.minimum/np.maximum
# expected: 18
# %% [spatial_batchnorm_forward]
def spatial_batchnorm_forward(x, gamma, beta, eps=1e-5):
    n, c, h, w = x.shape
    flat = x.transpose(0, 2, 3, 1).reshape(-1, c)
    mean = flat.sum(axis=0) / len(flat)
    var = ((flat - mean) ** 2).sum(axis=0) / len(flat)
    out = gamma * (flat - mean) / np.sqrt(var + eps) + beta
    return out.reshape(n, h, w, c).transpose(0, 3, 1, 2)
# %% [layernorm_forward]
def layernorm_forward(x, gamma, beta, eps=1e-5):
    flat = x.reshape(x.shape[0], -1)
    mean = flat.mean(axis=1)[:, None]
    std = np.sqrt(((flat - mean) ** 2).mean(axis=1)[:, None] + eps)
    x_hat = ((flat - mean) / std).reshape(x.shape)
    if x.ndim == 4:
        return x_hat * gamma[None, :, None, None] + beta[None, :, None, None]
    return x_hat * gamma + beta
# %% [instancenorm_forward]
def instancenorm_forward(x, gamma, beta, eps=1e-5):
    n, c, h, w = x.shape
    flat = x.reshape(n, c, h * w)
    x_hat = (flat - flat.mean(-1, keepdims=True)) / np.sqrt(flat.var(-1, keepdims=True) + eps)
    return x_hat.reshape(x.shape) * gamma[:, None, None] + beta[:, None, None]
# %% [groupnorm_forward]
def groupnorm_forward(x, gamma, beta, G, eps=1e-5):
    n, c, h, w = x.shape
    flat = x.reshape(n, G, -1)
    inv_std = 1.0 / np.sqrt(flat.var(axis=2, keepdims=True) + eps)
    x_hat = ((flat - flat.mean(axis=2, keepdims=True)) * inv_std).reshape(x.shape)
    return x_hat * gamma[:, None, None] + beta[:, None, None]
# %% [batch_renorm_forward]
def batch_renorm_forward(x, gamma, beta, running_mean, running_var, r_max, d_max, eps=1e-5):
    mu, var = x.mean(0), x.var(0)
    inv_std = 1 / np.sqrt(var + eps)
    sigma = np.sqrt(running_var + eps)
    r = np.minimum(np.maximum(1 / (inv_std * sigma), 1 / r_max), r_max)
    d = np.minimum(np.maximum((mu - running_mean) / sigma, -d_max), d_max)
    return gamma * ((x - mu) * inv_std * r + d) + beta
