"""Model on data in the window: the model panel, the data view, minibatch fits, batch losses.

The window hands clicks to ModelMode while a model is on screen: a full batch runs on the
descent worker like any function (the landscape's objective is the full-data loss); a
minibatch run is core.fitting.fit on a FitJob thread and comes back as a finished path, shown
as it animates, with the loss of each step's batch beside its full-data loss.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from numpy.typing import NDArray
from PySide6.QtCore import QObject, QSettings, Signal

from explorer.core.trajectory import RunSettings, Status, Trajectory
from explorer.gui.engine.fit_job import FitJob, FitRequest
from explorer.gui.engine.grid_job import GridJob
from explorer.gui.model.axis_names import FUNCTION_AXES, AxisNames
from explorer.gui.panels.model_panel import FitOptions, ModelPanel
from explorer.gui.views.batch_overlay import BATCH_GRID, BatchOverlay
from explorer.gui.views.data_view import DataView

if TYPE_CHECKING:
    from collections.abc import Sequence

    from explorer.core.fitting import FitResult
    from explorer.core.landscape import LandscapeGrid
    from explorer.core.model_landscape import ModelLandscape
    from explorer.gui.model.shown import ShownTrajectory
    from explorer.gui.parts import Parts
    from explorer.gui.tools.animation_panes import FitPane, PanesWanted
    from explorer.gui.views.surface_view import SurfaceView
    from explorer.io.session import ModelSource

# The model's landscape is sampled on this grid (its loss costs a pass over the data per point
# unless it comes from a few sums, as linear's does)...
MODEL_GRID = 128
# ...but never more row evaluations than this (a few seconds, off the GUI thread: GridJob).
MAX_GRID_WORK = 200_000_000
MIN_GRID = 24
# Drawn first, while the full grid computes: at once when it costs at most COARSE_WORK row
# evaluations (the bundled sets), else on the thread too, after an even coarser one.
COARSE_GRID = 24
FIRST_GRID = 8
COARSE_WORK = 2_000_000
_LSTSQ_BRUSH = (255, 255, 255)


@dataclass(frozen=True, eq=False)
class FitPath:
    """What a minibatch path adds to its trajectory: each step's batch loss and batch rows."""

    batch_loss: NDArray[np.float64]  # (steps + 1,): NaN at the start
    batches: tuple[NDArray[np.int64], ...]  # rows of step k at index k - 1


