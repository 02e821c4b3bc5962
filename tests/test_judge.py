"""The judge (bn_helpers.judge): test cells graded from outside the student's reach.

Most tests call :func:`bn_helpers.judge.judge_notebook` on small notebooks (a
setup cell, the student's cells, the instructor's test cells) without nbgrader:
each one starts a real sandboxed runner. The wire format and the feedback
scrubber are tested on their own.
"""
import io
import json

import nbformat
import numpy as np
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from bn_helpers import checks
from bn_helpers.judge import ScrubFeedback, _wire as wire, judge_notebook
from bn_helpers.judge._remote import Runner, rebuild_exception
from bn_helpers.sandbox import Sandbox

SETUP = "import numpy as np\nfrom bn_helpers import checks\nfrom bn_helpers.numerics import BatchNormCache\n"
OPTIONS = {"cell_timeout": 20.0, "test_timeout": 60.0, "call_timeout": 3.0}


def _test(gid, source, points=2.0):
    cell = new_code_cell(source)
    cell.metadata["nbgrader"] = {"grade": True, "solution": False, "grade_id": gid, "points": points, "locked": True}
    return cell


def _solution(gid, source):
    cell = new_code_cell(source)
    cell.metadata["nbgrader"] = {"grade": False, "solution": True, "grade_id": gid, "locked": False}
    return cell


VISIBLE = "from bn_helpers import checks\nchecks.batch_mean(batch_mean)\n"
HIDDEN = ("from bn_helpers import checks\n### BEGIN HIDDEN TESTS\nchecks.batch_mean(batch_mean, hidden=True)\n"
          "### END HIDDEN TESTS\n")
VAR_VISIBLE = "from bn_helpers import checks\nchecks.batch_variance(batch_variance)\n"


def judge(tmp_path, cells, tests, **options):
    nb = new_notebook(cells=[new_code_cell(SETUP), *cells])
    folder = tmp_path / "submission"
    folder.mkdir(exist_ok=True)
    record = judge_notebook(nb, tests, folder, Sandbox(), options={**OPTIONS, **options})
    by_id = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in nb.cells}
    return record, by_id


def verdicts(record):
    return {c["grade_id"]: c["judge"] for c in record["cells"]}


def error_of(cell):
    errors = [o for o in cell.outputs if o.output_type == "error"]
    return f"{errors[0].ename}: {errors[0].evalue}" if errors else ""


def test_correct_passes_and_wrong_fails_with_the_checks_diagnosis(tmp_path):
    tests = {"test_mean": (VISIBLE, 2.0), "test_mean_hidden": (HIDDEN, 2.0), "test_var": (VAR_VISIBLE, 2.0)}
    cells = [_solution("batch_mean", "def batch_mean(x):\n    return x.mean(axis=0)\n"),
             _test("test_mean", VISIBLE), _test("test_mean_hidden", HIDDEN),
             _solution("batch_variance", "def batch_variance(x):\n    return x.var(axis=0, ddof=1)\n"),
             _test("test_var", VAR_VISIBLE)]
    record, by_id = judge(tmp_path, cells, tests)
    assert verdicts(record) == {"test_mean": "pass", "test_mean_hidden": "pass", "test_var": "fail"}
    assert "N-1" in error_of(by_id["test_var"]) and error_of(by_id["test_var"]).startswith("AssertionError")
    assert [o.output_type for o in by_id["test_mean"].outputs] == ["stream"]  # the check's own "passed" line
    tb = "\n".join(o for out in by_id["test_var"].outputs if out.output_type == "error" for o in out.traceback)
    assert "bn_helpers/checks" not in tb and "astype(np.float64)" not in tb
    assert record["sandboxed"] and record["cells"][0]["hidden"] is False and record["cells"][1]["hidden"] is True


def test_kernel_and_judge_disagreeing_is_recorded(tmp_path):
    tests = {"test_mean": (VISIBLE, 2.0)}
    test_cell = _test("test_mean", VISIBLE)
    test_cell.outputs = []  # the kernel "passed" it (e.g. a student's patched checks)
    cells = [_solution("batch_mean", "from bn_helpers import checks\nchecks.batch_mean = lambda *a, **k: None\n"
                       "def batch_mean(x):\n    return x.sum(axis=0)\n"), test_cell]
    record, by_id = judge(tmp_path, cells, tests)
    assert record["disagreements"] == ["test_mean"]
    assert record["cells"][0]["kernel"] == "pass" and record["cells"][0]["judge"] == "fail"
    assert "sum" in error_of(by_id["test_mean"])
    json.dumps(record)  # what goes into judge.json


