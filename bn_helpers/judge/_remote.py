"""The judge's side of the runner: the sandboxed process, and proxies for the student's objects.

A :class:`Runner` starts the runner in the :class:`~bn_helpers.sandbox.Sandbox`
and sends it requests (run a cell, look a name up, call a handle, read an
attribute), each before a deadline. While it waits for an answer it serves
the runner's calls into reference code (``bn_helpers.numerics`` and
friends) by computing them here, with the trusted modules, in the current
thread, so that a check's ``watch_reference`` sees them.

A :class:`Remote` is what a check holds instead of the student's function or
object: calling it, reading or setting its attributes, iterating it, asking
for its length or its array all become requests. Arrays passed in come back
changed when the student's code changed them in place, so the checks'
"changed its argument in place" tests work as they do in the kernel.
"""
from __future__ import annotations

import builtins
import contextlib
import importlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from ..sandbox import Sandbox, _copy_tree, prepare_home, private_dir
from . import _wire as wire

GRADER_INSIDE = "/grader"


class RunnerLost(Exception):
    """The runner died, was stopped (time limit), or broke the protocol; its objects are gone."""


class JudgeTimeout(BaseException):
    """A test cell ran out of time in the judge (BaseException: checks must not swallow it)."""


def _out_of_time():
    from ..checks import _common

    return _common._OutOfTime()


# ---------------------------------------------------------------------------
# Exceptions raised by student code, re-raised here as look-alikes
# ---------------------------------------------------------------------------

_SAFE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_CLASSES: dict[tuple, type] = {}


def _builtin_exception(name: str):
    cls = getattr(builtins, name, None)
    if isinstance(cls, type) and issubclass(cls, BaseException) and name not in (
            "BaseException", "SystemExit", "KeyboardInterrupt", "GeneratorExit", "BaseExceptionGroup"):
        return cls
    return None


#: What a hidden test shows instead of the student's exception message (which could carry the hidden inputs).
HIDDEN_MESSAGE = "(the message of your exception is not shown for hidden tests)"


_VIEW_MESSAGES: set[str] = set()


def _view_messages() -> set[str]:
    """The exact messages of the runner's stand-ins for reference classes (``nn.BatchNorm1d(3)`` raises one)."""
    if not _VIEW_MESSAGES:
        import inspect

        from .._reference import REFERENCE

        for modname in REFERENCE:
            for attr, value in vars(importlib.import_module(modname)).items():
                if inspect.isclass(value) and getattr(value, "__module__", None) in REFERENCE:
                    _VIEW_MESSAGES.add(wire.unavailable_message(value.__module__, value.__name__))
    return _VIEW_MESSAGES


def _hidden_exception(record: dict) -> Exception:
    """The built-in type nearest to the student's exception, with a fixed message and no traceback.

    A hidden test's verdict shows the diagnosis, never text the student's code chose: an exception's message,
    type name and traceback are all the student's to fill (with the salted hidden inputs, for a table).
    """
    text = record.get("str")
    if record.get("type") == "RuntimeError" and isinstance(text, str) and text in _view_messages():
        return RuntimeError(text)  # the runner's own fixed words for a reference class: nothing of the student's
    names = [record.get("type")] + (record.get("bases") if isinstance(record.get("bases"), list) else [])
    for name in names:
        cls = _builtin_exception(name) if isinstance(name, str) else None
        if cls is not None and issubclass(cls, Exception):
            try:
                return cls(HIDDEN_MESSAGE)
            except Exception:
                continue
    return Exception(HIDDEN_MESSAGE)


