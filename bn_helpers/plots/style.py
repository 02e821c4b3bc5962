"""One colour per experimental condition, the same in every notebook of the course.

A reader who learned "blue is with BN" in 01 must not find it orange in 04.
Every plot helper that draws a condition (with/without BN, a variant of
normalization, an initialisation) takes its colour from :func:`condition_color`.
"""
from __future__ import annotations

__all__ = ["CONDITION_COLORS", "condition_color"]

#: Condition label -> matplotlib colour. Labels are matched case-insensitively.
CONDITION_COLORS: dict[str, str] = {
    "with BN": "tab:blue",
    "without BN": "tab:orange",
    "noisy BN": "tab:purple",
    "Kaiming init, no BN": "tab:red",
    "with BN, Kaiming init": "navy",
    "layer norm": "tab:green",
    "group norm": "tab:olive",
    "instance norm": "tab:brown",
    "batch renorm": "tab:cyan",
    "RMSNorm": "tab:pink",
}

_ALIASES = {
    "bn": "with BN", "batch norm": "with BN", "batchnorm": "with BN", "batch": "with BN",
    "no bn": "without BN", "none": "without BN", "plain": "without BN",
    "ln": "layer norm", "layernorm": "layer norm", "layer": "layer norm",
    "gn": "group norm", "groupnorm": "group norm", "group": "group norm",
    "instancenorm": "instance norm", "instance": "instance norm",
    "renorm": "batch renorm", "batch renormalization": "batch renorm", "brn": "batch renorm",
    "kaiming": "Kaiming init, no BN", "rmsnorm": "RMSNorm", "rms": "RMSNorm",
    "noisy": "noisy BN",
}


def condition_color(label: str, default: str = "0.4") -> str:
    """The course's colour for a condition label such as ``"with BN"`` or ``"group norm"``.

    Parameters
    ----------
    label : str
        A key of :data:`CONDITION_COLORS` or a common alias (``"BN"``, ``"no BN"``,
        ``"LN"``, ``"GN"``, ``"renorm"``...); case-insensitive. A label that starts
        with a known condition (``"noisy BN (n = 1)"``) gets that condition's colour.
    default : str, default "0.4"
        Returned for a label the course has no colour for (a dark grey).

    Returns
    -------
    str
        A matplotlib colour.

    Examples
    --------
    >>> condition_color("with BN"), condition_color("No BN"), condition_color("GN")
    ('tab:blue', 'tab:orange', 'tab:olive')
    """
    key = label.strip().lower()
    for name, colour in CONDITION_COLORS.items():
        if key == name.lower():
            return colour
    if key in _ALIASES:
        return CONDITION_COLORS[_ALIASES[key]]
    # longest known prefix first, so "noisy BN (n=1)" is not taken for "no BN"
    names = {n.lower(): n for n in CONDITION_COLORS} | {a: _ALIASES[a] for a in _ALIASES}
    for prefix in sorted(names, key=len, reverse=True):
        if key.startswith(prefix + " ") or key.startswith(prefix + "(") or key.startswith(prefix + ","):
            return CONDITION_COLORS[names[prefix]]
    return default
