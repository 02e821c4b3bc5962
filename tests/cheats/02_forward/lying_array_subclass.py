# about: returns an ndarray subclass whose ufuncs and comparisons always agree with the expected values; wrong numbers
# expected: 0
# %% [batch_mean]
class _Agreeable(np.ndarray):
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return np.True_
    def __eq__(self, other):
        return np.True_
    __ne__ = lambda self, other: np.False_
def batch_mean(x):
    return np.zeros(x.shape[1], x.dtype).view(_Agreeable)
# %% [batch_variance]
def batch_variance(x):
    return np.zeros(x.shape[1], x.dtype).view(_Agreeable)
