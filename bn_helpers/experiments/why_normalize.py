"""Experiments of assignment 01_why_normalize, each a seeded function returning plain numbers.

* :func:`scaled_regression`, :func:`gd_path`, :func:`steps_to_converge`,
  :func:`conditioning`: gradient descent on a least-squares problem whose two
  features have very different scales, before and after standardizing;
* :func:`layer_flow`, :func:`layer_flow_seeds`: per-layer statistics of a deep
  network's activations at initialization, with and without batch norm (the
  seed's Multi-Layer Flow);
* :class:`StackedMLP`: one small MLP per seed, trained together (every array
  has a leading seed axis), so that every claim runs over several seeds in a
  second or two; it trains what :func:`bn_helpers.nn.fit` trains, seed by seed;
* :func:`ics_run`, :func:`unit_drift`: Ioffe & Szegedy's Section 4.1 experiment
  at toy scale, unit by unit;
* :class:`NoisyBatchNorm1d`, :func:`noisy_bn_run`: Santurkar et al.'s batch norm
  with noise injected after it, i.i.d. per example and unit, from a distribution
  that changes at every step;
* :func:`loss_along_gradient`: Santurkar et al.'s variation of the loss along
  the gradient direction;
* :func:`describe`: "mean (min-max)" of a claim's value over the seeds, for printing.

Every function is deterministic given its seeds; training runs use one BLAS
thread (see :func:`one_thread`).
"""
from __future__ import annotations

from typing import NamedTuple, Sequence

import numpy as np
from numpy.typing import NDArray

from .. import nn
from ..data import load_digits_split
from ..diagnostics import layer_stats
from ._lockstep import Lockstep
from ._threads import one_thread

__all__ = [
    "SEEDS", "one_thread", "describe", "Regression", "scaled_regression", "standardize_reference", "gd_path",
    "steps_to_converge", "conditioning", "loss_grid", "layer_flow", "layer_flow_outputs", "layer_flow_seeds", "StackedMLP",
    "ics_run", "unit_drift", "loss_decrease", "typical_unit", "NoisyBatchNorm1d", "noisy_mlp", "noisy_bn_run",
    "loss_along_gradient",
]

#: The seeds the notebook runs every experiment with (the tests add others).
SEEDS = (0, 1, 2, 3, 4)


def describe(values, fmt: str = "{:.2f}") -> str:
    """``"mean (min-max)"`` of a value measured once per seed, e.g. ``"0.46 (0.41–0.49)"``.

    Parameters
    ----------
    values : array_like
        One number per seed (any shape; flattened).
    fmt : str, default "{:.2f}"
        Format of each number.

    Returns
    -------
    str

    Examples
    --------
    >>> describe([0.41, 0.46, 0.51])
    '0.46 (0.41–0.51)'
    """
    v = np.asarray(values, dtype=np.float64).ravel()
    return f"{fmt.format(v.mean())} ({fmt.format(v.min())}–{fmt.format(v.max())})"


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

    A feature is constant when all its values are equal; its computed std can
    be rounding noise rather than 0 (1.4e-17 for a column of 0.1 repeated six
    times), so the test is on the values, not on ``std > 0``.

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
    constant = np.all(X == X[:1], axis=0)
    std = np.where(constant, 1.0, X.std(axis=0))
    return np.where(constant, 0.0, (X - X.mean(axis=0)) / std)


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


