"""One shared validator for the public entry points of ``bn_helpers``.

Every public function checks its inputs here, so that a wrong shape or type
always produces the same kind of message: the argument's name, what is
required, and what was received.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
from numpy.typing import NDArray

_LAYOUT = {2: "(N, D)", 3: "(N, C, L)", 4: "(N, C, H, W)"}


def as_float_array(x, name: str, ndims: Sequence[int] = (2,)) -> NDArray:
    """Return ``x`` as a floating-point array with one of ``ndims`` dimensions.

    Raises
    ------
    TypeError
        If ``x`` is not array-like or not real floating point (integers are
        converted to float64, as NumPy's ``mean`` would).
    ValueError
        If ``x`` has the wrong number of dimensions; the message names the
        expected layout, e.g. "x must be 2-D (N, D); got shape (3, 5, 2)".
    """
    try:
        arr = np.asarray(x)
    except Exception as exc:  # pragma: no cover - numpy raises many kinds
        raise TypeError(f"{name} must be array-like; got {type(x).__name__}") from exc
    if arr.dtype.kind in "biu":
        arr = arr.astype(np.float64)
    if arr.dtype.kind != "f":
        raise TypeError(f"{name} must hold real floating-point numbers; got dtype {arr.dtype}")
    if arr.ndim not in ndims:
        wanted = " or ".join(f"{d}-D {_LAYOUT.get(d, '')}".strip() for d in ndims)
        raise ValueError(f"{name} must be {wanted}; got shape {arr.shape}")
    return arr


def as_param(p, name: str, shape: tuple[int, ...], dtype) -> NDArray:
    """Return a per-feature parameter (``gamma``, ``beta``, ...) of ``shape``.

    Raises
    ------
    ValueError
        If the shape differs: "gamma must have shape (4,) (one value per
        feature D); got shape (3,)".
    """
    arr = np.asarray(p, dtype=dtype)
    if arr.shape != shape:
        raise ValueError(f"{name} must have shape {shape} (one value per feature); got shape {arr.shape}")
    return arr


def check_eps(eps: float) -> float:
    """Return ``eps`` as a float, or raise ``ValueError`` if it is negative."""
    eps = float(eps)
    if not eps >= 0:
        raise ValueError(f"eps must be a number >= 0; got {eps}")
    return eps


def check_batch(count: int, name: str = "x") -> None:
    """Refuse a training batch with one value per feature, as PyTorch does."""
    if count < 2:
        raise ValueError(
            f"{name}: expected more than 1 value per feature in training mode; got {count}. "
            "The batch variance of a single value is 0 and its normalized value is always 0."
        )


def check_same_shape(arr: NDArray, name: str, shape: tuple[int, ...], like: str = "x") -> None:
    """Raise ``ValueError`` unless ``arr`` has ``shape`` (that of ``like``).

    "dout must have the shape of x, (4, 3); got shape (3, 4)".
    """
    if arr.shape != tuple(shape):
        raise ValueError(f"{name} must have the shape of {like}, {tuple(shape)}; got shape {arr.shape}")


def check_groups(channels: int, groups) -> int:
    """Return ``groups`` as an int that divides ``channels``.

    Raises
    ------
    TypeError
        If ``groups`` is not an integer.
    ValueError
        If ``groups < 1`` or if it does not divide the channels: "the number
        of channels C must be divisible by the number of groups G; got C=6, G=4".
    """
    if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)):
        raise TypeError(f"G (number of groups) must be an integer; got {type(groups).__name__}")
    groups = int(groups)
    if groups < 1:
        raise ValueError(f"G (number of groups) must be >= 1; got G={groups}")
    if channels % groups:
        raise ValueError(
            "the number of channels C must be divisible by the number of groups G; "
            f"got C={channels}, G={groups}"
        )
    return groups