def rebuild_exception(record: Any, hidden: bool = False) -> Exception:
    """An exception that looks like the student's: same type name, built-in bases, message.

    ``hidden``: for a hidden test cell, the nearest built-in type and a fixed message instead.
    """
    if not isinstance(record, dict):
        return RunnerLost("malformed exception from the runner")
    if hidden:
        return _hidden_exception(record)
    name = record.get("type") if isinstance(record.get("type"), str) else "Exception"
    name = name if _SAFE_NAME.fullmatch(name) else "Exception"
    text = record.get("str") if isinstance(record.get("str"), str) else ""
    args = [a for a in record.get("args", []) if isinstance(a, (str, int, float, bool)) or a is None] \
        if isinstance(record.get("args"), list) else []
    exact = _builtin_exception(name)
    if exact is not None:
        try:
            exc = exact(*args)
            if str(exc) == text:
                return exc
        except Exception:
            pass
    bases = []
    for b in record.get("bases", []) if isinstance(record.get("bases"), list) else []:
        cls = _builtin_exception(b) if isinstance(b, str) else None
        if cls is not None and cls is not BaseException and not any(issubclass(x, cls) for x in bases):
            bases.append(cls)
    bases = [b for b in bases if b is not Exception] or [Exception]
    key = (name, tuple(bases))
    cls = _CLASSES.get(key)
    if cls is None:
        try:
            cls = type(name, tuple(bases), {"__str__": lambda self: self._text, "__module__": "student"})
        except TypeError:
            cls = type(name, (bases[0],), {"__str__": lambda self: self._text, "__module__": "student"})
        _CLASSES[key] = cls
    exc = cls.__new__(cls)
    exc.args = tuple(args) or (text,)
    exc._text = text
    exc.student_traceback = [ln for ln in record.get("tb", []) if isinstance(ln, str)][:20] \
        if isinstance(record.get("tb"), list) else []
    return exc


# ---------------------------------------------------------------------------
# Proxies
# ---------------------------------------------------------------------------

_PLAIN_DUNDERS = ("__name__", "__qualname__", "__doc__", "__module__")


class Remote:
    """A student's object that lives in the runner. Everything done to it is a request."""

    __slots__ = ("_bn_runner", "_bn_handle", "_bn_gen", "_bn_type", "__weakref__")

    def __init__(self, runner: "Runner", handle: int, typename: str):
        object.__setattr__(self, "_bn_runner", runner)
        object.__setattr__(self, "_bn_handle", handle)
        object.__setattr__(self, "_bn_gen", runner.generation)
        object.__setattr__(self, "_bn_type", typename)

    def _bn(self, op: str, **fields):
        return self._bn_runner.op_on(self, op, **fields)

    def __getattr__(self, name):
        if name.startswith("_bn_") or (name.startswith("__") and name not in _PLAIN_DUNDERS):
            raise AttributeError(name)
        value = self._bn("getattr", name=name)
        if isinstance(value, np.ndarray) and type(value) is np.ndarray:
            value = value.view(RemoteArray)
            value._bn_owner, value._bn_attr = self, name
        return value

    def __setattr__(self, name, value):
        self._bn("setattr", name=name, value=value)

    def __delattr__(self, name):
        self._bn("delattr", name=name)

    def __getitem__(self, key):
        return self._bn("getitem", key=key)

    def __setitem__(self, key, value):
        self._bn("setitem", key=key, value=value)

    def __contains__(self, item):
        return bool(self._bn("contains", item=item))

    def __len__(self):
        return int(self._bn("unary", what="len"))

    def __bool__(self):
        return bool(self._bn("unary", what="bool"))

    def __repr__(self):
        try:
            return str(self._bn("unary", what="repr"))
        except Exception:
            return f"<{self._bn_type}>"

    def __str__(self):
        try:
            return str(self._bn("unary", what="str"))
        except Exception:
            return f"<{self._bn_type}>"

    def __float__(self):
        return float(self._bn("unary", what="float"))

    def __int__(self):
        return int(self._bn("unary", what="int"))

    def __index__(self):
        return int(self._bn("unary", what="index"))

    def __iter__(self):
        return iter(self._bn("unary", what="iter"))

    def __array__(self, dtype=None, copy=None):
        arr = self._bn("unary", what="array")
        if not isinstance(arr, np.ndarray):
            arr = np.asarray(arr)
        return arr.astype(dtype) if dtype is not None else arr


