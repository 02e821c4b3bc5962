"""Run student code in a sandbox: bubblewrap namespaces, a seccomp filter, resource limits.

Grading runs student code twice, both times through this module: nbgrader's
kernel (:class:`SandboxedKernelManager`, wired in by :class:`SandboxedExecute`)
and the judge's runner (:mod:`bn_helpers.judge`). Each sandboxed process

* sees a read-only system (``/usr``, the Python installation, the virtual
  environment at ``/opt/venv``), a read-only copy of what the notebook may
  import, and one private writable folder with a *copy* of the submission;
  nothing of the course (sources, release, gradebook, other students);
* starts with an empty environment plus a handful of harmless variables
  (no ``NBGRADER_DB_URL``, no token, no password);
* has no network (its own network namespace; the kernel talks to nbgrader over
  Unix sockets in a folder bound into the sandbox), its own PID namespace and
  session, and dies with its parent;
* cannot start processes (a seccomp filter refuses ``fork``, ``vfork`` and every
  ``clone`` that does not make a thread), nor ``ptrace``, mount, or create
  namespaces;
* runs under limits on CPU time, address space (memory), file size, open files
  and the size of its ``/tmp``.

The mechanism is `bubblewrap <https://github.com/containers/bubblewrap>`_
(``bwrap``, packaged by Debian, Ubuntu, Fedora, Arch; used by Flatpak): it
needs unprivileged user namespaces, no daemon and no root. Where it is missing
or does not work (macOS, Windows, a kernel without user namespaces), grading
goes on **UNSANDBOXED** with a clean environment and the resource limits, and
says so loudly: a warning on stderr for every submission and ``"sandbox":
"UNSANDBOXED: ..."`` in each ``judge.json``. Set ``c.Sandbox.mode = "require"``
to refuse to grade instead.

``bn_helpers/_sandbox_launch.py`` is the small trusted launcher that applies
the limits and then executes ``bwrap`` (or, unsandboxed, the command itself);
:meth:`Sandbox.command` writes its SPEC. ``python -m bn_helpers.sandbox status``
says whether the sandbox works on this machine.
"""
from __future__ import annotations

import json
import os
import platform
import shutil
import struct
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from traitlets import Bool, Dict, Int, List, Unicode
from traitlets.config import LoggingConfigurable

__all__ = ["Sandbox", "SandboxError", "SandboxedKernelManager", "SandboxedExecute", "seccomp_filter", "UNSANDBOXED"]

#: The word grading prints and records when student code runs without a sandbox.
UNSANDBOXED = "UNSANDBOXED"

#: Where the sandbox sees the virtual environment, the importable course code and the work folder.
VENV_INSIDE = "/opt/venv"
LIB_INSIDE = "/course/lib"
WORK_INSIDE = "/work"
HOME_INSIDE = "/tmp/home"

LAUNCHER = Path(__file__).resolve().with_name("_sandbox_launch.py")

GiB = 1024 ** 3
MiB = 1024 ** 2


class SandboxError(RuntimeError):
    """The sandbox is required but cannot be had, or could not be set up."""


# ---------------------------------------------------------------------------
# seccomp: no new processes (threads are fine), no ptrace, no mounts
# ---------------------------------------------------------------------------

_LD_W_ABS, _JEQ, _JGE, _JSET, _RET = 0x20, 0x15, 0x35, 0x45, 0x06
_ALLOW, _ERRNO = 0x7FFF0000, 0x00050000
_EPERM, _ENOSYS = 1, 38
_CLONE_THREAD = 0x00010000

