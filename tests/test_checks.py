"""bn_helpers.checks: correct code passes, each known mistake is named, loops are cut short."""
import contextlib
import io
import re
import time
import warnings

import nbformat
import numpy as np
import pytest

from bn_helpers import checks, demo, grading
from conftest import ROOT, course_cases

CASES = {m.ASSIGNMENT: m for m in course_cases()}


def _functions(assignment, edits=None) -> dict:
    """The instructor's solution functions, with some cells replaced, executed in one namespace."""
    cells = {**grading.solution_code(grading.REPO, assignment), **(edits or {})}
    namespace = dict(CASES[assignment].NAMESPACE)
    for code in cells.values():
        exec(code, namespace)
    return namespace


def _graded(assignment):
    return list(grading.solution_code(grading.REPO, assignment))


def _failures(assignment, namespace, printed: dict | None = None) -> dict[str, str]:
    """Each check (visible and hidden) on ``namespace``'s functions: {test cell: message} of the failures."""
    failed = {}
    for name in _graded(assignment):
        for hidden in (False, True):
            cell = f"test_{name}" + ("_hidden" if hidden else "")
            out = io.StringIO()
            try:
                with contextlib.redirect_stdout(out):
                    getattr(checks, name)(namespace[name], hidden=hidden)
            except AssertionError as exc:
                failed[cell] = str(exc)
            if printed is not None:
                printed[cell] = out.getvalue()
        if name in checks.training.__all__:  # the training run of 03, 04, 05: one cell, visible then hidden seeds
            cell, out = f"test_{name}_training", io.StringIO()
            try:
                with contextlib.redirect_stdout(out):
                    for hidden in (False, True):
                        getattr(checks.training, name)(namespace[name], hidden=hidden)
            except AssertionError as exc:
                failed[cell] = str(exc)
            if printed is not None:
                printed[cell] = out.getvalue()
    return failed


