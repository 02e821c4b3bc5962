"""The judge's wire format: values as data between the judge and the sandboxed runner.

A *frame* is a JSON header plus binary blobs (``np.save`` bytes of arrays)::

    u32 length, JSON (UTF-8) | u32 count | count x (u64 length, bytes)

Values are encoded as JSON with tagged objects (``{"$": "nd", "i": 0}`` is
blob 0 loaded with ``np.load(allow_pickle=False)``); nothing is ever
unpickled. Data is: numbers, strings, numeric arrays, and tuples, lists,
dicts, named tuples and records (a ``SimpleNamespace`` or a dataclass, whose
fields arrive in a ``SimpleNamespace``) of data. Objects that are not data (functions, class instances) travel as
*handles*, numbers the other side can name in later requests. The decoder
is strict and bounded (depth, count, sizes): the judge decodes whatever the
sandbox sends with it.

This file is copied into the runner's sandbox, so it imports only the
standard library and NumPy.
"""
from __future__ import annotations

import dataclasses
import io
import json
import math
import os
import select
import struct
import time
import types
from typing import Any, Callable

import numpy as np

MAX_HEADER = 16 * 1024 * 1024
MAX_BLOBS = 100_000
MAX_DEPTH = 24
MAX_ITEMS = 200_000
MAX_STR = 1_000_000
NUMERIC_KINDS = "biufc"
#: Bytes of array arguments one call of forwarded reference code may carry (the notebooks' largest use ~1 MiB).
MAX_REFERENCE_BYTES = 64 * 2**20


def unavailable_message(module: str, name: str) -> str:
    """What constructing a reference class says in the runner (a hidden verdict may show it: it is not the student's)."""
    return (f"{module}.{name} is bn_helpers' reference code and is not available while your code is graded: "
            "write it yourself with NumPy.")


class WireError(Exception):
    """A malformed, oversized or late frame: the other side is broken or hostile."""


class Timeout(WireError):
    """No complete frame before the deadline."""


class Closed(WireError):
    """The other side closed the pipe (it died)."""


# ---------------------------------------------------------------------------
# Frames
# ---------------------------------------------------------------------------

def pack(header: dict, blobs: list[bytes]) -> bytes:
    head = json.dumps(header, allow_nan=False, separators=(",", ":")).encode()
    parts = [struct.pack(">I", len(head)), head, struct.pack(">I", len(blobs))]
    for b in blobs:
        parts += [struct.pack(">Q", len(b)), b]
    return b"".join(parts)


class Reader:
    """Read frames from a file descriptor, each before a deadline and within size limits."""

    def __init__(self, fd: int, max_bytes: int = 1 << 30):
        self.fd = fd
        self.max_bytes = max_bytes
        self.buf = bytearray()

    def _fill(self, n: int, deadline: float | None) -> None:
        while len(self.buf) < n:
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise Timeout("no answer before the deadline")
                ready, _, _ = select.select([self.fd], [], [], left)
                if not ready:
                    continue
            chunk = os.read(self.fd, max(65536, min(n - len(self.buf), 1 << 24)))
            if not chunk:
                raise Closed("the other side closed the pipe")
            self.buf += chunk

    def _take(self, n: int, deadline) -> bytes:
        self._fill(n, deadline)
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def read(self, deadline: float | None = None) -> tuple[dict, list[bytes]]:
        (hlen,) = struct.unpack(">I", self._take(4, deadline))
        if hlen > MAX_HEADER:
            raise WireError(f"header of {hlen} bytes")
        try:
            header = json.loads(self._take(hlen, deadline).decode("utf-8"), parse_constant=_no_constant)
        except (ValueError, RecursionError) as exc:
            raise WireError(f"bad header: {exc}") from None
        if not isinstance(header, dict):
            raise WireError("header is not an object")
        (count,) = struct.unpack(">I", self._take(4, deadline))
        if count > MAX_BLOBS:
            raise WireError(f"{count} blobs")
        blobs, total = [], 0
        for _ in range(count):
            (blen,) = struct.unpack(">Q", self._take(8, deadline))
            total += blen
            if total > self.max_bytes:
                raise WireError(f"message larger than {self.max_bytes} bytes")
            blobs.append(self._take(blen, deadline))
        return header, blobs


def _no_constant(name):
    raise ValueError(f"{name} is not allowed")


def write_all(fd: int, data: bytes, deadline: float | None = None) -> None:
    view = memoryview(data)
    while view:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Timeout("could not send before the deadline")
            _, ready, _ = select.select([], [fd], [], left)
            if not ready:
                continue
        try:
            n = os.write(fd, view[: 1 << 20])
        except BrokenPipeError:
            raise Closed("the other side closed the pipe") from None
        view = view[n:]


