"""The judge's runner: runs a student's notebook cells in the sandbox and answers the judge.

Started by :class:`bn_helpers.judge._remote.Runner` inside the sandbox as::

    python -I -c "import sys; sys.path.insert(0, LIB); import _bn_runner; _bn_runner.main()" LIB

where ``LIB`` holds this file (as ``_bn_runner.py``), ``_bn_wire.py`` and the
runner's view of ``bn_helpers`` (reference modules forward their calls to
the judge; checks, experiments and widgets are inert). It talks to the judge
over its original stdin/stdout; the student's own prints go nowhere.

Nothing here is trusted by the judge: the student's code runs in this process
and may change any of it. Whatever this process answers is simply the
student's answer.
"""
from __future__ import annotations

import builtins
import collections
import itertools
import os
import signal
import sys
import threading
import time
import traceback
import types

import numpy as np

import _bn_wire as wire

_CHANNEL: "Channel | None" = None
_NAMEDTUPLES: dict[tuple[str, tuple[str, ...]], type] = {}


# ---------------------------------------------------------------------------
# What the view of bn_helpers uses
# ---------------------------------------------------------------------------

def namedtuple_class(name: str, fields: tuple[str, ...], defaults: tuple = (), module: str = "bn_helpers") -> type:
    cls = collections.namedtuple(name, fields, defaults=defaults or None, module=module)
    _NAMEDTUPLES[(name, tuple(fields))] = cls
    return cls


def forward(module: str, name: str):
    """A function of the reference code: the judge computes it (and sees that it was called)."""

    def reference_function(*args, **kwargs):
        if _CHANNEL is None:
            raise RuntimeError(f"{module}.{name} is not available here")
        return _CHANNEL.refcall(module, name, args, kwargs)

    reference_function.__name__ = reference_function.__qualname__ = name
    reference_function.__module__ = module
    return reference_function


def unavailable_class(module: str, name: str) -> type:
    def __init__(self, *args, **kwargs):
        raise RuntimeError(wire.unavailable_message(module, name))

    return type(name, (), {"__init__": __init__, "__module__": module})


class Unavailable:
    """A stand-in for anything of a module the graded code may not use: inert, returns more of itself."""

    def __init__(self, name: str):
        object.__setattr__(self, "_name", name)

    def __getattr__(self, attr):
        if attr.startswith("__"):
            raise AttributeError(attr)
        return Unavailable(f"{self._name}.{attr}")

    def __call__(self, *args, **kwargs):
        return Unavailable(f"{self._name}(...)")

    def __getitem__(self, key):
        return Unavailable(f"{self._name}[...]")

    def __repr__(self):
        return f"<{self._name}: not available while your code is graded>"

    def __iter__(self):
        return iter(())

    def __len__(self):
        return 0

    def __bool__(self):
        return False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def inert_getattr(module: str):
    def __getattr__(attr):
        if attr.startswith("__"):
            raise AttributeError(attr)
        return Unavailable(f"{module}.{attr}")

    return __getattr__


# ---------------------------------------------------------------------------
# Talking to the judge
# ---------------------------------------------------------------------------

def _namedtuple_for(name: str, fields: list[str]):
    cls = _NAMEDTUPLES.get((name, tuple(fields)))
    if cls is not None:
        return cls
    try:
        return collections.namedtuple(name, fields)
    except ValueError:
        return None


def _exception_from(record: dict) -> BaseException:
    cls = getattr(builtins, str(record.get("type")), None)
    if not (isinstance(cls, type) and issubclass(cls, Exception)):
        cls = RuntimeError
    try:
        return cls(*record.get("args", []))
    except Exception:
        return RuntimeError(str(record.get("str")))


