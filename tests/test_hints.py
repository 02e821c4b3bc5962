"""Errors that name what to finish (bn_helpers._hints): in a real IPython shell, and through nbclient."""
import nbformat
import pytest
from IPython.core.interactiveshell import InteractiveShell

from bn_helpers import _hints


@pytest.fixture
def shell():
    sh = InteractiveShell()
    assert _hints.install(sh)
    yield sh
    sh.set_custom_exc((), None)


def test_an_unfinished_function_is_named_and_the_cell_still_fails(shell, capsys):
    shell.run_cell("def batchnorm_forward(x, gamma, beta):\n    # YOUR CODE HERE\n    raise NotImplementedError()")
    result = shell.run_cell("out = batchnorm_forward(1, 2, 3)")
    assert not result.success and isinstance(result.error_in_exec, NotImplementedError)
    message = str(result.error_in_exec)
    assert "`batchnorm_forward` is not written yet" in message and "YOUR CODE HERE" in message
    assert "batchnorm_forward" in capsys.readouterr().out  # the traceback is shown as IPython shows it


def test_a_stub_at_the_top_level_of_a_cell(shell):
    result = shell.run_cell("# YOUR CODE HERE\nraise NotImplementedError()")
    assert not result.success and "this exercise is not written yet" in str(result.error_in_exec)


def test_a_missing_variable_points_to_the_cells_above(shell):
    result = shell.run_cell("print(h_bn.mean())")
    assert not result.success
    message = str(result.error_in_exec)
    assert message.startswith("name 'h_bn' is not defined") and "Run All Above Selected Cell" in message


def test_other_errors_and_messages_are_left_alone(shell):
    result = shell.run_cell("raise NotImplementedError('the student wrote this')")
    assert str(result.error_in_exec) == "the student wrote this"
    result = shell.run_cell("1 / 0")
    assert isinstance(result.error_in_exec, ZeroDivisionError) and str(result.error_in_exec) == "division by zero"


def test_a_hint_is_added_once_and_another_handler_is_respected(shell):
    shell.run_cell("def f():\n    raise NotImplementedError()\ntry:\n    f()\nexcept NotImplementedError as e:\n    err = e")
    first = shell.run_cell("raise err")
    again = shell.run_cell("raise err")
    assert str(again.error_in_exec).count("is not written yet") == 1, str(first.error_in_exec)
    other = InteractiveShell()
    other.set_custom_exc((KeyError,), lambda *a, **k: None)
    assert not _hints.install(other)  # the learner's own handler wins
    other.set_custom_exc((), None)


def test_in_a_kernel_the_error_output_carries_the_hint_and_run_all_stops(tmp_path):
    """What a student and nbgrader see: an error output whose value names the function."""
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("from bn_helpers import checks"),
        nbformat.v4.new_code_cell("def standardize(x):\n    # YOUR CODE HERE\n    raise NotImplementedError()"),
        nbformat.v4.new_code_cell("z = standardize([1.0, 2.0])"),
        nbformat.v4.new_code_cell("print('never runs')"),
    ])
    client = nbclient.NotebookClient(nb, timeout=120, allow_errors=False)
    with pytest.raises(nbclient.exceptions.CellExecutionError):
        client.execute()
    (error,) = nb.cells[2].outputs
    assert error.output_type == "error" and error.ename == "NotImplementedError"
    assert "`standardize` is not written yet" in error.evalue
    assert not nb.cells[3].get("outputs")
