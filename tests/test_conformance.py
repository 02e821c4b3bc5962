"""bn_helpers agrees with PyTorch: committed goldens always, live torch when it is installed.

Goldens come from ``tests/make_goldens.py`` (torch 2.13.0, CPU). Tolerances:
1e-10 for float64; for float32 1e-5 relative to the largest value; for float16
the allowance of ``float16_cases.excess`` (half an ulp plus float32 rounding).
"""
import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bn_helpers import norms, numerics, stats
import make_goldens
from float16_cases import EDGE_BATCHES, excess, float16_inputs, run, truth_and_scale
from make_goldens import GOLDENS

DTYPES = ["float64", "float32"]
FORWARD = {
    "batchnorm": (numerics.batchnorm_forward, [norms.batchnorm_backward, norms.batchnorm_backward_compact]),
    "spatial_batchnorm": (norms.spatial_batchnorm_forward, [norms.spatial_batchnorm_backward]),
    "layernorm": (norms.layernorm_forward, [norms.layernorm_backward]),
    "layernorm4d": (norms.layernorm_forward, [norms.layernorm_backward]),
    "instancenorm": (norms.instancenorm_forward, [norms.instancenorm_backward]),
    "groupnorm": (norms.groupnorm_forward, [norms.groupnorm_backward]),
}


def close(ours, theirs, dtype):
    ours, theirs = np.asarray(ours), np.asarray(theirs)
    assert ours.shape == theirs.shape and ours.dtype == np.dtype(dtype)
    if dtype == "float64":
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-10)
    else:
        scale = max(1.0, float(np.abs(theirs).max()))
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-5 * scale)


def load(name, dtype):
    with np.load(GOLDENS / f"{name}_{dtype}.npz") as f:
        return {k: f[k] for k in f.files}


