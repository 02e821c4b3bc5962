"""The instructor's tool, ``python -m bn_helpers.grading``: its parts (fast) and the README's day (slow).

Fast tests check the pieces on small inputs: the late policy, content hashes,
the prechecks, the table and the export, the judge's report, the duplicate-cell
and replay helpers, the database URL. The slow test copies the working tree
as a fresh clone would have it, and runs every command of the README's
"For instructors" section there, on a class of faulty submissions: logging and
stderr, a pasted test cell, a retry loop that swallows every timer, a cell
that swallows interrupts, a cell that kills the kernel, a file that is not a notebook, a
notebook under the wrong name, late work with and without a penalty, a student
who handed in nothing, a resubmission; then it checks that the table, the
export and the exit codes tell the truth for every student and that no
committed file was lost.
"""
from __future__ import annotations

import copy
import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from bn_helpers import grading
from bn_helpers.grading import late, preprocessors, results, runner
import cases_02_forward
from conftest import ROOT

A = "02_forward"
PY = sys.executable


# --------------------------------------------------------------------------- fast: the pieces

def test_late_policy_counts_started_days_after_grace():
    policy = late.LatePenalty(per_day=0.1, grace_minutes=15)
    assert policy.days_late(0) == 0 and policy.days_late(14 * 60) == 0
    assert policy.days_late(16 * 60) == 1 and policy.days_late(86400 + 15 * 60) == 1
    assert policy.days_late(86400 + 16 * 60) == 2
    assert policy.penalty(20, 3600) == pytest.approx(2.0)
    assert policy.penalty(20, 3 * 86400) == pytest.approx(6.0)  # 3 days minus the grace: 3 started days
    assert policy.penalty(20, 3 * 86400 + 16 * 60) == pytest.approx(8.0)
    assert policy.penalty(20, 30 * 86400) == 20  # never more than the score
    assert policy.penalty(0, 3 * 86400) == 0


def test_zero_penalty_keeps_the_score_and_zero_after_days_takes_it_all():
    assert late.LatePenalty().penalty(20, 86400) == 0  # the default policy: lateness shown, no penalty
    strict = late.LatePenalty(per_day=0.05, zero_after_days=7)
    assert strict.penalty(18, 6.5 * 86400) == pytest.approx(18 * 0.35)
    assert strict.penalty(18, 7.5 * 86400) == 18
    assert late.LatePenalty().late_submission_penalty("s", 20.0, 86400.0) == 0.0


def test_due_dates_parse_like_nbgrader_timestamps():
    utc = late.parse_time("2025-03-14 23:59:00 UTC")
    assert late.parse_time("2025-03-15 00:59:00 Europe/Berlin") == utc
    assert late.parse_time("2025-03-15T00:59:00+01:00") == utc
    assert late.parse_time("2025-03-14 23:59:00") == utc  # no zone: UTC
    assert late.parse_time("") is None and late.parse_time(None) is None
    with pytest.raises(ValueError, match="not a date"):
        late.parse_time("next friday-ish")
    with pytest.raises(ValueError, match="02_forward"):
        late.LatePenalty(due_dates={A: "soon"}).due_date(A)
    assert late.describe_lateness(0) == "" and late.describe_lateness(90000) == "1 d 1 h"
    assert late.describe_lateness(3900) == "1 h 5 min" and late.describe_lateness(42) == "42 s"


def test_folder_hash_is_about_content(tmp_path):
    (tmp_path / "a.ipynb").write_text("{}")
    first = grading.folder_hash(tmp_path)
    os.utime(tmp_path / "a.ipynb", (1, 1))
    (tmp_path / ".ipynb_checkpoints").mkdir()
    (tmp_path / ".ipynb_checkpoints" / "a-checkpoint.ipynb").write_text("old")
    assert grading.folder_hash(tmp_path) == first  # a new date or an editor's checkpoint is not a resubmission
    (tmp_path / "a.ipynb").write_text("{ }")
    assert grading.folder_hash(tmp_path) != first
    (tmp_path / "a.ipynb").write_text("{}")
    (tmp_path / "timestamp.txt").write_text("2025-03-15 10:00:00 UTC")
    assert grading.folder_hash(tmp_path) != first  # a new time may change the late penalty
    assert grading.folder_hash(tmp_path / "nothing") is None


