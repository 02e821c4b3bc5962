"""One shared validator for the public entry points of ``bn_helpers``.

Every public function checks its inputs here, so that a wrong shape, type or
value always produces the same kind of message: the argument's name, what is
required, and what was received, e.g. "x must be 2-D (N, D); got shape
(3, 5, 2)" or "momentum must be a real number in [0, 1] or None; got str '0.1'".
A wrong *type* raises ``TypeError``, a wrong *value* (shape, range) ``ValueError``.
"""
from __future__ import annotations

import math
import numbers
from typing import Sequence

import numpy as np
from numpy.typing import NDArray

_LAYOUT = {2: "(N, D)", 3: "(N, C, L)", 4: "(N, C, H, W)"}


def _received(value) -> str:
    """A wrong value as a message shows it: its type and a short repr, e.g. "str '0.1'"."""
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) <= 60 else text[:57] + '...'}"


def _is_real(value) -> bool:
    """A real number (int, float, NumPy scalar or 0-d array), but not a bool or a string."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return value.dtype.kind in "iuf"
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def _is_integer(value) -> bool:
    """An integer (Python or NumPy, or a 0-d integer array), but not a bool or a float like 2.0."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return value.dtype.kind in "iu"
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def _interval(low, high, low_open: bool, high_open: bool) -> str:
    """The requirement in words: "in [0, 1]", ">= 0", "> 0", "<= 1"."""
    if low is not None and high is not None:
        return f"in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    if low is not None:
        return f"{'>' if low_open else '>='} {low:g}"
    if high is not None:
        return f"{'<' if high_open else '<='} {high:g}"
    return ""


def check_number(value, name: str, low: float | None = None, high: float | None = None, *,
                 low_open: bool = False, high_open: bool = False, allow_none: bool = False) -> float | None:
    """Return ``value`` as a float after checking it is a finite real number in an interval.

    Parameters
    ----------
    value : object
        What the caller passed.
    name : str
        The argument's name, for the message.
    low, high : float, optional
        Bounds of the interval (default: none); closed unless ``low_open``/``high_open``.
    allow_none : bool, default False
        Accept None (and return it), e.g. for ``momentum=None``.

    Raises
    ------
    TypeError
        If ``value`` is not a real number (a string, None, a bool, an array):
        "momentum must be a real number in [0, 1] or None; got str '0.1'".
    ValueError
        If it is NaN, infinite or outside the interval:
        "momentum must be in [0, 1] or None; got 1.5", "eps must be >= 0 and
        finite; got inf".
    """
    if value is None and allow_none:
        return None
    real = type(value) is float or type(value) is int or _is_real(value)  # the common cases first: it runs per step
    number = float(value) if real else math.nan
    inside = real and math.isfinite(number) and not (
        (low is not None and (number <= low if low_open else number < low))
        or (high is not None and (number >= high if high_open else number > high)))
    if inside:
        return number
    bound = _interval(low, high, low_open, high_open)
    or_none = " or None" if allow_none else ""
    if not real:
        raise TypeError(f"{name} must be {' '.join(filter(None, ['a real number', bound]))}{or_none}; "
                        f"got {_received(value)}")
    if low is None or high is None:  # "eps must be >= 0 and finite", "... and finite, or None"
        bound, or_none = " and ".join(filter(None, [bound, "finite"])), or_none and "," + or_none
    raise ValueError(f"{name} must be {bound}{or_none}; got {number!r}")


def check_int(value, name: str, low: int | None = None) -> int:
    """Return ``value`` as an int after checking it is an integer >= ``low``.

    Raises
    ------
    TypeError
        If ``value`` is not an integer (floats such as 2.7 or 2.0, strings,
        bools): "count must be an integer >= 2; got float 2.7".
    ValueError
        If it is below ``low``: "count must be an integer >= 2; got 1".
    """
    integer = type(value) is int or _is_integer(value)
    if integer and (low is None or value >= low):
        return int(value)
    need = "an integer" + ("" if low is None else f" >= {low}")
    if not integer:
        raise TypeError(f"{name} must be {need}; got {_received(value)}")
    raise ValueError(f"{name} must be {need}; got {int(value)}")


