"""Landscapes: what every view, tool and command draws and descends, and f sampled on a grid.

Landscape is the protocol; FunctionLandscape (f(x, y) typed by the user or a preset) is the
first to satisfy it. A 2-parameter model on data and a 2-D slice of a network's loss will be
others: each gives a name, a domain, values on a grid, a differentiable loss of (N, 2) points,
its known minima and the objective the optimisers descend.
"""

from __future__ import annotations

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
