"""The runner's view of ``bn_helpers``: what student code may import while the judge grades it.

Three kinds of module, decided by name:

* **real** (``data``, ``plots``, ...): copied as they are;
* **reference** (:data:`bn_helpers._reference.REFERENCE`: ``numerics``, ``norms``, ``stats``, ``nn``,
  ``diagnostics``, ``rmsnorm``, ``gradcheck``):
  their functions *forward* each call to the judge, which computes it with the
  trusted module, in the check's own frame, so that a check that forbids
  reference code sees the call; their NamedTuple types (``BatchNormCache``, ...)
  are plain copies; their classes cannot be instantiated; no source is there;
* **inert** (everything else: ``checks``, ``experiments``, ``widgets``,
  ``grading``, ``judge``, ``sandbox``, modules added later): every name is a
  do-nothing stand-in. The checks and their oracles do not exist here.

A new module of reference code (one a check forbids) must be added to
:data:`bn_helpers._reference.REFERENCE` (which forbids it in every hidden test
cell at the same time); until then it is inert, which is safe (nothing of it runs)
but breaks notebooks that use it. Never list a module with side effects
(``grading``, ``demo``): its functions would run in the grading process.
"""
from __future__ import annotations

import importlib
import inspect
import shutil
from pathlib import Path

from .._reference import REFERENCE  # noqa: E402 - the one list of forwarded (and forbidden) modules

REAL = ("bn_helpers", "bn_helpers._validate", "bn_helpers.data", "bn_helpers.plots")

HERE = Path(__file__).resolve().parent


def _kind(name: str, real: tuple[str, ...], reference: tuple[str, ...]) -> str:
    if name in reference:
        return "reference"
    if name == "bn_helpers" or any(name == r or name.startswith(r + ".") for r in real if r != "bn_helpers"):
        return "real"
    return "inert"


def _is_namedtuple(obj) -> bool:
    return isinstance(obj, type) and issubclass(obj, tuple) and isinstance(getattr(obj, "_fields", None), tuple)


def _literal(value) -> bool:
    if isinstance(value, (bool, int, float, str)) or value is None:
        return True
    return isinstance(value, tuple) and all(_literal(v) for v in value)


def _reference_stub(module, reference: tuple[str, ...]) -> tuple[str, set[str]]:
    """Source of a forwarding module, and the names of the functions it forwards."""
    name = module.__name__
    lines = [f'"""{name} while your code is graded: each function is computed by the grader, which sees the call."""',
             "import _bn_runner as __bn_runner",
             ""]
    forwarded: set[str] = set()
    for attr, value in sorted(vars(module).items()):
        if attr.startswith("__") or attr == "__bn_runner":
            continue
        origin = getattr(value, "__module__", None)
        if inspect.isfunction(value):
            if origin == name:
                lines.append(f"{attr} = __bn_runner.forward({name!r}, {attr!r})")
                forwarded.add(attr)
            elif origin in reference:
                lines.append(f"{attr} = __bn_runner.forward({origin!r}, {value.__name__!r})")
        elif _is_namedtuple(value):
            if origin == name:
                defaults = tuple(value._field_defaults[f] for f in value._fields if f in value._field_defaults)
                if not _literal(defaults):
                    defaults = ()
                lines.append(f"{attr} = __bn_runner.namedtuple_class({value.__name__!r}, {tuple(value._fields)!r}, "
                             f"{defaults!r}, {name!r})")
            elif origin in reference:
                lines.append(f"from {origin} import {value.__name__} as {attr}")
        elif inspect.isclass(value) and origin in (name, *reference):
            lines.append(f"{attr} = __bn_runner.unavailable_class({origin!r}, {value.__name__!r})")
        elif _literal(value) and not inspect.ismodule(value):
            lines.append(f"{attr} = {value!r}")
    return "\n".join(lines) + "\n", forwarded


def _inert_stub(name: str) -> str:
    return (f'"""{name} is not available while your code is graded: every name here does nothing."""\n'
            f"import _bn_runner as __bn_runner\n__getattr__ = __bn_runner.inert_getattr({name!r})\n")


def build(dest: Path, package: str = "bn_helpers", real: tuple[str, ...] = REAL,
          reference: tuple[str, ...] = REFERENCE) -> dict[str, set[str]]:
    """Write the runner's library into ``dest`` (``_bn_runner.py``, ``_bn_wire.py``, ``bn_helpers/``).

    Returns the functions each reference module forwards (the judge serves
    only those).
    """
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(HERE / "_runner.py", dest / "_bn_runner.py")
    shutil.copyfile(HERE / "_wire.py", dest / "_bn_wire.py")
    root_mod = importlib.import_module(package)
    root = Path(root_mod.__file__).resolve().parent
    forwarded: dict[str, set[str]] = {}
    modules = [(package, True)]
    for path in sorted(root.rglob("*.py")):
        rel_path = path.relative_to(root)
        if "__pycache__" in rel_path.parts or not (root / rel_path.parent / "__init__.py").exists():
            continue
        parts = [package, *rel_path.parent.parts]
        if path.name == "__init__.py":
            if rel_path.parent.parts:
                modules.append((".".join(parts), True))
        else:
            modules.append((".".join([*parts, path.stem]), False))
    for name, ispkg in modules:
        rel = Path(*name.split(".")[1:])
        target = dest / package / rel / "__init__.py" if ispkg else dest / package / rel.with_suffix(".py")
        target.parent.mkdir(parents=True, exist_ok=True)
        source = root / rel / "__init__.py" if ispkg else root / rel.with_suffix(".py")
        kind = _kind(name, real, reference)
        if kind == "real":
            shutil.copyfile(source, target)
            if ispkg:  # data files of a real package (styles, tables)
                for f in (root / rel).iterdir():
                    if f.is_file() and f.suffix not in (".py", ".pyc"):
                        shutil.copyfile(f, target.parent / f.name)
        elif kind == "reference":
            text, names = _reference_stub(importlib.import_module(name), reference)
            target.write_text(text)
            forwarded[name] = names
        else:
            target.write_text(_inert_stub(name))
    return forwarded
