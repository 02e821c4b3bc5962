"""The claims of 04's "What a practitioner looks at" and "BN couples the batch", asserted as the notebook asserts them.

On the notebook's seeds, on five other seeds, and with the digits perturbed at
rounding level (``rounding_noise(1e-6)``): every claim must hold for all three.
"""
import copy

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from bn_helpers import nn, plots  # noqa: E402
from bn_helpers.data import load_digits_split, rounding_noise  # noqa: E402
from bn_helpers.experiments import practice as pr  # noqa: E402

# one worker runs the whole module: its module-scoped fixtures are computed once (make test: --dist loadgroup)
pytestmark = pytest.mark.xdist_group("test_experiments_practice")

VARIANTS = ["notebook seeds", "other seeds", "inputs perturbed at rounding level"]


def _run(seeds):
    """Everything the notebook's cells compute, with the notebook's settings."""
    d = load_digits_split(seed=0)
    diag = pr.diagnose(seeds=seeds, steps=100, lr=0.1, every=10)
    net = diag["with BN"]["net"]
    X, y = d.X_test[:384], d.y_test[:384]
    return {
        "diag": diag,
        "coupling": pr.batch_coupling(net, d.X_test, index=0, batch_size=16, trials=20),
        "gap": pr.train_test_gap(net, X, y, batch_sizes=(2, 4, 8, 16, 64)),
        "ghost": pr.train_test_gap(net, X, y, batch_sizes=(4, 16), ghost_of=64),
        "precise": pr.precise_bn(net),
        "tuned": pr.finetune_small_batches(net, steps=100, batch_size=2, lr=0.02),
    }


@pytest.fixture(scope="module", params=VARIANTS)
def runs(request):
    if request.param == "notebook seeds":
        return _run(range(5))
    if request.param == "other seeds":
        return _run(range(5, 10))
    with rounding_noise(1e-6):
        return _run(range(5))


def test_saturation_and_gradients_at_init(runs):
    diag = runs["diag"]
    sat = {k: r["saturation"] for k, r in diag.items()}
    growth = {k: r["grad_std"][:, 0] / r["grad_std"][:, -1] for k, r in diag.items()}
    assert sat["without BN"].min() > 0.7
    assert sat["Kaiming init, no BN"].max() < 0.25 and max(sat["with BN"].max(), sat["with BN, Kaiming init"].max()) < 0.06
    assert np.allclose(sat["with BN"], sat["with BN, Kaiming init"], atol=0.01)
    assert growth["without BN"].min() > 30
    assert max(growth[k].max() for k in diag if k != "without BN") < 3


def test_update_data_ratios(runs):
    diag = runs["diag"]
    first = {k: r["log_ratio"][0] for k, r in diag.items()}
    late = {k: r["log_ratio"][-3:].mean(axis=0).mean(axis=0) for k, r in diag.items()}
    spread = {k: f.max(axis=0) - f.min(axis=0) for k, f in first.items()}
    assert spread["without BN"].min() > 1.5 and max(spread[k].max() for k in diag if k != "without BN") < 0.5
    assert late["without BN"].min() > -2.3
    assert -3.5 < late["Kaiming init, no BN"].min() <= late["Kaiming init, no BN"].max() < -2.5
    assert -4 < late["with BN"].min() and late["with BN"].max() < late["Kaiming init, no BN"].min()
    assert diag["Kaiming init, no BN"]["acc"].min() > diag["with BN"]["acc"].max()
    # the fourth arm removes the confound: BN on Kaiming weights takes larger steps and trains as well as Kaiming
    assert late["with BN, Kaiming init"].min() > late["with BN"].max()
    assert diag["with BN, Kaiming init"]["acc"].min() > diag["with BN"]["acc"].max()
    assert abs(diag["with BN, Kaiming init"]["acc"].mean() - diag["Kaiming init, no BN"]["acc"].mean()) < 0.03


def test_batch_coupling(runs):
    c = runs["coupling"]
    assert c["train_spread"].min() > 0.5 and c["eval_spread"].max() < 1e-4


def test_train_test_gap_and_ghost_batches(runs):
    gap = runs["gap"]["gap"]
    assert (np.diff(gap, axis=1) < 0).all()
    assert gap[:, 0].min() > 0.5 and gap[:, -1].max() < 0.1
    # an identity, not a measurement: ghost batches of B inside batches of 64 are the same chunks as batches of B
    assert np.array_equal(runs["ghost"]["train_acc"], runs["gap"]["train_acc"][:, [1, 3]])


def test_precise_bn(runs):
    p = runs["precise"]
    gain = {m: p["precise"] - ema for m, ema in p["ema"].items()}
    assert np.abs(gain[0.1]).max() < 0.02 and gain[0.01].min() > 0.04


def test_frozen_bn_fine_tuning(runs):
    t = runs["tuned"]
    drop, kept = t["before"] - t["train_mode"], t["frozen"] - t["before"]
    assert drop.min() > 0.3 and np.abs(kept).max() < 0.05


# ---------------------------------------------------------------------------- the pieces


