# about: correct code, but predicted (a): that noisy batch norm would train about like no batch norm
# expected: 13
# base: solution
# %% [prediction_ics]
def prediction_ics():
    return "a"
