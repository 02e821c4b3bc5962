"""Checks of assignment 06_in_practice: fold_batchnorm and merge_batch_stats.

``fold_batchnorm`` is compared with the folding formula and with the network
it replaces (``x @ W' + b'`` must equal eval-mode BN of ``x @ W + b``); a
wrong answer is matched against the known slips (rows scaled instead of
columns, the running mean or beta or the old bias left out, eps or the square
root missing). ``merge_batch_stats`` is compared with the statistics of the
concatenated data; a wrong mean or variance is matched against the unweighted
average, the missing between-device term, unbiased variances; a float32 case
with mean 1e4 catches E[x^2] - E[x]^2.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from ._common import as_array, hidden_rng, own_code
from ._messages import Cases, call, worst

__all__ = ["fold_batchnorm", "merge_batch_stats"]


# --------------------------------------------------------------------------
# fold_batchnorm
# --------------------------------------------------------------------------

def _fold_variants(W, b, gamma, beta, mean, var, eps):
    """(message, W', b') of the right fold and of each known wrong one, in float64."""
    W, b, gamma, beta, mean, var = (np.asarray(a, dtype=np.float64) for a in (W, b, gamma, beta, mean, var))
    s = gamma / np.sqrt(var + eps)
    right_b = (b - mean) * s + beta
    out = [(None, W * s, right_b)]
    if W.shape[0] == W.shape[1]:
        out.append(("you scaled the ROWS of W (W * s[:, None]). With z = x @ W, output unit j is column j "
                    "of W: scale each column by its unit's s_j = gamma_j / sqrt(var_j + eps), i.e. W * s.",
                    W * s[:, None], right_b))
    out += [
        ("you left the running mean out of the bias. At inference BN subtracts running_mean before "
         "scaling: b' = (b - running_mean) * s + beta.", W * s, b * s + beta),
        ("you forgot beta in the folded bias: BN adds beta after scaling, b' = (b - running_mean) * s + beta.",
         W * s, (b - mean) * s),
        ("you ignored the layer's own bias b: it is added before BN, so it is shifted and scaled too: "
         "b' = (b - running_mean) * s + beta.", W * s, -mean * s + beta),
        ("you ignored the eps argument (used 1e-5): s = gamma / sqrt(running_var + eps) with the eps given.",
         W * (gamma / np.sqrt(var + 1e-5)), (b - mean) * (gamma / np.sqrt(var + 1e-5)) + beta),
        ("your scale has no eps: s = gamma / sqrt(running_var + eps), with eps inside the square root "
         "(a unit with a tiny running_var shows the difference).",
         W * (gamma / np.sqrt(var)), (b - mean) * (gamma / np.sqrt(var)) + beta),
        ("your scale has no square root: BN divides by the standard deviation, sqrt(running_var + eps), "
         "not by the variance.", W * (gamma / (var + eps)), (b - mean) * (gamma / (var + eps)) + beta),
        ("you multiplied by sqrt(running_var + eps) instead of dividing: s = gamma / sqrt(running_var + eps).",
         W * (gamma * np.sqrt(var + eps)), (b - mean) * (gamma * np.sqrt(var + eps)) + beta),
        ("you divided W and b by s instead of multiplying: BN multiplies by s = gamma / sqrt(running_var + eps).",
         W / s, (b - mean) / s + beta),
        ("you forgot gamma in the scale: s = gamma / sqrt(running_var + eps).",
         W / np.sqrt(var + eps), (b - mean) / np.sqrt(var + eps) + beta),
        ("the running mean has the wrong sign in the bias: BN subtracts it, b' = (b - running_mean) * s + beta.",
         W * s, (b + mean) * s + beta),
        ("you scaled beta too: BN adds beta after scaling, b' = (b - running_mean) * s + beta.",
         W * s, (b - mean + beta) * s),
        ("you subtracted the running mean after scaling: BN subtracts it first, b' = (b - running_mean) * s + beta.",
         W * s, b * s - mean + beta),
        ("you did not scale the bias: b' = (b - running_mean) * s + beta, the whole (b - running_mean) times s.",
         W * s, b - mean + beta),
        ("you scaled W but left the bias b unchanged: b' = (b - running_mean) * s + beta.", W * s, b),
    ]
    return out


_FOLD_HINT = ("Check the shapes: W is (D_in, D) and b, gamma, beta, running_mean, running_var are (D,); "
              "s = gamma / sqrt(running_var + eps) has shape (D,) and W * s scales each column.")
_MERGE_HINT = ("Check the shapes: counts is (K,) (maybe a list), means and variances are (K, D); weight the rows "
               "with np.asarray(counts)[:, None] and sum over axis=0.")


def _fold_case(fn, name, W, b, gamma, beta, mean, var, eps, where, tol):
    args = {"W": W, "b": b, "gamma": gamma, "beta": beta, "running_mean": mean, "running_var": var}
    kwargs = {} if eps is None else {"eps": eps}
    eps = 1e-5 if eps is None else eps
    result = call(fn, name, *(v.copy() for v in args.values()), hint=_FOLD_HINT, names=tuple(args), **kwargs)
    if not isinstance(result, tuple) or len(result) != 2:
        raise AssertionError(f"{name} must return a pair (W_folded, b_folded); got {type(result).__name__}")
    Wf = as_array(result[0], name, "W_folded").astype(np.float64)
    bf = as_array(result[1], name, "b_folded").astype(np.float64)
    if Wf.shape != W.shape:
        hint = (" That is W's transpose: keep the x @ W convention, shape (D_in, D)."
                if Wf.shape == W.shape[::-1] else " The folded W has the shape of W, (D_in, D).")
        raise AssertionError(f"{name}: W_folded has shape {Wf.shape}; expected {W.shape}.{hint}\n  {where}")
    if bf.shape != b.shape:
        raise AssertionError(f"{name}: b_folded has shape {bf.shape}; expected {b.shape}, one bias per unit "
                             f"(drop keepdims, or a leading axis).\n  {where}")
    with np.errstate(all="ignore"):  # a unit with gamma = 0 makes some wrong folds divide by zero
        variants = _fold_variants(W, b, gamma, beta, mean, var, eps)
    _, W_ok, b_ok = variants[0]
    rtol, atol = tol
    if np.allclose(Wf, W_ok, rtol=rtol, atol=atol) and np.allclose(bf, b_ok, rtol=rtol, atol=atol):
        return
    message = None
    if Wf.shape == Wf.T.shape and np.allclose(Wf.T, W_ok, rtol=1e-3, atol=1e-6):
        message = ("W_folded is the transpose of the right answer: keep the x @ W convention, shape "
                   "(D_in, D), column j scaled by s_j (PyTorch stores the transpose as Linear.weight).")
    for msg, Wc, bc in ([] if message else variants[1:]):
        with np.errstate(all="ignore"):
            if np.allclose(Wf, Wc, rtol=1e-3, atol=1e-6) and np.allclose(bf, bc, rtol=1e-3, atol=1e-6):
                message = msg
                break
    if message is None:
        which = "W_folded" if not np.allclose(Wf, W_ok, rtol=rtol, atol=atol) else "b_folded"
        message = (f"{which} is wrong. With s = gamma / sqrt(running_var + eps): W' = W * s (each column "
                   "scaled) and b' = (b - running_mean) * s + beta.")
    w_bad = not np.allclose(Wf, W_ok, rtol=rtol, atol=atol)
    detail = f"W_folded {worst(Wf, W_ok)}" if w_bad else f"b_folded {worst(bf, b_ok)}"
    raise AssertionError(f"{name}: {message}\n  {where}: {detail}")


def _fold_params(rng, d_in, d, dtype):
    W = rng.normal(0, 1, (d_in, d))
    b = rng.normal(0, 1, d)
    gamma, beta = rng.uniform(0.5, 2, d), rng.normal(0, 1, d)
    mean, var = rng.normal(0, 2, d), rng.uniform(0.2, 3, d)
    return tuple(a.astype(dtype) for a in (W, b, gamma, beta, mean, var))


def fold_batchnorm(fn: Callable, hidden: bool = False) -> None:
    """Check ``fn(W, b, gamma, beta, running_mean, running_var, eps=1e-5) -> (W_folded, b_folded)``.

    Visible cases: a square (4, 4) layer with one tiny running variance, a
    (3, 5) layer with ``eps=0.5``, and the folded layer against the unfolded
    Linear -> BN(eval) on a batch. ``hidden=True`` adds random shapes in
    float64 and float32, a unit with gamma = 0, and a check that ``fn`` does
    not call ``bn_helpers``' reference code.

    Raises
    ------
    AssertionError
        Naming the likely mistake: rows scaled instead of columns, the running
        mean / beta / the original bias left out of the bias, no eps, no
        square root, eps ignored, wrong shapes, inputs changed in place.
    """
    name = "fold_batchnorm"
    passed = Cases(name)
    rng = np.random.default_rng(606)
    tol64 = (1e-7, 1e-9)
    W, b, gamma, beta, mean, var = _fold_params(rng, 4, 4, np.float64)
    var[2] = 1e-4  # a nearly constant unit: eps matters
    _fold_case(fn, name, W, b, gamma, beta, mean, var, None, "W (4, 4), one running_var of 1e-4, default eps", tol64)
    passed.add("square W with a tiny running_var")
    W, b, gamma, beta, mean, var = _fold_params(rng, 3, 5, np.float64)
    _fold_case(fn, name, W, b, gamma, beta, mean, var, 0.5, "W (3, 5) with eps=0.5", tol64)
    passed.add("W (3, 5) with a large eps")
    # the folded layer computes what Linear -> BN (eval) computes
    x = rng.normal(0, 1, (6, 3))
    Wf, bf = (np.asarray(a, dtype=np.float64)
              for a in call(fn, name, W, b, gamma, beta, mean, var, 0.5, hint=_FOLD_HINT,
                            names=("W", "b", "gamma", "beta", "running_mean", "running_var", "eps")))
    unfolded = gamma * ((x @ W + b) - mean) / np.sqrt(var + 0.5) + beta
    if not np.allclose(x @ Wf + bf, unfolded, rtol=1e-9, atol=1e-9):
        raise AssertionError(f"{name}: x @ W_folded + b_folded differs from the unfolded layer in eval mode "
                             "(gamma * (x @ W + b - running_mean) / sqrt(running_var + eps) + beta): "
                             f"{worst(x @ Wf + bf, unfolded)}.")
    passed.add("same outputs as Linear then BN")
    params = _fold_params(rng, 5, 3, np.float32)
    _fold_case(fn, name, *params, None, "W (5, 3) in float32", (2e-5, 1e-5))
    passed.add("float32")
    if hidden:
        rng = hidden_rng(607)
        for k in range(6):
            dtype = np.float32 if k % 2 else np.float64
            d_in, d = int(rng.integers(1, 21)), int(rng.integers(1, 21))
            params = list(_fold_params(rng, d_in, d, dtype))
            if k == 4:
                params[2][0] = 0.0  # gamma = 0: a switched-off unit
            tol = (2e-5, 1e-5) if dtype == np.float32 else tol64
            _fold_case(fn, name, *params, None if k < 3 else 1e-3,
                       f"W {params[0].shape} ({np.dtype(dtype).name})", tol)
            passed.add("a unit with gamma = 0" if k == 4 else "random shape")
        W, b, gamma, beta, mean, var = _fold_params(rng, 2, 3, np.float64)
        own_code(fn, name, W, b, gamma, beta, mean, var,
                 reference=lambda *a: _fold_variants(*a, 1e-5)[0][1:])
        passed.add("own code")
    passed.passed()


# --------------------------------------------------------------------------
# merge_batch_stats
# --------------------------------------------------------------------------

def _device_data(rng, counts, d, dtype, loc=0.0, noise=1.0):
    """Data on K devices with different centres; per-device (mean, biased var) and the concatenated truth."""
    centres = rng.normal(0, 2 * noise, (len(counts), d))
    chunks = [(loc + centres[k] + noise * rng.standard_normal((n, d))).astype(dtype) for k, n in enumerate(counts)]
    means = np.stack([c.astype(np.float64).mean(0) for c in chunks]).astype(dtype)
    variances = np.stack([c.astype(np.float64).var(0) for c in chunks]).astype(dtype)
    whole = np.concatenate(chunks).astype(np.float64)
    return np.asarray(counts), means, variances, (whole.mean(0), whole.var(0))


def _merge_variants(counts, means, variances, mean):
    """(message, var) of known wrong variances, given the right global mean."""
    n_k = counts.astype(np.float64)[:, None]
    n = n_k.sum()
    m, v = means.astype(np.float64), variances.astype(np.float64)
    w = n_k / n
    truth = (w * (v + (m - mean) ** 2)).sum(0)
    between = ("you averaged the per-device variances and left out the between-device term: the devices' "
               "means differ, and their spread adds to the variance: var = sum_k n_k (v_k + (m_k - mean)^2) / n.")
    unbiased = ("your variance is unbiased (divided by n - 1). Batch norm normalizes with the biased variance, "
                "and the inputs are biased too: var = sum_k n_k (v_k + (m_k - mean)^2) / n.")
    return [
        (between, (w * v).sum(0)),
        (between, v.mean(0)),
        (unbiased, truth * n / (n - 1)),
        (unbiased, (((n_k - 1) * v + n_k * (m - mean) ** 2).sum(0)) / (n - 1)),
        ("you averaged over devices without weighting by their counts: a device with more examples "
         "counts more, var = sum_k n_k (v_k + (m_k - mean)^2) / n.", (v + (m - mean) ** 2).mean(0)),
        ("you left out the within-device variances v_k: var = sum_k n_k (v_k + (m_k - mean)^2) / n.",
         (w * (m - mean) ** 2).sum(0)),
        ("you treated the inputs as standard deviations (squared them); they are variances already.",
         (w * (v ** 2 + (m - mean) ** 2)).sum(0)),
        ("you treated the v_k as unbiased variances (multiplied them by n_k - 1); they are biased: "
         "var = sum_k n_k (v_k + (m_k - mean)^2) / n.", (((n_k - 1) * v + n_k * (m - mean) ** 2).sum(0)) / n),
        ("your between-device term weighs every device equally (the variance of the means); weight it by the "
         "counts: var = sum_k n_k (v_k + (m_k - mean)^2) / n.", (w * v).sum(0) + m.var(0)),
        ("your between-device term uses the unweighted average of the means; use the global (weighted) mean: "
         "var = sum_k n_k (v_k + (m_k - mean)^2) / n.", (w * (v + (m - m.mean(0)) ** 2)).sum(0)),
        ("you returned the standard deviation; return the variance (no square root).", np.sqrt(truth)),
    ]


def _merged(counts, means, variances):
    """The right merge, in float64: the count-weighted mean, and the variance of all the examples together."""
    w = counts.astype(np.float64)[:, None] / counts.sum()
    m, v = means.astype(np.float64), variances.astype(np.float64)
    mean = (w * m).sum(0)
    return mean, (w * (v + (m - mean) ** 2)).sum(0)


def _merge_case(fn, name, counts, means, variances, truth, where, tol, large_mean=False):
    args = {"counts": counts, "means": means, "variances": variances}
    result = call(fn, name, *(v.copy() for v in args.values()), hint=_MERGE_HINT, names=tuple(args))
    if not isinstance(result, tuple) or len(result) != 2:
        raise AssertionError(f"{name} must return a pair (mean, var); got {type(result).__name__}")
    got_mean = as_array(result[0], name, "the mean").astype(np.float64)
    got_var = as_array(result[1], name, "the variance").astype(np.float64)
    d = means.shape[1]
    for label, got in (("mean", got_mean), ("var", got_var)):
        if got.shape != (d,):
            raise AssertionError(
                f"{name}: the {label} has shape {got.shape}; expected ({d},), one value per feature: sum over "
                f"the device axis (axis=0) of the (K, D) arrays, without keepdims.\n  {where}")
    rtol, atol = tol
    true_mean, true_var = truth
    if not np.allclose(got_mean, true_mean, rtol=rtol, atol=atol):
        m64, n64 = means.astype(np.float64), np.asarray(counts, np.float64)[:, None]
        if (not np.allclose(got_var, true_var, rtol=1e-4, atol=1e-9) and np.allclose(got_mean, true_var, rtol=1e-4)
                and np.allclose(got_var, true_mean, rtol=1e-4)):
            message = "you returned (var, mean); return them in the order (mean, var)."
        elif np.allclose(got_mean, m64.mean(0), rtol=1e-6, atol=1e-9):
            message = ("you took the unweighted average of the device means. Devices hold different numbers "
                       "of examples: mean = sum_k n_k m_k / n.")
        elif np.allclose(got_mean, (n64 * m64).sum(0), rtol=1e-6, atol=1e-9):
            message = "you forgot to divide by n = sum_k n_k: mean = sum_k n_k m_k / n."
        else:
            message = "the mean is wrong: mean = sum_k n_k m_k / n, with n = sum_k n_k."
        raise AssertionError(f"{name}: {message}\n  {where}: mean {worst(got_mean, true_mean)}")
    if np.allclose(got_var, true_var, rtol=rtol, atol=atol):
        return
    message = None
    if large_mean:
        message = ("your variance breaks down on float32 statistics with a mean of 1e4 (and a spread of "
                   "about 0.1): the signature of E[x^2] - E[x]^2, which subtracts two numbers near 1e8 and "
                   "keeps no digit of the variance. Use var = sum_k n_k (v_k + (m_k - mean)^2) / n: "
                   "only small numbers get squared.")
    with np.errstate(all="ignore"):
        variants = _merge_variants(counts, means, variances, true_mean)
    for msg, cand in variants:
        if message is None and np.allclose(got_var, cand, rtol=1e-4, atol=1e-9):
            message = msg
    message = message or ("the variance is wrong: var = sum_k n_k (v_k + (m_k - mean)^2) / n (biased); try "
                          "two devices by hand, or compare with np.var of the concatenated data.")
    raise AssertionError(f"{name}: {message}\n  {where}: var {worst(got_var, true_var)}")


def merge_batch_stats(fn: Callable, hidden: bool = False) -> None:
    """Check ``fn(counts, means, variances) -> (mean, var)`` against the statistics of the concatenated data.

    Visible cases: 3 devices with 4, 2 and 6 examples and different centres;
    8 devices of 4 examples. ``hidden=True`` adds random K, D and counts
    (including one device, and devices with a single example) in float64
    and float32, a float32 case with mean 1e4 (E[x^2] - E[x]^2 fails there),
    and a check that ``fn`` does not call ``bn_helpers``' reference code.

    Raises
    ------
    AssertionError
        Naming the likely mistake: unweighted average of the means or
        variances, the between-device term left out, unbiased variances,
        E[x^2] - E[x]^2, wrong shapes, inputs changed in place.
    """
    name = "merge_batch_stats"
    passed = Cases(name)
    rng = np.random.default_rng(66)
    tol64 = (1e-7, 1e-9)
    case = _device_data(rng, [4, 2, 6], 3, np.float64)
    _merge_case(fn, name, *case, "3 devices with 4, 2 and 6 examples, D = 3", tol64)
    passed.add("3 devices of different sizes")
    case = _device_data(rng, [4] * 8, 5, np.float64)
    _merge_case(fn, name, *case, "8 devices with 4 examples each, D = 5", tol64)
    passed.add("8 equal devices")
    case = _device_data(rng, [3, 5], 4, np.float32)
    _merge_case(fn, name, *case, "2 devices with 3 and 5 examples, D = 4, float32", (1e-4, 1e-5))
    passed.add("float32")
    if hidden:
        rng = hidden_rng(67)
        for k in range(6):
            dtype = np.float32 if k % 2 else np.float64
            n_dev = 1 if k == 0 else int(rng.integers(2, 11))
            counts = [int(c) for c in rng.integers(1, 21, n_dev)]
            if k == 2:
                counts[0] = 1  # a device with a single example: variance 0
            case = _device_data(rng, counts, int(rng.integers(1, 21)), dtype)
            tol = (1e-4, 1e-5) if dtype == np.float32 else tol64
            _merge_case(fn, name, *case, f"{n_dev} device(s) with counts {counts}, {np.dtype(dtype).name}", tol)
            passed.add("one device" if k == 0 else "a device of one example" if k == 2 else "random devices")
        case = _device_data(rng, [16, 8, 24, 16], 6, np.float32, loc=1e4, noise=0.1)
        _merge_case(fn, name, *case, "float32, 4 devices, data with mean 1e4 and spread 0.1", (5e-2, 1e-6),
                    large_mean=True)
        passed.add("float32 with mean 1e4")
        own_code(fn, name, *_device_data(rng, [3, 5], 2, np.float64)[:3], reference=_merged)
        passed.add("own code")
    passed.passed()
