"""The claims of 05_variants Section 3.3 (the conv net against the batch size), as the notebook asserts them.

On the notebook's seeds, on other seeds with inputs perturbed at rounding level
(``bn_helpers.data.rounding_noise``), with the notebook's margins.
"""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from bn_helpers import plots  # noqa: E402
from bn_helpers.data import rounding_noise  # noqa: E402
from bn_helpers.experiments import conv as cx  # noqa: E402

pytestmark = pytest.mark.xdist_group("test_experiments_conv")

SIZES = (2, 4, 8, 16, 32)


@pytest.fixture(scope="module", params=["notebook seeds", "other seeds, inputs perturbed at rounding level"])
def measured(request):
    if request.param == "notebook seeds":
        return cx.conv_sweep(SIZES, seeds=(0, 1, 2)), cx.xhat_near_one(2, seeds=(0, 1, 2))["conv"]
    with rounding_noise(1e-6):
        return cx.conv_sweep(SIZES, seeds=(3, 4, 5)), cx.xhat_near_one(2, seeds=(3, 4, 5), sample_seed=1)["conv"]


def test_sweep_shapes(measured):
    sweep, near = measured
    assert sweep.batch_sizes == list(SIZES) and set(sweep.accuracy) == set(cx.convnet.NORMS)
    assert all(a.shape == (5, 3) for a in sweep.accuracy.values()) and sweep.batch_stats.shape == (5, 3)
    assert near.shape == (3,)


def test_xhat_is_spread_out_at_batch_two(measured):
    assert measured[1].max() < 0.02


def test_every_norm_learns_at_every_batch_size(measured):
    assert min(a.min() for a in measured[0].accuracy.values()) > 0.85


def test_batch_norm_stays_near_group_norm(measured):
    acc = measured[0].accuracy
    assert np.abs(acc["batch"].mean(axis=1) - acc["group"].mean(axis=1)).max() < 0.04


def test_batch_statistics_agree_with_running_ones(measured):
    sweep = measured[0]
    assert np.abs(sweep.batch_stats - sweep.accuracy["batch"]).mean(axis=1).max() < 0.02


def test_plot_conv_sweep(measured):
    fig, ax = plt.subplots()
    assert plots.plot_conv_sweep(ax, measured[0]) is ax
    assert ax.get_title().startswith("Conv net") and ax.get_xlabel().startswith("batch size")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [cx.LABELS[k] for k in sweep_norms(measured)]
    plt.close(fig)


def sweep_norms(measured):
    return list(measured[0].accuracy)


def test_xhat_near_one_of_a_fully_connected_pair_would_be_one():
    """The contrast the notebook draws: two values of one feature normalize to exactly +-1."""
    x = np.array([[0.3], [2.5]])
    x_hat = (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + 1e-5)
    assert np.allclose(np.abs(x_hat), 1, atol=1e-3)