def test_reference_code_is_computed_by_the_judge_and_seen_by_hidden_tests(tmp_path):
    tests = {"test_mean": (VISIBLE, 2.0), "test_mean_hidden": (HIDDEN, 2.0)}
    source = ("import sys, threading\nfrom bn_helpers import numerics\n"
              "def batch_mean(x):\n    sys.setprofile(None)\n    out = []\n"
              "    t = threading.Thread(target=lambda: out.append(numerics.batch_mean(x)))\n"
              "    t.start(); t.join()\n    return out[0]\n")
    cells = [_solution("batch_mean", source), _test("test_mean", VISIBLE), _test("test_mean_hidden", HIDDEN)]
    record, by_id = judge(tmp_path, cells, tests)
    assert verdicts(record) == {"test_mean": "pass", "test_mean_hidden": "fail"}
    assert "reference code" in error_of(by_id["test_mean_hidden"])
    assert "bn_helpers.numerics.batch_mean" in record["runner"]["reference_calls"]


@pytest.fixture
def runner(tmp_path):
    """A started judge runner in its sandbox, on an empty work folder; closed after the test."""
    (tmp_path / "work").mkdir()
    started = Runner(tmp_path / "work", Sandbox())
    started.start()
    yield started
    started.close()


def test_the_runner_has_no_reference_source_and_no_checks(runner):
    reply = runner.run_cell("import inspect, bn_helpers.numerics as n, bn_helpers.checks as c\n"
                            "import bn_helpers.norms, bn_helpers.stats, bn_helpers.nn, bn_helpers.diagnostics\n"
                            "from bn_helpers import data, plots, widgets, gradcheck\n"
                            "from bn_helpers.experiments import why_normalize as E\n"
                            "src = inspect.getsource(n)\noracle = repr(c.forward._stats)\n"
                            "import os\nenv = sorted(os.environ)\n", timeout=30)
    assert reply["cell_error"] is None
    src, oracle, env = runner.lookup("src"), runner.lookup("oracle"), runner.lookup("env")
    assert ".forward(" in src and "mean(axis" not in src and "def batch_mean" not in src
    assert "not available while your code is graded" in oracle
    assert not any("DB_URL" in k or "TOKEN" in k for k in env)


def test_a_table_of_memorised_hidden_answers_fails_the_salted_hidden_cases(tmp_path):
    import hashlib

    table = {}

    def key(x):
        return hashlib.sha256(np.ascontiguousarray(x).tobytes() + str((x.shape, x.dtype)).encode()).hexdigest()

    def spy(x):  # what a student can run at home: the public hidden check
        out = x.astype(np.float64).mean(axis=0).astype(x.dtype)
        table[key(x)] = out.tolist()
        return out

    checks.batch_mean(spy, hidden=True)
    source = ("import hashlib\nTABLE = " + repr(table) + "\n"
              "def batch_mean(x):\n"
              "    k = hashlib.sha256(np.ascontiguousarray(x).tobytes() + str((x.shape, x.dtype)).encode()).hexdigest()\n"
              "    return np.array(TABLE[k], dtype=x.dtype) if k in TABLE else np.zeros(x.shape[1], x.dtype)\n")
    tests = {"test_mean": (VISIBLE, 2.0), "test_mean_hidden": (HIDDEN, 2.0)}
    cells = [_solution("batch_mean", source), _test("test_mean", VISIBLE), _test("test_mean_hidden", HIDDEN)]
    record, _ = judge(tmp_path, cells, tests)  # fixed seeds: the table works
    assert verdicts(record) == {"test_mean": "pass", "test_mean_hidden": "pass"}
    cells = [_solution("batch_mean", source), _test("test_mean", VISIBLE), _test("test_mean_hidden", HIDDEN)]
    record, _ = judge(tmp_path, cells, tests, salt=20260315)
    assert verdicts(record) == {"test_mean": "pass", "test_mean_hidden": "fail"} and record["salted_hidden"]
    right = [_solution("batch_mean", "def batch_mean(x):\n    return x.mean(axis=0)\n"),
             _test("test_mean_hidden", HIDDEN)]
    record, _ = judge(tmp_path, right, {"test_mean_hidden": tests["test_mean_hidden"]}, salt=20260315)
    assert verdicts(record) == {"test_mean_hidden": "pass"}


