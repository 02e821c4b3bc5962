"""The judge: grades every autograded test cell from outside the student's reach.

nbgrader runs the submission in a (sandboxed) kernel; everything in that
kernel, including the visible checks, is the student's to change, so what it
prints is feedback, not a grade. :class:`JudgeTests`, an nbgrader
preprocessor placed after execution and before ``SaveAutoGrades``, decides
the grade instead:

1. a *runner* (:mod:`._runner`) starts in its own sandbox with a view of
   ``bn_helpers`` without reference code or checks (:mod:`._view`), and runs
   the submission's code cells, test cells excluded, in notebook order;
2. at each test cell, the judge executes the **instructor's** source of that
   cell (from the gradebook: hidden tests included) in its own process,
   with its own ``numpy`` and ``bn_helpers.checks``, where the student's names
   are proxies (:mod:`._remote`): calls, attribute reads and writes travel to
   the runner as data, answers come back as data (arrays with
   ``np.load(allow_pickle=False)``; nothing is unpickled), each before a
   deadline;
3. the cell's outputs become the judge's verdict (what the checks printed,
   plus, when it failed, an error with the diagnosis and nothing else), so the
   gradebook, the grade table and the feedback all carry it; where the kernel's
   result differs, ``judge.json`` beside the autograded notebook says so and a
   warning names the student and the cell.

:class:`ScrubFeedback` (for ``nbgrader generate_feedback``) removes hidden
tests from sources and outputs, and redacts checker source lines and the
instructor's paths from every output. The file format of ``judge.json`` is
described in ``docs/grading-security.md``.
"""
from __future__ import annotations

import ast
import builtins
import contextlib
import html
import io
import json
import os
import re
import sys
import time
import tokenize
import warnings
from pathlib import Path

from nbformat.notebooknode import NotebookNode
from traitlets import Bool, Float, Int

try:
    from nbgrader.preprocessors import NbGraderPreprocessor
except ImportError:  # pragma: no cover - nbgrader is installed wherever grading happens
    from nbconvert.preprocessors import Preprocessor as NbGraderPreprocessor

from ..sandbox import UNSANDBOXED, Sandbox
from ._remote import JudgeTimeout, ModuleRef, Runner
from ._sanitize import SanitizeNotebook

__all__ = ["JudgeTests", "ScrubFeedback", "SanitizeNotebook", "judge_notebook", "trusted_tests", "course_salt",
           "student_salt",
           "UNSANDBOXED"]

HIDDEN = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS.*?^[ \t]*### END HIDDEN TESTS[ \t]*\n?", re.M | re.S)
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def trusted_tests(db_url: str, assignment: str, notebook: str) -> dict[str, tuple[str, float]]:
    """The instructor's autograder test cells of a notebook, from the gradebook: {grade_id: (source, points)}."""
    from nbgrader.api import Gradebook

    out = {}
    with Gradebook(db_url) as gb:
        nb = gb.find_notebook(notebook, assignment)
        solutions = {c.name for c in nb.solution_cells}
        for cell in nb.grade_cells:
            if cell.cell_type != "code" or cell.name in solutions:
                continue
            out[cell.name] = (gb.find_source_cell(cell.name, notebook, assignment).source, float(cell.max_score))
    return out


def _free_names(tree: ast.AST) -> list[str]:
    """Names a cell reads that it does not bind itself, minus builtins (to fetch from the student)."""
    loads, stores = [], set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (loads.append(node.id) if isinstance(node.ctx, ast.Load) else stores.add(node.id))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            stores.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)):
            stores.add(node.name)
    seen, out = set(), []
    for name in loads:
        if name not in stores and name not in seen and not hasattr(builtins, name):
            seen.add(name)
            out.append(name)
    return out


def _in_kernel(cell) -> tuple[bool, str]:
    """Whether the kernel's run of a test cell passed, and its error if not."""
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            return False, ANSI.sub("", f"{out.get('ename')}: {out.get('evalue')}")[:500]
        if out.get("output_type") == "stream" and out.get("name") == "stderr":
            return False, "wrote to stderr: " + ANSI.sub("", str(out.get("text", "")))[:300]
    return True, ""


