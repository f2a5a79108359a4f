"""What is on screen: a landscape (a function f(x, y) or a model on data), its domain and grid."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np

from explorer.core.landscape import (
    Domain,
    FunctionLandscape,
    Landscape,
    LandscapeGrid,
    Objective,
    sample_landscape,
)
from explorer.gui.model.axis_names import FUNCTION_AXES, AxisNames

if TYPE_CHECKING:
    import torch

    from explorer.core.expression import Expression

GRID_SIZE = 256


class Descendable(Protocol):
    """What the descent worker runs: a name for the runs and a differentiable objective."""

    @property
    def text(self) -> str:
        """The name the runs carry: the formula, or the model on its data."""
        ...

    def evaluate(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """The objective at points (x, y), differentiable."""
        ...


@dataclass(frozen=True, eq=False)
class LandscapeTarget:
    """Any landscape as the worker's descendable: its name and its objective."""

    landscape: Landscape

    @property
    def text(self) -> str:
        """The landscape's name."""
        return self.landscape.name

    def evaluate(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """The landscape's objective."""
        objective: Objective = self.landscape.objective
        return objective(x, y)


def quiet_landscape(expression: Expression, domain: Domain, n: int = GRID_SIZE) -> LandscapeGrid:
    """Sample f on the grid; log of a negative and friends give NaN gaps, not warnings."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return sample_landscape(expression, domain, n)


class Document:
    """What the window draws and descends: a landscape, its domain and, once sampled, its grid.

    A function is a FunctionLandscape (expression is its f); a model on data is any other
    Landscape (expression is None: the tools that need a formula stay off).
    """

    def __init__(self) -> None:
        self.landscape: Landscape | None = None
        self.domain: Domain = (-1.0, 1.0, -1.0, 1.0)
        self.grid: LandscapeGrid | None = None

    @property
    def expression(self) -> Expression | None:
        """The function's expression; None for a model on data or nothing yet."""
        landscape = self.landscape
        return landscape.expression if isinstance(landscape, FunctionLandscape) else None

    @property
    def is_model(self) -> bool:
        """True when a model on data, not a typed function, is on screen."""
        return self.landscape is not None and not isinstance(self.landscape, FunctionLandscape)

    @property
    def axis_names(self) -> AxisNames:
        """What the axes and the value are called: x, y, f(x, y), or a model's parameters, loss."""
        from explorer.core.model_landscape import ModelLandscape

        if isinstance(self.landscape, ModelLandscape):
            return AxisNames(*self.landscape.model.params, "loss")
        return FUNCTION_AXES

    def set(self, expression: Expression, domain: Domain, grid: LandscapeGrid | None) -> None:
        """Show this function (grid None: not sampled yet, the engine is loading)."""
        # Built directly: the domain was validated by the panel, the minima are the tools'.
        self.landscape = FunctionLandscape(expression, domain, expression.text)
        self.domain, self.grid = domain, grid

    def set_landscape(self, landscape: Landscape, grid: LandscapeGrid | None) -> None:
        """Show any landscape over its own domain (a model on data)."""
        self.landscape, self.domain, self.grid = landscape, landscape.domain, grid

    def target(self) -> Descendable | None:
        """What a click descends: the expression, or the landscape's objective; None if empty."""
        if self.landscape is None:
            return None
        expression = self.expression
        return expression if expression is not None else LandscapeTarget(self.landscape)

    def values_at(self, xy: np.ndarray) -> np.ndarray:
        """The landscape at points (n, 2), NaN where it is undefined (f by numpy, no torch)."""
        if len(xy) == 0 or self.landscape is None:
            return np.full(len(xy), np.nan)
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            try:
                values = self._values(np.asarray(xy, dtype=np.float64))
            except (ArithmeticError, ValueError, TypeError):
                return np.full(len(xy), np.nan)
        return np.broadcast_to(np.asarray(values, dtype=np.float64), (len(xy),)).copy()

    def _values(self, xy: np.ndarray) -> np.ndarray:
        expression = self.expression
        if expression is not None:
            return np.asarray(expression.evaluate_numpy(xy[:, 0], xy[:, 1]))
        import torch  # a model is shown only once the engine (torch) has loaded

        assert self.landscape is not None
        with torch.no_grad():
            points = torch.as_tensor(xy, dtype=torch.float64)
            return self.landscape.loss(points).numpy()