# ---------------------------------------------------------------------------
# Values
# ---------------------------------------------------------------------------

def _array_bytes(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.asarray(arr), allow_pickle=False)
    return buf.getvalue()


def load_array(blob: bytes) -> np.ndarray:
    try:
        arr = np.load(io.BytesIO(blob), allow_pickle=False)
    except Exception as exc:
        raise WireError(f"bad array: {exc}") from None
    if not isinstance(arr, np.ndarray) or arr.dtype.kind not in NUMERIC_KINDS or arr.dtype.fields is not None:
        raise WireError("only numeric arrays travel")
    if not arr.flags.writeable:
        arr = arr.copy()
    return arr


class Encoder:
    """Turn a value into JSON plus blobs.

    ``handle(obj)`` is called for anything that is not data; it returns the
    JSON for a handle or raises TypeError. Arrays are numbered by identity,
    so an array that appears twice arrives as one array twice.
    """

    def __init__(self, handle: Callable[[Any], dict] | None = None):
        self.blobs: list[bytes] = []
        self.arrays: list[np.ndarray] = []
        self._ids: dict[int, int] = {}
        self.handle = handle
        self.count = 0

    def array_slot(self, arr: np.ndarray) -> int:
        key = id(arr)
        if key not in self._ids:
            self._ids[key] = len(self.blobs)
            self.blobs.append(_array_bytes(arr))
            self.arrays.append(arr)
        return self._ids[key]

    def encode(self, v: Any, depth: int = 0) -> Any:
        self.count += 1
        if depth > MAX_DEPTH or self.count > MAX_ITEMS:
            raise TypeError("value too deeply nested or too large to pass")
        if v is None:
            return None
        if isinstance(v, bool):
            return bool(v)
        if isinstance(v, str):
            if len(v) > MAX_STR:
                raise TypeError("string too long to pass")
            return str(v)
        if isinstance(v, np.ndarray):
            if v.dtype.kind in NUMERIC_KINDS and v.dtype.fields is None:
                return {"$": "nd", "i": self.array_slot(v)}
            if v.dtype.kind == "O":
                return {"$": "l", "v": [self.encode(x, depth + 1) for x in v.tolist()]}
        elif isinstance(v, np.generic):
            if v.dtype.kind in NUMERIC_KINDS:
                return {"$": "sc", "i": self.array_slot(np.asarray(v))}
        elif isinstance(v, int):
            return int(v)
        elif isinstance(v, float):
            f = float(v)
            return f if math.isfinite(f) else {"$": "f", "v": repr(f)}
        elif isinstance(v, complex):
            return {"$": "c", "re": self.encode(v.real, depth + 1), "im": self.encode(v.imag, depth + 1)}
        elif isinstance(v, tuple) and isinstance(getattr(type(v), "_fields", None), tuple):
            fields = [str(f) for f in type(v)._fields]
            return {"$": "nt", "n": type(v).__name__, "f": fields, "v": [self.encode(x, depth + 1) for x in v]}
        elif isinstance(v, tuple):
            return {"$": "t", "v": [self.encode(x, depth + 1) for x in v]}
        elif type(v) is types.SimpleNamespace or (dataclasses.is_dataclass(v) and not isinstance(v, type)):
            # a record of fields (a cache written as a dataclass): its fields travel, decoded, as a SimpleNamespace
            fields = list(vars(v)) if type(v) is types.SimpleNamespace else [f.name for f in dataclasses.fields(v)]
            return {"$": "ns", "n": type(v).__name__[:64], "f": [str(f) for f in fields],
                    "v": [self.encode(getattr(v, f), depth + 1) for f in fields]}
        elif isinstance(v, list):
            return {"$": "l", "v": [self.encode(x, depth + 1) for x in v]}
        elif isinstance(v, dict):
            return {"$": "d", "k": [self.encode(k, depth + 1) for k in v],
                    "v": [self.encode(x, depth + 1) for x in v.values()]}
        elif isinstance(v, slice):
            return {"$": "s", "v": [self.encode(x, depth + 1) for x in (v.start, v.stop, v.step)]}
        elif v is Ellipsis:
            return {"$": "e"}
        if self.handle is None:
            raise TypeError(f"a {type(v).__name__} cannot be passed as data")
        return self.handle(v)

    def frame(self, header: dict) -> bytes:
        return pack(header, self.blobs)