def conditioning(seeds: Sequence[int] = SEEDS, n: int = 200) -> dict:
    """Condition numbers and steps to converge of the raw and standardized problems, one per seed.

    Both problems run gradient descent at ``lr = 1 / lambda_max`` (their own),
    to within 0.1% of the minimum (:func:`steps_to_converge`).

    Parameters
    ----------
    seeds : sequence of int, default :data:`SEEDS`
        Seeds of :func:`scaled_regression` (which 200 students are drawn).
    n : int, default 200

    Returns
    -------
    dict of str to ndarray, each (len(seeds),)
        ``"raw_condition"``, ``"std_condition"``, ``"raw_steps"``, ``"std_steps"``.

    References
    ----------
    LeCun et al., "Efficient BackProp" (1998), Sections 4.3 and 5.1.
    """
    out: dict = {k: [] for k in ("raw_condition", "std_condition", "raw_steps", "std_steps")}
    for seed in seeds:
        for kind, standardized in (("raw", False), ("std", True)):
            p = scaled_regression(n, seed, standardized)
            out[f"{kind}_condition"].append(p.condition)
            out[f"{kind}_steps"].append(steps_to_converge(p, 1.0 / p.eigvals[-1]))
    return {k: np.array(v) for k, v in out.items()}


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
    model, X = _flow_net(depth, init_scale, activation, norm, n, width, seed)
    with one_thread(), nn.record(model) as rec:
        model.forward(X)
    acts = [r for r in rec.layers if isinstance(r.module, (nn.Tanh, nn.ReLU, nn.Sigmoid))]
    outputs = [r.output for r in acts]
    return {"stats": layer_stats(outputs), "pre_stats": layer_stats([r.input for r in acts]),
            "activations": outputs}


def layer_flow_outputs(depth: int = 10, init_scale: float = 1.0, activation: str = "tanh", norm: str | None = None,
                       n: int = 500, width: int = 100, seed: int = 0) -> list:
    """Each hidden layer's activation output, shape (n, width): ``layer_flow(...)["activations"]``, faster.

    The same network, batch and forward pass as :func:`layer_flow`, keeping
    only the activations' outputs (``layer_flow`` records a copy of every
    layer's input and output, a third of the time): for a view that measures
    at every move of a control. Parameters as :func:`layer_flow`.
    """
    model, X = _flow_net(depth, init_scale, activation, norm, n, width, seed)
    outputs: list = []

    def keep(module, event, _inp, out):
        if event == "forward":
            outputs.append(out)

    for layer in model.modules:
        if isinstance(layer, (nn.Tanh, nn.ReLU, nn.Sigmoid)):
            layer.hooks.append(keep)
    with one_thread():
        model.forward(X)
    return outputs


def _flow_net(depth, init_scale, activation, norm, n, width, seed):
    """:func:`layer_flow`'s network (weights scaled by ``init_scale``) and its batch of ``n`` digits."""
    X = load_digits_split(seed=0).X_train[:n]
    model = nn.mlp([X.shape[1]] + [width] * int(depth) + [10], activation=activation, norm=norm, seed=seed,
                   weight_scale=None)
    for layer in model.modules:
        if isinstance(layer, nn.Linear):
            layer.W[...] *= float(init_scale)
    return model, X




def layer_flow_seeds(seeds: Sequence[int] = SEEDS, **kwargs) -> list[dict]:
    """:func:`layer_flow` once per seed (the seed draws the initial weights).

    Parameters
    ----------
    seeds : sequence of int, default :data:`SEEDS`
    **kwargs
        Passed to :func:`layer_flow` (``depth``, ``init_scale``, ``activation``, ``norm``...).

    Returns
    -------
    list of dict, one per seed
    """
    return [layer_flow(seed=s, **kwargs) for s in seeds]


# --------------------------------------------------------------------------- several seeds at once

_ACTS = {"sigmoid": nn.Sigmoid, "relu": nn.ReLU, "tanh": nn.Tanh}
def _percentiles(x: NDArray, q: Sequence[float], axis: int) -> NDArray:
    """``np.percentile(x, q, axis)`` (linear interpolation), from one sort: several times faster here."""
    s = np.sort(x, axis=axis)
    pos = (s.shape[axis] - 1) * np.asarray(q, dtype=np.float64) / 100.0
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, s.shape[axis] - 1)
    frac = (pos - lo).reshape((-1,) + (1,) * (s.ndim - 1))
    a, b = np.moveaxis(np.take(s, lo, axis=axis), axis, 0), np.moveaxis(np.take(s, hi, axis=axis), axis, 0)
    return a + (b - a) * frac


