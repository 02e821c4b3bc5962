"""The forward reference: the worked example, conventions, errors, properties."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from bn_helpers import data, numerics
from float16_cases import EDGE_BATCHES, assert_float16_close, run, truth_and_scale


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


@pytest.mark.parametrize(
    "eps, error, match",
    [
        (-1, ValueError, r"^eps must be >= 0 and finite; got -1.0$"),
        (float("nan"), ValueError, r"^eps must be >= 0 and finite; got nan$"),
        (float("inf"), ValueError, r"^eps must be >= 0 and finite; got inf$"),
        ("1e-5", TypeError, r"^eps must be a real number >= 0; got str '1e-5'$"),
        (None, TypeError, r"^eps must be a real number >= 0; got NoneType None$"),
    ],
)
def test_eps_errors_name_the_argument(eps, error, match):
    with pytest.raises(error, match=match):
        numerics.batchnorm_forward(np.ones((3, 2)), np.ones(2), np.zeros(2), eps=eps)


def test_eps_zero_is_allowed_for_exact_identities():
    out, cache = numerics.batchnorm_forward([[1.0], [3.0]], [1.0], [0.0], eps=0)
    assert out.ravel().tolist() == [-1.0, 1.0] and cache.eps == 0.0


def test_non_numeric_input_and_parameters():
    with pytest.raises(TypeError, match="real floating-point"):
        numerics.batch_mean(np.array([["a", "b"]]))
    with pytest.raises(TypeError, match=r"^gamma must hold real numbers, shape \(2,\); got dtype <U1$"):
        numerics.batchnorm_forward(np.ones((3, 2)), ["a", "b"], np.zeros(2))
    with pytest.raises(TypeError, match=r"^beta must hold real numbers, shape \(2,\); got NoneType$"):
        numerics.batchnorm_forward(np.ones((3, 2)), np.ones(2), None)


# --------------------------------------------------------------------------
# float16: summed in float32, rounded once (as PyTorch's CPU kernels do)
# --------------------------------------------------------------------------


def test_float16_batch_of_the_issue_is_normalized():
    # float16 sums overflowed: 200**2 + 200**2 = 80000 > 65504 made the variance inf and out 0
    x = np.array([[200.0], [-200.0]], np.float16)
    out, cache = numerics.batchnorm_forward(x, [1.0], [0.0])
    assert out.dtype == np.float16 and out.ravel().tolist() == [1.0, -1.0]
    assert cache.x is x and cache.var.dtype == cache.inv_std.dtype == cache.x_hat.dtype == np.float32
    assert cache.var[0] == 40000.0 and cache.mean[0] == 0.0


def test_sum_over_accumulates_float16_in_float32():
    a = np.full((3000, 2), 10.0, np.float16)  # 3000 squares of 10: 300000, past float16's 65504
    squares = numerics.sum_over(a, (0,), a)
    assert squares.dtype == np.float32 and squares.shape == (1, 2)
    np.testing.assert_array_equal(squares, 300000.0)
    np.testing.assert_array_equal(numerics.sum_over(a, (0,)), 30000.0)
    for dtype in (np.float32, np.float64):  # other dtypes keep their own
        assert numerics.sum_over(a.astype(dtype), (0,), a.astype(dtype)).dtype == dtype


def test_float16_mean_and_variance_keep_float16():
    x = EDGE_BATCHES["sum_of_squares_of_3000_tens"].astype(np.float16)
    assert numerics.batch_mean(x).dtype == numerics.batch_variance(x).dtype == np.float16
    np.testing.assert_array_equal(numerics.batch_variance(x), 100.0)
    np.testing.assert_array_equal(numerics.batch_mean(x), 0.0)
    big = np.array([[300.0], [-300.0]], np.float16)  # variance 90000: no float16 holds it
    with pytest.warns(RuntimeWarning, match="overflow"):
        assert np.isinf(numerics.batch_variance(big)[0])
    x_hat, mean, var, inv_std = numerics.normalize(big, (0,))
    assert x_hat.dtype == np.float16 and x_hat.ravel().tolist() == [1.0, -1.0]
    assert var.dtype == np.float32 and var[0, 0] == 90000.0


@pytest.mark.parametrize("name", EDGE_BATCHES)
def test_float16_edge_batches_match_float64(name):
    x = EDGE_BATCHES[name].astype(np.float16)
    rng = np.random.default_rng(len(name))
    d = x.shape[1]
    args = (x, rng.uniform(0.5, 2, d).astype(np.float16), rng.normal(0, 1, d).astype(np.float16),
            rng.normal(0, 1, x.shape).astype(np.float16))
    truth, scale = truth_and_scale("batchnorm", *args)
    assert_float16_close(run("batchnorm", *args), truth, scale)


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
