"""Autograding throughput: ``python -m bn_helpers.grading autograde`` against plain ``nbgrader autograde``.

Builds one course with a class of 40 submissions of ``02_forward`` (the sample
class and the known mistakes of tests/cases_02_forward.py, cycled), copies it,
and grades the same class in each copy: once with plain ``nbgrader autograde``
(one process, one student after another) and once with the tool (each student
in their own process, ``-j`` at a time, default the number of cores). Rounds
alternate which goes first. Prints seconds, students per minute, the ratio,
the load average seen before and after each run, and checks that both gave
every student the same score.

Usage: ``python benchmarks/bench_grading.py [--students 40] [--jobs N] [--rounds 3] [--keep DIR]``
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from bn_helpers import grading  # noqa: E402
from bn_helpers.grading import runner  # noqa: E402

A = "02_forward"
TARGET = 1.8


def the_class(course: Path, size: int) -> list[str]:
    """``size`` submissions: the sample class and every known mistake, cycled."""
    import cases_02_forward as cases

    solution = grading.solution_code(course, A)
    kinds = []
    for path in sorted((ROOT / "tests" / "sample_class" / A).glob("*.py")):
        edits, header = grading.read_sample(path)
        kinds.append((path.stem, {**solution, **edits} if header.get("base") == "solution" else edits))
    kinds += [(f"mistake_{k}", {**solution, **edits}) for k, (edits, _, _) in cases.MISTAKES.items()]
    names = []
    for i in range(size):
        kind, edits = kinds[i % len(kinds)]
        name = f"s{i + 1:02d}_{kind}"
        grading.make_submission(course, A, name, edits)
        names.append(name)
    return names


def scores(course: Path) -> dict[str, float]:
    from nbgrader.api import Gradebook

    c = grading.Course(course)
    with Gradebook(c.db_url, c.course_id) as gb:
        return {s.student.id: float(s.score) for s in gb.assignment_submissions(A)}


def timed(cmd: list[str], cwd: Path, env: dict) -> tuple[float, int, tuple, tuple]:
    before = os.getloadavg()
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        print(proc.stderr[-3000:], file=sys.stderr)
    return seconds, proc.returncode, before, os.getloadavg()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=40)
    parser.add_argument("--jobs", type=int, default=runner.default_jobs())
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keep", type=Path, default=None, help="build the courses here and keep them")
    args = parser.parse_args(argv)
    os.environ.pop("NBGRADER_DB_URL", None)  # both grade into their own SQLite gradebooks
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    base = args.keep or Path(tempfile.mkdtemp(prefix="bench-grading-"))
    print(f"\n## Autograding {args.students} submissions of {A}: plain nbgrader vs python -m bn_helpers.grading "
          f"(-j {args.jobs}) on {runner.default_jobs()} cores")
    print(f"courses under {base}\n")
    template = grading.new_course(base / "template", root=ROOT, names=[A])
    names = the_class(template, args.students)
    print("| round | run | seconds | students/min | load before | load after |")
    print("| --- | --- | ---: | ---: | --- | --- |")
    ratios, ok = [], True
    for r in range(args.rounds):
        runs = {}
        order = ["plain", "tool"] if r % 2 == 0 else ["tool", "plain"]
        for which in order:
            course = base / f"round{r + 1}-{which}"
            shutil.copytree(template, course)
            cmd = ([sys.executable, "-m", "nbgrader", "autograde", A] if which == "plain" else
                   [sys.executable, "-m", "bn_helpers.grading", "autograde", A, "-j", str(args.jobs),
                    "--no-progress"])
            seconds, code, before, after = timed(cmd, course, env)
            runs[which] = (seconds, course)
            print(f"| {r + 1} | {which} | {seconds:.1f} | {60 * len(names) / seconds:.1f} | "
                  f"{before[0]:.1f} | {after[0]:.1f} |", flush=True)
        plain, tool = scores(runs["plain"][1]), scores(runs["tool"][1])
        if plain != tool or len(tool) != len(names):
            ok = False
            diff = {s: (plain.get(s), tool.get(s)) for s in names if plain.get(s) != tool.get(s)}
            print(f"round {r + 1}: the two runs disagree or missed students: {diff}")
        ratios.append(runs["plain"][0] / runs["tool"][0])
    ratio = statistics.median(ratios)   # of an even count: the mean of the middle two, not the higher
    met = ratio >= TARGET
    print(f"\nthroughput ratio (plain seconds / tool seconds, median of {len(ratios)}): {ratio:.2f}x "
          f"({'ok' if met else 'MISSED'}: target {TARGET}x on 2 cores); same scores: {'yes' if ok else 'NO'}")
    if not args.keep:
        shutil.rmtree(base, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
