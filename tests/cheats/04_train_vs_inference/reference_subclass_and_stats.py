# about: BatchNorm1d subclasses the reference bn_helpers.nn.BatchNorm1d; the momentum conversion calls bn_helpers.stats in a thread
# expected: 2
# %% [keras_to_torch_momentum]
import threading
from bn_helpers import stats as _stats
def keras_to_torch_momentum(m):
    out = []
    t = threading.Thread(target=lambda: out.append(_stats.keras_to_torch_momentum(m)))
    t.start(); t.join()
    return out[0]
# %% [BatchNorm1d]
from bn_helpers import nn as _nn
class BatchNorm1d(_nn.BatchNorm1d):
    def __init__(self, num_features, eps=1e-5, momentum=0.1):
        super().__init__(num_features, eps=eps, momentum=momentum)
