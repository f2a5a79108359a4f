"""The runs' colours: twenty clearly different ones, each readable over its dark outline."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from explorer.gui.model.colors import OUTLINE_COLOR, PALETTE, trajectory_color

FIRST_RUNS = 20
# CIE76 delta E: about 2.3 is just noticeable; 20 apart reads as another colour at a glance.
MIN_DELTA_E = 20.0
# WCAG's contrast ratio for graphics that must be told from what is next to them.
MIN_CONTRAST = 3.0


def _linear(rgb: tuple[int, int, int]) -> np.ndarray:
    """sRGB (0-255) to linear light (0-1), by the sRGB transfer function."""
    c = np.array(rgb, dtype=np.float64) / 255.0
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def _lab(rgb: tuple[int, int, int]) -> np.ndarray:
    """CIE L*a*b* (D65 white) of an sRGB colour."""
    to_xyz = np.array([[0.4124564, 0.3575761, 0.1804375],
                       [0.2126729, 0.7151522, 0.0721750],
                       [0.0193339, 0.1191920, 0.9503041]])
    xyz = to_xyz @ _linear(rgb) / np.array([0.95047, 1.0, 1.08883])
    eps, kappa = 216 / 24389, 24389 / 27
    f = np.where(xyz > eps, np.cbrt(xyz), (kappa * xyz + 16) / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def _contrast(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    """WCAG 2 contrast ratio of two colours (1 to 21)."""
    weights = np.array([0.2126, 0.7152, 0.0722])
    la, lb = (float(weights @ _linear(c)) for c in (a, b))
    return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)


def test_the_lab_conversion_matches_published_values() -> None:
    # White is L* 100, a* b* 0; sRGB red is about (53.24, 80.09, 67.20).
    np.testing.assert_allclose(_lab((255, 255, 255)), [100.0, 0.0, 0.0], atol=0.01)
    np.testing.assert_allclose(_lab((255, 0, 0)), [53.24, 80.09, 67.20], atol=0.05)
    assert _contrast((0, 0, 0), (255, 255, 255)) == pytest.approx(21.0)


def test_the_first_twenty_runs_get_twenty_clearly_different_colours() -> None:
    colors = [trajectory_color(i) for i in range(FIRST_RUNS)]
    assert len(set(colors)) == FIRST_RUNS
    for a, b in itertools.combinations(colors, 2):
        delta_e = float(np.linalg.norm(_lab(a) - _lab(b)))
        assert delta_e > MIN_DELTA_E, (a, b, delta_e)
    # Only past the twentieth do they come round again.
    assert trajectory_color(FIRST_RUNS) == trajectory_color(0) and len(PALETTE) == FIRST_RUNS


def test_each_colour_stands_out_from_its_outline() -> None:
    for color in PALETTE:
        assert _contrast(color, OUTLINE_COLOR) >= MIN_CONTRAST, color
