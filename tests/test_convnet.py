"""The conv net: numerical gradients of every layer and of the whole network, shapes, lockstep, errors."""
import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from bn_helpers import convnet as cn
from bn_helpers import norms
from bn_helpers.data import load_digits_split
from bn_helpers.gradcheck import numerical_gradient, rel_error

pytestmark = pytest.mark.xdist_group("test_convnet")


@pytest.fixture(autouse=True, scope="module")
def one_blas_thread():
    with threadpool_limits(1, user_api="blas"):
        yield


def _check(f, x, grad, dout, tol=1e-7):
    """``grad`` (the analytic gradient of sum(f(x) * dout)) against central differences."""
    num = numerical_gradient(f, x, dout)
    assert rel_error(num, grad) < tol


def _reference_conv(x, w, b):
    """Direct 3x3 cross-correlation, padding 1, loops over the 9 offsets: (N, S*Cin, H, W) -> (N, S*Cout, H, W)."""
    s, c_out, c_in = w.shape[:3]
    n, _, h, wd = x.shape
    xp = np.pad(x.reshape(n, s, c_in, h, wd), ((0, 0), (0, 0), (0, 0), (1, 1), (1, 1)))
    out = np.zeros((n, s, c_out, h, wd)) + b[None, :, :, None, None]
    for u in range(3):
        for v in range(3):
            out += np.einsum("nsihw,soi->nsohw", xp[..., u:u + h, v:v + wd], w[:, :, :, u, v])
    return out.reshape(n, s * c_out, h, wd)


def test_conv_forward_matches_direct_correlation():
    rng = np.random.default_rng(0)
    x, w, b = rng.normal(size=(3, 2 * 3, 5, 4)), rng.normal(size=(2, 4, 3, 3, 3)), rng.normal(size=(2, 4))
    out, _ = cn.conv3x3_forward(x, w, b)
    assert out.shape == (3, 8, 5, 4)
    np.testing.assert_allclose(out, _reference_conv(x, w, b), rtol=1e-12, atol=1e-12)


def test_conv_stacked_networks_do_not_mix():
    """Network 1's output does not change when network 0's input or weights do."""
    rng = np.random.default_rng(1)
    x, w, b = rng.normal(size=(2, 4, 6, 6)), rng.normal(size=(2, 3, 2, 3, 3)), rng.normal(size=(2, 3))
    out, _ = cn.conv3x3_forward(x, w, b)
    x2, w2 = x.copy(), w.copy()
    x2[:, :2] += 5.0
    w2[0] *= -3.0
    out2, _ = cn.conv3x3_forward(x2, w2, b)
    np.testing.assert_array_equal(out[:, 3:], out2[:, 3:])
    assert not np.allclose(out[:, :3], out2[:, :3])


def test_conv_backward_matches_numerical_gradient():
    rng = np.random.default_rng(2)
    x, w, b = rng.normal(size=(3, 2 * 3, 5, 4)), rng.normal(size=(2, 4, 3, 3, 3)), rng.normal(size=(2, 4))
    out, cache = cn.conv3x3_forward(x, w, b)
    dout = rng.normal(size=out.shape)
    dx, dw, db = cn.conv3x3_backward(dout, cache)
    _check(lambda v: cn.conv3x3_forward(v, w, b)[0], x.copy(), dx, dout)
    _check(lambda v: cn.conv3x3_forward(x, v, b)[0], w.copy(), dw, dout)
    _check(lambda v: cn.conv3x3_forward(x, w, v)[0], b.copy(), db, dout)
    assert cn.conv3x3_backward(dout, cache, need_dx=False)[0] is None


@pytest.mark.parametrize("layer", ["avgpool", "gap"])
def test_pooling_backward_matches_numerical_gradient(layer):
    fwd, bwd = {"avgpool": (cn.avgpool2_forward, cn.avgpool2_backward), "gap": (cn.gap_forward, cn.gap_backward)}[layer]
    rng = np.random.default_rng(3)
    x = rng.normal(size=(2, 3, 4, 6))
    out, shape = fwd(x)
    assert out.shape == ((2, 3, 2, 3) if layer == "avgpool" else (2, 3))
    dout = rng.normal(size=out.shape)
    _check(lambda v: fwd(v)[0], x.copy(), bwd(dout, shape), dout)


@pytest.mark.parametrize("kind, ghost", [("batch", None), ("batch", 2), ("group", None), ("layer", None),
                                         ("instance", None)])
