"""What a feedback file must never show (issue 9): hidden tests, checker source, secrets and paths.

Shared by tests/test_cheats.py (the cheat corpus) and tests/test_grading.py (every feedback file
of the sample classes, the known mistakes and the hostile students).
"""
from __future__ import annotations

import ast
import functools
import html
import re
from pathlib import Path

import nbformat

from conftest import ROOT


@functools.lru_cache(maxsize=None)
def code_lines() -> frozenset[str]:
    """Statements of bn_helpers/checks (first lines, 25+ characters): source a feedback must never show."""
    lines = set()
    for path in (ROOT / "bn_helpers" / "checks").glob("*.py"):
        text = path.read_text()
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.Return, ast.Assign, ast.If, ast.For)):
                first = text.splitlines()[node.lineno - 1].strip()
                if len(first) >= 25 and not first.startswith(("'", '"', "f'", 'f"')):
                    lines.add(first)
    return frozenset(lines)


@functools.lru_cache(maxsize=None)
def hidden_lines(assignment: str) -> frozenset[str]:
    """The lines of the source notebook's hidden tests."""
    nb = nbformat.read(ROOT / "solutions" / assignment / f"{assignment}.ipynb", as_version=4)
    out = set()
    for cell in nb.cells:
        for block in re.findall(r"### BEGIN HIDDEN TESTS(.*?)### END HIDDEN TESTS", cell.source, re.S):
            out.update(line.strip() for line in block.splitlines() if line.strip())
    return frozenset(out)


def leaks(feedback: Path, submitted: Path, assignment: str, secrets: list[str]) -> list[str]:
    """What ``feedback`` (an HTML file) shows that it must not; the student's own cells may say anything.

    ``submitted`` is the student's notebook as handed in; ``secrets`` are strings (passwords,
    paths) that must appear nowhere unless the student wrote them.
    """
    raw = Path(feedback).read_text()
    text = html.unescape(re.sub(r"<[^>]+>", "", raw))
    own = "\n".join(c.source for c in nbformat.read(submitted, as_version=4).cells)
    found = [f"secret or path {s!r}" for s in secrets if (s in raw or s in text) and s not in own]
    if "HIDDEN TESTS" in text:
        found.append("the HIDDEN TESTS markers")
    found += [f"hidden test line {h!r}" for h in hidden_lines(assignment) if h in text and h not in own]
    found += [f"checker source {line!r}" for line in code_lines() if line in text and line not in own]
    return found
