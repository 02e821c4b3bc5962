"""What "drawn whole" means for a live view's frame, shared by tests/test_widgets.py and tests/test_browser.py.

A frame is compared with a full redraw of the same state: a pixel is wrong when one of its channels differs by
more than ``COLOUR_TOLERANCE`` (of 255), and at most ``MAX_WRONG`` of the pixels may be wrong. A missing tick label
is some 50 wrong pixels in a figure of half a million (test_widgets checks that the bound sees one).
"""
from __future__ import annotations

from io import BytesIO

import numpy as np

COLOUR_TOLERANCE = 24
MAX_WRONG = 1e-4


def full_redraw(fig) -> np.ndarray:
    """``fig`` rendered anew by a fresh Agg canvas (every artist drawn, nothing kept), an (H, W, 3) uint8 array."""
    from PIL import Image
    with BytesIO() as png:
        fig.savefig(png, format="png", dpi=fig.dpi, backend="agg")
        png.seek(0)
        return np.asarray(Image.open(png).convert("RGB"))


def wrong_pixels(shown: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """(H, W) bool: the pixels of ``shown`` unlike ``reference`` (both (H, W, 3) uint8 of the same shape)."""
    assert shown.shape == reference.shape, f"frame {shown.shape} vs full redraw {reference.shape}"
    return np.abs(shown.astype(int) - reference.astype(int)).max(axis=2) > COLOUR_TOLERANCE


def drawn_whole(shown: np.ndarray, reference: np.ndarray) -> bool:
    return wrong_pixels(shown, reference).sum() <= MAX_WRONG * shown.shape[0] * shown.shape[1]
