# about: eval mode still normalizes with the batch statistics (the "forgot eval()" bug inside the layer); momentum=None unsupported
# expected: 6
# %% [keras_to_torch_momentum]
def keras_to_torch_momentum(m):
    return 1 - m
# %% [BatchNorm1d]
class BatchNorm1d:
    def __init__(self, num_features, eps=1e-5, momentum=0.1):
        self.eps, self.momentum = eps, momentum
        self.gamma, self.beta = np.ones(num_features), np.zeros(num_features)
        self.running_mean, self.running_var = np.zeros(num_features), np.ones(num_features)
        self.training = True

    def forward(self, x):
        n = len(x)
        if self.training:
            if n < 2:
                raise ValueError("batch of one")
            m = self.momentum
            self.running_mean = (1 - m) * self.running_mean + m * x.mean(0)
            self.running_var = (1 - m) * self.running_var + m * x.var(0, ddof=1)
        return self.gamma * (x - x.mean(0)) / np.sqrt(x.var(0) + self.eps) + self.beta

    def train(self):
        self.training = True
        return self

    def eval(self):
        self.training = False
        return self
