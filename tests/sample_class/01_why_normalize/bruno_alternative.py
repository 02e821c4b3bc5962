# about: correct, written differently: np.divide with where=, a loop for the stats, a count / size
# expected: 12
# %% [standardize]
def standardize(X):
    centered = X - np.mean(X, axis=0)
    spread = np.sqrt(np.mean(centered ** 2, axis=0))
    constant = np.ptp(X, axis=0) == 0  # all values equal: spread can come out 1e-17 instead of 0
    return np.divide(centered, spread, out=np.zeros_like(centered), where=~constant)
# %% [layer_stats]
def layer_stats(activations):
    result = []
    for layer in activations:
        values = np.asarray(layer, dtype=np.float64).ravel()
        result.append((values.mean(), values.std()))
    return result
# %% [saturation_fraction]
def saturation_fraction(a, threshold=0.97):
    a = np.asarray(a)
    return np.count_nonzero(np.abs(a) > threshold) / a.size