def test_the_course_salt_is_kept_and_private(tmp_path):
    from bn_helpers.judge import course_salt

    first = course_salt(tmp_path)
    assert course_salt(tmp_path) == first and first.bit_length() > 64
    assert (tmp_path / "judge-salt").stat().st_mode & 0o077 == 0


def test_in_place_changes_reach_the_checks(tmp_path):
    tests = {"test_mean": (VISIBLE, 2.0)}
    source = "def batch_mean(x):\n    x -= 0\n    x[0] = 0\n    return x.mean(axis=0)\n"
    record, by_id = judge(tmp_path, [_solution("batch_mean", source), _test("test_mean", VISIBLE)], tests)
    assert verdicts(record) == {"test_mean": "fail"}
    assert "in place" in error_of(by_id["test_mean"])


def test_a_hung_function_or_cell_costs_only_itself(tmp_path):
    tests = {"test_mean": (VISIBLE, 2.0), "test_var": (VAR_VISIBLE, 2.0)}
    cells = [_solution("batch_mean", "def batch_mean(x):\n    while True:\n        try:\n            pass\n"
                                     "        except BaseException:\n            pass\n"),
             _test("test_mean", VISIBLE),
             new_code_cell("import time\nhelper = 1\ntime.sleep(1000)"),  # interrupted: helper stays defined
             new_code_cell("import time\nwhile True:\n    try:\n        time.sleep(1)\n"
                           "    except BaseException:\n        pass"),  # ignores the interrupt: skipped
             _solution("batch_variance", "def batch_variance(x):\n    return x.var(axis=0) * helper\n"),
             _test("test_var", VAR_VISIBLE)]
    record, by_id = judge(tmp_path, cells, tests, cell_timeout=2.0)
    assert verdicts(record) == {"test_mean": "fail", "test_var": "pass"}, error_of(by_id["test_var"])
    assert "did not return within" in error_of(by_id["test_mean"])
    assert record["runner"]["skipped_cells"] == [4] and record["runner"]["restarts"] >= 1
    assert "KeyboardInterrupt" in record["runner"]["cell_errors"]["3"]


SOLUTION_BN = '''
class BatchNorm1d:
    def __init__(self, num_features, eps=1e-5, momentum=0.1):
        self.eps, self.momentum = eps, momentum
        self.gamma, self.beta = np.ones(num_features), np.zeros(num_features)
        self.running_mean, self.running_var = np.zeros(num_features), np.ones(num_features)
        self.num_batches_tracked, self.training = 0, True
    def train(self):
        self.training = True
        return self
    def eval(self):
        self.training = False
        return self
    def forward(self, x):
        if self.training:
            if x.shape[0] < 2:
                raise ValueError("Expected more than 1 value per channel when training")
            mean, var = x.mean(axis=0), x.var(axis=0)
            n = x.shape[0]
            self.num_batches_tracked += 1
            m = 1 / self.num_batches_tracked if self.momentum is None else self.momentum
            self.running_mean = (1 - m) * self.running_mean + m * mean
            self.running_var = (1 - m) * self.running_var + m * var * n / (n - 1)
        else:
            mean, var = self.running_mean, self.running_var
        return self.gamma * (x - mean) / np.sqrt(var + self.eps) + self.beta
'''


def test_a_stateful_class_is_driven_through_proxies(tmp_path):
    visible = "from bn_helpers import checks\nchecks.BatchNorm1d(BatchNorm1d)\n"
    hidden = "from bn_helpers import checks\n### BEGIN HIDDEN TESTS\nchecks.BatchNorm1d(BatchNorm1d, hidden=True)\n### END HIDDEN TESTS\n"
    tests = {"test_bn": (visible, 5.0), "test_bn_hidden": (hidden, 9.0)}
    cells = [_solution("BatchNorm1d", SOLUTION_BN), _test("test_bn", visible), _test("test_bn_hidden", hidden)]
    record, by_id = judge(tmp_path, cells, tests)
    assert verdicts(record) == {"test_bn": "pass", "test_bn_hidden": "pass"}, [error_of(c) for c in by_id.values()]
    wrong = SOLUTION_BN.replace("var * n / (n - 1)", "var")
    record, by_id = judge(tmp_path, [_solution("BatchNorm1d", wrong), _test("test_bn", visible)], {"test_bn": tests["test_bn"]})
    assert verdicts(record) == {"test_bn": "fail"} and "biased" in error_of(by_id["test_bn"])


