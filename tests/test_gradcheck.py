"""Numerical gradients and rel_error."""
import numpy as np
import pytest

from bn_helpers import numerics
from bn_helpers.gradcheck import numerical_gradient, rel_error


def test_rel_error():
    assert rel_error([1.0, 2.0], [1.0, 2.0]) == 0.0
    assert rel_error([1.0], [1.1]) == pytest.approx(0.1 / 2.1)
    assert rel_error([0.0], [1e-12]) == pytest.approx(1e-4)  # floor of 1e-8 in the denominator
    with pytest.raises(ValueError, match=r"same shape; got \(2,\) and \(3,\)"):
        rel_error(np.ones(2), np.ones(3))


def test_numerical_gradient_of_a_known_function():
    rng = np.random.default_rng(0)
    x, dout = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    grad = numerical_gradient(lambda z: np.sin(z) * z, x, dout)
    assert rel_error(grad, (np.cos(x) * x + np.sin(x)) * dout) < 1e-8


def test_numerical_gradient_leaves_input_alone_and_sees_bn_sum_zero():
    rng = np.random.default_rng(1)
    x, dout = rng.normal(size=(5, 2)), rng.normal(size=(5, 2))
    before = x.copy()
    grad = numerical_gradient(lambda z: numerics.batchnorm_forward(z, np.ones(2), np.zeros(2))[0], x, dout)
    assert np.array_equal(x, before)
    np.testing.assert_allclose(grad.sum(axis=0), 0, atol=1e-7)  # sum of dx over the batch is 0
    ones = numerical_gradient(lambda z: numerics.batchnorm_forward(z, np.ones(2), np.zeros(2))[0], x, np.ones((5, 2)))
    assert np.abs(ones).max() < 1e-6  # why checks use a random dout: ones hide every bug