def _passes_quietly(assignment, edits=None):
    """Every check passes, prints one line saying so on stdout, and warns nothing (stderr zeroes a test cell)."""
    printed = {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert _failures(assignment, _functions(assignment, edits), printed) == {}
    assert [str(w.message) for w in caught] == []
    for cell, text in printed.items():
        if cell.endswith("_training"):
            name = cell.removeprefix("test_").removesuffix("_training")
            assert text.count("\n") == 2 and text.startswith(f"{name} in the training loop: "), (cell, text)
            continue
        name = cell.removeprefix("test_").removesuffix("_hidden")
        assert text.count("\n") == 1 and text.startswith(f"{name}: "), (cell, text)


@pytest.mark.parametrize("assignment", CASES)
def test_solution_passes(assignment):
    _passes_quietly(assignment)


@pytest.mark.parametrize("assignment, name", [(a, n) for a, m in CASES.items() for n in m.ALTERNATIVES])
def test_other_correct_implementations_pass(assignment, name):
    _passes_quietly(assignment, CASES[assignment].ALTERNATIVES[name])


def test_a_pass_names_its_cases(capsys):
    def batch_mean(x):
        return x.mean(axis=0)
    checks.batch_mean(batch_mean, hidden=True)
    out = capsys.readouterr()
    assert out.out == (
        "batch_mean: 10 cases passed (worked example, random (6, 4), float32 (7, 3), 6 x random shape, own code)\n")
    assert out.err == ""


@pytest.mark.parametrize("assignment, mistake", [(a, n) for a, m in CASES.items() for n in m.MISTAKES])
def test_each_mistake_is_named(assignment, mistake):
    edits, phrase, lost = CASES[assignment].MISTAKES[mistake]
    failed = _failures(assignment, _functions(assignment, edits))
    assert set(failed) == set(lost)
    assert phrase in failed[lost[0]], failed[lost[0]]
    for message in failed.values():  # short, and never the checker's source
        assert message.count("\n") <= 3 and "bn_helpers/checks" not in message, message
        assert not re.search(r"lambda \w*:|def \w+\(", message), message


def _points(assignment) -> dict[str, float]:
    nb = nbformat.read(ROOT / "solutions" / assignment / f"{assignment}.ipynb", as_version=4)
    return {c.metadata["nbgrader"]["grade_id"]: float(c.metadata["nbgrader"]["points"]) for c in nb.cells
            if c.metadata.get("nbgrader", {}).get("grade") and c.metadata["nbgrader"].get("grade_id", "").startswith("test_")}


def _release_code(assignment) -> dict[str, str]:
    nb = nbformat.read(ROOT / "notebooks" / assignment / f"{assignment}.ipynb", as_version=4)
    return {c.metadata["nbgrader"]["grade_id"]: c.source for c in nb.cells
            if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code"}


@pytest.mark.parametrize("assignment", CASES)
def test_sample_class_scores_as_expected_through_the_checks(assignment):
    """The demo's students, graded by the same checks as their test cells call (fast; test_grading runs nbgrader)."""
    points = _points(assignment)
    for path in sorted((demo.SAMPLES / assignment).glob("*.py")):
        edits, header = grading.read_sample(path)
        base = grading.solution_code(grading.REPO, assignment) if header.get("base") == "solution" else _release_code(assignment)
        code = {**base, **{k: v for k, v in edits.items()
                           if v is not None and not k.startswith("test_") and k in base}}  # not written answers
        namespace = dict(CASES[assignment].NAMESPACE)
        for source in code.values():
            exec(source, namespace)
        failed = _failures(assignment, namespace)
        score = sum(p for cell, p in points.items() if cell not in failed)
        assert score == float(header["expected"]), (path.stem, failed)


def test_not_implemented_is_explained():
    def batch_mean(x):
        raise NotImplementedError()
    with pytest.raises(AssertionError, match="batch_mean is not implemented yet"):
        checks.batch_mean(batch_mean)


def test_infinite_loop_is_cut_short(monkeypatch):
    monkeypatch.setattr(checks._common, "TIME_BUDGET", 0.5)
    def undo_params(x, eps=1e-5):
        while True:
            pass
    start = time.perf_counter()
    with pytest.raises(AssertionError, match="did not return within 0.5 s"):
        checks.undo_params(undo_params)
    assert time.perf_counter() - start < 3


def test_other_exceptions_carry_a_hint():
    def batchnorm_forward(x, gamma, beta, eps=1e-5):
        return np.concatenate([x, gamma]), None  # (N, D) and (D,): different numbers of dimensions
    with pytest.raises(AssertionError, match=r"(?s)raised ValueError.*axis=0"):
        checks.batchnorm_forward(batchnorm_forward)


def test_missing_cache_field_is_named():
    def batchnorm_forward(x, gamma, beta, eps=1e-5):
        x_hat = (x - x.mean(0)) / np.sqrt(x.var(0) + eps)
        return gamma * x_hat + beta, {"x_hat": x_hat}
    with pytest.raises(AssertionError, match="the cache has no field `mean`"):
        checks.batchnorm_forward(batchnorm_forward)


def test_a_mismatch_shows_its_largest_error_with_digits_that_differ():
    from bn_helpers.checks._messages import differs, worst
    got = np.array([[0.0856123, 1.0], [2.0, 3.0]])
    want = np.array([[0.0856191, 1.0], [2.0, 3.0]])
    text = worst(got, want)
    assert text.startswith("largest error 6.8e-06 at [0, 0]: expected 0.0856191, got 0.0856123")
    assert "relative error 7.9e-05" in text
    assert "NaN" in worst(np.array([np.nan, 1.0]), np.array([0.5, 1.0]))
    assert "transpose" in differs(got[:, :1].T, got[:, :1])


# --------------------------------------------------------------------------
# Nothing changed in place, in every part of every check (visible and hidden)
# --------------------------------------------------------------------------

def _mutate_first_array(value) -> bool:
    """Change the first entry of the first non-empty array in ``value`` (an array, or tuples, lists, dicts of them)."""
    if isinstance(value, np.ndarray):
        if value.size and value.flags.writeable and value.dtype.kind in "iuf":
            value.flat[0] += 1
            return True
        return False
    if isinstance(value, (list, tuple)):
        return any(_mutate_first_array(v) for v in value)
    if isinstance(value, dict):
        return any(_mutate_first_array(v) for v in value.values())
    return False


def _has_array(value) -> bool:
    if isinstance(value, np.ndarray):
        return bool(value.size) and value.dtype.kind in "iuf"
    if isinstance(value, (list, tuple)):
        return any(_has_array(v) for v in value)
    return isinstance(value, dict) and any(_has_array(v) for v in value.values())


def _late_mutator(fn, k: int, counter: list):
    """``fn``, but its k-th call (of those given an array) changes an argument in place after computing the answer."""
    def wrapped(*args, **kwargs):
        result = fn(*args, **kwargs)
        if any(_has_array(a) for a in args):
            counter[0] += 1
            if counter[0] == k:
                assert any(_mutate_first_array(a) for a in args)
        return result
    return wrapped


def _student(assignment, name, k, counter):
    """The solution's ``name``, changing an argument in place on its k-th call (a class: in its forward)."""
    fn = _functions(assignment)[name]
    if isinstance(fn, type):
        return type(name, (fn,), {"forward": lambda self, x: _late_mutator(fn.forward, k, counter)(self, x)})
    return _late_mutator(fn, k, counter)


@pytest.mark.parametrize("assignment, name", [(a, n) for a in CASES for n in _graded(a)])
def test_every_call_of_every_check_refuses_an_argument_changed_in_place(assignment, name):
    """Wherever in a check (visible or hidden, large inputs, own-code probe) the function changes its input, it fails."""
    for hidden in (False, True):
        calls = [0]
        with contextlib.redirect_stdout(io.StringIO()):
            getattr(checks, name)(_student(assignment, name, 0, calls), hidden=hidden)  # k = 0: counts, never mutates
        if calls[0] == 0:  # only numbers go in: nothing can change in place
            assert name == "keras_to_torch_momentum"
            continue
        for k in range(1, calls[0] + 1):
            with pytest.raises(AssertionError, match="in place"), contextlib.redirect_stdout(io.StringIO()):
                getattr(checks, name)(_student(assignment, name, k, [0]), hidden=hidden)


def test_in_place_changes_are_named_down_to_the_field():
    from bn_helpers.checks import _common
    from bn_helpers.numerics import batchnorm_forward

    x = np.arange(6.0).reshape(3, 2)
    _, cache = batchnorm_forward(x, np.ones(2), np.zeros(2))

    def touches_cache(dout, cache):
        cache.x_hat[0, 0] = 5.0
        return dout

    with pytest.raises(AssertionError, match=r"f changed cache\.x_hat in place"):
        _common.call(touches_cache, "f", x.copy(), cache, names=("dout", "cache"))

    def touches_list(activations):
        activations[1] *= 2
        return []

    with pytest.raises(AssertionError, match=r"g changed activations\[1\] in place"):
        _common.call(touches_list, "g", [x.copy(), x.copy()])

    def appends(activations):
        activations.append(x)
        return []

    with pytest.raises(AssertionError, match="changed its argument `activations` in place"):
        _common.call(appends, "g", [x.copy()])

    def nan_stays_nan(a):
        return a

    _common.call(nan_stays_nan, "h", np.array([np.nan, 1.0]))  # NaN equals NaN: unchanged


def test_a_cache_without_field_names_is_named_not_found_missing():
    from bn_helpers.checks._common import get_field

    with pytest.raises(TypeError, match=r"cache must be a BatchNormCache, or an object or dict with its named fields; "
                                        r"got tuple of 3 item\(s\)"):
        get_field((1, 2, 3), "x_hat")
    assert get_field({"x_hat": 1}, "x_hat") == 1 and get_field(object(), "x_hat") is None

    def batchnorm_forward(x, gamma, beta, eps=1e-5):
        mean, var = x.mean(0), x.var(0)
        x_hat = (x - mean) / np.sqrt(var + eps)
        return gamma * x_hat + beta, (x, x_hat, mean, var)

    with pytest.raises(AssertionError, match="a plain tuple has no field names"):
        checks.batchnorm_forward(batchnorm_forward)


def test_a_function_that_keeps_its_input_cannot_reach_the_checks_arrays_later():
    """It gets copies: changing a kept input during a later call changes nothing the check computes with."""
    kept = []

    def batch_variance(x):
        if kept:
            kept[0][...] = 0.0  # the previous call's input, changed after that call returned
        kept.append(x)
        return ((x - x.mean(axis=0)) ** 2).mean(axis=0)

    with contextlib.redirect_stdout(io.StringIO()):
        checks.batch_variance(batch_variance, hidden=True)
    assert len(kept) > 3


# --------------------------------------------------------------------------
# Every random hidden case is drawn through hidden_rng / random_cases, so that the judge can salt it
# --------------------------------------------------------------------------

#: Hidden inputs that are the same under every salt: fixed edge cases and the own-code probe, by name.
_UNSALTED = {"standardize": 2,            # all constant; the own-code probe
             "layer_stats": 3,            # a constant layer, no layers; the own-code probe
             "saturation_fraction": 3,    # values at the threshold, zeros at 0; the own-code probe
             "keras_to_torch_momentum": 2,  # np.float32(0.999), np.float64(0.97)
             "rmsnorm_forward": 2}        # a row of zeros, D = 1 (its own-code probe is a visible case)
_OWN_CODE_PROBE_ONLY = {"batchnorm_forward", "undo_params", "batchnorm_backward", "batchnorm_backward_compact",
                        "spatial_batchnorm_forward", "layernorm_forward", "instancenorm_forward",
                        "groupnorm_forward", "batch_renorm_forward"}


def _input_key(value) -> bytes:
    if isinstance(value, np.ndarray):
        return str(value.shape).encode() + np.ascontiguousarray(value).tobytes()
    if isinstance(value, (list, tuple)):
        return b"(" + b",".join(_input_key(v) for v in value) + b")"
    return repr(value).encode()


def _inputs_seen(assignment, name, hidden, salt) -> list[bytes]:
    from bn_helpers.checks import _common

    fn, seen = _functions(assignment)[name], []
    if isinstance(fn, type):
        student = type(name, (fn,), {"forward": lambda self, x: (seen.append(_input_key(x)), fn.forward(self, x))[1]})
    else:
        def student(*args, **kwargs):
            seen.append(_input_key(args))
            return fn(*args, **kwargs)
    with _common.salted(salt), contextlib.redirect_stdout(io.StringIO()):
        getattr(checks, name)(student, hidden=hidden)
    return seen


@pytest.mark.parametrize("assignment, name", [(a, n) for a in CASES for n in _graded(a)])
def test_every_random_hidden_case_is_salted(assignment, name):
    """Under two salts the hidden inputs differ, but for the visible ones and the fixed edge cases named above."""
    visible = set(_inputs_seen(assignment, name, False, None))
    one, other = _inputs_seen(assignment, name, True, 1), set(_inputs_seen(assignment, name, True, 2))
    same = [k for k in one if k in other and k not in visible]
    allowed = _UNSALTED.get(name, 1 if name in _OWN_CODE_PROBE_ONLY else 0)
    assert len(same) <= allowed, (len(same), allowed)
    assert len(one) - len(same) - sum(k in visible for k in one) >= 2  # and there are salted random cases


def test_the_own_code_probe_checks_its_result_on_a_fresh_input():
    """A function that answers only inputs it has seen (a table of recorded answers) fails the probe."""
    from bn_helpers.checks._common import own_code

    x = np.random.default_rng(3).normal(size=(6, 4))
    table = {x.tobytes(): x.mean(axis=0)}

    def recorded(a):
        return table.get(np.asarray(a).tobytes(), np.zeros(a.shape[1]))

    own_code(lambda a: a.mean(axis=0), "batch_mean", x, reference=lambda a: a.mean(axis=0))   # honest: passes
    with pytest.raises(AssertionError, match="fresh input"):
        own_code(recorded, "batch_mean", x, reference=lambda a: a.mean(axis=0))


@pytest.mark.parametrize("assignment", ["02_forward", "03_backward", "05_variants", "06_in_practice"])
def test_hidden_checks_probe_with_a_reference(assignment):
    """Every own-code probe of these assignments' checks compares the probe's result (not only its calls)."""
    import inspect
    import re

    from bn_helpers import checks

    module = {"02_forward": checks.forward, "03_backward": checks.backward, "05_variants": checks.variants,
              "06_in_practice": checks.in_practice}[assignment]
    calls = re.findall(r"\bown_code\(fn,[^\n]*(?:\n[^\n]*reference=)?", inspect.getsource(module))
    assert calls and all("reference=" in c for c in calls), calls


def test_large_mean_margins_pass_every_correct_float32_answer_and_no_one_pass_answer():
    """The float32 mean-1e4 batch is salted per student: its margins must hold for every draw, both ways."""
    from bn_helpers.checks import forward as fc
    from bn_helpers.checks._common import large_mean_batch, salted

    def two_pass(x):                                   # what a correct float32 student writes
        mean = x.mean(axis=0)
        return mean, ((x - mean) ** 2).mean(axis=0)

    def one_pass(x):                                   # the mistake the case is there to catch
        mean = x.mean(axis=0)
        return mean, (x * x).mean(axis=0) - mean * mean

    for salt in range(400):
        with salted(salt + 1):
            x = large_mean_batch()
        x64 = x.astype(np.float64)
        truth = x64.var(axis=0)
        expected = (x64 - x64.mean(axis=0)) / np.sqrt(truth + 1e-5)
        mean, var = two_pass(x)
        assert np.allclose(var, truth, rtol=fc.LARGE_MEAN_RTOL)
        assert np.allclose((x - mean) / np.sqrt(var + np.float32(1e-5)), expected, atol=fc.LARGE_MEAN_ATOL)
        mean, var = one_pass(x)
        assert not np.allclose(var, truth, rtol=fc.LARGE_MEAN_RTOL)
        out = (x - mean) / np.sqrt(np.maximum(var, 0) + np.float32(1e-5))
        assert not np.allclose(out, expected, atol=fc.LARGE_MEAN_ATOL)
