"""``make book``: build the reading copy, a static HTML site of the course.

Stages ``book/index.md`` and the solution notebooks (``solutions/<a>/<a>.ipynb``,
nbgrader's ``### BEGIN/END SOLUTION`` and ``HIDDEN TESTS`` marker lines removed,
the code between them kept) into ``<out>/src``, then runs Sphinx with MyST-NB,
which executes every notebook and writes the site to ``<out>/html``
(open ``<out>/html/index.html``). Works offline.

Usage: ``python book/build.py [--out _build/book]``
"""
from __future__ import annotations

import argparse
import re
import shutil
import sys
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
MARKER = re.compile(r"^[ \t]*### (BEGIN|END) (SOLUTION|HIDDEN TESTS)[ \t]*(\n|$)", re.MULTILINE)


def assignments(root: Path = ROOT) -> list[Path]:
    """The solution notebooks, in course order (folders holding a same-named notebook)."""
    return sorted(p for p in (root / "solutions").glob("*/*.ipynb") if p.stem == p.parent.name)


def stage(src: Path, root: Path = ROOT) -> list[Path]:
    """Write the book's sources into ``src`` (emptied first); return the staged notebooks."""
    if src.exists():
        shutil.rmtree(src)
    src.mkdir(parents=True)
    shutil.copy2(HERE / "index.md", src / "index.md")
    staged = []
    for path in assignments(root):
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.source = MARKER.sub("", cell.source)
                cell.outputs, cell.execution_count = [], None
        target = src / path.name
        nbformat.write(nb, target)
        staged.append(target)
    if not staged:
        raise SystemExit(f"no solution notebooks under {root / 'solutions'}")
    return staged


def build(out: Path, root: Path = ROOT, allow_errors: bool = False) -> Path:
    """Stage and build; return the HTML folder. Raises SystemExit if Sphinx fails.

    A cell that raises, or any other Sphinx warning, fails the build (every
    notebook is still tried and every failure reported), unless ``allow_errors``
    (for drafts: the page then shows the traceback).
    """
    from sphinx.cmd.build import build_main

    out = Path(out).resolve()
    stage(out / "src", root)
    html = out / "html"
    # A warning (a cell that raised, a broken reference) fails the build, after every page was tried.
    options = ["-D", "nb_execution_allow_errors=1"] if allow_errors else ["-W", "--keep-going"]
    status = build_main(["-b", "html", "-q", "-c", str(HERE), "-d", str(out / ".doctrees"), *options,
                         str(out / "src"), str(html)])
    if status:
        raise SystemExit(f"sphinx-build failed (exit {status}); see the messages above")
    return html


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "_build" / "book", help="default: _build/book")
    parser.add_argument("--allow-errors", action="store_true",
                        help="build even if a cell raises (drafts; the page shows the traceback)")
    args = parser.parse_args(argv)
    html = build(args.out, allow_errors=args.allow_errors)
    print(f"The reading copy is in {html}: open {html / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