def test_kernel_cheats_do_not_reach_the_judge(tmp_path):
    tests = {"test_mean": (VISIBLE, 2.0), "test_mean_hidden": (HIDDEN, 2.0)}
    source = ("import numpy, builtins, bn_helpers.checks as c\n"
              "numpy.allclose = lambda *a, **k: True\nc.batch_mean = lambda *a, **k: None\n"
              "get_ipython().input_transformers_cleanup.append(lambda lines: ['pass\\n'])\n"
              "def batch_mean(x):\n    return np.zeros(x.shape[1])\n")
    record, _ = judge(tmp_path, [_solution("batch_mean", source), _test("test_mean", VISIBLE),
                                 _test("test_mean_hidden", HIDDEN)], tests)
    assert verdicts(record) == {"test_mean": "fail", "test_mean_hidden": "fail"}


def test_exceptions_keep_their_type_and_never_stop_the_judge():
    exc = rebuild_exception({"type": "ValueError", "bases": ["ValueError", "Exception"], "args": ["bad"], "str": "bad"})
    assert type(exc) is ValueError and str(exc) == "bad"
    exc = rebuild_exception({"type": "AxisError", "bases": ["ValueError", "IndexError", "Exception"],
                             "args": ["axis 3"], "str": "axis 3"})
    assert isinstance(exc, ValueError) and isinstance(exc, IndexError) and type(exc).__name__ == "AxisError"
    for name in ("SystemExit", "KeyboardInterrupt", "GeneratorExit"):
        exc = rebuild_exception({"type": name, "bases": [name, "BaseException"], "args": [], "str": ""})
        assert isinstance(exc, Exception) and type(exc).__name__ == name
    assert isinstance(rebuild_exception({"type": "x; import os", "str": "s"}), Exception)


def _frame(header, blobs=()):
    """Send one frame through a pipe and read it back with the judge's reader (1 MiB limit)."""
    import os
    import threading

    fd_r, fd_w = os.pipe()

    def send():
        try:
            wire.write_all(fd_w, wire.pack(header, list(blobs)))
        except wire.Closed:
            pass
        finally:
            os.close(fd_w)

    writer = threading.Thread(target=send)
    writer.start()
    try:
        return wire.Reader(fd_r, max_bytes=1 << 20).read(None)
    finally:
        os.close(fd_r)
        writer.join()


def test_wire_never_unpickles_and_bounds_what_it_reads():
    buf = io.BytesIO()
    np.save(buf, np.array([object(), 1], dtype=object), allow_pickle=True)
    header, blobs = _frame({"value": {"$": "nd", "i": 0}}, [buf.getvalue()])
    with pytest.raises(wire.WireError):
        wire.Decoder(blobs).decode(header["value"])
    deep = {"$": "l", "v": []}
    for _ in range(100):
        deep = {"$": "l", "v": [deep]}
    with pytest.raises(wire.WireError):
        wire.Decoder([]).decode(deep)
    with pytest.raises(wire.WireError):
        wire.Decoder([]).decode({"$": "pickle", "v": "x"})
    with pytest.raises(wire.WireError):
        _frame({"big": True}, [b"x" * (2 << 20)])
    enc = wire.Encoder()
    a = np.arange(6.0).reshape(2, 3)
    value = {"t": (a, a, np.float32(1.5), 2, "s", None, float("nan")), "l": [True, slice(1, None)]}
    header, blobs = _frame({"v": enc.encode(value)}, enc.blobs)
    out = wire.Decoder(blobs).decode(header["v"])
    assert out["t"][0] is out["t"][1] and np.array_equal(out["t"][0], a)  # aliasing kept
    assert type(out["t"][2]) is np.float32 and np.isnan(out["t"][6]) and out["l"] == [True, slice(1, None)]


