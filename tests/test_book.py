"""`make book`: the reading copy, a static site of the executed solution notebooks, built and read offline.

Builds the real site (every solution notebook executed, a few minutes on a loaded 2-core
machine) into tmp_path, as the student edition (the default, the one to publish). As root,
the build runs in a network namespace of its own with only the loopback interface up (the
kernels talk over 127.0.0.1), so a build step that reached for the network would fail here.
The instructor edition is built without running the notebooks (its text is what differs).
The pages are then opened from disk in Chromium with every network request refused: each
formula typeset by the site's own MathJax, axe-core (axe-playwright-python) finds no serious
or critical accessibility violation, every picture has alternative text.

The fast tests at the top check book/build.py's staging of each notebook without Sphinx.
"""
import base64
import hashlib
import html as htmllib
import importlib.util
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat
import pytest

from conftest import ROOT

ASSIGNMENTS = sorted(p.stem for p in (ROOT / "solutions").glob("*/*.ipynb") if p.stem == p.parent.name)
PNG = b"\x89PNG\r\n\x1a\n"
CHROMIUM = os.environ.get("BN_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
#: nbgrader's marker words, as they would show if a marker line were left (headings, code lines)
MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN MARK SCHEME", "END MARK SCHEME",
           "BEGIN HIDDEN TESTS", "END HIDDEN TESTS", "YOUR ANSWER HERE")

# one worker runs the whole module: its module-scoped fixtures are computed once (make test: --dist loadgroup)
pytestmark = pytest.mark.xdist_group("test_book")
slow = pytest.mark.slow   # the tests of the built site (the fixtures build it)