class StackedMLP(Lockstep):
    """One MLP per seed, stored and trained together: a :class:`~bn_helpers.experiments._lockstep.Lockstep` of ``nn.mlp`` networks.

    Seed ``s``'s network starts as ``nn.mlp(sizes, activation, norm, seed=s)``
    (``Linear -> [BatchNorm] -> activation`` per hidden layer, then ``Linear``)
    and sees the batches ``nn.fit(..., seed=s)`` would give it; one step runs
    every seed with one NumPy call per operation. Up to rounding, seed ``s``
    follows the :mod:`bn_helpers.nn` run step by step (the tests check it).

    With ``noise`` > 0, every batch-norm layer is :class:`NoisyBatchNorm1d`
    (:func:`noisy_mlp`), whose noise is drawn from the same generators
    (``seed * 1000 + module index``), so that seed ``s`` is :func:`noisy_mlp`
    trained by :func:`bn_helpers.nn.fit`.

    Parameters
    ----------
    sizes : sequence of int
        Widths from input to output, e.g. ``(64, 100, 100, 100, 10)``.
    activation : {"sigmoid", "relu", "tanh"}, default "sigmoid"
    norm : {None, "batch"}, default None
    seeds : sequence of int, default :data:`SEEDS`
    noise : float, optional
        Noise level of :class:`NoisyBatchNorm1d` (needs ``norm="batch"``).
    eps, momentum : float, default 1e-5 and 0.1
        Of the batch-norm layers (PyTorch's convention).
    dtype : numpy dtype, default float64
        Of every array and computation. float64 follows :func:`bn_helpers.nn.fit`
        to the last bits; float32 halves the cost (the experiments use it: their
        claims are about distributions over seeds, not last bits).

    Raises
    ------
    ValueError
        If ``norm`` or ``activation`` is unknown, or ``noise`` is given without batch norm.

    References
    ----------
    Ioffe & Szegedy, arXiv:1502.03167, Algorithm 1 and Section 3.1; PyTorch
    documentation, ``torch.nn.BatchNorm1d`` (momentum, unbiased running variance).
    """

    def __init__(self, sizes: Sequence[int], activation: str = "sigmoid", norm: str | None = None,
                 seeds: Sequence[int] = SEEDS, noise: float | None = None, eps: float = 1e-5,
                 momentum: float = 0.1, dtype=np.float64) -> None:
        if norm not in (None, "batch"):
            raise ValueError(f"norm must be None or 'batch'; got {norm!r}")
        if activation not in _ACTS:
            raise ValueError(f"activation must be one of {sorted(_ACTS)}; got {activation!r}")
        if noise and norm != "batch":
            raise ValueError("noise is added after batch norm: give norm='batch' with it")
        self.sizes, self.activation, self.norm = [int(s) for s in sizes], activation, norm
        self.noise = float(noise or 0.0)
        models = [noisy_mlp(self.noise, s, self.sizes, activation) if self.noise else
                  nn.mlp(self.sizes, activation=activation, norm=norm, seed=s) for s in seeds]
        for model in models:
            for m in model.modules:
                if isinstance(m, nn.BatchNorm1d):
                    m.eps, m.momentum = eps, momentum
        self.eps = eps
        super().__init__(models, seeds, dtype=dtype)


# --------------------------------------------------------------------------- Ioffe 4.1


_SIGMOID_NET = (64, 100, 100, 100, 10)


def _sigmoid_run(norm, noise, seeds, steps, every, lr, batch_size, q, dtype) -> dict:
    d = load_digits_split(seed=0)
    net = StackedMLP(_SIGMOID_NET, "sigmoid", norm, seeds, noise=noise, dtype=dtype)
    recorded, accs, pcts = [], [], []

    def look(step):
        if step % every:
            return
        acc, pre = net.evaluate(d.X_test, d.y_test)
        recorded.append(step)
        accs.append(acc)
        pcts.append(np.moveaxis(_percentiles(pre, q, axis=1), 0, 1))       # (S, len(q), D)

    with one_thread():
        look(0)
        losses = net.fit(d.X_train, d.y_train, steps=steps, batch_size=batch_size, lr=lr, callback=look)
    unit = np.stack(pcts, axis=1)                                            # (S, K, len(q), D)
    out = {"step": np.array(recorded), "test_acc": np.stack(accs, axis=1), "unit_percentiles": unit,
           "percentiles": unit.mean(axis=3), "loss": losses.T, "seeds": list(seeds), "net": net}
    if net.noise:
        out["test_acc_clean_stats"] = net.evaluate(d.X_test, d.y_test, net.population_stats(d.X_train, batch_size))[0]
    return out


