"""nbgrader preprocessors that keep one student's accident from costing more than its own cells.

Configured in ``nbgrader_config.py``:

* :class:`DeduplicateCells` replaces nbgrader's ``DeduplicateIds`` among the
  sanitizing steps. A test cell pasted twice (the same nbgrader metadata twice)
  makes nbgrader 0.9.6 leave an empty ``nbgrader`` dict on the copy, and
  ``OverwriteCells(add_missing_cells=True)`` then stops with ``KeyError:
  'grade_id'``: the whole submission went ungraded. Here every copy but the last
  becomes a plain cell (it still runs, it is not graded), and so does a cell
  whose ``grade_id`` the gradebook does not know.
* :class:`ResilientExecute` replaces nbgrader's ``Execute``. When a cell
  ignores the interrupt after its time limit (``while True: try: ... except:
  pass`` swallows both the checks' 5 s timer and Jupyter's KeyboardInterrupt),
  or the kernel dies (``os._exit``, a crash, too much memory), nbclient gives up
  on the whole notebook and nbgrader grades nothing. Here that cell gets an
  error saying what happened (so a test cell scores 0), the kernel is replaced,
  the cells above are run again, quietly, to rebuild the student's state, and
  grading goes on with the next cell.
"""
from __future__ import annotations

import asyncio

from nbformat import NotebookNode
from nbgrader import utils
from nbgrader.preprocessors import DeduplicateIds, Execute
from traitlets import Integer
from traitlets.config import LoggingConfigurable

__all__ = ["DeduplicateCells", "ResilientExecute", "ReplayOnHang"]


def _nbgrader_meta(cell) -> dict | None:
    meta = cell.get("metadata", {}).get("nbgrader")
    return meta if isinstance(meta, dict) else None


class DeduplicateCells(DeduplicateIds):
    """nbgrader's DeduplicateIds, leaving no half-emptied metadata behind.

    Keeps the *last* cell of each ``grade_id`` (as nbgrader does) and turns
    earlier copies, cells without a ``grade_id`` and cells whose ``grade_id`` is
    not in the gradebook into plain cells.
    """

    def preprocess(self, nb, resources):
        self._known = None
        info = resources.get("nbgrader", {}) if resources else {}
        if info.get("db_url") and info.get("notebook") and info.get("assignment"):
            from nbgrader.api import Gradebook, MissingEntry

            try:
                with Gradebook(info["db_url"]) as gb:
                    source = gb.find_notebook(info["notebook"], info["assignment"])
                    self._known = {c.name for c in source.source_cells}
            except MissingEntry:
                self._known = None
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell, resources, cell_index):
        meta = _nbgrader_meta(cell)
        if meta is None:
            if "nbgrader" in cell.get("metadata", {}):
                del cell.metadata["nbgrader"]
            return cell, resources
        if not (meta.get("grade") or meta.get("solution") or meta.get("locked") or meta.get("task")):
            return cell, resources
        grade_id = meta.get("grade_id")
        if not grade_id:
            self.log.warning("A cell has nbgrader metadata without a grade_id: graded as a plain cell")
            del cell.metadata["nbgrader"]
        elif grade_id in self.grade_ids:
            self.log.warning("Cell with id '%s' exists multiple times! Earlier copies are plain cells", grade_id)
            del cell.metadata["nbgrader"]
        elif self._known is not None and grade_id not in self._known:
            self.log.warning("Cell '%s' is not in the gradebook: graded as a plain cell", grade_id)
            del cell.metadata["nbgrader"]
        else:
            self.grade_ids.add(grade_id)
        return cell, resources


def _error(ename: str, text: str) -> NotebookNode:
    return NotebookNode(output_type="error", ename=ename, evalue=text, traceback=[f"{ename}: {text}"])


