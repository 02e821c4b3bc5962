"""``make bench``: the conv net's cost per training step (forward + backward + SGD update), float32, one BLAS thread.

For each batch size and normalization it times ``ConvNet.fit`` over a fixed
number of steps (median of repeated runs) and prints milliseconds per step for
S stacked networks, per network, and the process's CPU time per step (less
sensitive than wall time to other work on the machine). The stacks are those of the notebooks:
05's sweep trains the four normalizations x 3 seeds (S = 12) in one lockstep,
06's regularization runs S = 3 at batch 128.

Usage: ``python benchmarks/bench_convnet.py [--repeats R] [--steps K]``
"""
from __future__ import annotations

import argparse
import os
import platform
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from bn_helpers import convnet  # noqa: E402
from bn_helpers.data import load_digits_split  # noqa: E402
from bn_helpers.experiments._threads import one_thread  # noqa: E402

CASES = [("batch", 3, 2), ("batch", 3, 32), ("batch", 3, 128), ("group", 3, 32),
         ("05 sweep: 4 norms x 3 seeds", 12, 2), ("05 sweep: 4 norms x 3 seeds", 12, 32)]


def _net(kind: str, s: int) -> convnet.ConvNet:
    if kind.startswith("05"):
        return convnet.ConvNet([k for k in convnet.NORMS for _ in range(3)], [0, 1, 2] * 4, head="flatten")
    return convnet.ConvNet(kind, range(s), head="flatten")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args()
    d = load_digits_split()
    print(f"conv net (16, 16) channels on 8x8 digits, float32, one BLAS thread; numpy {np.__version__}, "
          f"{platform.machine()}; load average {os.getloadavg()[0]:.1f}")
    print(f"{'networks':>30} {'S':>3} {'B':>4} {'ms/step':>8} {'ms/step/net':>12} {'CPU ms/step':>12}")
    with one_thread():
        for kind, s, b in CASES:
            times, cpu = [], []
            for _ in range(args.repeats):
                net = _net(kind, s)
                start, start_cpu = time.perf_counter(), time.process_time()
                net.fit(d.X_train, d.y_train, steps=args.steps, batch_size=b, lr=0.01)
                times.append((time.perf_counter() - start) / args.steps * 1e3)
                cpu.append((time.process_time() - start_cpu) / args.steps * 1e3)
            ms = float(np.median(times))
            print(f"{kind:>30} {s:>3} {b:>4} {ms:8.2f} {ms / s:12.3f} {float(np.median(cpu)):12.2f}")


if __name__ == "__main__":
    main()
