"""Data used by the course: the worked example, the seed's table, the digits.

Everything here is bundled or generated: nothing is downloaded.
"""
from __future__ import annotations

import contextlib
from functools import lru_cache
from typing import Iterator, NamedTuple

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "WORKED_BATCH", "WORKED_GAMMA", "WORKED_BETA", "worked_example",
    "placement_table", "Digits", "load_digits_split", "rounding_noise",
]

# (relative size, seed) of the noise load_digits_split adds inside rounding_noise(); None outside.
_NOISE: tuple[float, int] | None = None


@contextlib.contextmanager
def rounding_noise(rel: float = 1e-6, seed: int = 12345) -> Iterator[None]:
    """Inside the block, :func:`load_digits_split` adds relative noise of size ``rel`` to the pixels.

    A guard for experimental claims: another CPU or BLAS kernel changes the last
    bits of every product, and a toy training run can amplify that into
    accuracy differences of tenths. A claim that still holds with every input
    multiplied by ``1 + rel * z`` (``z`` standard normal) does not rest on the
    rounding of one machine. Used by the experiment tests, never by the notebooks.

    Parameters
    ----------
    rel : float, default 1e-6
        Relative size of the perturbation (float32 rounding is ~6e-8).
    seed : int, default 12345
        Seed of the noise (``numpy.random.default_rng``).

    Returns
    -------
    context manager
        Yields None; on exit the previous setting (usually no noise) is restored.

    Raises
    ------
    ValueError
        If ``rel`` is negative or not finite.

    References
    ----------
    NumPy documentation, ``numpy.random.default_rng``; Python documentation,
    ``contextlib.contextmanager``.
    """
    global _NOISE
    if not np.isfinite(rel) or rel < 0:
        raise ValueError(f"rel must be a finite number >= 0; got {rel!r}")
    previous, _NOISE = _NOISE, (float(rel), int(seed))
    try:
        yield
    finally:
        _NOISE = previous

#: The worked example batch of the course (seed 000, "Step-by-Step Math").
WORKED_BATCH = (2.3, -0.5, 1.8, 3.2, -1.2)
#: gamma and beta of the worked example (seed 000: y_1 = 1.2 * 0.70 + 0.3 = 1.14).
WORKED_GAMMA = 1.2
WORKED_BETA = 0.3


def worked_example() -> NDArray:
    """The worked example as a column, shape (N, D) = (5, 1), float64.

    Its batch mean is 1.12 and its biased variance 2.8376.

    Returns
    -------
    ndarray, shape (5, 1), float64
        ``WORKED_BATCH`` as one feature; a new array at each call.

    References
    ----------
    Ioffe & Szegedy, arXiv:1502.03167, Algorithm 1 (the statistics the
    example is worked through).

    Examples
    --------
    >>> x = worked_example()
    >>> x.shape, round(float(x.mean()), 2), round(float(x.var()), 4)
    ((5, 1), 1.12, 2.8376)
    """
    return np.array(WORKED_BATCH, dtype=np.float64).reshape(-1, 1)


def placement_table() -> dict[str, NDArray]:
    """The seed's cgpa / iq / placed table (seed 002, "Why use Batch Norm?").

    Returns
    -------
    dict with ``"cgpa"`` (4,), ``"iq"`` (4,) and ``"placed"`` (4,) arrays, and
    ``"X"`` of shape (4, 2) stacking cgpa and iq: two features on scales that
    differ by a factor of ten.

    References
    ----------
    Ioffe & Szegedy, arXiv:1502.03167, Section 2 (training converges faster
    when the network's inputs are whitened).
    """
    cgpa = np.array([7.0, 8.0, 9.0, 6.0])
    iq = np.array([70.0, 80.0, 90.0, 60.0])
    placed = np.array([1, 0, 1, 0])
    return {"cgpa": cgpa, "iq": iq, "placed": placed, "X": np.column_stack([cgpa, iq])}


class Digits(NamedTuple):
    """A train/test split of scikit-learn's bundled 8x8 digits.

    Attributes
    ----------
    X_train : ndarray, shape (n_train, 64)
        (1200, 64) by default; standardized with the training set's
        per-pixel mean and std (pixels constant in the training set are only
        centred).
    y_train : ndarray of int, shape (n_train,)
        Labels 0-9.
    X_test : ndarray, shape (1797 - n_train, 64)
        (597, 64) by default; standardized with the training statistics.
    y_test : ndarray of int, shape (1797 - n_train,)

    References
    ----------
    scikit-learn documentation, ``sklearn.datasets.load_digits``.
    """

    X_train: NDArray
    y_train: NDArray
    X_test: NDArray
    y_test: NDArray


@lru_cache(maxsize=4)
def _digits(seed: int, n_train: int) -> Digits:
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    order = np.random.default_rng(seed).permutation(len(X))
    X, y = X[order], y[order]
    X_train, X_test = X[:n_train], X[n_train:]
    mean = X_train.mean(axis=0)
    std = X_train.std(axis=0)
    std[std == 0] = 1.0
    return Digits((X_train - mean) / std, y[:n_train], (X_test - mean) / std, y[n_train:])


def load_digits_split(seed: int = 0, n_train: int = 1200) -> Digits:
    """Load ``sklearn.datasets.load_digits`` (1797 images), shuffled and split.

    Parameters
    ----------
    seed : int, default 0
        Seed of the shuffle (``numpy.random.default_rng``).
    n_train : int, default 1200
        Training examples; the remaining 1797 - n_train form the test set.

    Returns
    -------
    Digits
        Fresh copies: changing them does not change later calls.

    Raises
    ------
    ValueError
        If ``n_train`` is not between 1 and 1796.

    References
    ----------
    scikit-learn documentation, ``sklearn.datasets.load_digits`` (a copy of
    the UCI ML hand-written digits test set, bundled with the package).
    """
    if not 1 <= n_train <= 1796:
        raise ValueError(f"n_train must be between 1 and 1796; got {n_train}")
    d = Digits(*(a.copy() for a in _digits(int(seed), int(n_train))))
    if _NOISE is not None:
        rel, noise_seed = _NOISE
        rng = np.random.default_rng(noise_seed)
        d.X_train[...] *= 1 + rel * rng.standard_normal(d.X_train.shape)
        d.X_test[...] *= 1 + rel * rng.standard_normal(d.X_test.shape)
    return d