def test_feedback_scrubber_removes_hidden_tests_checker_source_and_paths(tmp_path):
    import os

    hidden_src = ("from bn_helpers import checks\n### BEGIN HIDDEN TESTS\nchecks.batch_mean(batch_mean, hidden=True)\n"
                  "### END HIDDEN TESTS\n")
    cell = _test("test_mean_hidden", hidden_src)
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=(
        "history: checks.batch_mean(batch_mean, hidden=True)\n"
        "    _check_statistic(fn, name, lambda x: x.astype(np.float64).mean(axis=0), hints, hidden, passed)\n"
        f"file {os.getcwd()}/gradebook.db\nall good\n"))]
    nb = new_notebook(cells=[cell])
    from bn_helpers.judge import checker_lines

    line = next(iter(sorted(checker_lines())))
    nb.cells[0].outputs[0].text += f"---> 12 {line}\n"
    nb, _ = ScrubFeedback().preprocess(nb, {})
    text, src = nb.cells[0].outputs[0].text, nb.cells[0].source
    assert "hidden=True" not in text and "HIDDEN" not in src and "hidden=True" not in src
    assert line not in text and os.getcwd() not in text and "all good" in text


def test_a_failing_check_shows_its_message_not_its_source():
    def batch_mean(x):
        return x.sum(axis=0)

    with pytest.raises(AssertionError) as info:
        checks.batch_mean(batch_mean)
    exc = info.value
    assert type(exc).__name__ == "AssertionError" and "sum" in str(exc)
    rendered = "\n".join(exc._render_traceback_())
    assert "astype(np.float64)" not in rendered and "bn_helpers/checks" not in rendered and "sum" in rendered

    def crashes(x):
        return x.mean(axis=3)

    with pytest.raises(AssertionError) as info:
        checks.batch_mean(crashes)
    cause = info.value.__cause__
    import traceback

    frames = traceback.extract_tb(cause.__traceback__)
    assert frames and not any("bn_helpers/checks" in f.filename for f in frames)
    assert any(f.name == "crashes" for f in frames)


# --- Results are data, reference use over the whole hidden cell, salt per student, bounded reference calls ---

BN_VISIBLE = "from bn_helpers import checks\nchecks.batchnorm_forward(batchnorm_forward)\n"


def test_a_result_that_is_not_data_fails_naming_its_type(tmp_path):
    lazy = ("class Lazy:\n    def __init__(self, x):\n        self.x = x\n"
            "    def __array__(self, dtype=None, copy=None):\n        return self.x.mean(axis=0)\n"
            "    def __float__(self):\n        return float(self.x.mean())\n"
            "def batch_mean(x):\n    return Lazy(x)\n")
    record, by_id = judge(tmp_path, [_solution("batch_mean", lazy), _test("test_mean", VISIBLE),
                                     _test("test_mean_hidden", HIDDEN)],
                          {"test_mean": (VISIBLE, 2.0), "test_mean_hidden": (HIDDEN, 2.0)})
    assert verdicts(record) == {"test_mean": "fail", "test_mean_hidden": "fail"}
    assert "returned a Lazy, which is not data" in error_of(by_id["test_mean"])
    assert "Lazy" not in error_of(by_id["test_mean_hidden"]) and "not data" in error_of(by_id["test_mean_hidden"])
    cache = ("class Cache:\n    def __init__(self, **f):\n        self.f = f\n"
             "    def __getattr__(self, name):\n        return self.f[name]\n"
             "def batchnorm_forward(x, gamma, beta, eps=1e-5):\n"
             "    mean, var = x.mean(axis=0), x.var(axis=0)\n    x_hat = (x - mean) / np.sqrt(var + eps)\n"
             "    return gamma * x_hat + beta, Cache(x=x, x_hat=x_hat, mean=mean, var=var, gamma=gamma, beta=beta, eps=eps)\n")
    record, by_id = judge(tmp_path, [_solution("batchnorm_forward", cache), _test("test_bn", BN_VISIBLE)],
                          {"test_bn": (BN_VISIBLE, 3.0)})
    assert verdicts(record) == {"test_bn": "fail"} and "returned a Cache, which is not data" in error_of(by_id["test_bn"])
    # a record of fields (a dataclass or SimpleNamespace cache) is data: its fields travel
    record, by_id = judge(tmp_path, [_solution("batchnorm_forward", cache.replace(
        "class Cache:\n    def __init__(self, **f):\n        self.f = f\n    def __getattr__(self, name):\n"
        "        return self.f[name]\n", "from types import SimpleNamespace as Cache\n")), _test("test_bn", BN_VISIBLE)],
        {"test_bn": (BN_VISIBLE, 3.0)})
    assert verdicts(record) == {"test_bn": "pass"}, error_of(by_id["test_bn"])


