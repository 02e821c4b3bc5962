"""Backward passes and the normalization family: numerical gradients, identities, errors."""
import doctest

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bn_helpers import norms
from bn_helpers.numerics import normalize as numerics_normalize
from bn_helpers.gradcheck import numerical_gradient, rel_error
from bn_helpers.numerics import batchnorm_forward
from float16_cases import VARIANTS, assert_float16_close, excess, float16_inputs, run, truth_and_scale

FAST = settings(deadline=None, max_examples=25)


def _data(rng, shape):
    """Inputs with an offset and a scale per call, so that eps matters little."""
    return rng.normal(loc=rng.uniform(-3, 3), scale=rng.uniform(0.5, 3), size=shape)


# Every (forward, backward) pair with a small input shape; group norm with G=2.
PAIRS = {
    "batchnorm": (batchnorm_forward, norms.batchnorm_backward, (5, 3)),
    "batchnorm_compact": (batchnorm_forward, norms.batchnorm_backward_compact, (5, 3)),
    "spatial_batchnorm": (norms.spatial_batchnorm_forward, norms.spatial_batchnorm_backward, (2, 3, 2, 3)),
    "layernorm_2d": (norms.layernorm_forward, norms.layernorm_backward, (3, 5)),
    "layernorm_4d": (norms.layernorm_forward, norms.layernorm_backward, (2, 3, 2, 2)),
    "instancenorm": (norms.instancenorm_forward, norms.instancenorm_backward, (2, 3, 2, 3)),
    "groupnorm": (
        lambda x, g, b, eps=1e-5: norms.groupnorm_forward(x, g, b, 2, eps),
        norms.groupnorm_backward,
        (2, 4, 2, 2),
    ),
}


@pytest.mark.parametrize("name", PAIRS)
def test_backward_matches_numerical_gradient(name):
    forward, backward, shape = PAIRS[name]
    rng = np.random.default_rng(sum(map(ord, name)))
    x = _data(rng, shape)
    gamma, beta = rng.normal(size=shape[1]), rng.normal(size=shape[1])
    dout = rng.normal(size=shape)  # random, never ones: ones hide every bug in dx
    _, cache = forward(x, gamma, beta)
    dx, dgamma, dbeta = backward(dout, cache)
    assert rel_error(dx, numerical_gradient(lambda z: forward(z, gamma, beta)[0], x, dout)) < 1e-6
    assert rel_error(dgamma, numerical_gradient(lambda g: forward(x, g, beta)[0], gamma, dout)) < 1e-6
    assert rel_error(dbeta, numerical_gradient(lambda b: forward(x, gamma, b)[0], beta, dout)) < 1e-6


