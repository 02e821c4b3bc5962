"""Float16 inputs for every normalization: the cases, the float64 truth, and the tolerance.

Used by test_numerics and test_norms (against a float64 computation)
and test_conformance (against torch). Float16 data must be summed and
normalized in float32 and rounded to float16 once, as PyTorch's CPU kernels do:
then each result lies within half a float16 ulp of the exact value, plus the
float32 rounding of the terms that cancel in it.
"""
from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from bn_helpers import norms, numerics

F16_MAX = 6e4  # inputs up to |x| = 6e4, near float16's largest value 65504

#: name -> (forward(x, gamma, beta), backward(dout, cache), ndim of x)
VARIANTS = {
    "batchnorm": (numerics.batchnorm_forward, norms.batchnorm_backward_compact, 2),
    "batchnorm_staged": (numerics.batchnorm_forward, norms.batchnorm_backward, 2),
    "spatial_batchnorm": (norms.spatial_batchnorm_forward, norms.spatial_batchnorm_backward, 4),
    "layernorm": (norms.layernorm_forward, norms.layernorm_backward, 2),
    "layernorm4d": (norms.layernorm_forward, norms.layernorm_backward, 4),
    "instancenorm": (norms.instancenorm_forward, norms.instancenorm_backward, 4),
    "groupnorm": (lambda x, g, b: norms.groupnorm_forward(x, g, b, 2), norms.groupnorm_backward, 4),
    # the running statistics sit away from the batch's, so that r and d are clipped for some features
    "batch_renorm": (lambda x, g, b: norms.batch_renorm_forward(
        x, g, b, np.linspace(-1, 1, x.shape[1]), np.linspace(0.5, 4, x.shape[1]), r_max=3.0, d_max=5.0),
        norms.batch_renorm_backward, 2),
}


def run(name: str, x, gamma, beta, dout) -> dict:
    """Forward and backward of one variant: out, dx, dgamma, dbeta and the cache."""
    forward, backward, _ = VARIANTS[name]
    out, cache = forward(x, gamma, beta)
    dx, dgamma, dbeta = backward(dout, cache)
    return {"out": out, "dx": dx, "dgamma": dgamma, "dbeta": dbeta, "cache": cache}


def _groups(cache) -> tuple[tuple[int, ...], tuple[int, ...], np.ndarray]:
    """The view, the averaged axes and ``inv_std`` (keepdims, on the view) of a cache."""
    cache = getattr(cache, "bn", cache)  # RenormCache -> its BatchNormCache
    if isinstance(cache, numerics.BatchNormCache):
        return cache.x.shape, (0,), cache.inv_std[None, :]
    return cache.view, cache.axes, np.expand_dims(cache.inv_std, cache.axes)


def _group_max(a: np.ndarray, view, axes) -> np.ndarray:
    """Each entry replaced by the largest |value| of its normalization group."""
    a = np.abs(a).reshape(view)
    return np.broadcast_to(a.max(axis=axes, keepdims=True), view)


def truth_and_scale(name: str, x16, gamma16, beta16, dout16) -> tuple[dict, dict]:
    """The float64 results on the same float16 values, and the size of the terms behind each.

    ``scale`` bounds what float32 rounding inside the computation can move a
    result: ``|gamma| * max|x_hat| + |beta|`` for ``out``,
    ``inv_std * max|dout * gamma * r|`` (per normalization group) for ``dx``,
    ``sum|dout * x_hat|`` and ``sum|dout|`` for ``dgamma`` and ``dbeta``.
    """
    x, gamma, beta, dout = (np.asarray(a, np.float64) for a in (x16, gamma16, beta16, dout16))
    truth = run(name, x, gamma, beta, dout)
    cache = truth["cache"]
    view, axes, inv_std = _groups(cache)
    param = (1, -1) + (1,) * (x.ndim - 2)
    x_hat = cache.x_hat  # the renormalized one for batch renorm
    dx_hat = dout * gamma.reshape(param) * (cache.r if name == "batch_renorm" else 1.0)
    channel_sum = tuple(a for a in range(x.ndim) if a != 1)
    scale = {
        "out": (np.abs(gamma.reshape(param)) * _group_max(x_hat, view, axes).reshape(x.shape)
                + np.abs(beta.reshape(param))),
        "dx": (np.broadcast_to(inv_std, view) * _group_max(dx_hat, view, axes)).reshape(x.shape),
        "dgamma": np.abs(dout * x_hat).sum(axis=channel_sum),
        "dbeta": np.abs(dout).sum(axis=channel_sum),
    }
    return truth, scale


