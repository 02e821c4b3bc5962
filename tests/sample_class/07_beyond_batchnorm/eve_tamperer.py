# about: rewrote every test cell to `assert True`; her RMSNorm subtracts the mean (that is layer norm without beta)
# expected: 9
# base: solution
# %% [rmsnorm_forward]
def rmsnorm_forward(x, gamma, eps=1e-5):
    """RMSNorm over the last axis. x: (..., D); gamma: (D,). Returns (out, RMSNormCache(x, x_hat, inv_rms, gamma, eps))."""
    centered = x - x.mean(axis=-1, keepdims=True)
    inv_rms = 1.0 / np.sqrt((centered ** 2).mean(axis=-1, keepdims=True) + eps)
    x_hat = centered * inv_rms
    return gamma * x_hat, RMSNormCache(x, x_hat, inv_rms, gamma, eps)
# %% [test_normalize_backward]
assert True
# %% [test_normalize_backward_hidden]
assert True
# %% [test_rmsnorm_forward]
assert True
# %% [test_rmsnorm_forward_hidden]
assert True
# %% [test_rmsnorm_backward]
assert True
# %% [test_rmsnorm_backward_hidden]
assert True
