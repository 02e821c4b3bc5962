"""Checks of assignment 05_variants: spatial batch norm, layer, instance and group norm, batch renorm.

Every graded function returns ``out`` only (no cache). A wrong output is
compared with the outputs of known wrong implementations (the wrong axes,
channels grouped out of order, G ignored, N-1, eps outside the square root,
r and d not clipped, d with the wrong sign, ...) and the closest is named.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from ._common import as_array, expect_dtype, hidden_rng, own_code, tolerance
from ._messages import Cases, call, closest, worst

__all__ = ["spatial_batchnorm_forward", "layernorm_forward", "instancenorm_forward", "groupnorm_forward",
           "batch_renorm_forward"]


def _norm(x, gamma, beta, eps, axes, ddof=0, denom="sqrt", view=None, affine="gamma,beta"):
    """Reference-style normalization of ``x.reshape(view)`` over ``axes``; gamma, beta per entry of axis 1."""
    x64 = np.asarray(x, dtype=np.float64)
    v = x64 if view is None else x64.reshape(view)
    mean = v.mean(axis=axes, keepdims=True)
    var = v.var(axis=axes, ddof=ddof, keepdims=True)
    std = {"sqrt": lambda: np.sqrt(var + eps), "sigma+eps": lambda: np.sqrt(var) + eps,
           "no eps": lambda: np.sqrt(var), "var+eps": lambda: var + eps}[denom]()
    x_hat = ((v - mean) / std).reshape(x64.shape)
    if affine == "none":
        return x_hat
    if affine == "last":  # gamma and beta broadcast along the last axis (numpy's default)
        return np.asarray(gamma, np.float64) * x_hat + np.asarray(beta, np.float64)
    shape = (1, x64.shape[1]) + (1,) * (x64.ndim - 2)
    g = np.asarray(gamma, np.float64).reshape(shape) if affine != "beta" else 1.0
    b = np.asarray(beta, np.float64).reshape(shape) if affine != "gamma" else 0.0
    return g * x_hat + b


def _with(axes, **kw):
    return lambda x, g, b, e: _norm(x, g, b, e, axes, **kw)


_N1 = ("You divided by N-1 (the unbiased variance, ddof=1). Every normalization here uses the biased "
       "variance: divide by the number of values averaged.")
_SIGMA_EPS = ("You divided by sigma + eps, i.e. eps outside the square root. eps belongs inside: "
              "(x - mean) / sqrt(var + eps).")
_NO_EPS = "You ignored eps (or hard-coded it): divide by sqrt(var + eps) with the eps passed in."
_NO_ROOT = "You divided by var + eps, without the square root: divide by the std, sqrt(var + eps)."
_NO_AFFINE = ("You forgot gamma and beta: out = gamma[c] * x_hat + beta[c], gamma and beta reshaped to "
              "(1, C, 1, 1) (or (1, D) for 2-D input).")
_NO_GAMMA = "You forgot gamma: out = gamma[c] * x_hat + beta[c], gamma reshaped to (1, C, 1, 1)."
_NO_BETA = "You forgot beta: out = gamma[c] * x_hat + beta[c], beta reshaped to (1, C, 1, 1)."
_LAST_AXIS = ("gamma and beta multiply the LAST axis (W): NumPy broadcasts a (C,) array from the right. Reshape "
              "them to (1, C, 1, 1) (or gamma[:, None, None]) so that they act per channel.")
_AXES_HINT = {
    (0, 2, 3): "that is spatial batch norm (one mean per channel over the batch and positions)",
    (1, 2, 3): "that is layer norm (one mean per example over all its channels and positions)",
    (2, 3): "that is instance norm (one mean per example and channel)",
    (0,): "that averages over the batch only, separately at every position",
    (1,): "that averages over the channels only, separately at every position",
    (2,): "that averages over the height only",
    (3,): "that averages over the width only",
    (0, 1): "that averages over the batch and the channels, separately at every position",
    (0, 1, 2, 3): "that is one mean and variance for the whole array",
}


def _common_slips(right, **kw) -> list[tuple[str, Callable]]:
    """Slips in the formula, with the right axes (``kw`` passes a view for group norm)."""
    return [
        (_N1, _with(right, ddof=1, **kw)),
        (_SIGMA_EPS, _with(right, denom="sigma+eps", **kw)),
        (_NO_EPS, _with(right, denom="no eps", **kw)),
        (_NO_ROOT, _with(right, denom="var+eps", **kw)),
        (_NO_AFFINE, _with(right, affine="none", **kw)),
        (_NO_GAMMA, _with(right, affine="beta", **kw)),
        (_NO_BETA, _with(right, affine="gamma", **kw)),
    ]


def _flat_without_transpose(x, g, b, e):
    """Spatial batch norm on x.reshape(-1, C) without moving C last: the columns are not channels."""
    x64 = np.asarray(x, dtype=np.float64)
    n, c = x64.shape[:2]
    flat = x64.reshape(-1, c)
    x_hat = ((flat - flat.mean(0)) / np.sqrt(flat.var(0) + e)).reshape(x64.shape)
    return np.asarray(g, np.float64).reshape(1, c, 1, 1) * x_hat + np.asarray(b, np.float64).reshape(1, c, 1, 1)


def _axes_mistakes(right: tuple, what: str) -> list[tuple[str, Callable]]:
    wrong = [(f"You normalized over axes {a}: {h}. {what}", _with(a)) for a, h in _AXES_HINT.items() if a != right]
    out = wrong + _common_slips(right) + [(_LAST_AXIS, _with(right, affine="last"))]
    if right == (0, 2, 3):
        out.append(("You reshaped (N, C, H, W) to (-1, C) without moving C last: the columns of that view are not "
                    "channels. Use axis=(0, 2, 3), or x.transpose(0, 2, 3, 1).reshape(-1, C) and back.",
                    _flat_without_transpose))
    return out


def _images(seed: int, shape=(4, 6, 3, 2), dtype=np.float64, hidden: bool = False):
    """x, gamma, beta drawn from ``seed`` (salted by the judge when ``hidden``: see ``hidden_rng``)."""
    rng = hidden_rng(seed) if hidden else np.random.default_rng(seed)
    n, c = shape[0], shape[1]
    loc = rng.normal(0, 3, (n, c, 1, 1)) if len(shape) == 4 else rng.normal(0, 3, (n, 1))
    scale = rng.uniform(0.3, 4, (1, c, 1, 1)) if len(shape) == 4 else rng.uniform(0.3, 4, (1, c))
    x = loc + scale * rng.standard_normal(shape)
    gamma, beta = rng.uniform(0.5, 2.0, c), rng.normal(0.0, 1.0, c)
    return x.astype(dtype), gamma.astype(dtype), beta.astype(dtype)


def _random_shapes(seed: int, four_d: bool = True, count: int = 4, channels_div: int = 1):
    """Hidden random cases: x, gamma, beta of random shapes, float64 and float32, drawn through ``hidden_rng``."""
    rng = hidden_rng(seed)
    for k in range(count):
        dtype = np.float32 if k % 2 else np.float64
        if four_d:
            c = channels_div * int(rng.integers(1, 5))
            shape = (int(rng.integers(1, 6)), c, int(rng.integers(2, 6)), int(rng.integers(1, 6)))
        else:
            shape = (int(rng.integers(1, 9)), int(rng.integers(2, 17)))
        yield _images(int(rng.integers(1 << 30)), shape, dtype)


_HINT_4D = ("Check the shapes: x is (N, C, H, W) and gamma, beta are (C,); reshape them to (1, C, 1, 1) (or "
            "gamma[:, None, None]) and keep the statistics with keepdims=True so that everything broadcasts.")
_HINT_2D = ("Check the shapes: x is (N, D) and gamma, beta are (D,); keep the statistics with keepdims=True "
            "(shape (N, 1) per example, or (1, D) per feature) so that they broadcast.")


def _run(fn, name, args: dict, kwargs: dict | None = None):
    """Call with copies, check nothing changed in place, return ``out`` as an array."""
    copies = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in args.items()}
    hint = _HINT_4D if np.ndim(args["x"]) == 4 else _HINT_2D
    result = call(fn, name, *copies.values(), hint=hint, names=tuple(copies), **(kwargs or {}))
    if isinstance(result, tuple):
        raise AssertionError(f"{name} must return `out` only (one array), not a tuple of {len(result)}: "
                             "this assignment keeps no cache.")
    return as_array(result, name, "out")


def _compare(name, out, expected, x, where, mistakes, gamma, beta, eps, default_hint):
    expect_dtype(out, x.dtype, name, "out")
    rtol, atol = tolerance(x.dtype)
    if out.shape != expected.shape:
        hint = (" That is the transpose: keep the layout of x." if out.shape == expected.shape[::-1] else
                " Keep the statistics with keepdims=True so they broadcast, and reshape back to x's shape.")
        raise AssertionError(f"{name}: out has shape {out.shape}; it must have the shape of x, "
                             f"{expected.shape}.{hint}\n  {where}")
    out64 = out.astype(np.float64)
    if np.allclose(out64, expected, rtol=rtol, atol=atol):
        return
    message = closest(out64, [(m, (lambda f: lambda: f(x, gamma, beta, eps))(f)) for m, f in mistakes])
    raise AssertionError(f"{name}: {message or default_hint}\n  {where}: {worst(out64, expected)}")


def _check_norm(fn, name, right_axes, cases, what, default_hint, passed, two_d_axes=None):
    for label, x, gamma, beta, eps in cases:
        axes = right_axes if x.ndim == 4 else two_d_axes
        mistakes = _axes_mistakes(axes, what) if x.ndim == 4 else [
            ("You normalized over the batch (axis=0): that is batch norm. Layer norm standardizes each "
             "example over its features: axis=1.", _with((0,))),
            ("You used one mean and variance for the whole array; layer norm takes one per example: axis=1.",
             _with((0, 1))),
            *_common_slips(axes)]
        out = _run(fn, name, {"x": x, "gamma": gamma, "beta": beta}, {"eps": eps})
        expected = _norm(x, gamma, beta, eps, axes)
        where = f"{label} (x of shape {x.shape}, {x.dtype}, eps={eps:g})"
        _compare(name, out, expected, x, where, mistakes, gamma, beta, eps, default_hint)
        passed.add(label)


def _visible_cases(seed, four_d=True):
    x, g, b = _images(seed, (4, 6, 3, 2) if four_d else (5, 7))
    kind = "(4, 6, 3, 2)" if four_d else "(5, 7)"
    f32 = (a.astype(np.float32) for a in (x, g, b))
    return [(f"random {kind}", x, g, b, 1e-5), (f"random {kind} with a large eps", x, g, b, 0.5),
            (f"float32 {kind}", *f32, 1e-5)]


def _random(seed, label, **kw):
    return [(f"random {label}", x, g, b, 1e-5) for x, g, b in _random_shapes(seed, **kw)]


def spatial_batchnorm_forward(fn: Callable, hidden: bool = False) -> None:
    """Check ``fn(x, gamma, beta, eps) -> out`` for x (N, C, H, W): one mean and variance per channel over (N, H, W).

    Raises
    ------
    AssertionError
        Naming the likely mistake (axis 0 only, layer or instance norm's axes, a (-1, C) view without
        transposing, N-1, sigma + eps, eps ignored, no square root, gamma or beta forgotten or along the
        last axis, ...).
    """
    name = "spatial_batchnorm_forward"
    passed = Cases(name)
    cases = _visible_cases(21)
    if hidden:
        cases += _random(22, "4-D shape")
        cases.append(("one float32 image", *_images(23, (1, 3, 4, 4), np.float32, hidden=True), 1e-5))
    _check_norm(fn, name, (0, 2, 3), cases,
                "Spatial batch norm averages each channel over the batch and all positions: axis=(0, 2, 3).",
                "wrong output. Check each step: mean and var with axis=(0, 2, 3), keepdims=True (shape (1, C, 1, 1)), "
                "eps inside the square root, then gamma and beta reshaped to (1, C, 1, 1).", passed)
    if hidden:
        x, g, b = _images(24)
        own_code(fn, name, x, g, b, reference=lambda x, g, b: _norm(x, g, b, 1e-5, (0, 2, 3)))
        passed.add("own code")
    passed.passed()


def layernorm_forward(fn: Callable, hidden: bool = False) -> None:
    """Check ``fn(x, gamma, beta, eps) -> out`` for x (N, D) (over D) and (N, C, H, W) (over (C, H, W)).

    Raises
    ------
    AssertionError
        Naming the likely mistake (axis 1 only for 4-D input, batch norm's axis, N-1, sigma + eps, eps
        ignored, gamma or beta forgotten or along the last axis, ...).
    """
    name = "layernorm_forward"
    passed = Cases(name)
    cases = _visible_cases(31, four_d=False) + _visible_cases(32)
    if hidden:
        cases += _random(33, "2-D shape", four_d=False)
        cases += _random(34, "4-D shape")
        cases.append(("one float32 example", *_images(35, (1, 5), np.float32, hidden=True), 1e-5))
    _check_norm(fn, name, (1, 2, 3), cases,
                "Layer norm standardizes each example over all its values: axis=1 for (N, D), "
                "axis=(1, 2, 3) for (N, C, H, W) (use tuple(range(1, x.ndim))).",
                "wrong output. Check each step: mean and var with axis=tuple(range(1, x.ndim)), keepdims=True, eps "
                "inside the square root, gamma and beta of shape (C,) or (D,) along axis 1.", passed,
                two_d_axes=(1,))
    if hidden:
        x, g, b = _images(36)
        own_code(fn, name, x, g, b, reference=lambda x, g, b: _norm(x, g, b, 1e-5, (1, 2, 3)))
        passed.add("own code")
    passed.passed()


def instancenorm_forward(fn: Callable, hidden: bool = False) -> None:
    """Check ``fn(x, gamma, beta, eps) -> out`` for x (N, C, H, W): per example and channel, over (H, W).

    Raises
    ------
    AssertionError
        Naming the likely mistake (batch norm's (0, 2, 3), layer norm's axes, H or W only, N-1, sigma + eps,
        eps ignored, gamma and beta forgotten or along the last axis, ...).
    """
    name = "instancenorm_forward"
    passed = Cases(name)
    cases = _visible_cases(41)
    if hidden:
        cases += _random(42, "4-D shape")
        cases.append(("one float32 image", *_images(43, (1, 2, 3, 3), np.float32, hidden=True), 1e-5))
    _check_norm(fn, name, (2, 3), cases,
                "Instance norm standardizes each image's channel on its own, over the positions: axis=(2, 3).",
                "wrong output. Check each step: mean and var with axis=(2, 3), keepdims=True (shape (N, C, 1, 1)), "
                "eps inside the square root, then gamma and beta reshaped to (1, C, 1, 1).", passed)
    if hidden:
        x, g, b = _images(44)
        own_code(fn, name, x, g, b, reference=lambda x, g, b: _norm(x, g, b, 1e-5, (2, 3)))
        passed.add("own code")
    passed.passed()


def _gn(G, **kw):
    def wrong(x, g, b, e):
        n, c, h, w = x.shape
        return _norm(x, g, b, e, (2, 3, 4), view=(n, G, c // G, h, w), **kw)
    return wrong


def _gn_interleaved(G):
    def wrong(x, g, b, e):
        n, c, h, w = x.shape
        return _norm(x, g, b, e, (1, 3, 4), view=(n, c // G, G, h, w))
    return wrong


def _gn_mistakes(G, C):
    out = [
        ("Your groups are not consecutive channels: reshape(N, C // G, G, H, W) puts channels c, c+G, c+2G, "
         "... together. Group g must hold channels g*C/G ... (g+1)*C/G - 1: reshape(N, G, C // G, H, W) and "
         "average over axis=(2, 3, 4).", _gn_interleaved(G)),
        ("You formed C/G groups of G channels; group norm forms G groups of C/G consecutive channels: "
         "reshape(N, G, C // G, H, W).", _gn(C // G) if C % max(C // G, 1) == 0 else _gn(G)),
        ("Your output does not depend on G: it is layer norm over (C, H, W) (G = 1). Use the G argument: "
         "reshape(N, G, C // G, H, W).", _gn(1)),
        ("Your output does not depend on G: it is instance norm (G = C). Use the G argument: "
         "reshape(N, G, C // G, H, W).", _gn(C)),
        (_N1, _gn(G, ddof=1)),
        (_SIGMA_EPS, _gn(G, denom="sigma+eps")),
        (_NO_EPS, _gn(G, denom="no eps")),
        (_NO_ROOT, _gn(G, denom="var+eps")),
        ("You averaged each group over (C/G, H, W) but forgot part of it (e.g. axis=(2,) only): "
         "use axis=(2, 3, 4) on the (N, G, C/G, H, W) view.",
         lambda x, g, b, e: _norm(x, g, b, e, (2,), view=(x.shape[0], G, x.shape[1] // G, *x.shape[2:]))),
        ("You averaged each group over the positions only (axis=(3, 4) of the (N, G, C/G, H, W) view): that "
         "is instance norm. A group's statistics cover its C/G channels too: axis=(2, 3, 4).",
         lambda x, g, b, e: _norm(x, g, b, e, (3, 4), view=(x.shape[0], G, x.shape[1] // G, *x.shape[2:]))),
        (_NO_AFFINE, _gn(G, affine="none")),
        (_NO_GAMMA, _gn(G, affine="beta")),
        (_NO_BETA, _gn(G, affine="gamma")),
        (_LAST_AXIS, _gn(G, affine="last")),
    ]
    return out


def groupnorm_forward(fn: Callable, hidden: bool = False) -> None:
    """Check ``fn(x, gamma, beta, G, eps) -> out``: G groups of C/G consecutive channels, over (C/G, H, W).

    Raises
    ------
    AssertionError
        Naming the likely mistake (channels grouped out of order, C/G groups, G ignored, part of the group's
        axes, N-1, sigma + eps, eps ignored, gamma or beta forgotten or along the last axis, ...).
    """
    name = "groupnorm_forward"
    passed = Cases(name)
    x, g, b = _images(51)
    cases = [("G=3 on (4, 6, 3, 2)", x, g, b, 3, 1e-5), ("G=2 on (4, 6, 3, 2)", x, g, b, 2, 1e-5),
             ("G=2 with a large eps", x, g, b, 2, 0.5),
             ("G=3 on float32 (4, 6, 3, 2)", *(a.astype(np.float32) for a in (x, g, b)), 3, 1e-5)]
    if hidden:
        for k, (xr, gr, br) in enumerate(_random_shapes(52, channels_div=6)):
            cases.append(("random shape", xr, gr, br, (1, 2, 3, 6)[k % 4], 1e-5))
        x1, g1, b1 = _images(53, (1, 8, 2, 2), np.float32, hidden=True)
        cases += [(f"one float32 image, G={G}", x1, g1, b1, G, 1e-5) for G in (4, 1, 8)]
    for label, xc, gc, bc, G, eps in cases:
        out = _run(fn, name, {"x": xc, "gamma": gc, "beta": bc}, {"G": G, "eps": eps})
        c = xc.shape[1]
        expected = _gn(G)(xc, gc, bc, eps)
        where = f"{label} (x of shape {xc.shape}, {xc.dtype}, G={G}, eps={eps:g})"
        _compare(name, out, expected, xc, where, _gn_mistakes(G, c), gc, bc, eps,
                 "wrong output. Check each step: reshape to (N, G, C // G, H, W), mean and var over axis=(2, 3, 4) "
                 "with keepdims=True, reshape back, then gamma.reshape(1, C, 1, 1) * x_hat + beta.reshape(1, C, 1, 1).")
        passed.add(label)
    if hidden:
        own_code(fn, name, x, g, b, 3, reference=lambda x, g, b, G: _gn(G)(x, g, b, 1e-5))
        passed.add("own code")
    passed.passed()


# --------------------------------------------------------------------------
# Batch renormalization
# --------------------------------------------------------------------------


def _renorm(x, gamma, beta, rm, rv, r_max, d_max, eps, clip_r=True, clip_d=True, d_sign=1, denom="sqrt",
            ddof=0, r_inv=False, r_low=None, d_over="sigma", order="x_hat*r+d", affine=True, r_power=1):
    x = np.asarray(x, np.float64)
    rv = np.asarray(rv, np.float64)
    mu = x.mean(axis=0)
    var = x.var(axis=0, ddof=ddof)
    sigma_b, sigma = {
        "sqrt": lambda: (np.sqrt(var + eps), np.sqrt(rv + eps)),
        "plus": lambda: (np.sqrt(var) + eps, np.sqrt(rv) + eps),
        "running no eps": lambda: (np.sqrt(var + eps), np.sqrt(rv)),
        "batch no eps": lambda: (np.sqrt(var), np.sqrt(rv + eps)),
    }[denom]()
    r = (sigma / sigma_b if r_inv else sigma_b / sigma) ** r_power
    d = d_sign * (mu - rm) / (sigma_b if d_over == "sigma_b" else sigma)
    if clip_r:
        r = np.clip(r, 1 / r_max if r_low is None else r_low(r_max), r_max)
    if clip_d:
        d = np.clip(d, -d_max, d_max)
    if order == "x_hat*r+d":
        x_hat = (x - mu) / sigma_b * r + d
    elif order == "(x_hat+d)*r":
        x_hat = ((x - mu) / sigma_b + d) * r
    elif order == "running":
        x_hat = (x - rm) / sigma
    else:  # "plain": batch norm, r and d left out
        x_hat = (x - mu) / sigma_b
    return gamma * x_hat + beta if affine else x_hat


def _renorm_case(seed, n=8, ratios=(0.2, 0.8, 1.0, 1.5, 4.0), shifts=(-3.0, -0.5, 0.0, 0.7, 2.5), dtype=np.float64):
    """A batch whose r and d (at r_max=2, d_max=1) are clipped on some features and not on others."""
    rng = np.random.default_rng(seed)
    dim = len(ratios)
    x = rng.normal(rng.normal(0, 2, dim), rng.uniform(0.5, 3, dim), size=(n, dim)).astype(dtype)
    x64 = x.astype(np.float64)
    mu, var = x64.mean(0), x64.var(0)
    sigma = np.sqrt(var + 1e-5) / np.asarray(ratios)
    rv = sigma ** 2 - 1e-5
    rm = mu - np.asarray(shifts) * sigma
    gamma, beta = rng.uniform(0.5, 2, dim), rng.normal(0, 1, dim)
    return tuple(a.astype(dtype) for a in (x, gamma, beta, rm, rv))


#: (message, keywords of _renorm, whether the slip shows when r_max=1 and d_max=0)
_RENORM_MISTAKES = [
    ("r is not clipped: r = clip(sigma_B / sigma, 1 / r_max, r_max).", dict(clip_r=False), False),
    ("d is not clipped: d = clip((mu_B - running_mean) / sigma, -d_max, d_max).", dict(clip_d=False), False),
    ("Neither r nor d is clipped: r = clip(sigma_B / sigma, 1/r_max, r_max), d = clip(..., -d_max, d_max).",
     dict(clip_r=False, clip_d=False), False),
    ("r's lower bound is wrong: r = clip(sigma_B / sigma, 1 / r_max, r_max), between 1/r_max and r_max.",
     dict(r_low=lambda r_max: 0.0), True),
    ("r's lower bound is wrong: r = clip(sigma_B / sigma, 1 / r_max, r_max), between 1/r_max and r_max.",
     dict(r_low=lambda r_max: -r_max), True),
    ("d has the wrong sign: d = (mu_B - running_mean) / sigma, the batch mean minus the running mean.",
     dict(d_sign=-1), False),
    ("d divides by the batch std; it divides by the running one: d = (mu_B - running_mean) / sigma, "
     "sigma = sqrt(running_var + eps).", dict(d_over="sigma_b"), False),
    ("r is upside down: r = sigma_B / sigma (batch std over running std), so that x_hat * r + d equals "
     "(x - running_mean) / sigma when nothing is clipped.", dict(r_inv=True), False),
    ("r compares variances; it compares standard deviations: r = sqrt(var_B + eps) / sqrt(running_var + eps).",
     dict(r_power=2), False),
    ("You applied r after adding d: x_hat = (x - mu_B) / sigma_B * r + d, r first, then d.",
     dict(order="(x_hat+d)*r"), False),
    ("Your output ignores r and d: that is plain batch norm. x_hat = (x - mu_B) / sigma_B * r + d.",
     dict(order="plain"), False),
    ("You normalized with the running statistics alone (inference-mode batch norm); batch renorm uses the "
     "batch statistics corrected by the clipped r and d: (x - mu_B) / sigma_B * r + d.", dict(order="running"), True),
    (_SIGMA_EPS + " Both sigma_B = sqrt(var_B + eps) and sigma = sqrt(running_var + eps).", dict(denom="plus"), True),
    ("sigma has no eps: sigma = sqrt(running_var + eps), like sigma_B = sqrt(var_B + eps).",
     dict(denom="running no eps"), False),
    ("sigma_B has no eps: sigma_B = sqrt(var_B + eps), like sigma = sqrt(running_var + eps).",
     dict(denom="batch no eps"), True),
    (_N1, dict(ddof=1), True),
    ("You forgot gamma and beta: out = gamma * x_hat + beta.", dict(affine=False), True),
]


def batch_renorm_forward(fn: Callable, hidden: bool = False) -> None:
    """Check ``fn(x, gamma, beta, running_mean, running_var, r_max, d_max, eps) -> out``.

    Cases where r and d clip on some features and not others, and r_max=1,
    d_max=0, where batch renorm must equal batch norm.

    Raises
    ------
    AssertionError
        Naming the likely mistake (r or d not clipped, r's lower bound, d's sign or denominator, r inverted
        or of variances, r applied after d, r and d ignored, running statistics alone, eps outside the root
        or missing, N-1, gamma and beta forgotten, ...).
    """
    name = "batch_renorm_forward"
    passed = Cases(name)
    x, g, b, rm, rv = _renorm_case(61)
    cases = [("r and d clipped on some features", x, g, b, rm, rv, 2.0, 1.0, 1e-5),
             ("r_max=1 and d_max=0 (plain batch norm)", x, g, b, rm, rv, 1.0, 0.0, 1e-5),
             ("wide clips and a large eps", x, g, b, rm, rv, 3.0, 5.0, 0.5),
             ("r and d clipped, float32", *_renorm_case(61, dtype=np.float32), 2.0, 1.0, 1e-5)]
    if hidden:
        rng = hidden_rng(62)
        for k in range(4):
            dim = int(rng.integers(2, 9))
            ratios = tuple(np.exp(rng.normal(0, 1, dim)))
            shifts = tuple(rng.normal(0, 2, dim))
            case = _renorm_case(int(rng.integers(1 << 30)), int(rng.integers(2, 33)), ratios, shifts,
                                np.float32 if k % 2 else np.float64)
            cases.append(("random shape", *case, float(rng.uniform(1, 3)), float(rng.uniform(0, 3)), 1e-5))
    for label, xc, gc, bc, rmc, rvc, r_max, d_max, eps in cases:
        args = {"x": xc, "gamma": gc, "beta": bc, "running_mean": rmc, "running_var": rvc}
        out = _run(fn, name, args, {"r_max": r_max, "d_max": d_max, "eps": eps})
        expected = _renorm(xc, gc, bc, rmc, rvc, r_max, d_max, eps)
        plain = r_max == 1 and d_max == 0
        mistakes = [(m, (lambda kw: lambda x_, g_, b_, e_: _renorm(x_, g_, b_, rmc, rvc, r_max, d_max, e_, **kw))(kw))
                    for m, kw, shows in _RENORM_MISTAKES if shows or not plain]
        where = f"{label} (x of shape {xc.shape}, {xc.dtype}, r_max={r_max:g}, d_max={d_max:g}, eps={eps:g})"
        hint = ("sigma = sqrt(running_var + eps), sigma_B = sqrt(var_B + eps), r = clip(sigma_B / sigma, 1/r_max, "
                "r_max), d = clip((mu_B - running_mean) / sigma, -d_max, d_max), x_hat = (x - mu_B) / sigma_B * r + d.")
        if plain:
            hint = "With r_max=1 and d_max=0, r = 1 and d = 0: the output must be plain batch norm. " + hint
        _compare(name, out, expected, xc, where, mistakes, gc, bc, eps, hint)
        passed.add(label)
    if hidden:
        own_code(fn, name, x, g, b, rm, rv, 2.0, 1.0, reference=lambda *a: _renorm(*a, 1e-5))
        passed.add("own code")
    passed.passed()
