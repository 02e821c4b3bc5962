"""The tiny network: numerical gradients of every layer, running statistics, loss, optimizer, training."""
import doctest

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from bn_helpers import nn
from bn_helpers.data import load_digits_split, worked_example
from bn_helpers.gradcheck import numerical_gradient, rel_error

# one worker runs the whole module: its module-scoped fixtures are computed once (make test: --dist loadgroup)
pytestmark = pytest.mark.xdist_group("test_nn")


@pytest.fixture(autouse=True, scope="module")
def one_blas_thread():
    """Small matrices: on a 2-core machine multithreaded OpenBLAS made 300 steps take 0.5-9 s, one thread 0.5 s."""
    with threadpool_limits(1, user_api="blas"):
        yield


def _bn_eval(d):
    """A BatchNorm1d in eval mode with running statistics away from (0, 1)."""
    m = nn.BatchNorm1d(d)
    m.running_mean = np.linspace(-1, 1, d)
    m.running_var = np.linspace(0.5, 2, d)
    return m.eval()


# Each layer built with non-trivial parameters, and its input shape.
LAYERS = {
    "linear": (lambda rng: nn.Linear(4, 3, rng), (5, 4)),
    "linear_no_bias": (lambda rng: nn.Linear(4, 3, rng, bias=False), (5, 4)),
    "relu": (lambda rng: nn.ReLU(), (5, 4)),
    "tanh": (lambda rng: nn.Tanh(), (5, 4)),
    "sigmoid": (lambda rng: nn.Sigmoid(), (5, 4)),
    "batchnorm_train": (lambda rng: nn.BatchNorm1d(4), (5, 4)),
    "batchnorm_eval": (lambda rng: _bn_eval(4), (5, 4)),
    "layernorm": (lambda rng: nn.LayerNorm(4), (5, 4)),
    # three features per group: with two, x_hat is +-1 whatever x is and only eps carries a gradient
    "groupnorm": (lambda rng: nn.GroupNorm(2, 6), (5, 6)),
    "sequential": (lambda rng: nn.Sequential(nn.Linear(4, 6, rng, bias=False), nn.BatchNorm1d(6), nn.Tanh(),
                                             nn.Linear(6, 2, rng)), (5, 4)),
}


def _randomize(module, rng):
    for _, p in module.params():
        p[...] = rng.normal(size=p.shape)  # gamma != 1, beta != 0, b != 0


@pytest.mark.parametrize("name", LAYERS)
def test_backward_matches_numerical_gradient(name):
    make, shape = LAYERS[name]
    rng = np.random.default_rng(sum(map(ord, name)))
    module = make(rng)
    _randomize(module, rng)
    x = rng.normal(loc=0.5, scale=2.0, size=shape)
    out = module.forward(x)
    dout = rng.normal(size=out.shape)  # random, never ones
    dx = module.backward(dout)
    assert rel_error(dx, numerical_gradient(module.forward, x, dout)) < 1e-6
    assert len(module.grads()) == len(module.params())
    for (pname, p), g in zip(module.params(), module.grads()):
        saved = p.copy()

        def f(value, p=p):
            p[...] = value
            return module.forward(x)

        numeric = numerical_gradient(f, saved, dout)
        p[...] = saved
        assert rel_error(g, numeric) < 1e-6, pname


@pytest.mark.parametrize("norm", [None, "batch", "layer", "group"])
def test_whole_mlp_loss_gradient(norm):
    rng = np.random.default_rng(3)
    model = nn.mlp([5, 6, 6, 3], activation="tanh", norm=norm, seed=1, groups=2)
    _randomize(model, rng)
    x, y = rng.normal(size=(8, 5)), rng.integers(0, 3, size=8)

    def loss(x_):
        return np.array(nn.softmax_cross_entropy(model.forward(x_), y)[0])

    _, dlogits = nn.softmax_cross_entropy(model.forward(x), y)
    dx = model.backward(dlogits)
    one = np.array(1.0)
    assert rel_error(dx, numerical_gradient(loss, x, one)) < 1e-6
    for (pname, p), g in zip(model.params(), model.grads()):
        saved = p.copy()

        def f(value, p=p):
            p[...] = value
            return loss(x)

        numeric = numerical_gradient(f, saved, one)
        p[...] = saved
        assert rel_error(g, numeric) < 1e-6, pname


