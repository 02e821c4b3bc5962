"""The cheat corpus (tests/cheats/) through real ``nbgrader autograde`` and ``generate_feedback``.

Every cheat must score exactly what its code deserves (its header's
``expected``), change nothing outside its own sandbox (the course's sources,
release, configuration, every student's submission, the gradebook, the
installed ``bn_helpers``, the grader's /tmp and home), and leak nothing into
any feedback file: no secret from the grader's environment, no hidden test,
no line of checker source, no instructor path. Two honest students frame each
class: one graded before the cheats (full marks) and one after (a known
mistake, partial marks), so a cheat that changed the checks or the gradebook
for others shows. (The sample classes of ``make demo``, the known mistakes and
the hostile students of tests/test_grading.py get the same checks of their
feedback there: tests/_leaks.py.)

The courses run with ``c.Sandbox.mode = "require"``: without a working
sandbox they refuse to grade rather than let the corpus loose on this
machine.
"""
import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from bn_helpers import grading
from bn_helpers.sandbox import Sandbox
from _leaks import leaks
from conftest import ROOT

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not Sandbox().status()[0], reason="the cheat corpus needs the sandbox: "
                                 + Sandbox().status()[1])]

CHEATS = ROOT / "tests" / "cheats"
SAMPLES = ROOT / "tests" / "sample_class"
SECRET = "s3cr3t-GRADER-TOKEN-4f1d2c9e"
DB_PASSWORD = "hunter2-db-password-7731"
MARKER = "CHEAT-" + "MARKER"  # never written literally here
INPUT_MARKER = ("CHEAT-" + "INPUT", "CHEAT_" + "INPUT")  # what a cheat puts around hidden inputs it tries to show
SHARD_SIZE = 9


def _cheats(assignment: str) -> list[Path]:
    return sorted((CHEATS / assignment).glob("*.py"))


def _shards() -> list[tuple[str, int]]:
    """(assignment, first cheat) for each class of at most SHARD_SIZE cheats."""
    out = []
    for folder in sorted(p for p in CHEATS.iterdir() if p.is_dir()):
        n = len(_cheats(folder.name))
        out += [(folder.name, k) for k in range(0, n, SHARD_SIZE)]
    return out


def _full(assignment: str) -> float:
    nb = nbformat.read(ROOT / "solutions" / assignment / f"{assignment}.ipynb", as_version=4)
    return sum(float(c.metadata["nbgrader"]["points"]) for c in nb.cells if c.cell_type == "code"
               and c.metadata.get("nbgrader", {}).get("grade") and not c.metadata["nbgrader"].get("solution"))


def _honest(assignment: str) -> tuple[str, dict, float]:
    """A sample student's known mistake (partial marks): graded after the cheats."""
    for path in sorted((SAMPLES / assignment).glob("*.py")):
        edits, header = grading.read_sample(path)
        if edits and 0 < float(header["expected"]) < _full(assignment) and not any(g.startswith("test_") for g in edits):
            if header.get("base") == "solution":
                edits = {**grading.solution_code(ROOT, assignment), **edits}
            return path.stem, edits, float(header["expected"])
    raise AssertionError(f"no sample student with a partial score in {assignment}")


def _digest(paths: list[Path]) -> dict[str, str]:
    out = {}
    for root in paths:
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for f in files:
            out[str(f)] = hashlib.sha256(f.read_bytes()).hexdigest()
    return out


