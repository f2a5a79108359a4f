"""A neural network in the window (issue 17): its panel, training, slice, sharpness and regions.

Train builds a request from the network panel and the controls' optimiser and lr, and a
NetworkJob trains it off the GUI thread (progress: the step, its loss, the decision regions).
When it ends (or is stopped) the loss on a plane through the final parameters (a NetSlice) is
the landscape on screen: the contour map and the surface draw it with the training path
projected on it, the loss plot its true loss (the slice's loss at the projection dotted beside
it), the Sharpness tab the top Hessian eigenvalue against 2/lr and the Data tab the data over the
network's output. A click on the slice trains the same network again from that point.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, QSettings, Signal
from PySide6.QtWidgets import QTabWidget, QWidget

from explorer.core.trajectory import FloatArray, RunSettings, Status, Trajectory
from explorer.gui.engine.network_job import NetworkJob, NetworkProgress, NetworkRequest, Regions
from explorer.gui.layout import HIDDEN_TAB
from explorer.gui.model.axis_names import AxisNames
from explorer.gui.panels.network_panel import NetworkFields, NetworkPanel
from explorer.gui.views.decision_view import DecisionView
from explorer.gui.views.sharpness_view import SharpnessView, training_edges

if TYPE_CHECKING:
    from collections.abc import Sequence

    from PySide6.QtWidgets import QStackedWidget

    from explorer.core.net_slice import NetSlice
    from explorer.core.network import NetSpec
    from explorer.gui.engine.network_job import NetworkResult
    from explorer.gui.model_mode import ModelMode
    from explorer.gui.parts import Parts
    from explorer.gui.tools.animation_dialog import AnimationExport
    from explorer.gui.tools.animation_panes import RegionsPane
    from explorer.io.dataset_csv import FeatureData

SLICE_AXES = AxisNames("a", "b", "loss")
_STATUS = {"done": Status.MAX_STEPS, "stopped": Status.STOPPED, "diverged": Status.DIVERGED}


class NetworkMode(QObject):
    """Trains a small network and shows its loss slice, sharpness and decision regions."""

    # A network's slice is on screen (the window treats it as a model's landscape).
    shown = Signal()

    def __init__(self, parts: Parts, settings: QSettings, model_mode: ModelMode,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        from explorer.io.dataset_csv import network_datasets

        self._parts = parts
        self._model_mode = model_mode
        self.panel = NetworkPanel(network_datasets(), settings)
        self.sharpness_view = SharpnessView()
        self.decision_view = DecisionView()
        self.job = NetworkJob(self)
        self.landscape: NetSlice | None = None
        self.result: NetworkResult | None = None
        self._token = 0
        # The run whose sharpness the tab shows as it trains, and the edges of the latest run.
        self._sharpness_token = 0
        self._edges: list[tuple[float, str]] = []
        self._data_pages: QStackedWidget | None = None
        self._sharpness_page: QWidget | None = None
        # Per network path: the dotted slice-loss curve and the values it draws.
        self._slice_curves: dict[int, tuple[pg.PlotDataItem, FloatArray]] = {}
        self.panel.train_requested.connect(self._on_train_requested)
        self.panel.stop_requested.connect(self.job.stop)
        self.panel.pause_toggled.connect(self.job.pause)
        self.panel.step_requested.connect(self.job.step)
        self.job.progressed.connect(self._on_progressed)
        self.job.finished.connect(self._on_finished)
        self.job.failed.connect(self._on_failed)
        parts.runner.paths_removed.connect(self._on_paths_removed)
        parts.runner.paths_added.connect(self._on_paths_added)
        # After the loss plot's own handler (connected when it was made): its scale is set.
        parts.loss.log_check_box().toggled.connect(self._on_loss_log_toggled)

    def pages(self, model_data: QWidget) -> tuple[tuple[QWidget, str], tuple[QWidget, str]]:
        """The Data tab (a model's data, or the network's data over its decision regions,
        whichever was shown last) and the Sharpness tab, to go beside Loss."""
        from PySide6.QtWidgets import QStackedWidget

        from explorer.gui.layout import titled

        self._data_pages = QStackedWidget()
        self._data_pages.addWidget(model_data)
        self._data_pages.addWidget(titled("Data over the network's output (blue -1, red +1)",
                                          self.decision_view))
        self._model_mode.model_shown.connect(lambda: self._data_pages.setCurrentIndex(0))
        self._sharpness_page = titled("Sharpness: the Hessian's top eigenvalue; dashed, 2/lr",
                                      self.sharpness_view)
        # A third tab fits the bottom corner of a small window only while it has something to
        # show: it appears with the first network (tabs() hides a page marked so).
        self._sharpness_page.setProperty(HIDDEN_TAB, True)
        return ((self._data_pages, "Data"), (self._sharpness_page, "Sharpness"))

    def _reveal_sharpness_tab(self, *, to_front: bool = False) -> None:
        page = self._sharpness_page
        if page is None:
            return
        stack = page.parentWidget()
        tabs = stack.parentWidget() if stack is not None else None
        if isinstance(tabs, QTabWidget):
            tabs.setTabVisible(tabs.indexOf(page), True)
            if to_front:
                tabs.setCurrentWidget(page)

    def show_sharpness(self) -> None:
        """Bring the Sharpness tab to the front (shown before its first point, if need be)."""
        self._reveal_sharpness_tab(to_front=True)

    def sharpness_watched(self) -> bool:
        """Whether the Sharpness tab is the one in front."""
        return self._sharpness_page is not None and self._sharpness_page.isVisible()

    @property
    def active(self) -> bool:
        """True while a network's slice is on screen."""
        return self.landscape is not None and self._parts.document.landscape is self.landscape

    @property
    def running(self) -> bool:
        """True while a network trains."""
        return self.job.running

    # ----- training -------------------------------------------------------------------------

    def _on_train_requested(self) -> None:
        self.train()

    def train(self, start: FloatArray | None = None) -> int | None:
        """Train the panel's network on its data (from the flat parameters start, else the
        seed's initialisation); the run's token (None: a red line says why)."""
        from explorer.core.network import NetError, NetSpec, parse_hidden
        from explorer.io.dataset_csv import DataError, load_features

        fields = self.panel.fields()
        try:
            hidden = parse_hidden(fields.hidden)
            data = load_features(fields.data)
            spec = NetSpec(data.features.shape[1], hidden, fields.activation, fields.loss)
        except (DataError, NetError, ValueError) as error:
            self._refuse(str(error))
            return None
        return self._start(fields, spec, data, start)

    def start_at(self, a: float, b: float) -> int | None:
        """Train the network on screen again from the point (a, b) of its slice."""
        result, landscape = self.result, self.landscape
        if result is None or landscape is None:
            return None
        start = landscape.parameters_at(a, b)
        token = self._start(self.panel.fields(), result.request.spec, result.request.data, start)
        if token is not None:
            self.announce(f"Training again from a = {a:.4g}, b = {b:.4g} on the slice…", 5000)
        return token

    def announce(self, text: str, ms: int = 0) -> None:
        """A line in the status bar (for ms milliseconds; 0: until the next line)."""
        self._parts.notifier.status_requested.emit(text, ms)

    def _start(self, fields: NetworkFields, spec: NetSpec, data: FeatureData,
               start: FloatArray | None) -> int | None:
        from explorer.core.budget import BudgetError
        from explorer.core.network import TrainSettings, check_training
        from explorer.core.scipy_methods import is_scipy_method

        run = self._parts.controls.run_settings()
        if is_scipy_method(run.optimizer):
            self._refuse(f"{run.optimizer} is a scipy.optimize method: a network trains with "
                         "a torch optimiser (pick one in the controls)")
            return None
        try:
            steps = int(fields.steps)
        except ValueError:  # not a number, or past int()'s 4300 digits
            self._refuse(f"steps must be a whole number, not {fields.steps[:40]!r}")
            return None
        settings = TrainSettings(run.optimizer, run.lr, run.params, steps, fields.seed, None,
                                 fields.sharpness_every, run.schedule)
        try:
            check_training(spec, data.n, settings)
        except (BudgetError, ValueError) as error:  # NetError, OptimizerError among them
            self._refuse(str(error))
            return None
        self.panel.clear_error()
        self.job.cancel()
        self._token += 1
        self._edges = training_edges(settings)
        self.job.start(NetworkRequest(self._token, data, spec, settings, fields.directions,
                                      fields.grid, start))
        self.panel.set_running(True, steps)
        if start is None:  # the regions are drawn as it trains
            self.decision_view.set_data(data.features, data.labels, data.feature_names)
            self.sharpness_view.clear()
            if self._data_pages is not None:
                self._data_pages.setCurrentIndex(1)
        return self._token

    def _refuse(self, message: str) -> None:
        """The message's first line, in red; a word longer than 40 characters (a number typed
        with hundreds of digits) cut short, as it cannot wrap and would widen the column."""
        import re

        lines = message.strip().splitlines()
        line = lines[0] if lines else "the network cannot train"
        self.panel.show_error(re.sub(r"\S{41,}", lambda word: word.group()[:20] + "…", line))

    def _on_progressed(self, token: int, progress: NetworkProgress) -> None:
        if token != self._token:
            return
        self.panel.set_progress(progress.step, progress.loss)
        self._show_regions(progress.regions)
        if len(progress.sharpness):  # the edges and the tab come with a run's first point
            if self._sharpness_token != token:
                self._sharpness_token = token
                self.sharpness_view.start(self._edges)
                self._reveal_sharpness_tab()
            self.sharpness_view.append(progress.sharpness)

    def _on_failed(self, token: int, message: str) -> None:
        if token == self._token:
            self.panel.set_running(False)
            self._refuse(message)

    def _on_finished(self, token: int, result: NetworkResult) -> None:
        if token != self._token:
            return
        self.panel.set_running(False)
        self.show(result)

    # ----- showing a trained network --------------------------------------------------------

    def show(self, result: NetworkResult) -> None:
        """Make the result's slice the landscape; draw its path, sharpness and regions."""
        parts, model = self._parts, self._model_mode
        model.leave()
        parts.runner.discard()
        self.landscape, self.result = result.landscape, result
        parts.document.set_landscape(result.landscape, result.grid)
        model.apply_axis_names(SLICE_AXES)
        model.draw(result.grid, result.grid.suggest_log)
        data = result.request.data
        self.decision_view.set_data(data.features, data.labels, data.feature_names)
        self._show_regions(result.regions)
        self.sharpness_view.set_series(result.run.sharpness,
                                       training_edges(result.request.settings))
        self._reveal_sharpness_tab()
        self._add_path(result)
        view, run = result.view, result.run
        parts.notifier.status_requested.emit(
            f"{result.request.spec.text()} on {data.name}: {run.steps} steps, {run.status}, "
            f"loss {run.loss[-1]:.4g}. A {view.directions} slice; on the path it misses the "
            f"true loss by up to {view.max_path_gap:.3g}. Click it to train from there.", 20000)
        if self._data_pages is not None:
            self._data_pages.setCurrentIndex(1)
        self.shown.emit()  # the window brings the Data tab forward, as for a model

    def _show_regions(self, regions: Regions | None) -> None:
        if regions is not None:
            self.decision_view.set_regions((regions.xs, regions.ys, regions.values))

    def _add_path(self, result: NetworkResult) -> None:
        """The path projected on the slice as a run: its true loss per step, the slice's
        gradient at each projection; the slice's own loss there dotted in the loss plot."""
        view, request, parts = result.view, result.request, self._parts
        settings = request.settings
        rows = len(view.path_ab)
        trajectory = Trajectory(
            view.path_ab[:, 0].copy(), view.path_ab[:, 1].copy(), view.path_loss.copy(),
            result.path_grad[:, 0].copy(), result.path_grad[:, 1].copy(),
            optimizer=settings.optimizer, lr=settings.lr,
            status=_STATUS.get(result.run.status, Status.MAX_STEPS),
            function=result.landscape.name)
        run_settings = RunSettings(optimizer=settings.optimizer, lr=settings.lr,
                                   params=settings.params, steps=max(rows - 1, 1),
                                   schedule=settings.schedule)
        runner = parts.runner
        (shown,) = runner.add_finished([trajectory], run_settings, imported=False)
        curve = pg.PlotDataItem(pen=pg.mkPen(shown.color, width=1,
                                             style=pg.QtCore.Qt.PenStyle.DotLine),
                                name=f"#{shown.path_id} on the slice")
        curve.setZValue(-1)
        parts.loss.plot_widget().addItem(curve)
        self._slice_curves[shown.path_id] = (curve, view.path_slice_loss)
        self._draw_slice_curve(shown.path_id)
        shown.shown = 1  # revealed step by step at the path speed, as any run
        runner.scheduler.animate(shown.path_id)
        runner.scheduler.ensure_running()

    def _draw_slice_curve(self, path_id: int) -> None:
        curve, values = self._slice_curves[path_id]
        curve.setData(np.arange(len(values), dtype=np.float64),
                      self._parts.loss.display_values(values), connect="finite")

    def _on_loss_log_toggled(self, _log: bool) -> None:
        for path_id in self._slice_curves:
            self._draw_slice_curve(path_id)

    def slice_curve(self, path_id: int) -> pg.PlotDataItem | None:
        """The dotted slice-loss curve beside a network path (for tests)."""
        entry = self._slice_curves.get(path_id)
        return entry[0] if entry is not None else None

    def _on_paths_removed(self, path_ids: list[int]) -> None:
        for path_id in path_ids:
            entry = self._slice_curves.pop(path_id, None)
            if entry is not None:
                self._parts.loss.plot_widget().removeItem(entry[0])
        self._on_paths_added([])

    def _on_paths_added(self, _path_ids: list[int]) -> None:
        # Animation… while the slice is on screen with a path on it.
        self.panel.set_animation_enabled(self.active and bool(self._parts.runner.store.paths))

    # ----- the animation --------------------------------------------------------------------

    def attach_animation(self, export: AnimationExport) -> None:
        """The panel's Animation… opens File > Export animation…, which draws the slice's loss
        at the projection dotted beside each network path's true loss, as the loss plot does,
        and the data over the network's regions at each frame's step (a model's data view
        too: the model mode is attached here, as it comes with the network's)."""
        self.panel.animation_requested.connect(export.ask_export)
        export.add_beside(self.beside)
        export.add_data(self.data_pane)
        self._model_mode.attach_animation(export)

    def data_pane(self, path_ids: Sequence[int]) -> RegionsPane | None:
        """The data and the training's parameters at each step for an animation's data pane,
        following the network path among these (None: none is, or the data has not two
        features to shade a plane over)."""
        from explorer.gui.tools.animation_panes import regions_pane

        result = self.result
        if not self.active or result is None:
            return None
        index = next((i for i, path_id in enumerate(path_ids) if path_id in self._slice_curves),
                     None)
        if index is None:
            return None
        data = result.request.data
        return regions_pane(data.features, data.labels, data.feature_names, result.request.spec,
                            result.run.path, len(result.view.path_ab), index)

    def beside(self, path_id: int) -> tuple[FloatArray, str] | None:
        """A network path's slice loss at each projected row and its legend name (None for any
        other path)."""
        from explorer.gui.model.shown import run_label

        entry = self._slice_curves.get(path_id)
        return None if entry is None else (entry[1], f"{run_label(path_id)} on the slice")

    def shutdown(self) -> None:
        """Cancel the training and join its thread (the window closes)."""
        self.job.shutdown()
