# about: correct, written differently: explicit sums and M, 1 / rms, the backward through r**3 * x, einsum for dgamma
# expected: 12
# %% [normalize_backward]
def normalize_backward(dx_hat, x_hat, inv_std, axes):
    m = 1
    for a in axes:
        m *= x_hat.shape[a]
    s1 = np.sum(dx_hat, axis=axes, keepdims=True)
    s2 = np.sum(dx_hat * x_hat, axis=axes, keepdims=True)
    return inv_std / m * (m * dx_hat - s1 - x_hat * s2)
# %% [rmsnorm_forward]
def rmsnorm_forward(x, gamma, eps=1e-5):
    rms = np.sqrt(np.mean(np.square(x), axis=-1, keepdims=True) + eps)
    x_hat = x / rms
    return x_hat * gamma, RMSNormCache(x=x, x_hat=x_hat, inv_rms=1 / rms, gamma=gamma, eps=eps)
# %% [rmsnorm_backward]
def rmsnorm_backward(dout, cache):
    d = dout.shape[-1]
    g = dout * cache.gamma
    r = cache.inv_rms
    dx = r * g - r ** 3 * cache.x * np.sum(g * cache.x, axis=-1, keepdims=True) / d
    dgamma = np.einsum('nd,nd->d', dout.reshape(-1, d), cache.x_hat.reshape(-1, d))
    return dx, dgamma
