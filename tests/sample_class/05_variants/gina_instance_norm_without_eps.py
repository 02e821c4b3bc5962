# about: instance norm without eps (divides by the std itself), named as such rather than "eps outside the square root"
# expected: 15
# base: solution
# %% [instancenorm_forward]
def instancenorm_forward(x, gamma, beta, eps=1e-5):
    mean = x.mean(axis=(2, 3), keepdims=True)
    std = x.std(axis=(2, 3), keepdims=True)
    return gamma.reshape(1, -1, 1, 1) * (x - mean) / std + beta.reshape(1, -1, 1, 1)
