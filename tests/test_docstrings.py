"""Every public function and class of the library modules has a numpydoc docstring, and its examples run.

For each name in a module's ``__all__`` that is a function or class defined in
that module, the docstring must have a summary line and a ``References``
section; ``Parameters`` if it takes arguments (``Attributes`` will do for a
NamedTuple's fields); ``Returns`` if it is a function that returns a value;
``Raises`` if its code raises or calls the shared validator
(``as_float_array``, ``as_param``, ``check_*``). All missing pieces are
reported at once.
"""
from __future__ import annotations

import ast
import doctest
import importlib
import inspect
import textwrap

import pytest

MODULES = ["numerics", "norms", "rmsnorm", "stats", "gradcheck", "nn", "diagnostics", "data"]
VALIDATOR_CALLS = ("raise ", "as_float_array(", "as_param(", "check_")


def _public(module):
    """(name, object) for each function or class of ``__all__`` defined in ``module``."""
    for name in module.__all__:
        obj = getattr(module, name)
        target = inspect.unwrap(obj) if inspect.isfunction(obj) else obj
        if (inspect.isfunction(target) or inspect.isclass(target)) and target.__module__ == module.__name__:
            yield name, obj, target


def _sections(doc: str) -> set[str]:
    """Names of the numpydoc sections of ``doc`` (a title line underlined with dashes)."""
    lines = inspect.cleandoc(doc).splitlines()
    return {lines[i].strip() for i in range(len(lines) - 1)
            if lines[i].strip() and set(lines[i + 1].strip()) == {"-"}}


def _takes_parameters(obj) -> bool:
    try:
        params = inspect.signature(obj).parameters
    except (TypeError, ValueError):  # pragma: no cover - every callable here has a signature
        return False
    return any(name != "self" for name in params)


def _tree(target):
    """The ``def``/``class`` node of ``target``, its docstring removed (so prose cannot trigger a check)."""
    node = ast.parse(textwrap.dedent(inspect.getsource(target))).body[0]
    if ast.get_docstring(node) is not None:
        node.body = node.body[1:] or [ast.Pass()]
    return node


def _returns_value(func_node) -> bool:
    """A ``return <value>`` or a ``yield`` in the function itself (not in nested functions)."""
    stack = list(func_node.body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        if isinstance(node, ast.Return) and node.value is not None:
            return True
        if isinstance(node, (ast.Yield, ast.YieldFrom)):
            return True
        stack.extend(ast.iter_child_nodes(node))
    return False


def _missing(module) -> list[str]:
    problems = []
    for name, obj, target in _public(module):
        where = f"{module.__name__}.{name}"
        doc = inspect.getdoc(target) if inspect.isfunction(target) else target.__doc__
        if not doc or not doc.strip().splitlines()[0].strip():
            problems.append(f"{where}: no summary line")
            continue
        found = _sections(doc)
        node = _tree(target)
        code = ast.unparse(node)
        wanted = ["References"]
        is_namedtuple = inspect.isclass(target) and issubclass(target, tuple) and hasattr(target, "_fields")
        if _takes_parameters(obj):
            if is_namedtuple:
                if not found & {"Attributes", "Parameters"}:
                    problems.append(f"{where}: no Attributes (or Parameters) section for the fields")
            else:
                wanted.append("Parameters")
        if inspect.isfunction(target) and _returns_value(node):
            wanted.append("Returns")
        if any(s in code for s in VALIDATOR_CALLS):
            wanted.append("Raises")
        problems += [f"{where}: no {section} section" for section in wanted if section not in found]
    return problems


def test_every_public_callable_has_a_numpydoc_docstring():
    problems = []
    for mod_name in MODULES:
        problems += _missing(importlib.import_module(f"bn_helpers.{mod_name}"))
    assert problems == [], "missing docstring pieces:\n" + "\n".join(problems)


def test_every_module_lists_its_public_api():
    for mod_name in MODULES:
        module = importlib.import_module(f"bn_helpers.{mod_name}")
        public = {name for name, obj in vars(module).items()
                  if not name.startswith("_") and (inspect.isfunction(obj) or inspect.isclass(obj))
                  and obj.__module__ == module.__name__}
        assert public <= set(module.__all__), f"{module.__name__}.__all__ lacks {sorted(public - set(module.__all__))}"


@pytest.mark.parametrize("mod_name", MODULES)
def test_doctests_pass(mod_name):
    module = importlib.import_module(f"bn_helpers.{mod_name}")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} doctests of {module.__name__} failed"
