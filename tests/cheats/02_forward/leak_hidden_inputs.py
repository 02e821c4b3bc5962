# about: batch_mean raises an exception whose message (and class name) carries the input, on float32 inputs of a size no visible case has (12, 21 and 24 values are the visible float32 cases), so the feedback would show the salted hidden cases for a table; hidden verdicts show the diagnosis, not the student's text (the solution's batchnorm_forward and undo_params call it, and fall with it)
# expected: 12
# base: solution
# %% [batch_mean]
_Leak = type("CHEAT_" + "INPUT_x", (ValueError,), {})
def batch_mean(x):
    if x.dtype == np.float32 and x.size not in (12, 21, 24):
        raise _Leak("CHEAT-" + "INPUT " + repr(x.ravel()[:4].tolist()))
    return x.mean(axis=0)