#: (audit arch, x32 bit or None, clone, clone3, syscalls refused outright)
_ARCH = {
    "x86_64": (0xC000003E, 0x40000000, 56, 435, {
        "fork": 57, "vfork": 58, "ptrace": 101, "process_vm_readv": 310, "process_vm_writev": 311,
        "perf_event_open": 298, "bpf": 321, "keyctl": 250, "add_key": 248, "request_key": 249,
        "userfaultfd": 323, "unshare": 272, "setns": 308, "mount": 165, "umount2": 166,
        "pivot_root": 155, "chroot": 161, "kexec_load": 246, "init_module": 175, "finit_module": 313,
        "delete_module": 176, "reboot": 169, "io_uring_setup": 425, "open_tree": 428,
        "move_mount": 429, "fsopen": 430, "fsmount": 432, "fspick": 433, "mount_setattr": 442}),
    "aarch64": (0xC00000B7, None, 220, 435, {"ptrace": 117, "unshare": 97, "setns": 268, "mount": 40}),
}


def seccomp_filter(machine: str | None = None) -> bytes | None:
    """A classic-BPF seccomp program (as bwrap's ``--seccomp`` reads it), or None for an unknown CPU.

    Refuses ``fork``/``vfork`` and any ``clone`` without ``CLONE_THREAD`` (so no
    child processes, but threads work), answers ``clone3`` with ENOSYS (the C
    library then falls back to ``clone``), refuses ptrace, mounts, namespaces,
    kernel keyrings, BPF and io_uring, and any other architecture's calls.
    """
    machine = machine or platform.machine()
    if machine not in _ARCH:
        return None
    arch, x32, clone, clone3, denied = _ARCH[machine]
    prog: list[tuple[int, Any, Any, int]] = []  # (code, jt label, jf label, k)

    def op(code, k=0, jt=0, jf=0):
        prog.append((code, jt, jf, k))

    op(_LD_W_ABS, 4)                        # seccomp_data.arch
    op(_JEQ, arch, 0, "deny")
    op(_LD_W_ABS, 0)                        # seccomp_data.nr
    if x32 is not None:
        op(_JGE, x32, "deny", 0)
    for nr in sorted(set(denied.values())):
        op(_JEQ, nr, "deny", 0)
    op(_JEQ, clone3, "enosys", 0)
    op(_JEQ, clone, 0, "allow")
    op(_LD_W_ABS, 16)                       # low 32 bits of args[0]: the clone flags
    op(_JSET, _CLONE_THREAD, "allow", "deny")
    labels = {"allow": len(prog), "deny": len(prog) + 1, "enosys": len(prog) + 2}
    out = []
    for i, (code, jt, jf, k) in enumerate(prog):
        jt = labels[jt] - i - 1 if isinstance(jt, str) else jt
        jf = labels[jf] - i - 1 if isinstance(jf, str) else jf
        out.append(struct.pack("=HBBI", code, jt, jf, k))
    out += [struct.pack("=HBBI", _RET, 0, 0, _ALLOW),
            struct.pack("=HBBI", _RET, 0, 0, _ERRNO | _EPERM),
            struct.pack("=HBBI", _RET, 0, 0, _ERRNO | _ENOSYS)]
    return b"".join(out)


# ---------------------------------------------------------------------------
# The policy
# ---------------------------------------------------------------------------

#: Host environment variables passed into the sandbox (nothing secret: locale, thread counts, grading mode).
_PASS_ENV = ("LANG", "LC_ALL", "LC_CTYPE", "TZ", "NBGRADER_EXECUTION", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
             "MKL_NUM_THREADS", "OPENBLAS_CORETYPE", "PYDEVD_DISABLE_FILE_VALIDATION")

#: Files of /etc a Python process may want (dynamic linker cache, fonts, time zone); never passwords.
_ETC = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "fonts", "localtime", "alternatives", "nsswitch.conf",
        "passwd", "group", "hosts", "mime.types")

_PROBES: dict[tuple, tuple[bool, str]] = {}


