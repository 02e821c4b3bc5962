"""`make book`: the reading copy, a static site of the executed solution notebooks, built offline.

Builds the real site (every solution notebook executed, about a minute and a half on a
loaded 2-core machine) into tmp_path. As root, the build runs in a network namespace
of its own with only the loopback interface up (the kernels talk over 127.0.0.1), so
a build step that reached for the network would fail here.
"""
import os
import re
import shutil
import subprocess

import nbformat
import pytest

from conftest import ROOT

# one worker runs the whole module: its module-scoped fixture is computed once (make test: --dist loadgroup)
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("test_book")]

ASSIGNMENTS = sorted(p.stem for p in (ROOT / "solutions").glob("*/*.ipynb") if p.stem == p.parent.name)
PNG = b"\x89PNG\r\n\x1a\n"


def _offline_prefix() -> list[str]:
    """A command prefix that runs without network (root only), or [] where that cannot be had."""
    if os.geteuid() != 0 or not (shutil.which("unshare") and shutil.which("ip")):
        return []
    probe = subprocess.run(["unshare", "--net", "sh", "-c", "ip link set lo up"], capture_output=True, timeout=60)
    return ["unshare", "--net", "sh", "-c", 'ip link set lo up && exec "$0" "$@"'] if probe.returncode == 0 else []


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    out = tmp_path_factory.mktemp("book")
    # the dependencies (the book extra) come from PyPI first; the build itself needs no network
    deps = subprocess.run(["make", "-s", ".venv/.installed-book"], cwd=ROOT, capture_output=True, text=True,
                          timeout=1800)
    assert deps.returncode == 0, deps.stdout[-2000:] + deps.stderr[-3000:]
    offline = _offline_prefix()
    proc = subprocess.run([*offline, "make", "-s", "book", f"BOOK_OUT={out}"], cwd=ROOT, capture_output=True,
                          text=True, timeout=3000)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    assert f"The reading copy is in {out / 'html'}" in proc.stdout
    return out


def _page(book, name: str) -> str:
    return (book / "html" / f"{name}.html").read_text()


def test_every_assignment_has_a_page_reachable_from_the_front_page(book):
    assert ASSIGNMENTS
    index = (book / "html" / "index.html").read_text()
    for name in ASSIGNMENTS:
        page = _page(book, name)
        source = nbformat.read(ROOT / "solutions" / name / f"{name}.ipynb", as_version=4)
        title = re.search(r"^# (.+)$", source.cells[0].source, re.MULTILINE)[1]
        words = re.findall(r"[A-Za-z]{4,}", title)[:3]
        heading = re.search(r"<h1>(.*?)<", page, re.S)[1]
        assert all(w in heading for w in words), (name, heading)
        assert f'href="{name}.html"' in index, f"{name} is not in the front page's table of contents"
        for other in set(ASSIGNMENTS) - {name}:  # the navigation sidebar on every page lists every notebook
            assert f'href="{other}.html"' in page, (name, other)


def test_prev_next_navigation_walks_the_course_in_order(book):
    for before, after in zip(ASSIGNMENTS, ASSIGNMENTS[1:]):
        nxt = re.search(r'<a class="right-next"\s+href="([^"]+)"', _page(book, before))
        assert nxt and nxt[1] == f"{after}.html", before


def test_every_figure_is_on_its_page(book):
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
        for src in images:
            assert (book / "html" / src).read_bytes()[:8] == PNG, (name, src)
    assert total >= len(ASSIGNMENTS), f"only {total} figures in the whole course"


def test_interactive_views_are_explained_not_dumped_as_a_repr(book):
    pages = {name: _page(book, name) for name in ASSIGNMENTS}
    assert not [n for n, page in pages.items() if "VBox(children=" in page or "HBox(children=" in page]
    assert any("Interactive view: its controls need a running kernel" in page for page in pages.values())


def test_the_pages_load_nothing_from_the_network_but_mathjax(book):
    for page in (book / "html").glob("*.html"):
        remote = re.findall(r'<(?:script|link)[^>]+(?:src|href)="(https?://[^"]+)"', page.read_text())
        assert all("mathjax" in url for url in remote), (page.name, remote)
