"""``make bench``: time bn_helpers' normalizations against one memory pass and torch.

For each shape (float32) it times, as the median of interleaved repeated runs:
BN forward; the compact backward alone; forward + compact backward; the staged
and compact backward on the (N*H*W, C) view; layer norm forward + backward; group norm (G=32, or G=C when C < 32) forward + backward.
It reports milliseconds, multiples of one memory pass over the same tensor
(``np.copyto``: one read and one write), and the ratio to torch on one thread
when torch is importable. For (N, C, H, W) input, batch norm is spatial batch
norm; its staged backward runs on the (N*H*W, C) view (the transposition is
done before timing, for staged and compact alike).

Usage: ``python benchmarks/bench_norms.py [--repeats R] [--quick]``
"""
from __future__ import annotations

import argparse
import os
import platform
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from bn_helpers import norms, numerics  # noqa: E402

SHAPES = [(256, 1024), (64, 64, 32, 32), (8, 256, 56, 56)]


def _params(c: int):
    rng = np.random.default_rng(1)
    return rng.uniform(0.5, 2, c).astype(np.float32), rng.normal(0, 1, c).astype(np.float32)


def _ours(x, dout):
    c = x.shape[1]
    g, b = _params(c)
    groups = 32 if c >= 32 else c
    if x.ndim == 2:
        fwd = lambda: numerics.batchnorm_forward(x, g, b)  # noqa: E731
        x2, d2 = x, dout
        compact = lambda: norms.batchnorm_backward_compact(dout, fwd()[1])  # noqa: E731
        ln = lambda: norms.layernorm_backward(dout, norms.layernorm_forward(x, g, b)[1])  # noqa: E731
        gx, gd = x.reshape(x.shape + (1, 1)), dout.reshape(x.shape + (1, 1))
    else:
        fwd = lambda: norms.spatial_batchnorm_forward(x, g, b)  # noqa: E731
        x2 = np.ascontiguousarray(x.transpose(0, 2, 3, 1).reshape(-1, c))
        d2 = np.ascontiguousarray(dout.transpose(0, 2, 3, 1).reshape(-1, c))
        compact = lambda: norms.spatial_batchnorm_backward(dout, fwd()[1])  # noqa: E731
        ln = lambda: norms.layernorm_backward(dout, norms.layernorm_forward(x, g, b)[1])  # noqa: E731
        gx, gd = x, dout
    cache2 = numerics.batchnorm_forward(x2, g, b)[1]
    staged = lambda: norms.batchnorm_backward(d2, cache2)  # noqa: E731
    compact2 = lambda: norms.batchnorm_backward_compact(d2, cache2)  # noqa: E731
    cache = fwd()[1]
    compact_only = lambda: (norms.batchnorm_backward_compact if x.ndim == 2 else norms.spatial_batchnorm_backward)(dout, cache)  # noqa: E731
    gn = lambda: norms.groupnorm_backward(gd, norms.groupnorm_forward(gx, g, b, groups)[1])  # noqa: E731
    return {"BN forward": fwd, "BN compact bwd": compact_only, "BN fwd+compact bwd": compact,
            "BN staged bwd (2-D view)": staged, "BN compact bwd (2-D view)": compact2,
            "LN fwd+bwd": ln, f"GN(G={groups}) fwd+bwd": gn}


def _torch(x, dout):
    try:
        import torch
    except ImportError:
        return {}
    torch.set_num_threads(1)
    c = x.shape[1]
    groups = 32 if c >= 32 else c
    tx = torch.from_numpy(x).requires_grad_()
    g, b = _params(c)
    tg, tb = torch.from_numpy(g).requires_grad_(), torch.from_numpy(b).requires_grad_()
    td = torch.from_numpy(dout)
    F = torch.nn.functional

    def fb(f):
        return lambda: torch.autograd.grad(f(), (tx, tg, tb), td)

    ln_shape = x.shape[1:]
    ln_w, ln_b = torch.ones(ln_shape, requires_grad=True), torch.zeros(ln_shape, requires_grad=True)
    gx = tx if x.ndim == 4 else tx.reshape(x.shape + (1, 1))
    gd = td if x.ndim == 4 else td.reshape(x.shape + (1, 1))
    return {
        "BN forward": lambda: F.batch_norm(tx.detach(), None, None, tg.detach(), tb.detach(), training=True),
        "BN fwd+compact bwd": fb(lambda: F.batch_norm(tx, None, None, tg, tb, training=True)),
        "LN fwd+bwd": lambda: torch.autograd.grad(F.layer_norm(tx, ln_shape, ln_w, ln_b), (tx, ln_w, ln_b), td),
        f"GN(G={groups}) fwd+bwd": lambda: torch.autograd.grad(F.group_norm(gx, groups, tg, tb), (tx, tg, tb), gd),
    }


def measure(fns: dict, repeats: int) -> dict[str, float]:
    """Median seconds per call, the functions run round-robin so drifts hit all alike."""
    times = {k: [] for k in fns}
    for f in fns.values():
        f()  # warm-up
    for _ in range(repeats):
        for k, f in fns.items():
            t0 = time.perf_counter()
            f()
            times[k].append(time.perf_counter() - t0)
    return {k: float(np.median(v)) for k, v in times.items()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--quick", action="store_true", help="the smallest shape only, 5 repeats")
    args = parser.parse_args(argv)
    shapes = SHAPES[:1] if args.quick else SHAPES
    repeats = 5 if args.quick else args.repeats
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"numpy {np.__version__}, Python {platform.python_version()}; median of {repeats} interleaved runs\n")
    print("| shape | operation | ms | memory passes | ratio to torch (1 thread) |")
    print("| --- | --- | ---: | ---: | ---: |")
    failures = []
    for shape in shapes:
        rng = np.random.default_rng(0)
        x = rng.standard_normal(shape, dtype=np.float32)
        dout = rng.standard_normal(shape, dtype=np.float32)
        dst = np.empty_like(x)
        ours, theirs = _ours(x, dout), _torch(x, dout)
        fns = {"copy": lambda: np.copyto(dst, x), **ours, **{f"torch {k}": f for k, f in theirs.items()}}
        t = measure(fns, repeats)
        for k in ours:
            ratio = f"{t[k] / t['torch ' + k]:.2f}" if "torch " + k in t else ""
            print(f"| {shape} | {k} | {t[k] * 1e3:.2f} | {t[k] / t['copy']:.1f} | {ratio} |")
        fwd_passes = t["BN forward"] / t["copy"]
        bwd_passes = t["BN compact bwd"] / t["copy"]
        speedup = t["BN staged bwd (2-D view)"] / t["BN compact bwd (2-D view)"]
        checks = {f"{shape}: forward within 6 memory passes ({fwd_passes:.1f})": fwd_passes <= 6,
                  f"{shape}: compact backward within 6 memory passes ({bwd_passes:.1f})": bwd_passes <= 6,
                  f"{shape}: compact backward at least 2x faster than staged ({speedup:.2f}x)": speedup >= 2}
        if "torch BN fwd+compact bwd" in t:
            r = t["BN fwd+compact bwd"] / t["torch BN fwd+compact bwd"]
            checks[f"{shape}: fwd+compact bwd within 2x of torch ({r:.2f}x)"] = r <= 2
        failures += [k for k, ok in checks.items() if not ok]
        print(f"|  | *targets*: {'; '.join(('ok ' if ok else 'MISSED ') + k.split(': ', 1)[1] for k, ok in checks.items())} | | | |")
    print("\n" + ("all targets met" if not failures else "targets missed:\n  " + "\n  ".join(failures)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
