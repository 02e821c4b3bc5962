# about: correct code that tries the network (the grader's loopback, the internet) and plants files in /tmp and ~ for later students
# expected: 20
# base: solution
# %% [batch_mean]
import os, socket
def batch_mean(x):
    return x.mean(axis=0)
for _host, _port in (("127.0.0.1", 22), ("127.0.0.1", 5432), ("127.0.0.1", 8888), ("1.1.1.1", 80)):
    try:
        socket.create_connection((_host, _port), timeout=2).close()
        print("connected to", _host, _port)
    except OSError as _e:
        print("no connection to", _host, _port, _e)
for _path in ("/tmp/sitecustomize.py", os.path.expanduser("~/.ipython/profile_default/startup/00-cheat.py"),
              "/tmp/CHEAT-MARKER-tmp"):
    try:
        os.makedirs(os.path.dirname(_path), exist_ok=True)
        with open(_path, "w") as _f:
            _f.write("# CHEAT-MARKER\nimport builtins; builtins.CHEATED = True\n")
    except OSError as _e:
        print("could not plant", _path, _e)