class ReplayOnHang(LoggingConfigurable):
    """Mixin for nbgrader's ``Execute``: a cell that hangs past the interrupt or kills the kernel costs only itself.

    Put it before the Execute class: ``class X(ReplayOnHang, SomeExecute)``.
    """

    max_restarts = Integer(
        8, help="Kernel replacements per notebook; after that the remaining cells are not run.",
    ).tag(config=True)

    def reset_execution_trackers(self) -> None:
        super().reset_execution_trackers()
        self._restarts = 0
        self._skip: set[int] = set()  # cells that hung or killed the kernel: only their definitions run again
        self._dead: set[int] = set()  # ... and whose definitions hung too: never run again
        self._gave_up = ""

    async def async_execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
        from nbclient.exceptions import CellTimeoutError, DeadKernelError

        if self._gave_up:
            cell.outputs = [_error("NotRun", self._gave_up)]
            return cell
        try:
            return await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        except (CellTimeoutError, DeadKernelError) as exc:
            dead = isinstance(exc, DeadKernelError) or not await self._alive()
            if dead:
                text = ("Python stopped while running this cell (the kernel died: a crash, os._exit, "
                        "or more memory than allowed). Grading started a new kernel, ran the cells above "
                        "again and went on with the next cell.")
            else:
                text = (f"This cell did not finish within {self.timeout} s and ignored the interrupt "
                        "(a `try`/`except` inside a loop that catches every exception?). Grading started "
                        "a new kernel, ran the cells above again and went on with the next cell.")
            self.log.error("Cell %d: %s", cell_index, text)
            cell.outputs = list(cell.get("outputs", [])) + [_error("CellTimeoutError" if not dead else "DeadKernelError", text)]
            self._skip.add(cell_index)
            await self._replace_kernel_and_replay(cell_index)
            return cell

    from nbclient.util import run_sync as _run_sync
    execute_cell = _run_sync(async_execute_cell)
    del _run_sync

    async def _alive(self) -> bool:
        try:
            return bool(await _maybe_await(self.kc.is_alive())) if self.kc is not None else False
        except Exception:
            return False

    async def _replace_kernel_and_replay(self, upto: int) -> None:
        while True:
            self._restarts += 1
            if self._restarts > self.max_restarts:
                self._gave_up = (f"not run: the kernel had to be replaced {self.max_restarts} times in this "
                                 "notebook, so grading stopped running cells")
                self.log.error(self._gave_up)
                return
            await self._replace_kernel()
            failed = await self._replay(upto)
            if failed is None:
                return
            (self._dead if failed in self._skip else self._skip).add(failed)

    async def _replace_kernel(self) -> None:
        km, kc = self.km, self.kc
        try:
            if kc is not None:
                await _maybe_await(kc.stop_channels())
        except Exception:
            pass
        try:
            if km is not None:
                await _maybe_await(km.shutdown_kernel(now=True))
        except Exception as exc:  # already dead
            self.log.info("Shutting down the old kernel: %s", exc)
        try:
            if km is not None:
                await _maybe_await(km.cleanup_resources())
        except Exception:
            pass
        self.kc = None
        self.km = self.create_kernel_manager()
        await self.async_start_new_kernel()
        await self.async_start_new_kernel_client()

    async def _replay(self, upto: int) -> int | None:
        """Run cells ``0..upto-1`` again, output discarded; the index of one that hung or died, else None.

        Of a cell that hung before, only its top-level ``def``, ``class`` and
        ``import`` statements run again: a solution cell that defines the
        function and then loops forever still defines the function, as it would
        have if the interrupt had worked.
        """
        for index, cell in enumerate(self.nb.cells[:upto]):
            if cell.cell_type != "code" or not cell.source.strip() or index in self._dead:
                continue
            source = definitions_only(cell.source) if index in self._skip else cell.source
            if not source.strip():
                continue
            try:
                await asyncio.wait_for(
                    _maybe_await(self.kc.execute_interactive(
                        source, store_history=False, stop_on_error=False, allow_stdin=False,
                        output_hook=lambda msg: None, timeout=None)),
                    timeout=self.timeout or None)
            except (asyncio.TimeoutError, TimeoutError):
                self.log.error("Cell %d hung when run again: skipping it", index)
                return index
            except Exception as exc:
                if not await self._alive():
                    self.log.error("Cell %d killed the kernel when run again: skipping it", index)
                    return index
                self.log.warning("Cell %d failed when run again: %s", index, exc)
        return None


def definitions_only(source: str) -> str:
    """The top-level ``def``, ``class`` and ``import`` statements of a cell's code ('' if it is not Python)."""
    import ast

    try:
        tree = ast.parse(source)
    except SyntaxError:  # IPython syntax (magics): nothing is replayed
        return ""
    keep = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom)
    lines = source.splitlines(keepends=True)
    parts = []
    for node in tree.body:
        if isinstance(node, keep):
            start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
            parts.append("".join(lines[start - 1: node.end_lineno]))
    return "".join(p if p.endswith("\n") else p + "\n" for p in parts)


async def _maybe_await(value):
    if asyncio.iscoroutine(value) or isinstance(value, asyncio.Future):
        return await value
    return value


class ResilientExecute(ReplayOnHang, Execute):
    """nbgrader's Execute with :class:`ReplayOnHang`: a hung or fatal cell costs only that cell."""


try:  # the course's kernels run in a sandbox (bn_helpers.sandbox, configured in nbgrader_config.py)
    from ..sandbox import SandboxedExecute as _SandboxedExecute
except ImportError:  # pragma: no cover - a course without the sandbox module
    _SandboxedExecute = None

if _SandboxedExecute is not None:
    class SandboxedResilientExecute(ReplayOnHang, _SandboxedExecute):
        """The sandbox's Execute with :class:`ReplayOnHang`: kernels in the sandbox, a hung cell costs only itself."""

    __all__.append("SandboxedResilientExecute")