def test_make_net_scales_the_weights():
    for label, expected in (("without BN", lambda fan: 1.0), ("Kaiming init, no BN", lambda fan: (5 / 3) / np.sqrt(fan))):
        net = pr.make_net(label, seeds=[0, 1])
        for W in net.W:
            assert W.std() == pytest.approx(expected(W.shape[1]), rel=0.05)
    assert pr.make_net("with BN", seeds=[0]).norm == "batch"
    both = pr.make_net("with BN, Kaiming init", seeds=[0, 1])
    assert both.norm == "batch" and all(W.std() == pytest.approx((5 / 3) / np.sqrt(W.shape[1]), rel=0.05) for W in both.W)
    with pytest.raises(ValueError, match="condition"):
        pr.make_net("layer norm", seeds=[0])


def test_frozen_bn_gradients_match_nn_in_eval_mode():
    """A frozen step is an nn model's step in evaluation mode: same loss, same gradients (float32 tolerance)."""
    d = load_digits_split(seed=0)
    net = pr.FrozenBNMLP.__new__(pr.FrozenBNMLP)
    base = pr.make_net("with BN", seeds=[3, 4], sizes=(64, 20, 20, 10))
    base.fit(d.X_train, d.y_train, steps=5, lr=0.1)             # non-trivial running statistics, gamma, beta
    net.__dict__.update(copy.deepcopy(base.__dict__))
    net.frozen = True
    xb, yb = d.X_train[:8], d.y_train[:8]
    logits, caches = net.forward(np.stack([xb, xb]).astype(np.float32), training=True)
    loss, grads = net.gradients(logits, np.stack([yb, yb]), caches)
    for j in range(2):
        model = net.model(j).eval()
        ref_loss, dlogits = nn.softmax_cross_entropy(model.forward(xb), yb)
        model.backward(dlogits)
        ref = {name: g for (name, _), g in zip(model.params(), model.grads())}
        mine = dict(zip([name for name, _ in model.params()], [g[j].reshape(-1) for g in grads]))
        assert loss[j] == pytest.approx(ref_loss, rel=1e-4)
        for name, g in ref.items():
            np.testing.assert_allclose(mine[name], g.reshape(-1), rtol=1e-3, atol=1e-5, err_msg=name)
    before = [m.copy() for m in net.running_mean]
    net.fit(d.X_train, d.y_train, steps=3, batch_size=2, lr=0.01)
    assert all(np.array_equal(a, b) for a, b in zip(before, net.running_mean))   # frozen: not updated


def test_slow_running_average_is_an_ema_of_the_batch_statistics():
    """The momentum-0.01 average read back from the 0.1 one equals a run trained with momentum 0.01."""
    d = load_digits_split(seed=0)
    a = pr.make_net("with BN", seeds=[0, 1], sizes=(64, 30, 30, 10), net_class=pr.FrozenBNMLP)
    b = pr.make_net("with BN", seeds=[0, 1], sizes=(64, 30, 30, 10), momentum=0.01)
    a.fit(d.X_train, d.y_train, steps=40, lr=0.1, slow_momentum=0.01)
    b.fit(d.X_train, d.y_train, steps=40, lr=0.1)
    for mine, ref in zip(a.slow_stats[0] + a.slow_stats[1], b.running_mean + b.running_var):
        np.testing.assert_allclose(mine, ref, rtol=1e-3, atol=1e-4)
    assert not np.allclose(a.running_mean[0], b.running_mean[0], atol=1e-3)   # the 0.1 average differs


def test_train_test_gap_needs_whole_batches():
    net = pr.make_net("with BN", seeds=[0], sizes=(64, 10, 10))
    d = load_digits_split(seed=0)
    g = pr.train_test_gap(net, d.X_test[:10], d.y_test[:10], batch_sizes=(4,))
    assert g["train_acc"].shape == (1, 1) and g["ghost_of"] is None


def test_plots_label_everything(runs):
    diag = runs["diag"]
    n = len(pr.CONDITIONS)
    fig, axes = plt.subplots(2, n)
    out = plots.plot_layer_histograms(axes, diag)
    assert out.shape == (2, n) and all(ax.get_title() and ax.get_xlabel() and ax.get_legend() for ax in out.ravel())
    assert [ax.get_title().split(":")[0] for ax in out[0]] == list(pr.CONDITIONS)
    fig2, axes2 = plt.subplots(1, n)
    assert all(ax.get_legend() and ax.get_ylabel() for ax in plots.plot_update_ratios(axes2, diag))
    ax = plots.plot_batch_coupling(plt.figure().gca(), runs["coupling"])
    assert ax.get_title() and ax.get_legend()
    ax = plots.plot_train_test_gap(plt.figure().gca(), runs["gap"], runs["ghost"])
    assert ax.get_xlabel() and len(ax.get_legend().get_texts()) == 2
    ax = plots.plot_seed_points(plt.figure().gca(), {"with BN": [0.8, 0.9], "frozen BN": [0.7, 0.75]},
                                ylabel="acc", title="t")
    assert ax.get_legend() and ax.get_title() == "t"
    plt.close("all")
