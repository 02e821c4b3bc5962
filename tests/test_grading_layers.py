"""bn_helpers/grading/ reads from the bottom up: no import cycle, no module importing one above it.

Every ``import`` of every module is parsed (those inside functions too, which
is where cycles used to hide) and checked against the order of
``bn_helpers.grading.LAYERS``.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from bn_helpers import grading

PACKAGE = Path(grading.__file__).parent
NAME = "bn_helpers.grading"


def _imports(path: Path) -> set[str]:
    """Modules of this package that ``path`` imports (names relative to the package)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                base = node.module or ""
            elif node.level == 1:
                base = NAME + (f".{node.module}" if node.module else "")
            else:  # ``from .. import judge``: outside the package
                continue
            # ``from . import db`` names modules; ``from .db import x`` names the module db
            names = [f"{base}.{a.name}" for a in node.names] if base == NAME else [base]
        else:
            continue
        for name in names:
            if name.startswith(NAME + "."):
                found.add(name[len(NAME) + 1:].split(".")[0])
    return found


def _graph() -> dict[str, set[str]]:
    modules = {p.stem for p in PACKAGE.glob("*.py")} - {"__init__"}
    return {m: _imports(PACKAGE / f"{m}.py") & modules for m in sorted(modules)}


def test_every_module_has_a_layer():
    modules = set(_graph())
    assert modules == set(grading.LAYERS), (
        f"modules without a layer: {sorted(modules - set(grading.LAYERS))}; "
        f"layers without a module: {sorted(set(grading.LAYERS) - modules)} (edit bn_helpers.grading.LAYERS)")
    assert len(set(grading.LAYERS)) == len(grading.LAYERS)


def test_no_module_imports_one_above_it():
    rank = {m: i for i, m in enumerate(grading.LAYERS)}
    upward = [f"{m} imports {t}" for m, targets in _graph().items() for t in sorted(targets) if rank[t] >= rank[m]]
    assert not upward, "upward imports: " + "; ".join(upward)


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        path.append(m)
        for t in sorted(graph.get(m, ())):
            if state.get(t) == 1:
                return path[path.index(t):] + [t]
            if t not in state:
                found = visit(t)
                if found:
                    return found
        state[m] = 2
        path.pop()
        return None

    for m in sorted(graph):
        if m not in state:
            found = visit(m)
            if found:
                return found
    return None


def test_no_import_cycle():
    cycle = _cycle(_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_checker_sees_what_it_must(tmp_path):
    """The parser finds imports inside functions and both relative forms; the cycle finder finds a cycle."""
    (tmp_path / "m.py").write_text("from . import db, late\nfrom .course import Course\n"
                                   "def f():\n    from .pipeline import autograde\n    import bn_helpers.grading.cli\n"
                                   "from .. import judge\nimport os\n")
    assert _imports(tmp_path / "m.py") == {"db", "late", "course", "pipeline", "cli"}
    assert _cycle({"course": {"pipeline"}, "pipeline": {"course", "db"}, "db": set()}) == ["course", "pipeline",
                                                                                           "course"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


@pytest.mark.parametrize("public", sorted(grading.__all__))
def test_public_names_still_resolve(public):
    assert getattr(grading, public) is not None


def test_no_public_name_is_also_a_module_name():
    """``grading.<name>`` would be the module or the function depending on what was imported first."""
    clash = set(grading.__all__) & set(grading.LAYERS)
    assert not clash, f"public names that are also modules of the package: {sorted(clash)}"
