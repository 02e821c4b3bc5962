# about: correct, written differently: ddof=1 for the running variance, incremental averages, train(mode)
# expected: 23
# %% [keras_to_torch_momentum]
def keras_to_torch_momentum(m):
    torch_momentum = 1 - m
    return torch_momentum
# %% [BatchNorm1d]
class BatchNorm1d:
    def __init__(self, num_features, eps=1e-5, momentum=0.1):
        self.eps, self.momentum = eps, momentum
        self.gamma = np.ones(num_features)
        self.beta = np.zeros(num_features)
        self.running_mean = np.zeros(num_features)
        self.running_var = np.full(num_features, 1.0)
        self.steps = 0
        self.train()

    def train(self, mode=True):
        self.training = mode
        return self

    def eval(self):
        return self.train(False)

    def forward(self, x):
        if self.training:
            if len(x) < 2:
                raise ValueError("need more than 1 value per feature in training mode")
            self.steps += 1
            w = self.momentum if self.momentum is not None else 1 / self.steps
            self.running_mean = self.running_mean + w * (x.mean(0) - self.running_mean)
            self.running_var = self.running_var + w * (x.var(0, ddof=1) - self.running_var)
            mean, var = x.mean(0), x.var(0)
        else:
            mean, var = self.running_mean, self.running_var
        return (x - mean) / np.sqrt(var + self.eps) * self.gamma + self.beta
