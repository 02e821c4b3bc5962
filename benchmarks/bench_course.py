"""``make bench`` (course part): how long each solution notebook takes, top to bottom.

Runs every ``solutions/<assignment>/<assignment>.ipynb`` with nbclient, as a
student's "Run All" would (kernel start included), and prints the seconds per
notebook and the total. Target: the whole course in under 90 s on a 2-core laptop.

Usage: ``python benchmarks/bench_course.py``
"""
from __future__ import annotations

import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
TARGET_SECONDS = 90.0


def run(path: Path) -> float:
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    return time.perf_counter() - start


def main() -> int:
    print("| solution notebook | seconds |\n| --- | ---: |")
    total = 0.0
    for path in sorted((ROOT / "solutions").glob("*/*.ipynb")):
        seconds = run(path)
        total += seconds
        print(f"| {path.parent.name} | {seconds:.1f} |")
    print(f"| **whole course** | **{total:.1f}** |")
    print(f"\n{'ok' if total < TARGET_SECONDS else 'MISSED'}: the whole course in under {TARGET_SECONDS:.0f} s ({total:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