def ics_run(norm: str | None, seeds: Sequence[int] = SEEDS, steps: int = 300, every: int = 20, lr: float = 0.5,
            batch_size: int = 60, q: Sequence[float] = (15, 50, 85), dtype=np.float32) -> dict:
    """Ioffe & Szegedy's Section 4.1 at toy scale: a 3x100 sigmoid net on digits, one per seed.

    Trains with SGD (batch 60, lr 0.5) and, every ``every`` steps, feeds the
    test set in evaluation mode and takes, for each of the 100 units of the
    input to the last sigmoid, the ``q`` percentiles over the test examples.

    Parameters
    ----------
    norm : {None, "batch"}
    seeds : sequence of int, default :data:`SEEDS`
    steps, every, batch_size : int, default 300, 20 and 60
    lr : float, default 0.5
    q : sequence of float, default (15, 50, 85)
    dtype : numpy dtype, default float32
        Of the computation (see :class:`StackedMLP`).

    Returns
    -------
    dict
        ``"step"`` (K,) (step 0 = initialization included); ``"test_acc"``
        (S, K); ``"unit_percentiles"`` (S, K, len(q), 100), each unit's
        percentiles; ``"percentiles"`` (S, K, len(q)), their average over the
        units; ``"loss"`` (S, steps), the training loss of each step;
        ``"seeds"``; ``"net"``, the trained :class:`StackedMLP`.

    Notes
    -----
    Averaging a percentile over units hides the drift: units drifting up and
    units drifting down cancel. Look at single units, or at each unit's
    movement (:func:`unit_drift`).

    References
    ----------
    Ioffe & Szegedy, arXiv:1502.03167, Section 4.1 and Figure 1.
    """
    return _sigmoid_run(norm, None, seeds, steps, every, lr, batch_size, q, dtype)


def unit_drift(run: dict, start: int = 100) -> NDArray:
    """How far each unit's percentiles travel from step ``start`` on: max minus min over the steps.

    Parameters
    ----------
    run : dict
        From :func:`ics_run` (``"step"`` and ``"unit_percentiles"``).
    start : int, default 100
        Batch norm's running statistics start at (0, 1) and settle during the
        first ~50 steps; the movement is measured after that.

    Returns
    -------
    ndarray, shape (S, len(q), D)

    References
    ----------
    Ioffe & Szegedy, arXiv:1502.03167, Section 4.1 and Figure 1(b, c).
    """
    late = np.asarray(run["step"]) >= start
    return np.ptp(run["unit_percentiles"][:, late], axis=1)


