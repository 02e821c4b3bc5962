"""Undo the usual encodings of a text, to look for hidden-test and checker source in it (feedback scrubbing).

A student's cell can print the kernel's input history (hidden test cells
included) or the checks' source *encoded* (``base64.b64encode(zlib.compress(src))``,
``src.encode().hex()``, ``src[::-1]``, ``codecs.encode(src, "rot13")``...) so
that a line-by-line comparison does not see it. :func:`decodings` yields what
a text says under the usual encodings and their combinations (to a bounded
depth and size): base64 (standard and URL-safe), base32, base85/ascii85, hex
(plain, ``\\x..``, ``0x..``, separated), Python bytes literals
(``b'x\\x9c...'``), zlib/gzip/bz2/lzma compression of any of those, reversed
text, ROT13, percent-, HTML- and backslash-escapes. :func:`reveals` says
whether any of them shows a line of the given source.

This is a net, not a proof: a private cipher (XOR with a key, text hidden in an
image's pixels) gets through; docs/grading-security.md section 3 says what
keeps hidden tests safe beyond it.
"""
from __future__ import annotations

import ast
import base64
import binascii
import bz2
import codecs
import html
import lzma
import re
import urllib.parse
import warnings
import zlib
from collections.abc import Iterable, Iterator

__all__ = ["decodings", "looks_encoded", "needle_set", "reveals", "squash"]

MAX_OUT = 4 * 1024 * 1024   # bytes one decompression may produce (no decompression bombs)
MAX_DEPTH = 3               # encodings stacked on one another (e.g. base64 of zlib of reversed text)
MAX_TEXTS = 400             # decoded texts looked at per input

_B64_RUN = re.compile(r"[A-Za-z0-9+/_\-]{16,}={0,2}")
_B32_RUN = re.compile(r"[A-Z2-7]{16,}={0,6}")
_B85_RUN = re.compile(r"[0-9A-Za-z!#$%&()*+\-;<=>?@^_`{|}~]{20,}")
_A85_RUN = re.compile(r"[!-u]{20,}")
_HEX_RUN = re.compile(r"(?:(?:\\x|0x)?[0-9a-fA-F]{2}[\s,:;\-]?){8,}")
_BYTES_LIT = re.compile(r"""b(['"])(?:\\.|(?!\1).){4,}?\1""", re.S)
_WS = re.compile(r"\s+")


def squash(text: str) -> str:
    """``text`` without whitespace (source compared this way survives re-indenting and re-spacing)."""
    return _WS.sub("", text)


_ZLIB_HEAD = (b"\x78\x01", b"\x78\x5e", b"\x78\x9c", b"\x78\xda", b"\x1f\x8b")


def _decompress(data: bytes) -> Iterator[bytes]:
    """What ``data`` decompresses to as a complete zlib, gzip, bz2, lzma/xz or raw deflate stream (bounded)."""
    head = data[:6]
    if head[:2] in _ZLIB_HEAD:
        makers = [lambda: zlib.decompressobj(47)]  # 47: a zlib or a gzip header
    elif head[:3] == b"BZh":
        makers = [bz2.BZ2Decompressor]
    elif head == b"\xfd7zXZ\x00" or head[:3] == b"\x5d\x00\x00":
        makers = [lzma.LZMADecompressor]
    else:
        makers = [lambda: zlib.decompressobj(-15)]  # raw deflate has no header
    for make in makers:
        d = make()
        try:
            out = d.decompress(data, MAX_OUT)
        except (zlib.error, OSError, ValueError, EOFError, lzma.LZMAError):
            continue
        if out and (d.eof or len(out) >= MAX_OUT):  # random bytes seldom end a stream where they end
            yield out