def test_mlp_structure_and_names():
    model = nn.mlp([64, 100, 100, 10], activation="sigmoid", norm="batch", seed=0)
    kinds = [type(m).__name__ for m in model.modules]
    assert kinds == ["Linear", "BatchNorm1d", "Sigmoid", "Linear", "BatchNorm1d", "Sigmoid", "Linear"]
    names = [n for n, _ in model.params()]
    # hidden Linear layers before batch norm have no bias (beta replaces it); the output layer has one
    assert names == ["0.W", "1.gamma", "1.beta", "3.W", "4.gamma", "4.beta", "6.W", "6.b"]
    assert [type(m).__name__ for m in nn.mlp([4, 8, 2], norm="group", groups=4).modules] == \
        ["Linear", "GroupNorm", "ReLU", "Linear"]
    assert nn.mlp([4, 8, 2], norm="group", groups=4).modules[1].num_groups == 4


def test_a_bias_before_batch_norm_gets_no_gradient():
    # why mlp(norm="batch") drops it: the batch mean subtracts it again
    rng = np.random.default_rng(5)
    model = nn.Sequential(nn.Linear(4, 6, rng), nn.BatchNorm1d(6), nn.Tanh())
    model.forward(rng.normal(size=(7, 4)))
    model.backward(rng.normal(size=(7, 6)))
    db, dgamma = model.modules[0].grads()[1], model.modules[1].grads()[0]
    assert np.max(np.abs(db)) < 1e-12 and np.max(np.abs(dgamma)) > 1e-2


def test_linear_init_is_n_0_one_over_fan_in():
    W = nn.Linear(400, 300, np.random.default_rng(0)).W
    assert W.shape == (400, 300)
    assert W.std() == pytest.approx(1 / np.sqrt(400), rel=0.01)
    assert nn.Linear(400, 300, 0, weight_scale=0.5).W.std() == pytest.approx(0.5, rel=0.01)
    a, b = nn.mlp([3, 4, 2], seed=7), nn.mlp([3, 4, 2], rng=np.random.default_rng(7))
    assert all(np.array_equal(p, q) for (_, p), (_, q) in zip(a.params(), b.params()))


def test_train_eval_recurse_and_return_self():
    model = nn.mlp([3, 4, 2], norm="batch")
    assert model.eval() is model and not any(m.training for _, m in model.named_modules())
    assert model.train() is model and all(m.training for _, m in model.named_modules())


# --------------------------------------------------------------------------
# Batch norm's running statistics
# --------------------------------------------------------------------------


def test_running_stats_one_step_on_the_worked_example():
    bn = nn.BatchNorm1d(1, momentum=0.1)
    assert bn.running_mean[0] == 0.0 and bn.running_var[0] == 1.0
    bn.forward(worked_example())
    # batch mean 1.12, biased var 2.8376, unbiased 2.8376 * 5/4 = 3.547
    assert bn.running_mean[0] == pytest.approx(0.112, abs=1e-12)
    assert bn.running_var[0] == pytest.approx(0.9 * 1.0 + 0.1 * 3.547, abs=1e-12)
    assert bn.running_var[0] == pytest.approx(1.2547, abs=1e-12)
    assert bn.num_batches_tracked == 1