def as_float_array(x, name: str, ndims: Sequence[int] = (2,), layout: str | None = None) -> NDArray:
    """Return ``x`` as a floating-point array with one of ``ndims`` dimensions.

    ``layout`` names the axes in the message when they are not the usual
    ones, e.g. "(K, D): one row per device".

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
        wanted = " or ".join(f"{d}-D {layout or _LAYOUT.get(d, '')}".strip() for d in ndims)
        raise ValueError(f"{name} must be {wanted}; got shape {arr.shape}")
    return arr


def as_param(p, name: str, shape: tuple[int, ...], dtype) -> NDArray:
    """Return a per-feature parameter (``gamma``, ``beta``, ...) of ``shape`` as ``dtype``.

    Raises
    ------
    TypeError
        If ``p`` does not hold real numbers: "gamma must hold real numbers,
        shape (3,); got dtype <U1" (or "got NoneType").
    ValueError
        If the shape differs: "gamma must have shape (4,) (one value per
        feature); got shape (3,)".
    """
    arr = np.asarray(p)
    if arr.dtype.kind not in "biuf":
        got = f"dtype {arr.dtype}" if arr.dtype != object or arr.ndim else type(p).__name__
        raise TypeError(f"{name} must hold real numbers, shape {shape}; got {got}")
    if arr.shape != shape:
        raise ValueError(f"{name} must have shape {shape} (one value per feature); got shape {arr.shape}")
    return arr.astype(dtype, copy=False)


def check_eps(eps) -> float:
    """Return ``eps`` as a float: a finite real number >= 0.

    0 is allowed (the course uses it to show exact identities, such as
    ``dx`` orthogonal to ``x_hat``); a constant feature then gives NaN.

    Raises
    ------
    TypeError
        If ``eps`` is not a real number: "eps must be a real number >= 0; got str '1e-5'".
    ValueError
        If it is negative, NaN or infinite: "eps must be >= 0 and finite; got -1.0".
    """
    return check_number(eps, "eps", low=0.0)


def check_momentum(momentum, allow_none: bool = True, name: str = "momentum") -> float | None:
    """Return a momentum as a float in [0, 1] (or None when ``allow_none``).

    Raises
    ------
    TypeError
        If it is not a real number (or None where None is allowed):
        "momentum must be a real number in [0, 1] or None; got str '0.1'".
    ValueError
        If it is outside [0, 1] or NaN: "momentum must be in [0, 1] or None; got 1.5".
    """
    return check_number(momentum, name, 0.0, 1.0, allow_none=allow_none)


def check_nonnegative(arr: NDArray, name: str, what: str) -> None:
    """Raise ``ValueError`` if an entry of ``arr`` is negative (NaN is let through).

    ``what`` says what the array holds: "variances must be >= 0 (they are
    biased per-device variances); got -0.5 at index (1, 0) (1 negative entry)".
    NaN is not refused here: it is what a diverged training run produces,
    and PyTorch lets it propagate too.
    """
    negative = arr < 0
    if negative.any():  # the cheap test first: this runs on every training step
        bad = np.argwhere(negative)
        where = tuple(int(i) for i in bad[0])
        raise ValueError(f"{name} must be >= 0 ({what}); got {float(arr[where])!r} at index "
                         f"{where if len(where) > 1 else where[0]} ({len(bad)} negative "
                         f"entr{'y' if len(bad) == 1 else 'ies'})")


def check_batch(count: int, name: str = "x") -> None:
    """Refuse a training batch with one value per feature, as PyTorch does.

    Raises
    ------
    ValueError
        If ``count < 2``: "x: expected more than 1 value per feature in training mode; got 1".
    """
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
    groups = check_int(groups, "G (number of groups)")
    if groups < 1:
        raise ValueError(f"G (number of groups) must be >= 1; got G={groups}")
    if channels % groups:
        raise ValueError(
            "the number of channels C must be divisible by the number of groups G; "
            f"got C={channels}, G={groups}"
        )
    return groups


def _kind_of(value) -> str:
    """A received cache as a message shows it: "tuple of 8 items", "NormCache from layernorm_forward", "ndarray"."""
    if isinstance(value, (tuple, list)) and not hasattr(type(value), "_fields"):
        return f"{type(value).__name__} of {len(value)} item(s)"
    kind = getattr(value, "kind", None) if hasattr(type(value), "_fields") else None
    return f"{type(value).__name__}" + (f" from {kind}_forward" if isinstance(kind, str) else "")


def check_cache(cache, cls: type, producer: str, name: str = "cache", kind: str | None = None) -> None:
    """Refuse anything but the named-tuple cache ``cls`` that ``producer`` returns (of ``kind``, for ``NormCache``).

    Read by name (``cache.x_hat``), a cache of the wrong type would otherwise fail
    later with an ``AttributeError`` that names neither the argument nor what
    was expected.

    Raises
    ------
    TypeError
        If ``cache`` is not a ``cls``, e.g. a plain tuple: "cache must be the
        BatchNormCache returned by batchnorm_forward; got tuple of 8 item(s) (a
        BatchNormCache has the named fields x, x_hat, mean, var, inv_std, gamma, beta, eps)".
    ValueError
        If ``kind`` is given and the cache comes from another forward: "cache
        must come from layernorm_forward; got a cache from groupnorm_forward".
    """
    if not isinstance(cache, cls):
        fields = getattr(cls, "_fields", ())
        listed = f" (a {cls.__name__} has the named fields {', '.join(fields)})" if fields else ""
        raise TypeError(f"{name} must be the {cls.__name__} returned by {producer}; got {_kind_of(cache)}{listed}")
    if kind is not None and getattr(cache, "kind", None) != kind:
        raise ValueError(f"{name} must come from {kind}_forward; got a cache from {getattr(cache, 'kind', '?')}_forward")


def check_named(cache, name: str = "cache", cache_type: str = "BatchNormCache") -> None:
    """Refuse a cache whose fields have no names (a plain tuple or list, an array); accept any object or dict.

    For code that reads caches it did not make (the checks read a student's
    cache): an object with the right attributes, or a dict with the right keys,
    will do; a value read by position will not.

    Raises
    ------
    TypeError
        "cache must be a BatchNormCache, or an object or dict with its named
        fields; got tuple of 8 item(s): a plain tuple has no field names".
    """
    unnamed = isinstance(cache, (list, np.ndarray)) or (isinstance(cache, tuple) and not hasattr(type(cache), "_fields"))
    if unnamed:
        raise TypeError(f"{name} must be a {cache_type}, or an object or dict with its named fields; got "
                        f"{_kind_of(cache)}: a plain {type(cache).__name__} has no field names")
