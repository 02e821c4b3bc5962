# about: the typical mistake: the sample std (ddof=1, as pandas' .std() does) in standardize and layer_stats
# expected: 4
# %% [standardize]
def standardize(X):
    std = X.std(axis=0, ddof=1)
    std[std == 0] = 1.0
    return (X - X.mean(axis=0)) / std
# %% [layer_stats]
def layer_stats(activations):
    return [(float(np.mean(a)), float(np.std(a, ddof=1))) for a in activations]
# %% [saturation_fraction]
def saturation_fraction(a, threshold=0.97):
    return float(np.mean(np.abs(a) > threshold))