@pytest.mark.parametrize("name", PAIRS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_preserved_and_inputs_untouched(name, dtype):
    forward, backward, shape = PAIRS[name]
    rng = np.random.default_rng(1)
    x = _data(rng, shape).astype(dtype)
    gamma, beta, dout = np.ones(shape[1], dtype), np.zeros(shape[1], dtype), rng.normal(size=shape).astype(dtype)
    saved = [a.copy() for a in (x, gamma, beta, dout)]
    out, cache = forward(x, gamma, beta)
    grads = backward(dout, cache)
    assert out.dtype == dtype and all(g.dtype == dtype for g in grads)
    assert grads[0].shape == shape and grads[1].shape == grads[2].shape == (shape[1],)
    for before, after in zip(saved, (x, gamma, beta, dout)):
        assert np.array_equal(before, after)
    assert getattr(cache, "x", None) is x or cache.bn.x is x  # a reference, as PyTorch saves inputs: no copy pass


def test_float32_gradient_close_to_float64():
    rng = np.random.default_rng(2)
    x, dout = _data(rng, (4, 6, 3, 3)), rng.normal(size=(4, 6, 3, 3))
    gamma, beta = rng.normal(size=6), rng.normal(size=6)
    grads64 = norms.groupnorm_backward(dout, norms.groupnorm_forward(x, gamma, beta, 3)[1])
    x32, g32, b32, d32 = (a.astype(np.float32) for a in (x, gamma, beta, dout))
    grads32 = norms.groupnorm_backward(d32, norms.groupnorm_forward(x32, g32, b32, 3)[1])
    for g32_, g64_ in zip(grads32, grads64):
        np.testing.assert_allclose(g32_, g64_, rtol=1e-3, atol=1e-4)


shapes_2d = st.tuples(st.integers(2, 16), st.integers(1, 8))
seeds = st.integers(0, 2**32 - 1)


@FAST
@given(shape=shapes_2d, seed=seeds)
def test_staged_equals_compact(shape, seed):
    rng = np.random.default_rng(seed)
    x, dout = _data(rng, shape), rng.normal(size=shape)
    _, cache = batchnorm_forward(x, rng.normal(size=shape[1]), rng.normal(size=shape[1]))
    for staged, compact in zip(norms.batchnorm_backward(dout, cache), norms.batchnorm_backward_compact(dout, cache)):
        np.testing.assert_allclose(staged, compact, rtol=1e-10, atol=1e-10)


@FAST
@given(shape=shapes_2d, seed=seeds)
def test_batchnorm_dx_sums_to_zero_and_is_orthogonal_to_x_hat(shape, seed):
    # Exactly orthogonal only with eps = 0: with eps, sum(x_hat**2) = N var / (var + eps) < N.
    rng = np.random.default_rng(seed)
    x, dout = _data(rng, shape), rng.normal(size=shape)
    gamma = rng.normal(size=shape[1])
    _, cache = batchnorm_forward(x, gamma, np.zeros(shape[1]), eps=0.0)
    dx = norms.batchnorm_backward_compact(dout, cache)[0]
    scale = cache.inv_std * np.abs(dout * gamma).sum(axis=0)  # size of the terms that must cancel
    assert np.all(np.abs(dx.sum(axis=0)) <= 1e-10 * scale)
    assert np.all(np.abs((dx * cache.x_hat).sum(axis=0)) <= 1e-10 * scale)


def test_batchnorm_orthogonality_fails_for_a_wrong_backward():
    # The property test above can fail: dx = dout * gamma * inv_std (mean and var treated as constants).
    rng = np.random.default_rng(3)
    x, dout = _data(rng, (8, 3)), rng.normal(size=(8, 3))
    _, cache = batchnorm_forward(x, np.ones(3), np.zeros(3), eps=0.0)
    wrong = dout * cache.inv_std
    assert np.abs(wrong.sum(axis=0)).max() > 1e-3


shapes_4d = st.tuples(st.integers(1, 4), st.integers(1, 5), st.integers(1, 3), st.integers(2, 3))


def _assert_pair_equal(a, b):
    (out_a, cache_a), grads_a = a
    (out_b, cache_b), grads_b = b
    np.testing.assert_allclose(out_a, out_b, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(cache_a.x_hat, cache_b.x_hat, rtol=1e-12, atol=1e-12)
    for ga, gb in zip(grads_a, grads_b):
        np.testing.assert_allclose(ga, gb, rtol=1e-10, atol=1e-10)


def _run(forward, backward, x, gamma, beta, dout, *args):
    out, cache = forward(x, gamma, beta, *args)
    return (out, cache), backward(dout, cache)


@FAST
@given(shape=shapes_4d, seed=seeds)
def test_groupnorm_with_G_equal_C_is_instancenorm(shape, seed):
    rng = np.random.default_rng(seed)
    x, dout = _data(rng, shape), rng.normal(size=shape)
    gamma, beta = rng.normal(size=shape[1]), rng.normal(size=shape[1])
    gn = _run(norms.groupnorm_forward, norms.groupnorm_backward, x, gamma, beta, dout, shape[1])
    inorm = _run(norms.instancenorm_forward, norms.instancenorm_backward, x, gamma, beta, dout)
    _assert_pair_equal(gn, inorm)
    np.testing.assert_allclose(gn[0][1].inv_std, inorm[0][1].inv_std, rtol=1e-12)


@FAST
@given(shape=shapes_4d, seed=seeds)
def test_groupnorm_with_one_group_is_layernorm(shape, seed):
    rng = np.random.default_rng(seed)
    x, dout = _data(rng, shape), rng.normal(size=shape)
    gamma, beta = rng.normal(size=shape[1]), rng.normal(size=shape[1])
    gn = _run(norms.groupnorm_forward, norms.groupnorm_backward, x, gamma, beta, dout, 1)
    ln = _run(norms.layernorm_forward, norms.layernorm_backward, x, gamma, beta, dout)
    _assert_pair_equal(gn, ln)


def test_groupnorm_groups_are_consecutive_channels():
    # Channels 0-1 form group 0: scaling channel 3 by 100 must leave them unchanged.
    rng = np.random.default_rng(4)
    x = _data(rng, (2, 4, 3, 3))
    y = x.copy()
    y[:, 3] *= 100.0
    out_x, _ = norms.groupnorm_forward(x, np.ones(4), np.zeros(4), 2)
    out_y, _ = norms.groupnorm_forward(y, np.ones(4), np.zeros(4), 2)
    np.testing.assert_allclose(out_x[:, :2], out_y[:, :2], rtol=1e-12)
    assert not np.allclose(out_x[:, 2:], out_y[:, 2:])


@FAST
@given(shape=shapes_4d.filter(lambda s: s[0] * s[2] * s[3] >= 2), seed=seeds)
def test_spatial_batchnorm_is_batchnorm_on_pixels(shape, seed):
    rng = np.random.default_rng(seed)
    n, c, h, w = shape
    x, dout = _data(rng, shape), rng.normal(size=shape)
    gamma, beta = rng.normal(size=c), rng.normal(size=c)

    def to_rows(a):
        return a.transpose(0, 2, 3, 1).reshape(-1, c)

    def to_images(a):
        return a.reshape(n, h, w, c).transpose(0, 3, 1, 2)

    out, cache = norms.spatial_batchnorm_forward(x, gamma, beta)
    ref_out, ref_cache = batchnorm_forward(to_rows(x), gamma, beta)
    np.testing.assert_allclose(out, to_images(ref_out), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(cache.mean, ref_cache.mean, rtol=1e-12, atol=1e-12)
    dx, dgamma, dbeta = norms.spatial_batchnorm_backward(dout, cache)
    ref_dx, ref_dgamma, ref_dbeta = norms.batchnorm_backward(to_rows(dout), ref_cache)
    np.testing.assert_allclose(dx, to_images(ref_dx), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(dgamma, ref_dgamma, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(dbeta, ref_dbeta, rtol=1e-10, atol=1e-10)


def test_statistics_have_the_documented_shapes():
    x = np.random.default_rng(5).normal(size=(2, 6, 3, 4))
    g, b = np.ones(6), np.zeros(6)
    assert norms.spatial_batchnorm_forward(x, g, b)[1].mean.shape == (6,)
    assert norms.layernorm_forward(x, g, b)[1].var.shape == (2,)
    assert norms.instancenorm_forward(x, g, b)[1].inv_std.shape == (2, 6)
    assert norms.groupnorm_forward(x, g, b, 3)[1].mean.shape == (2, 3)


def test_layernorm_rows_are_standardized_and_per_channel_affine():
    rng = np.random.default_rng(6)
    x = _data(rng, (3, 7))
    out, _ = norms.layernorm_forward(x, np.ones(7), np.zeros(7), eps=0.0)
    np.testing.assert_allclose(out.mean(axis=1), 0, atol=1e-12)
    np.testing.assert_allclose(out.std(axis=1), 1, rtol=1e-12)
    x4 = _data(rng, (2, 3, 2, 2))
    gamma = np.array([1.0, 2.0, 3.0])
    scaled, _ = norms.layernorm_forward(x4, gamma, np.zeros(3))
    plain, _ = norms.layernorm_forward(x4, np.ones(3), np.zeros(3))
    np.testing.assert_allclose(scaled, plain * gamma[None, :, None, None], rtol=1e-12)


# --------------------------------------------------------------------------
# Errors for people
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: norms.spatial_batchnorm_forward(np.ones((3, 5)), np.ones(5), np.zeros(5)),
         r"x must be 4-D \(N, C, H, W\); got shape \(3, 5\)"),
        (lambda: norms.instancenorm_forward(np.ones((2, 3, 4)), np.ones(3), np.zeros(3)),
         r"x must be 4-D \(N, C, H, W\); got shape \(2, 3, 4\)"),
        (lambda: norms.groupnorm_forward(np.ones((2, 3)), np.ones(3), np.zeros(3), 1),
         r"x must be 4-D \(N, C, H, W\); got shape \(2, 3\)"),
        (lambda: norms.layernorm_forward(np.ones((2, 3, 4)), np.ones(3), np.zeros(3)),
         r"x must be 2-D \(N, D\) or 4-D \(N, C, H, W\); got shape \(2, 3, 4\)"),
        (lambda: norms.layernorm_forward(np.ones((2, 3)), np.ones(4), np.zeros(3)),
         r"gamma must have shape \(3,\).*got shape \(4,\)"),
        (lambda: norms.instancenorm_forward(np.ones((2, 3, 2, 2)), np.ones(3), np.zeros((1, 3))),
         r"beta must have shape \(3,\).*got shape \(1, 3\)"),
        (lambda: norms.groupnorm_forward(np.ones((2, 6, 2, 2)), np.ones(6), np.zeros(6), 4),
         r"C must be divisible by .* G; got C=6, G=4"),
        (lambda: norms.groupnorm_forward(np.ones((2, 6, 2, 2)), np.ones(6), np.zeros(6), 0),
         r"G \(number of groups\) must be >= 1; got G=0"),
        (lambda: norms.instancenorm_forward(np.ones((2, 3, 1, 1)), np.ones(3), np.zeros(3)),
         r"more than 1 value .* got 1"),
        (lambda: norms.spatial_batchnorm_forward(np.ones((1, 3, 1, 1)), np.ones(3), np.zeros(3)),
         r"more than 1 value .* got 1"),
    ],
)
def test_forward_errors_name_the_argument(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_backward_errors_name_the_problem():
    x = np.random.default_rng(7).normal(size=(2, 4, 2, 2))
    _, cache = norms.groupnorm_forward(x, np.ones(4), np.zeros(4), 2)
    with pytest.raises(ValueError, match=r"dout must be 4-D \(N, C, H, W\); got shape \(2, 4, 4\)"):
        norms.groupnorm_backward(np.ones((2, 4, 4)), cache)
    with pytest.raises(ValueError, match=r"dout must have the shape of x, \(2, 4, 2, 2\); got shape \(2, 4, 1, 4\)"):
        norms.groupnorm_backward(np.ones((2, 4, 1, 4)), cache)
    with pytest.raises(ValueError, match="cache must come from instancenorm_forward; got a cache from groupnorm_forward"):
        norms.instancenorm_backward(np.ones_like(x), cache)
    with pytest.raises(TypeError, match="cache must be the BatchNormCache returned by batchnorm_forward; got NormCache"):
        norms.batchnorm_backward(np.ones_like(x), cache)
    _, bn_cache = batchnorm_forward(np.ones((3, 2)) + np.eye(3, 2), np.ones(2), np.zeros(2))
    with pytest.raises(TypeError, match="cache must be the NormCache returned by layernorm_forward; got BatchNormCache"):
        norms.layernorm_backward(np.ones((3, 2)), bn_cache)
    with pytest.raises(ValueError, match=r"dout must have the shape of x, \(3, 2\); got shape \(2, 3\)"):
        norms.batchnorm_backward_compact(np.ones((2, 3)), bn_cache)
    with pytest.raises(TypeError, match="G .* must be an integer; got float"):
        norms.groupnorm_forward(x, np.ones(4), np.zeros(4), 2.0)



@pytest.mark.parametrize("backward", [norms.batchnorm_backward, norms.batchnorm_backward_compact])
@pytest.mark.parametrize("wrap", [tuple, list, lambda c: c._asdict()], ids=["tuple", "list", "dict"])
def test_a_cache_without_names_is_refused_with_what_was_expected(backward, wrap):
    """A plain tuple (or list, or dict) as the cache: a TypeError naming the BatchNormCache and its fields, not AttributeError."""
    x = np.random.default_rng(8).normal(size=(4, 3))
    _, cache = batchnorm_forward(x, np.ones(3), np.zeros(3))
    with pytest.raises(TypeError, match=r"cache must be the BatchNormCache returned by batchnorm_forward; got "
                                        r"\w+ .*named fields x, x_hat, mean, var, inv_std, gamma, beta, eps"):
        backward(np.ones_like(x), wrap(cache))


def test_renorm_backward_names_its_cache():
    x = np.random.default_rng(9).normal(size=(4, 3))
    _, cache = batchnorm_forward(x, np.ones(3), np.zeros(3))
    with pytest.raises(TypeError, match="cache must be the RenormCache returned by batch_renorm_forward; got BatchNormCache"):
        norms.batch_renorm_backward(np.ones_like(x), cache)
    with pytest.raises(TypeError, match="got tuple of 4 item"):
        norms.batch_renorm_backward(np.ones_like(x), (1, 2, 3, 4))


# --------------------------------------------------------------------------
# float16: summed and computed in float32, rounded once (as PyTorch's CPU kernels do)
# --------------------------------------------------------------------------


@pytest.mark.parametrize("name", VARIANTS)
@settings(deadline=None, max_examples=40)
@given(data=st.data())
def test_float16_forward_and_backward_match_float64(name, data):
    # |x| up to 6e4, batches of up to 3000 values: float16 sums of squares overflow in most draws
    args = data.draw(float16_inputs(VARIANTS[name][2]))
    truth, scale = truth_and_scale(name, *args)
    assert_float16_close(run(name, *args), truth, scale)


@pytest.mark.parametrize("name", VARIANTS)
def test_float16_caches_hold_float32_and_inputs_are_untouched(name):
    rng = np.random.default_rng(8)
    shape = (6, 4) if VARIANTS[name][2] == 2 else (2, 4, 3, 3)
    x = (300 * rng.standard_normal(shape)).astype(np.float16)  # variances near 90000 > 65504
    gamma, beta, dout = np.ones(4, np.float16), np.zeros(4, np.float16), rng.normal(size=shape).astype(np.float16)
    saved = [a.copy() for a in (x, gamma, beta, dout)]
    got = run(name, x, gamma, beta, dout)
    bn = getattr(got["cache"], "bn", got["cache"])
    assert bn.x is x and bn.var.dtype == bn.inv_std.dtype == bn.x_hat.dtype == np.float32
    assert np.all(np.isfinite(bn.var)) and bn.var.max() > 65504
    for before, after in zip(saved, (x, gamma, beta, dout)):
        assert np.array_equal(before, after)


def test_normalize_backward_sums_float16_in_float32():
    rng = np.random.default_rng(9)
    x = np.where(np.arange(3000)[:, None] % 2, 10.0, -10.0) + rng.normal(0, 1, (3000, 2))
    x_hat, _, _, inv_std = numerics_normalize(x, (0,))
    dx_hat = 40 * x_hat + rng.normal(size=(3000, 2))  # sum(dx_hat * x_hat) is near 120000 > 65504
    dx_hat, x_hat = dx_hat.astype(np.float16), x_hat.astype(np.float16)
    got = norms.normalize_backward(dx_hat, x_hat, inv_std, (0,))
    exact = norms.normalize_backward(dx_hat.astype(np.float64), x_hat.astype(np.float64), inv_std, (0,))
    assert got.dtype == np.float16 and np.all(np.isfinite(got))
    assert excess(got, exact, inv_std * np.abs(dx_hat).max(axis=0)) <= 1.0


def test_docstring_examples_run():
    assert doctest.testmod(norms).failed == 0