class Handles:
    """Objects the judge may name: numbered on first sight, the same number for the same object."""

    def __init__(self):
        self.objs: dict[int, object] = {}
        self.numbers: dict[int, int] = {}
        self.next = 1
        self.classes: set[type] = set()  # the student's classes the judge looked up (BatchNorm1d)

    def put(self, obj) -> dict:
        number = self.numbers.get(id(obj))
        if number is None or self.objs.get(number) is not obj:
            number, self.next = self.next, self.next + 1
            self.objs[number] = obj
            self.numbers[id(obj)] = number
        out = {"$": "h", "h": number, "c": callable(obj), "ty": type(obj).__name__[:64]}
        if isinstance(obj, type):
            self.classes.add(obj)
            out["k"] = "class"
        if isinstance(obj, types.ModuleType):
            out["mod"] = str(getattr(obj, "__name__", ""))[:200]
        return out

    def get(self, ref: dict):
        try:
            return self.objs[ref["h"]]
        except (KeyError, TypeError):
            raise wire.WireError("unknown handle") from None

    def clear(self):
        self.objs.clear()
        self.numbers.clear()
        self.classes.clear()

    def put_object(self, obj) -> dict:
        """A handle for an instance of a class the judge asked for (or one of its methods); data for the rest.

        What a graded function returns must be data: anything else (an object with ``__array__`` or
        ``__float__``, a cache with ``__getattr__``) would stay here and be evaluated later, so it is refused
        with its type's name.
        """
        classes = tuple(self.classes)
        owner = getattr(obj, "__self__", None) if isinstance(obj, types.MethodType) else None
        if classes and (isinstance(obj, classes) or (owner is not None and isinstance(owner, classes))):
            return self.put(obj)
        raise NotData(_not_data_type(obj))


class NotData(TypeError):
    """A result that is not data (arrays, numbers, strings, tuples, lists, named tuples, records of them)."""

    def __init__(self, typename: str):
        super().__init__(f"a {typename} is not data")
        self.typename = typename


class Channel:
    def __init__(self, fd_in: int, fd_out: int):
        self.reader = wire.Reader(fd_in, max_bytes=1 << 31)
        self.fd_out = fd_out
        self.lock = threading.RLock()
        self.handles = Handles()
        self.server: "Server | None" = None

    def send(self, header: dict, enc: wire.Encoder | None = None) -> None:
        wire.write_all(self.fd_out, (enc or wire.Encoder()).frame(header))

    def recv(self):
        return self.reader.read(None)

    def encoder(self) -> wire.Encoder:
        return wire.Encoder(handle=self.handles.put)

    def decoder(self, blobs) -> wire.Decoder:
        return wire.Decoder(blobs, handle=self.handles.get, namedtuple=_namedtuple_for)

    def _callback(self, obj) -> dict:
        if callable(obj) and not isinstance(obj, type):  # e.g. the f of gradcheck.numerical_gradient(f, x, dout)
            return self.handles.put(obj)
        raise TypeError(f"a {type(obj).__name__} cannot be passed")

    def refcall(self, module: str, name: str, args: tuple, kwargs: dict):
        enc = wire.Encoder(handle=self._callback)
        try:
            body = {"m": module, "n": name, "args": enc.encode(list(args)), "kwargs": enc.encode(dict(kwargs))}
        except TypeError as exc:
            raise TypeError(f"{module}.{name} takes only data (arrays, numbers, tuples) and functions while "
                            f"your code is graded: {exc}") from None
        size = sum(a.nbytes for a in enc.arrays)
        if size > wire.MAX_REFERENCE_BYTES:
            raise MemoryError(f"{module}.{name}: its arrays hold {size / 2**20:.0f} MiB, over the grader's limit of "
                              f"{wire.MAX_REFERENCE_BYTES / 2**20:.0f} MiB for one call of bn_helpers' reference code")
        with self.lock:
            self.send({"refcall": body}, enc)
            while True:  # the judge may call back (a function passed in) before it answers
                header, blobs = self.recv()
                if "op" not in header or self.server is None:
                    break
                self.server.dispatch(header, blobs)
        dec = wire.Decoder(blobs, handle=None, namedtuple=_namedtuple_for)
        if "refret" in header:
            return dec.decode(header["refret"])
        if "referr" in header:
            raise _exception_from(header["referr"])
        raise RuntimeError("grading protocol error")