def check_norm(name, g, dtype):
    forward, backwards = FORWARD[name]
    extra = (int(g["G"]),) if "G" in g else ()
    out, cache = forward(g["x"], g["gamma"], g["beta"], *extra)
    close(out, g["out"], dtype)
    for backward in backwards:
        dx, dgamma, dbeta = backward(g["dout"], cache)
        close(dx, g["dx"], dtype), close(dgamma, g["dgamma"], dtype), close(dbeta, g["dbeta"], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", FORWARD)
def test_forward_and_backward_match_goldens(name, dtype):
    check_norm(name, load(name, dtype), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["running1d", "running1d_cumulative", "running2d"])
def test_running_statistics_and_eval_match_goldens(name, dtype):
    g = load(name, dtype)
    momentum = None if np.isnan(g["momentum"]) else float(g["momentum"])
    s = stats.init_running_stats(g["gamma"].shape[0], dtype=np.dtype(dtype))
    for xb, want in zip(g["batches"], g["train_out"]):
        out, _, s = stats.batchnorm_train_step(xb, g["gamma"], g["beta"], s, momentum=momentum)
        close(out, want, dtype)
    close(s.mean, g["running_mean"], dtype)
    close(s.var, g["running_var"], dtype)
    assert s.num_batches_tracked == int(g["num_batches_tracked"])
    close(stats.batchnorm_eval(g["x_eval"], g["gamma"], g["beta"], s.mean, s.var), g["eval_out"], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_fold_matches_torch_fusion(dtype):
    g = load("fold", dtype)
    W, b = stats.fold_batchnorm(g["W"], g["b"], g["gamma"], g["beta"], g["running_mean"], g["running_var"])
    close(W, g["W_folded"], dtype), close(b, g["b_folded"], dtype)
    close(g["x"] @ W + b, g["out"], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_merge_matches_concatenated_statistics(dtype):
    g = load("merge", dtype)
    mean, var = stats.merge_batch_stats(g["counts"], g["means"], g["variances"])
    close(mean, g["mean"], dtype), close(var, g["var"], dtype)


def test_goldens_were_made_by_the_pinned_torch():
    assert (GOLDENS / "VERSION").read_text().startswith("torch 2.13.0")


# ---------------------------------------------------------------- live, when torch is installed

SHAPES = {
    "batchnorm": [(2, 1), (3, 7), (33, 4)],
    "spatial_batchnorm": [(2, 1, 1, 2), (5, 3, 4, 2)],
    "layernorm": [(1, 2), (4, 9)],
    "layernorm4d": [(2, 3, 1, 4), (3, 2, 5, 5)],
    "instancenorm": [(1, 2, 2, 1), (3, 4, 3, 5)],
    "groupnorm": [(1, 4, 1, 1), (2, 6, 3, 2)],
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name, shape", [(n, s) for n, shapes in SHAPES.items() for s in shapes])
def test_live_against_torch(name, shape, dtype):
    pytest.importorskip("torch")
    rng = np.random.default_rng(zlib.crc32(repr((name, shape)).encode()))
    x = rng.normal(rng.normal(0, 5), rng.uniform(0.1, 4), shape).astype(dtype)
    c = shape[1]
    G = 2 if name == "groupnorm" else None
    g = make_goldens.norm_case("layernorm" if name == "layernorm4d" else name, x, rng.uniform(0.5, 2, c).astype(dtype),
                               rng.normal(0, 1, c).astype(dtype), rng.normal(0, 1, shape).astype(dtype), G=G)
    check_norm(name, g, dtype)


@pytest.mark.parametrize("shape, momentum", [((7, 3), 0.3), ((2, 4, 3, 3), None), ((9, 2, 2, 2), 0.1)])
def test_live_running_statistics(shape, momentum):
    pytest.importorskip("torch")
    g = make_goldens.running_case(shape, momentum, 3, np.random.default_rng(7), "float64")
    s = stats.init_running_stats(shape[1])
    for xb in g["batches"]:
        _, _, s = stats.batchnorm_train_step(xb, g["gamma"], g["beta"], s, momentum=momentum)
    close(s.mean, g["running_mean"], "float64"), close(s.var, g["running_var"], "float64")
    close(stats.batchnorm_eval(g["x_eval"], g["gamma"], g["beta"], s.mean, s.var), g["eval_out"], "float64")


def test_single_value_per_channel_refused_like_torch():
    torch = pytest.importorskip("torch")
    with pytest.raises(ValueError, match="more than 1 value per"):
        torch.nn.functional.batch_norm(torch.ones(1, 3), None, None, training=True)
    with pytest.raises(ValueError, match="more than 1 value per"):
        numerics.batchnorm_forward(np.ones((1, 3)), np.ones(3), np.zeros(3))
    with pytest.raises(ValueError, match="more than 1 value per"):
        norms.spatial_batchnorm_forward(np.ones((1, 3, 1, 1)), np.ones(3), np.zeros(3))


# ---------------------------------------------------------------- float16, live

TORCH_KIND = {"batchnorm": "batchnorm", "spatial_batchnorm": "spatial_batchnorm", "layernorm": "layernorm",
              "layernorm4d": "layernorm", "instancenorm": "instancenorm", "groupnorm": "groupnorm"}


def torch_float16(kind, args, dtype):
    """torch's forward and backward on the float16 ``args`` cast to ``dtype``, rounded to float16."""
    x, gamma, beta, dout = (a.astype(dtype) for a in args)
    g = make_goldens.norm_case(kind, x, gamma, beta, dout, G=2 if kind == "groupnorm" else None)
    return {k: np.asarray(g[k]).astype(np.float16) for k in ("out", "dx", "dgamma", "dbeta")}


def test_float16_batch_of_the_issue_like_torch():
    torch = pytest.importorskip("torch")
    x = np.array([[200.0], [-200.0]], np.float16)
    theirs = torch.nn.functional.batch_norm(torch.from_numpy(x), None, None, training=True).numpy()
    ours, _ = numerics.batchnorm_forward(x, [1.0], [0.0])
    assert ours.dtype == theirs.dtype == np.float16
    assert ours.ravel().tolist() == theirs.ravel().tolist() == [1.0, -1.0]


# Shapes whose normalization groups hold 16 values or more. torch's float32 layer norm computes the variance in
# one pass (E[x^2] - E[x]^2): in a group of 2 values that happen to be close it loses digits (for a constant
# row of -6e4 its dx is 1024 where the exact value is 811), so small groups are compared with float64 only
# (test_norms).
TORCH_SHAPES = {
    "batchnorm": st.tuples(st.sampled_from([16, 64, 3000]), st.integers(1, 4)),
    "layernorm": st.tuples(st.integers(1, 8), st.sampled_from([16, 64])),
    **dict.fromkeys(["spatial_batchnorm", "layernorm4d", "instancenorm", "groupnorm"],
                    st.tuples(st.integers(1, 3), st.sampled_from([2, 4]), st.sampled_from([4, 8]), st.sampled_from([4, 30]))),
}


@pytest.mark.parametrize("name", TORCH_KIND)
@settings(deadline=None, max_examples=25)
@given(data=st.data())
def test_float16_live_against_torch_in_float32(name, data):
    pytest.importorskip("torch")  # Hypothesis passes pytest's skip through: the whole test is skipped
    # PyTorch's CPU kernels accumulate half in float: torch in float32, rounded to float16, is the reference.
    # Each side lies within one allowance of the exact value, so within two of each other. Offsets stay
    # within 3 spreads: for a mean 1e6 times the spread, torch's float32 is itself far from the exact value
    # (test_norms checks ours there against float64).
    args = data.draw(float16_inputs(TORCH_SHAPES[name], conditioned=True))
    ours, theirs = run(name, *args), torch_float16(TORCH_KIND[name], args, np.float32)
    _, scale = truth_and_scale(name, *args)
    for k in ("out", "dx", "dgamma", "dbeta"):
        assert ours[k].dtype == np.float16 and excess(ours[k], theirs[k], scale[k]) <= 2.0, k


@pytest.mark.parametrize("name", EDGE_BATCHES)
def test_float16_edge_batches_against_torch(name):
    pytest.importorskip("torch")
    x = EDGE_BATCHES[name].astype(np.float16)
    rng = np.random.default_rng(len(name))
    d = x.shape[1]
    args = (x, rng.uniform(0.5, 2, d).astype(np.float16), rng.normal(0, 1, d).astype(np.float16),
            rng.normal(0, 1, x.shape).astype(np.float16))
    ours, theirs = run("batchnorm", *args), torch_float16("batchnorm", args, np.float32)
    _, scale = truth_and_scale("batchnorm", *args)
    for k in ("out", "dx", "dgamma", "dbeta"):
        assert excess(ours[k], theirs[k], scale[k]) <= 2.0, k


# batch variances near 90000 (past float16's 65504) with momentum 0.1; 10000 for the cumulative average,
# which would itself pass 65504 with 90000
@pytest.mark.parametrize("shape, momentum, spread", [((16, 3), 0.1, 300.0), ((4, 2, 3, 3), None, 100.0)])
def test_float16_running_statistics_like_torch_half_modules(shape, momentum, spread):
    # torch's half BatchNorm updates its half buffers in float and rounds once: the same numbers here
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(12)
    c = shape[1]
    layer = (torch.nn.BatchNorm1d if len(shape) == 2 else torch.nn.BatchNorm2d)(c, momentum=momentum).half()
    s = stats.init_running_stats(c, dtype=np.float16)
    gamma, beta = np.ones(c, np.float16), np.zeros(c, np.float16)
    with torch.no_grad():
        for step in range(3):
            xb = (spread * rng.standard_normal(shape) + 50 * step).astype(np.float16)
            layer(torch.from_numpy(xb))
            _, _, s = stats.batchnorm_train_step(xb, gamma, beta, s, momentum=momentum)
        x_eval = (spread * rng.standard_normal(shape)).astype(np.float16)
        eval_out = layer.eval()(torch.from_numpy(x_eval)).numpy()
    assert s.var.dtype == np.float16 and np.all(np.isfinite(s.var)) and s.var.min() > 0.05 * spread**2
    np.testing.assert_allclose(s.mean, layer.running_mean.numpy(), rtol=2**-10, atol=2**-24)
    np.testing.assert_allclose(s.var, layer.running_var.numpy(), rtol=2**-10)
    ours = stats.batchnorm_eval(x_eval, gamma, beta, s.mean, s.var)
    np.testing.assert_allclose(ours, eval_out, rtol=2**-10, atol=2**-24)
