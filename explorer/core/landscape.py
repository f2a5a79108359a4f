"""Landscapes: what every view, tool and command draws and descends, and f sampled on a grid.

Landscape is the protocol; FunctionLandscape (f(x, y) typed by the user or a preset) is the
first to satisfy it. A 2-parameter model on data and a 2-D slice of a network's loss will be
others: each gives a name, a domain, values on a grid, a differentiable loss of (N, 2) points,
its known minima and the objective the optimisers descend.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from explorer.core.presets import Minimum, Preset, presets
from explorer.core.trajectory import FloatArray

if TYPE_CHECKING:
    import torch

    from explorer.core.expression import Expression

Domain = tuple[float, float, float, float]
# f(x, y) on tensors, differentiable: what core.descent, basin, race and sweep descend.
Objective = Callable[["torch.Tensor", "torch.Tensor"], "torch.Tensor"]

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
    # The share of the grid where f is infinite (it overflows float64, or 1/x at 0): a gap too.
    infinite_fraction: float = 0.0

    @property
    def has_gaps(self) -> bool:
        """True when f is NaN or infinite somewhere on the grid."""
        return self.finite_fraction < 1.0

    def gaps_text(self) -> str:
        """What the gaps are, in words: 'f is undefined', 'f overflows', both, or '' if none."""
        undefined = self.finite_fraction + self.infinite_fraction < 1.0
        if not self.infinite_fraction:
            return "f is undefined" if undefined else ""
        overflows = "f overflows (infinite or too large for float64)"
        return f"{overflows} or is undefined" if undefined else overflows

    def transformed(self, log: bool) -> FloatArray:
        """z for colouring: as is, or log10 of the height above the minimum (NaN stays NaN)."""
        return to_display(self.z, self.z_min, self.z_max, log)


def to_display(z: FloatArray, z_min: float, z_max: float, log: bool) -> FloatArray:
    """Map f values to the display scale: linear, or log10(f - z_min + offset) for steep f.

    Where f's range itself overflows float64 (f from -1e308 to 1e308), the linear scale is
    clipped to half of it at each end (the colours saturate there): a drawing library handed
    an infinite range fails, and pyqtgraph's colour bar crashes the process.
    """
    values = np.asarray(z, dtype=np.float64)
    if not log:
        if math.isfinite(z_max - z_min):
            return values
        with np.errstate(invalid="ignore"):
            return np.clip(values, z_min / 2, z_max / 2)
    # The offset keeps the minimum itself finite: a small fraction of the range. Halves, so
    # that f - z_min cannot overflow: log10(f - z_min + offset) = log10(half) + log10(2).
    offset = max(z_max * 0.5e-6 - z_min * 0.5e-6, 0.5e-12)
    with np.errstate(invalid="ignore", divide="ignore"):
        half = np.maximum(values / 2 - z_min / 2, 0.0)
        return np.log10(half + offset) + math.log10(2.0)


def validate_domain(domain: Domain) -> Domain:
    """Check xmin < xmax and ymin < ymax, all finite, with finite widths; raise ValueError."""
    xmin, xmax, ymin, ymax = (float(v) for v in domain)
    if not all(np.isfinite([xmin, xmax, ymin, ymax])):
        raise ValueError("the domain needs four finite numbers")
    if not xmin < xmax:
        raise ValueError(f"x min ({xmin:g}) must be below x max ({xmax:g})")
    if not ymin < ymax:
        raise ValueError(f"y min ({ymin:g}) must be below y max ({ymax:g})")
    wide = domain_too_wide((xmin, xmax, ymin, ymax))
    if wide:
        raise ValueError(wide)
    return xmin, xmax, ymin, ymax


def domain_too_wide(domain: Domain) -> str:
    """Why a domain cannot be sampled: its width overflows float64 ('' when it can)."""
    xmin, xmax, ymin, ymax = domain
    # Python floats: xmax - xmin overflows to inf quietly, where numpy's linspace would warn.
    for name, low, high in (("x", xmin, xmax), ("y", ymin, ymax)):
        if not math.isfinite(high - low):
            return (
                f"the domain is too wide to sample: the width of {name} ({high:g} - {low:g}) "
                "overflows float64"
            )
    return ""


def sample_landscape(expression: Expression, domain: Domain, n: int = 256) -> LandscapeGrid:
    """Evaluate f on an n x n grid over the domain in one broadcast call."""
    xmin, xmax, ymin, ymax = validate_domain(domain)
    xs = np.linspace(xmin, xmax, n)
    ys = np.linspace(ymin, ymax, n)
    z = np.asarray(expression.evaluate_numpy(xs[:, None], ys[None, :]), dtype=np.float64)
    return grid_of_values((xmin, xmax, ymin, ymax), xs, ys, np.broadcast_to(z, (n, n)).copy())


def grid_of_values(domain: Domain, xs: FloatArray, ys: FloatArray, z: FloatArray) -> LandscapeGrid:
    """The grid of values z[i, j] = f(xs[i], ys[j]) (z is modified): gaps to NaN, its range."""
    xmin, xmax, ymin, ymax = domain
    finite = np.isfinite(z)
    infinite = float(np.isinf(z).mean())
    z[~finite] = np.nan
    count = int(finite.sum())
    if count == 0:
        return LandscapeGrid((xmin, xmax, ymin, ymax), xs, ys, z, 0.0, 0.0, 0.0, False, infinite)
    values = z[finite]
    z_min, z_max = float(values.min()), float(values.max())
    # Differences of values near +-1e308 overflow: inf, quietly (a huge range, so log colours).
    with np.errstate(over="ignore", invalid="ignore"):
        low, high = np.percentile(values, [5.0, 50.0])
        spread = float(high - low)
    suggest_log = bool(z_max - z_min > _LOG_SPREAD_RATIO * max(spread, 1e-300))
    return LandscapeGrid(
        (xmin, xmax, ymin, ymax), xs, ys, z, z_min, z_max, count / z.size, suggest_log, infinite
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


@runtime_checkable
class Landscape(Protocol):
    """A loss over two parameters: drawn by the views, descended by the engine and the CLI."""

    @property
    def name(self) -> str:
        """What the user calls it: a preset's name or the formula."""
        ...

    @property
    def domain(self) -> Domain:
        """The rectangle shown and sampled: xmin, xmax, ymin, ymax."""
        ...

    @property
    def known_minima(self) -> tuple[Minimum, ...]:
        """Its published global minima; () when none are known."""
        ...

    @property
    def objective(self) -> Objective:
        """What the optimisers descend: f(x, y) on tensors, differentiable."""
        ...

    def sample(self, n: int = 256) -> LandscapeGrid:
        """Its values on an n x n grid over the domain."""
        ...

    def loss(self, points: torch.Tensor) -> torch.Tensor:
        """The value at every row of an (N, 2) tensor, shaped (N,), differentiable."""
        ...


