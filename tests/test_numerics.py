"""The forward reference: the worked example, conventions, errors, properties."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from bn_helpers import data, numerics


def test_worked_example_numbers():
    x = data.worked_example()
    assert numerics.batch_mean(x)[0] == pytest.approx(1.12, abs=1e-12)
    assert numerics.batch_variance(x)[0] == pytest.approx(2.8376, abs=1e-12)
    out, cache = numerics.batchnorm_forward(x, [data.WORKED_GAMMA], [data.WORKED_BETA])
    assert cache.x_hat[0, 0] == pytest.approx(0.70, abs=0.005)
    assert cache.x_hat[1, 0] == pytest.approx(-0.96, abs=0.005)
    assert out[0, 0] == pytest.approx(1.14, abs=0.005)
    assert cache.inv_std[0] == pytest.approx(1 / np.sqrt(2.8376 + 1e-5), rel=1e-12)


def test_cache_fields_and_input_untouched():
    x = np.random.default_rng(0).normal(size=(6, 3))
    gamma, beta = np.ones(3), np.zeros(3)
    before = x.copy()
    out, cache = numerics.batchnorm_forward(x, gamma, beta, eps=0.1)
    assert np.array_equal(x, before)
    assert cache.eps == 0.1 and cache.mean.shape == cache.var.shape == cache.inv_std.shape == (3,)
    assert cache.x is x  # a reference, as PyTorch saves its input: no copy pass
    assert not np.shares_memory(out, x) and not np.shares_memory(cache.x_hat, x)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_preserved(dtype):
    x = np.random.default_rng(1).normal(size=(8, 4)).astype(dtype)
    out, cache = numerics.batchnorm_forward(x, np.ones(4), np.zeros(4))
    assert out.dtype == dtype and cache.x_hat.dtype == dtype and cache.var.dtype == dtype


def test_large_mean_float32_variance_is_right():
    rng = np.random.default_rng(2)
    x = (1e4 + 1e-2 * rng.standard_normal((256, 6))).astype(np.float32)
    truth = x.astype(np.float64).var(axis=0)
    var = numerics.batch_variance(x)
    assert np.all(var > 0)
    np.testing.assert_allclose(var, truth, rtol=1e-5)
    naive = (x**2).mean(0) - x.mean(0) ** 2  # what the reference avoids
    assert np.abs(naive - truth).max() > 1e3 * truth.max()


@pytest.mark.parametrize(
    "args, match",
    [
        ((np.ones(5), [1.0], [0.0]), r"x must be 2-D \(N, D\); got shape \(5,\)"),
        ((np.ones((1, 3)), np.ones(3), np.zeros(3)), r"more than 1 value per feature.*got 1"),
        ((np.ones((4, 3)), np.ones(2), np.zeros(3)), r"gamma must have shape \(3,\).*got shape \(2,\)"),
        ((np.ones((4, 3)), np.ones(3), np.zeros((3, 1))), r"beta must have shape \(3,\).*got shape \(3, 1\)"),
    ],
)
def test_errors_name_expected_and_received(args, match):
    with pytest.raises(ValueError, match=match):
        numerics.batchnorm_forward(*args)


def test_negative_eps_and_non_numeric_input():
    with pytest.raises(ValueError, match="eps must be a number >= 0; got -1"):
        numerics.batchnorm_forward(np.ones((3, 2)), np.ones(2), np.zeros(2), eps=-1)
    with pytest.raises(TypeError, match="real floating-point"):
        numerics.batch_mean(np.array([["a", "b"]]))


batches = arrays(
    np.float64,
    st.tuples(st.integers(2, 40), st.integers(1, 8)),
    elements=st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False),
)


@settings(max_examples=60, deadline=None)
@given(batches)
def test_standardizes_each_feature(x):
    spread = x.std(axis=0)
    out, cache = numerics.batchnorm_forward(x, np.ones(x.shape[1]), np.zeros(x.shape[1]))
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-9)
    # std 1 up to eps: exactly sqrt(var / (var + eps)), which is 0 for a constant feature
    np.testing.assert_allclose(out.std(axis=0), np.sqrt(spread**2 / (spread**2 + 1e-5)), rtol=1e-6, atol=1e-9)


@settings(max_examples=60, deadline=None)
@given(batches, st.floats(0.1, 10), st.floats(-10, 10))
def test_undo_parameters_give_the_input_back(x, scale, shift):
    x = x * scale + shift
    eps = 1e-5
    gamma = np.sqrt(numerics.batch_variance(x) + eps)
    beta = numerics.batch_mean(x)
    out, _ = numerics.batchnorm_forward(x, gamma, beta, eps)
    np.testing.assert_allclose(out, x, rtol=1e-7, atol=1e-7 * (1 + np.abs(x).max()))
