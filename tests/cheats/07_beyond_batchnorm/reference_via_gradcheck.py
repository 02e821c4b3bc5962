# about: rmsnorm_backward returns numerical gradients (bn_helpers.gradcheck, forwarded) through the student's own forward instead of a backward pass
# expected: 10
# base: solution
# %% [rmsnorm_backward]
from bn_helpers.gradcheck import numerical_gradient as _num
def rmsnorm_backward(dout, cache):
    x, gamma, eps = cache.x.astype(np.float64), np.asarray(cache.gamma, np.float64), cache.eps
    d = dout.astype(np.float64)
    dx = _num(lambda a: rmsnorm_forward(a, gamma, eps)[0], x, d)
    dgamma = _num(lambda g: rmsnorm_forward(x, g, eps)[0], gamma.copy(), d)
    return dx.astype(dout.dtype), dgamma.astype(dout.dtype)