@pytest.fixture
def course(tmp_path):
    """A course folder (config, source, release) without a gradebook: enough for the fast tests."""
    shutil.copy2(ROOT / "nbgrader_config.py", tmp_path / "nbgrader_config.py")
    shutil.copytree(ROOT / "solutions" / A, tmp_path / "solutions" / A)
    shutil.copytree(ROOT / "notebooks" / A, tmp_path / "notebooks" / A)
    return tmp_path


def test_course_reads_nbgrader_config_and_creates_the_grading_folder(course):
    assert not (course / ".grading").exists()
    c = grading.Course(course)
    assert (course / ".grading").is_dir()
    assert c.db_url == f"sqlite:///{course / '.grading' / 'gradebook.db'}"
    assert c.submitted("s", A) == course / ".grading" / "submitted" / "s" / A
    assert c.release(A) == course / "notebooks" / A and c.notebook_names(A) == [A]
    assert c.late_policy().per_day == 0.0


def test_config_reads_postgresql_as_psycopg2_only_when_psycopg_3_is_missing(monkeypatch):
    import importlib.util

    from traitlets.config.loader import PyFileConfigLoader

    url = "postgresql://grader:secret@localhost:5432/batchnorm"
    monkeypatch.setenv("NBGRADER_DB_URL", url)
    real = importlib.util.find_spec
    for installed, expected in [({"psycopg", "psycopg2"}, url), ({"psycopg2"}, url.replace("postgresql", "postgresql+psycopg2", 1)),
                                (set(), url)]:
        monkeypatch.setattr(importlib.util, "find_spec",
                            lambda name, *a, _i=installed: (real("json") if name in _i else None)
                            if name in ("psycopg", "psycopg2") else real(name, *a))
        config = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config()
        assert config.CourseDirectory.db_url == expected, installed


def test_missing_driver_is_named_with_its_install_command():
    from bn_helpers.grading.db import check_driver

    with pytest.raises(grading.GradingError, match=r"pymysql.*not installed"):
        check_driver("mysql+pymysql://u:p@localhost/db")
    with pytest.raises(grading.GradingError, match="not an SQLAlchemy URL"):
        check_driver("nonsense")
    check_driver("sqlite:///x.db")


def _submit(course, student, nb=None, text=None, timestamp=None, name=f"{A}.ipynb"):
    folder = course / ".grading" / "submitted" / student / A
    folder.mkdir(parents=True, exist_ok=True)
    if nb is not None:
        nbformat.write(nb, folder / name)
    if text is not None:
        (folder / name).write_text(text)
    if timestamp is not None:
        (folder / "timestamp.txt").write_text(timestamp)
    return folder


def _release():
    return nbformat.read(ROOT / "notebooks" / A / f"{A}.ipynb", as_version=4)


def _index(nb, gid):
    return next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == gid)


def test_precheck_names_what_nbgrader_would_choke_on(course):
    c = grading.Course(course)
    _submit(course, "not_json", text="this is not a notebook")
    _submit(course, "renamed", nb=_release(), name=f"{A} (1).ipynb")
    _submit(course, "bad_time", nb=_release(), timestamp="whenever")
    _submit(course, "fine", nb=_release(), timestamp="2025-03-15 10:00:00 UTC")
    assert "not a readable notebook" in grading.precheck(c, A, "not_json")[0]
    reason = grading.precheck(c, A, "renamed")[0]
    assert f"no {A}.ipynb" in reason and f"{A} (1).ipynb" in reason
    assert "timestamp.txt" in grading.precheck(c, A, "bad_time")[0]
    assert grading.precheck(c, A, "fine") == (None, [])


def test_precheck_notes_pasted_edited_and_deleted_test_cells(course):
    c = grading.Course(course)
    nb = _release()
    i = _index(nb, "test_batch_mean")
    pasted = copy.deepcopy(nb.cells[i])
    pasted.id = "pasted-copy"
    nb.cells.insert(i + 1, pasted)
    nb.cells[_index(nb, "test_undo_params")].source = "assert True"
    del nb.cells[_index(nb, "test_batch_variance")]
    _submit(course, "messy", nb=nb)
    problem, notes = grading.precheck(c, A, "messy")
    assert problem is None
    text = "\n".join(notes)
    assert "test_batch_mean appears 2 times" in text
    assert "deleted, restored from the source: test_batch_variance" in text
    assert "edited, graded with the original tests: test_undo_params" in text