def excess(got, truth, scale) -> float:
    """The largest error of ``got`` in units of its allowance (<= 1 passes).

    Allowance: half a float16 ulp of the exact value (the final rounding),
    2**-12 of the scale of the terms (float32 rounding inside), and 2**-24
    (float16's spacing below 6.1e-5).
    """
    got, truth = np.asarray(got, np.float64), np.asarray(truth, np.float64)
    allowed = 2.0**-11 * np.abs(truth) + 2.0**-12 * np.asarray(scale) + 2.0**-24
    return float(np.max(np.abs(got - truth) / allowed)) if got.size else 0.0


def assert_float16_close(got: dict, truth: dict, scale: dict, keys=("out", "dx", "dgamma", "dbeta")) -> None:
    """float16 results, all finite, each within its allowance of the float64 truth."""
    for k in keys:
        assert got[k].dtype == np.float16, f"{k}: dtype {got[k].dtype}, expected float16"
        assert np.all(np.isfinite(got[k])), f"{k}: not finite where the exact value is {truth[k]}"
        e = excess(got[k], truth[k], scale[k])
        assert e <= 1.0, f"{k}: error {e:.2f} times the allowance; got {got[k]}, exact {truth[k]}"


def shapes(ndim: int):
    """Shapes with groups of 1 to 3000 values: (N, D) with N up to 3000, (N, C, H, W) up to 3 x 4 x 4 x 30."""
    if ndim == 2:
        return st.tuples(st.sampled_from([2, 3, 5, 64, 3000]), st.integers(1, 4))
    return st.tuples(st.integers(1, 3), st.sampled_from([2, 4]), st.integers(1, 4), st.sampled_from([2, 5, 30]))


@st.composite
def float16_inputs(draw, shape_strategy, conditioned: bool = False):
    """(x, gamma, beta, dout) in float16: spreads from 1e-2 to 6e4, offsets up to 6e4.

    ``shape_strategy`` is an int (2 or 4: :func:`shapes`) or a strategy of shapes.
    ``conditioned=True`` keeps spreads below 6e3 and the offset within 3 spreads
    of 0, so that nothing is clipped at 6e4 and float32 arithmetic of any order
    (PyTorch's one-pass variance included) is accurate, given groups of 16
    values or more; otherwise the offset may reach 6e4 whatever the spread (a
    mean 1e6 times the spread), and constant groups appear where x is clipped.
    """
    seed = draw(st.integers(0, 2**32 - 1))
    shape = draw(shapes(shape_strategy) if isinstance(shape_strategy, int) else shape_strategy)
    rng = np.random.default_rng(seed)
    if conditioned:
        spread = 10.0 ** draw(st.floats(-2, np.log10(F16_MAX / 10)))
        offset = spread * draw(st.floats(-3, 3))
    else:
        spread = 10.0 ** draw(st.floats(-2, np.log10(F16_MAX)))
        offset = draw(st.floats(-F16_MAX, F16_MAX)) * draw(st.sampled_from([0.0, 1e-3, 1.0]))
    x = np.clip(offset + spread * rng.standard_normal(shape), -F16_MAX, F16_MAX)
    c = shape[1]
    gamma, beta = rng.uniform(0.5, 2, c), rng.normal(0, 1, c)
    dout = rng.normal(0, 1, shape)
    return tuple(a.astype(np.float16) for a in (x, gamma, beta, dout))


#: Hand-picked float16 batches (N, D) that broke a float16 accumulation: the issue's example, a sum of
#: squares past 65504 from many small values, values whose centred form x - mean passes 65504.
EDGE_BATCHES = {
    "issue_example": np.array([[200.0], [-200.0]]),
    "sum_of_squares_of_3000_tens": np.where(np.arange(3000)[:, None] % 2, 10.0, -10.0) * np.ones((1, 2)),
    "largest_values": np.array([[65504.0, 6e4], [-65504.0, -6e4], [65504.0, 1.0]]),
    "centred_past_65504": np.array([[6e4], [-6e4], [-6e4], [-6e4]]),
}
