"""Colours and small drawing helpers shared by the views (pure: no Qt, no pyqtgraph)."""

from __future__ import annotations

import functools

import numpy as np
from numpy.typing import NDArray

from explorer.core.landscape import Domain

RGB = tuple[int, int, int]

# The perceptual colour map of the contour image, the colour bar and the surface.
COLORMAP = "viridis"

# Twenty colours, so that the first twenty runs never share one: Okabe-Ito and Paul Tol's six
# (they also read apart for the common colour-vision deficiencies), then fourteen more added
# one by one, each the candidate (from Kelly's list of distinct colours and a few light ones)
# farthest in CIE Lab from those already in. Any two differ by a CIE76 delta E of 27 or more;
# each is far from every colour of viridis (its blue, green and yellow are left out) and light
# enough to stand out from the dark outline drawn under every path and from the loss plot's
# dark background.
PALETTE: tuple[RGB, ...] = (
    (230, 159, 0),  # orange
    (86, 180, 233),  # sky blue
    (238, 51, 119),  # magenta
    (213, 94, 0),  # vermillion
    (204, 121, 167),  # reddish purple
    (170, 170, 170),  # grey
    (255, 0, 255),  # fuchsia
    (70, 110, 255),  # royal blue
    (180, 240, 120),  # light green
    (0, 136, 86),  # Kelly's green
    (0, 230, 230),  # cyan
    (150, 150, 60),  # olive
    (249, 150, 121),  # Kelly's yellowish pink
    (255, 40, 40),  # bright red
    (170, 140, 240),  # lavender
    (255, 255, 255),  # white
    (160, 100, 50),  # brown
    (255, 245, 140),  # lemon
    (141, 182, 0),  # Kelly's yellow green
    (230, 210, 170),  # sand
)

# Where f is NaN or infinite: a neutral grey, far from every viridis colour.
GAP_COLOR: RGB = (128, 128, 128)

# Dark halo drawn under paths and markers so that they stand out on any colour.
OUTLINE_COLOR: RGB = (20, 20, 20)

# Drawn points per path at most: more cannot be told apart and slow the redraw down.
MAX_DRAWN_POINTS = 2000

# Drawn points over all paths at most, once there are so many paths that MAX_DRAWN_POINTS each
# would exceed it: every repaint walks them all (software OpenGL copies them every frame).
DRAWN_POINTS_BUDGET = 50_000
# The 3D view's budget is smaller: software OpenGL turns every wide line segment into
# triangles on the GUI thread (about 13 ms per 50,000 segments and pass), and the 3D picture is
# small enough that 20,000 points over all paths still draw smooth curves.
SURFACE_POINTS_BUDGET = 20_000
# ...but never fewer than this many per path.
MIN_DRAWN_POINTS = 4

# Wider or taller domains than this ratio are drawn stretched, not to scale.
MAX_ASPECT = 3.0


def trajectory_color(index: int) -> RGB:
    """The colour of trajectory number index, cycling through PALETTE."""
    return PALETTE[index % len(PALETTE)]


def rgba(color: RGB, alpha: int = 255) -> tuple[int, int, int, int]:
    """An (r, g, b) colour with an alpha (0-255) added."""
    return (int(color[0]), int(color[1]), int(color[2]), int(alpha))


def rgba_float(color: RGB, alpha: float = 1.0) -> tuple[float, float, float, float]:
    """An (r, g, b) colour as four floats in 0..1, as the OpenGL items take it."""
    return (color[0] / 255.0, color[1] / 255.0, color[2] / 255.0, float(alpha))


def decimation_indices(n: int, limit: int = MAX_DRAWN_POINTS) -> NDArray[np.intp]:
    """At most limit row indices spread evenly over range(n), always keeping first and last.

    The result may be shared between calls: do not write to it.
    """
    if n <= limit:
        return np.arange(n)
    return _spread_indices(int(n), max(int(limit), 2))


@functools.lru_cache(maxsize=1024)
def _spread_indices(n: int, count: int) -> NDArray[np.intp]:
    # Paths animate a step at a time, so the same (n, count) comes back for path after path.
    rows = np.linspace(0, n - 1, count).round().astype(np.intp)
    rows = rows[np.r_[True, rows[1:] != rows[:-1]]]  # ascending: drop the repeats
    rows.flags.writeable = False
    return rows


def points_per_path(paths: int, budget: int = DRAWN_POINTS_BUDGET) -> int:
    """How many points each path is drawn with when paths are on screen together."""
    share = int(budget) // max(int(paths), 1)
    return max(MIN_DRAWN_POINTS, min(MAX_DRAWN_POINTS, share))


def equal_aspect(domain: Domain) -> bool:
    """True when the domain is drawn to scale (one unit of x as long as one unit of y)."""
    xmin, xmax, ymin, ymax = domain
    ratio = (xmax - xmin) / (ymax - ymin)
    return 1.0 / MAX_ASPECT <= ratio <= MAX_ASPECT
