"""Student HTML never runs in the instructor's browser; hidden source never reaches a feedback, encoded or not.

Unit tests of :mod:`bn_helpers.judge._sanitize` (the notebook sanitizer wired into autograding and
feedback) and of the decoded scrubbing in :class:`bn_helpers.judge.ScrubFeedback`; then a hostile
submission (tests/cheats/02_forward/hostile_html_and_encoded_leaks.py) graded by real
``nbgrader autograde`` + ``generate_feedback``, whose feedback and formgrader page (rendered by
formgrader's own exporter and template) are opened in Debian's Chromium: no script of the student's
runs, and no hidden test or checker source shows, decoded or not. The secret the grader's environment
holds is in no file grading writes.
"""
from __future__ import annotations

import base64
import binascii
import bz2
import codecs
import gzip
import html
import json
import os
import re
import subprocess
import sys
import zlib
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output, new_raw_cell

from bn_helpers.judge import ENCODED_NOTE, ScrubFeedback, checker_lines, scrub_encoded
from bn_helpers.judge._decode import decodings, reveals
from bn_helpers.judge._sanitize import SanitizeNotebook, clean_html, clean_markdown, clean_output, sanitize_notebook
from conftest import ROOT

#: What must not survive in anything rendered from a student's HTML.
ACTIVE = re.compile(r"<\s*(script|iframe|object|embed|svg|style|form|base|meta|link)\b|\son[a-z]+\s*=|javascript:",
                    re.I)
class _ActiveFinder(HTMLParser):
    """Collects what could run in a page: handlers, javascript: URLs, embedding tags, script bodies."""

    def __init__(self):
        super().__init__()
        self.found, self._script = [], False

    def handle_starttag(self, tag, attrs):
        if tag in ("iframe", "object", "embed", "svg", "form", "base", "meta") and tag != "meta":
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on") or re.sub(r"[\x00-\x20]", "", value or "").lower().startswith("javascript:"):
                self.found.append(f"<{tag} {name}={value!r}>")
        self._script = tag == "script"

    def handle_endtag(self, tag):
        self._script = False

    def handle_data(self, data):
        if self._script and "alert" in data:
            self.found.append(f"<script>{data[:60]}")


HOSTILE_HTML = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<IMG SRC=x OnErRoR=alert(1)>",
    "<a href='javascript:alert(1)'>x</a>",
    "<a href='JaVaScRiPt:alert(1)'>x</a>",
    "<a href='java\tscript:alert(1)'>x</a>",
    "<a href='&#106;avascript:alert(1)'>x</a>",
    "<svg onload=alert(1)><script>alert(2)</script></svg>",
    "<iframe src='javascript:alert(1)'></iframe><iframe srcdoc='<script>alert(1)</script>'></iframe>",
    "<object data='javascript:alert(1)'></object><embed src='javascript:alert(1)'>",
    "<details open ontoggle=alert(1)>x</details>",
    "<style>@import 'javascript:alert(1)';</style>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<form action='javascript:alert(1)'><input type=submit></form>",
    "<div style='background:url(javascript:alert(1))'>x</div>",
    "<base href='javascript:alert(1)//'>",
    "<meta http-equiv='refresh' content='0;url=javascript:alert(1)'>",
    "<b/onmouseover=alert(1)>x</b>",
    "<!--><img src=x onerror=alert(1)>-->",
]


@pytest.mark.parametrize("hostile", HOSTILE_HTML)
def test_html_outputs_keep_no_script_handler_or_javascript_url(hostile):
    out = clean_output(new_output("display_data", data={"text/html": hostile, "text/plain": "x"}))
    assert not ACTIVE.search(out["data"]["text/html"]), out["data"]["text/html"]
    assert out["data"]["text/plain"] == "x"


