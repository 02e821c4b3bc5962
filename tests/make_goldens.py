"""Write PyTorch golden values for bn_helpers (run by hand when torch is importable).

    .venv/bin/pip install torch==2.13.0      # the CPU build; never a course dependency
    .venv/bin/python tests/make_goldens.py

Writes small ``.npz`` files under ``tests/goldens/``, one per function family
and dtype, holding the inputs and torch's outputs; ``test_conformance.py``
compares ``bn_helpers`` to them (and to live torch, when it is installed).
The script is deterministic: the same torch gives the same files.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

GOLDENS = Path(__file__).resolve().parent / "goldens"
EPS = 1e-5


def _t(a, requires_grad=False):
    import torch

    return torch.tensor(a, requires_grad=requires_grad)


def _grads(out, inputs, dout):
    import torch

    return [g.detach().numpy() for g in torch.autograd.grad(out, inputs, _t(dout))]


def norm_case(kind: str, x, gamma, beta, dout, G: int | None = None) -> dict:
    """Forward and backward of one normalization in torch's functional API."""
    import torch.nn.functional as F

    tx, tg, tb = _t(x, True), _t(gamma, True), _t(beta, True)
    if kind in ("batchnorm", "spatial_batchnorm"):
        out = F.batch_norm(tx, None, None, tg, tb, training=True, eps=EPS)
    elif kind == "layernorm":
        shape = x.shape[1:]
        w = tg.reshape((-1,) + (1,) * (x.ndim - 2)).expand(shape) if x.ndim > 2 else tg
        b = tb.reshape((-1,) + (1,) * (x.ndim - 2)).expand(shape) if x.ndim > 2 else tb
        out = F.layer_norm(tx, shape, w, b, eps=EPS)
    elif kind == "instancenorm":
        out = F.instance_norm(tx, weight=tg, bias=tb, eps=EPS)
    elif kind == "groupnorm":
        out = F.group_norm(tx, G, tg, tb, eps=EPS)
    else:
        raise ValueError(kind)
    dx, dgamma, dbeta = _grads(out, (tx, tg, tb), dout)
    return {"x": x, "gamma": gamma, "beta": beta, "dout": dout, "out": out.detach().numpy(),
            "dx": dx, "dgamma": dgamma, "dbeta": dbeta, **({"G": np.array(G)} if G else {})}


def running_case(shape, momentum, steps, rng, dtype) -> dict:
    """Running statistics of nn.BatchNorm1d/2d after several steps, and an eval-mode output."""
    import torch

    c = shape[1]
    layer = (torch.nn.BatchNorm1d if len(shape) == 2 else torch.nn.BatchNorm2d)(c, eps=EPS, momentum=momentum)
    layer = layer.to(getattr(torch, dtype))
    gamma, beta = rng.uniform(0.5, 2, c).astype(dtype), rng.normal(0, 1, c).astype(dtype)
    with torch.no_grad():
        layer.weight.copy_(_t(gamma)), layer.bias.copy_(_t(beta))
    batches = np.stack([rng.normal(rng.normal(0, 2), rng.uniform(0.5, 3), shape).astype(dtype) for _ in range(steps)])
    outs = []
    layer.train()
    with torch.no_grad():
        for xb in batches:
            outs.append(layer(_t(xb)).numpy())
        layer.eval()
        x_eval = rng.normal(0, 2, shape).astype(dtype)
        eval_out = layer(_t(x_eval)).numpy()
    return {"gamma": gamma, "beta": beta, "batches": batches, "train_out": np.stack(outs),
            "running_mean": layer.running_mean.numpy(), "running_var": layer.running_var.numpy(),
            "num_batches_tracked": np.array(int(layer.num_batches_tracked)),
            "momentum": np.array(np.nan if momentum is None else momentum),
            "x_eval": x_eval, "eval_out": eval_out}


