# about: correct code that prints the whole environment (NBGRADER_DB_URL, tokens) into its output, hoping it reaches the feedback
# expected: 20
# base: solution
# %% [batch_mean]
import os
print(dict(os.environ))
for _k in ("NBGRADER_DB_URL", "GRADER_API_TOKEN", "PGPASSWORD", "HOME", "USER"):
    print(_k, "=", os.environ.get(_k))
def batch_mean(x):
    return x.mean(axis=0)