def test_harmless_html_survives():
    table = ('<table border="1" class="dataframe"><thead><tr><th>a</th></tr></thead>'
             '<tbody><tr><td>1.5</td></tr></tbody></table>')
    kept = clean_html(table + "<p><b>bold</b> <a href='https://arxiv.org/abs/1502.03167'>paper</a></p>")
    assert 'class="dataframe"' in kept and "<td>1.5</td>" in kept and "<b>bold</b>" in kept
    assert 'href="https://arxiv.org/abs/1502.03167"' in kept


@pytest.mark.parametrize("mime", ["application/javascript", "text/javascript", "image/svg+xml", "text/latex",
                                  "application/vnd.jupyter.widget-view+json", "application/json", "text/markdown",
                                  "application/x-custom"])
def test_script_widget_and_unknown_kinds_degrade_to_text(mime):
    value = {"model_id": "m"} if mime.endswith("json") else "<svg onload=alert(1)/>alert(1)"
    out = clean_output(new_output("display_data", data={mime: value, "text/plain": "the text"}))
    assert dict(out["data"]) == {"text/plain": "the text"}
    alone = clean_output(new_output("display_data", data={mime: value}))
    assert list(alone["data"]) == ["text/plain"] and not ACTIVE.search(alone["data"]["text/plain"]) \
        or mime in ("text/markdown", "text/latex")  # their source becomes the text, which nbconvert escapes


def test_images_must_be_base64_and_their_metadata_numbers():
    png = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(range(40))).decode()
    good = clean_output(new_output("display_data", data={"image/png": png + "\n"},
                                   metadata={"image/png": {"width": 300, "height": "1 onerror=alert(1)"},
                                             "needs_background": "x", "filenames": {"image/png": "a\" onerror=\""}}))
    assert good["data"]["image/png"] == png and dict(good["metadata"]) == {"image/png": {"width": 300}}
    bad = clean_output(new_output("display_data", data={"image/png": png + '" onerror="alert(1)', "text/plain": "p"}))
    assert dict(bad["data"]) == {"text/plain": "p"}


def test_markdown_with_active_html_shows_it_as_text_and_defuses_links():
    from nbconvert.filters import markdown2html

    cases = ["<img src=x onerror=alert(1)> text", "<script>alert(1)</script>", "<svg><script>alert(1)</script></svg>",
             "[go](javascript:alert(1))", "[go](  JavaScript:alert(1) )", "![i](javascript:alert(1))",
             "[r]\n\n[r]: javascript:alert(1)", "<a href='javascript:alert(1)'>x</a>", "<script\nsrc=//evil/x.js",
             "[go](&#106;avascript:alert(1))", "<https://example.org> and <javascript:alert(1)>"]
    for source in cases:
        unsafe = _ActiveFinder()
        unsafe.feed(markdown2html(source))
        rendered = markdown2html(clean_markdown(source))
        finder = _ActiveFinder()
        finder.feed(rendered)
        assert not finder.found, (source, rendered)
        assert unsafe.found or "javascript" not in source.lower() or "&#106;" in source or "<javascript" in source, source
    # the text of an answer is kept, not dropped: the instructor grades it
    assert "onerror" in markdown2html(clean_markdown(cases[0])) and "text" in markdown2html(clean_markdown(cases[0]))