class RemoteCallable(Remote):
    """A student's function, class or method."""

    __slots__ = ()

    def __call__(self, *args, **kwargs):
        return self._bn("call", args=list(args), kwargs=dict(kwargs))


class RemoteArray(np.ndarray):
    """An array attribute read from a student's object: writing into it writes into the object's."""

    def __array_finalize__(self, obj):
        self._bn_owner = None
        self._bn_attr = None

    def __setitem__(self, key, value):
        super().__setitem__(key, value)
        owner = getattr(self, "_bn_owner", None)
        if owner is not None:
            owner._bn("inplace", name=self._bn_attr, value=np.asarray(self).copy())


_PROXY_TYPES: dict[tuple[str, bool], type] = {}


def _proxy_type(typename: str, callable_: bool) -> type:
    """A proxy class named like the student's type (so messages say ``got MyCache``)."""
    name = typename if _SAFE_NAME.fullmatch(typename or "") else "object"
    key = (name, callable_)
    if key not in _PROXY_TYPES:
        _PROXY_TYPES[key] = type(name, (RemoteCallable if callable_ else Remote,), {"__slots__": ()})
    return _PROXY_TYPES[key]


class ModuleRef:
    """A name the student's namespace binds to a module (the judge uses its own copy, by name)."""

    def __init__(self, name: str):
        self.name = name


# ---------------------------------------------------------------------------
# Bounds on the reference calls the judge computes for the runner
# ---------------------------------------------------------------------------

#: Bytes of array arguments one forwarded reference call may carry (checked in the runner too, before sending).
REFERENCE_MAX_BYTES = wire.MAX_REFERENCE_BYTES
#: Seconds one forwarded reference call may run here.
REFERENCE_SECONDS = 10.0
#: Address space one forwarded reference call may add to the grading process.
REFERENCE_MAX_MEMORY = 1 * 2**30


class _ReferenceTimeout(BaseException):
    """A forwarded reference call ran past :data:`REFERENCE_SECONDS`."""


def _address_space() -> int:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return -1


@contextlib.contextmanager
def _bounded(what: str, seconds: float):
    """Run a reference call under a time limit and an address-space limit (where the platform has them).

    The time limit is the process's interval timer when none is running (a check's own time budget, when it
    runs, fires first and stops the call as it stops slow student code); the memory limit is ``RLIMIT_AS``,
    lowered for the call to the current size plus :data:`REFERENCE_MAX_MEMORY`, so a huge allocation raises
    ``MemoryError`` here instead of growing the grader.
    """
    import threading

    try:
        import resource
    except ImportError:  # Windows: no RLIMIT_AS; the size bound and the time limit still hold
        resource = None
    timer = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread() \
        and signal.getitimer(signal.ITIMER_REAL)[0] == 0
    limits, now = None, _address_space()
    if now > 0 and resource is not None:
        try:
            limits = resource.getrlimit(resource.RLIMIT_AS)
            cap = now + REFERENCE_MAX_MEMORY
            if limits[1] == resource.RLIM_INFINITY or cap < limits[1]:
                resource.setrlimit(resource.RLIMIT_AS, (cap, limits[1]))
            else:
                limits = None
        except (ValueError, OSError):
            limits = None
    armed = [timer]
    old_handler = None
    if timer:
        def on_alarm(signum, frame):
            if armed[0]:
                armed[0] = False
                raise _ReferenceTimeout()
        old_handler = signal.signal(signal.SIGALRM, on_alarm)
    try:
        if timer:
            signal.setitimer(signal.ITIMER_REAL, seconds)
        yield
        armed[0] = False
    except _ReferenceTimeout:
        raise TimeoutError(f"{what} ran longer than {seconds:.3g} s, the grader's limit for one call of "
                           "bn_helpers' reference code") from None
    except MemoryError:
        raise MemoryError(f"{what} needed more than {REFERENCE_MAX_MEMORY / 2**30:g} GiB, the grader's limit "
                          "for one call of bn_helpers' reference code") from None
    finally:
        armed[0] = False
        if timer:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old_handler)
        if limits is not None:
            resource.setrlimit(resource.RLIMIT_AS, limits)