def test_norm_backward_matches_numerical_gradient(kind, ghost):
    rng = np.random.default_rng(4)
    S, C = 2, 4
    x = rng.normal(1.0, 2.0, size=(4, S * C, 3, 3))
    gamma, beta = rng.normal(size=S * C), rng.normal(size=S * C)
    out, cache, meta = cn.norm_forward(kind, x, gamma, beta, S=S, G=2, ghost=ghost)
    dout = rng.normal(size=out.shape)
    dx, dgamma, dbeta = cn.norm_backward(kind, dout, (cache, meta))
    f = lambda v, g=gamma, b=beta: cn.norm_forward(kind, v, g, b, S=S, G=2, ghost=ghost)[0]  # noqa: E731
    _check(f, x.copy(), dx, dout, tol=1e-6)
    _check(lambda g: f(x, g), gamma.copy(), dgamma, dout, tol=1e-6)
    _check(lambda b: f(x, gamma, b), beta.copy(), dbeta, dout, tol=1e-6)


def test_norms_per_network_match_the_single_network_functions():
    """Stacked, each network is normalized as bn_helpers.norms normalizes it alone; ghost batches as separate batches."""
    rng = np.random.default_rng(5)
    S, C, N = 2, 4, 4
    x = rng.normal(size=(N, S * C, 3, 3))
    g, b = np.ones(C), np.zeros(C)
    gs, bs = np.ones(S * C), np.zeros(S * C)
    alone = {"batch": lambda v: norms.spatial_batchnorm_forward(v, g, b)[0],
             "group": lambda v: norms.groupnorm_forward(v, g, b, 2)[0],
             "layer": lambda v: norms.layernorm_forward(v, g, b)[0],
             "instance": lambda v: norms.instancenorm_forward(v, g, b)[0]}
    for kind, f in alone.items():
        out = cn.norm_forward(kind, x, gs, bs, S=S, G=2)[0]
        for s in range(S):
            np.testing.assert_allclose(out[:, s * C:(s + 1) * C], f(x[:, s * C:(s + 1) * C]), atol=1e-12)
    ghost = cn.norm_forward("batch", x, gs, bs, S=S, ghost=2)[0]
    for k in range(0, N, 2):
        np.testing.assert_allclose(ghost[k:k + 2], norms.spatial_batchnorm_forward(x[k:k + 2], gs, bs)[0], atol=1e-12)


@pytest.mark.parametrize("norm, ghost, head", [(None, None, "gap"), ("batch", None, "gap"), ("batch", 2, "gap"),
                                               ("group", None, "gap"), ("layer", None, "gap"),
                                               ("instance", None, "gap"), ("batch", None, "flatten"),
                                               (("batch", "group", None), None, "flatten")])
def test_whole_network_gradient(norm, ghost, head):
    """Every parameter of stacked networks, training mode, float64: the loss summed over the networks.

    The tolerance is looser than the single layers' because ReLU's kinks make
    the central differences of the whole network less exact.
    """
    d = load_digits_split()
    seeds = [0, 1] if isinstance(norm, str) or norm is None else [0, 1, 2]
    net = cn.ConvNet(norm, seeds=seeds, channels=(4, 8), G=2, ghost=ghost, head=head, dtype=np.float64)
    rng = np.random.default_rng(6)
    for name in ("g1", "be1", "g2", "be2", "b1", "b2", "b"):
        net.params[name] += 0.3 * rng.normal(size=net.params[name].shape)
    X, y = d.X_train[:4], d.y_train[:4]
    loss, grads = net.loss_and_grads(X, y)
    assert loss.shape == (len(seeds),) and set(grads) >= set(net.trainable())
    for name in net.trainable():
        p = net.params[name]

        def f(v, p=p):
            old = p.copy()
            p[...] = v
            out = net.loss_and_grads(X, y)[0].sum()
            p[...] = old
            return np.array(out)

        num = numerical_gradient(f, p.copy(), np.array(1.0))
        assert rel_error(num, grads[name]) < 1e-4, name


def test_shapes_and_eval_mode():
    d = load_digits_split()
    net = cn.ConvNet("batch", seeds=[0, 1, 2])
    logits, _ = net.forward(d.X_test[:5])
    assert logits.shape == (3, 5, 10) and logits.dtype == np.float32
    assert net.params["w1"].shape == (3, 16, 1, 3, 3) and net.params["w2"].shape == (3, 16, 16, 3, 3)
    before = {k: v.copy() for k, v in net.running.items()}
    net.forward(d.X_test[:5])                               # eval mode: running statistics unchanged
    assert all(np.array_equal(before[k], net.running[k]) for k in before)
    one = net.forward(d.X_test[:1])[0]                      # eval mode: one image's output alone = in a batch
    np.testing.assert_allclose(one[:, 0], logits[:, 0], rtol=1e-5, atol=1e-5)


def test_lockstep_equals_one_network_at_a_time():
    """Seed 1 trained alone gives the same parameters as seed 1 trained beside seed 0."""
    d = load_digits_split()
    pair = cn.ConvNet("group", seeds=[0, 1], dtype=np.float64)
    alone = cn.ConvNet("group", seeds=[1], dtype=np.float64)
    for net in (pair, alone):
        net.fit(d.X_train, d.y_train, steps=5, batch_size=8, lr=0.1)
    np.testing.assert_allclose(pair.params["w2"][1], alone.params["w2"][0], rtol=1e-9, atol=1e-12)