def test_deduplicate_cells_keeps_the_last_copy_and_leaves_no_half_metadata():
    nb = _release()
    i = _index(nb, "test_batch_mean")
    nb.cells.insert(i + 1, copy.deepcopy(nb.cells[i]))
    nb.cells[i + 1].id = "pasted-copy"
    nb.cells[0].metadata["nbgrader"] = {"grade": True, "points": 1}  # grade metadata without a grade_id
    out, _ = preprocessors.DeduplicateCells().preprocess(nb, {})
    ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in out.cells]
    assert ids.count("test_batch_mean") == 1 and ids.index("test_batch_mean") == i + 1
    assert "nbgrader" not in out.cells[i].metadata and "nbgrader" not in out.cells[0].metadata
    assert all(c.metadata.get("nbgrader", {"grade_id": 1}).get("grade_id") for c in out.cells)


def test_a_hung_cell_is_replayed_as_its_definitions_only():
    src = "import numpy as np\ndef f(x):\n    return x\n\nwhile True:\n    try:\n        pass\n    except:\n        pass\n"
    assert preprocessors.definitions_only(src) == "import numpy as np\ndef f(x):\n    return x\n"
    assert preprocessors.definitions_only("%matplotlib inline\nx = 1") == ""
    assert preprocessors.definitions_only("x = f()\n") == ""


def test_reason_from_log_picks_the_exception_not_the_boilerplate():
    log = """[AutogradeApp | ERROR] There was an error processing assignment: /c/.grading/submitted/s/02_forward
[AutogradeApp | ERROR] Traceback (most recent call last):
      File "x.py", line 1, in f
    KeyError: 'grade_id'
[AutogradeApp | ERROR] There was an error processing assignment '02_forward' for student 's'
[AutogradeApp | ERROR] Please see the the above traceback for details on the specific errors on the above failures.
"""
    assert runner.reason_from_log(log) == "KeyError: 'grade_id'"
    assert runner.reason_from_log("[AutogradeApp | ERROR] No notebooks found, did you forget") == \
        "No notebooks found, did you forget"
    assert "without saying why" in runner.reason_from_log("")


def test_judge_report_read_tolerantly(tmp_path):
    assert results.read_judge(tmp_path / "judge.json") is None
    cells = [{"grade_id": "test_batch_mean", "kernel": "pass", "judge": "fail", "judge_message": "AssertionError: N-1",
              "agree": False}, {"grade_id": "test_batch_variance", "kernel": "pass", "judge": "pass", "agree": True}]
    (tmp_path / "judge.json").write_text(json.dumps({"format": 1, "student": "s", "assignment": A, "notebooks": {
        A: {"sandbox": "UNSANDBOXED: bubblewrap not found", "sandboxed": False, "cells": cells,
            "disagreements": ["test_batch_mean"]}}}))
    judge = results.read_judge(tmp_path / "judge.json")
    assert judge["unsandboxed"] and judge["sandbox"] == "UNSANDBOXED: bubblewrap not found"
    assert judge["disagreements"] == ["test_batch_mean: kernel pass, judge fail (AssertionError: N-1)"]
    notes = results._judge_notes(judge)
    assert notes[0].startswith("UNSANDBOXED") and "judge disagrees: test_batch_mean" in notes[1]
    (tmp_path / "judge.json").write_text(json.dumps({"sandbox": "bubblewrap", "sandboxed": True, "cells": cells,
                                                     "disagreements": []}))
    assert results.read_judge(tmp_path / "judge.json") == {"sandbox": "bubblewrap", "unsandboxed": False,
                                                           "disagreements": []}
    (tmp_path / "judge.json").write_text("{broken")
    assert "unreadable" in results.read_judge(tmp_path / "judge.json")["error"]


def _row(student, status, **kw):
    return results.StudentResult(student, A, status, max_score=20.0, **kw)