def test_momentum_none_is_the_plain_average_of_batch_statistics():
    rng = np.random.default_rng(0)
    batches = [rng.normal(loc=k, scale=1 + k, size=(n, 3)) for k, n in enumerate([4, 7, 5, 10])]
    bn = nn.BatchNorm1d(3, momentum=None)
    for b in batches:
        bn.forward(b)
    assert np.allclose(bn.running_mean, np.mean([b.mean(axis=0) for b in batches], axis=0), rtol=1e-12)
    assert np.allclose(bn.running_var, np.mean([b.var(axis=0, ddof=1) for b in batches], axis=0), rtol=1e-12)
    assert bn.num_batches_tracked == 4


@pytest.mark.parametrize("momentum", [0.1, 0.5, None])
def test_running_stats_agree_with_the_worked_example_and_the_shared_update(momentum):
    """BatchNorm1d feeds stats.update_running_stats the biased batch variance and N; check by hand too."""
    from bn_helpers import stats

    rng = np.random.default_rng(6)
    bn, expected = nn.BatchNorm1d(1, momentum=momentum), stats.init_running_stats(1)
    batches = [worked_example()] + [rng.normal(loc=1.0, scale=2.0, size=(n, 1)) for n in (4, 9, 6)]
    by_hand_mean, by_hand_var = 0.0, 1.0
    for k, x in enumerate(batches, start=1):
        bn.forward(x)
        n = x.shape[0]
        expected = stats.update_running_stats(expected, x.mean(axis=0), x.var(axis=0), n, momentum)
        f = 1.0 / k if momentum is None else momentum
        by_hand_mean = (1 - f) * by_hand_mean + f * x.mean()
        by_hand_var = (1 - f) * by_hand_var + f * x.var(ddof=1)
        if k == 1:  # the worked example: mean 1.12, biased var 2.8376, unbiased 2.8376 * 5/4 = 3.547
            f = 1.0 if momentum is None else momentum
            assert bn.running_mean[0] == pytest.approx(f * 1.12, abs=1e-12)
            assert bn.running_var[0] == pytest.approx((1 - f) * 1.0 + f * 3.547, abs=1e-12)
        assert np.allclose(bn.running_mean, expected.mean, rtol=1e-12)
        assert np.allclose(bn.running_var, expected.var, rtol=1e-12)
        assert bn.running_mean[0] == pytest.approx(by_hand_mean, rel=1e-12)
        assert bn.running_var[0] == pytest.approx(by_hand_var, rel=1e-12)
        assert bn.num_batches_tracked == expected.num_batches_tracked == k
    assert isinstance(bn.running_mean, np.ndarray) and bn.running_mean.shape == (1,)


def test_eval_mode_uses_running_stats_row_by_row():
    rng = np.random.default_rng(1)
    bn = nn.BatchNorm1d(3)
    for _ in range(5):
        bn.forward(rng.normal(loc=2.0, scale=3.0, size=(8, 3)))
    bn.gamma[...], bn.beta[...] = [1.5, 0.5, 2.0], [0.1, -0.2, 0.3]
    x = rng.normal(size=(6, 3))
    stats = (bn.running_mean.copy(), bn.running_var.copy(), bn.num_batches_tracked)
    out = bn.eval().forward(x)
    expected = bn.gamma * (x - bn.running_mean) / np.sqrt(bn.running_var + bn.eps) + bn.beta
    assert np.allclose(out, expected, rtol=1e-12)
    assert np.array_equal(bn.running_mean, stats[0]) and np.array_equal(bn.running_var, stats[1])
    assert bn.num_batches_tracked == stats[2]  # evaluation does not update the statistics
    other = x.copy()
    other[1:] = rng.normal(loc=10.0, size=(5, 3))
    assert np.array_equal(bn.forward(other)[0], out[0])  # row 0 depends on row 0 only
    assert np.allclose(bn.forward(x[:1]), out[:1])  # a batch of one works in eval mode
    bn.train()
    assert not np.allclose(bn.forward(other)[0], bn.forward(x)[0])  # in training, on the whole batch


