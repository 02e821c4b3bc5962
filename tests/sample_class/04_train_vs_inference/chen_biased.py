# about: the typical mistake: running_var averages the biased batch variance
# expected: 6
# %% [keras_to_torch_momentum]
def keras_to_torch_momentum(m):
    return 1.0 - m
# %% [BatchNorm1d]
class BatchNorm1d:
    def __init__(self, num_features, eps=1e-5, momentum=0.1):
        self.eps, self.momentum = eps, momentum
        self.gamma, self.beta = np.ones(num_features), np.zeros(num_features)
        self.running_mean, self.running_var = np.zeros(num_features), np.ones(num_features)
        self.n_batches = 0
        self.training = True

    def forward(self, x):
        if self.training:
            out, cache = batchnorm_forward(x, self.gamma, self.beta, self.eps)
            self.n_batches += 1
            m = self.momentum if self.momentum is not None else 1 / self.n_batches
            self.running_mean = (1 - m) * self.running_mean + m * cache.mean
            self.running_var = (1 - m) * self.running_var + m * cache.var
            return out
        return self.gamma * (x - self.running_mean) / np.sqrt(self.running_var + self.eps) + self.beta

    def train(self):
        self.training = True
        return self

    def eval(self):
        self.training = False
        return self
