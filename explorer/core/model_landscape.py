"""A model on data as a landscape: its full-data mean loss over its two parameters (issue 15).

ModelLandscape satisfies core.landscape.Landscape, so the views draw it and the engine, race
and sweep descend it as they do f(x, y). The linear model's loss is a quadratic in (w, b)
(deeplinear's in w1*w2) whose coefficients are a few sums of the data, so their grids cost
nothing per row; the other models are evaluated on the rows, a chunk of points at a time.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from explorer.core.landscape import (
    Domain,
    LandscapeGrid,
    Objective,
    grid_of_values,
    validate_domain,
)
from explorer.core.presets import Minimum
from explorer.core.trajectory import FloatArray

if TYPE_CHECKING:
    import torch

    from explorer.core.models import ModelSpec
    from explorer.io.dataset_csv import Dataset

# Parameter points x rows evaluated at once (32 MiB of float64): bounds the grid's memory.
_CHUNK_ELEMENTS = 1 << 22
# Rows used to look for the minimum that the domain is centred on (the other models).
_SEARCH_ROWS = 10_000


class GridCancelled(Exception):
    """should_stop() asked a grid's computation to end before it was done."""


class _LinearSums:
    """The loss of a line (linear) or of a line through 0 (deeplinear) from a few sums.

    linear: mean((w x + b - y)^2) = R + Vxx (w - w*)^2 + (w mean(x) + b - mean(y))^2 with
    centred sums (Vxx, and R the variance left by the best slope w*). deeplinear, slope
    c = w1 w2 and no offset: mean((c x - y)^2) = R0 + Sxx (c - c*)^2 with raw second moments.
    Every term is >= 0, so the loss near the minimum keeps its digits, where expanding the
    square in raw sums cancels them.
    """

    def __init__(self, x: FloatArray, y: FloatArray, through_origin: bool) -> None:
        self.through_origin = through_origin
        # Data near float64's limit overflows the sums: the loss is then inf or NaN there, a
        # gap in the drawing, as f(x, y) that overflows.
        with np.errstate(over="ignore", invalid="ignore"):
            self.x_mean = 0.0 if through_origin else float(x.mean())
            self.y_mean = 0.0 if through_origin else float(y.mean())
            u = x - self.x_mean
            v = y - self.y_mean
            self.vxx = float(np.mean(u * u))
            self.slope = float(np.mean(u * v)) / self.vxx if self.vxx > 0 else 0.0
            self.residual = float(np.mean((v - self.slope * u) ** 2))

    def loss(self, p1: torch.Tensor, p2: torch.Tensor) -> torch.Tensor:
        """The full-data mean squared error at (p1, p2), differentiable, any matching shapes."""
        if self.through_origin:
            return self.residual + self.vxx * (p1 * p2 - self.slope) ** 2
        offset = p1 * self.x_mean + p2 - self.y_mean
        return self.residual + self.vxx * (p1 - self.slope) ** 2 + offset * offset


