"""``make book``: build the reading copy, a static HTML site of the course.

Stages ``book/index.md``, the README (and the Markdown files it links to) and the solution
notebooks (``solutions/<a>/<a>.ipynb``) into ``<out>/src``, then runs Sphinx with MyST-NB,
which executes every notebook and writes the site to ``<out>/html`` (open
``<out>/html/index.html``). Works offline: MathJax comes from the ``sphinx-mathjax-offline``
package and is copied into the site.

Two editions. The **student** edition (the default, the one to publish) leaves out what
grading keeps secret: the rubrics (nbgrader's ``BEGIN/END MARK SCHEME`` blocks), the model
answers of the hand-graded questions (markdown ``BEGIN/END SOLUTION`` cells) and the hidden
tests; the solutions' code stays (the README sends self-learners to ``solutions/``). The
**instructor** edition keeps all of it. In both, nbgrader's marker lines are removed and the
build fails if one is left; prompts meant for an editable notebook ("double-click it to
edit") are reworded for a reader; each interactive view is followed by its still picture.

Usage: ``python book/build.py [--out _build/book] [--edition student|instructor]``
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from reading_cells import ALT_TEXT, STATIC_VIEW  # noqa: E402  (book/ is not a package)

EDITIONS = ("student", "instructor")
#: Any line of nbgrader's markers (nbgrader.preprocessors: ClearSolutions, ClearHiddenTests, ClearMarkScheme).
ANY_MARKER = re.compile(r"^[ \t]*#{1,3} (BEGIN|END) (SOLUTION|HIDDEN TESTS|MARK SCHEME)\b.*$", re.MULTILINE)
SOLUTION_LINES = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*(\n|$)", re.MULTILINE)
HIDDEN_LINES = re.compile(r"^[ \t]*### (BEGIN|END) HIDDEN TESTS[ \t]*(\n|$)", re.MULTILINE)
HIDDEN_BLOCK = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS[ \t]*\n.*?^[ \t]*### END HIDDEN TESTS[ \t]*(\n|$)",
                          re.MULTILINE | re.DOTALL)
RUBRIC_LINES = re.compile(r"^[ \t]*### (BEGIN|END) MARK SCHEME[ \t]*(\n|$)", re.MULTILINE)
RUBRIC_BLOCK = re.compile(r"\n*^[ \t]*### BEGIN MARK SCHEME[ \t]*\n.*?^[ \t]*### END MARK SCHEME[ \t]*(\n|$)",
                          re.MULTILINE | re.DOTALL)
#: A cell whose last line shows an interactive view: ``widgets.ScatterView()`` and the like.
VIEW_CELL = re.compile(r"(?:^|\n)[ \t]*(?:\w+\.)*\w+View\([^\n]*\)[ \t]*$")
#: Where an editable notebook's prompt tells the student to double-click the answer cell.
DOUBLE_CLICK = re.compile(r"Write your answer in the cell below \(double-click it to edit\)\.")
READER_PROMPT = "In your own copy of the notebook (`make lab`), you write your answer in the cell below."
STUDENT_ANSWER = ("*Your answer goes here. In your own copy of the notebook (`make lab`) this cell is where "
                  "you write it, and your instructor grades it with the rubric; the reading copy shows no "
                  "model answer.*")
HIDDEN_NOTE = "# (the hidden tests run when the assignment is graded; the reading copy does not show them)\n"
#: A Markdown link to a relative target: [text](target).
LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")
NOTEBOOK_LINK = re.compile(r"^(?:notebooks|solutions)/([^/]+)/\1\.ipynb$")


def assignments(root: Path = ROOT) -> list[Path]:
    """The solution notebooks, in course order (folders holding a same-named notebook)."""
    return sorted(p for p in (root / "solutions").glob("*/*.ipynb") if p.stem == p.parent.name)


def _nbgrader(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


def _new_code_cell(source: str, tag: str):
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["tags"] = [tag]
    return cell


def _check_balanced(cell) -> None:
    """Every nbgrader block of ``cell`` opens before it closes and closes once (else a secret could leak)."""
    open_ = None
    for m in ANY_MARKER.finditer(cell.source):
        which, kind = m[1], m[2]
        if which == "BEGIN" and open_ is None:
            open_ = kind
        elif which == "END" and open_ == kind:
            open_ = None
        else:
            raise ValueError(f"cell {cell.get('id')}: nbgrader marker {m[0].strip()!r} out of place")
    if open_ is not None:
        raise ValueError(f"cell {cell.get('id')}: '### BEGIN {open_}' without its '### END {open_}'")


def reading_notebook(nb, edition: str = "student"):
    """``nb`` (an nbgrader source notebook) as the reading copy shows it; returns a new notebook.

    Raises ``ValueError`` naming the cell if an nbgrader block is not closed, or closed
    without being opened, or if a marker would be left on the page.
    """
    if edition not in EDITIONS:
        raise ValueError(f"edition must be one of {EDITIONS}, got {edition!r}")
    student = edition == "student"
    nb = nbformat.from_dict(nb)
    cells = []
    for cell in nb.cells:
        _check_balanced(cell)
        source = cell.source
        if cell.cell_type == "markdown":
            if _nbgrader(cell).get("solution"):   # a hand-graded answer cell: the model answer
                source = STUDENT_ANSWER if student else SOLUTION_LINES.sub("", source)
            source = RUBRIC_BLOCK.sub("\n", source).rstrip() + "\n" if student else RUBRIC_LINES.sub("", source)
            source = DOUBLE_CLICK.sub(READER_PROMPT, source).rstrip("\n")
        elif cell.cell_type == "code":
            if student and HIDDEN_BLOCK.search(source):
                source = HIDDEN_BLOCK.sub("", source).rstrip("\n") + "\n" + HIDDEN_NOTE
            source = HIDDEN_LINES.sub("", SOLUTION_LINES.sub("", source)).rstrip("\n")
            cell.outputs, cell.execution_count = [], None
        left = ANY_MARKER.search(source)
        if left:
            raise ValueError(f"cell {cell.get('id')}: nbgrader marker {left[0].strip()!r} left in the reading copy "
                             "(a block without its END line?)")
        cell.source = source
        cells.append(cell)
        if cell.cell_type == "code" and "%matplotlib inline" in source:
            cells.append(_new_code_cell(ALT_TEXT, "remove-cell"))
        if cell.cell_type == "code" and VIEW_CELL.search(source):
            cells.append(_new_code_cell(STATIC_VIEW, "remove-input"))
    nb.cells = cells
    return nb


def _stage_markdown(rel: str, src: Path, root: Path, staged: set) -> None:
    """Copy the Markdown file ``root/rel`` to ``src/rel``, its relative links made to work in the site.

    A link to an assignment's notebook goes to that notebook's page; a link to another Markdown
    file stages that file too (a page outside the contents list); any other relative link
    becomes the file's path in the course repository, as code.
    """
    if rel in staged:
        return
    staged.add(rel)
    path = root / rel
    here = Path(rel).parent

    def fix(m: re.Match) -> str:
        text, target = m[1], m[2]
        if re.match(r"^[a-z][a-z0-9+.-]*:|^#", target, re.I):
            return m[0]
        file, _, anchor = target.partition("#")
        resolved = os.path.normpath(here / file).replace(os.sep, "/")
        notebook = NOTEBOOK_LINK.match(resolved)
        if notebook and (root / "solutions" / notebook[1] / f"{notebook[1]}.ipynb").is_file():
            page = os.path.relpath(f"{notebook[1]}.ipynb", here).replace(os.sep, "/")
            return f"[{text}]({page})"
        if resolved.endswith(".md") and (root / resolved).is_file():
            _stage_markdown(resolved, src, root, staged)
            return m[0]
        return f"{text} (`{resolved}` in the course's repository)" if text.strip("`") != resolved else f"`{resolved}`"

    text = LINK.sub(fix, path.read_text(encoding="utf-8"))
    if rel != "README.md":   # pages outside the contents list
        text = "---\norphan: true\n---\n" + text
    (src / rel).parent.mkdir(parents=True, exist_ok=True)
    (src / rel).write_text(text, encoding="utf-8")


def stage(src: Path, root: Path = ROOT, edition: str = "student") -> list[Path]:
    """Write the book's sources into ``src`` (emptied first); return the staged notebooks."""
    if src.exists():
        shutil.rmtree(src)
    src.mkdir(parents=True)
    shutil.copy2(HERE / "index.md", src / "index.md")
    _stage_markdown("README.md", src, root, set())
    staged = []
    for path in assignments(root):
        try:
            nb = reading_notebook(nbformat.read(path, as_version=4), edition)
        except ValueError as exc:
            raise SystemExit(f"{path}: {exc}") from None
        target = src / path.name
        nbformat.write(nb, target)
        staged.append(target)
    if not staged:
        raise SystemExit(f"no solution notebooks under {root / 'solutions'}")
    return staged