def test_batchnorm_training_needs_two_rows():
    with pytest.raises(ValueError, match="more than 1 value per feature"):
        nn.BatchNorm1d(3).forward(np.ones((1, 3)))
    with pytest.raises(ValueError, match="momentum"):
        nn.BatchNorm1d(3, momentum=1.5)


# --------------------------------------------------------------------------
# Loss and optimizer
# --------------------------------------------------------------------------


def test_softmax_cross_entropy_matches_a_direct_computation():
    rng = np.random.default_rng(2)
    logits, y = rng.normal(size=(6, 4)), rng.integers(0, 4, size=6)
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    loss, dlogits = nn.softmax_cross_entropy(logits, y)
    assert loss == pytest.approx(-np.mean(np.log(p[np.arange(6), y])), rel=1e-12)
    assert np.allclose(dlogits, (p - np.eye(4)[y]) / 6, rtol=1e-12, atol=1e-15)
    numeric = numerical_gradient(lambda z: np.array(nn.softmax_cross_entropy(z, y)[0]), logits, np.array(1.0))
    assert rel_error(dlogits, numeric) < 1e-7


def test_softmax_cross_entropy_is_stable_for_huge_logits():
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow to 0 is fine
        loss, dlogits = nn.softmax_cross_entropy([[1e4, 0.0, -1e4], [1e4, 1e4, 0.0]], [0, 2])
    assert loss == pytest.approx((0.0 + (1e4 + np.log(2))) / 2, rel=1e-12)
    assert np.all(np.isfinite(dlogits))
    small = nn.softmax_cross_entropy([[1.0, 2.0, 3.0]], [1])
    shifted = nn.softmax_cross_entropy([[1e4 + 1.0, 1e4 + 2.0, 1e4 + 3.0]], [1])
    assert shifted[0] == pytest.approx(small[0], rel=1e-12)
    assert np.allclose(shifted[1], small[1], atol=1e-12)


def test_softmax_cross_entropy_errors():
    with pytest.raises(ValueError, match=r"y must hold N=2 integer labels"):
        nn.softmax_cross_entropy(np.zeros((2, 3)), [0, 1, 2])
    with pytest.raises(ValueError, match=r"labels in 0..2; got values from 0 to 3"):
        nn.softmax_cross_entropy(np.zeros((2, 3)), [0, 3])


def test_sgd_classic_momentum_and_its_pytorch_form():
    w, g = np.array([1.0, -2.0]), np.zeros(2)
    opt = nn.SGD([(w, g)], lr=0.1, momentum=0.9)
    grads = [np.array([1.0, 2.0]), np.array([-3.0, 0.5]), np.array([0.2, 0.2])]
    w_torch, v_torch, expected = np.array([1.0, -2.0]), np.zeros(2), np.array([1.0, -2.0])
    v = np.zeros(2)
    for grad in grads:
        g[...] = grad
        opt.step()
        v = 0.9 * v - 0.1 * grad
        expected = expected + v
        v_torch = 0.9 * v_torch + grad  # torch.optim.SGD: v = mu v + g, w -= lr v
        w_torch = w_torch - 0.1 * v_torch
    assert np.allclose(w, expected, rtol=1e-15)
    assert np.allclose(w, w_torch, rtol=1e-12)  # same steps at a constant learning rate
    with pytest.raises(ValueError, match="lr must be > 0"):
        nn.SGD([(w, g)], lr=0.0)


def test_sgd_on_a_module_updates_its_own_arrays():
    model = nn.mlp([3, 4, 2], seed=0)
    before = [p.copy() for _, p in model.params()]
    opt = nn.SGD(model, lr=0.5)
    _, dlogits = nn.softmax_cross_entropy(model.forward(np.ones((4, 3))), [0, 1, 0, 1])
    model.backward(dlogits)
    opt.step()
    for b, (_, p), g in zip(before, model.params(), model.grads()):
        assert np.allclose(p, b - 0.5 * g, rtol=1e-15)