def test_mixed_stack_equals_each_norm_alone():
    """Several normalizations in one lockstep train each network exactly as it would train alone."""
    d = load_digits_split()
    mixed = cn.ConvNet(["batch", "batch", "layer", None], seeds=[0, 1, 0, 1], dtype=np.float64, head="flatten")
    mixed.fit(d.X_train, d.y_train, steps=4, batch_size=8, lr=0.1)
    for j, (norm, seed) in enumerate([("batch", 0), ("batch", 1), ("layer", 0), (None, 1)]):
        alone = cn.ConvNet(norm, seeds=[seed], dtype=np.float64, head="flatten")
        alone.fit(d.X_train, d.y_train, steps=4, batch_size=8, lr=0.1, order_seed=None)
        np.testing.assert_allclose(mixed.params["w2"][j], alone.params["w2"][0], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(mixed.running["var2"][16:32], alone_running(d), rtol=1e-9)


def alone_running(d):
    net = cn.ConvNet("batch", seeds=[1], dtype=np.float64, head="flatten")
    net.fit(d.X_train, d.y_train, steps=4, batch_size=8, lr=0.1)
    return net.running["var2"]


def test_training_lowers_the_loss():
    d = load_digits_split()
    net = cn.ConvNet("batch", seeds=[0, 1])
    losses = net.fit(d.X_train, d.y_train, steps=60, batch_size=16, lr=0.1)
    assert losses.shape == (60, 2)
    assert (losses[-10:].mean(axis=0) < 0.6 * losses[:5].mean(axis=0)).all()


@pytest.mark.parametrize("call, match", [
    (lambda: cn.conv3x3_forward(np.zeros((2, 3, 4, 4)), np.zeros((1, 2, 2, 3, 3)), np.zeros((1, 2))),
     r"w must have shape \(S, Cout, Cin, 3, 3\) with S\*Cin = 3 .*got shape \(1, 2, 2, 3, 3\)"),
    (lambda: cn.conv3x3_forward(np.zeros((2, 3, 4)), np.zeros((1, 2, 3, 3, 3)), np.zeros((1, 2))),
     r"x must be 4-D.*got shape \(2, 3, 4\)"),
    (lambda: cn.conv3x3_forward(np.zeros((2, 3, 4, 4)), np.zeros((1, 2, 3, 3, 3)), np.zeros(2)),
     r"b must have shape \(S, Cout\) = \(1, 2\); got shape \(2,\)"),
    (lambda: cn.norm_forward("batch", np.zeros((4, 6, 2, 2)), np.ones(6), np.zeros(6), ghost=3),
     r"ghost must divide the batch size N=4; got ghost=3"),
    (lambda: cn.norm_forward("weight", np.zeros((4, 6, 2, 2)), np.ones(6), np.zeros(6)), r"kind must be one of"),
    (lambda: cn.avgpool2_forward(np.zeros((1, 1, 3, 4))), r"even H and W .*got shape \(1, 1, 3, 4\)"),
    (lambda: cn.ConvNet("batch", [0]).forward(np.zeros((3, 65))), r"X must have shape \(N, 64\).*got shape \(3, 65\)"),
    (lambda: cn.ConvNet("weight", [0]), r"norm must be one of"),
    (lambda: cn.ConvNet("layer", [0], ghost=2), r"ghost batches need norm='batch'"),
    (lambda: cn.ConvNet("batch", []), r"seeds must hold at least one seed"),
    (lambda: cn.ConvNet(["batch", "layer", "batch"], [0, 1, 2]), r"networks with the same norm must be consecutive"),
    (lambda: cn.ConvNet(["batch"], [0, 1]), r"norm must be one name or one per seed \(2\); got 1"),
    (lambda: cn.ConvNet("batch", [0], head="max"), r"head must be 'gap' or 'flatten'"),
    (lambda: cn.ConvNet("batch", [0]).fit(np.zeros((8, 64)), np.zeros(8, int), batch_size=4),
     r"give exactly one of epochs and steps"),
    (lambda: cn.ConvNet("batch", [0]).fit(np.zeros((8, 64)), np.zeros(8, int), steps=1, lr=-0.1), r"lr must be"),
    (lambda: cn.ConvNet("batch", [0]).fit(np.zeros((8, 64)), np.zeros(8, int), steps=1, momentum=1.0),
     r"momentum must be"),
])
def test_errors_name_the_expected_shape(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_conv_backward_refuses_a_wrong_dout():
    out, cache = cn.conv3x3_forward(np.zeros((2, 3, 4, 4)), np.zeros((1, 2, 3, 3, 3)), np.zeros((1, 2)))
    with pytest.raises(ValueError, match=r"dout must have shape \(2, 2, 4, 4\)"):
        cn.conv3x3_backward(np.zeros((2, 2, 4, 5)), cache)
    with pytest.raises(TypeError, match="cache must be the ConvCache"):
        cn.conv3x3_backward(out, None)
