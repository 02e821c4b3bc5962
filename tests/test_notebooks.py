"""Run the notebooks as a student would: the solution top to bottom, the untouched release too."""
import nbformat
import pytest
from nbclient import NotebookClient

from bn_helpers import grading
from conftest import ROOT

ASSIGNMENTS = grading.assignments(ROOT)


def _run(path, allow_errors):
    nb = nbformat.read(path, as_version=4)
    # timeout: a cell that hangs fails the test instead of stalling the suite
    NotebookClient(nb, timeout=60, kernel_name="python3", allow_errors=allow_errors,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    return nb


def _errors(nb):
    return [(c.source.splitlines()[0], o) for c in nb.cells if c.cell_type == "code"
            for o in c.outputs if o.output_type == "error"]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_solution_runs_top_to_bottom(assignment):
    nb = _run(ROOT / "solutions" / assignment / f"{assignment}.ipynb", allow_errors=False)
    streams = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "stream"]
    assert not [o for o in streams if o.name == "stderr" and "Warning" in o.text], "a warning in the solution run"
    images = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if "image/png" in o.get("data", {})]
    assert images, "the notebook should draw its figures"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_untouched_release_fails_fast_only_where_student_code_is_needed(assignment, monkeypatch):
    # As nbgrader runs it: NBGRADER_EXECUTION set, so the long experiments skip (never the graded cells).
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    nb = _run(ROOT / "notebooks" / assignment / f"{assignment}.ipynb", allow_errors=True)
    errors = _errors(nb)
    assert errors, "the stubs should raise"
    for first_line, err in errors:
        assert err.ename in {"NotImplementedError", "AssertionError", "NameError"}, (first_line, err.ename, err.evalue)
        if err.ename == "AssertionError":
            assert "not implemented yet" in err.evalue