class Sandbox(LoggingConfigurable):
    """How student code is confined (configure as ``c.Sandbox.<name>`` in ``nbgrader_config.py``)."""

    mode = Unicode("auto", help=(
        "'auto': bubblewrap when it works, otherwise run UNSANDBOXED with a loud warning; "
        "'require': refuse to run student code without the sandbox; "
        "'off': never sandbox (still warns)")).tag(config=True)
    bwrap = Unicode("bwrap", help="The bubblewrap executable (a name on PATH or a path).").tag(config=True)
    cpu_seconds = Int(600, help="CPU seconds one sandboxed process may use in all (RLIMIT_CPU).").tag(config=True)
    memory_bytes = Int(4 * GiB, help="Address space of one sandboxed process (RLIMIT_AS).").tag(config=True)
    file_bytes = Int(256 * MiB, help="Largest file a sandboxed process may write (RLIMIT_FSIZE).").tag(config=True)
    open_files = Int(256, help="Open files per sandboxed process (RLIMIT_NOFILE).").tag(config=True)
    tmp_bytes = Int(256 * MiB, help="Size of the sandbox's private /tmp (a tmpfs).").tag(config=True)
    packages = List(Unicode(), ["bn_helpers"], help=(
        "Course packages the kernel may import, bound read-only into the sandbox.")).tag(config=True)
    extra_env = Dict(help="More environment variables for sandboxed processes.").tag(config=True)
    warn = Bool(True, help="Log a warning each time student code starts UNSANDBOXED.").tag(config=True)

    # -- availability ---------------------------------------------------------

    def bwrap_path(self) -> str | None:
        return shutil.which(self.bwrap)

    def status(self) -> tuple[bool, str]:
        """(sandboxed, description): whether student code will run in bubblewrap, and why not if not."""
        if self.mode == "off":
            return False, f"{UNSANDBOXED}: the sandbox is switched off (c.Sandbox.mode = 'off')"
        if not sys.platform.startswith("linux"):
            return False, f"{UNSANDBOXED}: bubblewrap needs Linux; this is {sys.platform}"
        path = self.bwrap_path()
        if path is None:
            return False, (f"{UNSANDBOXED}: `{self.bwrap}` not found (install bubblewrap, e.g. "
                           "`apt-get install bubblewrap`)")
        key = (path,)
        if key not in _PROBES:
            _PROBES[key] = self._probe(path)
        return _PROBES[key]

    def _probe(self, path: str) -> tuple[bool, str]:
        with tempfile.TemporaryDirectory(prefix="bnsbx-probe-") as tmp:
            (Path(tmp) / "work").mkdir()
            argv, _ = self.command([sys.executable, "-c", "import os; print(os.getuid())"], work=Path(tmp) / "work",
                                   force_sandbox=True)
            try:
                proc = subprocess.run(argv, capture_output=True, text=True, timeout=60)
            except (OSError, subprocess.TimeoutExpired) as exc:
                return False, f"{UNSANDBOXED}: bubblewrap failed to start ({exc})"
        if proc.returncode != 0 or proc.stdout.strip() != "65534":
            why = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            return False, f"{UNSANDBOXED}: bubblewrap does not work here ({why})"
        version = subprocess.run([path, "--version"], capture_output=True, text=True).stdout.strip()
        machine = platform.machine()
        filt = "seccomp: no new processes" if seccomp_filter() is not None else f"no seccomp filter for {machine}"
        return True, f"{version or 'bubblewrap'} ({filt})"

    def require(self) -> tuple[bool, str]:
        """:meth:`status`, raising :class:`SandboxError` in 'require' mode and warning when unsandboxed."""
        ok, text = self.status()
        if not ok:
            if self.mode == "require":
                raise SandboxError(f"{text}; c.Sandbox.mode = 'require' forbids grading without it")
            if self.warn:
                self.log.warning("%s. Student code runs as you, with your files and network, limited "
                                 "only in CPU, memory and environment.", text)
        return ok, text

    def limits(self) -> dict[str, int]:
        return {"cpu": self.cpu_seconds, "as": self.memory_bytes, "fsize": self.file_bytes,
                "nofile": self.open_files, "core": 0}

    # -- the command ----------------------------------------------------------

    def env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        """The whole environment of a sandboxed process: a few harmless variables, nothing inherited else."""
        env = {"PATH": f"{VENV_INSIDE}/bin:/usr/local/bin:/usr/bin:/bin", "HOME": HOME_INSIDE,
               "LANG": "C.UTF-8", "MPLBACKEND": "agg", "MPLCONFIGDIR": f"{HOME_INSIDE}/.config/matplotlib",
               "IPYTHONDIR": f"{HOME_INSIDE}/.ipython", "JUPYTER_RUNTIME_DIR": f"{HOME_INSIDE}/runtime",
               "XDG_CACHE_HOME": f"{HOME_INSIDE}/.cache", "PYTHONDONTWRITEBYTECODE": "1",
               "PYDEVD_DISABLE_FILE_VALIDATION": "1", "TMPDIR": "/tmp"}
        env.update({k: os.environ[k] for k in _PASS_ENV if k in os.environ})
        env.update(self.extra_env)
        env.update(extra or {})
        return env

    def python_inside(self) -> str:
        """The sandbox's path of this Python (inside the venv at /opt/venv when there is one)."""
        if sys.prefix != sys.base_prefix:
            return f"{VENV_INSIDE}/bin/{Path(sys.executable).name}"
        return sys.executable

    def command(self, argv: list[str], work: Path, *, ro: dict[str, str] | None = None,
                rw: dict[str, str] | None = None, env: dict[str, str] | None = None,
                force_sandbox: bool = False, mask: list[str] | None = None) -> tuple[list[str], bool]:
        """The command that runs ``argv`` confined: ``(launcher argv, sandboxed)``.

        ``argv[0]`` may be ``sys.executable``: it is mapped to the sandbox's
        Python. ``work`` (a private host folder) becomes the working folder
        ``/work``; ``ro``/``rw`` bind more host paths (host -> inside);
        ``mask`` hides host paths (an empty read-only folder on top). The
        launcher spec is written into ``work``'s parent.
        """
        sandboxed = True if force_sandbox else self.status()[0]
        work = Path(work)
        python = self.python_inside() if sandboxed else sys.executable
        argv = [python if a == sys.executable else a for a in argv[:1]] + list(argv[1:])
        spec: dict[str, Any] = {"limits": self.limits(), "argv": argv}
        if sandboxed:
            spec["bwrap"] = self._bwrap_args(work, ro or {}, rw or {}, self.env(env), mask or [])
            spec["bwrap_path"] = self.bwrap_path() or self.bwrap
            filt = seccomp_filter()
            if filt is not None:
                path = work.parent / f"{work.name}.seccomp"
                path.write_bytes(filt)
                spec["seccomp"] = str(path)
        else:
            spec["env"] = {**self.env(env), "HOME": str(work), "MPLCONFIGDIR": str(work / ".mpl"),
                           "IPYTHONDIR": str(work / ".ipython"), "JUPYTER_RUNTIME_DIR": str(work / ".runtime"),
                           "XDG_CACHE_HOME": str(work / ".cache"), "TMPDIR": str(work),
                           "PATH": os.pathsep.join([str(Path(sys.executable).parent), "/usr/bin", "/bin"])}
            spec["env"].pop("PYTHONPATH", None)  # unsandboxed, the course packages import from where they are
            spec["cwd"] = str(work)
        spec_path = work.parent / f"{work.name}.launch.json"
        spec_path.write_text(json.dumps(spec))
        return [sys.executable, "-I", "-S", str(LAUNCHER), str(spec_path)], sandboxed

    def _bwrap_args(self, work: Path, ro: dict[str, str], rw: dict[str, str], env: dict[str, str],
                    mask: list[str]) -> list[str]:
        args = ["--unshare-all", "--unshare-user", "--disable-userns", "--uid", "65534", "--gid", "65534",
                "--hostname", "sandbox", "--die-with-parent", "--new-session", "--clearenv"]
        for key, value in env.items():
            args += ["--setenv", key, value]
        args += ["--ro-bind", "/usr", "/usr"]
        for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
            path = Path("/") / name
            if path.is_symlink():
                args += ["--symlink", os.readlink(path), str(path)]
            elif path.is_dir():
                args += ["--ro-bind", str(path), str(path)]
        for name in _ETC:
            path = Path("/etc") / name
            if path.exists():
                args += ["--ro-bind", str(path), str(path)]
        args += ["--proc", "/proc", "--dev", "/dev", "--size", str(self.tmp_bytes), "--tmpfs", "/tmp",
                 "--dir", HOME_INSIDE]
        base = Path(sys.base_prefix).resolve()
        args += ["--ro-bind", str(base), str(base)]
        if sys.base_prefix != sys.prefix:
            args += ["--ro-bind", str(Path(sys.prefix)), VENV_INSIDE]
        for host, inside in ro.items():
            args += ["--ro-bind", str(host), str(inside)]
        for host, inside in rw.items():
            args += ["--bind", str(host), str(inside)]
        args += ["--bind", str(work), WORK_INSIDE]
        for inside in mask:
            args += ["--tmpfs", inside, "--remount-ro", inside]
        args += ["--chdir", WORK_INSIDE]
        return args

    def mask_inside(self, host_paths: list[Path]) -> list[str]:
        """Inside paths that show ``host_paths`` through the system binds (to be hidden with ``mask``)."""
        out = []
        venv = Path(sys.prefix).resolve()
        for p in host_paths:
            p = Path(p).resolve()
            if sys.prefix != sys.base_prefix and p.is_relative_to(venv):
                out.append(str(Path(VENV_INSIDE) / p.relative_to(venv)))
            elif p.is_relative_to(Path(sys.base_prefix).resolve()) or p.is_relative_to("/usr"):
                out.append(str(p))
        return out

    def package_binds(self) -> dict[str, str]:
        """Read-only binds of the course packages the kernel may import, at ``/course/lib/<name>``."""
        import importlib.util

        out = {}
        for name in self.packages:
            spec = importlib.util.find_spec(name)
            if spec is None or not spec.submodule_search_locations:
                continue
            out[str(Path(list(spec.submodule_search_locations)[0]).resolve())] = f"{LIB_INSIDE}/{name}"
        return out


