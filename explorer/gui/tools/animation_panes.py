"""The animation's data pane: the data view beside the map and the loss plot (issue 18).

A model on data (FitPane) shows its points and, for every path, the model's curve at the path's
row for the frame (a model's path is its two parameters), in the path's colour, so the fit
visibly improves; a minibatch path's batch of the step in orange, as the window shows it. A
network (RegionsPane) shows its data over its decision regions at the parameters its training
had at the frame's step: a coarse grid (PANE_GRID a side, fewer for a large network: see
pane_grid) evaluated in one batched call per frame, on a network of the pane's own (the
window's stays as it is).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np
import pyqtgraph as pg
from numpy.typing import NDArray
from PySide6.QtWidgets import QWidget

from explorer.gui.model.colors import RGB
from explorer.gui.views.data_view import DataView, Predict, fit_curve
from explorer.gui.views.decision_view import DecisionView

if TYPE_CHECKING:
    from explorer.core.network import NetProblem, NetSpec
    from explorer.gui.engine.network_job import Regions

FloatArray = NDArray[np.float64]

__all__ = ["MIN_PANE_GRID", "PANE_GRID", "PANE_WORK", "DataPane", "FitPane", "FitPaneView",
           "PaneView", "PanesWanted", "RegionsPane", "RegionsPaneView", "make_pane_view",
           "pane_grid", "regions_pane"]

# The regions' grid a side in a frame: coarser than the window's (engine.network_job's 80), as
# every frame evaluates it.
PANE_GRID = 64
# ...and never more multiply-adds than this a frame (points times parameters): the frames are
# drawn on the GUI thread, a few at a time between events.
PANE_WORK = 50_000_000
MIN_PANE_GRID = 12
# The pane's y range: the data's, this fraction of its span wider on each side (a curve far off,
# as a diverging fit's, leaves the points where they are).
_PAD = 0.08
_TITLE = "9pt"


@dataclass(frozen=True, eq=False)
class FitPane:
    """A model's data and its predict(p1, p2, x): each path's rows are its parameters."""

    x: FloatArray
    y: FloatArray
    predict: Predict
    x_label: str = "x"
    y_label: str = "y"
    # A minibatch path's rows of each step (step k's at index k - 1; none: no batch shown) and
    # which of the scene's paths took them (its index).
    batches: Sequence[NDArray[np.int64]] = ()
    batch_path: int = 0

    def __post_init__(self) -> None:
        if len(self.x) != len(self.y) or len(self.x) == 0:
            raise ValueError(f"a fit pane needs as many y as x values, at least one "
                             f"({len(self.x)} x, {len(self.y)} y)")
        if self.batch_path < 0:
            raise ValueError(f"the batches' path must be an index, not {self.batch_path}")
        for rows in self.batches:
            if len(rows) and not (0 <= int(np.min(rows)) and int(np.max(rows)) < len(self.x)):
                raise ValueError(f"a batch's rows must be 0 to {len(self.x) - 1}")

    def batch_at(self, row: int) -> NDArray[np.int64] | None:
        """The rows of the step that led to the path's row (None at the start or past the
        batches)."""
        return self.batches[row - 1] if 1 <= row <= len(self.batches) else None


@dataclass(frozen=True, eq=False)
class RegionsPane:
    """A network's data and the parameters its training had after each step (row k: step k),
    which one of the scene's paths follows (path: its index in the scene)."""

    features: FloatArray  # (n, 2)
    labels: FloatArray  # (n,)
    names: tuple[str, ...]
    spec: NetSpec
    parameters: FloatArray  # (rows, parameter count)
    path: int = 0
    grid: int = 0  # points a side; 0: pane_grid's for the network's size

    def __post_init__(self) -> None:
        if self.features.ndim != 2 or self.features.shape[1] != self.spec.inputs \
                or len(self.labels) != len(self.features):
            raise ValueError(f"expected {self.spec.inputs} features and a label a row, got "
                             f"features shaped {self.features.shape}, {len(self.labels)} labels")
        if self.parameters.ndim != 2 or len(self.parameters) == 0 \
                or self.parameters.shape[1] != self.spec.parameter_count:
            raise ValueError(f"expected rows of {self.spec.parameter_count} parameters, got "
                             f"an array shaped {self.parameters.shape}")
        if self.grid != 0 and not 2 <= self.grid <= 1024:
            raise ValueError(f"the regions' grid must be 2 to 1024 points a side (0: by the "
                             f"network's size), not {self.grid}")

    @property
    def points(self) -> int:
        """The regions' grid a side: the one given, else pane_grid's."""
        return self.grid or pane_grid(self.spec.parameter_count)

    def row(self, step: int) -> int:
        """The parameters' row drawn at a step: the step's own, the last past the end."""
        return min(max(step, 0), len(self.parameters) - 1)


DataPane = FitPane | RegionsPane


class PanesWanted(Protocol):
    """What takes a mode's data pane: File > Export animation… (a protocol, so that the modes
    need not import the export, which imports them)."""

    def add_data(self, data: Callable[[Sequence[int]], DataPane | None]) -> None:
        """Draw the pane data(path ids) gives beside the map."""