def test_ordinary_markdown_is_left_alone():
    from nbconvert.filters import markdown2html

    for source in ["**Bold** and $\\sigma^2 < \\epsilon$", "x <sub>2</sub> and <b>b</b><br/>",
                   "[paper](https://arxiv.org/abs/1502.03167), [local](#refs), [f](figures/a.png), <mailto:a@b.org>"]:
        assert clean_markdown(source) == source
    # text that only looks like a tag start may be escaped, but reads the same
    assert "a&lt;b then" in markdown2html(clean_markdown("if a<b then"))
    # every markdown cell the course ships renders as before
    for path in sorted((ROOT / "solutions").glob("*/*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "markdown":
                assert clean_markdown(cell.source) == cell.source, (path.name, cell.id)


def test_notebook_sanitizer_covers_raw_cells_widget_state_and_attachments():
    md = new_markdown_cell("![a](attachment:a.svg)")
    md["attachments"] = {"a.svg": {"image/svg+xml": "<svg onload=alert(1)/>"},
                         "b.png": {"image/png": base64.b64encode(b"png").decode()}}
    nb = new_notebook(cells=[new_raw_cell("<script>alert(1)</script>"), md, new_code_cell("1")])
    nb.cells[2].outputs = [new_output("stream", name="stdout", text="<script>stays text</script>")]
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    nb, _ = SanitizeNotebook().preprocess(nb, {})
    assert nb.cells[0].source == "&lt;script&gt;alert(1)&lt;/script&gt;"
    assert list(nb.cells[1].attachments) == ["b.png"] and "widgets" not in nb.metadata
    assert nb.cells[2].outputs[0].text == "<script>stays text</script>"  # a stream is escaped by nbconvert


def test_rendered_notebook_has_no_active_html_from_the_student():
    """nbconvert's lab template (the feedback's base) renders the sanitized notebook with nothing that runs."""
    from nbconvert import HTMLExporter

    nb = new_notebook(cells=[new_markdown_cell("<img src=x onerror=alert(1)> [a](javascript:alert(1))"),
                             new_raw_cell("<script>alert(1)</script>"), new_code_cell("x")])
    nb.cells[2].outputs = [new_output("display_data", data={"text/html": h, "text/plain": "t"}) for h in HOSTILE_HTML]
    nb.cells[2].outputs += [new_output("display_data", data={"application/javascript": "alert(1)"}),
                            new_output("display_data", data={"image/svg+xml": "<svg onload=alert(1)/>"}),
                            new_output("display_data", data={"text/html": "<img src=x onerror=alert(1)>",
                                       "application/vnd.jupyter.widget-view+json": {"model_id": "m"}})]
    unsafe, _ = HTMLExporter(template_name="lab").from_notebook_node(nb)
    before = _ActiveFinder()
    before.feed(unsafe)
    assert before.found  # the test would see an unsanitized notebook's scripts
    sanitize_notebook(nb)
    body, _ = HTMLExporter(template_name="lab").from_notebook_node(nb)
    finder = _ActiveFinder()
    finder.feed(body)
    assert not finder.found, finder.found[:5]


# ---------------------------------------------------------------------------
# Decoded scrubbing
# ---------------------------------------------------------------------------

HIDDEN_SRC = ("from bn_helpers import checks\n### BEGIN HIDDEN TESTS\nchecks.batch_mean(batch_mean, hidden=True)\n"
              "checks.batch_variance(batch_variance, hidden=True)\n### END HIDDEN TESTS\n")
HIDDEN_TEXT = "checks.batch_mean(batch_mean, hidden=True)\nchecks.batch_variance(batch_variance, hidden=True)"


def _encodings(text: str) -> dict[str, str]:
    raw = text.encode()
    deflate = zlib.compressobj(wbits=-15)
    return {
        "base64": base64.b64encode(raw).decode(), "urlsafe": base64.urlsafe_b64encode(raw).decode(),
        "base64 wrapped": base64.encodebytes(raw).decode(), "base32": base64.b32encode(raw).decode(),
        "base85": base64.b85encode(raw).decode(), "ascii85": base64.a85encode(raw).decode(),
        "hex": raw.hex(), "hex spaced": raw.hex(" "), "\\x escapes": "".join(f"\\x{b:02x}" for b in raw),
        "zlib base64": base64.b64encode(zlib.compress(raw)).decode(), "zlib bytes": str(zlib.compress(raw)),
        "gzip base64": base64.b64encode(gzip.compress(raw)).decode(), "bz2 hex": bz2.compress(raw).hex(),
        "raw deflate base64": base64.b64encode(deflate.compress(raw) + deflate.flush()).decode(),
        "reversed": text[::-1], "rot13": codecs.encode(text, "rot13"),
        "reversed base64": base64.b64encode(text[::-1].encode()).decode(),
        "base64 reversed": base64.b64encode(raw).decode()[::-1],
        "base64 of base64": base64.b64encode(base64.b64encode(raw)).decode(),
        "percent": "".join(f"%{b:02X}" for b in raw), "entities": "".join(f"&#{ord(c)};" for c in text),
        "no newlines base64": base64.b64encode(text.replace("\n", " ").encode()).decode(),
    }


@pytest.mark.parametrize("kind", list(_encodings("x")))
def test_scrubber_finds_hidden_tests_under_every_usual_encoding(kind):
    encoded = _encodings(HIDDEN_TEXT)[kind]
    cell = new_code_cell("print(leak)")
    cell.outputs = [new_output("stream", name="stdout", text=f"here: {encoded}\n"),
                    new_output("display_data", data={"text/html": f"<pre>{html.escape(encoded)}</pre>", "text/plain": "p"}),
                    new_output("stream", name="stdout", text="an honest line\n")]
    test = new_code_cell(HIDDEN_SRC)
    test.metadata["nbgrader"] = {"grade": True, "solution": False, "grade_id": "test_hidden", "points": 1}
    nb, _ = ScrubFeedback().preprocess(new_notebook(cells=[test, cell]), {})
    shown = [json.dumps(o) for o in nb.cells[1].outputs]
    assert not any(json.dumps(encoded)[1:41] in o or json.dumps(html.escape(encoded))[1:41] in o for o in shown), kind
    assert all("[removed from feedback" in o for o in shown[:2]), shown
    assert nb.cells[1].outputs[2].text == "an honest line\n"


@pytest.mark.parametrize("kind", ["base64", "zlib base64", "hex", "reversed", "rot13"])
def test_scrubber_finds_checker_source_encoded(kind):
    import inspect

    from bn_helpers.checks import forward

    encoded = _encodings(inspect.getsource(forward))[kind]
    nb = new_notebook(cells=[new_code_cell("x")])
    nb.cells[0].outputs = [new_output("execute_result", data={"text/plain": repr(encoded)}, execution_count=1)]
    assert scrub_encoded(nb, sorted(checker_lines())) == 1 and nb.cells[0].outputs[0]["text"] == ENCODED_NOTE


def test_a_blob_split_over_outputs_is_found():
    blob = base64.b64encode(zlib.compress(HIDDEN_TEXT.encode())).decode()
    half = len(blob) // 2 // 4 * 4
    nb = new_notebook(cells=[new_code_cell("a"), new_code_cell("b")])
    nb.cells[0].outputs = [new_output("stream", name="stdout", text=blob[:half] + "\n")]
    nb.cells[1].outputs = [new_output("stream", name="stdout", text=blob[half:] + "\n"),
                           new_output("stream", name="stdout", text="test_batch_mean passed\n")]
    assert scrub_encoded(nb, HIDDEN_TEXT.splitlines()) == 2
    assert [o.text for o in nb.cells[1].outputs] == [ENCODED_NOTE, "test_batch_mean passed\n"]


def test_honest_outputs_are_not_touched():
    png = base64.b64encode(zlib.compress(os.urandom(2000))).decode()
    nb = new_notebook(cells=[new_code_cell("x")])
    nb.cells[0].outputs = [
        new_output("stream", name="stdout", text="batch_mean passed (float32 and float64): 6 cases\n"),
        new_output("execute_result", data={"text/plain": "array([[ 0.1234, -1.5   ],\n       [ 3.25  ,  4.   ]])"},
                   execution_count=1),
        new_output("display_data", data={"image/png": png, "text/plain": "<Figure size 640x480 with 1 Axes>"}),
        new_output("stream", name="stdout", text="sha256 " + "ab12" * 16 + " token " + "Zm9v" * 10 + "\n")]
    before = json.dumps(nb, sort_keys=True)
    assert scrub_encoded(nb, sorted(checker_lines()) + HIDDEN_TEXT.splitlines()) == 0
    assert json.dumps(nb, sort_keys=True) == before


def test_decoding_is_bounded():
    """A decompression bomb and deep nesting cost bounded work (sizes and counts, not time)."""
    bomb = base64.b64encode(zlib.compress(b"A" * 50_000_000)).decode()
    sizes = [len(t) for t in decodings(bomb)]
    assert max(sizes) <= 4 * 1024 * 1024 + 1 and len(sizes) <= 400
    nested = HIDDEN_TEXT.encode()
    for _ in range(6):
        nested = base64.b64encode(nested)
    assert not reveals(nested.decode(), HIDDEN_TEXT.splitlines())  # deeper than MAX_DEPTH: documented limit
    three = base64.b64encode(base64.b64encode(base64.b64encode(HIDDEN_TEXT.encode()))).decode()
    assert reveals(three, HIDDEN_TEXT.splitlines())


# ---------------------------------------------------------------------------
# A hostile submission through real nbgrader, opened in Chromium
# ---------------------------------------------------------------------------

CHROMIUM = os.environ.get("BN_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
SECRET = "s3cr3t-sanitize-test-GRADER-4d1e"
CHEAT = ROOT / "tests" / "cheats" / "02_forward" / "hostile_html_and_encoded_leaks.py"
PROC = ROOT / "tests" / "cheats" / "02_forward" / "read_proc_for_secrets.py"


def _independent_decodings(text: str):
    """Decodings of the blobs the hostile submission prints, by the standard library alone (not bn_helpers)."""
    for run in re.findall(r"[A-Za-z0-9+/=]{40,}", text) + ["".join(re.findall(r"^[A-Za-z0-9+/=]{60}$", text, re.M))]:
        try:
            raw = base64.b64decode(run + "=" * (-len(run) % 4))
        except binascii.Error:
            continue
        yield raw.decode("latin-1")
        for unpack in (zlib.decompress, gzip.decompress):
            try:
                yield unpack(raw).decode("latin-1")
            except (zlib.error, OSError, EOFError):
                pass
    for run in re.findall(r"(?:[0-9a-f]{2}){20,}", text):
        raw = bytes.fromhex(run)
        yield raw.decode("latin-1")
        try:
            yield bz2.decompress(raw).decode("latin-1")
        except (OSError, ValueError):
            pass
    yield text[::-1]
    yield codecs.encode(text, "rot13")


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    from bn_helpers import grading
    from bn_helpers.sandbox import Sandbox

    if not Sandbox().status()[0]:
        pytest.skip("needs the sandbox: " + Sandbox().status()[1])
    a = "02_forward"
    tmp = tmp_path_factory.mktemp("sanitize")
    course = grading.new_course(tmp / "course", root=ROOT, names=[a])
    db = course / ".grading" / "gradebook.db"
    with open(course / "nbgrader_config.py", "a") as f:
        f.write(f'\nc.Sandbox.mode = "require"\nc.CourseDirectory.db_url = "sqlite:///{db}"\n')
    solution = grading.solution_code(ROOT, a)
    for name, path in (("mallory", CHEAT), ("procopius", PROC)):
        edits, header = grading.read_sample(path)
        grading.make_submission(course, a, name, {**solution, **edits})
    env = {**os.environ, "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
           "GRADER_API_TOKEN": SECRET, "NBGRADER_DB_URL": f"postgresql://grader:{SECRET}@db.example/x"}
    for step in ("autograde", "generate_feedback"):
        proc = subprocess.run([sys.executable, "-m", "nbgrader", step, a, f"--CourseDirectory.db_url=sqlite:///{db}"],
                              cwd=course, env=env, capture_output=True, text=True, timeout=3600)
        assert proc.returncode == 0, proc.stderr[-4000:]
    return course, a


@pytest.mark.slow
def test_no_secret_in_any_file_grading_writes(graded):
    course, a = graded
    files = [p for p in (course / ".grading").rglob("*") if p.is_file() and p.suffix in (".ipynb", ".html", ".json")]
    assert any(p.name == "judge.json" for p in files) and any(p.suffix == ".html" for p in files)
    found = [str(p) for p in files if SECRET in p.read_text(errors="replace")]
    assert not found, f"the grader's secret is in {found}"
    proc_out = (course / ".grading" / "feedback" / "procopius" / a / f"{a}.html").read_text()
    assert "/proc/1/environ" in proc_out  # it did read bwrap's PID 1 (and found nothing)


@pytest.mark.slow
def test_autograded_notebook_holds_no_active_html(graded):
    course, a = graded
    nb = nbformat.read(course / ".grading" / "autograded" / "mallory" / a / f"{a}.ipynb", as_version=4)
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            for mime, value in (out.get("data") or {}).items():
                assert mime in ("text/plain", "text/html", "image/png", "image/jpeg", "image/gif"), mime
                if mime == "text/html":
                    assert not ACTIVE.search(value), value
    written = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") ==
                   "written_variance_and_gamma_beta")
    assert "onerror" in written.source and "<img" not in written.source  # shown as text, kept for grading


_STATE = "() => ({title: document.title, pwned: window.__pwned || null, text: document.body.innerText})"


def _open(context, path: Path) -> dict:
    """Load a page, read its state, click every link a script could hide behind, read it again."""
    page = context.new_page()
    page.goto(path.as_uri(), wait_until="load")
    page.wait_for_timeout(1500)
    state = page.evaluate(_STATE)
    try:
        for link in page.query_selector_all("a"):
            href = link.get_attribute("href") or ""
            if not href or re.sub(r"[\x00-\x20]", "", href).lower().startswith("javascript"):
                try:
                    link.click(timeout=500, no_wait_after=True)
                except Exception:  # noqa: BLE001 - an invisible link cannot be clicked: nothing ran either
                    pass
        page.wait_for_timeout(500)
        after = page.evaluate(_STATE)
    except Exception as exc:  # noqa: BLE001 - a click that navigated away: a student's link did something
        after = {"title": f"PWNED by navigation ({type(exc).__name__})", "pwned": ["navigation"], "text": ""}
    page.close()
    return {"title": state["title"] + " | " + after["title"], "pwned": state["pwned"] or after["pwned"],
            "text": state["text"]}


@pytest.mark.slow
def test_feedback_and_formgrader_page_run_no_student_script_in_chromium(graded, tmp_path):
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("Python Playwright is not installed (pip install -e '.[test]')")
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        pytest.skip(f"no Chromium at {CHROMIUM} (Debian: apt-get install chromium; or set BN_CHROMIUM)")
    from nbconvert import HTMLExporter
    from nbgrader.server_extensions.formgrader import handlers
    from traitlets.config import Config

    course, a = graded
    feedback = course / ".grading" / "feedback" / "mallory" / a / f"{a}.html"
    # formgrader's manual-grading page: its exporter and template on the autograded notebook, as
    # nbgrader.server_extensions.formgrader renders /formgrader/submissions/<id>
    cfg = Config()
    cfg.HTMLExporter.template_name = "formgrade"
    cfg.HTMLExporter.extra_template_basedirs = [handlers.template_path]
    cfg.HTMLExporter.sanitize_html = False  # SanitizeNotebook alone must make the page safe (bleach is a second line)
    page_html, _ = HTMLExporter(config=cfg).from_filename(
        str(course / ".grading" / "autograded" / "mallory" / a / f"{a}.ipynb"),
        resources={"assignment_id": a, "notebook_id": a, "submission_id": "x", "index": 0, "total": 1,
                   "base_url": "", "student": "mallory", "last_name": "", "first_name": "", "notebook_path": ""})
    formgrade = tmp_path / "formgrade.html"
    formgrade.write_text(page_html)

    hidden = [ln for ln in _hidden_lines(a) if len(ln) >= 20]
    checker = [ln for ln in checker_lines() if len(ln) >= 30]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context()
            for path in (feedback, formgrade):
                state = _open(context, path)
                assert "PWNED" not in state["title"] and state["pwned"] is None, (path.name, state["title"],
                                                                                  state["pwned"])
                text = state["text"]
                assert "onerror" in text or path is formgrade or "removed from feedback" in text
                if path is feedback:
                    for decoded in _independent_decodings(text):
                        flat = re.sub(r"\s+", "", decoded)
                        leaked = [h for h in hidden + checker if re.sub(r"\s+", "", h) in flat]
                        assert not leaked, f"{path.name} shows, decoded: {leaked[:2]}"
        finally:
            browser.close()


def _hidden_lines(assignment: str) -> list[str]:
    nb = nbformat.read(ROOT / "solutions" / assignment / f"{assignment}.ipynb", as_version=4)
    out = []
    for cell in nb.cells:
        for block in re.findall(r"### BEGIN HIDDEN TESTS(.*?)### END HIDDEN TESTS", cell.source, re.S):
            out += [ln.strip() for ln in block.splitlines() if ln.strip()]
    return out


@pytest.mark.slow
def test_formgrader_server_page_runs_no_student_script(graded, tmp_path):
    """The real thing: formgrader in a Jupyter server on the graded course, its manual-grading page of the
    hostile submission opened in Chromium with the instructor's token (a script there would act as them)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("Python Playwright is not installed (pip install -e '.[test]')")
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        pytest.skip(f"no Chromium at {CHROMIUM} (Debian: apt-get install chromium; or set BN_CHROMIUM)")
    import secrets
    import time
    import urllib.request

    from nbgrader.api import Gradebook
    from test_lab import _free_port, _stop

    course, a = graded
    with Gradebook(f"sqlite:///{course / '.grading' / 'gradebook.db'}") as gb:
        submission = gb.find_submission_notebook(a, a, "mallory").id
    port, token = _free_port(), secrets.token_hex(16)
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"), "PATH": os.pathsep.join(
        [str(Path(sys.executable).parent), os.environ.get("PATH", "")])}
    env.pop("NBGRADER_EXECUTION", None)
    log = open(tmp_path / "server.log", "w+")
    proc = subprocess.Popen([str(Path(sys.executable).parent / "jupyter"), "server", "--no-browser",
                             f"--port={port}", "--ServerApp.port_retries=0", "--ServerApp.allow_root=True",
                             f"--IdentityProvider.token={token}"], cwd=course, stdout=log, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True, env=env)
    base = f"http://127.0.0.1:{port}"
    url = f"{base}/formgrader/submissions/{submission}/?index=0&token={token}"
    try:
        deadline = time.time() + 300
        while True:
            try:
                with urllib.request.urlopen(url, timeout=60) as r:
                    page_source = r.read().decode()
                break
            except OSError:
                assert proc.poll() is None and time.time() < deadline, (log.seek(0), log.read()[-3000:])[1]
                time.sleep(1)
        assert "written_variance_and_gamma_beta" in page_source  # the manual-grading page of this submission
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            try:
                page = browser.new_context().new_page()
                page.goto(url, wait_until="load", timeout=120_000)
                page.wait_for_timeout(3000)
                state = page.evaluate(_STATE)
            finally:
                browser.close()
        assert "PWNED" not in state["title"] and state["pwned"] is None, (state["title"], state["pwned"])
        assert "onerror" in state["text"]  # the written answer's markup is shown as text, not run
    finally:
        _stop(proc)
        log.close()
