"""The claims of 06_in_practice Section 5 (batch norm as a regularizer), as the notebook asserts them.

On the notebook's seeds, and on other seeds with inputs perturbed at rounding
level (``bn_helpers.data.rounding_noise``), with the notebook's margins.
"""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from bn_helpers import convnet, plots  # noqa: E402
from bn_helpers.data import rounding_noise  # noqa: E402
from bn_helpers.experiments import regularize as rg  # noqa: E402

pytestmark = pytest.mark.xdist_group("test_experiments_regularize")


@pytest.fixture(scope="module", params=["notebook seeds", "other seeds, inputs perturbed at rounding level"])
def reg(request):
    if request.param == "notebook seeds":
        return rg.generalization(seeds=(0, 1, 2))
    with rounding_noise(1e-6):
        return rg.generalization(seeds=(3, 4, 5))


def test_all_conditions_fit_the_training_set(reg):
    assert min(reg[k]["train_acc"].min() for k in rg.CONDITIONS) > 0.99


def test_batch_norm_generalizes_better_on_every_seed(reg):
    assert (reg["with BN"]["test_acc"] - reg["without BN"]["test_acc"]).min() > 0.003


def test_ghost_batches_change_nothing_measurable(reg):
    assert np.abs(reg["with BN, ghost batches"]["test_acc"] - reg["with BN"]["test_acc"]).max() < 0.01


def test_jitter_grows_as_the_batch_shrinks(reg):
    jit = rg.jitter(reg["with BN"]["net"], batch_sizes=(4, 16, 128), trials=20)
    assert jit["spread"].shape == (3, 3) and jit["logits"][16].shape == (20, 3, 10)
    assert (np.diff(jit["spread"], axis=0) < 0).all()
    assert (jit["spread"][1] / jit["spread"][2]).min() > 1.5


def test_jitter_leaves_a_ghost_network_as_it_was(reg):
    net = reg["with BN, ghost batches"]["net"]
    rg.jitter(net, batch_sizes=(4,), trials=2)
    assert net.ghost == 16


def test_jitter_needs_batch_norm():
    with pytest.raises(ValueError, match="net must have batch norm"):
        rg.jitter(convnet.ConvNet("group", [0]))


def test_plot_generalization(reg):
    fig, ax = plt.subplots()
    assert plots.plot_generalization(ax, {k: reg[k] for k in rg.CONDITIONS}) is ax
    assert [t.get_text() for t in ax.get_xticklabels()] == list(rg.CONDITIONS)
    plt.close(fig)