# ---------------------------------------------------------------------------
# nbgrader's kernel, sandboxed
# ---------------------------------------------------------------------------

def _copy_tree(src: Path, dst: Path) -> None:
    """Copy a submission folder (regular files and folders only; links are not followed)."""
    dst.mkdir(parents=True, exist_ok=True)
    for entry in os.scandir(src):
        if entry.is_symlink():
            continue
        if entry.is_dir():
            _copy_tree(Path(entry.path), dst / entry.name)
        elif entry.is_file():
            shutil.copyfile(entry.path, dst / entry.name)


def _prime_matplotlib(dest: Path) -> None:
    """Copy the grader's matplotlib font cache into a sandbox's config folder (saves a rebuild per kernel)."""
    dest.mkdir(parents=True, exist_ok=True)
    try:
        import matplotlib

        for f in Path(matplotlib.get_cachedir()).glob("fontlist-*.json"):
            shutil.copyfile(f, dest / f.name)
    except Exception:  # no matplotlib or no cache: it rebuilds inside
        pass


def private_dir(prefix: str) -> Path:
    """A new private folder with a short path (Unix socket paths are limited to ~100 bytes)."""
    base = "/tmp" if os.path.isdir("/tmp") and os.access("/tmp", os.W_OK) else None
    path = Path(tempfile.mkdtemp(prefix=prefix, dir=base))
    path.chmod(0o700)
    return path


