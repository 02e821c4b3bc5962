"""``make bench`` (course part): how long each solution notebook takes, top to bottom.

Runs every ``solutions/<assignment>/<assignment>.ipynb`` with nbclient, as a
student's "Run All" would (kernel start included), and prints the seconds per
notebook, the total and the machine's load before each run. Targets (issue 16, which added the
student's layer in the loop, the conv net and the regularization runs): the whole course in at most
90 s on a 2-core machine, no notebook over 20 s; measure on a quiet machine.

Usage: ``python benchmarks/bench_course.py``
"""
from __future__ import annotations

import os
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
TARGET_SECONDS = 90.0
TARGET_PER_NOTEBOOK = 20.0


def run(path: Path) -> float:
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    return time.perf_counter() - start


def main() -> int:
    print("| solution notebook | seconds | load before |\n| --- | ---: | ---: |")
    total, slow = 0.0, []
    for path in sorted((ROOT / "solutions").glob("*/*.ipynb")):
        load = os.getloadavg()[0]
        seconds = run(path)
        total += seconds
        if seconds > TARGET_PER_NOTEBOOK:
            slow.append(path.parent.name)
        print(f"| {path.parent.name} | {seconds:.1f} | {load:.1f} |")
    print(f"| **whole course** | **{total:.1f}** | |")
    met = total < TARGET_SECONDS and not slow
    print(f"\n{'ok' if met else 'MISSED'}: the whole course in under {TARGET_SECONDS:.0f} s ({total:.1f} s), "
          f"no notebook over {TARGET_PER_NOTEBOOK:.0f} s" + (f" (over: {', '.join(slow)})" if slow else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