# ---------------------------------------------------------------------------
# The runner process
# ---------------------------------------------------------------------------

_VIEW: dict[str, Any] = {}


def runner_view() -> tuple[Path, dict[str, set[str]]]:
    """The runner's library (built once per process, removed at exit)."""
    if "path" not in _VIEW:
        import atexit

        from . import _view

        path = private_dir("bnv-")
        forwarded = _view.build(path / "lib")
        for p in sorted(path.rglob("*"), reverse=True):
            p.chmod(0o755 if p.is_dir() else 0o644)
        path.chmod(0o755)
        atexit.register(shutil.rmtree, path, True)
        _VIEW.update(path=path, forwarded=forwarded)
    return _VIEW["path"], _VIEW["forwarded"]


class Runner:
    """One sandboxed runner for one submission: start, requests with deadlines, kill, restart."""

    def __init__(self, submission: Path, sandbox: Sandbox, max_bytes: int = 512 * 1024 * 1024,
                 startup_timeout: float = 120.0):
        self.submission = Path(submission)
        self.sandbox = sandbox
        self.max_bytes = max_bytes
        self.startup_timeout = startup_timeout
        self.generation = 0
        self.proc: subprocess.Popen | None = None
        self.private: Path | None = None
        self.reader: wire.Reader | None = None
        self.proxies: dict[int, Remote] = {}
        self.deadline: float | None = None  # a cell-wide limit on top of each request's own
        self.sandboxed = False
        self.reference_calls: list[str] = []
        self.hidden = False  # a hidden test cell runs: the student's exception texts are not shown
        self.classes: set[int] = set()    # handles of the student's classes (looked up by name)
        self.instances: set[int] = set()  # handles of objects those classes made (BatchNorm1d(3))
        self.methods: set[int] = set()    # handles of their methods

    # -- process ------------------------------------------------------------

    def start(self) -> None:
        view, self.forwarded = runner_view()
        if self.private is not None:
            shutil.rmtree(self.private, ignore_errors=True)
        self.private = private_dir("bnr-")
        work = self.private / "work"
        _copy_tree(self.submission, work)
        rw = prepare_home(self.private)
        lib_inside = f"{GRADER_INSIDE}/lib"
        code = "import sys; sys.path.insert(0, sys.argv[1]); import _bn_runner; _bn_runner.main()"
        ok = self.sandbox.status()[0]
        lib = lib_inside if ok else str(view / "lib")
        import bn_helpers

        mask = self.sandbox.mask_inside([Path(bn_helpers.__file__).parent]) if ok else []
        argv, self.sandboxed = self.sandbox.command([sys.executable, "-I", "-c", code, lib], work,
                                                    ro={str(view): GRADER_INSIDE}, rw=rw, mask=mask)
        self.log = open(self.private / "runner.log", "wb")
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log,
                                     start_new_session=True, cwd=str(self.private))
        os.set_blocking(self.proc.stdin.fileno(), False)
        self.reader = wire.Reader(self.proc.stdout.fileno(), max_bytes=self.max_bytes)
        self.generation += 1
        self._forget()
        try:
            header, _ = self.reader.read(time.monotonic() + self.startup_timeout)
        except wire.WireError as exc:
            tail = self.log_tail()
            self.kill()
            raise RuntimeError(f"the judge's runner did not start ({exc}): {tail}") from None
        if not header.get("ready"):
            self.kill()
            raise RuntimeError("the judge's runner did not say it was ready")

    def log_tail(self) -> str:
        try:
            return (self.private / "runner.log").read_bytes()[-2000:].decode("utf-8", "replace").strip()
        except OSError:
            return ""

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """Stop the runner and everything it started; its handles die with it."""
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            try:
                self.proc.kill()
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
            for f in (self.proc.stdin, self.proc.stdout):
                try:
                    f.close()
                except OSError:
                    pass
            self.proc = None
        if getattr(self, "log", None) is not None:
            self.log.close()
            self.log = None
        self.generation += 1
        self._forget()

    def _forget(self) -> None:
        self.proxies = {}
        self.classes, self.instances, self.methods = set(), set(), set()

    def close(self) -> None:
        self.kill()
        if self.private is not None:
            shutil.rmtree(self.private, ignore_errors=True)
            self.private = None

    # -- requests -----------------------------------------------------------

    def _encoder(self) -> wire.Encoder:
        def handle(obj):
            if isinstance(obj, Remote):
                if obj._bn_runner is not self or obj._bn_gen != self.generation:
                    raise RunnerLost("this object belonged to a runner that has been stopped")
                return {"$": "h", "h": obj._bn_handle}
            raise TypeError(f"a {type(obj).__name__} cannot be passed to student code")
        return wire.Encoder(handle=handle)

    def _decoder(self, blobs, allow=None) -> wire.Decoder:
        """A decoder of the runner's answer; ``allow(h, ref)`` says whether a handle may come back there.

        Without ``allow`` any handle is accepted (a name looked up: a function, a class). Otherwise a handle
        ``allow`` refuses is a result that is not data, and fails with a TypeError naming its type.
        """
        def handle(ref):
            h, typename = ref.get("h"), ref.get("ty")
            if not isinstance(h, int) or not isinstance(typename, str):
                raise wire.WireError("bad handle")
            if allow is not None and not allow(h, ref):
                raise TypeError(_not_data(typename, self.hidden))
            if isinstance(ref.get("mod"), str):
                return ModuleRef(ref["mod"])
            if ref.get("k") == "class" and allow is None:
                self.classes.add(h)
            proxy = self.proxies.get(h)
            if proxy is None:
                proxy = _proxy_type(typename, bool(ref.get("c")))(self, h, typename)
                self.proxies[h] = proxy
            return proxy
        return wire.Decoder(blobs, handle=handle, namedtuple=_trusted_namedtuple)

    def request(self, header: dict, enc: wire.Encoder | None = None, timeout: float = 10.0):
        """Send a request; serve reference calls until the answer; return (header, decoder)."""
        reply, blobs = self._request_raw(header, enc, timeout)
        return reply, self._decoder(blobs)

    def _request_raw(self, header: dict, enc: wire.Encoder | None = None, timeout: float = 10.0):
        """Send a request; serve reference calls until the answer; return (header, blobs)."""
        if not self.alive:
            raise RunnerLost("the runner is not running")
        deadline = time.monotonic() + timeout
        if self.deadline is not None and self.deadline < deadline:
            deadline = self.deadline
        try:
            wire.write_all(self.proc.stdin.fileno(), (enc or wire.Encoder()).frame(header), deadline)
            while True:
                reply, blobs = self.reader.read(deadline)
                if "refcall" in reply:
                    self._serve_reference(reply["refcall"], blobs, deadline)
                    continue
                if "error" in reply:
                    raise wire.WireError(str(reply["error"])[:300])
                return reply, blobs
        except wire.Timeout:
            self.kill()
            if self.deadline is not None and time.monotonic() >= self.deadline:
                raise JudgeTimeout() from None
            raise _out_of_time() from None
        except wire.WireError as exc:
            self.kill()
            raise RunnerLost(f"the runner stopped answering ({exc})") from None
        except BaseException:
            # e.g. a check's own time limit (SIGALRM) in the middle of a request: the runner's state is unknown
            self.kill()
            raise

    def _serve_reference(self, body: Any, blobs, deadline: float) -> None:
        """Compute a call into reference code here, where the checks' profilers see it, within bounds.

        Its arrays may hold at most :data:`REFERENCE_MAX_BYTES`, it runs at most :data:`REFERENCE_SECONDS`
        (less when the request's deadline is nearer) with at most :data:`REFERENCE_MAX_MEMORY` more address
        space: over a bound, the student's code gets an exception that says so, and the grader's memory stays
        flat. A function passed in (``gradcheck.numerical_gradient(f, x, dout)``) is called back in the runner.
        """
        enc = wire.Encoder(handle=None)
        try:
            if not isinstance(body, dict):
                raise wire.WireError("bad reference call")
            module, name = body.get("m"), body.get("n")
            if module not in self.forwarded or name not in self.forwarded[module]:
                raise wire.WireError("not a reference function")
            dec = self._decoder(blobs, allow=lambda h, ref: bool(ref.get("c")) and ref.get("k") != "class")
            args, kwargs = dec.decode(body.get("args")), dec.decode(body.get("kwargs"))
            if not isinstance(args, list) or not isinstance(kwargs, dict) or not all(isinstance(k, str) for k in kwargs):
                raise wire.WireError("bad arguments")
            self.reference_calls.append(f"{module}.{name}")
            fn = getattr(importlib.import_module(module), name)
            size = sum(a.nbytes for a in dec.arrays.values())
            try:
                if size > REFERENCE_MAX_BYTES:
                    raise MemoryError(
                        f"{module}.{name}: its arrays hold {size / 2**20:.0f} MiB, over the grader's limit of "
                        f"{REFERENCE_MAX_BYTES / 2**20:.0f} MiB for one call of bn_helpers' reference code")
                with _bounded(f"{module}.{name}", min(REFERENCE_SECONDS, max(deadline - time.monotonic(), 0.01))):
                    result = fn(*args, **kwargs)
                header = {"refret": enc.encode(result)}
            except RunnerLost:
                raise
            except Exception as exc:
                enc = wire.Encoder(handle=None)
                header = {"referr": wire.exception_record(exc)}
        except (wire.WireError, RunnerLost):
            raise
        except TypeError as exc:  # a result that is not data
            enc = wire.Encoder(handle=None)
            header = {"referr": wire.exception_record(TypeError(str(exc)))}
        if not self.alive:  # a call back into the student's code stopped the runner
            raise RunnerLost("the runner stopped during a call of bn_helpers' reference code")
        wire.write_all(self.proc.stdin.fileno(), enc.frame(header), deadline)

    def op_on(self, proxy: Remote, op: str, timeout: float | None = None, **fields):
        if proxy._bn_runner is not self or proxy._bn_gen != self.generation:
            raise RunnerLost("your code's grading process was stopped (a time limit, or it crashed); "
                             "its objects are gone")
        enc = self._encoder()
        header = {"op": "unary" if op == "unary" else op, "h": {"$": "h", "h": proxy._bn_handle}}
        arrays: list[np.ndarray] = []
        for key, value in fields.items():
            if key in ("name", "what"):
                header[key] = value
            else:
                header[key] = enc.encode(value)
        arrays = list(enc.arrays)
        reply, blobs = self._request_raw(header, enc, timeout=timeout if timeout is not None else self.call_timeout)
        target = proxy._bn_handle
        made: set[int] = set()

        def allow(h, ref) -> bool:
            """Handles only for what an exercise asks for: a class's instances and their methods."""
            if op == "call" and target in self.classes:
                made.add(h)
                return True
            if h in self.instances:
                return True
            if op == "getattr" and (target in self.instances or target in self.classes) and ref.get("c"):
                self.methods.add(h)
                return True
            return False
        dec = self._decoder(blobs, allow=allow)
        if op == "call":
            self._write_back(arrays, dec.decode(reply.get("mutated", {"$": "l", "v": []})))
        if "exc" in reply:
            raise rebuild_exception(reply["exc"], hidden=self.hidden)
        if "notdata" in reply:
            raise TypeError(_not_data(reply["notdata"], self.hidden))
        value = dec.decode(reply.get("value"))
        self.instances |= made
        return value

    call_timeout = 6.0

    @staticmethod
    def _write_back(arrays: list[np.ndarray], mutated) -> None:
        """Copy the student's in-place changes into the checks' arrays (NaN where the shape changed)."""
        if not isinstance(mutated, list):
            return
        for item in mutated:
            if not (isinstance(item, list) and len(item) == 2 and isinstance(item[0], int)
                    and 0 <= item[0] < len(arrays) and isinstance(item[1], np.ndarray)):
                continue
            target, new = arrays[item[0]], item[1]
            if not target.flags.writeable:
                continue
            if new.shape == target.shape:
                try:
                    np.copyto(target, new, casting="unsafe")
                    continue
                except (TypeError, ValueError):
                    pass
            if target.dtype.kind in "fc":
                target[...] = np.nan
            else:
                target[...] = ~target if target.dtype.kind == "b" else target + 1

    def run_cell(self, source: str, timeout: float, grace: float = 5.0) -> dict:
        """Run a cell: interrupted after ``timeout`` s (its effects so far stay, as in Jupyter); killed after the grace."""
        reply, _ = self.request({"op": "cell", "src": source, "timeout": timeout}, timeout=timeout + grace)
        return reply

    def lookup(self, name: str, timeout: float = 10.0):
        """The value of a name in the student's namespace: data, a proxy, a ModuleRef, or KeyError."""
        reply, dec = self.request({"op": "lookup", "name": name}, timeout=timeout)
        if reply.get("missing") or "notdata" in reply:
            raise KeyError(name)
        if "exc" in reply:
            raise rebuild_exception(reply["exc"])
        return dec.decode(reply.get("value"))

    def release(self) -> None:
        if self.alive:
            try:
                self.request({"op": "release"}, timeout=10.0)
            except (RunnerLost, JudgeTimeout, BaseException):
                pass
        self._forget()