def _grade(tmp_path: Path, assignment: str, students: dict[str, dict]):
    course = grading.new_course(tmp_path / "course", root=ROOT, names=[assignment])
    db = course / ".grading" / "gradebook.db"
    with open(course / "nbgrader_config.py", "a") as f:
        f.write(f'\nc.Sandbox.mode = "require"\nc.CourseDirectory.db_url = "sqlite:///{db}"\n')
    for name, edits in students.items():
        grading.make_submission(course, assignment, name, edits)
    guarded = [course / "solutions", course / "notebooks", course / "nbgrader_config.py",
               course / ".grading" / "submitted"]
    before = _digest(guarded)
    env = dict(os.environ)
    env.update(PATH=os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]),
               NBGRADER_DB_URL=f"postgresql://grader:{DB_PASSWORD}@db.example:5432/batchnorm",
               GRADER_API_TOKEN=SECRET, PGPASSWORD=DB_PASSWORD)
    for step in ("autograde", "generate_feedback"):
        proc = subprocess.run([sys.executable, "-m", "nbgrader", step, assignment], cwd=course, env=env,
                              capture_output=True, text=True, timeout=3600)
        assert proc.returncode == 0, f"nbgrader {step} failed:\n{proc.stderr[-4000:]}"
        if step == "autograde":
            first = _scores(db, assignment)
            time.sleep(5)  # room for a background process to act after grading
    return course, first, _scores(db, assignment), before, _digest(guarded)


def _scores(db: Path, assignment: str) -> dict[str, float]:
    from nbgrader.api import Gradebook

    assert db.exists(), "the gradebook is gone"
    with Gradebook(f"sqlite:///{db}") as gb:
        return {s.student_id: float(s.score) for s in gb.assignment_submissions(assignment)}


@pytest.mark.parametrize("assignment, start", _shards(), ids=[f"{a}-cheats{k}" for a, k in _shards()])
def test_cheats_score_what_their_code_deserves_and_touch_nothing(tmp_path, assignment, start):
    """One class per shard: cheats framed by two honest students."""
    solution = grading.solution_code(ROOT, assignment)
    students, expected = {}, {}

    def add(name, path):
        edits, header = grading.read_sample(path)
        students[name] = {**solution, **edits} if header.get("base") == "solution" else edits
        expected[name] = float(header["expected"])

    mistake, mistake_edits, mistake_score = _honest(assignment)
    students["aaa_honest_first"], expected["aaa_honest_first"] = solution, _full(assignment)
    for path in _cheats(assignment)[start:start + SHARD_SIZE]:
        add(f"cheat_{path.stem}", path)
    students[f"zzz_honest_{mistake}"], expected[f"zzz_honest_{mistake}"] = mistake_edits, mistake_score
    leftovers = [Path("/tmp") / "sitecustomize.py", Path.home() / ".ipython/profile_default/startup/00-cheat.py"]
    leftovers_before = {p for p in leftovers if p.exists()}

    course, scores, later, before, after = _grade(tmp_path, assignment, students)

    wrong = {s: (scores.get(s), want) for s, want in expected.items() if scores.get(s) != want}
    assert not wrong, f"student: (score, deserved) {wrong}"
    assert later == scores, "the gradebook changed after grading ended"
    assert after == before, f"changed: {sorted(k for k in before if after.get(k) != before[k])}"
    for root in (ROOT / "bn_helpers", course / "solutions", course / "notebooks"):
        hits = [p for p in root.rglob("*") if p.is_file() and p.suffix in (".py", ".ipynb", ".json")
                and MARKER in p.read_text(errors="replace")]
        assert not hits, f"a cheat wrote into {hits}"
    assert not list(Path("/tmp").glob(MARKER + "*")), "a cheat wrote into the grader's /tmp"
    assert {p for p in leftovers if p.exists()} == leftovers_before, "a cheat planted files for later students"

    secrets = [SECRET, DB_PASSWORD, str(course), str(ROOT), sys.prefix, str(Path.home()) + "/"]
    for student in students:
        html_path = course / ".grading" / "feedback" / student / assignment / f"{assignment}.html"
        assert html_path.exists(), f"no feedback for {student}"
        submitted = course / ".grading" / "submitted" / student / assignment / f"{assignment}.ipynb"
        found = leaks(html_path, submitted, assignment, secrets)
        assert not found, f"{student}'s feedback shows {found[:3]}"
        shown = [m for m in INPUT_MARKER if m in html_path.read_text(errors="replace")]
        assert not shown, f"{student}'s feedback shows the student's text from a hidden test ({shown})"
        assert not (course / ".grading" / "feedback" / student / assignment / "judge.json").exists()
        judge = (course / ".grading" / "autograded" / student / assignment / "judge.json").read_text()
        assert '"sandboxed": true' in judge