def _error_output(exc: BaseException) -> NotebookNode:
    ename, evalue = type(exc).__name__, str(exc)
    lines = []
    cause = exc.__cause__
    student_tb = getattr(cause, "student_traceback", None) or getattr(exc, "student_traceback", None)
    if student_tb:
        lines += ["Where your code raised it:", *student_tb, ""]
    lines.append(f"\x1b[0;31m{ename}\x1b[0m: {evalue}")
    return NotebookNode(output_type="error", ename=ename, evalue=evalue, traceback=lines)


def _stream(text: str) -> NotebookNode:
    return NotebookNode(output_type="stream", name="stdout", text=text)


class JudgeTests(NbGraderPreprocessor):
    """nbgrader preprocessor: replace every autograded test cell's outputs by the judge's verdict."""

    enabled = Bool(True, help="Judge test cells outside the kernel (off: the kernel's outputs decide).").tag(config=True)
    cell_timeout = Float(0, help="Seconds a student cell may run in the runner (0: nbgrader's Execute.timeout)."
                         ).tag(config=True)
    test_timeout = Float(60, help="Seconds one test cell may take in the judge, all calls included.").tag(config=True)
    call_timeout = Float(0, help="Seconds one call of student code may take (0: checks' TIME_BUDGET + 1).").tag(config=True)
    total_timeout = Float(900, help="Seconds the judge may spend on one notebook.").tag(config=True)
    max_restarts = Int(10, help="Runner restarts (after a timeout or a crash) before the judge gives up.").tag(config=True)
    max_output = Int(20000, help="Characters of check output kept per test cell.").tag(config=True)
    salt_hidden = Bool(True, help=(
        "Mix a course secret and the student's id into the seeds of the hidden random cases "
        "(bn_helpers.checks._common.hidden_rng and random_cases), so that the hidden cases a grade rests on are "
        "not the ones anyone can draw with checks.<name>(fn, hidden=True) at home (a memorised table of answers "
        "fails them) and differ from student to student (one student's feedback says nothing about another's "
        "cases). The secret is kept in judge-salt beside the autograded folder (created on first use; never in "
        "a sandbox or a feedback)."
        )).tag(config=True)

    def preprocess(self, nb, resources):
        if not self.enabled:
            return nb, resources
        info = resources["nbgrader"]
        tests = trusted_tests(info["db_url"], info["assignment"], info["notebook"])
        folder = Path(resources.get("metadata", {}).get("path") or ".")
        options = self._options()
        if self.salt_hidden:
            secret = course_salt(folder.resolve().parents[2] if len(folder.resolve().parents) > 2 else folder)
            options["salt"] = student_salt(secret, info["student"])
        record = judge_notebook(nb, tests, folder, sandbox=Sandbox(parent=self), log=self.log, options=options,
                                who=f"{info['student']}/{info['assignment']}/{info['notebook']}")
        record.update(student=info["student"], assignment=info["assignment"], notebook=info["notebook"])
        path = folder / "judge.json"
        try:
            existing = json.loads(path.read_text()) if path.exists() else {}
        except ValueError:
            existing = {}
        notebooks = existing.get("notebooks", {}) if isinstance(existing, dict) else {}
        notebooks[info["notebook"]] = record
        path.write_text(json.dumps({"format": 1, "student": info["student"], "assignment": info["assignment"],
                                    "notebooks": notebooks}, indent=1))
        return nb, resources

    def _options(self) -> dict:
        from ..checks import _common

        execute = self.config.get("Execute", {})
        cell_timeout = self.cell_timeout or float(execute.get("timeout", 30) or 30)
        return {"cell_timeout": cell_timeout, "test_timeout": self.test_timeout,
                "call_timeout": self.call_timeout or float(_common.TIME_BUDGET) + 1.0,
                "total_timeout": self.total_timeout, "max_restarts": self.max_restarts, "max_output": self.max_output}


def course_salt(folder: Path) -> int:
    """The course's secret for hidden seeds: ``folder/judge-salt`` (128 random bits, created on first use)."""
    import secrets

    path = Path(folder) / "judge-salt"
    try:
        return int(path.read_text().strip(), 16)
    except (OSError, ValueError):
        pass
    value = secrets.randbits(128)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(f"{value:032x}\n")
    except FileExistsError:  # another grader wrote it first
        return int(path.read_text().strip(), 16)
    except OSError:  # read-only course: a secret for this run only
        pass
    return value


