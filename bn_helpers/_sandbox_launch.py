"""The sandbox launcher: apply resource limits, then become bubblewrap (or the command itself).

Run by :mod:`bn_helpers.sandbox` as ``python -I -S _sandbox_launch.py SPEC`` (no site,
no imports beyond the standard library: it starts once per sandboxed process).
SPEC is a JSON file written by :meth:`bn_helpers.sandbox.Sandbox.command`.
"""
import json
import os
import signal
import sys

try:
    import resource
except ImportError:  # Windows: no resource limits (grading there is UNSANDBOXED anyway; use WSL)
    resource = None


def apply_limits(limits):
    if resource is None:
        return
    _RLIMITS = {"cpu": resource.RLIMIT_CPU, "as": resource.RLIMIT_AS, "fsize": resource.RLIMIT_FSIZE,
                "nofile": resource.RLIMIT_NOFILE, "core": resource.RLIMIT_CORE}
    for key, value in limits.items():
        which = _RLIMITS[key]
        soft, hard = resource.getrlimit(which)
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)
        # CPU: SIGXCPU at the soft limit, SIGKILL one second later.
        resource.setrlimit(which, (value, value + 1 if key == "cpu" and hard == resource.RLIM_INFINITY else value))


def launch(spec_path):
    with open(spec_path) as f:
        spec = json.load(f)
    try:
        os.setpgid(0, 0)
    except (OSError, AttributeError):
        pass
    if hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    apply_limits(spec["limits"])
    if "bwrap" in spec:
        args = [spec["bwrap_path"], *spec["bwrap"]]
        if "seccomp" in spec:
            fd = os.open(spec["seccomp"], os.O_RDONLY)
            os.set_inheritable(fd, True)
            args += ["--seccomp", str(fd)]
        # bwrap itself starts with an EMPTY environment: its process is PID 1 inside the sandbox, whose
        # /proc/1/environ the student can read (--clearenv only clears the environment of bwrap's child).
        # What the sandboxed command gets is the spec's --setenv list alone.
        os.execve(args[0], [*args, "--", *spec["argv"]], {})
    os.chdir(spec["cwd"])
    os.execve(spec["argv"][0], spec["argv"], spec["env"])


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -I -S _sandbox_launch.py SPEC")
    launch(sys.argv[1])