@dataclass(frozen=True, eq=False)
class FunctionLandscape:
    """f(x, y) as a landscape: a parsed expression over a domain, with any known minima."""

    expression: Expression
    domain: Domain
    name: str
    known_minima: tuple[Minimum, ...] = ()

    @classmethod
    def from_expression(
        cls, expression: Expression, domain: Domain, *, name: str = ""
    ) -> FunctionLandscape:
        """The landscape of expression; a preset's formula brings the preset's known minima."""
        minima = known_minima(expression.text)
        return cls(expression, validate_domain(domain), name or expression.text, minima)

    @classmethod
    def from_preset(cls, preset: Preset) -> FunctionLandscape:
        """A preset's function over its domain, with its known minima."""
        from explorer.core.expression import parse

        expression = parse(preset.formula)
        return cls(expression, validate_domain(preset.domain), preset.name, preset.minima)

    @property
    def objective(self) -> Objective:
        """The expression's torch evaluation, the objective the engine has always descended."""
        return self.expression.evaluate

    def sample(self, n: int = 256) -> LandscapeGrid:
        """f on an n x n grid over the domain (sample_landscape)."""
        return sample_landscape(self.expression, self.domain, n)

    def loss(self, points: torch.Tensor) -> torch.Tensor:
        """f at every row of points (N, 2), as the engine evaluates it."""
        return self.expression.evaluate(*points.unbind(1))


def known_minima(function: str) -> tuple[Minimum, ...]:
    """The known minima of the preset whose formula is exactly this text; () for any other."""
    text = function.strip()
    for preset in presets():
        if preset.formula.strip() == text:
            return preset.minima
    return ()