# --------------------------------------------------------------------------
# Training on the digits (EXPERIMENTS.md, Ioffe Section 4.1)
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def digits():
    return load_digits_split()


def test_batch_norm_trains_a_sigmoid_net_much_faster(digits):
    # Measured (seeds 0-4): with BN, 0.854-0.905 at step 50 and 0.961-0.968 at step 300;
    # without BN, 0.082-0.114 at step 50 (chance is 0.1). Seed 0: 0.888, 0.965 and 0.090.
    kw = dict(batch_size=60, lr=0.1, seed=0, progress=False, X_test=digits.X_test, y_test=digits.y_test)
    bn = nn.mlp([64, 100, 100, 100, 10], activation="sigmoid", norm="batch", seed=0)
    hist = nn.fit(bn, digits.X_train, digits.y_train, steps=300, eval_every=50, **kw)
    plain = nn.mlp([64, 100, 100, 100, 10], activation="sigmoid", seed=0)
    hist_plain = nn.fit(plain, digits.X_train, digits.y_train, steps=50, **kw)
    assert hist["eval_step"] == [50, 100, 150, 200, 250, 300] and hist_plain["eval_step"] == [50]
    assert hist["test_acc"][-1] > 0.93
    assert hist["test_acc"][0] > 0.8
    assert hist_plain["test_acc"][0] < 0.2
    assert len(hist["loss"]) == 300 and np.mean(hist["loss"][-20:]) < np.mean(hist["loss"][:20]) / 5
    assert bn.training and plain.training  # back in training mode after the evaluations


