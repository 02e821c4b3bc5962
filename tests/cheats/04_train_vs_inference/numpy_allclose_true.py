# about: np.allclose and np.isclose always say yes; a layer that never updates its running statistics and a wrong conversion
# expected: 0
# %% [keras_to_torch_momentum]
import numpy
numpy.allclose = lambda *a, **k: True
numpy.isclose = lambda a, b, *r, **k: numpy.ones(numpy.broadcast(a, b).shape, bool)
numpy.array_equal = lambda *a, **k: True
def keras_to_torch_momentum(m):
    return m
# %% [BatchNorm1d]
class BatchNorm1d:
    def __init__(self, num_features, eps=1e-5, momentum=0.1):
        self.gamma, self.beta = np.ones(num_features), np.zeros(num_features)
        self.running_mean, self.running_var = np.zeros(num_features), np.ones(num_features)
        self.training = True
    def train(self):
        self.training = True
        return self
    def eval(self):
        self.training = False
        return self
    def forward(self, x):
        return x.copy()
