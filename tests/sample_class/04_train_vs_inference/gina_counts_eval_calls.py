# about: momentum=None counts eval-mode calls in num_batches_tracked (the cumulative average drifts after eval)
# expected: 14
# base: solution
# %% [BatchNorm1d]
class BatchNorm1d:
    def __init__(self, num_features, eps=1e-5, momentum=0.1):
        self.eps, self.momentum = eps, momentum
        self.gamma = np.ones(num_features)
        self.beta = np.zeros(num_features)
        self.running_mean = np.zeros(num_features)
        self.running_var = np.ones(num_features)
        self.num_batches_tracked = 0
        self.training = True

    def forward(self, x):
        self.num_batches_tracked += 1
        if not self.training:
            x_hat = (x - self.running_mean) / np.sqrt(self.running_var + self.eps)
            return self.gamma * x_hat + self.beta
        n = x.shape[0]
        if n < 2:
            raise ValueError("Expected more than 1 value per feature when training")
        out, cache = batchnorm_forward(x, self.gamma, self.beta, self.eps)
        m = 1.0 / self.num_batches_tracked if self.momentum is None else self.momentum
        self.running_mean = (1 - m) * self.running_mean + m * cache.mean
        self.running_var = (1 - m) * self.running_var + m * cache.var * n / (n - 1)
        return out

    def train(self):
        self.training = True
        return self

    def eval(self):
        self.training = False
        return self