class ModelMode(QObject):
    """Shows a model on data and trains it where the user clicks."""

    model_shown = Signal()
    # The first grid of a model too large to draw at once arrived (the log scale follows it).
    grid_first_drawn = Signal()

    def __init__(self, parts: Parts, settings: QSettings, parent: QObject | None = None) -> None:
        super().__init__(parent)
        from explorer.io.dataset_csv import bundled_datasets

        self._parts = parts
        self.panel = ModelPanel(bundled_datasets(), settings)
        self.data_view = DataView()
        self.job = FitJob(self)
        self.grids = GridJob(self)
        self._grid_token = 0
        self.landscape: ModelLandscape | None = None
        self._fits: dict[int, FitPath] = {}
        self._batch_curves: dict[int, pg.PlotDataItem] = {}
        self._token = 0
        self._marker = pg.ScatterPlotItem(symbol="star", size=16, pen=pg.mkPen("k"),
                                          brush=pg.mkBrush(*_LSTSQ_BRUSH))
        self._marker.setZValue(50)
        self._marker.setToolTip("The least-squares fit (numpy.linalg.lstsq)")
        parts.contour.plot_widget().addItem(self._marker)
        self.batch_overlay = BatchOverlay(parts.contour.plot_widget())
        self._batch_rows: NDArray[np.int64] | None = None
        self.panel.batch_landscape_toggled.connect(self._on_batch_landscape_toggled)
        self.panel.model_requested.connect(self._on_model_requested)
        self.job.finished.connect(self._on_fit_finished)
        self.job.failed.connect(self._on_fit_failed)
        self.grids.coarse_ready.connect(self._on_grid_ready)
        self.grids.grid_ready.connect(self._on_grid_ready)
        self.grids.failed.connect(self._on_grid_failed)
        parts.runner.paths_removed.connect(self._on_paths_removed)

    # ----- showing a model ------------------------------------------------------------------

    @property
    def active(self) -> bool:
        """True while a model on data is on screen."""
        return self.landscape is not None and self._parts.document.landscape is self.landscape

    def show_model(self, model_name: str, path: str) -> bool:
        """Load the data and draw the model's loss; False (nothing changed) with a message."""
        from explorer.core.model_landscape import ModelLandscape
        from explorer.core.models import ModelError, get_model
        from explorer.io.dataset_csv import DataError, load_dataset

        parts = self._parts
        if not parts.runner.worker.is_ready:
            self.panel.show_error("The engine (torch) is still loading: try again in a moment.")
            return False
        try:
            spec = get_model(model_name)
            data = load_dataset(path, spec)
            landscape = ModelLandscape(spec, data)
            sizes = grid_sizes(landscape.data.n, landscape.from_sums)
            # A cheap first grid is drawn at once (all of it from a few sums, for linear).
            first = landscape.grid(sizes[0]) if _cheap(sizes[0], landscape) else None
        except (DataError, ModelError, ValueError) as error:
            self.panel.show_error(_one_line(str(error)))
            return False
        self.panel.clear_error()
        self.panel.data_accepted(path)
        self.job.cancel()
        self.grids.cancel()
        parts.runner.discard()
        self.landscape = landscape
        parts.document.set_landscape(landscape, first)
        self.apply_axis_names(parts.document.axis_names)
        self._grid_token += 1
        if first is not None:
            self.draw(first, first.suggest_log)
            sizes = sizes[1:]
        else:
            parts.contour.set_hint(f"Computing the loss over {', '.join(spec.params)} on "
                                   f"{data.n} rows…")
        if sizes:
            self.grids.compute(self._grid_token, landscape, sizes)
        self.data_view.set_data(data.x, data.y, spec.predict, spec.columns[1])
        best = landscape.best_fit()
        if best is not None:
            self._marker.setData([best[0]], [best[1]])
        else:
            self._marker.clear()
        parts.notifier.status_requested.emit(
            f"Drawn the loss of {spec.label} on {data.name} ({data.n} rows) over "
            f"{', '.join(spec.params)}: click to train from there", 10000)
        self.model_shown.emit()
        return True

    def _on_model_requested(self, model_name: str, path: str) -> None:
        self.show_model(model_name, path)

    def leave(self) -> None:
        """A function replaces the model: axes named x and y again, no data, no marker."""
        self.job.cancel()
        self.grids.cancel()
        self.landscape = None
        self._marker.clear()
        self.batch_overlay.clear()
        self.data_view.clear()
        self.apply_axis_names(FUNCTION_AXES)

    def draw(self, grid: LandscapeGrid, log: bool) -> None:
        """Draw a landscape's grid on the contour map and the surface."""
        from explorer.gui.views.contour_view import HINT

        parts = self._parts
        parts.contour.set_hint(HINT)
        parts.contour.set_landscape(grid, log)
        surface = self._surface()
        if surface is not None:
            surface.set_landscape(grid, log)

    def _on_grid_ready(self, token: int, grid: LandscapeGrid) -> None:
        """A finer grid of the model on screen: draw it on the scale the maps show."""
        if token != self._grid_token or not self.active:
            return  # a grid of a model shown before
        document = self._parts.document
        first = document.grid is None
        assert self.landscape is not None
        document.set_landscape(self.landscape, grid)
        self.draw(grid, grid.suggest_log if first else self._parts.contour.is_log_scale())
        if first:
            self.grid_first_drawn.emit()

    def _on_grid_failed(self, token: int, message: str) -> None:
        if token == self._grid_token:
            self._parts.notifier.error_requested.emit("The loss could not be computed", message)

    def grid_computing(self) -> bool:
        """True while a finer grid of the model on screen still computes."""
        return self.grids.running

    def apply_axis_names(self, names: AxisNames) -> None:
        """Every view, the controls' stopping rule and the runs table name the axes and the
        value alike."""
        self._parts.contour.set_axis_names(*names)
        self._parts.loss.set_axis_names(*names)
        self._parts.controls.set_axis_names(*names)
        self._parts.function.set_drawn(names == FUNCTION_AXES)
        surface = self._surface()
        if surface is not None:
            surface.set_axis_names(*names)
        runs = getattr(self._parts.host, "runs_panel", None)
        if runs is not None:
            runs.model().set_axis_names(*names)

    def _surface(self) -> SurfaceView | None:
        surface: SurfaceView | None = getattr(self._parts.host, "surface", None)
        return surface

    # ----- sessions -------------------------------------------------------------------------

    def source(self) -> ModelSource | None:
        """What a session stores of the model on screen: name, data file and its SHA-256."""
        from explorer.io.session import ModelSource

        if not self.active or self.landscape is None:
            return None
        data, options = self.landscape.data, self.options()
        path = str(Path(data.path).resolve()) if data.path is not None else data.name
        return ModelSource(self.landscape.model.name, path, data.sha256, options.batch_size,
                           options.epochs, options.seed)

    def check_source(self, source: ModelSource) -> str:
        """Why a session's data cannot be used ('' if it can): unreadable, bad, or changed."""
        from explorer.core.models import get_model
        from explorer.io.dataset_csv import DataError, load_dataset

        try:
            data = load_dataset(source.data, get_model(source.model))
        except (DataError, ValueError) as error:
            return f"its data file cannot be used: {_one_line(str(error))}"
        if data.sha256 != source.sha256:
            return (f"its data file {source.data} has changed since the session was saved "
                    f"(SHA-256 {data.sha256[:12]}…, the session expects {source.sha256[:12]}…)")
        return ""

    def restore_source(self, source: ModelSource) -> bool:
        """Show a session's model on its data, with its minibatch settings."""
        self.panel.select(source.model, source.data)
        self.panel.set_options(FitOptions(source.batch_size, source.epochs, source.seed))
        return self.show_model(source.model, source.data)

    # ----- training -------------------------------------------------------------------------

    def options(self) -> FitOptions:
        """The panel's batch size, epochs and seed."""
        return self.panel.options()

    def uses_minibatches(self) -> bool:
        """True when a click must run core.fitting.fit (a batch size is set)."""
        return self.active and self.options().batch_size is not None

    def start_fit(self, x: float, y: float) -> int | None:
        """Train from (x, y) with minibatches on a thread of its own; the fit's token (None:
        the settings cannot run, and a message says why)."""
        from explorer.core.budget import BudgetError
        from explorer.core.fitting import FitError, FitSettings, check_fit

        assert self.landscape is not None
        run = self._parts.controls.run_settings()
        options = self.options()
        settings = FitSettings(run.optimizer, run.lr, run.params, options.batch_size,
                               options.epochs, options.seed, run.tol, run.bound)
        try:
            steps = check_fit(self.landscape, (x, y), settings)
        except (FitError, BudgetError, ValueError) as error:
            self._parts.notifier.error_requested.emit("The training run cannot start",
                                                      _one_line(str(error)))
            return None
        self._token += 1
        names = self._parts.document.axis_names
        self.job.start(FitRequest(self._token, self.landscape, (x, y), settings, steps))
        self._parts.notifier.status_requested.emit(
            f"Training from {names.x} = {x:.4g}, {names.y} = {y:.4g} with batches of "
            f"{options.batch_size}…", 5000)
        return self._token

    def _on_fit_finished(self, token: int, result: FitResult) -> None:
        if not self.active:
            return
        trajectory, fit_path = self._trajectory(result)
        run = self._parts.controls.run_settings()
        settings = RunSettings(optimizer=run.optimizer, lr=run.lr, params=run.params,
                               steps=max(trajectory.steps, 1), tol=run.tol)
        runner = self._parts.runner
        (shown,) = runner.add_finished([trajectory], settings, imported=False)
        # The table says what core.fitting said: done (every epoch ran), converged, or
        # diverged with its reason in the fit's own words (|w| > 1e6, not |x|).
        shown.outcome = result.reason if result.status == "diverged" else result.status
        shown.outcome_why = "" if result.status == "diverged" else result.reason
        self._fits[shown.path_id] = fit_path
        # Revealed step by step at the path speed, as a run computed by the worker is.
        shown.shown = 1
        runner.scheduler.animate(shown.path_id)
        runner.scheduler.ensure_running()

    def _on_fit_failed(self, token: int, message: str) -> None:
        self._parts.notifier.error_requested.emit("The training run failed", message)

    def _trajectory(self, result: FitResult) -> tuple[Trajectory, FitPath]:
        """The fit as a trajectory (full-data loss and gradient per step) and its batches."""
        import torch

        assert self.landscape is not None
        params = np.asarray(result.params, dtype=np.float64)
        points = torch.tensor(params, dtype=torch.float64, requires_grad=True)
        loss = self.landscape.loss(points)
        (grad,) = torch.autograd.grad(loss.sum(), points)
        batch_loss = np.asarray(result.batch_loss, dtype=np.float64)  # NaN at the start
        status = _status(result)
        trajectory = Trajectory(
            params[:, 0].copy(), params[:, 1].copy(), np.asarray(result.loss, dtype=np.float64),
            grad[:, 0].numpy().copy(), grad[:, 1].numpy().copy(),
            optimizer=self._parts.controls.run_settings().optimizer,
            lr=self._parts.controls.run_settings().lr, status=status,
            function=self.landscape.name)
        batches = tuple(np.asarray(rows, dtype=np.int64) for rows in result.batches)
        return trajectory, FitPath(batch_loss, batches)

    # ----- drawing what the paths show ------------------------------------------------------

    def path_drawn(self, shown: ShownTrajectory) -> None:
        """A path moved: the batch loss curve follows it; the data view shows its current fit
        when it is the highlighted path (or the newest when none is)."""
        if not self.active:
            return
        fit = self._fits.get(shown.path_id)
        steps = shown.shown
        if fit is not None:
            self._draw_batch_loss(shown, fit.batch_loss[:steps])
        if not self._follows(shown.path_id) or steps == 0:
            return
        p1, p2 = shown.xy[steps - 1]
        self.data_view.set_fit((float(p1), float(p2)))
        rows = fit.batches[steps - 2] if fit is not None and 2 <= steps <= len(fit.batches) + 1 \
            else None
        self.data_view.set_batch(rows)
        self._batch_rows = rows
        self._draw_batch_landscape()

    def _on_batch_landscape_toggled(self, _on: bool) -> None:
        self._draw_batch_landscape()

    def _draw_batch_landscape(self) -> None:
        """The current minibatch's own loss on the map, when asked for and a step has one."""
        rows, landscape = self._batch_rows, self.landscape
        if (rows is None or landscape is None or not self.active
                or not self.panel.batch_landscape_check_box().isChecked()):
            self.batch_overlay.clear()
            return
        import torch

        xmin, xmax, ymin, ymax = landscape.domain
        xs, ys = np.linspace(xmin, xmax, BATCH_GRID), np.linspace(ymin, ymax, BATCH_GRID)
        p1, p2 = np.meshgrid(xs, ys, indexing="ij")
        with torch.no_grad():
            z = landscape.batch_objective(rows)(torch.from_numpy(p1.ravel()),
                                                torch.from_numpy(p2.ravel()))
        self.batch_overlay.show_grid(xs, ys, z.numpy().reshape(BATCH_GRID, BATCH_GRID))

    def _follows(self, path_id: int) -> bool:
        runs = getattr(self._parts.host, "runs_panel", None)
        selected = runs.selected_ids() if runs is not None else []
        if selected:
            return bool(path_id == selected[0])
        paths = self._parts.runner.store.paths
        return bool(paths) and path_id == max(paths)

    def _draw_batch_loss(self, shown: ShownTrajectory, values: NDArray[np.float64]) -> None:
        curve = self._batch_curves.get(shown.path_id)
        if curve is None:
            pen = pg.mkPen(shown.color, width=1, style=pg.QtCore.Qt.PenStyle.DotLine)
            curve = pg.PlotDataItem(pen=pen, name=f"#{shown.path_id} batch")
            curve.setZValue(-1)  # under the full-data loss
            self._parts.loss.plot_widget().addItem(curve)
            self._batch_curves[shown.path_id] = curve
        steps = np.arange(len(values), dtype=np.float64)
        curve.setData(steps, self._parts.loss.display_values(values), connect="finite")

    def batch_curve(self, path_id: int) -> pg.PlotDataItem | None:
        """The batch-loss curve of a minibatch path (for tests)."""
        return self._batch_curves.get(path_id)

    def fit_path(self, path_id: int) -> FitPath | None:
        """The batches of a minibatch path."""
        return self._fits.get(path_id)

    # ----- the animation --------------------------------------------------------------------

    def attach_animation(self, export: PanesWanted) -> None:
        """File > Export animation… draws the data view beside the map while a model is on
        screen: the points and each path's curve at the frame's parameters."""
        export.add_data(self.data_pane)

    def data_pane(self, path_ids: Sequence[int]) -> FitPane | None:
        """The data and the model's predict for an animation's data pane (None: no model on
        screen), with the batches of the first minibatch path among these; every path on a
        model's map is its parameters."""
        from explorer.gui.tools.animation_panes import FitPane

        if not self.active or self.landscape is None or self.landscape.data.n == 0:
            return None
        data, model = self.landscape.data, self.landscape.model
        index = next((i for i, path_id in enumerate(path_ids) if path_id in self._fits), None)
        batches = self._fits[path_ids[index]].batches if index is not None else ()
        return FitPane(data.x, data.y, model.predict, *model.columns, batches=batches,
                       batch_path=index or 0)

    def _on_paths_removed(self, path_ids: list[int]) -> None:
        for path_id in path_ids:
            self._fits.pop(path_id, None)
            curve = self._batch_curves.pop(path_id, None)
            if curve is not None:
                self._parts.loss.plot_widget().removeItem(curve)

    def shutdown(self) -> None:
        """Cancel the fits and join their threads (the window closes)."""
        self.job.shutdown()
        self.grids.shutdown()