def regions_pane(features: FloatArray, labels: FloatArray, names: tuple[str, ...], spec: NetSpec,
                 parameters: FloatArray, rows: int, path: int = 0) -> RegionsPane | None:
    """The regions pane of a training's first rows of parameters (row k after step k: those of
    the projected path, which ends at a diverged run's last finite row); None where the data has
    not two features to shade a plane over."""
    from explorer.gui.engine.network_job import region_box

    if region_box(features) is None:
        return None
    return RegionsPane(features, labels, names, spec, parameters[:rows], path=path)


class FitPaneView:
    """The data view with one curve per path at the path's row for the frame."""

    def __init__(self, pane: FitPane, paths: Sequence[FloatArray], colors: Sequence[RGB]) -> None:
        self.pane = pane
        self._paths = paths
        self.view = DataView()
        self.view.set_data(pane.x, pane.y, pane.predict, pane.y_label)
        plot = self.view.plot_widget()
        plot.getPlotItem().setLabel("bottom", pane.x_label)
        self.curves = [pg.PlotDataItem(pen=pg.mkPen(color, width=2)) for color in colors]
        for curve in self.curves:
            plot.addItem(curve)
        # The range the data take, kept while the curves move.
        xs, _ = fit_curve(pane.x, pane.predict, (0.0, 0.0))
        low, high = float(np.min(pane.y)), float(np.max(pane.y))
        pad = _PAD * (high - low) if high > low else 1.0
        box = plot.getPlotItem().getViewBox()
        box.setRange(xRange=(xs[0], xs[-1]), yRange=(low - pad, high + pad), padding=0)
        box.disableAutoRange()
        plot.getPlotItem().setTitle("The data and the fit at the step", size=_TITLE)
        self.widget: QWidget = self.view

    def draw(self, step: int) -> None:
        """Each path's curve at its row for this step (a shorter path: its last row), and the
        batch that led there."""
        for xy, curve in zip(self._paths, self.curves, strict=True):
            p1, p2 = xy[min(step, len(xy) - 1)]
            curve.setData(*fit_curve(self.pane.x, self.pane.predict, (float(p1), float(p2))),
                          connect="finite")
        if self.pane.batches:
            path = self._paths[self.pane.batch_path]
            self.view.set_batch(self.pane.batch_at(min(step, len(path) - 1)))


class RegionsPaneView:
    """The decision view shaded by the network at the parameters of the frame's step."""

    def __init__(self, pane: RegionsPane) -> None:
        from explorer.core.network import NetProblem
        from explorer.gui.engine.network_job import region_box

        self.pane = pane
        self._box = region_box(pane.features)
        # A network of its own: setting the window's would change what its views evaluate.
        self._problem: NetProblem = NetProblem(pane.spec, pane.features, pane.labels, 0)
        self.view = DecisionView()
        self.view.set_data(pane.features, pane.labels, pane.names)
        if self._box is not None:  # the regions' box, kept while the shading changes
            box = self.view.plot_widget().getPlotItem().getViewBox()
            box.setRange(xRange=self._box[:2], yRange=self._box[2:], padding=0)
            box.disableAutoRange()
        self.regions: Regions | None = None
        self._row = -1
        self.view.plot_widget().getPlotItem().setTitle(
            "The network at the step: blue -1, red +1", size=_TITLE)
        self.widget: QWidget = self.view

    def draw(self, step: int) -> None:
        """Shade the network's output at the parameters of this step's row."""
        import torch

        from explorer.gui.engine.network_job import regions_of

        row = self.pane.row(step)
        if row == self._row:
            return  # drawn already
        self._row = row
        self._problem.set_parameters(torch.from_numpy(self.pane.parameters[row].copy()))
        self.regions = regions_of(self._problem, self._box, self.pane.points)
        self.view.set_regions(None if self.regions is None else
                              (self.regions.xs, self.regions.ys, self.regions.values))


PaneView = FitPaneView | RegionsPaneView


def make_pane_view(pane: DataPane, paths: Sequence[FloatArray],
                   colors: Sequence[RGB]) -> PaneView:
    """The pane's view for a scene's paths (points (n, 2) each) drawn in these colours."""
    if isinstance(pane, FitPane):
        if pane.batches and pane.batch_path >= len(paths):
            raise ValueError(f"the batches follow path {pane.batch_path}, of {len(paths)}")
        return FitPaneView(pane, paths, colors)
    if not 0 <= pane.path < len(paths):
        raise ValueError(f"the regions follow path {pane.path}, of {len(paths)}")
    return RegionsPaneView(pane)


def pane_grid(parameters: int) -> int:
    """The regions' points a side for a network of this many parameters: PANE_GRID, fewer
    where PANE_WORK would be passed, never below MIN_PANE_GRID."""
    fits = int((PANE_WORK / max(parameters, 1)) ** 0.5)
    return max(MIN_PANE_GRID, min(PANE_GRID, fits))
