"""The claims of 07_beyond_batchnorm, asserted on the notebook's settings, other seeds and perturbed inputs.

The notebook's measured claims are identities (no training): the offset sweep
against its closed form, and the invariances of RMSNorm. They must hold for
every seed and with the inputs perturbed at rounding level.
"""
import numpy as np
import pytest

from bn_helpers.experiments import beyond
from bn_helpers.gradcheck import numerical_gradient
from bn_helpers.rmsnorm import rmsnorm_backward, rmsnorm_forward


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4, 17, 123])
@pytest.mark.parametrize("d", [64, 8])
def test_offset_sweep_follows_the_formula(seed, d):
    sweep = beyond.offset_sweep(rmsnorm_forward, seed=seed, d=d)
    mean, std = beyond.rmsnorm_offset_formula(sweep["offsets"])
    np.testing.assert_allclose(sweep["RMSNorm"][0], mean, atol=1e-12)
    np.testing.assert_allclose(sweep["RMSNorm"][1], std, atol=1e-12)
    np.testing.assert_allclose(sweep["layer norm"][0], 0.0, atol=1e-12)
    np.testing.assert_allclose(sweep["layer norm"][1], 1.0, atol=1e-12)
    assert sweep["RMSNorm"][1][0] < 0.25 and sweep["RMSNorm"][0][-1] > 0.97  # squeezed toward sign(c) at |c| = 4


def test_plot_labels_every_axis():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    assert beyond.plot_offset_sweep(ax, beyond.offset_sweep(rmsnorm_forward)) is ax
    assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title() and len(ax.get_legend().get_texts()) == 4
    plt.close(fig)


@pytest.mark.parametrize("seed", [1, 2, 3, 5, 8, 13])
@pytest.mark.parametrize("noise", [0.0, 1e-6])
def test_rms_properties_cell(seed, noise):
    """The notebook's rms_props cell (seed 1) and other seeds, inputs perturbed at rounding level."""
    rng = np.random.default_rng(seed)
    x, gamma, dout = rng.normal(0.5, 2, (2, 3, 5)), rng.uniform(0.5, 2, 5), rng.standard_normal((2, 3, 5))
    x = x * (1 + noise * np.random.default_rng(seed + 100).standard_normal(x.shape))
    out, cache = rmsnorm_forward(x, gamma, eps=0.0)
    dx, _ = rmsnorm_backward(dout, cache)
    numeric = numerical_gradient(lambda v: rmsnorm_forward(v, gamma, eps=0.0)[0], x, dout)
    assert np.abs(dx - numeric).max() / np.abs(numeric).max() < 1e-6
    assert np.abs(rmsnorm_forward(3.0 * x, gamma, eps=0.0)[0] - out).max() < 1e-12
    assert np.abs(rmsnorm_forward(x + 1.0, gamma, eps=0.0)[0] - out).max() > 0.05
    assert np.abs((dx * cache.x_hat).sum(-1)).max() < 1e-12
    assert np.abs(dx.sum(-1)).max() > 0.05


@pytest.mark.parametrize("seed", [0, 1, 2, 7, 11])
def test_four_variants_from_one_backward_pass_gradcheck(seed):
    """The notebook's gradcheck_variants cell (seed 0) with the reference normalize_backward, and other seeds."""
    from bn_helpers import norms

    rng = np.random.default_rng(seed)
    x, dout = rng.normal(1, 2, (3, 4, 2, 3)), rng.standard_normal((3, 4, 2, 3))
    gamma, beta = rng.uniform(0.5, 2, 4), rng.normal(0, 1, 4)
    for forward, extra in ((norms.layernorm_forward, {}), (norms.spatial_batchnorm_forward, {}),
                           (norms.instancenorm_forward, {}), (norms.groupnorm_forward, {"G": 2})):
        cache = forward(x, gamma, beta, **extra)[1]
        dx_hat = (dout * gamma.reshape(1, 4, 1, 1)).reshape(cache.view)
        dx = norms.normalize_backward(dx_hat, cache.x_hat.reshape(cache.view),
                                      np.expand_dims(cache.inv_std, cache.axes), cache.axes).reshape(x.shape)
        numeric = numerical_gradient(lambda v: forward(v, gamma, beta, **extra)[0], x, dout)
        assert np.abs(dx - numeric).max() / np.abs(numeric).max() < 1e-6


@pytest.mark.parametrize("seeds, noise", [((0, 1, 2, 3, 4), 0.0),            # the notebook's run
                                          (tuple(range(5, 30)), 0.0),        # seeds it does not use
                                          ((0, 1, 2, 3, 4), 1e-6),           # inputs perturbed at rounding level
                                          (tuple(range(30, 40)), 1e-6)])
def test_pre_ln_gradient_shrinks_with_depth_post_ln_does_not(seeds, noise):
    """The notebook's placement claim: depth 64 over depth 2, per seed, pre-LN < 0.45 < post-LN."""
    sweep = beyond.placement_sweep(seeds=seeds, noise=noise)
    post = sweep["post-LN"][:, -1] / sweep["post-LN"][:, 0]
    pre = sweep["pre-LN"][:, -1] / sweep["pre-LN"][:, 0]
    assert pre.max() < 0.45 < post.min()
    assert np.all(np.diff(sweep["pre-LN"].mean(axis=0)) < 0)  # the mean over seeds falls at every doubling
    # Xiong et al.'s mechanism, as the notebook asserts it: the pre-LN stream grows, and explains the fall.
    stream = sweep["stream"]
    growth = stream["pre-LN"][:, -1] / stream["pre-LN"][:, 0]
    explained = pre * growth
    assert np.allclose(stream["post-LN"], np.sqrt(32), rtol=1e-3)
    assert growth.min() > 3 and 0.6 < explained.min() and explained.max() < 1.6
    for s in seeds[:2]:  # the one-run helpers agree with the sweep
        assert beyond.stream_norm(64, "pre", seed=s, noise=noise) == pytest.approx(stream["pre-LN"][seeds.index(s), -1])
        assert beyond.last_block_gradient(64, "pre", seed=s, noise=noise) == pytest.approx(sweep["pre-LN"][seeds.index(s), -1])


def test_placement_inputs_are_checked_and_plot_is_labelled():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with pytest.raises(ValueError, match="placement"):
        beyond.last_block_gradient(2, "middle")
    fig, ax = plt.subplots()
    assert beyond.plot_placement(ax, beyond.placement_sweep(depths=(2, 4), seeds=(0, 1))) is ax
    assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title() and len(ax.get_legend().get_texts()) == 2
    plt.close(fig)