def _blobs(text: str) -> Iterator[bytes]:
    """Bytes that runs of ``text`` may encode."""
    for m in _B64_RUN.finditer(text):
        run = m.group(0)
        for alt in (base64.b64decode, base64.urlsafe_b64decode):
            try:
                yield alt(run + "=" * (-len(run) % 4))
            except (binascii.Error, ValueError):
                pass
    joined = "".join(_B64_RUN.findall(text))  # a blob printed in wrapped lines, or split over outputs
    if joined:
        for alt in (base64.b64decode, base64.urlsafe_b64decode):
            try:
                yield alt(joined + "=" * (-len(joined) % 4))
            except (binascii.Error, ValueError):
                pass
    for m in _B32_RUN.finditer(text):
        try:
            yield base64.b32decode(m.group(0) + "=" * (-len(m.group(0)) % 8))
        except (binascii.Error, ValueError):
            pass
    for pattern, alt in ((_B85_RUN, base64.b85decode), (_A85_RUN, base64.a85decode)):
        for m in pattern.finditer(text):
            try:
                yield alt(m.group(0))
            except (binascii.Error, ValueError):
                pass
    hexes = []
    for m in _HEX_RUN.finditer(text):
        digits = re.sub(r"\\x|0x|[\s,:;\-]", "", m.group(0))
        hexes.append(digits)
        try:
            yield bytes.fromhex(digits[: len(digits) // 2 * 2])
        except ValueError:
            pass
    if len(hexes) > 1:
        digits = "".join(hexes)
        try:
            yield bytes.fromhex(digits[: len(digits) // 2 * 2])
        except ValueError:
            pass
    for m in _BYTES_LIT.finditer(text):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                value = ast.literal_eval(m.group(0))
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            continue
        if isinstance(value, bytes):
            yield value


def looks_encoded(text: str) -> bool:
    """Whether ``text`` holds a run that one of the decodings reads (base64, base32, base85, hex, bytes literal)."""
    return any(p.search(text) for p in (_B64_RUN, _B32_RUN, _B85_RUN, _HEX_RUN, _BYTES_LIT))


def _as_text(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if data[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    return data.decode("latin-1")


def _unescapes(text: str) -> Iterator[str]:
    yield text[::-1]
    yield codecs.encode(text, "rot13")
    if "%" in text:
        yield urllib.parse.unquote(text)
    if "&" in text:
        yield html.unescape(text)
    if "\\" in text:
        try:
            with warnings.catch_warnings():  # "invalid escape sequence": a backslash that escapes nothing
                warnings.simplefilter("ignore")
                unescaped = codecs.decode(text.encode("latin-1", "backslashreplace"), "unicode_escape")
        except (UnicodeDecodeError, ValueError):
            unescaped = ""
        if unescaped:
            yield unescaped


_PRINTABLE = re.compile(r"[\t\n\r\x20-\x7e\u0100-\uffff]")


def _readable(text: str) -> bool:
    """Mostly printable: a wrong guess at an encoding yields bytes noise, which is not followed further."""
    sample = text[:4096]
    return len(_PRINTABLE.findall(sample)) >= 0.95 * len(sample)


def decodings(text: str) -> Iterator[str]:
    """``text`` and what it says under the usual encodings, breadth first, bounded in depth and count."""
    seen: set[str] = set()
    level = [text]
    count = 0
    for depth in range(MAX_DEPTH + 1):
        nxt: list[str] = []
        for t in level:
            if t in seen or count >= MAX_TEXTS:
                continue
            seen.add(t)
            count += 1
            yield t
            if depth == MAX_DEPTH:
                continue
            nxt.extend(_unescapes(t))
            for blob in _blobs(t):
                nxt.append(_as_text(blob))
                nxt.extend(_as_text(out) for out in _decompress(blob))
        level = list(dict.fromkeys(t for t in nxt if len(t) >= 8 and t not in seen and _readable(t)))
        if not level:
            break


def needle_set(needles: Iterable[str], min_len: int = 12) -> frozenset[str]:
    """Lines to look for, without whitespace; those shorter than ``min_len`` (``)``, ``pass``) are left out."""
    return frozenset(n for n in map(squash, needles) if len(n) >= max(min_len, _PREFIX))


def reveals(text: str, needles: Iterable[str]) -> bool:
    """Whether ``text``, under any of :func:`decodings` other than itself, shows one of ``needles``
    (compared without whitespace; pass a :func:`needle_set` when asking about many texts)."""
    wanted = needles if isinstance(needles, frozenset) else needle_set(needles)
    if not wanted or not text:
        return False
    for i, decoded in enumerate(decodings(text)):
        if i == 0:
            continue  # the plain text: ScrubFeedback compares it line by line already
        if _contains_any(squash(decoded), wanted):
            return True
    return False


_PREFIX = 8
_BY_PREFIX: dict[frozenset, dict[str, list[str]]] = {}


def _contains_any(flat: str, wanted: frozenset[str]) -> bool:
    """Whether ``flat`` contains one of ``wanted`` (all at least 8 long): through their 8-character prefixes
    for a short text (one set lookup per position instead of one search per needle)."""
    if len(flat) > 50_000:
        return any(n in flat for n in wanted)
    index = _BY_PREFIX.get(wanted)
    if index is None:
        if len(_BY_PREFIX) > 8:
            _BY_PREFIX.clear()
        index = _BY_PREFIX[wanted] = {}
        for n in wanted:
            index.setdefault(n[:_PREFIX], []).append(n)
    for i in range(len(flat) - _PREFIX + 1):
        hits = index.get(flat[i:i + _PREFIX])
        if hits and any(flat.startswith(n, i) for n in hits):
            return True
    return False