def _load_build():
    spec = importlib.util.spec_from_file_location("book_build", ROOT / "book" / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build = _load_build()


def _source(name: str):
    return nbformat.read(ROOT / "solutions" / name / f"{name}.ipynb", as_version=4)


def _blocks(text: str, kind: str) -> list[str]:
    return re.findall(rf"### BEGIN {kind}[ \t]*\n(.*?)\n[ \t]*### END {kind}", text, re.S)


def _secrets(name: str) -> dict[str, list[str]]:
    """What the student edition must not show, from the source notebook: rubrics, model answers, hidden tests."""
    nb = _source(name)
    rubrics, answers, hidden = [], [], []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            rubrics += _blocks(cell.source, "MARK SCHEME")
            if cell.metadata.get("nbgrader", {}).get("solution"):
                answers += _blocks(cell.source, "SOLUTION")
        else:
            hidden += [line.strip() for b in _blocks(cell.source, "HIDDEN TESTS") for line in b.splitlines()
                       if line.strip() and not line.strip().startswith("#")]
    return {"rubric": rubrics, "model answer": answers, "hidden test": hidden}


def _phrases(markdown: str, n: int = 3) -> list[str]:
    """Up to ``n`` runs of 7+ plain words from a Markdown block: text that shows verbatim on a page."""
    text = re.sub(r"\$[^$]*\$", "|", _plain_quotes(markdown))     # math is typeset, not text
    text = re.sub(r"[*_`]|\[|\]\([^)]*\)", "", text)               # emphasis, code, links
    runs = [" ".join(r.split()) for r in re.split(r"[|:;()\n\"“”—–]", text)]
    runs = [r for r in runs if len(r.split()) >= 7 and re.fullmatch(r"[A-Za-z0-9 ,.'’%-]+", r)]
    return runs[:n]


def _plain_quotes(text: str) -> str:
    return text.translate(str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"'}))   # Sphinx's smartquotes


def _text(page: str) -> str:
    """A page's text, as a reader sees it (tags dropped, entities decoded, whitespace collapsed)."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return _plain_quotes(" ".join(htmllib.unescape(re.sub(r"<[^>]+>", "", page)).split()))


# --------------------------------------------------------------------------- staging (fast, no Sphinx)

@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_the_student_edition_stages_no_secret_and_no_marker(name):
    secrets = _secrets(name)
    assert secrets["rubric"] and secrets["model answer"] and secrets["hidden test"], name
    for edition in build.EDITIONS:
        nb = build.reading_notebook(_source(name), edition)
        staged = "\n".join(c.source for c in nb.cells)
        assert not [m for m in MARKERS if m in staged], (name, edition)
        assert "double-click" not in staged, (name, edition)
        for kind, blocks in secrets.items():
            for block in blocks:
                shown = block.strip() in staged
                assert shown == (edition == "instructor"), (name, edition, kind, block[:80])
    # the solutions' code stays in both editions, without the marker lines
    student = "\n".join(c.source for c in build.reading_notebook(_source(name), "student").cells)
    for cell in _source(name).cells:
        for block in _blocks(cell.source, "SOLUTION") if cell.cell_type == "code" else []:
            assert block.strip() in student, (name, block[:80])


def test_an_unclosed_marker_fails_the_staging():
    nb = _source(ASSIGNMENTS[0])
    code = next(c for c in nb.cells if c.cell_type == "code" and "### BEGIN SOLUTION" in c.source)
    code.source = code.source.replace("### END SOLUTION", "")   # a solution block never closed
    with pytest.raises(ValueError, match="BEGIN SOLUTION"):
        build.reading_notebook(nb, "student")
    question = next(c for c in _source(ASSIGNMENTS[0]).cells if "### BEGIN MARK SCHEME" in c.source)
    question.source = question.source.replace("### END MARK SCHEME", "")   # a rubric never closed
    nb.cells = [question]
    with pytest.raises(ValueError, match="MARK SCHEME"):
        build.reading_notebook(nb, "student")
    hidden = next(c for c in _source(ASSIGNMENTS[0]).cells if "### BEGIN HIDDEN TESTS" in c.source)
    hidden.source = hidden.source.replace("### END HIDDEN TESTS", "")   # hidden tests never closed: not shown
    nb.cells = [hidden]
    with pytest.raises(ValueError, match="HIDDEN TESTS"):
        build.reading_notebook(nb, "student")
    hidden.source = hidden.source.replace("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")  # closed, never opened
    with pytest.raises(ValueError, match="out of place"):
        build.reading_notebook(nb, "student")
    with pytest.raises(ValueError, match="edition"):
        build.reading_notebook(_source(ASSIGNMENTS[0]), "teacher")


def test_each_interactive_view_is_followed_by_its_still_picture():
    views = 0
    for name in ASSIGNMENTS:
        cells = build.reading_notebook(_source(name), "student").cells
        for cell, after in zip(cells, cells[1:]):
            if cell.cell_type == "code" and re.search(r"\w+View\(", cell.source.splitlines()[-1] if cell.source else ""):
                views += 1
                assert after.source == build.STATIC_VIEW and after.metadata["tags"] == ["remove-input"], name
        setup = [i for i, c in enumerate(cells) if "%matplotlib inline" in c.source]
        assert setup and cells[setup[0] + 1].source == build.ALT_TEXT, name
    assert views >= 4   # Multi-Layer Flow, Scatter, Step-by-Step, Gradient Flow


def test_make_book_edition_instructor_builds_the_instructor_edition_elsewhere():
    dry = subprocess.run(["make", "-n", "book", "EDITION=instructor"], cwd=ROOT, capture_output=True, text=True)
    assert dry.returncode == 0, dry.stderr
    assert "--edition instructor" in dry.stdout and "_build/book-instructor" in dry.stdout, dry.stdout
    dry = subprocess.run(["make", "-n", "book"], cwd=ROOT, capture_output=True, text=True)
    assert "--edition student" in dry.stdout and "--out _build/book " in dry.stdout, dry.stdout


# --------------------------------------------------------------------------- the built site (slow)

def _offline_prefix() -> list[str]:
    """A command prefix that runs without network (root only), or [] where that cannot be had."""
    if os.geteuid() != 0 or not (shutil.which("unshare") and shutil.which("ip")):
        return []
    probe = subprocess.run(["unshare", "--net", "sh", "-c", "ip link set lo up"], capture_output=True, timeout=60)
    return ["unshare", "--net", "sh", "-c", 'ip link set lo up && exec "$0" "$@"'] if probe.returncode == 0 else []


def _book_extra():
    # the dependencies (the book extra) come from PyPI first; the build itself needs no network
    deps = subprocess.run(["make", "-s", ".venv/.installed-book"], cwd=ROOT, capture_output=True, text=True,
                          timeout=1800)
    assert deps.returncode == 0, deps.stdout[-2000:] + deps.stderr[-3000:]


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    out = tmp_path_factory.mktemp("book")
    _book_extra()
    proc = subprocess.run([*_offline_prefix(), "make", "-s", "book", f"BOOK_OUT={out}"], cwd=ROOT,
                          capture_output=True, text=True, timeout=3000)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    assert f"The reading copy (student edition) is in {out / 'html'}" in proc.stdout
    return out


@pytest.fixture(scope="module")
def instructor(tmp_path_factory):
    """The instructor edition's pages, without outputs (book/build.py --no-execute: the text is what differs)."""
    out = tmp_path_factory.mktemp("book-instructor")
    _book_extra()
    proc = subprocess.run([*_offline_prefix(), str(ROOT / ".venv" / "bin" / "python"), "book/build.py",
                           "--edition", "instructor", "--no-execute", "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    return out


def _page(book, name: str) -> str:
    return (book / "html" / f"{name}.html").read_text()


def _pages(book) -> list[Path]:
    """The site's pages (not the theme's template fragments that Sphinx copies into _static/)."""
    return sorted(p for p in (book / "html").rglob("*.html") if "_static" not in p.relative_to(book / "html").parts)


@slow
def test_every_assignment_has_a_page_reachable_from_the_front_page(book):
    assert ASSIGNMENTS
    index = (book / "html" / "index.html").read_text()
    for name in ASSIGNMENTS:
        page = _page(book, name)
        title = re.search(r"^# (.+)$", _source(name).cells[0].source, re.MULTILINE)[1]
        words = re.findall(r"[A-Za-z]{4,}", title)[:3]
        heading = re.search(r"<h1>(.*?)<", page, re.S)[1]
        assert all(w in heading for w in words), (name, heading)
        assert f'href="{name}.html"' in index, f"{name} is not in the front page's table of contents"
        for other in set(ASSIGNMENTS) - {name}:  # the navigation sidebar on every page lists every notebook
            assert f'href="{other}.html"' in page, (name, other)


@slow
def test_prev_next_navigation_walks_the_course_in_order(book):
    for before, after in zip(ASSIGNMENTS, ASSIGNMENTS[1:]):
        nxt = re.search(r'<a class="right-next"\s+href="([^"]+)"', _page(book, before))
        assert nxt and nxt[1] == f"{after}.html", before


@slow
def test_every_figure_is_on_its_page_with_alternative_text_from_its_titles(book):
    total = 0
    for name in ASSIGNMENTS:
        executed = nbformat.read(book / "jupyter_execute" / f"{name}.ipynb", as_version=4)
        outputs = [o for c in executed.cells if c.cell_type == "code" for o in c.outputs]
        assert not [o for o in outputs if o.output_type == "error"], f"{name}: a cell raised"
        figures = [o for o in outputs if "image/png" in o.get("data", {})]
        total += len(figures)
        page = _page(book, name)
        images = re.findall(r'<img[^>]+src="(_images/[^"]+\.png)"', page)
        assert len(images) == len(figures), (name, len(images), len(figures))
        alts = {}   # the page names each picture by the SHA-256 of its PNG (MyST-NB)
        for o in figures:
            alt = o.get("metadata", {}).get("image/png", {}).get("alt", "")
            assert alt.startswith("Figure") and len(alt.split()) >= 3, (name, alt)   # titles or axis labels
            alts[hashlib.sha256(base64.b64decode(o.data["image/png"])).hexdigest()] = alt
        for tag in re.findall(r"<img[^>]+>", page):
            src = re.search(r'src="_images/([0-9a-f]{64})\.png"', tag)
            assert src and src[1] in alts, (name, tag)
            alt = re.search(r'alt="([^"]*)"', tag)
            assert alt and htmllib.unescape(alt[1]) == alts[src[1]], (name, tag, alts[src[1]])
            assert (book / "html" / "_images" / f"{src[1]}.png").read_bytes()[:8] == PNG, (name, src[1])
    assert total >= len(ASSIGNMENTS), f"only {total} figures in the whole course"


@slow
def test_interactive_views_are_shown_as_still_pictures_with_how_to_run_them(book):
    pages = {name: _page(book, name) for name in ASSIGNMENTS}
    assert not [n for n, page in pages.items() if "VBox(children=" in page or "HBox(children=" in page]
    views = 0
    for name, page in pages.items():
        cells = build.reading_notebook(_source(name), "student").cells
        expected = sum(c.source == build.STATIC_VIEW for c in cells)
        notes = page.split("Interactive view, shown below as a still picture")
        assert len(notes) - 1 == expected, (name, len(notes) - 1, expected)
        for after in notes[1:]:
            assert "make lab" in after[:400] and 'href="README.html"' in after[:800], name
            assert re.search(r"<img |<strong>1\. ", after[:20000]), f"{name}: no still picture after the view's note"
        views += expected
    assert views >= 4


@slow
def test_no_nbgrader_marker_or_editing_prompt_in_any_page_or_the_contents(book, instructor):
    for site in (book, instructor):
        for page in _pages(site):
            source = page.read_text()
            headings = re.findall(r"<h\d[^>]*>(.*?)</h\d>", source, re.S)
            assert not [h for h in headings if re.search(r"BEGIN|END (SOLUTION|MARK|HIDDEN)", h)], (page, headings)
            if page.stem not in ASSIGNMENTS and page.stem != "index":
                continue   # the README explains the markers in its text
            text = _text(source)
            assert not [m for m in MARKERS if m in text], (page.name, [m for m in MARKERS if m in text])
            assert "double-click" not in text, page.name
        index = (site / "html" / "searchindex.js").read_text()
        assert not [m for m in MARKERS if m in index], "a marker in the search index's titles"


@slow
def test_the_student_edition_gives_nothing_away_and_the_instructor_edition_has_it_all(book, instructor):
    for name in ASSIGNMENTS:
        student, teacher = _text(_page(book, name)), _text(_page(instructor, name))
        for kind, blocks in _secrets(name).items():
            for block in blocks:
                phrases = [block] if kind == "hidden test" else _phrases(block)
                assert phrases, (name, kind, block[:80])
                for phrase in phrases:
                    assert phrase not in student, (name, kind, phrase)
                    assert phrase in teacher, (name, kind, phrase)
        assert "reading copy shows no model answer" in student
        # the page's download button offers the staged notebook: the same rules
        offered = "\n".join(c.source for c in nbformat.read(book / "html" / "_sources" / f"{name}.ipynb",
                                                             as_version=4).cells)
        assert not [b for blocks in _secrets(name).values() for b in blocks if b.strip() in offered], name
        assert "Instructor edition" in _page(instructor, name) and "Instructor edition" not in _page(book, name)


@slow
def test_pages_load_mathjax_from_the_site_and_nothing_from_the_network(book):
    for page in _pages(book):
        source = page.read_text()
        remote = re.findall(r'<(?:script|link|img|iframe)[^>]+(?:src|href)="((?:https?:)?//[^"]+)"', source)
        assert not remote, (page.name, remote)
        if 'class="math' in source:
            mathjax = re.findall(r'<script[^>]+src="([^"]*mathjax[^"]*)"', source)
            assert mathjax, f"{page.name} has formulas but loads no MathJax"
            for src in mathjax:
                assert (page.parent / urlsplit(src).path).is_file(), (page.name, src)
    for css in (book / "html" / "_static").rglob("*.css"):
        assert not re.search(r"@import\s+url\(\s*['\"]?https?:|url\(\s*['\"]?https?://", css.read_text()), css


@slow
def test_every_relative_link_and_anchor_resolves(book):
    ids = {}
    for page in _pages(book):
        source = page.read_text()
        for target in re.findall(r'(?:href|src)="([^"]+)"', source):
            parts = urlsplit(htmllib.unescape(target))
            if parts.scheme or target.startswith("//"):
                assert parts.scheme in ("http", "https", "mailto"), (page.name, target)
                continue
            file = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            assert file.exists(), (page.relative_to(book), target)
            if parts.fragment and file.suffix == ".html":
                if file not in ids:
                    ids[file] = set(re.findall(r'\bid="([^"]+)"', file.read_text()))
                assert parts.fragment in ids[file], (page.relative_to(book), target)
    index = (book / "html" / "index.html").read_text()
    assert re.search(r'<a[^>]+href="README.html"[^>]*>.*?README', index, re.S), "the front page's README link"
    readme = (book / "html" / "README.html").read_text()
    for name in ASSIGNMENTS:   # the README's table links to the assignments' pages
        assert f'href="{name}.html"' in readme, name


# --------------------------------------------------------------------------- in Chromium, offline

@pytest.fixture(scope="module")
def chromium():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("Python Playwright is not installed (pip install -e '.[test]'): no browser test")
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        pytest.skip(f"no Chromium at {CHROMIUM} (Debian: apt-get install chromium; or set BN_CHROMIUM)")
    profile = tempfile.mkdtemp(prefix="bn-book-chromium-")
    with sync_playwright() as pw:
        try:
            context = pw.chromium.launch_persistent_context(
                profile, executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
                viewport={"width": 1280, "height": 900})
        except Exception as exc:  # noqa: BLE001: any launch failure means "no browser here"
            shutil.rmtree(profile, ignore_errors=True)
            pytest.skip(f"Chromium at {CHROMIUM} does not start under Playwright: {exc}")
        refused = []

        def offline(route):   # the network is blocked: only the site's own files load
            if route.request.url.startswith(("file:", "data:", "blob:")):
                route.continue_()
            else:
                refused.append(route.request.url)
                route.abort()

        context.route("**/*", offline)
        context.refused = refused
        try:
            yield context
        finally:
            context.close()
            shutil.rmtree(profile, ignore_errors=True)


def _open(chromium, path: Path):
    page = chromium.new_page()
    page.goto(path.as_uri(), wait_until="load")
    return page


MATH_STATE = """async () => {
    if (window.MathJax && MathJax.startup && MathJax.startup.promise) { await MathJax.startup.promise; }
    const math = [...document.querySelectorAll('.math')];
    const article = document.querySelector('article') || document.body;
    return {math: math.length,
            typeset: math.filter(m => m.querySelector('mjx-container')).length,
            errors: document.querySelectorAll('mjx-merror, [data-mjx-error]').length,
            loaded: !!(window.MathJax && MathJax.startup && MathJax.startup.promise),
            raw: (article.innerText.match(/\\\\\\(|\\\\\\[/g) || []).length};
}"""


@slow
def test_every_formula_is_typeset_offline_in_chromium(book, chromium):
    formulas = 0
    for name in ASSIGNMENTS + ["index"]:
        page = _open(chromium, book / "html" / f"{name}.html")
        try:
            state = page.evaluate(MATH_STATE)
        finally:
            page.close()
        if name != "index":
            assert state["math"] > 0 and state["loaded"], (name, state)
        assert state["typeset"] == state["math"] and not state["raw"] and not state["errors"], (name, state)
        formulas += state["math"]
    assert not chromium.refused, chromium.refused
    assert formulas > 200, formulas   # 98 on the 02 page alone when the issue was filed


@slow
def test_every_page_is_accessible_to_axe_and_every_picture_has_alt_text(book, chromium):
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    problems = {}
    for path in _pages(book):
        page = _open(chromium, path)
        try:
            page.evaluate(MATH_STATE)   # typeset first: axe sees the page a reader sees
            results = axe.run(page)
            missing_alt = page.evaluate("""() => [...document.querySelectorAll('img')]
                .filter(i => !(i.getAttribute('alt') || '').trim() || /\\.png$|^(_images|\\.\\.\\/)/.test(i.alt))
                .map(i => i.src)""")
        finally:
            page.close()
        bad = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
        if bad or missing_alt:
            problems[str(path.relative_to(book))] = (
                [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:5]) for v in bad], missing_alt)
    assert not problems, problems
    assert not chromium.refused, chromium.refused