def grid_sizes(rows: int, from_sums: bool) -> tuple[int, ...]:
    """The grids drawn one after another, coarse to full: all at once from sums; else
    COARSE_GRID (after FIRST_GRID where even COARSE_GRID is not cheap), then grid_size."""
    full = grid_size(rows, from_sums)
    if from_sums:
        return (full,)
    coarse = (COARSE_GRID,) if COARSE_GRID**2 * rows <= COARSE_WORK else (FIRST_GRID, COARSE_GRID)
    return (*(n for n in coarse if n < full), full)


def _cheap(n: int, landscape: ModelLandscape) -> bool:
    """True when an n x n grid of this landscape costs little enough to draw at once."""
    return landscape.from_sums or n * n * landscape.data.n <= COARSE_WORK


def grid_size(rows: int, from_sums: bool) -> int:
    """The grid a model's landscape is drawn on: MODEL_GRID unless its rows make that slow."""
    if from_sums:
        return MODEL_GRID
    fits = int((MAX_GRID_WORK / max(rows, 1)) ** 0.5)
    return max(MIN_GRID, min(MODEL_GRID, fits))


def _status(result: FitResult) -> Status:
    """The fit's outcome as a run status: done (every epoch run), converged, diverged."""
    return Status.from_label(result.status)


def _one_line(message: str) -> str:
    """The first line of a message (a data error is one line; keep it so)."""
    return message.strip().splitlines()[0] if message.strip() else "the data could not be read"