def _not_data(typename: Any, hidden: bool) -> str:
    """The message for a result that is not data (its type's name; in hidden tests only a built-in's name)."""
    name = typename if isinstance(typename, str) and _SAFE_NAME.fullmatch(typename) else "object"
    if hidden and not isinstance(getattr(builtins, name, None), type):
        name = "object of a class of yours"
    article = "an" if name[0] in "aeiouAEIOU" else "a"
    return (f"returned {article} {name}, which is not data: a graded function must return NumPy arrays, numbers, "
            "strings, or tuples, lists and named tuples of them (an object stays in your notebook's process "
            "and cannot be graded)")


_TRUSTED_NT: dict[tuple[str, tuple[str, ...]], type] = {}


def _trusted_namedtuple(name: str, fields: list[str]):
    """The judge's own class for a named tuple from the runner (BatchNormCache, ...), or a fresh one."""
    if not _TRUSTED_NT:
        from . import _view

        for modname in (*_view.REFERENCE, "bn_helpers.data", "bn_helpers.checks.backward"):
            try:
                mod = importlib.import_module(modname)
            except ImportError:
                continue
            for value in vars(mod).values():
                if isinstance(value, type) and issubclass(value, tuple) and isinstance(getattr(value, "_fields", None), tuple):
                    _TRUSTED_NT.setdefault((value.__name__, tuple(value._fields)), value)
    cls = _TRUSTED_NT.get((name, tuple(fields)))
    if cls is not None:
        return cls
    if not _SAFE_NAME.fullmatch(name) or not all(_SAFE_NAME.fullmatch(f) and not f.startswith("_") for f in fields):
        return None
    key = (name, tuple(fields))
    if key not in _TRUSTED_NT:
        import collections

        _TRUSTED_NT[key] = collections.namedtuple(name, fields)
    return _TRUSTED_NT[key]


__all__ = ["Runner", "Remote", "RemoteCallable", "RemoteArray", "RunnerLost", "JudgeTimeout", "ModuleRef",
           "rebuild_exception", "runner_view"]
