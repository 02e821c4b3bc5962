# about: np.allclose, np.isclose and np.array_equal always say yes (the checks look np up at call time); wrong code
# expected: 0
# %% [batch_mean]
import numpy
numpy.allclose = lambda *a, **k: True
numpy.isclose = lambda a, b, *r, **k: numpy.ones(numpy.broadcast(a, b).shape, bool)
numpy.array_equal = lambda *a, **k: True
def batch_mean(x):
    return np.zeros(x.shape[1], x.dtype)
# %% [batch_variance]
def batch_variance(x):
    return np.ones(x.shape[1], x.dtype)
# %% [batchnorm_forward]
def batchnorm_forward(x, gamma, beta, eps=1e-5):
    return x.copy(), BatchNormCache(x, x, np.zeros(x.shape[1]), np.ones(x.shape[1]), np.ones(x.shape[1]), gamma, beta, eps)
# %% [undo_params]
def undo_params(x, eps=1e-5):
    return np.ones(x.shape[1]), np.zeros(x.shape[1])
