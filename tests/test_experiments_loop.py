"""The claims of the "your layer in the loop" sections (03 §5.1, 04 §4.1, 05 §2.6): notebook seeds, other seeds, perturbed inputs."""
import numpy as np
import pytest

from bn_helpers import loop
from bn_helpers.data import rounding_noise

# one worker runs the whole module: its module-scoped fixture is computed once (make test: --dist loadgroup)
pytestmark = pytest.mark.xdist_group("test_experiments_loop")

NOTEBOOK_SEEDS, OTHER_SEEDS = range(5), range(10, 15)


def _final(make, seeds):
    return loop.train(make, seeds)["test_acc"][:, -1]


def _worst_grad(make, seeds):
    return np.array([max(loop.gradient_check(make, seed=s).values()) for s in seeds])


def _runs(seeds):
    return {
        "bn": _final(loop.REFERENCE["batchnorm_backward_compact"], seeds),
        "layer": _final(loop.REFERENCE["BatchNorm1d"], seeds),
        "gn": _final(loop.REFERENCE["groupnorm_forward"], seeds),
        "wrong_axis": _final(loop.with_backward(loop.buggy("wrong_axis")), seeds),
        "n_minus_1": _final(loop.with_backward(loop.buggy("n_minus_1")), seeds),
        "n_minus_1 grad": _worst_grad(loop.with_backward(loop.buggy("n_minus_1")), seeds),
        "frozen": _final(loop.with_layer(loop.buggy("frozen_stats")), seeds),
        "frozen grad": _worst_grad(loop.with_layer(loop.buggy("frozen_stats")), seeds),
        "ignores_groups": _final(loop.with_groupnorm(loop.buggy("ignores_groups")), seeds),
        "ignores_groups grad": _worst_grad(loop.with_groupnorm(loop.buggy("ignores_groups")), seeds),
    }


@pytest.fixture(scope="module", params=["notebook seeds", "other seeds", "inputs perturbed at rounding level"])
def runs(request):
    if request.param == "notebook seeds":
        return _runs(NOTEBOOK_SEEDS)
    if request.param == "other seeds":
        return _runs(OTHER_SEEDS)
    with rounding_noise(1e-6):
        return _runs(NOTEBOOK_SEEDS)


def test_03_a_wrong_axis_shows_in_the_curve_and_n_minus_1_only_in_the_gradient_check(runs):
    """03 §5.1, with the notebook's margins, for every seed."""
    assert runs["wrong_axis"].max() < 0.5 and runs["bn"].min() > 0.9
    assert np.all(np.abs(runs["n_minus_1"] - runs["bn"]) < 0.02)
    assert runs["n_minus_1 grad"].min() > 1e-2


def test_04_frozen_running_statistics_cost_eval_accuracy_and_pass_the_gradient_check(runs):
    """04 §4.1: the layer of bn_helpers.nn trains as the stacked reference; frozen running statistics lose accuracy."""
    np.testing.assert_allclose(runs["layer"], runs["bn"], atol=0.002)   # the same network, two implementations
    assert np.all(runs["frozen"] < runs["layer"] - 0.01)
    assert runs["frozen grad"].max() < 1e-6


def test_05_ignoring_the_groups_trains_as_well_and_fails_the_gradient_check(runs):
    """05 §2.6, for every seed."""
    assert np.all(np.abs(runs["ignores_groups"] - runs["gn"]) < 0.03)
    assert runs["ignores_groups grad"].min() > 1e-2
