"""RMSNorm reference (bn_helpers.rmsnorm): against PyTorch, numerical gradients, identities, errors."""
import doctest

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bn_helpers import rmsnorm
from bn_helpers.gradcheck import numerical_gradient, rel_error
from bn_helpers.rmsnorm import RMSNormCache, rmsnorm_backward, rmsnorm_forward

FAST = settings(deadline=None, max_examples=25)
shapes = st.lists(st.integers(1, 5), min_size=1, max_size=4).map(tuple)
# central differences need rows whose RMS is not near 0 (D = 1 with a tiny entry is too curved)
grad_shapes = st.tuples(shapes, st.integers(2, 6)).map(lambda s: s[0][:-1] + (s[1],))


def _inputs(seed, shape, dtype=np.float64):
    rng = np.random.default_rng(seed)
    x = rng.normal(rng.uniform(-2, 2), rng.uniform(0.3, 3), size=shape).astype(dtype)
    gamma = rng.uniform(0.5, 2, shape[-1]).astype(dtype)
    dout = rng.standard_normal(shape).astype(dtype)
    return x, gamma, dout


def test_doctests():
    assert doctest.testmod(rmsnorm).failed == 0


@given(shape=grad_shapes, seed=st.integers(0, 2**31 - 1), eps=st.sampled_from([1e-5, 0.1]))
@FAST
def test_backward_matches_numerical_gradient(shape, seed, eps):
    x, gamma, dout = _inputs(seed, shape)
    _, cache = rmsnorm_forward(x, gamma, eps)
    dx, dgamma = rmsnorm_backward(dout, cache)
    num_dx = numerical_gradient(lambda v: rmsnorm_forward(v, gamma, eps)[0], x, dout)
    num_dgamma = numerical_gradient(lambda g: rmsnorm_forward(x, g, eps)[0], gamma, dout)
    np.testing.assert_allclose(dx, num_dx, rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(dgamma, num_dgamma, rtol=1e-5, atol=1e-8)


@given(shape=shapes, seed=st.integers(0, 2**31 - 1))
@FAST
def test_forward_definition_and_invariances(shape, seed):
    x, gamma, _ = _inputs(seed, shape)
    out, cache = rmsnorm_forward(x, gamma, eps=0.0)
    rms = np.sqrt((x ** 2).mean(axis=-1, keepdims=True))
    np.testing.assert_allclose(out, gamma * x / rms, rtol=1e-12)
    np.testing.assert_allclose((cache.x_hat ** 2).mean(axis=-1), 1.0, rtol=1e-12)
    # re-scaling invariance: a row times c > 0 gives the same output
    np.testing.assert_allclose(rmsnorm_forward(3.7 * x, gamma, eps=0.0)[0], out, rtol=1e-12)
    if shape[-1] > 1:  # no re-centering invariance: shifting a row changes the output
        assert not np.allclose(rmsnorm_forward(x + 1.0, gamma, eps=0.0)[0], out)


@given(shape=shapes, seed=st.integers(0, 2**31 - 1))
@FAST
def test_dx_orthogonal_to_x_hat(shape, seed):
    x, gamma, dout = _inputs(seed, shape)
    _, cache = rmsnorm_forward(x, gamma, eps=0.0)
    dx, _ = rmsnorm_backward(dout, cache)
    scale = np.abs(dout * gamma).max() * np.abs(cache.inv_rms).max() * shape[-1]
    assert np.abs((dx * cache.x_hat).sum(axis=-1)).max() <= 1e-12 * scale


def test_equals_layer_norm_without_beta_on_centered_rows():
    from bn_helpers import norms

    x, gamma, _ = _inputs(3, (4, 6))
    x = x - x.mean(axis=1, keepdims=True)
    ln, _ = norms.layernorm_forward(x, gamma, np.zeros(6), eps=1e-5)
    np.testing.assert_allclose(rmsnorm_forward(x, gamma, eps=1e-5)[0], ln, rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_low_precision_keeps_dtype_and_is_close(dtype):
    x, gamma, dout = (a.astype(dtype).astype(np.float64) for a in _inputs(5, (3, 4, 8)))  # same rounded inputs
    out64, cache64 = rmsnorm_forward(x, gamma)
    dx64, dg64 = rmsnorm_backward(dout, cache64)
    out, cache = rmsnorm_forward(x.astype(dtype), gamma.astype(dtype))
    dx, dg = rmsnorm_backward(dout.astype(dtype), cache)
    assert out.dtype == dx.dtype == dg.dtype == dtype
    tol = 1e-5 if dtype == np.float32 else 1e-2
    assert rel_error(out.astype(np.float64), out64) < tol
    assert rel_error(dx.astype(np.float64), dx64) < tol
    assert rel_error(dg.astype(np.float64), dg64) < tol


@given(shape=shapes, seed=st.integers(0, 2**31 - 1), eps=st.sampled_from([1e-5, 1e-2]))
@FAST
def test_matches_torch(shape, seed, eps):
    torch = pytest.importorskip("torch")
    if not hasattr(torch.nn.functional, "rms_norm"):
        pytest.skip("this PyTorch has no rms_norm")
    x, gamma, dout = _inputs(seed, shape)
    xt = torch.tensor(x, requires_grad=True)
    gt = torch.tensor(gamma, requires_grad=True)
    yt = torch.nn.functional.rms_norm(xt, (shape[-1],), gt, eps)
    yt.backward(torch.tensor(dout))
    out, cache = rmsnorm_forward(x, gamma, eps)
    dx, dgamma = rmsnorm_backward(dout, cache)
    np.testing.assert_allclose(out, yt.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(dgamma, gt.grad.numpy(), rtol=1e-9, atol=1e-11)


def test_errors_name_the_argument():
    with pytest.raises(ValueError, match="gamma"):
        rmsnorm_forward(np.ones((2, 3)), np.ones(2))
    with pytest.raises(ValueError, match="eps"):
        rmsnorm_forward(np.ones((2, 3)), np.ones(3), eps=-1.0)
    with pytest.raises(TypeError, match="x"):
        rmsnorm_forward(np.array([["a", "b"]]), np.ones(2))
    _, cache = rmsnorm_forward(np.ones((2, 3)), np.ones(3))
    with pytest.raises(ValueError, match="dout"):
        rmsnorm_backward(np.ones((3, 2)), cache)
    with pytest.raises(TypeError, match=r"cache must be the RMSNormCache returned by rmsnorm_forward; got tuple of 5 "
                                        r"item\(s\) \(a RMSNormCache has the named fields x, x_hat, inv_rms, gamma, eps\)"):
        rmsnorm_backward(np.ones((2, 3)), tuple(cache))
    assert isinstance(cache, RMSNormCache)


def test_inputs_not_changed():
    x, gamma, dout = _inputs(1, (3, 5))
    keep = x.copy(), gamma.copy(), dout.copy()
    _, cache = rmsnorm_forward(x, gamma)
    rmsnorm_backward(dout, cache)
    for a, b in zip((x, gamma, dout), keep):
        np.testing.assert_array_equal(a, b)