# ---------------------------------------------------------------------------
# The requests
# ---------------------------------------------------------------------------

def _student_traceback(exc: BaseException) -> list[str]:
    lines = []
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename.startswith(("<ipython-input", "/tmp/ipykernel", "<cell")) or "ipython-input" in frame.filename:
            lines.append(f"  line {frame.lineno}, in {frame.name}: {(frame.line or '').strip()}")
    return lines[-8:]


class Server:
    def __init__(self, channel: Channel, shell):
        self.ch = channel
        self.shell = shell
        channel.server = self

    def reply_value(self, value, extra: dict | None = None, instance_of: type | None = None) -> None:
        """Send a result as data (decoded here, now: inside the call); ``instance_of``'s instances go as handles."""
        enc = wire.Encoder(handle=self.ch.handles.put_object)
        try:
            if instance_of is not None and isinstance(value, instance_of):
                header = {"value": self.ch.handles.put(value)}
            else:
                header = {"value": enc.encode(value)}
        except TypeError as exc:
            enc = self.ch.encoder()
            header = {"notdata": getattr(exc, "typename", None) or _not_data_type(value)}
        except Exception as exc:  # the result's own code (a __float__ of a float subclass) raised while encoded
            enc = self.ch.encoder()
            header = {"exc": wire.exception_record(exc, _student_traceback(exc))}
        if extra:
            header.update({k: (enc.encode(v) if k == "mutated" else v) for k, v in extra.items()})
        self.ch.send(header, enc)

    def reply_exc(self, exc: BaseException, extra: dict | None = None) -> None:
        enc = self.ch.encoder()
        header = {"exc": wire.exception_record(exc, _student_traceback(exc))}
        if extra:
            header.update({k: (enc.encode(v) if k == "mutated" else v) for k, v in extra.items()})
        self.ch.send(header, enc)

    def serve(self) -> None:
        while True:
            header, blobs = self.ch.recv()
            if header.get("op") == "exit":
                return
            self.dispatch(header, blobs)

    def dispatch(self, header: dict, blobs) -> None:
        op = header.get("op")
        handler = getattr(self, f"op_{op}", None) if isinstance(op, str) else None
        if handler is None:
            self.ch.send({"error": f"unknown request {op!r}"})
            return
        try:
            handler(header, blobs)
        except wire.WireError as exc:
            self.ch.send({"error": str(exc)})

    # -- cells ------------------------------------------------------------------

    def op_cell(self, header, blobs):
        t0 = time.perf_counter()
        error = None
        limit = header.get("timeout")
        if isinstance(limit, (int, float)) and limit > 0:  # interrupt the cell like Jupyter does; effects so far stay
            signal.signal(signal.SIGALRM, signal.default_int_handler)
            signal.setitimer(signal.ITIMER_REAL, float(limit))
        try:
            result = self.shell.run_cell(str(header.get("src", "")), store_history=True)
            err = result.error_before_exec or result.error_in_exec
            if err is not None:
                error = f"{type(err).__name__}: {err}"[:500]
        except BaseException as exc:  # noqa: B036 - the student's cell may raise anything
            error = f"{type(exc).__name__}: {exc}"[:500]
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        plt = sys.modules.get("matplotlib.pyplot")
        if plt is not None:
            try:
                plt.close("all")
            except Exception:
                pass
        self.ch.send({"done": True, "cell_error": error, "seconds": time.perf_counter() - t0})

    def op_lookup(self, header, blobs):
        name = header.get("name")
        ns = self.shell.user_ns
        if not isinstance(name, str) or name not in ns:
            self.ch.send({"missing": True})
            return
        enc = self.ch.encoder()  # a name may be anything: a function, a class, a module, data
        try:
            self.ch.send({"value": enc.encode(ns[name])}, enc)
        except TypeError:
            self.ch.send({"notdata": _not_data_type(ns[name])})

    def op_release(self, header, blobs):
        self.ch.handles.clear()
        self.ch.send({"value": None})

    # -- objects ----------------------------------------------------------------

    def _target(self, header, blobs):
        dec = self.ch.decoder(blobs)
        return self.ch.handles.get(header.get("h") or {}), dec

    def op_call(self, header, blobs):
        obj, dec = self._target(header, blobs)
        args = dec.decode(header.get("args"))
        kwargs = dec.decode(header.get("kwargs"))
        if not isinstance(args, list) or not isinstance(kwargs, dict) or not all(isinstance(k, str) for k in kwargs):
            raise wire.WireError("bad arguments")
        arrays = dict(dec.arrays)
        before = {i: a.copy() for i, a in arrays.items()}
        t0 = time.perf_counter()
        try:
            result = obj(*args, **kwargs)
            exc = None
        except BaseException as e:  # noqa: B036
            exc = e
        seconds = time.perf_counter() - t0
        mutated = []
        for i, arr in arrays.items():
            old = before[i]
            if arr.shape != old.shape or arr.dtype != old.dtype or not np.array_equal(arr, old, equal_nan=True):
                mutated.append([i, arr])
        extra = {"mutated": mutated, "seconds": seconds}
        if exc is not None:
            self.reply_exc(exc, extra)
        else:
            self.reply_value(result, extra, instance_of=obj if isinstance(obj, type) else None)

    def _simple(self, header, blobs, fn):
        obj, dec = self._target(header, blobs)
        try:
            value = fn(obj, dec)
        except BaseException as exc:  # noqa: B036
            self.reply_exc(exc)
            return
        self.reply_value(value)

    def op_getattr(self, header, blobs):
        self._simple(header, blobs, lambda o, d: getattr(o, str(header.get("name"))))

    def op_setattr(self, header, blobs):
        self._simple(header, blobs, lambda o, d: setattr(o, str(header.get("name")), d.decode(header.get("value"))))

    def op_delattr(self, header, blobs):
        self._simple(header, blobs, lambda o, d: delattr(o, str(header.get("name"))))

    def op_inplace(self, header, blobs):
        def run(o, d):
            getattr(o, str(header.get("name")))[...] = d.decode(header.get("value"))
        self._simple(header, blobs, run)

    def op_getitem(self, header, blobs):
        self._simple(header, blobs, lambda o, d: o[d.decode(header.get("key"))])

    def op_setitem(self, header, blobs):
        def run(o, d):
            o[d.decode(header.get("key"))] = d.decode(header.get("value"))
        self._simple(header, blobs, run)

    def op_unary(self, header, blobs):
        what = header.get("what")
        funcs = {"len": len, "bool": bool, "repr": repr, "str": str, "float": float, "int": int,
                 "index": lambda o: o.__index__(), "array": np.asarray,
                 "iter": lambda o: list(itertools.islice(iter(o), 100_001))}
        if what not in funcs:
            raise wire.WireError("unknown operation")

        def run(o, d):
            value = funcs[what](o)
            if what in ("repr", "str"):
                value = str(value)[:20000]
            if what == "iter" and len(value) > 100_000:
                raise ValueError("too many items")
            return value
        self._simple(header, blobs, run)

    def op_contains(self, header, blobs):
        self._simple(header, blobs, lambda o, d: d.decode(header.get("item")) in o)


def _not_data_type(value) -> str:
    try:
        return type(value).__name__[:64]
    except Exception:
        return "object"


def main() -> None:
    global _CHANNEL
    fd_in, fd_out = os.dup(0), os.dup(1)
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    sys.stdin = open(os.devnull)
    sys.stdout = open(os.devnull, "w")
    channel = Channel(fd_in, fd_out)

    from traitlets.config import Config
    from IPython.core.interactiveshell import InteractiveShell

    cfg = Config()
    cfg.HistoryManager.enabled = False
    shell = InteractiveShell.instance(config=cfg)
    shell.register_magic_function(lambda line: None, "line", "matplotlib")
    shell.user_ns["__name__"] = "__main__"
    _CHANNEL = channel
    channel.send({"ready": True, "python": sys.version.split()[0], "numpy": np.__version__})
    Server(channel, shell).serve()