def test_table_and_export_tell_every_status_apart(tmp_path):
    rows = [
        _row("alice", "graded", score=20.0, cells=[results.CellResult("test_x", 2.0, 2.0, "")]),
        _row("bruno", "graded", score=20.0, penalty=2.0, seconds_late=90000, days_late=2),
        _row("chen", "graded", score=0.0, cells=[results.CellResult("test_x", 0.0, 2.0, "AssertionError: N-1")]),
        _row("dana", "ungradeable", reason="not a readable notebook"),
        _row("eve", "pending", reason="changed since it was graded (a resubmission): run autograde"),
        _row("femi", "missing", reason="nothing submitted"),
    ]
    text, mismatches = results.format_table(rows, {"alice": 20, "bruno": 20, "dana": 0})
    assert mismatches == 2  # bruno's final is 18; dana has no score at all
    lines = text.splitlines()
    for r in rows:
        assert any(line.startswith(r.student) and r.status in line for line in lines), r.student
    assert "test_x: AssertionError: N-1" in text and " 1d1h " in text
    assert "NOT GRADED: dana (ungradeable), eve (pending)" in text and "nothing submitted: femi" in text
    path = results.write_csv(rows, tmp_path / "grades.csv")
    exported = {r["student_id"]: r for r in csv.DictReader(path.open())}
    assert list(exported["alice"]) == results.EXPORT_COLUMNS
    assert (exported["alice"]["score"], exported["bruno"]["score"], exported["chen"]["score"]) == ("20", "18", "0")
    assert exported["bruno"]["late_penalty"] == "2" and exported["bruno"]["raw_score"] == "20"
    assert exported["dana"]["score"] == "" and exported["dana"]["reason"] == "not a readable notebook"
    assert exported["eve"]["score"] == "" and exported["eve"]["status"] == "pending"
    assert exported["femi"]["score"] == "0" and exported["femi"]["status"] == "missing"
    assert exported["chen"]["reason"] == "test_x: AssertionError: N-1"


def test_cli_without_a_course_or_gradebook_exits_2(tmp_path, capsys):
    assert grading.main(["--course", str(tmp_path), "report", A]) == 2
    assert "no nbgrader_config.py" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        grading.main(["autograde"])
    assert exc.value.code == 2


# --------------------------------------------------------------------------- slow: the README's day

def _fresh_clone(dest: Path) -> Path:
    """The working tree as a clone would have it: tracked and new files, nothing git ignores."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=ROOT, capture_output=True, check=True).stdout.decode().split("\0")
    for rel in filter(None, listed):
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    return dest


def _tool(clone: Path, *args: str, env: dict | None = None, timeout: float = 3600):
    environment = {**os.environ, "PYTHONPATH": str(clone), **(env or {})}
    environment.pop("NBGRADER_DB_URL", None) if not (env and "NBGRADER_DB_URL" in env) else None
    return subprocess.run([PY, "-m", "bn_helpers.grading", *args], cwd=clone, capture_output=True, text=True,
                          env=environment, timeout=timeout)


def _rows(stdout: str) -> dict[str, str]:
    """The table's student lines, by student."""
    statuses = {"graded", "ungradeable", "pending", "missing"}
    return {ln.split()[0]: ln for ln in stdout.splitlines()
            if not ln.startswith(" ") and len(ln.split()) > 6 and ln.split()[1] in statuses}


SOL = grading.solution_code(ROOT, A)