def prepare_home(root: Path) -> dict[str, str]:
    """A writable home for the sandbox (matplotlib's cache primed): ``{host path: inside path}``."""
    home = root / "home"
    _prime_matplotlib(home / ".config" / "matplotlib")
    return {str(home): HOME_INSIDE}


try:
    from jupyter_client.manager import AsyncKernelManager
except ImportError:  # pragma: no cover - jupyter_client comes with nbgrader
    AsyncKernelManager = object  # type: ignore[misc,assignment]


class SandboxedKernelManager(AsyncKernelManager):
    """A Jupyter kernel manager whose kernels run in the :class:`Sandbox`.

    The kernel gets a copy of the notebook's folder as its working folder,
    talks over Unix sockets (``ipc`` transport: the sandbox has no network),
    and is interrupted by a message (signals do not cross the sandbox's PID
    namespace).
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.sandbox = Sandbox(parent=self)
        self.sandboxed, self.sandbox_text = self.sandbox.require()
        self._private: Path | None = None
        if self.sandboxed:
            self.transport = "ipc"

    async def _async_pre_start_kernel(self, **kw):
        self._private = private_dir("bnk-")
        (self._private / "ipc").mkdir()
        if self.sandboxed:
            self.ip = str(self._private / "ipc" / "k")
            self.connection_file = str(self._private / "ipc" / "kernel.json")
        return await super()._async_pre_start_kernel(**kw)

    async def _async_launch_kernel(self, kernel_cmd, **kw):
        assert self._private is not None
        work = self._private / "work"
        cwd = kw.pop("cwd", None)
        if cwd and Path(cwd).is_dir():
            _copy_tree(Path(cwd), work)
        work.mkdir(exist_ok=True)
        inner = list(kernel_cmd)
        if inner and os.path.basename(inner[0]).startswith("python"):
            inner[0] = sys.executable
        rw = {str(self._private / "ipc"): str(self._private / "ipc")}
        rw.update(prepare_home(self._private))
        ro = self.sandbox.package_binds()
        env = {"PYTHONPATH": LIB_INSIDE} if ro else {}
        cmd, _ = self.sandbox.command(inner, work, ro=ro, rw=rw, env=env)
        kw["cwd"] = str(self._private)
        kw["env"] = dict(os.environ)
        kw["stdout"] = subprocess.DEVNULL  # the kernel's banner; its stderr still reaches the grader's log
        return await super()._async_launch_kernel(cmd, **kw)

    async def _async_interrupt_kernel(self):
        if self.sandboxed and self.has_kernel:
            msg = self.session.msg("interrupt_request", content={})
            self._connect_control_socket()
            self.session.send(self._control_socket, msg)
            return
        return await super()._async_interrupt_kernel()

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart=restart)
        if self._private is not None and not restart:
            shutil.rmtree(self._private, ignore_errors=True)
            self._private = None

    # AsyncKernelManager binds these names to the base class's coroutines: rebind them to ours.
    interrupt_kernel = _async_interrupt_kernel
    cleanup_resources = _async_cleanup_resources


try:
    from nbgrader.preprocessors import Execute
except ImportError:  # pragma: no cover
    Execute = object  # type: ignore[misc,assignment]


class SandboxedExecute(Execute):
    """nbgrader's Execute preprocessor with the kernel in the :class:`Sandbox`, and a cap on each cell's output."""

    max_output = Int(1_000_000, help="Characters of output kept per cell; the rest is dropped as it arrives."
                     ).tag(config=True)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("kernel_manager_class", SandboxedKernelManager)
        super().__init__(*args, **kwargs)

    def reset_execution_trackers(self) -> None:
        super().reset_execution_trackers()
        self._output_used: dict[int, int] = {}

    def output(self, outs, msg, display_id, cell_index):
        content = msg.get("content", {}) if isinstance(msg, dict) else {}
        size = len(str(content.get("text", ""))) + len(str(content.get("traceback", "")))
        size += sum(len(str(v)) for v in (content.get("data") or {}).values())
        used = self._output_used.get(cell_index, 0)
        if used + size > self.max_output and msg.get("msg_type") != "error":
            if used <= self.max_output:
                from nbformat import NotebookNode

                outs.append(NotebookNode(output_type="stream", name="stdout",
                                         text=f"\n[output truncated by the grader: over {self.max_output} characters]\n"))
            self._output_used[cell_index] = self.max_output + 1
            return None
        self._output_used[cell_index] = used + size
        return super().output(outs, msg, display_id, cell_index)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv == ["status"]:
        ok, text = Sandbox().status()
        print(text)
        return 0 if ok else 1
    print("usage: python -m bn_helpers.sandbox status", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