def test_reference_calls_count_over_the_whole_hidden_cell_for_every_forwarded_module(tmp_path):
    tests = {"test_mean_hidden": (HIDDEN, 2.0)}
    cheats = {
        # the own-code probe is a small batch: reference everywhere else
        "by_size": "from bn_helpers import numerics\ndef batch_mean(x):\n"
                   "    return x.mean(axis=0) if x.shape[0] <= 5 else numerics.batch_mean(x)\n",
        # remembers the reference's answers by the input's bytes, from the calls before the probe
        "by_bytes": "from bn_helpers import numerics\nseen = {}\ndef batch_mean(x):\n"
                    "    k = x.tobytes()\n    if k not in seen:\n        seen[k] = numerics.batch_mean(x)\n"
                    "    return seen[k]\n",
        # diagnostics.layer_stats gives per-column means too
        "diagnostics": "from bn_helpers import diagnostics\ndef batch_mean(x):\n"
                       "    return np.array([m for m, s in diagnostics.layer_stats(list(x.T))], dtype=x.dtype)\n",
    }
    for label, source in cheats.items():
        record, by_id = judge(tmp_path, [_solution("batch_mean", source), _test("test_mean_hidden", HIDDEN)], tests)
        assert verdicts(record) == {"test_mean_hidden": "fail"}, label
        assert "reference code" in error_of(by_id["test_mean_hidden"]), (label, error_of(by_id["test_mean_hidden"]))


def test_the_own_code_probe_draws_a_fresh_input_and_checks_its_result():
    from bn_helpers.checks import _common
    from bn_helpers import numerics

    x = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    fresh = _common.fresh_args("batch_mean", (x, 1e-5))
    assert fresh[0].dtype == x.dtype and fresh[0].shape == x.shape and not np.array_equal(fresh[0], x)
    assert np.array_equal(np.sign(fresh[0]), np.sign(x)) and fresh[1] == 1e-5
    with _common.salted(12345):
        assert not np.array_equal(_common.fresh_args("batch_mean", (x,))[0], fresh[0])
    answer = numerics.batch_mean(x)  # an answer remembered for the public probe input
    _common.own_code(lambda a: a.mean(axis=0), "batch_mean", x, reference=numerics.batch_mean)
    with pytest.raises(AssertionError, match="fresh input"):
        _common.own_code(lambda a: answer, "batch_mean", x, reference=numerics.batch_mean)


def test_gradcheck_is_forwarded_with_callbacks_and_forbidden_in_hidden_cells(runner):
    reply = runner.run_cell("import numpy as np\nfrom bn_helpers.gradcheck import numerical_gradient, rel_error\n"
                            "x = np.arange(6.0).reshape(2, 3)\n"
                            "g = numerical_gradient(lambda a: a ** 2, x, np.ones((2, 3)))\n"
                            "err = rel_error(g, 2 * x)\n", timeout=30)
    assert reply["cell_error"] is None
    assert runner.lookup("err") < 1e-6
    assert "bn_helpers.gradcheck.numerical_gradient" in runner.reference_calls


def test_one_students_feedback_says_nothing_about_anothers_hidden_cases(tmp_path):
    from bn_helpers.checks import _common
    from bn_helpers.judge import student_salt

    secret = 0x1234_5678_9ABC_DEF0_1234_5678_9ABC_DEF0
    a, b = student_salt(secret, "ada"), student_salt(secret, "bob")
    assert a != b and a == student_salt(secret, "ada") and a != student_salt(secret + 1, "ada")
    draws = {}
    for who, salt in (("ada", a), ("bob", b)):
        with _common.salted(salt):
            draws[who] = [x.tobytes() for x in _common.random_cases(31)]
    assert not set(draws["ada"]) & set(draws["bob"])


def test_hidden_verdicts_show_the_diagnosis_not_the_students_exception_text(tmp_path):
    leaky = ("class Leak(ValueError):\n    pass\n"
             "def batch_mean(x):\n    raise Leak('inputs: ' + repr(x.tolist()))\n")
    tests = {"test_mean": (VISIBLE, 2.0), "test_mean_hidden": (HIDDEN, 2.0)}
    record, by_id = judge(tmp_path, [_solution("batch_mean", leaky), _test("test_mean", VISIBLE),
                                     _test("test_mean_hidden", HIDDEN)], tests, salt=99)
    assert verdicts(record) == {"test_mean": "fail", "test_mean_hidden": "fail"}
    assert "inputs: [[" in error_of(by_id["test_mean"])  # visible cases are public: the student's own text stays
    hidden = json.dumps(by_id["test_mean_hidden"].outputs)
    assert "inputs:" not in hidden and "Leak" not in hidden and "ValueError" in hidden
    assert "inputs:" not in record["cells"][1]["judge_message"]