class Decoder:
    """Turn JSON plus blobs back into a value, strictly.

    ``handle(obj)`` resolves ``{"$": "h", ...}`` (or raises WireError);
    ``namedtuple(name, fields)`` returns the class for ``{"$": "nt"}``.
    """

    def __init__(self, blobs: list[bytes], handle: Callable[[dict], Any] | None = None,
                 namedtuple: Callable[[str, list[str]], Any] | None = None):
        self.blobs = blobs
        self.arrays: dict[int, np.ndarray] = {}
        self.handle = handle
        self.namedtuple = namedtuple
        self.count = 0

    def _array(self, i) -> np.ndarray:
        if not isinstance(i, int) or not 0 <= i < len(self.blobs):
            raise WireError("bad array index")
        if i not in self.arrays:
            self.arrays[i] = load_array(self.blobs[i])
        return self.arrays[i]

    def decode(self, v: Any, depth: int = 0) -> Any:
        self.count += 1
        if depth > MAX_DEPTH or self.count > MAX_ITEMS:
            raise WireError("value too deeply nested or too large")
        if v is None or isinstance(v, (bool, int, float)):
            return v
        if isinstance(v, str):
            if len(v) > MAX_STR:
                raise WireError("string too long")
            return v
        if not isinstance(v, dict):
            raise WireError(f"unexpected {type(v).__name__}")
        tag = v.get("$")
        items = v.get("v")
        if tag == "nd":
            return self._array(v.get("i"))
        if tag == "sc":
            arr = self._array(v.get("i"))
            if arr.ndim != 0:
                raise WireError("scalar with a shape")
            return arr[()]
        if tag == "f":
            if items not in ("nan", "inf", "-inf"):
                raise WireError("bad float")
            return float(items)
        if tag == "c":
            re_, im_ = self.decode(v.get("re"), depth + 1), self.decode(v.get("im"), depth + 1)
            if not all(isinstance(p, float) for p in (re_, im_)):
                raise WireError("bad complex")
            return complex(re_, im_)
        if tag == "e":
            return Ellipsis
        if tag == "ns":
            fields = v.get("f")
            if (not isinstance(items, list) or not isinstance(fields, list) or len(fields) != len(items)
                    or not all(isinstance(f, str) and f.isidentifier() and not f.startswith("__") for f in fields)):
                raise WireError("bad record")
            return types.SimpleNamespace(**{f: self.decode(x, depth + 1) for f, x in zip(fields, items)})
        if tag in ("t", "l", "nt", "s"):
            if not isinstance(items, list):
                raise WireError("bad sequence")
            values = [self.decode(x, depth + 1) for x in items]
            if tag == "t":
                return tuple(values)
            if tag == "l":
                return values
            if tag == "s":
                if len(values) != 3 or not all(x is None or type(x) is int for x in values):
                    raise WireError("bad slice")
                return slice(*values)
            name, fields = v.get("n"), v.get("f")
            if (not isinstance(name, str) or not isinstance(fields, list) or len(fields) != len(values)
                    or not all(isinstance(f, str) for f in fields)):
                raise WireError("bad named tuple")
            cls = self.namedtuple(name, fields) if self.namedtuple else None
            return cls(*values) if cls is not None else tuple(values)
        if tag == "d":
            keys = v.get("k")
            if not isinstance(keys, list) or not isinstance(items, list) or len(keys) != len(items):
                raise WireError("bad dict")
            out = {}
            for k, x in zip(keys, items):
                key = self.decode(k, depth + 1)
                try:
                    hash(key)
                except TypeError:
                    raise WireError("unhashable key") from None
                out[key] = self.decode(x, depth + 1)
            return out
        if tag == "h":
            if self.handle is None:
                raise WireError("no handles here")
            return self.handle(v)
        raise WireError(f"unknown tag {tag!r}")


# ---------------------------------------------------------------------------
# Exceptions
# ---------------------------------------------------------------------------

def exception_record(exc: BaseException, tb_lines: list[str] | None = None) -> dict:
    """What the other side needs to raise a look-alike: type name, built-in bases, args, text."""
    import builtins

    bases = [c.__name__ for c in type(exc).__mro__
             if isinstance(getattr(builtins, c.__name__, None), type) and getattr(builtins, c.__name__) is c
             and issubclass(c, BaseException)]
    try:
        text = str(exc)
    except Exception:
        text = "<unprintable>"
    args = []
    for a in getattr(exc, "args", ()):
        if isinstance(a, (str, int, float, bool)) or a is None:
            args.append(a if not isinstance(a, str) else a[:20000])
        else:
            try:
                args.append(repr(a)[:2000])
            except Exception:
                args.append("?")
    return {"type": type(exc).__name__[:100], "bases": bases[:10], "args": args[:10], "str": text[:20000],
            "tb": [line[:2000] for line in (tb_lines or [])][:60]}