class ModelLandscape:
    """The full-data mean loss of a two-parameter model over its parameters."""

    def __init__(self, model: ModelSpec, data: Dataset, domain: Domain | None = None) -> None:
        import torch

        if len(data.x) == 0:
            raise ValueError("a model landscape needs at least one data row")
        self.model = model
        self.data = data
        self.x = torch.from_numpy(np.ascontiguousarray(data.x, dtype=np.float64))
        self.y = torch.from_numpy(np.ascontiguousarray(data.y, dtype=np.float64))
        self._sums = (
            _LinearSums(data.x, data.y, model.name == "deeplinear")
            if model.name in ("linear", "deeplinear")
            else None
        )
        self._best: tuple[float, float] | None = None
        self.domain: Domain = validate_domain(domain) if domain else self._choose_domain()

    @property
    def name(self) -> str:
        """What the user calls it: 'linear on regression'."""
        return f"{self.model.name} on {self.data.name}"

    @property
    def from_sums(self) -> bool:
        """True when the full-data loss costs a few operations per point, not a pass per point."""
        return self._sums is not None

    @property
    def known_minima(self) -> tuple[Minimum, ...]:
        """The least-squares point for linear; () for the others (none known in closed form)."""
        best = self.best_fit()
        if best is None:
            return ()
        loss = float(self.losses(np.array([best]))[0])
        # Data near float64's limit: no finite fit or loss to mark.
        return (Minimum(*best, loss),) if math.isfinite(loss) else ()

    def objective(self, p1: torch.Tensor, p2: torch.Tensor) -> torch.Tensor:
        """The full-data mean loss at each parameter point, differentiable: (N,) -> (N,)."""
        if self._sums is not None:
            return self._sums.loss(p1, p2)
        return self.model.loss(p1, p2, self.x, self.y)

    def batch_objective(self, rows: np.ndarray) -> Objective:
        """The mean loss over those rows only (a minibatch), as an objective of (p1, p2)."""
        import torch

        index = torch.from_numpy(np.asarray(rows, dtype=np.int64))
        x, y = self.x[index], self.y[index]
        model = self.model

        def objective(p1: torch.Tensor, p2: torch.Tensor) -> torch.Tensor:
            return model.loss(p1, p2, x, y)

        return objective

    def loss(self, points: torch.Tensor) -> torch.Tensor:
        """The full-data loss at every row of points (N, 2), shaped (N,), differentiable."""
        return self.objective(*points.unbind(1))

    def losses(
        self, points: FloatArray, should_stop: Callable[[], bool] | None = None
    ) -> FloatArray:
        """The full-data loss at every row of points (N, 2), without gradients, in chunks;
        should_stop() is asked before each chunk (True: GridCancelled)."""
        import torch

        p = torch.from_numpy(np.ascontiguousarray(points, dtype=np.float64).reshape(-1, 2))
        out = torch.empty(len(p), dtype=torch.float64)
        chunk = len(p) if self._sums is not None else max(1, _CHUNK_ELEMENTS // len(self.x))
        with torch.no_grad():
            for start in range(0, len(p), chunk):
                if should_stop is not None and should_stop():
                    raise GridCancelled(f"stopped after {start} of {len(p)} points")
                part = p[start : start + chunk]
                out[start : start + chunk] = self.objective(part[:, 0], part[:, 1])
        return out.numpy()

    def grid(self, n: int, should_stop: Callable[[], bool] | None = None) -> LandscapeGrid:
        """The loss on an n x n grid over the domain (z[i, j] at (xs[i], ys[j])); should_stop
        can end it early (GridCancelled)."""
        xmin, xmax, ymin, ymax = self.domain
        xs = np.linspace(xmin, xmax, n)
        ys = np.linspace(ymin, ymax, n)
        p1, p2 = np.meshgrid(xs, ys, indexing="ij")
        points = np.stack((p1.ravel(), p2.ravel()), axis=1)
        z = self.losses(points, should_stop).reshape(n, n).copy()
        return grid_of_values(self.domain, xs, ys, z)

    def sample(self, n: int = 256) -> LandscapeGrid:
        """The Landscape protocol's name for grid."""
        return self.grid(n)

    def best_fit(self) -> tuple[float, float] | None:
        """linear: the least-squares (w, b) by numpy.linalg.lstsq; None for the other models."""
        if self.model.name != "linear":
            return None
        if self._best is None:
            x = self.data.x
            design = np.column_stack((x, np.ones_like(x)))
            try:
                with np.errstate(over="ignore", invalid="ignore"):
                    (w, b), *_ = np.linalg.lstsq(design, self.data.y, rcond=None)
            except np.linalg.LinAlgError:  # data near float64's limit: no fit to show
                w, b = math.nan, math.nan
            self._best = (float(w), float(b))
        return self._best

    def _choose_domain(self) -> Domain:
        """A rectangle around the best fit (or a minimum found from the start) with the start."""
        start = self.model.default_start
        if self._sums is not None and self._sums.through_origin:
            return self._valley_domain(start)
        centre = self.best_fit() or self._search_minimum(start)
        if not all(math.isfinite(v) for v in centre):
            centre = start
        halves = [
            max(1.0, 1.3 * abs(c - s), 0.5 * abs(c)) for c, s in zip(centre, start, strict=True)
        ]
        box = (centre[0] - halves[0], centre[0] + halves[0], centre[1] - halves[1])
        try:
            return validate_domain((*box, centre[1] + halves[1]))
        except ValueError:  # data so large that the box overflows: show the start's square
            return (start[0] - 1.0, start[0] + 1.0, start[1] - 1.0, start[1] + 1.0)

    def _valley_domain(self, start: tuple[float, float]) -> Domain:
        """deeplinear: a square about its saddle, the origin, that holds the start and the
        valley of minima w1 * w2 = c where it bends nearest the origin, (+-sqrt|c|, +-sqrt|c|).

        (A minimum searched from the default start is no centre here: gradient flow keeps
        w1^2 - w2^2, so from (0.5, -0.5) it runs into the saddle, and the map missed the valley.)
        """
        assert self._sums is not None
        slope = self._sums.slope
        root = math.sqrt(abs(slope)) if math.isfinite(slope) else 0.0
        half = max(1.0, 1.5 * max(abs(v) for v in start), 2.0 * root)
        try:
            return validate_domain((-half, half, -half, half))
        except ValueError:  # a slope near float64's limit: show the start's square
            return (start[0] - 1.0, start[0] + 1.0, start[1] - 1.0, start[1] + 1.0)

    def _search_minimum(self, start: tuple[float, float]) -> tuple[float, float]:
        """A minimum L-BFGS finds from the start on up to _SEARCH_ROWS evenly spaced rows."""
        import torch

        from explorer.core.precision import float64_defaults

        step = max(1, len(self.x) // _SEARCH_ROWS)
        x, y = self.x[::step], self.y[::step]
        p = torch.tensor(start, dtype=torch.float64, requires_grad=True)
        with float64_defaults():
            optimizer: torch.optim.Optimizer = torch.optim.LBFGS(
                [p], max_iter=200, line_search_fn="strong_wolfe"
            )

            def closure() -> float:
                optimizer.zero_grad()
                loss = self.model.loss(p[0], p[1], x, y)
                torch.autograd.backward(loss)
                return float(loss.detach())

            optimizer.step(closure)
        w, b = p.detach().tolist()
        return float(w), float(b)
