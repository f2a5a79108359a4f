"""The landscape on a grid: f sampled over the domain, ready for colour maps and surfaces."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from explorer.core.trajectory import FloatArray

if TYPE_CHECKING:
    from explorer.core.expression import Expression

Domain = tuple[float, float, float, float]

# Above this ratio of (f range) to (a typical spread of f), a linear colour scale shows one
# colour almost everywhere (Rosenbrock, Beale): suggest the log scale.
_LOG_SPREAD_RATIO = 15.0


@dataclass(frozen=True, eq=False)
class LandscapeGrid:
    """f on a grid: z[i, j] = f(xs[i], ys[j]) (ij indexing, as ImageItem expects); gaps are NaN."""

    domain: Domain
    xs: FloatArray
    ys: FloatArray
    z: FloatArray
    z_min: float
    z_max: float
    finite_fraction: float
    suggest_log: bool

    @property
    def has_gaps(self) -> bool:
        """True when f is NaN or infinite somewhere on the grid."""
        return self.finite_fraction < 1.0

    def transformed(self, log: bool) -> FloatArray:
        """z for colouring: as is, or log10 of the height above the minimum (NaN stays NaN)."""
        return to_display(self.z, self.z_min, self.z_max, log)


def to_display(z: FloatArray, z_min: float, z_max: float, log: bool) -> FloatArray:
    """Map f values to the display scale: linear, or log10(f - z_min + offset) for steep f."""
    if not log:
        return np.asarray(z, dtype=np.float64)
    # The offset keeps the minimum itself finite: a small fraction of the range.
    offset = max((z_max - z_min) * 1e-6, 1e-12)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.log10(np.maximum(np.asarray(z, dtype=np.float64) - z_min, 0.0) + offset)


def validate_domain(domain: Domain) -> Domain:
    """Check xmin < xmax and ymin < ymax, all finite; raise ValueError with a plain message."""
    xmin, xmax, ymin, ymax = (float(v) for v in domain)
    if not all(np.isfinite([xmin, xmax, ymin, ymax])):
        raise ValueError("the domain needs four finite numbers")
    if not xmin < xmax:
        raise ValueError(f"x min ({xmin:g}) must be below x max ({xmax:g})")
    if not ymin < ymax:
        raise ValueError(f"y min ({ymin:g}) must be below y max ({ymax:g})")
    return xmin, xmax, ymin, ymax


def sample_landscape(expression: Expression, domain: Domain, n: int = 256) -> LandscapeGrid:
    """Evaluate f on an n x n grid over the domain in one broadcast call."""
    xmin, xmax, ymin, ymax = validate_domain(domain)
    xs = np.linspace(xmin, xmax, n)
    ys = np.linspace(ymin, ymax, n)
    z = np.asarray(expression.evaluate_numpy(xs[:, None], ys[None, :]), dtype=np.float64)
    z = np.broadcast_to(z, (n, n)).copy()
    finite = np.isfinite(z)
    z[~finite] = np.nan
    count = int(finite.sum())
    if count == 0:
        return LandscapeGrid((xmin, xmax, ymin, ymax), xs, ys, z, 0.0, 0.0, 0.0, False)
    values = z[finite]
    z_min, z_max = float(values.min()), float(values.max())
    low, high = np.percentile(values, [5.0, 50.0])
    spread = float(high - low)
    suggest_log = bool(z_max - z_min > _LOG_SPREAD_RATIO * max(spread, 1e-300))
    return LandscapeGrid(
        (xmin, xmax, ymin, ymax), xs, ys, z, z_min, z_max, count / z.size, suggest_log
    )


def contour_levels(grid: LandscapeGrid, count: int = 14, log: bool = False) -> FloatArray:
    """count levels evenly spaced on the display scale, strictly inside its range."""
    display = grid.transformed(log)
    finite = display[np.isfinite(display)]
    if finite.size == 0:
        return np.empty(0)
    low, high = float(finite.min()), float(finite.max())
    if high <= low:
        return np.empty(0)
    return np.linspace(low, high, count + 2)[1:-1]