def loss_decrease(run: dict, start: int = 100, window: int = 20) -> NDArray:
    """How much each seed's training loss fell from step ``start`` to the end: the progress in :func:`unit_drift`'s window.

    The per-step training loss is noisy, so it is first averaged over ``window``
    consecutive steps (a moving mean); the decrease is the smoothed loss around
    step ``start`` minus the smoothed loss over the last ``window`` steps.

    Parameters
    ----------
    run : dict
        From :func:`ics_run` (``"loss"``, shape (S, steps)).
    start : int, default 100
        The first step of the window, as in :func:`unit_drift`.
    window : int, default 20
        Steps per moving mean.

    Returns
    -------
    ndarray, shape (S,)
        Positive where the loss fell. Dividing a unit's movement by it gives its
        movement per unit of progress, which compares networks that learn at
        different speeds (one converged, one still learning) on an equal footing.

    Raises
    ------
    ValueError
        If the run has fewer than ``start + window`` steps.
    """
    loss = np.asarray(run["loss"], dtype=np.float64)
    if loss.shape[1] < start + window:
        raise ValueError(f"the run has {loss.shape[1]} steps; start + window needs {start + window}")
    kernel = np.ones(window) / window
    smooth = np.array([np.convolve(row, kernel, mode="valid") for row in loss])   # smooth[k]: steps k+1 .. k+window
    return smooth[:, start - window // 2] - smooth[:, -1]


def typical_unit(drift: NDArray, seed_index: int = 0, q_index: int = 1) -> int:
    """The unit whose movement is the median of its layer's (for one seed and percentile).

    Parameters
    ----------
    drift : ndarray, shape (S, len(q), D)
        From :func:`unit_drift`.
    seed_index, q_index : int, default 0 and 1 (the median, of q = (15, 50, 85))

    Returns
    -------
    int
    """
    row = np.asarray(drift)[seed_index, q_index]
    return int(np.argsort(row)[len(row) // 2])


# --------------------------------------------------------------------------- Santurkar


class NoisyBatchNorm1d(nn.BatchNorm1d):
    """Batch norm followed, in training mode only, by noise whose distribution changes at every step.

    At every training forward the layer draws this step's noise distribution,
    a mean ``mu_t ~ U(-noise, noise)`` and a standard deviation
    ``sigma_t ~ U(0, noise)``, and adds to every entry, each example and each
    unit, an independent draw from ``N(mu_t, sigma_t**2)``::

        y[i, j] = BN(x)[i, j] + mu_t + sigma_t * z[i, j],   z[i, j] ~ N(0, 1) i.i.d.

    The next layer's input distribution therefore moves at every step, on
    purpose. The noise is additive, so the backward pass is batch norm's.
    Evaluation mode is plain batch norm with the running statistics (which
    were gathered under noise: see :meth:`StackedMLP.population_stats`).

    Parameters
    ----------
    num_features : int
    noise : float, default 1.0
        n above, >= 0; 0 is plain batch norm.
    rng : numpy.random.Generator or int, default 0

    Notes
    -----
    Santurkar et al. (Section 2.1) perturb "each activation for each sample in
    the batch using i.i.d. noise sampled from a non-zero mean and non-unit
    variance distribution", a distribution that changes at every time step.
    The two uniform laws above are this course's choice, not the paper's
    exact settings.

    References
    ----------
    Santurkar, Tsipras, Ilyas, Madry, arXiv:1805.11604, Section 2.1 and
    Figure 2 ("noisy" BatchNorm).
    """

    def __init__(self, num_features: int, noise: float = 1.0, rng=0) -> None:
        super().__init__(num_features)
        if not noise >= 0:
            raise ValueError(f"noise must be >= 0; got {noise}")
        self.noise = float(noise)
        self.rng = np.random.default_rng(rng)
        self.last_noise: tuple[float, float] | None = None

    @staticmethod
    def draw(rng: np.random.Generator, noise: float, shape) -> tuple[float, float, NDArray]:
        """One step's noise: its mean, its std, and the (N, D) draws; in this order from ``rng``."""
        mu = rng.uniform(-noise, noise)
        sigma = rng.uniform(0.0, noise)
        return mu, sigma, mu + sigma * rng.standard_normal(shape)

    def _forward(self, x) -> NDArray:
        out = super()._forward(x)
        if not self.training or self.noise == 0:
            self.last_noise = None
            return out
        mu, sigma, z = self.draw(self.rng, self.noise, out.shape)
        self.last_noise = (mu, sigma)
        return out + z


def noisy_mlp(noise: float, seed: int = 0, sizes: Sequence[int] = _SIGMOID_NET,
              activation: str = "sigmoid") -> nn.Sequential:
    """``nn.mlp(sizes, activation, norm="batch", seed=seed)`` with every batch norm a :class:`NoisyBatchNorm1d`.

    By default the sigmoid net of :func:`ics_run`. Layer ``i`` of
    ``model.modules`` draws its noise from ``default_rng(seed * 1000 + i)``.

    Parameters
    ----------
    noise : float
    seed : int, default 0
    sizes : sequence of int, default (64, 100, 100, 100, 10)
    activation : str, default "sigmoid"

    Returns
    -------
    bn_helpers.nn.Sequential
    """
    model = nn.mlp(list(sizes), activation=activation, norm="batch", seed=seed)
    for i, layer in enumerate(model.modules):
        if isinstance(layer, nn.BatchNorm1d):
            model.modules[i] = NoisyBatchNorm1d(layer.num_features, noise, rng=seed * 1000 + i)
    return model


def noisy_bn_run(noise: float | None, seeds: Sequence[int] = SEEDS, steps: int = 200, every: int = 20,
                 lr: float = 0.5, batch_size: int = 60, dtype=np.float32) -> dict:
    """Train the 3x100 sigmoid net with noisy batch norm (``noise`` > 0), BN (0) or no BN (None).

    Parameters
    ----------
    noise : float or None
        Noise level n of :class:`NoisyBatchNorm1d`; 0 is plain batch norm,
        None a network without normalization.
    seeds : sequence of int, default :data:`SEEDS`
    steps, every, batch_size : int
    lr : float, default 0.5
    dtype : numpy dtype, default float32
        Of the computation (see :class:`StackedMLP`).

    Returns
    -------
    dict
        As :func:`ics_run`; with ``noise`` > 0 also ``"test_acc_clean_stats"``
        (S,), the accuracy after the last step with statistics recomputed in a noise-free pass
        over the training set (:meth:`StackedMLP.population_stats`) instead of
        the running statistics, which were gathered under noise; and
        ``"noise"``: per batch-norm layer, the noise means and stds drawn at
        each step, shape (layers, 2, S, steps).

    References
    ----------
    Santurkar et al., arXiv:1805.11604, Section 2.1 and Figure 2.
    """
    norm = None if noise is None else "batch"
    run = _sigmoid_run(norm, noise or None, seeds, steps, every, lr, batch_size, (15, 50, 85), dtype)
    log = run["net"].noise_log
    if log and log[0]:
        run["noise"] = np.array([[np.stack([m for m, _ in layer], axis=1), np.stack([s for _, s in layer], axis=1)]
                                 for layer in log])
    return run


def loss_along_gradient(norm: str | None, seeds: Sequence[int] = SEEDS, steps: int = 100, every: int = 10,
                        etas: Sequence[float] = tuple(np.linspace(0.05, 0.4, 6)), lr: float = 0.1,
                        batch_size: int = 60, depth: int = 8, activation: str = "relu", dtype=np.float32) -> dict:
    """Santurkar et al.'s loss landscape probe: how much the loss varies along the gradient.

    Trains a ``depth`` x 100 network per seed with SGD; every ``every`` steps,
    on the step's own batch and gradient ``g``, evaluates ``L(w - eta g)`` for
    each ``eta`` in ``etas`` (training mode; the probes neither update the
    running statistics nor change the run).

    Parameters
    ----------
    norm : {None, "batch"}
    seeds : sequence of int, default :data:`SEEDS`
    steps, every, batch_size, depth : int
    etas : sequence of float, default 6 values from 0.05 to 0.4
    lr : float, default 0.1
    activation : str, default "relu"
    dtype : numpy dtype, default float32
        Of the computation (see :class:`StackedMLP`).

    Returns
    -------
    dict
        ``"step"`` (K,); ``"losses"`` (S, K, len(etas)); ``"range"`` (S, K):
        max minus min of the losses along the gradient at each probe;
        ``"loss"`` (S, steps): the training loss of each step.

    References
    ----------
    Santurkar et al., arXiv:1805.11604, Section 3.1 and Figure 4(a)
    ("variation of loss" along the gradient direction).
    """
    d = load_digits_split(seed=0)
    net = StackedMLP((64,) + (100,) * int(depth) + (10,), activation, norm, seeds, dtype=dtype)
    params = net.params()
    probe_steps, probes = [], []

    def probe(step, xb, yb, grads):
        if step % every:
            return
        saved = [p.copy() for p in params]
        row = []
        for eta in etas:
            for p, w, g in zip(params, saved, grads):
                np.subtract(w, eta * g, out=p)
            row.append(net.loss(net.forward(xb, training=True, update_stats=False)[0], yb))
        for p, w in zip(params, saved):
            p[...] = w
        probe_steps.append(step)
        probes.append(np.stack(row, axis=1))                                  # (S, len(etas))

    losses = net.fit(d.X_train, d.y_train, steps=steps, batch_size=batch_size, lr=lr, probe=probe)
    out = np.stack(probes, axis=1)                                            # (S, K, len(etas))
    return {"step": np.array(probe_steps), "losses": out, "range": out.max(axis=2) - out.min(axis=2),
            "loss": losses.T}
