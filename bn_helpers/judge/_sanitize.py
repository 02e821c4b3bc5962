"""Student HTML never runs in the instructor's browser: an nbgrader preprocessor that sanitizes a notebook.

A submission's outputs, markdown cells and raw cells are the student's: rendered
as they are, a ``<script>``, an ``<img onerror=...>``, a ``javascript:`` link, an
SVG with a script, a ``text/javascript`` output or a widget view would run in
the browser that opens the feedback, or in formgrader's manual-grading page, on
the origin of the instructor's logged-in Jupyter server (where a script can call
the server's API as the instructor). :class:`SanitizeNotebook` rewrites the
notebook so that what nbconvert renders from it is inert:

* ``text/html`` outputs go through `nh3 <https://nh3.readthedocs.io>`_ (the
  Python binding of the Rust sanitizer ammonia): a fixed allowlist of tags and
  attributes, no event handlers, no ``<script>``/``<style>``/``<iframe>``/
  ``<object>``/``<embed>``/``<svg>``/``<form>``, links only to ``http``,
  ``https`` and ``mailto``;
* markdown cells with raw HTML beyond plain formatting tags, and raw cells,
  are escaped: the markup shows as text (see :func:`clean_markdown`);
* only text, HTML and PNG/JPEG/GIF images (strict base64) are kept of a rich
  output; JavaScript, widget views, SVG, LaTeX, Markdown, JSON and any other
  kind degrade to the output's ``text/plain`` (or a note that names the kind);
* output metadata keeps only numeric image sizes; the notebook's widget state
  (``metadata.widgets``, which nbconvert would hand to the widget manager) and
  non-image markdown attachments are dropped; markdown links and images whose
  target is not ``http``/``https``/``mailto``/``#``/relative are defused.

Wired in ``nbgrader_config.py`` twice: in ``c.Autograde.autograde_preprocessors``
after execution (the autograded notebook is what formgrader renders) and in
``c.GenerateFeedback.preprocessors`` (the feedback, also for notebooks graded
before this existed). See ``docs/grading-security.md`` section 3.
"""
from __future__ import annotations

import base64
import binascii
import html
import re

import nh3
from nbformat.notebooknode import NotebookNode
from traitlets import Bool

try:
    from nbgrader.preprocessors import NbGraderPreprocessor
except ImportError:  # pragma: no cover - nbgrader is installed wherever grading happens
    from nbconvert.preprocessors import Preprocessor as NbGraderPreprocessor

__all__ = ["SanitizeNotebook", "clean_html", "clean_markdown", "clean_output", "sanitize_notebook"]

#: Tags kept in student HTML: nh3's default allowlist (text, tables, lists, images, links), which has no
#: script, style, iframe, object, embed, svg, math, form, input, base, meta or link.
TAGS = set(nh3.ALLOWED_TAGS)
#: Attributes: nh3's defaults (no event handler, no style, no id) plus ``class`` (pandas' tables).
ATTRIBUTES = {tag: set(attrs) for tag, attrs in nh3.ALLOWED_ATTRIBUTES.items()}
ATTRIBUTES["*"] = {"class", "title", "lang"}
URL_SCHEMES = {"http", "https", "mailto"}

#: Rich output kinds that are kept (HTML cleaned, images checked); every other kind is dropped.
KEPT = ("text/plain", "text/html", "image/png", "image/jpeg", "image/gif")
_B64 = re.compile(r"[A-Za-z0-9+/=\s]*")
_NOTE = "[{kinds} output not shown in grading: only text, HTML and PNG/JPEG/GIF images are]"


def clean_html(text: str) -> str:
    """``text`` (HTML) with only allowlisted tags, attributes and URL schemes left (nh3/ammonia)."""
    return nh3.clean(str(text), tags=TAGS, attributes=ATTRIBUTES, url_schemes=URL_SCHEMES,
                     strip_comments=True, link_rel="noopener noreferrer nofollow")


# Markdown's own links and images: [text](target "title"), ![alt](target), <scheme:...> and [ref]: target
_MD_LINK = re.compile(r"(\]\(\s*<?)([^)\s>]*)")
_MD_REF = re.compile(r"^([ \t]{0,3}\[[^\]]+\]:[ \t]*<?)(\S*?)(>?(?:[ \t].*)?)$", re.M)
_SAFE_TARGET = re.compile(r"^(?:https?:|mailto:|#|attachment:|[^:]*$)", re.I)


def _safe_target(target: str) -> bool:
    # a browser ignores control characters and blanks inside a scheme ("java\tscript:"): judge without them
    bare = re.sub(r"[\x00-\x20]", "", html.unescape(target))
    return bool(_SAFE_TARGET.match(bare))