def _points() -> tuple[dict[str, float], float]:
    """The autograded test cells' points, and the assignment's maximum (written answers included)."""
    nb = nbformat.read(ROOT / "solutions" / A / f"{A}.ipynb", as_version=4)
    graded = [c.metadata["nbgrader"] for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
    return ({m["grade_id"]: float(m["points"]) for m in graded if not m.get("solution")},
            sum(float(m["points"]) for m in graded))


TESTS, MAX = _points()
MISTAKE, _, MISTAKE_CELLS = cases_02_forward.MISTAKES["unbiased_variance"]
FULL = sum(TESTS.values())  # correct code, written answers left as released (they score 0 until answered)


def _g(x: float) -> str:
    return f"{x:g}"
FAULTS = {  # student: (cell edits on the solution, what the tool must say)
    "correct": {},
    "logs_warnings": {"batch_mean": "import logging\n\ndef batch_mean(x):\n    logging.warning('batch_mean called')\n"
                                    "    return x.mean(axis=0)\n"},
    "debug_stderr": {"batch_variance": "import sys\n\ndef batch_variance(x):\n    print('var of', x.shape, "
                                       "file=sys.stderr)\n    return x.var(axis=0)\n"},
    "retry_loop": {"undo_params": "def undo_params(x, eps=1e-5):\n    while True:\n        try:\n"
                                  "            return np.sqrt(x.var(axis=0) + eps) + missing_name, x.mean(axis=0)\n"
                                  "        except:\n            pass\n"},
}
EXTRA_CELLS = {  # student: (after this cell, a plain cell of their own)
    "swallows_interrupt": ("batch_mean", "import time\nwhile True:  # waits for data that never comes\n    try:\n"
                                         "        time.sleep(60)\n    except:\n        pass\n"),
    "kills_kernel": ("undo_params", "import os\nos._exit(3)\n"),
}


def _fault_class(clone: Path) -> None:
    sub = clone / ".grading" / "submitted"
    for student, edits in FAULTS.items():
        grading.make_submission(clone, A, student, {**SOL, **edits})
    for student, (after, source) in EXTRA_CELLS.items():
        path = grading.make_submission(clone, A, student, SOL)
        nb = nbformat.read(path, as_version=4)
        nb.cells.insert(_index(nb, after) + 1, nbformat.v4.new_code_cell(source))
        nbformat.write(nb, path)
    pasted = grading.make_submission(clone, A, "pasted_test_cell", SOL)
    nb = nbformat.read(pasted, as_version=4)
    i = _index(nb, "test_batch_mean")
    nb.cells.insert(i + 1, copy.deepcopy(nb.cells[i]))
    nb.cells[i + 1].id = "pasted-copy"
    nbformat.write(nb, pasted)
    grading.make_submission(clone, A, "late_a_day", SOL, timestamp="2025-03-15 23:59:00 UTC")
    grading.make_submission(clone, A, "late_a_day_wrong", {**SOL, **MISTAKE}, timestamp="2025-03-15 23:59:00 UTC")
    (sub / "not_a_notebook" / A).mkdir(parents=True)
    (sub / "not_a_notebook" / A / f"{A}.ipynb").write_text("{ this is not json")
    (sub / "wrong_name" / A).mkdir(parents=True)
    shutil.copy2(clone / "notebooks" / A / f"{A}.ipynb", sub / "wrong_name" / A / "my_notebook.ipynb")


@pytest.mark.slow
def test_the_instructor_section_from_a_fresh_clone(tmp_path):
    clone = _fresh_clone(tmp_path / "clone")
    committed = {p: p.read_bytes() for p in (clone / "notebooks").rglob("*.ipynb")}
    assert not (clone / ".grading").exists()

    # A failing step deletes nothing: a database that cannot be reached.
    bad = _tool(clone, "generate_assignment", A, env={"NBGRADER_DB_URL": "postgresql://x:y@127.0.0.1:9/none"})
    assert bad.returncode == 2 and "cannot open the gradebook" in bad.stderr, bad.stderr
    assert {p: p.read_bytes() for p in committed} == committed

    # Step 1: record the assignment (and plain nbgrader works in a fresh clone too: .grading/ is made for it).
    step1 = _tool(clone, "generate_assignment", A)
    assert step1.returncode == 0 and "release notebooks/02_forward/ unchanged" in step1.stdout, step1.stderr
    plain = subprocess.run([str(Path(PY).parent / "nbgrader"), "generate_assignment", A, "--force"], cwd=clone,
                           capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(clone)})
    assert plain.returncode == 0, plain.stderr[-2000:]
    assert {p: p.read_bytes() for p in committed} == committed
    # `make release` runs this for each assignment: a broken source changes nothing, a good one regenerates.
    source = clone / "solutions" / A / f"{A}.ipynb"
    good = source.read_bytes()
    source.write_text("{ broken")
    broken = _tool(clone, "generate_assignment", A, "--no-db")
    assert broken.returncode == 2 and "nothing was changed" in broken.stderr, broken.stderr
    source.write_bytes(good)
    release = _tool(clone, "generate_assignment", A, "--no-db")
    assert release.returncode == 0 and "unchanged" in release.stdout, release.stdout + release.stderr
    assert {p: p.read_bytes() for p in committed} == committed

    # Step 2: collect by hand; enrol one more student who hands in nothing; a due date and a penalty.
    _fault_class(clone)
    enrol = subprocess.run([str(Path(PY).parent / "nbgrader"), "db", "student", "add", "never_submitted",
                            "--last-name=Absent", "--first-name=Nadia"], cwd=clone, capture_output=True, text=True)
    assert enrol.returncode == 0, enrol.stderr[-2000:]
    (tmp_path / "students.csv").write_text("id,last_name,first_name,email\ncorrect,Correct,Carla,carla@example.org\n")
    roster = subprocess.run([str(Path(PY).parent / "nbgrader"), "db", "student", "import", str(tmp_path / "students.csv")],
                            cwd=clone, capture_output=True, text=True)
    assert roster.returncode == 0, roster.stderr[-2000:]
    config = clone / "nbgrader_config.py"
    config.write_text(config.read_text() + f'\nc.LatePenalty.due_dates = {{"{A}": "2025-03-14 23:59:00 UTC"}}\n')

    # Step 3: autograde, two at a time. Not everything can be graded: exit 1, every student named.
    graded = _tool(clone, "autograde", A, "-j", "2")
    assert graded.returncode == 1, graded.stdout + graded.stderr[-3000:]
    rows = _rows(graded.stdout)
    students = set(FAULTS) | set(EXTRA_CELLS) | {"pasted_test_cell", "late_a_day", "late_a_day_wrong", "not_a_notebook", "wrong_name",
                              "never_submitted"}
    assert set(rows) == students, graded.stdout
    for s in students - {"not_a_notebook", "wrong_name", "never_submitted"}:
        assert " graded " in rows[s], (s, graded.stdout, graded.stderr[-3000:])
    for s in ("correct", "logs_warnings", "debug_stderr", "pasted_test_cell", "swallows_interrupt", "kills_kernel",
              "late_a_day"):
        assert rows[s].split()[2:4] == [_g(FULL), _g(MAX)], (s, graded.stdout)
    assert "appears 2 times" in graded.stdout
    undo = TESTS["test_undo_params"] + TESTS["test_undo_params_hidden"]
    assert rows["retry_loop"].split()[2] == _g(FULL - undo), graded.stdout  # only undo_params' tests
    assert "ungradeable" in rows["not_a_notebook"] and "not a readable notebook" in rows["not_a_notebook"]
    assert "ungradeable" in rows["wrong_name"] and "my_notebook.ipynb" in rows["wrong_name"]
    assert "missing" in rows["never_submitted"]
    assert "NOT GRADED: not_a_notebook (ungradeable), wrong_name (ungradeable)" in graded.stdout
    assert rows["late_a_day"].split()[4:7] == ["1d", "0", _g(FULL)], graded.stdout  # a day late, no penalty

    # A penalty, applied without regrading; the report and the export agree with the table.
    config.write_text(config.read_text() + "\nc.LatePenalty.per_day = 0.1\n")
    report = _tool(clone, "report", A)
    assert report.returncode == 1
    late_rows = _rows(report.stdout)
    assert late_rows["late_a_day"].split()[4:7] == ["1d", _g(0.1 * FULL), _g(0.9 * FULL)], report.stdout
    wrong = FULL - sum(TESTS[g] for g in MISTAKE_CELLS)
    assert late_rows["late_a_day_wrong"].split()[2:7] == [_g(wrong), _g(MAX), "1d", _g(0.1 * wrong), _g(0.9 * wrong)] and late_rows["correct"].split()[4:7] == ["-", "0", "20"]
    export = _tool(clone, "export")  # the wide file an LMS imports: a row per student, a column per assignment
    assert export.returncode == 1 and "2 grade(s) left blank" in export.stdout, export.stdout
    wide = {r["SIS Login ID"]: r for r in csv.DictReader((clone / ".grading" / "grades.csv").open())}
    assert set(wide) == students and list(next(iter(wide.values())))[-2:] == [A, "Total"]
    assert (wide["late_a_day"][A], wide["late_a_day"]["Total"]) == (_g(0.9 * FULL), _g(0.9 * FULL))
    assert (wide["not_a_notebook"][A], wide["never_submitted"][A]) == ("", "0")
    assert wide["correct"]["Student"] == "Correct, Carla" and wide["correct"]["Email address"] == "carla@example.org"
    export = _tool(clone, "export", "--long")
    assert export.returncode == 1 and (clone / ".grading" / "grades-long.csv").exists()
    out = {r["student_id"]: r for r in csv.DictReader((clone / ".grading" / "grades-long.csv").open())}
    assert set(out) == students
    assert (out["late_a_day"]["status"], out["late_a_day"]["raw_score"], out["late_a_day"]["late_penalty"],
            out["late_a_day"]["score"], out["late_a_day"]["days_late"]) == (
        "graded", _g(FULL), _g(0.1 * FULL), _g(0.9 * FULL), "1")
    assert out["correct"]["score"] == _g(FULL) and out["correct"]["late_penalty"] == "0"
    assert out["correct"]["max_score"] == _g(MAX)
    assert out["not_a_notebook"]["status"] == "ungradeable" and out["not_a_notebook"]["score"] == ""
    assert out["never_submitted"]["status"] == "missing" and out["never_submitted"]["score"] == "0"
    assert out["never_submitted"]["last_name"] == "Absent" and out["correct"]["email"] == "carla@example.org"
    for name in ("grades.csv", "grades-long.csv"):
        assert subprocess.run(["git", "check-ignore", "-q", f".grading/{name}"], cwd=ROOT).returncode == 0

    # The class's mistakes: late_a_day_wrong's N-1, counted once per function however many cells showed it.
    found = _tool(clone, "mistakes", A)
    assert found.returncode == 0, found.stderr[-2000:]
    assert "batch_variance: 1 of " in found.stdout and "1 student   You divided by N-1" in found.stdout, found.stdout
    assert "e.g. late_a_day_wrong, test_batch_variance" in found.stdout

    # Resubmissions by content: a changed notebook is graded again, an unchanged one is not.
    state = clone / ".grading" / "state" / A
    before = {s: json.loads((state / f"{s}.json").read_text())["graded_at"] for s in ("correct", "late_a_day_wrong")}
    grading.make_submission(clone, A, "late_a_day_wrong", SOL, timestamp="2025-03-15 23:59:00 UTC", replace=True)
    pending = _tool(clone, "report", A)
    assert "pending" in _rows(pending.stdout)["late_a_day_wrong"] and "resubmission" in pending.stdout
    shutil.rmtree(clone / ".grading" / "submitted" / "not_a_notebook")
    shutil.rmtree(clone / ".grading" / "submitted" / "wrong_name")
    regraded = _tool(clone, "autograde", A, "--student", "late_a_day_wrong,correct")
    assert regraded.returncode == 0, regraded.stdout + regraded.stderr[-3000:]
    after = {s: json.loads((state / f"{s}.json").read_text())["graded_at"] for s in before}
    assert after["correct"] == before["correct"] and after["late_a_day_wrong"] != before["late_a_day_wrong"]
    assert _rows(regraded.stdout)["late_a_day_wrong"].split()[2] == _g(FULL)
    forced = _tool(clone, "autograde", A, "--student", "correct", "--force")
    assert forced.returncode == 0
    assert json.loads((state / "correct.json").read_text())["graded_at"] != before["correct"]

    # Step 4: feedback for every graded student.
    feedback = _tool(clone, "feedback", A)
    assert feedback.returncode == 0, feedback.stdout + feedback.stderr[-3000:]
    for s in students - {"not_a_notebook", "wrong_name", "never_submitted"}:
        assert (clone / ".grading" / "feedback" / s / A / f"{A}.html").exists(), s

    # The database command of the PostgreSQL paragraph, on SQLite: nothing to create, nothing lost.
    upgrade = _tool(clone, "db", "upgrade")
    assert upgrade.returncode == 0, upgrade.stderr[-2000:]
    assert {p: p.read_bytes() for p in committed} == committed