def test_reference_calls_are_bounded_in_size_time_and_memory(runner, monkeypatch):
    import resource

    from bn_helpers.judge import _remote

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    cell = ("import numpy as np\nfrom bn_helpers import numerics, nn\nmessages = []\n"
            "def attempt(call):\n    try:\n        call()\n        messages.append('no error')\n"
            "    except Exception as exc:\n        messages.append(f'{type(exc).__name__}: {exc}')\n"
            "attempt(lambda: numerics.batch_mean(np.zeros((9000, 1000))))\n"  # 72 MB of arguments
            "attempt(lambda: nn.mlp([8, 14000, 14000]))\n")  # 1.5 GB of weights from a small argument
    assert runner.run_cell(cell, timeout=60)["cell_error"] is None
    monkeypatch.setattr(_remote, "REFERENCE_SECONDS", 1e-4)
    slow = "attempt(lambda: numerics.batchnorm_forward(np.ones((2000, 500)), np.ones(500), np.zeros(500)))\n"
    assert runner.run_cell(slow, timeout=60)["cell_error"] is None
    size, memory, slow = runner.lookup("messages")
    assert size.startswith("MemoryError") and "over the grader's limit" in size
    assert memory.startswith("MemoryError") and "grader's limit" in memory, memory
    assert slow.startswith("TimeoutError") and "grader's limit" in slow, slow
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak) / 1024
    assert grown_mb < 300, f"the grader grew by {grown_mb:.0f} MB"


def test_a_table_from_another_students_hidden_cases_fails(tmp_path):
    """As if ada's feedback had shown all her hidden inputs and answers: bob's table of them misses his cases."""
    import hashlib

    from bn_helpers.checks import _common
    from bn_helpers.judge import student_salt

    secret = 0xC0FFEE_1234_5678_9ABC_DEF0_0BAD_F00D
    table = {}

    def key(x):
        return hashlib.sha256(np.ascontiguousarray(x).tobytes() + str((x.shape, x.dtype)).encode()).hexdigest()

    def spy(x):
        out = x.astype(np.float64).mean(axis=0).astype(x.dtype)
        table[key(x)] = out.tolist()
        return out

    checks.batch_mean(spy)
    with _common.salted(student_salt(secret, "ada")):
        checks.batch_mean(spy, hidden=True)
    source = ("import hashlib\nTABLE = " + repr(table) + "\n"
              "def batch_mean(x):\n"
              "    k = hashlib.sha256(np.ascontiguousarray(x).tobytes() + str((x.shape, x.dtype)).encode()).hexdigest()\n"
              "    return np.array(TABLE[k], dtype=x.dtype) if k in TABLE else np.zeros(x.shape[1], x.dtype)\n")
    tests = {"test_mean": (VISIBLE, 2.0), "test_mean_hidden": (HIDDEN, 2.0)}
    for student, hidden_verdict in (("ada", "pass"), ("bob", "fail")):
        cells = [_solution("batch_mean", source), _test("test_mean", VISIBLE), _test("test_mean_hidden", HIDDEN)]
        record, _ = judge(tmp_path, cells, tests, salt=student_salt(secret, student))
        assert verdicts(record) == {"test_mean": "pass", "test_mean_hidden": hidden_verdict}, student


def test_a_hidden_verdict_keeps_the_runners_own_words_for_a_reference_class(tmp_path):
    hidden = ("from bn_helpers import checks\n### BEGIN HIDDEN TESTS\nchecks.BatchNorm1d(BatchNorm1d, hidden=True)\n"
              "### END HIDDEN TESTS\n")
    record, by_id = judge(tmp_path, [_solution("BatchNorm1d", "from bn_helpers.nn import BatchNorm1d\n"),
                                     _test("test_bn_hidden", hidden)], {"test_bn_hidden": (hidden, 9.0)})
    assert verdicts(record) == {"test_bn_hidden": "fail"} and "reference code" in error_of(by_id["test_bn_hidden"])
    forged = rebuild_exception({"type": "RuntimeError", "bases": ["RuntimeError"], "str": "x = [1.5, 2.5]"}, hidden=True)
    assert type(forged) is RuntimeError and "1.5" not in str(forged)