#: What CommonMark passes through as raw HTML: tags, comments, processing instructions, declarations, CDATA.
#: A tag left open at the end counts too (``<script`` starts an HTML block that the page's next ``>`` closes).
_MD_HTML = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)([^<>]*)(?:>|\Z)|<!--|<\?|<![A-Za-z\[]")
#: Plain formatting tags with no attributes are harmless (<b>, <br/>, <sub>, </table>...).
_PLAIN_TAGS = TAGS - {"a", "img", "area", "map"}


def _active_html(source: str) -> bool:
    for m in _MD_HTML.finditer(source):
        if m.group(2) and m.group(3).startswith(":") and not m.group(1):  # an autolink, <https://...>
            if not _safe_target(m.group(2) + m.group(3)):
                return True
            continue
        if m.group(2) is None or m.group(2).lower() not in _PLAIN_TAGS or m.group(3).strip() not in ("", "/"):
            return True
    return False


def clean_markdown(source: str) -> str:
    """A markdown cell's source with no active HTML and no link to a script.

    nbconvert's markdown renderer passes raw HTML to the page as is. A source
    with raw HTML other than plain formatting tags without attributes (``<b>``,
    ``<br/>``, ``<sub>``) has every ``<`` escaped, so the browser shows the
    markup as text (the instructor sees what was written; nothing is dropped,
    and text such as ``a<b`` is never mistaken for a tag). Link and image
    targets whose scheme is not ``http``, ``https`` or ``mailto`` become ``#``.
    """
    source = str(source)
    if _active_html(source):
        source = source.replace("<", "&lt;")
    source = _MD_LINK.sub(lambda m: m.group(1) + (m.group(2) if _safe_target(m.group(2)) else "#"), source)
    return _MD_REF.sub(lambda m: m.group(1) + (m.group(2) if _safe_target(m.group(2)) else "#") + m.group(3),
                       source)


def _text(value) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def _image_ok(value) -> bool:
    text = _text(value)
    if not _B64.fullmatch(text):
        return False
    try:
        base64.b64decode(re.sub(r"\s", "", text), validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


def _size_metadata(meta) -> dict:
    """Only numeric ``width``/``height`` per image kind (what nbconvert puts into <img> attributes)."""
    out = {}
    for kind, value in (meta or {}).items():
        if kind in ("image/png", "image/jpeg", "image/gif") and isinstance(value, dict):
            sizes = {k: value[k] for k in ("width", "height")
                     if isinstance(value.get(k), (int, float)) and not isinstance(value.get(k), bool)}
            if sizes:
                out[kind] = sizes
    return out


def clean_output(output: dict) -> dict:
    """One cell output made inert (in place, also returned)."""
    kind = output.get("output_type")
    if kind in ("display_data", "execute_result"):
        data = output.get("data") or {}
        kept, dropped = {}, []
        for mime, value in data.items():
            if mime == "text/plain":
                kept[mime] = _text(value)
            elif mime == "text/html":
                kept[mime] = clean_html(_text(value))
            elif mime in KEPT and _image_ok(value):
                kept[mime] = re.sub(r"\s", "", _text(value))
            else:
                dropped.append(mime)
        if "text/plain" not in kept and not any(m in kept for m in KEPT[1:]):
            fallback = next((_text(data[m]) for m in ("text/markdown", "text/latex") if m in data), None)
            kept["text/plain"] = fallback if fallback is not None else _NOTE.format(kinds=", ".join(dropped) or "an empty")
        output["data"] = NotebookNode(kept)
        output["metadata"] = NotebookNode(_size_metadata(output.get("metadata")))
        output.pop("transient", None)
    elif kind == "stream":
        output["text"] = _text(output.get("text", ""))
    elif kind == "error":
        output["ename"] = str(output.get("ename", ""))
        output["evalue"] = str(output.get("evalue", ""))
        output["traceback"] = [str(t) for t in output.get("traceback", [])]
    else:  # not an nbformat output kind: keep nothing of it but its text
        text = _text(output.get("text", "")) if "text" in output else f"[{kind!s:.40} output not shown]"
        output.clear()
        output.update(output_type="stream", name="stdout", text=text)
    return output


def sanitize_notebook(nb) -> None:
    """Make every cell and output of ``nb`` inert for nbconvert's HTML templates (in place)."""
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = clean_markdown(cell.source)
            attachments = cell.get("attachments") or {}
            for name in list(attachments):
                images = {m: v for m, v in (attachments[name] or {}).items()
                          if m in ("image/png", "image/jpeg", "image/gif") and _image_ok(v)}
                if images:
                    attachments[name] = NotebookNode(images)
                else:
                    del attachments[name]
        elif cell.cell_type == "raw":  # nbconvert copies a raw cell into the page verbatim: text only
            cell.source = html.escape(str(cell.source), quote=False)
        for output in cell.get("outputs", []):
            clean_output(output)


class SanitizeNotebook(NbGraderPreprocessor):
    """nbgrader preprocessor: student HTML, scripts and widgets made inert (see the module's docstring)."""

    enabled = Bool(True, help="Sanitize the notebook's outputs, markdown and raw cells for HTML rendering."
                   ).tag(config=True)

    def preprocess(self, nb, resources):
        if self.enabled:
            sanitize_notebook(nb)
        return nb, resources
