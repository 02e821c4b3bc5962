# about: std > 0 misses a constant feature whose std rounds to 1e-17 (a column of 0.1), and layer_stats of |a|
# expected: 4
# base: solution
# %% [standardize]
def standardize(X):
    mean = X.mean(axis=0)
    std = X.std(axis=0)
    return (X - mean) / np.where(std > 0, std, 1.0)
# %% [layer_stats]
def layer_stats(activations):
    return [(float(np.mean(np.abs(a))), float(np.std(np.abs(a)))) for a in activations]
