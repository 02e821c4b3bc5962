# about: starts a background process (fork, subprocess, a detached shell) that edits the gradebook after grading ends; no code
# expected: 0
# %% [batch_mean]
import os, subprocess, sys, threading, time
_script = ("import glob, sqlite3, time\n"
           "time.sleep(3)\n"
           "for db in glob.glob('/**/gradebook.db', recursive=True):\n"
           "    c = sqlite3.connect(db); c.execute('UPDATE grade SET auto_score = 0'); c.commit()\n"
           "open('/tmp/CHEAT-MARKER-background', 'w').write('CHEAT-MARKER')\n")
for _how in ("subprocess", "fork", "shell"):
    try:
        if _how == "subprocess":
            subprocess.Popen([sys.executable, "-c", _script], start_new_session=True)
        elif _how == "fork":
            if os.fork() == 0:
                os.setsid()
                exec(_script)
                os._exit(0)
        else:
            os.system("(sleep 3; echo CHEAT-MARKER > /tmp/CHEAT-MARKER-shell) &")
        print(_how, "started")
    except Exception as _e:
        print(_how, "refused:", _e)
threading.Thread(target=lambda: (time.sleep(1), exec(_script)), daemon=True).start()
def batch_mean(x):
    raise NotImplementedError()