def build(out: Path, root: Path = ROOT, allow_errors: bool = False, edition: str = "student",
          execute: bool = True) -> Path:
    """Stage and build; return the HTML folder. Raises SystemExit if Sphinx fails.

    A cell that raises, or any other Sphinx warning, fails the build (every
    notebook is still tried and every failure reported), unless ``allow_errors``
    (for drafts: the page then shows the traceback). ``execute=False`` builds the
    pages without running the notebooks (no outputs: for checking the text quickly).
    """
    from sphinx.cmd.build import build_main

    out = Path(out).resolve()
    stage(out / "src", root, edition)
    html = out / "html"
    # A warning (a cell that raised, a broken reference) fails the build, after every page was tried.
    options = ["-D", "nb_execution_allow_errors=1"] if allow_errors else ["-W", "--keep-going"]
    if not execute:
        options += ["-D", "nb_execution_mode=off"]
    os.environ["BN_BOOK_EDITION"] = edition   # read by book/conf.py (the instructor edition's banner)
    status = build_main(["-b", "html", "-q", "-c", str(HERE), "-d", str(out / ".doctrees"), *options,
                         str(out / "src"), str(html)])
    if status:
        raise SystemExit(f"sphinx-build failed (exit {status}); see the messages above")
    return html


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "_build" / "book", help="default: _build/book")
    parser.add_argument("--edition", choices=EDITIONS, default="student",
                        help="student (default; to publish): no rubrics, model answers or hidden tests; "
                             "instructor: with them (never publish it)")
    parser.add_argument("--allow-errors", action="store_true",
                        help="build even if a cell raises (drafts; the page shows the traceback)")
    parser.add_argument("--no-execute", dest="execute", action="store_false",
                        help="do not run the notebooks (pages without outputs: to check the text quickly)")
    args = parser.parse_args(argv)
    html = build(args.out, allow_errors=args.allow_errors, edition=args.edition, execute=args.execute)
    print(f"The reading copy ({args.edition} edition) is in {html}: open {html / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
