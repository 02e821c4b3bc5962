"""Errors that say what to do: a cell that needs an unfinished exercise names it.

A student who runs the notebook in order meets two bare errors long after the
cause: ``NotImplementedError`` from an exercise still holding its stub (raised
wherever a later cell calls it), and ``NameError`` for a variable that a cell
above never made (it was skipped, or stopped at an unfinished check).
:func:`install` registers an IPython exception handler (IPython's
``InteractiveShell.set_custom_exc``) that adds one sentence to those two
errors and then shows the traceback exactly as IPython would, so the cell
still fails (Run All stops there; nbclient and nbgrader see an error).

It is installed when :mod:`bn_helpers.checks` is imported in an IPython
kernel (every notebook does); elsewhere it does nothing.
"""
from __future__ import annotations

__all__ = ["install", "hint"]

_MARK = "\n→ "  # where a hint begins, so that a hint is never added twice


def _last_frame(tb):
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb.tb_frame if tb is not None else None


def hint(value: BaseException, tb=None) -> str:
    """The sentence added to ``value``'s message, or ``""`` when there is nothing to add.

    Parameters
    ----------
    value : BaseException
        The exception a cell raised.
    tb : traceback, optional
        Its traceback; the innermost frame names the unfinished function.

    Returns
    -------
    str
        For a ``NotImplementedError`` with no message (nbgrader's stub,
        ``raise NotImplementedError()``) raised in a function: which function
        to finish. For a ``NameError``: which cell is missing. Otherwise ``""``.
    """
    if isinstance(value, NotImplementedError) and not value.args:
        frame = _last_frame(tb)
        name = frame.f_code.co_name if frame is not None else "<module>"
        if name.startswith("<"):
            return ("this exercise is not written yet: replace `raise NotImplementedError()` "
                    "with your code, where it says YOUR CODE HERE, and run the cell again.")
        return (f"`{name}` is not written yet: finish the cell that defines it (where it says YOUR CODE HERE) "
                f"and run that cell, then run this one again.")
    if isinstance(value, NameError) and not isinstance(value, UnboundLocalError):
        name = getattr(value, "name", None)
        if not name:
            return ""
        return (f"if `{name}` is made by a cell above, that cell has not run yet or stopped with an error: "
                f"run the cells above in order (Run ▸ Run All Above Selected Cell), finishing any exercise "
                f"they stop at; otherwise check the spelling.")
    return ""


def _handler(shell, etype, value, tb, tb_offset=None):
    text = hint(value, tb)
    message = str(value.args[0]) if value.args else ""
    if text and _MARK not in message:
        value.args = (f"{message}{_MARK}{text}" if message else f"{_MARK.lstrip()}{text}", *value.args[1:])
    shell.showtraceback((etype, value, tb), tb_offset=tb_offset)  # shown, and the cell fails, as without us


def install(shell=None) -> bool:
    """Register the handler in ``shell`` (default: the running IPython), once.

    Returns
    -------
    bool
        True when the handler is (now) registered; False outside IPython or when
        the shell already has another custom handler (left as it is).
    """
    if shell is None:
        try:
            from IPython import get_ipython
        except ImportError:  # pragma: no cover - IPython is a dependency
            return False
        shell = get_ipython()
    if shell is None or not hasattr(shell, "set_custom_exc"):
        return False
    current = getattr(shell, "custom_exceptions", ())
    if getattr(shell, "_bn_hints", False):
        return True
    if current:  # the learner's (or another tool's) own handler wins
        return False
    shell.set_custom_exc((NotImplementedError, NameError), _handler)
    shell._bn_hints = True
    return True