def test_fit_is_seeded_and_counts_epochs(digits, capsys):
    X, y = digits.X_train[:200], digits.y_train[:200]
    runs = [nn.fit(nn.mlp([64, 16, 10], norm="batch", seed=1), X, y, epochs=2, batch_size=30, seed=5,
                   progress=False) for _ in range(2)]
    assert len(runs[0]["loss"]) == 2 * (200 // 30)
    assert runs[0]["loss"] == runs[1]["loss"]
    other = nn.fit(nn.mlp([64, 16, 10], norm="batch", seed=1), X, y, epochs=2, batch_size=30, seed=6,
                   progress=False)
    assert other["loss"] != runs[0]["loss"]
    assert capsys.readouterr().err == ""  # progress=False is silent


def test_fit_callback_and_errors(digits):
    X, y = digits.X_train[:100], digits.y_train[:100]
    seen = []
    nn.fit(nn.mlp([64, 8, 10], seed=0), X, y, steps=3, batch_size=20, progress=False,
           callback=lambda step, model: seen.append(step))
    assert seen == [1, 2, 3]
    model = nn.mlp([64, 8, 10], seed=0)
    with pytest.raises(ValueError, match="exactly one of steps and epochs"):
        nn.fit(model, X, y, steps=3, epochs=1)
    with pytest.raises(ValueError, match="batch_size must be between 1 and N=100"):
        nn.fit(model, X, y, steps=3, batch_size=101)
    with pytest.raises(ValueError, match="eval_every needs X_test"):
        nn.fit(model, X, y, steps=3, eval_every=1)


def test_accuracy_is_measured_in_eval_mode_and_restores_the_mode():
    model = nn.mlp([2, 4, 3], norm="batch", seed=0)
    X, y = np.array([[0.0, 1.0], [2.0, -1.0]]), np.array([0, 1])
    bn = model.modules[1]
    with nn.eval_mode(model):
        expected = float(np.mean(model.forward(X).argmax(axis=1) == y))
    assert model.training and bn.training
    assert nn.accuracy(model, X, y) == expected
    assert model.training and bn.num_batches_tracked == 0  # no training-mode pass happened
    bn.eval()
    nn.accuracy(model, X, y)
    assert model.training and not bn.training  # each module's own mode is restored


# --------------------------------------------------------------------------
# Recording activations and gradients
# --------------------------------------------------------------------------


def test_record_keeps_activations_and_gradients_of_every_layer():
    rng = np.random.default_rng(4)
    model = nn.mlp([5, 6, 6, 3], activation="tanh", norm="batch", seed=0)
    x, y = rng.normal(size=(8, 5)), rng.integers(0, 3, size=8)
    with nn.record(model) as rec:
        logits = model.forward(x)
        _, dlogits = nn.softmax_cross_entropy(logits, y)
        dx = model.backward(dlogits)
    assert [r.name for r in rec.layers] == [str(i) for i in range(7)]
    assert [r.name for r in rec.of(nn.Linear)] == ["0", "3", "6"]
    assert np.array_equal(rec.layers[0].input, x) and np.array_equal(rec.layers[-1].output, logits)
    assert np.array_equal(rec.layers[-1].grad_output, dlogits) and np.array_equal(rec.layers[0].grad_input, dx)
    for before, after in zip(rec.layers[:-1], rec.layers[1:]):
        assert np.array_equal(before.output, after.input)
        assert np.array_equal(before.grad_output, after.grad_input)
    tanh_out = rec.of(nn.Tanh)[0].output
    assert np.all(np.abs(tanh_out) < 1) and tanh_out.shape == (8, 6)
    assert np.array_equal(rec.of(nn.Linear)[1].grads["W"], model.modules[3].grads()[0])
    assert set(rec.of(nn.BatchNorm1d)[0].grads) == {"gamma", "beta"}
    # copies: a later step does not change what was recorded, and the hooks are gone
    saved = rec.layers[0].grads["W"].copy()
    model.backward(np.ones_like(dlogits))
    assert np.array_equal(rec.layers[0].grads["W"], saved)
    assert all(not m.hooks for _, m in model.named_modules())


# --------------------------------------------------------------------------
# Errors for people
# --------------------------------------------------------------------------


def test_linear_names_the_expected_features():
    layer = nn.Linear(64, 10, 0)
    with pytest.raises(ValueError, match=r"^x must have 64 features \(shape \(N, 64\)\); got shape \(5, 63\)$"):
        layer.forward(np.zeros((5, 63)))
    with pytest.raises(ValueError, match=r"x must be 2-D \(N, D\); got shape \(64,\)"):
        layer.forward(np.zeros(64))
    with pytest.raises(ValueError, match=r"x must have 3 features"):
        nn.BatchNorm1d(3).forward(np.zeros((4, 2)))
    with pytest.raises(ValueError, match=r"divisible by the number of groups G; got C=6, G=4"):
        nn.GroupNorm(4, 6)


def test_mlp_errors():
    with pytest.raises(ValueError, match="activation must be one of"):
        nn.mlp([2, 3, 2], activation="gelu")
    with pytest.raises(ValueError, match="norm must be one of"):
        nn.mlp([2, 3, 2], norm="instance")
    with pytest.raises(TypeError, match="rng or seed, not both"):
        nn.mlp([2, 3, 2], rng=np.random.default_rng(0), seed=0)


CONSTRUCTOR_ERRORS = {
    "BatchNorm1d momentum str": (lambda: nn.BatchNorm1d(3, momentum="0.1"), TypeError,
                                 r"^momentum must be a real number in \[0, 1\] or None; got str '0.1'$"),
    "BatchNorm1d momentum 1.5": (lambda: nn.BatchNorm1d(3, momentum=1.5), ValueError,
                                 r"^momentum must be in \[0, 1\] or None; got 1.5$"),
    "BatchNorm1d momentum nan": (lambda: nn.BatchNorm1d(3, momentum=float("nan")), ValueError,
                                 r"^momentum must be in \[0, 1\] or None; got nan$"),
    "BatchNorm1d eps negative": (lambda: nn.BatchNorm1d(3, eps=-1e-5), ValueError, r"^eps must be >= 0 and finite; got -1e-05$"),
    "BatchNorm1d eps None": (lambda: nn.BatchNorm1d(3, eps=None), TypeError, r"^eps must be a real number >= 0; got NoneType None$"),
    "BatchNorm1d 2.5 features": (lambda: nn.BatchNorm1d(2.5), TypeError, r"^num_features must be an integer >= 1; got float 2.5$"),
    "BatchNorm1d 0 features": (lambda: nn.BatchNorm1d(0), ValueError, r"^num_features must be an integer >= 1; got 0$"),
    "LayerNorm eps str": (lambda: nn.LayerNorm(3, eps="1e-5"), TypeError, r"^eps must be a real number >= 0; got str '1e-5'$"),
    "LayerNorm features str": (lambda: nn.LayerNorm("3"), TypeError, r"^num_features must be an integer >= 1; got str '3'$"),
    "GroupNorm G float": (lambda: nn.GroupNorm(2.0, 4), TypeError,
                          r"^G \(number of groups\) must be an integer; got float 2.0$"),
    "GroupNorm G 0": (lambda: nn.GroupNorm(0, 4), ValueError, r"^G \(number of groups\) must be >= 1; got G=0$"),
    "GroupNorm eps inf": (lambda: nn.GroupNorm(2, 4, eps=float("inf")), ValueError, r"^eps must be >= 0 and finite; got inf$"),
    "Linear in_features str": (lambda: nn.Linear("3", 4, 0), TypeError, r"^in_features must be an integer >= 1; got str '3'$"),
    "Linear out_features 0": (lambda: nn.Linear(3, 0, 0), ValueError, r"^out_features must be an integer >= 1; got 0$"),
    "Linear weight_scale -1": (lambda: nn.Linear(3, 4, 0, weight_scale=-1), ValueError,
                               r"^weight_scale must be >= 0 and finite, or None; got -1.0$"),
    "SGD lr str": (lambda: nn.SGD([], lr="0.1"), TypeError, r"^lr must be a real number > 0; got str '0.1'$"),
    "SGD lr 0": (lambda: nn.SGD([], lr=0), ValueError, r"^lr must be > 0 and finite; got 0.0$"),
    "SGD momentum 1": (lambda: nn.SGD([], lr=0.1, momentum=1.0), ValueError, r"^momentum must be in \[0, 1\); got 1.0$"),
    "mlp width 2.5": (lambda: nn.mlp([4, 2.5, 2]), TypeError, r"^sizes\[1\] must be an integer >= 1; got float 2.5$"),
    "mlp width 0": (lambda: nn.mlp([4, 0, 2]), ValueError, r"^sizes\[1\] must be an integer >= 1; got 0$"),
}


@pytest.mark.parametrize("case", CONSTRUCTOR_ERRORS)
def test_constructors_name_the_argument_what_is_required_and_what_came(case):
    call, error, match = CONSTRUCTOR_ERRORS[case]
    with pytest.raises(error, match=match):
        call()


def test_fit_refuses_non_integer_sizes(digits):
    X, y = digits.X_train[:100], digits.y_train[:100]
    model = nn.mlp([64, 8, 10], seed=0)
    with pytest.raises(TypeError, match=r"^batch_size must be an integer >= 1; got float 20.5$"):
        nn.fit(model, X, y, steps=3, batch_size=20.5, progress=False)
    with pytest.raises(TypeError, match=r"^steps must be an integer >= 0; got float 2.7$"):
        nn.fit(model, X, y, steps=2.7, progress=False)
    with pytest.raises(ValueError, match=r"^epochs must be an integer >= 0; got -1$"):
        nn.fit(model, X, y, epochs=-1, progress=False)
    with pytest.raises(TypeError, match=r"^eval_every must be an integer >= 1; got str '5'$"):
        nn.fit(model, X, y, steps=3, eval_every="5", X_test=X, y_test=y, progress=False)


def test_doctests():
    assert doctest.testmod(nn).failed == 0