def fold_case(rng, dtype) -> dict:
    """torch.nn.utils.fusion.fuse_linear_bn_eval on a Linear(6, 4) + BatchNorm1d(4)."""
    import torch
    from torch.nn.utils.fusion import fuse_linear_bn_eval

    lin, bn = torch.nn.Linear(6, 4).to(getattr(torch, dtype)), torch.nn.BatchNorm1d(4, eps=EPS).to(getattr(torch, dtype))
    with torch.no_grad():
        for p in (lin.weight, lin.bias, bn.weight, bn.bias, bn.running_mean):
            p.copy_(_t(rng.normal(0, 1, tuple(p.shape)).astype(dtype)))
        bn.running_var.copy_(_t(rng.uniform(0.2, 3, 4).astype(dtype)))
    lin.eval(), bn.eval()
    fused = fuse_linear_bn_eval(lin, bn)
    x = rng.normal(0, 1, (5, 6)).astype(dtype)
    with torch.no_grad():
        return {"W": lin.weight.numpy().T.copy(), "b": lin.bias.numpy(), "gamma": bn.weight.numpy(),
                "beta": bn.bias.numpy(), "running_mean": bn.running_mean.numpy(),
                "running_var": bn.running_var.numpy(), "W_folded": fused.weight.numpy().T.copy(),
                "b_folded": fused.bias.numpy(), "x": x, "out": bn(lin(_t(x))).numpy()}


def merge_case(rng, dtype) -> dict:
    """Per-device statistics and torch.var_mean of the concatenated data."""
    import torch

    sizes = [3, 8, 5]
    parts = [rng.normal(rng.normal(0, 3), rng.uniform(0.5, 2), (n, 4)).astype(dtype) for n in sizes]
    var, mean = torch.var_mean(_t(np.concatenate(parts)), dim=0, unbiased=False)
    return {"counts": np.array(sizes), "means": np.stack([p.mean(0) for p in parts]),
            "variances": np.stack([p.var(0) for p in parts]), "mean": mean.numpy(), "var": var.numpy()}


def cases(dtype: str) -> dict[str, dict]:
    rng = np.random.default_rng(2015 if dtype == "float64" else 2016)

    def arr(*shape, loc=0.0, scale=1.0):
        return rng.normal(loc, scale, shape).astype(dtype)

    out = {
        "batchnorm": norm_case("batchnorm", arr(8, 5, loc=1, scale=2), arr(5, loc=1), arr(5), arr(8, 5)),
        "spatial_batchnorm": norm_case("spatial_batchnorm", arr(4, 3, 5, 5, scale=3), arr(3, loc=1), arr(3), arr(4, 3, 5, 5)),
        "layernorm": norm_case("layernorm", arr(6, 7, loc=-2), arr(7, loc=1), arr(7), arr(6, 7)),
        "layernorm4d": norm_case("layernorm", arr(3, 4, 3, 3), arr(4, loc=1), arr(4), arr(3, 4, 3, 3)),
        "instancenorm": norm_case("instancenorm", arr(3, 4, 5, 5, loc=2), arr(4, loc=1), arr(4), arr(3, 4, 5, 5)),
        "groupnorm": norm_case("groupnorm", arr(3, 6, 4, 4), arr(6, loc=1), arr(6), arr(3, 6, 4, 4), G=3),
        "running1d": running_case((16, 5), 0.1, 4, rng, dtype),
        "running1d_cumulative": running_case((16, 5), None, 4, rng, dtype),
        "running2d": running_case((4, 3, 6, 6), 0.1, 4, rng, dtype),
        "fold": fold_case(rng, dtype),
        "merge": merge_case(rng, dtype),
    }
    return out


def main() -> None:
    import torch

    torch.set_num_threads(1)
    GOLDENS.mkdir(exist_ok=True)
    for dtype in ("float64", "float32"):
        for name, arrays in cases(dtype).items():
            np.savez(GOLDENS / f"{name}_{dtype}.npz", **arrays)
    (GOLDENS / "VERSION").write_text(f"torch {torch.__version__}\n")
    print(f"wrote {len(list(GOLDENS.glob('*.npz')))} files to {GOLDENS} with torch {torch.__version__}")


if __name__ == "__main__":
    main()