def student_salt(secret: int, student: str) -> int:
    """The seed salt of one student's hidden cases: a keyed hash (BLAKE2b) of the student id under the course secret.

    Without the secret, one student's salt says nothing about another's; with it, regrading a student gives
    the same cases.
    """
    import hashlib

    key = int(secret).to_bytes(max(16, (int(secret).bit_length() + 7) // 8), "big")[-64:]
    digest = hashlib.blake2b(str(student).encode("utf-8"), key=key, digest_size=16, person=b"bn-hidden-seed").digest()
    return int.from_bytes(digest, "big")


def judge_notebook(nb, tests: dict[str, tuple[str, float]], folder: Path, sandbox: Sandbox, log=None,
                   options: dict | None = None, who: str = "") -> dict:
    """Judge every test cell of ``nb`` (in place) and return the record written to ``judge.json``."""
    import logging

    log = log or logging.getLogger("bn_helpers.judge")
    opt = {"cell_timeout": 30.0, "test_timeout": 60.0, "call_timeout": 6.0, "total_timeout": 900.0,
           "max_restarts": 10, "max_output": 20000, **(options or {})}
    sandboxed, sandbox_text = sandbox.require()
    t_start = time.monotonic()
    runner = Runner(folder, sandbox)
    runner.call_timeout = opt["call_timeout"]
    student_cells: list[tuple[int, str]] = []
    done: set[int] = set()      # student cells run in the current runner
    skipped: dict[int, str] = {}  # cells that stopped the runner: not replayed
    setup_errors: dict[int, str] = {}
    restarts = 0
    cells_record = []

    def ensure_runner() -> str | None:
        """Bring the runner up to date with the student cells seen so far; a reason if that is impossible."""
        nonlocal restarts
        while True:
            if time.monotonic() - t_start > opt["total_timeout"]:
                return f"the judge's time for this notebook ({opt['total_timeout']:g} s) is spent"
            if not runner.alive:
                if restarts > opt["max_restarts"]:
                    return "your notebook stopped the grader too many times (time limits or crashes)"
                restarts += 1
                runner.kill()
                runner.start()
                done.clear()
            for idx, source in student_cells:
                if idx in done or idx in skipped:
                    continue
                try:
                    reply = runner.run_cell(source, timeout=opt["cell_timeout"])
                except BaseException as exc:  # noqa: B036 - timeouts (_OutOfTime) and lost runners
                    if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                        raise
                    skipped[idx] = f"{type(exc).__name__}: {exc}"[:200] or type(exc).__name__
                    runner.kill()
                    break
                done.add(idx)
                if reply.get("cell_error"):
                    setup_errors[idx] = str(reply["cell_error"])[:200]
            else:
                return None

    try:
        for idx, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
            if gid not in tests:
                student_cells.append((idx, cell.source))
                continue
            source, points = tests[gid]
            kernel_ok, kernel_msg = _in_kernel(cell)
            t0 = time.monotonic()
            problem = ensure_runner()
            if problem is None:
                ok, outputs = _judge_cell(runner, gid, source, opt)
            else:
                ok, outputs = False, [_error_output(RuntimeError(problem))]
            verdict_msg = "" if ok else ANSI.sub("", f"{outputs[-1].ename}: {outputs[-1].evalue}")[:500]
            cell.outputs = outputs
            meta = cell.metadata.setdefault("nbgrader", {})
            meta.update(grade=True, solution=False, grade_id=gid, points=points)
            entry = {"grade_id": gid, "points": points, "hidden": bool(HIDDEN.search(source)),
                     "judge": "pass" if ok else "fail", "judge_message": verdict_msg,
                     "kernel": "pass" if kernel_ok else "fail", "kernel_message": kernel_msg,
                     "agree": ok == kernel_ok, "seconds": round(time.monotonic() - t0, 3)}
            cells_record.append(entry)
            if ok != kernel_ok:
                log.warning("judge: %s cell %s: the kernel says %s, the judge says %s%s", who, gid,
                            entry["kernel"], entry["judge"], f" ({verdict_msg[:120]})" if verdict_msg else
                            f" (kernel: {kernel_msg[:120]})")
    finally:
        runner.close()
    return {"sandbox": sandbox_text, "sandboxed": sandboxed, "salted_hidden": opt.get("salt") is not None,
            "cells": cells_record, "disagreements": [c["grade_id"] for c in cells_record if not c["agree"]],
            "runner": {"restarts": max(restarts - 1, 0), "skipped_cells": sorted(skipped),
                       "cell_errors": {str(k): v for k, v in sorted(setup_errors.items())},
                       "reference_calls": sorted(set(runner.reference_calls))},
            "seconds": round(time.monotonic() - t_start, 3)}


def _judge_cell(runner: Runner, gid: str, source: str, opt: dict) -> tuple[bool, list]:
    """Run the instructor's test source here against the runner: (passed, outputs)."""
    from ..checks import _common

    out, err = io.StringIO(), io.StringIO()
    failure: BaseException | None = None
    try:
        tree = ast.parse(source, filename=f"<test {gid}>")
        ns: dict = {"__builtins__": builtins, "__name__": "__judge__"}
        runner.deadline = time.monotonic() + opt["test_timeout"]
        for name in _free_names(tree):
            try:
                value = runner.lookup(name)
            except KeyError:
                continue
            if isinstance(value, ModuleRef):
                if value.name in sys.modules:
                    ns[name] = sys.modules[value.name]
                continue
            ns[name] = value
        hidden = bool(HIDDEN.search(source))
        salt = opt.get("salt") if hidden else None
        runner.hidden = hidden
        first_call = len(runner.reference_calls)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), warnings.catch_warnings(), \
                _common.salted(salt), _common.declared_reference() as declared:
            warnings.simplefilter("ignore")
            exec(compile(tree, f"<test {gid}>", "exec"), ns)
        if hidden:
            used = _forbidden_calls(runner.reference_calls[first_call:], declared)
            if used:
                raise AssertionError(
                    f"your code called bn_helpers' reference code ({', '.join(used)}) while this hidden test ran. "
                    "The exercise is to write it yourself with NumPy.")
    except JudgeTimeout:
        failure = TimeoutError(f"the test took longer than {opt['test_timeout']:g} s in all: is there a slow "
                               "loop in your code?")
    except (Exception, _common._OutOfTime) as exc:
        failure = exc if not isinstance(exc, _common._OutOfTime) else TimeoutError(
            f"your code did not return within {opt['call_timeout']:g} s")
    finally:
        runner.deadline = None
        runner.hidden = False
        runner.release()
    text = out.getvalue()[: opt["max_output"]]
    outputs = [_stream(text)] if text else []
    if failure is not None:
        outputs.append(_error_output(failure))
    return failure is None, outputs


def _forbidden_calls(calls: list[str], declared: list[set[str]]) -> list[str]:
    """The forwarded reference functions of ``calls`` that a hidden test cell forbids.

    Every module the runner forwards (:data:`bn_helpers._reference.REFERENCE`) is forbidden, except a module
    of :data:`~bn_helpers._reference.ALLOWABLE` that every ``watch_reference`` of the cell's checks leaves
    out (04's ``BatchNorm1d`` may use ``numerics.batchnorm_forward`` from the setup cell).
    """
    from .. import _reference

    watched = set().union(*declared) if declared else _reference.files()
    out = set()
    for qualified in calls:
        module = qualified.rpartition(".")[0]
        if module not in _reference.ALLOWABLE or _reference.module_file(module) in watched:
            out.add(qualified.removeprefix("bn_helpers."))
    return sorted(out)


# ---------------------------------------------------------------------------
# Feedback
# ---------------------------------------------------------------------------

_PRIVATE = re.compile(r"/tmp/bn[a-z]+-[A-Za-z0-9_]+")
_DECORATION = re.compile(r"^\s*(?:-*>\s*)?(?:\d+\s+)?")


def _code_lines(folder: Path, min_len: int = 16) -> set[str]:
    """Lines of code (not strings or comments alone) of the checks: what a feedback file must not show."""
    lines: set[str] = set()
    for path in sorted(folder.glob("*.py")):
        text = path.read_text()
        src_lines = text.splitlines()
        code_rows: set[int] = set()
        try:
            for tok in tokenize.generate_tokens(io.StringIO(text).readline):
                if tok.type in (tokenize.NAME, tokenize.OP, tokenize.NUMBER):
                    code_rows.add(tok.start[0])
        except (tokenize.TokenError, IndentationError):
            continue
        for row in code_rows:
            line = src_lines[row - 1].strip()
            if len(line) >= min_len and not line.startswith(("#", '"', "'", 'f"', "f'", ")", "]", "}")):
                lines.add(line)
    return lines


_CHECK_LINES: set[str] | None = None


def checker_lines() -> set[str]:
    """The code lines of ``bn_helpers/checks`` (cached)."""
    global _CHECK_LINES
    if _CHECK_LINES is None:
        from .. import checks

        _CHECK_LINES = _code_lines(Path(checks.__file__).parent)
    return _CHECK_LINES


def hidden_lines(nb) -> list[str]:
    """The lines of every hidden-test block in a notebook."""
    out = []
    for cell in nb.cells:
        for block in HIDDEN.findall(cell.get("source", "")):
            out += [ln.strip() for ln in block.splitlines() if ln.strip()]
    return out


def instructor_paths() -> list[str]:
    import bn_helpers

    paths = {os.getcwd(), str(Path(bn_helpers.__file__).resolve().parent.parent), sys.prefix, sys.base_prefix,
             str(Path.home())}
    return sorted((p for p in paths if p and len(p) > 1), key=len, reverse=True)


class ScrubFeedback(NbGraderPreprocessor):
    """nbgrader preprocessor for feedback: no hidden test, no checker source, no instructor path."""

    enabled = Bool(True).tag(config=True)

    def preprocess(self, nb, resources):
        if not self.enabled:
            return nb, resources
        hidden = hidden_lines(nb)
        code = checker_lines()
        paths = re.compile("(?:" + "|".join(re.escape(p) for p in instructor_paths()) + r")(?=[/\\\s'\"<>:),\]]|$)")

        def clean_text(text: str) -> str:
            out = []
            for line in text.split("\n"):
                bare = ANSI.sub("", line)
                norm = _DECORATION.sub("", bare).strip()
                unescaped = html.unescape(bare)
                if (norm in code or _DECORATION.sub("", html.unescape(norm)).strip() in code
                        or any(h in bare or h in unescaped for h in hidden) or "HIDDEN TESTS" in bare):
                    out.append("[removed from feedback]")
                    continue
                out.append(_PRIVATE.sub("…", paths.sub("…", line)))
            return "\n".join(out)

        for cell in nb.cells:
            if "source" in cell:
                cell.source = HIDDEN.sub("", cell.source)
            for output in cell.get("outputs", []):
                if "text" in output:
                    output.text = clean_text(output.text)
                if output.get("output_type") == "error":
                    output.evalue = clean_text(output.get("evalue", ""))
                    output.traceback = [clean_text(t) for t in output.get("traceback", [])]
                for key, value in list(output.get("data", {}).items()):
                    if key.startswith("text/"):
                        if isinstance(value, str):
                            output.data[key] = clean_text(value)
                        elif isinstance(value, list):
                            output.data[key] = clean_text("".join(value))
        scrub_encoded(nb, hidden + sorted(code))
        return nb, resources


#: What replaces an output that shows hidden-test or checker source in an encoded form.
ENCODED_NOTE = "[removed from feedback: this output holds hidden-test or checker source in encoded form]\n"


def _output_text(output) -> str:
    """All the text of one output that a browser would show (images excluded)."""
    parts = [str(output.get("text", "")), str(output.get("evalue", "")), *map(str, output.get("traceback", []))]
    for key, value in (output.get("data") or {}).items():
        if key.startswith("text/") or key.endswith(("json", "javascript")):
            parts.append("".join(value) if isinstance(value, list) else str(value))
            if key == "text/html":  # what the page shows of it: the text between the tags, entities decoded
                parts.append(html.unescape(re.sub(r"<[^>]*>", "", parts[-1])))
    return "\n".join(p for p in parts if p)


def scrub_encoded(nb, needles: list[str]) -> int:
    """Replace every output that shows one of ``needles`` (hidden-test or checker source lines) under a usual
    encoding (:mod:`._decode`: base64, hex, compressed, reversed, ROT13...) by :data:`ENCODED_NOTE`; also
    when a blob is split over several outputs, all of which then go. Returns how many outputs were replaced."""
    from ._decode import looks_encoded, needle_set, reveals

    wanted = needle_set(needles)
    outputs = [o for cell in nb.cells for o in cell.get("outputs", [])]
    texts = [_output_text(o) for o in outputs]
    hits = [i for i, t in enumerate(texts) if reveals(t, wanted)]
    if not hits and len(texts) > 1 and reveals("\n".join(texts), wanted):
        hits = [i for i, t in enumerate(texts) if looks_encoded(t)]  # a blob split over outputs: no part shown
    for i in hits:
        output = outputs[i]
        output.clear()
        output.update(output_type="stream", name="stdout", text=ENCODED_NOTE)
    return len(hits)
