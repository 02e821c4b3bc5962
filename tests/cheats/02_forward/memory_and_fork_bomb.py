# about: correct code, plus a 30 GB allocation and a fork bomb; the machine and later students must not notice
# expected: 20
# base: solution
# %% [batch_mean]
import os
def batch_mean(x):
    return x.mean(axis=0)
try:
    _waste = np.ones(30 * 2 ** 30 // 8)
    print("allocated 30 GB")
except MemoryError:
    print("no 30 GB")
_children = 0
for _ in range(200):
    try:
        if os.fork() == 0:
            while True:
                pass
        _children += 1
    except OSError:
        break
print("forked", _children)
