"""Experiments of assignment 01_why_normalize, each a seeded function returning plain numbers.

* :func:`scaled_regression`, :func:`gd_path`, :func:`steps_to_converge`: gradient
  descent on a least-squares problem whose two features have very different
  scales, before and after standardizing;
* :func:`layer_flow`: per-layer mean and std of a deep network's activations
  at initialization, with and without batch norm (the seed's Multi-Layer Flow);
* :func:`ics_run`: Ioffe & Szegedy's Section 4.1 experiment at toy scale;
* :class:`NoisyBatchNorm1d` and :func:`noisy_bn_run`: Santurkar et al.'s batch
  norm with injected non-stationary noise;
* :func:`loss_along_gradient`: Santurkar et al.'s variation of the loss along
  the gradient direction.

Every function is deterministic given its ``seed``; training runs use
:mod:`bn_helpers.nn` with one BLAS thread (see :func:`one_thread`).
"""
from __future__ import annotations

import contextlib
from typing import Iterator, NamedTuple, Sequence

import numpy as np
from numpy.typing import NDArray

from .. import nn
from ..data import load_digits_split
from ..diagnostics import layer_stats, percentiles_over_training

__all__ = [
    "one_thread", "Regression", "scaled_regression", "standardize_reference", "gd_path",
    "steps_to_converge", "loss_grid", "layer_flow", "ics_run", "NoisyBatchNorm1d", "noisy_bn_run",
    "loss_along_gradient",
]


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """Run the block with one BLAS thread (OpenBLAS on two threads is erratic on small matrices).

    References
    ----------
    threadpoolctl documentation, ``threadpool_limits``.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - shipped with scikit-learn
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


# --------------------------------------------------------------------------- gradient descent


class Regression(NamedTuple):
    """A least-squares problem ``L(w) = mean((X @ w - y)**2) / 2`` with two weights.

    Attributes
    ----------
    X : ndarray, shape (N, 2)
    y : ndarray, shape (N,)
    H : ndarray, shape (2, 2)
        The Hessian ``X.T @ X / N`` (constant: the loss is quadratic).
    w_star : ndarray, shape (2,)
        The minimizer.
    eigvals : ndarray, shape (2,)
        Eigenvalues of ``H``, ascending; their ratio is the condition number.

    References
    ----------
    Y. LeCun, L. Bottou, G. Orr, K.-R. Mueller, "Efficient BackProp" (1998),
    Section 4.3 (normalizing the inputs) and Section 5 (the Hessian's eigenvalues).
    """

    X: NDArray
    y: NDArray
    H: NDArray
    w_star: NDArray
    eigvals: NDArray

    @property
    def condition(self) -> float:
        return float(self.eigvals[-1] / self.eigvals[0])

    def loss(self, w) -> NDArray:
        """Loss at ``w`` of shape (2,) or at many points (..., 2)."""
        w = np.asarray(w, dtype=np.float64)
        r = np.tensordot(w, self.X.T, axes=1) - self.y
        return 0.5 * np.mean(r**2, axis=-1)


def standardize_reference(X) -> NDArray:
    """Per-feature ``(X - mean) / std`` (population std); constant features become 0.

    Parameters
    ----------
    X : array_like, shape (N, D)

    Returns
    -------
    ndarray, shape (N, D), float64

    References
    ----------
    LeCun et al., "Efficient BackProp" (1998), Section 4.3.
    """
    X = np.asarray(X, dtype=np.float64)
    std = X.std(axis=0)
    return (X - X.mean(axis=0)) / np.where(std > 0, std, 1.0)


def _problem(X, y) -> Regression:
    H = X.T @ X / len(X)
    w_star = np.linalg.solve(H, X.T @ y / len(X))
    return Regression(X, y, H, w_star, np.linalg.eigvalsh(H))


def scaled_regression(n: int = 200, seed: int = 0, standardized: bool = False) -> Regression:
    """Predict a score from a cgpa-like and an iq-like feature, raw or standardized.

    ``cgpa ~ N(7.5, 1)`` and ``iq ~ N(100, 15)`` (independent; the scales of
    the seed's table), ``y = 0.3 cgpa + 0.02 iq + noise``. The raw problem
    has no intercept; the standardized one uses standardized features and a
    centred ``y`` (the intercept is then the mean of ``y``).

    Parameters
    ----------
    n : int, default 200
    seed : int, default 0
    standardized : bool, default False

    Returns
    -------
    Regression

    References
    ----------
    LeCun et al., "Efficient BackProp" (1998), Section 4.3; seed 002's
    cgpa / iq / placed table.
    """
    rng = np.random.default_rng(seed)
    X = np.column_stack([rng.normal(7.5, 1.0, n), rng.normal(100.0, 15.0, n)])
    y = 0.3 * X[:, 0] + 0.02 * X[:, 1] + rng.normal(0.0, 0.3, n)
    if standardized:
        X, y = standardize_reference(X), y - y.mean()
    return _problem(X, y)


def gd_path(problem: Regression, lr: float, steps: int, w0=(0.0, 0.0)) -> NDArray:
    """Full-batch gradient descent ``w <- w - lr * (H w - X.T y / N)``; every iterate.

    Parameters
    ----------
    problem : Regression
    lr : float
    steps : int
    w0 : array_like, shape (2,), default (0, 0)

    Returns
    -------
    ndarray, shape (steps + 1, 2)

    References
    ----------
    LeCun et al., "Efficient BackProp" (1998), Section 5.1.
    """
    b = problem.X.T @ problem.y / len(problem.X)
    w = np.array(w0, dtype=np.float64)
    path = [w.copy()]
    for _ in range(int(steps)):
        w = w - lr * (problem.H @ w - b)
        path.append(w.copy())
    return np.array(path)


def steps_to_converge(problem: Regression, lr: float, tol: float = 1e-3, w0=(0.0, 0.0),
                      max_steps: int = 10**9) -> float:
    """Gradient-descent steps until ``||w - w*|| <= tol ||w0 - w*||``, counted exactly.

    Along eigenvector ``i`` of the Hessian the error is multiplied by
    ``1 - lr * lambda_i`` at every step, so the count follows from the
    eigendecomposition without running millions of steps (:func:`gd_path`
    agrees, see the tests). Returns ``inf`` if ``lr >= 2 / lambda_max``
    (divergence or endless oscillation) or beyond ``max_steps``.

    Parameters
    ----------
    problem : Regression
    lr : float
    tol : float, default 1e-3
    w0 : array_like, shape (2,)
    max_steps : int

    Returns
    -------
    float (an integer count, or inf)

    References
    ----------
    LeCun et al., "Efficient BackProp" (1998), Section 5.1 (the learning rate
    is limited by the largest eigenvalue; convergence time grows with the
    condition number).
    """
    lam, vec = np.linalg.eigh(problem.H)
    c = vec.T @ (np.asarray(w0, dtype=np.float64) - problem.w_star)
    rate = np.abs(1.0 - lr * lam)
    if np.any(rate[np.abs(c) > 0] >= 1.0):
        return float("inf")

    def err(t):
        return np.sqrt(np.sum((c * rate**t) ** 2)) / np.sqrt(np.sum(c**2))

    lo, hi = 0, 1
    while err(hi) > tol:
        lo, hi = hi, hi * 2
        if hi > max_steps:
            return float("inf")
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if err(mid) > tol else (lo, mid)
    return float(hi)


def loss_grid(problem: Regression, w1, w2) -> NDArray:
    """The loss on the grid ``w1 x w2`` (for contour plots), shape (len(w2), len(w1)).

    Parameters
    ----------
    problem : Regression
    w1, w2 : array_like, shape (K1,) and (K2,)

    Returns
    -------
    ndarray, shape (K2, K1)

    References
    ----------
    LeCun et al., "Efficient BackProp" (1998), Figure 4 (loss contours).
    """
    W1, W2 = np.meshgrid(np.asarray(w1, float), np.asarray(w2, float))
    w = np.stack([W1, W2], axis=-1)
    # quadratic form: L(w) = L(w*) + (w - w*)^T H (w - w*) / 2, exact and cheap
    d = w - problem.w_star
    return problem.loss(problem.w_star) + 0.5 * np.einsum("...i,ij,...j->...", d, problem.H, d)


# --------------------------------------------------------------------------- layer flow


def layer_flow(depth: int = 10, init_scale: float = 1.0, activation: str = "tanh", norm: str | None = None,
               n: int = 500, width: int = 100, seed: int = 0) -> dict:
    """Per-layer statistics of a deep net's activations at initialization, on digits.

    ``depth`` hidden layers ``Linear -> [BatchNorm] -> activation`` of
    ``width`` units, weights ``N(0, (init_scale / sqrt(fan_in))^2)``; a batch
    of ``n`` training digits goes through once (training mode: batch norm
    uses the batch's statistics).

    Parameters
    ----------
    depth : int, default 10
    init_scale : float, default 1.0
        Gain on the N(0, 1/fan_in) initialization.
    activation : {"tanh", "relu", "sigmoid"}, default "tanh"
    norm : {None, "batch"}, default None
    n, width, seed : int

    Returns
    -------
    dict
        ``"stats"``: list of (mean, std) of each hidden layer's activation
        output (over all entries, :func:`bn_helpers.diagnostics.layer_stats`);
        ``"pre_stats"``: the same for the inputs of each activation;
        ``"activations"``: the outputs themselves, each (n, width).

    References
    ----------
    Ioffe & Szegedy, arXiv:1502.03167, Sections 1-2; Glorot & Bengio,
    AISTATS 2010, Section 4.2; seed 000, "Multi-Layer Flow".
    """
    X = load_digits_split(seed=0).X_train[:n]
    model = nn.mlp([X.shape[1]] + [width] * int(depth) + [10], activation=activation, norm=norm, seed=seed,
                   weight_scale=None)
    for layer in model.modules:
        if isinstance(layer, nn.Linear):
            layer.W[...] *= float(init_scale)
    with one_thread(), nn.record(model) as rec:
        model.forward(X)
    acts = [r for r in rec.layers if isinstance(r.module, (nn.Tanh, nn.ReLU, nn.Sigmoid))]
    outputs = [r.output for r in acts]
    return {"stats": layer_stats(outputs), "pre_stats": layer_stats([r.input for r in acts]),
            "activations": outputs}


# --------------------------------------------------------------------------- Ioffe 4.1


def _net(norm, seed, sizes=(64, 100, 100, 100, 10), activation="sigmoid"):
    return nn.mlp(list(sizes), activation=activation, norm=norm, seed=seed)


def ics_run(norm: str | None, steps: int = 1000, seed: int = 0, every: int = 10, lr: float = 0.1,
            batch_size: int = 60, q: Sequence[float] = (15, 50, 85)) -> dict:
    """Ioffe & Szegedy's Section 4.1 at toy scale: a 3x100 sigmoid net on digits.

    Trains with SGD (batch 60, lr 0.1) and, every ``every`` steps, feeds the
    test set in evaluation mode and takes the ``q`` percentiles over examples
    of the input to the last sigmoid, averaged over its 100 units
    (:func:`bn_helpers.diagnostics.percentiles_over_training`).

    Parameters
    ----------
    norm : {None, "batch"}
    steps, seed, every : int
    lr : float, default 0.1
    batch_size : int, default 60
    q : sequence of float, default (15, 50, 85)

    Returns
    -------
    dict
        ``"step"`` (K,), ``"percentiles"`` (K, len(q)), ``"test_acc"`` (K,)
        at those steps (step 0 = initialization included), and ``"model"``.

    References
    ----------
    Ioffe & Szegedy, arXiv:1502.03167, Section 4.1 and Figure 1.
    """
    d = load_digits_split(seed=0)
    model = _net(norm, seed)
    snaps, accs, recorded = [], [], []

    def look(step, m):
        if step % every:
            return
        with nn.eval_mode(m), nn.record(m) as rec:
            logits = m.forward(d.X_test)
        snaps.append(rec.of(nn.Sigmoid)[-1].input)
        accs.append(float(np.mean(logits.argmax(axis=1) == d.y_test)))
        recorded.append(step)

    with one_thread():
        look(0, model)
        nn.fit(model, d.X_train, d.y_train, steps=steps, batch_size=batch_size, lr=lr, seed=seed,
               progress=False, callback=look)
    return {"step": np.array(recorded), "percentiles": percentiles_over_training(snaps, q),
            "test_acc": np.array(accs), "model": model}


# --------------------------------------------------------------------------- Santurkar


class NoisyBatchNorm1d(nn.BatchNorm1d):
    """Batch norm followed, in training mode only, by random per-unit scale and shift.

    At every training forward, each unit j draws ``s_j ~ U(1, 1 + noise)``
    and ``m_j ~ U(-noise, noise)`` and the output becomes ``s * BN(x) + m``:
    the distribution of the next layer's input changes at every step, on
    purpose. Evaluation mode is plain batch norm with running statistics.

    Parameters
    ----------
    num_features : int
    noise : float, default 1.0
    rng : numpy.random.Generator or int, default 0

    References
    ----------
    Santurkar, Tsipras, Ilyas, Madry, arXiv:1805.11604, Section 2.1 and
    Figure 2 ("noisy" BatchNorm: non-zero mean, non-unit variance noise,
    changing at every step).
    """

    def __init__(self, num_features: int, noise: float = 1.0, rng=0) -> None:
        super().__init__(num_features)
        self.noise = float(noise)
        self.rng = np.random.default_rng(rng)
        self._scale = None

    def _forward(self, x) -> NDArray:
        out = super()._forward(x)
        if not self.training or self.noise == 0:
            self._scale = None
            return out
        self._scale = self.rng.uniform(1.0, 1.0 + self.noise, self.num_features)
        shift = self.rng.uniform(-self.noise, self.noise, self.num_features)
        return out * self._scale + shift

    def _backward(self, dout) -> NDArray:
        if self._scale is not None:
            dout = np.asarray(dout) * self._scale
        return super()._backward(dout)


def noisy_bn_run(noise: float | None, steps: int = 1000, seed: int = 0, lr: float = 0.1,
                 batch_size: int = 60, every: int = 100) -> dict:
    """Train the 3x100 sigmoid net with noisy batch norm (``noise`` > 0), BN (0) or no BN (None).

    Parameters
    ----------
    noise : float or None
        Noise level n of :class:`NoisyBatchNorm1d`; 0 is plain batch norm,
        None a network without normalization.
    steps, seed, every : int
    lr : float, default 0.1
    batch_size : int, default 60

    Returns
    -------
    dict
        ``"eval_step"``, ``"test_acc"`` (lists, every ``every`` steps and at
        the end, evaluation mode), ``"loss"`` (training loss per step).

    References
    ----------
    Santurkar et al., arXiv:1805.11604, Section 2.1 and Figure 2.
    """
    d = load_digits_split(seed=0)
    model = _net(None if noise is None else "batch", seed)
    if noise is not None:
        for i, layer in enumerate(model.modules):
            if isinstance(layer, nn.BatchNorm1d):
                model.modules[i] = NoisyBatchNorm1d(layer.num_features, noise, rng=seed * 1000 + i)
    with one_thread():
        return nn.fit(model, d.X_train, d.y_train, steps=steps, batch_size=batch_size, lr=lr, seed=seed,
                      progress=False, eval_every=every, X_test=d.X_test, y_test=d.y_test)


def loss_along_gradient(norm: str | None, steps: int = 300, every: int = 10,
                        etas: Sequence[float] = tuple(np.linspace(0.05, 0.4, 8)), lr: float = 0.1,
                        batch_size: int = 60, depth: int = 8, activation: str = "relu", seed: int = 0) -> dict:
    """Santurkar et al.'s loss landscape probe: how much the loss varies along the gradient.

    Trains a ``depth`` x 100 network with SGD; every ``every`` steps, on the
    step's own batch and gradient ``g``, evaluates ``L(w - eta g)`` for each
    ``eta`` in ``etas`` (training mode; batch-norm running statistics are
    restored afterwards, so the probe does not change the run).

    Parameters
    ----------
    norm : {None, "batch"}
    steps, every, batch_size, depth, seed : int
    etas : sequence of float, default 8 values from 0.05 to 0.4
    lr : float, default 0.1
    activation : str, default "relu"

    Returns
    -------
    dict
        ``"step"`` (K,), ``"losses"`` (K, len(etas)), ``"range"`` (K,):
        max minus min of the losses along the gradient at each probe.

    References
    ----------
    Santurkar et al., arXiv:1805.11604, Section 3.1 and Figure 4(a)
    ("variation of loss" along the gradient direction).
    """
    d = load_digits_split(seed=0)
    model = _net(norm, seed, sizes=(64,) + (100,) * depth + (10,), activation=activation)
    opt = nn.SGD(model, lr)
    params = [p for _, p in model.params()]
    bns = [m for _, m in model.named_modules() if isinstance(m, nn.BatchNorm1d)]
    rng = np.random.default_rng(seed)
    n, per_epoch = len(d.X_train), len(d.X_train) // batch_size
    probe_steps, probes = [], []
    with one_thread():
        for step in range(steps):
            if step % per_epoch == 0:
                order = rng.permutation(n)
            idx = order[(step % per_epoch) * batch_size:(step % per_epoch + 1) * batch_size]
            xb, yb = d.X_train[idx], d.y_train[idx]
            _, dlogits = nn.softmax_cross_entropy(model.forward(xb), yb)
            model.backward(dlogits)
            if step % every == 0:
                saved = [p.copy() for p in params]
                running = [(b.running_mean.copy(), b.running_var.copy(), b.num_batches_tracked) for b in bns]
                grads = [g.copy() for g in model.grads()]  # the probes only run forward passes
                row = []
                for eta in etas:
                    for p, w, g in zip(params, saved, grads):
                        p[...] = w - eta * g
                    row.append(nn.softmax_cross_entropy(model.forward(xb), yb)[0])
                for p, w in zip(params, saved):
                    p[...] = w
                for b, (m, v, k) in zip(bns, running):
                    b.running_mean, b.running_var, b.num_batches_tracked = m, v, k
                probe_steps.append(step)
                probes.append(row)
            opt.step()
    losses = np.array(probes)
    return {"step": np.array(probe_steps), "losses": losses, "range": losses.max(axis=1) - losses.min(axis=1)}
