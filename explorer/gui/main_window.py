"""The main window: builds the panels, owns the worker and the shown runs, wires the signals."""

from __future__ import annotations

import contextlib
import gc
import json
import math
import os
import sys
import time
import warnings
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QByteArray, QCoreApplication, QEvent, QObject, QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QDockWidget,
    QFileDialog,
    QGroupBox,
    QLabel,
    QMainWindow,
    QMessageBox,
    QScrollArea,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from explorer.core.landscape import Domain, LandscapeGrid, sample_landscape
from explorer.core.optimizers import REGISTRY
from explorer.core.presets import default_preset
from explorer.core.trajectory import Reason, RunSettings, Status, Trajectory
from explorer.gui.engine.descent_worker import ChunkPayload, DescentWorker, RunRequest, RunResult
from explorer.gui.help import ABOUT_HTML, HELP_HTML
from explorer.gui.model.colors import trajectory_color
from explorer.gui.panels.controls_panel import ControlsPanel
from explorer.gui.panels.function_panel import FunctionPanel
from explorer.gui.panels.inspector_panel import INSPECT_TIP, InspectorPanel, quiet_gradient_field
from explorer.gui.panels.runs_panel import RunsPanel, ShownTrajectory
from explorer.gui.session_actions import SessionActions
from explorer.gui.tools.lab_tools import LabTools
from explorer.gui.views.contour_view import HINT, ContourView
from explorer.gui.views.gradient_overlay import GradientOverlay
from explorer.gui.views.loss_view import LossView
from explorer.io.atomic import ExportError
from explorer.io.session import Session, SessionRun, ViewSettings
from explorer.io.trajectory_csv import write_trajectories

if TYPE_CHECKING:
    from explorer.core.expression import Expression
    from explorer.gui.views.surface_view import SurfaceView

TITLE = "Gradient Descent Explorer"
ORGANIZATION = "GradientDescentExplorer"
APPLICATION = "Gradient Descent Explorer"
# A settings file to use instead of the user's (tests, benchmarks, a portable install).
SETTINGS_ENV = "GDX_SETTINGS_FILE"
# "1": press Ctrl+Q as soon as the window is visible; "engine": once the engine has loaded.
QUIT_ENV = "GDX_TEST_QUIT_AFTER_SHOWN"
SHOWN_MARK = "GDX-WINDOW-SHOWN"
GRID_SIZE = 256
FRAME_MS = 16
# A view update waits at most this long for the repaint of the one before it.
AWAIT_PAINT_MAX_S = 0.25
# The most steps (rows of x, y, f, gradient) the window keeps in memory, over all paths.
# Each row costs about 40 bytes here and as much in the worker's buffers, so this bounds the
# paths' memory to about 400 MB; past it the runs stop (the command line has no such limit).
MAX_HELD_ROWS = 5_000_000
# Per frame, the views are updated for at most this long; the other paths wait a frame.
# Every path still moves, and the event loop never stalls on a hundred of them.
VIEW_BUDGET_S = 0.010
PAINT_SHARE = 1.5
TABLE_INTERVAL_S = 0.1
# The worker's chunks are applied for at most this long per event-loop turn, in slices of
# this many paths.
INBOX_BUDGET_S = 0.012
INBOX_SLICE = 256
# Per frame, paths are moved for at most this long, checking the time every this many paths.
ANIMATION_BUDGET_S = 0.010
ANIMATION_SLICE = 256
TABLE_MAX_WAIT_S = 0.5  # the table waits for a turn without a view repaint at most this long
# Per update, table rows are refreshed for at most this long; the rest wait their turn.
TABLE_BUDGET_S = 0.008
LOADING = "Loading the engine (torch)…"
LOADING_HINT = "Loading the engine (torch)… the landscape appears in a moment"
GETTING_STARTED = (
    "<b>Click</b> the contour map or the 3D surface: a descent starts there.<br>"
    "<b>Shift-click</b> adds starts (white crosses); <b>Space</b> runs them together.<br>"
    "<b>Hover</b> the map to read f and its gradient.<br>"
    "<b>Select</b> a row in the table to highlight its path; <b>F1</b> for help."
)
READY = (
    "Ready: click the map to descend from there; Shift-click adds starts, Space runs them."
)


_STATUSES = {int(status): status for status in Status}
_REASONS = {int(reason): reason for reason in Reason}


@dataclass(eq=False)
class _Mail:
    """One message from the worker: a chunk (applied from path next on), a result, a failure."""

    run_id: int
    item: ChunkPayload | RunResult | str
    next: int = 0


@dataclass(eq=False)
class _PacedViews:
    """Views updated together, no more often than their repainting allows.

    cost_s is the event-loop time that followed their last update (mostly their repaint, which
    Qt does after the timer tick). The next update waits PAINT_SHARE times what all the views
    cost (up to max_interval_s), so the window keeps answering input even when frames are slow
    (software OpenGL, many paths, a busy machine).
    """

    draw: Callable[[ShownTrajectory], None]
    # However slow the painting, paths move at least this often.
    max_interval_s: float
    # Called after each batch of draws: views that draw many paths together redraw once.
    flush: Callable[[], None] = lambda: None
    # The widget whose repaint shows the update (see MainWindow._update_views).
    widget: QWidget | None = None
    dirty: dict[int, None] = field(default_factory=dict)  # an ordered set: oldest first
    cost_s: float = 0.0
    next_s: float = 0.0


class _PaintWatch(QObject):
    """Calls back when a watched widget gets a paint event, or for a widget with a `rendered`
    signal (the 3D view, which renders in a turn before it paints), when that fires."""

    def __init__(self, on_paint: Callable[[QObject], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._on_paint = on_paint
        self._watched: list[QObject] = []

    def watch(self, widget: QWidget) -> None:
        """Start watching widget (once)."""
        if not any(widget is known for known in self._watched):
            rendered = getattr(widget, "rendered", None)
            if rendered is not None:
                rendered.connect(lambda: self._on_paint(widget))
            else:
                widget.installEventFilter(self)
            self._watched.append(widget)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # Qt's name
        """Report paint events; let every event through."""
        if event.type() == QEvent.Type.Paint:
            self._on_paint(watched)
        return False


def open_settings() -> QSettings:
    """The user's settings, or the ini file named by GDX_SETTINGS_FILE."""
    path = os.environ.get(SETTINGS_ENV)
    if path:
        return QSettings(path, QSettings.Format.IniFormat)
    return QSettings(ORGANIZATION, APPLICATION)


def _quiet_landscape(expression: Expression, domain: Domain, n: int) -> LandscapeGrid:
    """Sample f on the grid; log of a negative and friends give NaN gaps, not warnings."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return sample_landscape(expression, domain, n)


def _values_at(expression: Expression, xy: np.ndarray) -> np.ndarray:
    """f at points (n, 2) by numpy (no torch), NaN where it is undefined."""
    if len(xy) == 0:
        return np.empty(0)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            values = expression.evaluate_numpy(xy[:, 0], xy[:, 1])
        except (ArithmeticError, ValueError, TypeError):
            return np.full(len(xy), np.nan)
    return np.broadcast_to(np.asarray(values, dtype=np.float64), (len(xy),)).copy()


class MainWindow(QMainWindow):
    """Gradient Descent Explorer: landscape views, function editor, controls, runs and loss."""

    def __init__(
        self,
        settings: QSettings | None = None,
        *,
        with_surface: bool = True,
        defer_surface: bool = False,
    ) -> None:
        """with_surface=False leaves the 3D view out (no OpenGL); defer_surface builds it only
        when build_surface() is called, so that the window can be shown sooner."""
        super().__init__()
        self.setWindowTitle(TITLE)
        self._settings = settings if settings is not None else open_settings()
        self._expression: Expression | None = None
        self._domain: Domain = (-1.0, 1.0, -1.0, 1.0)
        self._grid: LandscapeGrid | None = None
        self._paths: dict[int, ShownTrajectory] = {}
        self._runs: dict[int, list[ShownTrajectory | None]] = {}
        self._pending: list[tuple[float, float]] = []
        self._next_run_id = 1
        self._next_path_id = 1
        self._color_index = 0
        self._paused = False
        self._credit = 0.0
        self._last_tick = time.perf_counter()
        self._last_table = 0.0
        self._tick_done = self._last_tick
        # The views last updated, until their repaint: no other view updates meanwhile, so
        # that two repaints never fall into one event-loop turn (see _update_views).
        self._awaiting: _PacedViews | None = None
        self._awaiting_since = 0.0
        self._awaiting_painted = False
        self._paint_watch = _PaintWatch(self._on_view_painted, self)
        self._updated: _PacedViews | None = None
        self._table_dirty: dict[int, None] = {}  # an ordered set: oldest first
        # The paths that may still be revealed or computed, each with the reveal clock when it
        # last moved: the clock counts the steps every path may have moved since the start, so
        # a path that waits a few frames for its turn (thousands of paths) catches up.
        self._animating: dict[int, int] = {}
        self._clock = 0
        self._sweep: list[int] = []  # the animating paths this round still has to move
        self._error_box: QMessageBox | None = None
        self._help: QDialog | None = None
        self._closing = False
        self._decrease_id: int | None = None  # the run whose steps the inspector plots
        self._held_rows = 0  # rows received by the paths on screen (recounted when removed)

        self._worker = DescentWorker()
        self._worker.engine_ready.connect(self._on_engine_ready)
        self._worker.engine_failed.connect(self._on_engine_failed)
        self._worker.chunk_ready.connect(self._receive)
        self._worker.finished.connect(self._receive)
        self._worker.failed.connect(self._receive)
        # What the worker sent, applied in order a slice of paths at a time: a chunk of ten
        # thousand paths would otherwise hold up the event loop for a tenth of a second.
        self._inbox: deque[_Mail] = deque()
        self._inbox_timer = QTimer(self)
        self._inbox_timer.setInterval(0)
        self._inbox_timer.timeout.connect(self._drain_inbox)

        self._timer = QTimer(self)
        self._timer.setInterval(FRAME_MS)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._on_animation_tick)

        self._build_views(with_surface, defer_surface)
        self._build_side_panel()
        self._build_actions()
        self._build_inspector()
        self._engine_label = QLabel(LOADING)
        self.statusBar().addPermanentWidget(self._engine_label)
        self.statusBar().showMessage(LOADING)
        self.resize(1400, 900)
        self._lab_tools = LabTools(self)  # Tools menu: learning-rate sweep, optimiser race
        self._restore_settings()

    # ----- building -------------------------------------------------------------------------

    def _build_views(self, with_surface: bool, defer_surface: bool) -> None:
        self._contour = ContourView()
        self._contour.setToolTip("")
        self._contour.start_requested.connect(self._on_start_requested)
        self._contour.point_hovered.connect(self._on_point_hovered)
        self._contour.inspect_requested.connect(self.inspect_point)
        self._surface: SurfaceView | None = None
        self._surface_wanted = with_surface
        text = "Preparing the 3D view…" if with_surface else (
            "The 3D view needs OpenGL, which is not available here.")
        self._surface_placeholder: QLabel | None = QLabel(text)
        self._surface_placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        surface_widget: QWidget = self._surface_placeholder
        self._loss = LossView()
        self._runs_panel = RunsPanel()
        self._runs_panel.highlight_requested.connect(self._on_highlight_requested)

        self._top = QSplitter(Qt.Orientation.Horizontal)
        self._top.setObjectName("top_splitter")
        self._top.addWidget(_titled("Contour map", self._contour))
        self._surface_box = _titled("3D surface (drag to rotate, wheel to zoom)", surface_widget)
        self._top.addWidget(self._surface_box)
        self._top.setStretchFactor(0, 1)
        self._top.setStretchFactor(1, 1)
        self._top.setSizes([10_000, 10_000])
        self._bottom = QSplitter(Qt.Orientation.Horizontal)
        self._bottom.setObjectName("bottom_splitter")
        self._bottom.addWidget(_titled("Runs", self._runs_panel))
        self._bottom.addWidget(_titled("Loss: f at each step", self._loss))
        self._bottom.setStretchFactor(0, 1)
        self._bottom.setStretchFactor(1, 1)
        self._bottom.setSizes([12_000, 8_000])
        self._main = QSplitter(Qt.Orientation.Vertical)
        self._main.setObjectName("main_splitter")
        self._main.addWidget(self._top)
        self._main.addWidget(self._bottom)
        self._main.setStretchFactor(0, 3)
        self._main.setStretchFactor(1, 1)
        self._main.setSizes([6_500, 3_500])
        self.setCentralWidget(self._main)
        # The 2-D views and the 3-D view are paced apart: software OpenGL can be slow.
        # Each view repaints in its own event-loop turn: one turn that repainted them all would
        # hold up input for their sum.
        self._paced = [
            _PacedViews(self._draw_contour, max_interval_s=1 / 8, flush=self._contour.flush,
                        widget=self._contour.plot_widget().viewport()),
            _PacedViews(self._draw_loss, max_interval_s=1 / 4, flush=self._loss.flush,
                        widget=self._loss.plot_widget().viewport()),
        ]
        if with_surface and not defer_surface:
            self.build_surface()

    def build_surface(self) -> None:
        """Create the 3D view in place of its placeholder (importing OpenGL takes a moment)."""
        if self._surface is not None or not self._surface_wanted or self._closing:
            return
        from explorer.gui.views.surface_view import SurfaceView

        surface = SurfaceView()
        surface.start_requested.connect(self._on_start_requested)
        placeholder, self._surface_placeholder = self._surface_placeholder, None
        layout = self._surface_box.layout()
        if placeholder is not None:
            layout.replaceWidget(placeholder, surface)
            placeholder.deleteLater()
        else:
            layout.addWidget(surface)
        self._surface = surface
        self._paced.append(_PacedViews(self._draw_3d, max_interval_s=1 / 3,
                                       flush=surface.flush, widget=surface.gl_widget()))
        if self._grid is not None:
            surface.set_landscape(self._grid, self._log_action.isChecked())
        for path_id in self._paths:
            self._paced[-1].dirty[path_id] = None
        if self._paths:
            self._ensure_timer()
        self._show_pending()

    def _build_side_panel(self) -> None:
        self._function = FunctionPanel()
        self._function.function_applied.connect(self._on_function_applied)
        self._controls = ControlsPanel()
        self._controls.run_pause_requested.connect(self._on_run_pause_requested)
        self._controls.step_requested.connect(self._on_step_requested)
        self._controls.stop_requested.connect(self._on_stop_requested)
        self._controls.reset_requested.connect(self._on_reset_requested)
        self._controls.clear_requested.connect(self._on_clear_requested)
        self._controls.export_requested.connect(self._on_export_requested)
        self._controls.speed_changed.connect(self._on_speed_changed)

        column = QWidget()
        layout = QVBoxLayout(column)
        layout.addWidget(self._function)
        layout.addWidget(self._controls)
        layout.addWidget(_getting_started())
        layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(column)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setMinimumWidth(column.sizeHint().width() + 20)
        dock = QDockWidget("Function and optimiser")
        dock.setObjectName("setup_dock")
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable)
        dock.setWidget(scroll)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)

    def _build_actions(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        self._export_action = self._action(
            "&Export trajectories…", QKeySequence("Ctrl+E"), self._on_export_requested,
            "Write the trajectories (all, or the selected ones) to a CSV file",
        )
        file_menu.addAction(self._export_action)
        file_menu.addAction(self._action(
            "Save &contour map as PNG…", None, lambda: self._on_save_image_requested("contour"),
            "Save the contour map as it looks now",
        ))
        file_menu.addAction(self._action(
            "Save 3D &surface as PNG…", None, lambda: self._on_save_image_requested("surface"),
            "Save the 3D surface as it looks now",
        ))
        file_menu.addSeparator()
        self._sessions = SessionActions(self, self._settings, file_menu, self._export_action)
        quit_action = self._action("&Quit", QKeySequence("Ctrl+Q"), self.close, "Quit")
        quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        file_menu.addAction(quit_action)

        run_menu = bar.addMenu("&Run")
        self._run_action = self._action(
            "Run / Pause", QKeySequence(Qt.Key.Key_Space), self._on_run_pause_requested,
            "Run the pending starts, or pause and resume",
        )
        self._step_action = self._action(
            "Step", QKeySequence(Qt.Key.Key_Right), self._on_step_requested,
            "Pause and move every path one step",
        )
        self._stop_action = self._action(
            "Stop", None, self._on_stop_requested, "Stop every path where it is"
        )
        self._reset_action = self._action(
            "Reset to starts", QKeySequence(Qt.Key.Key_R), self._on_reset_requested,
            "Remove the paths and keep their starts, ready to run again",
        )
        self._clear_action = self._action(
            "Clear all", QKeySequence(Qt.Key.Key_Delete), self._on_delete_key,
            "Remove the selected path, or every path and start when none is selected",
        )
        for action in (self._run_action, self._step_action, self._stop_action,
                       self._reset_action, self._clear_action):
            run_menu.addAction(action)

        view_menu = bar.addMenu("&View")
        self._inspect_action = QAction("&Inspect gradient", self)
        self._inspect_action.setCheckable(True)
        self._inspect_action.setShortcut(QKeySequence(Qt.Key.Key_I))
        self._inspect_action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self._inspect_action.setToolTip(INSPECT_TIP)
        self._inspect_action.setStatusTip(INSPECT_TIP.replace("\n", " "))
        self._inspect_action.toggled.connect(self._on_inspect_toggled)
        self.addAction(self._inspect_action)
        view_menu.addAction(self._inspect_action)
        view_menu.addSeparator()
        self._log_action = QAction("&Log colour scale", self)
        self._log_action.setCheckable(True)
        self._log_action.setStatusTip("Colour by log10(f - min f): for steep functions")
        self._log_action.toggled.connect(self._on_log_toggled)
        view_menu.addAction(self._log_action)
        loss_log = QAction("Log scale on the &loss plot", self)
        loss_log.setCheckable(True)
        loss_log.toggled.connect(self._loss.set_log_y)
        self._loss.log_check_box().toggled.connect(loss_log.setChecked)
        view_menu.addAction(loss_log)

        help_menu = bar.addMenu("&Help")
        help_menu.addAction(self._action(
            "&Help", QKeySequence(QKeySequence.StandardKey.HelpContents), self.show_help,
            "What each part of the window does",
        ))
        about = self._action("&About", None, self._on_about_requested, "About this program")
        about.setMenuRole(QAction.MenuRole.AboutRole)
        help_menu.addAction(about)

    def _build_inspector(self) -> None:
        self._inspector = InspectorPanel(self._inspect_action)
        self._overlay = GradientOverlay(self._contour.plot_widget().getPlotItem())
        self._inspector.point_inspected.connect(self._overlay.set_point)
        self._inspector.inspection_cleared.connect(self._overlay.clear_point)
        self._inspector.field_toggled.connect(self._on_field_toggled)
        self._inspector.lr_requested.connect(self._on_lr_requested)
        scroll = QScrollArea()
        scroll.setWidget(self._inspector)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._inspector_dock = QDockWidget("Gradient inspector")
        self._inspector_dock.setObjectName("inspector_dock")
        self._inspector_dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable)
        self._inspector_dock.setWidget(scroll)
        # A tab beside the function and optimiser: the maps keep their size.
        setup = self.findChild(QDockWidget, "setup_dock")
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self._inspector_dock)
        self.tabifyDockWidget(setup, self._inspector_dock)
        setup.raise_()

    def _action(
        self, text: str, shortcut: QKeySequence | None, slot: object, tip: str
    ) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(shortcut)
            # Window-wide, but a text or number field with focus still gets its own keys:
            # line edits claim Space, R, Delete and the arrows through ShortcutOverride.
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.setStatusTip(tip)
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    # ----- start-up and settings ------------------------------------------------------------

    def start_engine(self) -> None:
        """Start the worker thread, which loads torch in the background."""
        if not self._worker.thread_handle.isRunning() and not self._closing:
            self._worker.start()

    @property
    def worker(self) -> DescentWorker:
        """The descent worker."""
        return self._worker

    def _restore_settings(self) -> None:
        s = self._settings
        preset = default_preset()
        text = _str(s.value("function/text"), preset.formula)
        domain = _domain(s.value("function/domain"), preset.domain)
        self._function.set_function(text, domain)
        if not self._function.apply():
            self._function.set_function(preset.formula, preset.domain)
            self._function.apply()

        self._controls.set_optimizer(_str(s.value("optimizer/name"), "sgd"))
        try:
            params = json.loads(_str(s.value("optimizer/params"), "{}"))
        except ValueError:
            params = {}
        if isinstance(params, dict):
            for name, values in params.items():
                if isinstance(values, dict):
                    with contextlib.suppress(KeyError, ValueError):
                        self._controls.set_params(str(name), values)
        lr = _float(s.value("optimizer/lr"), math.nan)
        if math.isfinite(lr):
            self._controls.set_lr(lr)
        defaults = self._controls.run_settings()
        self._controls.set_limits(
            int(_float(s.value("run/steps"), defaults.steps)),
            _float(s.value("run/tol"), defaults.tol),
            _str(s.value("run/ascent"), "false") == "true",
        )
        self._controls.set_noise(_float(s.value("run/noise"), 0.0),
                                 int(_float(s.value("run/seed"), 0)))
        speed = _float(s.value("animation/speed"), math.nan)
        instant = _str(s.value("animation/instant"), "false") == "true"
        self._controls.set_animation_speed(
            None if instant else (speed if math.isfinite(speed) else None)
        )
        if not instant and not math.isfinite(speed):
            self._controls.set_animation_speed(60.0)
        geometry = s.value("window/geometry")
        if isinstance(geometry, QByteArray | bytes):
            self.restoreGeometry(QByteArray(geometry))
        state = s.value("window/state")
        if isinstance(state, QByteArray | bytes):
            self.restoreState(QByteArray(state))
        for splitter in (self._main, self._top, self._bottom):
            value = s.value(f"window/{splitter.objectName()}")
            if isinstance(value, QByteArray | bytes):
                splitter.restoreState(QByteArray(value))

    def save_settings(self) -> None:
        """Remember the function, domain, optimiser settings and window layout."""
        s = self._settings
        applied = self._function.applied()
        if applied is not None:
            s.setValue("function/text", applied[0])
            s.setValue("function/domain", ",".join(repr(float(v)) for v in applied[1]))
        s.setValue("optimizer/name", self._controls.optimizer_name())
        s.setValue("optimizer/lr", repr(self._controls.lr()))
        s.setValue("optimizer/params", json.dumps(self._controls.all_params()))
        settings = self._controls.run_settings()
        s.setValue("run/steps", str(settings.steps))
        s.setValue("run/tol", repr(settings.tol))
        s.setValue("run/ascent", "true" if settings.ascent else "false")
        s.setValue("run/noise", repr(settings.noise))
        s.setValue("run/seed", str(settings.seed))
        speed = self._controls.animation_speed()
        s.setValue("animation/instant", "true" if speed is None else "false")
        s.setValue("animation/speed", repr(float(self._controls.speed_steps_per_s())))
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/state", self.saveState())
        for splitter in (self._main, self._top, self._bottom):
            s.setValue(f"window/{splitter.objectName()}", splitter.saveState())
        s.sync()

    # ----- the function ---------------------------------------------------------------------

    def _on_function_applied(self, expression: Expression, domain: Domain) -> None:
        if not self._worker.is_ready:
            # Sampling f needs torch: keep the function and draw it once the engine is up.
            self._stop_all(keep_paths=False)
            self._clear_everything()
            self._expression, self._domain, self._grid = expression, domain, None
            self._contour.set_hint(LOADING_HINT)
            return
        self.show_landscape(expression, domain)

    def show_landscape(self, expression: Expression, domain: Domain, *, clear: bool = True) -> bool:
        """Sample f and redraw both views; a function undefined everywhere keeps the old one.

        clear=False keeps the runs on screen (they already belong to this function).
        """
        grid = _quiet_landscape(expression, domain, GRID_SIZE)
        if grid.finite_fraction == 0.0:
            self._function.show_error(
                "f has no finite value anywhere in this domain: try another function or domain."
            )
            return False
        if clear:
            self._stop_all(keep_paths=False)
            self._clear_everything()
        self._inspector.clear()  # the point's numbers belong to the old function
        self._expression, self._domain, self._grid = expression, domain, grid
        self._on_field_toggled(self._inspector.field_check_box().isChecked())
        self._log_action.blockSignals(True)
        self._log_action.setChecked(grid.suggest_log)
        self._log_action.blockSignals(False)
        # The surface first: the GL renders it (in threads of its own, with software GL)
        # while the contour map is traced and drawn here.
        if self._surface is not None:
            self._surface.set_landscape(grid, grid.suggest_log)
        self._contour.set_hint(HINT)
        self._contour.set_landscape(grid, grid.suggest_log)
        note = " (log colour scale: f spans a huge range)" if grid.suggest_log else ""
        gaps = "; grey marks where f is undefined" if grid.has_gaps else ""
        self.statusBar().showMessage(f"Drawn f(x, y) = {expression.text}{note}{gaps}", 8000)
        return True

    def _on_log_toggled(self, log: bool) -> None:
        self._contour.set_log_scale(log)
        if self._surface is not None:
            self._surface.set_log_scale(log)

    def _on_point_hovered(self, x: float, y: float) -> None:
        expression = self._expression
        if expression is None:
            return
        lines = [f"x = {x:.4g}   y = {y:.4g}"]
        if self._worker.is_ready:
            from explorer.core.gradient import autograd_gradient

            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    f, gx, gy = autograd_gradient(expression, x, y)
            except (ArithmeticError, ValueError, RuntimeError, TypeError):
                f, gx, gy = math.nan, math.nan, math.nan
            lines.append(f"f(x, y) = {f:.6g}")
            lines.append(f"∇f = ({gx:.4g}, {gy:.4g})   |∇f| = {math.hypot(gx, gy):.4g}")
        else:
            lines.append("f and ∇f: the engine is still loading…")
        self._contour.set_hover_text("\n".join(lines))

    # ----- the gradient inspector -----------------------------------------------------------

    def _on_inspect_toggled(self, on: bool) -> None:
        self._contour.set_inspect_mode(on)
        if on:
            self._inspector_dock.raise_()
            self.statusBar().showMessage(
                "Inspect mode: click the map to inspect a point; press I to descend again.", 8000)

    def inspect_point(self, x: float, y: float) -> None:
        """Show f, the gradient, the Hessian and the slopes at (x, y) in the inspector."""
        if self._expression is None or not self._worker.is_ready:
            self.statusBar().showMessage("The engine (torch) is still loading…", 3000)
            return
        self._inspector.inspect(self._expression, x, y)
        self._inspector_dock.raise_()

    def _on_field_toggled(self, on: bool) -> None:
        field = None
        if on and self._expression is not None and self._grid is not None:
            field = quiet_gradient_field(self._expression, self._domain)
        self._overlay.set_field(field)

    def _on_lr_requested(self, lr: float) -> None:
        self._controls.set_lr(lr)
        got = self._controls.lr()
        note = "" if got == lr else f" (2 / λmax = {lr:.6g} is outside what the controls allow)"
        self.statusBar().showMessage(f"Learning rate set to {got:.6g}{note}.", 8000)

    def _show_decrease(self, path_id: int | None) -> None:
        """Plot the selected run's predicted and actual decrease per step in the inspector."""
        self._decrease_id = path_id
        shown = self._paths.get(path_id) if path_id is not None else None
        if shown is None:
            self._inspector.set_trajectory(None)
            return
        self._inspector.set_trajectory(
            shown.trajectory(), ascent=shown.settings.ascent, color=shown.color,
            title=f"Run {shown.path_id}: {shown.optimizer_text()}, lr {shown.settings.lr:g}")

    def inspector_panel(self) -> InspectorPanel:
        """The gradient inspector."""
        return self._inspector

    def gradient_overlay(self) -> GradientOverlay:
        """The gradient arrows on the contour map."""
        return self._overlay

    def inspect_action(self) -> QAction:
        """View > Inspect gradient (I)."""
        return self._inspect_action

    # ----- starting runs --------------------------------------------------------------------

    def _on_start_requested(self, x: float, y: float, add_only: bool) -> None:
        if self._expression is None:
            return
        if add_only:
            self._pending.append((x, y))
            self._show_pending()
            count = len(self._pending)
            self.statusBar().showMessage(
                f"{count} start{'s' if count > 1 else ''} waiting: press Space (Run) to start "
                "them together.", 8000)
            return
        self.start_runs([(x, y)])

    def start_runs(
        self,
        starts: list[tuple[float, float]],
        settings: RunSettings | None = None,
        color: tuple[int, int, int] | None = None,
    ) -> int | None:
        """Start one batched run from these points; its run id.

        settings: the controls' settings unless given; color: one colour for all its paths
        (a race entry) instead of one each.
        """
        expression = self._expression
        if expression is None or not starts:
            return None
        settings = settings if settings is not None else self._controls.run_settings()
        run_id = self.new_run_id()
        xy = np.array(starts, dtype=np.float64).reshape(-1, 2)
        values = self._f_at(xy)
        column: list[ShownTrajectory | None] = []
        added: list[ShownTrajectory] = []
        for index, (point, value) in enumerate(zip(xy.tolist(), values.tolist(), strict=True)):
            shown = ShownTrajectory(
                path_id=self._next_path_id,
                run_id=run_id,
                column=index,
                color=color if color is not None else trajectory_color(self._color_index),
                start=(float(point[0]), float(point[1])),
                settings=settings,
                function=expression.text,
                start_f=float(value),
            )
            self._next_path_id += 1
            self._color_index += 1
            self._paths[shown.path_id] = shown
            self._animating.setdefault(shown.path_id, self._clock)
            column.append(shown)
            added.append(shown)
            # Drawn by the next frames, within their time budget: a hundred new paths at
            # once must not freeze the window.
            self._mark_dirty(shown.path_id)
        self._runs_panel.add_trajectories(added)
        self._expect_paths()
        self._runs[run_id] = column
        self._worker.submit(RunRequest(run_id, expression, xy, settings))
        if self._paused:
            self._set_paused(False)
        self._ensure_timer()
        self._controls.set_running(True)
        if not self._worker.is_ready:
            self.statusBar().showMessage(
                "The run starts as soon as the engine (torch) has loaded…", 5000)
        return run_id

    def new_run_id(self) -> int:
        """A run id no other request to the worker uses (tools that submit their own runs)."""
        run_id = self._next_run_id
        self._next_run_id += 1
        return run_id

    def take_pending_starts(self) -> list[tuple[float, float]]:
        """Remove and return the Shift-click starts waiting for Run."""
        starts, self._pending = self._pending, []
        self._show_pending()
        return starts

    def _f_at(self, xy: np.ndarray) -> np.ndarray:
        """f at points (n, 2); NaN until the engine (torch, which evaluates f) has loaded."""
        if self._expression is None or not self._worker.is_ready:
            return np.full(len(xy), np.nan)
        return _values_at(self._expression, xy)

    def _run_pending(self) -> int | None:
        starts, self._pending = self._pending, []
        self._show_pending()
        return self.start_runs(starts)

    def _show_pending(self) -> None:
        xy = np.array(self._pending, dtype=np.float64).reshape(-1, 2)
        self._contour.set_pending_starts(xy)
        if self._surface is not None:
            self._surface.set_pending_starts(xy, self._f_at(xy))

    # ----- worker signals -------------------------------------------------------------------

    def _on_engine_ready(self) -> None:
        # torch leaves about a million long-lived objects, and every full garbage collection
        # walks them all: a quarter-second stall, at random, in the middle of an animation.
        # Collect once now and leave them out of later collections.
        gc.collect()
        gc.freeze()
        self._engine_label.setText("Engine ready")
        self.statusBar().showMessage(READY, 15000)
        if self._expression is not None and self._grid is None:
            # Keep what was added while torch loaded (a session opened at start-up).
            self.show_landscape(self._expression, self._domain, clear=False)

    def _on_engine_failed(self, message: str) -> None:
        self._engine_label.setText("Engine failed")
        self._show_error("The engine could not load",
                         f"torch could not be loaded, so no descent can run:\n{message}")

    def _receive(self, run_id: int, item: ChunkPayload | RunResult | str) -> None:
        """Queue a chunk, a result or a failure behind what still waits; apply what time allows."""
        self._inbox.append(_Mail(run_id, item))
        self._drain_inbox()

    def _drain_inbox(self) -> None:
        """Apply what the worker sent, oldest first, for at most INBOX_BUDGET_S per turn."""
        deadline = time.perf_counter() + INBOX_BUDGET_S
        while self._inbox:
            mail = self._inbox[0]
            if isinstance(mail.item, RunResult):
                self._inbox.popleft()
                self._apply_finished(mail.run_id, mail.item)
            elif isinstance(mail.item, str):
                self._inbox.popleft()
                self._apply_failed(mail.run_id, mail.item)
            elif self._apply_chunk(mail, deadline):
                self._inbox.popleft()
            if time.perf_counter() > deadline:
                break
        if self._inbox:
            self._inbox_timer.start()
        else:
            self._inbox_timer.stop()

    def _apply_chunk(self, mail: _Mail, deadline: float) -> bool:
        """Add a chunk's rows to its paths from mail.next on; True once all are added."""
        column = self._runs.get(mail.run_id)
        payload = mail.item
        if column is None or not isinstance(payload, ChunkPayload):
            return True  # stopped or replaced meanwhile: stale
        added = 0
        # Plain ints and a lookup: Status(int(...)) per path costs more than the path's rows.
        statuses, reasons = payload.status.tolist(), payload.reason.tolist()
        begin, end = payload.begin.tolist(), payload.end.tolist()
        index = mail.next
        while index < len(column):
            shown = column[index]
            if shown is not None:
                if end[index] > begin[index]:
                    before = shown.received
                    shown.append(*payload.rows(index))
                    added += shown.received - before
                    self._animating.setdefault(shown.path_id, self._clock)
                shown.status = _STATUSES[statuses[index]]
                shown.reason = _REASONS[reasons[index]]
            index += 1
            if index % INBOX_SLICE == 0 and time.perf_counter() > deadline:
                break
        mail.next = index
        self._held_rows += added
        if self._held_rows > MAX_HELD_ROWS and self._runs:
            self._held_rows = sum(s.received for s in self._paths.values())  # exact, rarely
            if self._held_rows > MAX_HELD_ROWS:
                self._stop_all(keep_paths=True)
                self._show_error(
                    "The runs were stopped",
                    f"The paths on screen hold {self._held_rows:,} steps, more than the window "
                    f"keeps in memory ({MAX_HELD_ROWS:,}, about 400 MB).\n\nEverything computed "
                    "so far is kept and can be exported. For longer runs, remove some paths, "
                    "use fewer steps, or use the command line (python main.py run … --csv), "
                    "which has no such limit.")
        self._ensure_timer()
        return index >= len(column)

    def _apply_finished(self, run_id: int, result: RunResult) -> None:
        column = self._runs.pop(run_id, None)
        if column is None:
            return
        for shown, final in zip(column, result.trajectories, strict=False):
            if shown is None:
                continue
            # The final copy is authoritative: what was streamed must agree with it.
            rows = len(final.x)
            if shown.received != rows:
                shown.received = 0
                shown.append(np.column_stack([final.x, final.y]), final.f,
                             np.column_stack([final.grad_x, final.grad_y]))
            shown.status, shown.reason = final.status, final.reason
            if final.status is Status.DIVERGED and not shown.settings.ascent:
                shown.note = self._stability_note(shown.start, shown.settings.lr)
            self._table_dirty[shown.path_id] = None
            self._animating.setdefault(shown.path_id, self._clock)
        self._ensure_timer()

    def _stability_note(self, start: tuple[float, float], lr: float) -> str:
        """Why a run may have diverged: lr against 2 / lambda_max at its start ('' if not)."""
        if self._expression is None:
            return ""
        from explorer.core.stability import stability_note

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return stability_note(self._expression, start, lr)

    def _apply_failed(self, run_id: int, message: str) -> None:
        column = self._runs.pop(run_id, None)
        if column is None:
            return
        for shown in column:
            if shown is not None:
                shown.failure = message
                self._table_dirty[shown.path_id] = None
        self.statusBar().showMessage(f"The run could not go on: {message}", 15000)
        self._ensure_timer()

    # ----- animation ------------------------------------------------------------------------

    def _ensure_timer(self) -> None:
        if not self._timer.isActive() and not self._closing:
            self._last_tick = self._tick_done = time.perf_counter()
            self._updated = None
            self._credit = 0.0
            self._timer.start()

    def _on_speed_changed(self) -> None:
        self._credit = 0.0

    def _on_animation_tick(self) -> None:
        now = time.perf_counter()
        elapsed, self._last_tick = now - self._last_tick, now
        speed = self._controls.animation_speed()
        if self._paused:
            budget = 0
        elif speed is None:
            budget = 1 << 62
        else:
            # A stalled frame does not make the paths jump: at most a quarter second of steps.
            self._credit = min(self._credit + elapsed * speed, max(speed * 0.25, 1.0))
            budget = int(self._credit)
            self._credit -= budget
        self._clock += budget
        self._advance_paths(time.perf_counter() + ANIMATION_BUDGET_S)
        self._update_views(now)
        # The table repaints in a turn of its own too, unless it has waited too long.
        table_due = now - self._last_table >= (
            TABLE_INTERVAL_S if self._updated is None else TABLE_MAX_WAIT_S)
        if self._table_dirty and table_due:
            self._flush_table(TABLE_BUDGET_S)
        if not self._animating and not any(views.dirty for views in self._paced) \
                and not self._runs and not self._table_dirty:
            self._timer.stop()
            self._controls.set_running(False)
            if self._paused:
                self._set_paused(False)
        else:
            self._controls.set_running(not self._paused)
        self._tick_done = time.perf_counter()

    def _advance_paths(self, deadline: float) -> None:
        """Reveal the steps the clock allows, path by path, until the round or the time ends."""
        if not self._sweep:
            self._sweep = list(reversed(self._animating))
        while self._sweep:
            path_id = self._sweep.pop()
            last = self._animating.get(path_id)
            if last is None:
                continue  # removed meanwhile
            shown = self._paths.get(path_id)
            if shown is None or not shown.animating:
                del self._animating[path_id]
                continue
            self._animating[path_id] = self._clock
            target = shown.step_target if self._paused else shown.shown + (self._clock - last)
            new = min(shown.received, max(target, shown.shown))
            if new != shown.shown:
                shown.shown = new
                self._mark_dirty(shown.path_id)
                self._table_dirty[shown.path_id] = None
            if not shown.ended:
                shown.step_target = max(shown.step_target, shown.shown)
            if not shown.animating:
                del self._animating[path_id]
                self._table_dirty[shown.path_id] = None
            if len(self._sweep) % ANIMATION_SLICE == 0 and time.perf_counter() > deadline:
                break

    def _update_views(self, now: float) -> None:
        """Update the most overdue views that are due, and learn what their repaint costs."""
        gap = max(now - self._tick_done - FRAME_MS / 1000.0, 0.0)
        if self._updated is not None:
            self._updated.cost_s = 0.5 * self._updated.cost_s + 0.5 * gap
        if self._awaiting is not None:
            # The last update's repaint comes first; then this tick, which may fall in the
            # repaint's turn, leaves the turn to input: the next view waits for the next tick.
            if self._awaiting_painted or now - self._awaiting_since >= AWAIT_PAINT_MAX_S:
                self._awaiting = None
            self._updated = None
            return
        due = [views for views in self._paced if views.dirty and now >= views.next_s]
        self._updated = min(due, key=lambda views: views.next_s) if due else None
        if self._updated is not None:
            self._flush_views(self._updated, VIEW_BUDGET_S)
            widget = self._updated.widget
            if widget is not None and widget.isVisible():
                self._awaiting, self._awaiting_since = self._updated, now
                self._awaiting_painted = False
                self._paint_watch.watch(widget)
            # The views share the event loop: each waits for what all of them cost.
            total = sum(views.cost_s for views in self._paced)
            wait = min(PAINT_SHARE * total, self._updated.max_interval_s)
            self._updated.next_s = now + wait

    def _on_view_painted(self, widget: QObject) -> None:
        if self._awaiting is not None and self._awaiting.widget is widget:
            self._awaiting_painted = True

    def _flush_views(self, views: _PacedViews, budget_s: float | None = None) -> None:
        """Draw the paths that changed, oldest first, for at most budget_s."""
        deadline = math.inf if budget_s is None else time.perf_counter() + budget_s
        while views.dirty:
            path_id = next(iter(views.dirty))
            del views.dirty[path_id]
            shown = self._paths.get(path_id)
            if shown is not None:
                views.draw(shown)
            if time.perf_counter() > deadline:
                break
        views.flush()

    def _mark_dirty(self, path_id: int) -> None:
        for views in self._paced:
            views.dirty[path_id] = None

    def _flush_table(self, budget_s: float | None = None) -> None:
        """Refresh the rows that changed, oldest first, for at most budget_s."""
        self._last_table = time.perf_counter()
        deadline = math.inf if budget_s is None else self._last_table + budget_s
        while self._table_dirty:
            path_id = next(iter(self._table_dirty))
            del self._table_dirty[path_id]
            shown = self._paths.get(path_id)
            if shown is not None:
                self._runs_panel.update_trajectory(shown)
            if time.perf_counter() > deadline:
                break

    def _expect_paths(self) -> None:
        """Tell the views how many paths are coming, so that a big batch starts as a crowd."""
        views: list[ContourView | LossView | SurfaceView | None] = [
            self._contour, self._loss, self._surface]
        for view in views:
            if view is not None:
                view.expect_paths(len(self._paths))

    def _draw_contour(self, shown: ShownTrajectory) -> None:
        xy = shown.shown_xy()
        self._contour.set_path(shown.path_id, xy, shown.color, current=len(xy) - 1)

    def _draw_loss(self, shown: ShownTrajectory) -> None:
        self._loss.set_path(shown.path_id, shown.shown_f(), shown.color)
        if shown.path_id == self._decrease_id:
            self._show_decrease(shown.path_id)

    def _draw_3d(self, shown: ShownTrajectory) -> None:
        if self._surface is not None:
            xy = shown.shown_xy()
            self._surface.set_path(shown.path_id, xy, shown.shown_f(), shown.color,
                                   current=len(xy) - 1)

    def is_animating(self) -> bool:
        """True while some path is still computing, being revealed or waiting to be drawn."""
        return (
            bool(self._runs)
            or bool(self._inbox)
            or any(views.dirty for views in self._paced)
            or bool(self._table_dirty)
            or any(self._paths[i].animating for i in self._animating if i in self._paths)
        )

    # ----- run controls ---------------------------------------------------------------------

    def _set_paused(self, paused: bool) -> None:
        self._paused = paused
        if paused:
            self._worker.pause()
            for path_id in self._animating:
                shown = self._paths[path_id]
                shown.step_target = shown.shown
            self.statusBar().showMessage("Paused: Space resumes, the Right arrow steps.", 8000)
        else:
            self._worker.resume()
            self._credit = 0.0
        self._controls.set_running(not paused and self.is_animating())

    def is_paused(self) -> bool:
        """True while the animation and the worker are paused."""
        return self._paused

    def _on_run_pause_requested(self) -> None:
        if self._pending:
            self._run_pending()
        elif self._paused:
            self._set_paused(False)
            self._ensure_timer()
        elif self.is_animating():
            self._set_paused(True)
        else:
            self.statusBar().showMessage(
                "Nothing to run: click the map to start there, or Shift-click to add starts "
                "and then press Space.", 8000)

    def _on_step_requested(self) -> None:
        if self._pending:
            self._run_pending()
        if not self._paused:
            self._set_paused(True)
        credits: dict[int, int] = {}
        for path_id in self._animating:
            shown = self._paths[path_id]
            if not shown.animating:
                continue
            # The first step shows the start and the point after one step.
            shown.step_target = max(shown.step_target, shown.shown, 1) + 1
            missing = shown.step_target - shown.received
            if missing > 0 and not shown.ended:
                credits[shown.run_id] = credits.get(shown.run_id, 0) + missing
        for run_id, count in credits.items():
            self._worker.step([run_id] * count)
        self._ensure_timer()

    def _on_stop_requested(self) -> None:
        stopped = self._stop_all(keep_paths=True)
        if stopped:
            self.statusBar().showMessage(f"Stopped {stopped} path{'s' if stopped > 1 else ''}.",
                                         5000)

    def _stop_all(self, *, keep_paths: bool) -> int:
        """Stop every run; the paths stay where they are drawn now. Returns how many stopped."""
        self._worker.stop(list(self._runs))
        self._runs.clear()
        count = 0
        for path_id in self._animating:
            shown = self._paths[path_id]
            if shown.animating:
                shown.stopped = True
                shown.received = shown.shown
                count += 1
                self._table_dirty[shown.path_id] = None
                if keep_paths:
                    self._mark_dirty(shown.path_id)
        if self._paused:
            self._paused = False
            self._worker.resume()
        if keep_paths:
            for views in self._paced:
                self._flush_views(views)
            self._flush_table()
        self._controls.set_running(False)
        return count

    def _on_reset_requested(self) -> None:
        starts = [shown.start for shown in self._paths.values()]
        self._stop_all(keep_paths=False)
        self._remove_paths(list(self._paths))
        for start in starts:
            if start not in self._pending:
                self._pending.append(start)
        self._show_pending()
        if self._pending:
            self.statusBar().showMessage(
                f"{len(self._pending)} starts ready: press Space to run them with the current "
                "settings.", 8000)

    def _on_delete_key(self) -> None:
        table = self._runs_panel.table()
        selected = self._runs_panel.selected_ids()
        if selected and (table.hasFocus() or table.isAncestorOf(self.focusWidget())):
            self.remove_paths(selected)
        else:
            self._on_clear_requested()

    def _on_clear_requested(self) -> None:
        self._stop_all(keep_paths=False)
        self._clear_everything()

    def _clear_everything(self) -> None:
        self._remove_paths(list(self._paths))
        self._pending = []
        self._show_pending()
        self._color_index = 0

    def remove_paths(self, path_ids: list[int]) -> None:
        """Remove these trajectories everywhere; a run whose paths are all gone is stopped."""
        self._remove_paths(path_ids)
        for run_id, column in list(self._runs.items()):
            if all(shown is None for shown in column):
                self._worker.stop([run_id])
                del self._runs[run_id]

    def _remove_paths(self, path_ids: list[int]) -> None:
        for path_id in path_ids:
            shown = self._paths.pop(path_id, None)
            if shown is None:
                continue
            self._held_rows -= shown.received
            column = self._runs.get(shown.run_id)
            if column is not None:
                column[shown.column] = None
            self._contour.remove_path(path_id)
            if self._surface is not None:
                self._surface.remove_path(path_id)
            self._loss.remove_path(path_id)
            for views in self._paced:
                views.dirty.pop(path_id, None)
            self._table_dirty.pop(path_id, None)
            self._animating.pop(path_id, None)
        self._runs_panel.remove_trajectories(path_ids)
        self._expect_paths()

    def _on_highlight_requested(self, path_id: int | None) -> None:
        self._show_decrease(path_id)
        self._contour.set_highlight(path_id)
        if self._surface is not None:
            self._surface.set_highlight(path_id)
        self._loss.set_highlight(path_id)

    # ----- export ---------------------------------------------------------------------------

    def trajectories(self, *, selected_only: bool = False) -> list[ShownTrajectory]:
        """The shown trajectories (or the selected ones), in table order."""
        ids = self._runs_panel.selected_ids() if selected_only else self._runs_panel.path_ids()
        return [self._paths[i] for i in ids if i in self._paths]

    def export_to(self, path: str | os.PathLike[str], *, selected_only: bool = False) -> bool:
        """Write the trajectories as drawn now to a CSV; on failure show a dialog, keep all."""
        chosen = [t for t in self.trajectories(selected_only=selected_only) if t.shown > 0]
        try:
            rows = write_trajectories(path, [t.trajectory() for t in chosen])
        except ExportError as error:
            self._show_error("Export failed",
                             f"{error}\n\nNothing was written; everything on screen is kept.")
            return False
        self.statusBar().showMessage(
            f"Wrote {len(chosen)} trajectories ({rows} rows) to {path}", 10000)
        return True

    def _on_export_requested(self) -> None:
        if not self._paths:
            self.statusBar().showMessage("Nothing to export yet: start a descent first.", 5000)
            return
        selected_only = False
        selected = self._runs_panel.selected_ids()
        if selected and len(selected) < len(self._paths):
            box = QMessageBox(self)
            box.setWindowTitle("Export trajectories")
            box.setText("Export which trajectories?")
            every = box.addButton(f"All {len(self._paths)}", QMessageBox.ButtonRole.AcceptRole)
            some = box.addButton(f"The {len(selected)} selected",
                                 QMessageBox.ButtonRole.AcceptRole)
            box.addButton(QMessageBox.StandardButton.Cancel)
            box.exec()
            if box.clickedButton() not in (every, some):
                return
            selected_only = box.clickedButton() is some
        start = str(Path(_str(self._settings.value("export/folder"), str(Path.home())))
                    / "trajectories.csv")
        path, _ = QFileDialog.getSaveFileName(
            self, "Export trajectories", start, "CSV files (*.csv);;All files (*)")
        if not path:
            return
        self._settings.setValue("export/folder", str(Path(path).parent))
        self.export_to(path, selected_only=selected_only)

    def save_image(self, which: str, path: str) -> bool:
        """Save the contour map or the surface as PNG; on failure show a dialog."""
        view = self._surface if which == "surface" else self._contour
        if view is None:
            self._show_error("Save image", "The 3D view is not available here.")
            return False
        try:
            view.save_png(path)
        except OSError as error:
            self._show_error("Save image failed", str(error))
            return False
        self.statusBar().showMessage(f"Saved the {which} image to {path}", 8000)
        return True

    def _on_save_image_requested(self, which: str) -> None:
        start = str(Path(_str(self._settings.value("export/folder"), str(Path.home())))
                    / f"{which}.png")
        path, _ = QFileDialog.getSaveFileName(self, "Save image", start, "PNG images (*.png)")
        if path:
            self._settings.setValue("export/folder", str(Path(path).parent))
            self.save_image(which, path)

    def _show_error(self, title: str, text: str) -> None:
        """A window-modal message that does not block the event loop."""
        box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok,
                          self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self._error_box = box
        box.open()

    def error_box(self) -> QMessageBox | None:
        """The last error dialog (for tests)."""
        return self._error_box

    # ----- help -----------------------------------------------------------------------------

    def show_help(self) -> QDialog:
        """Show the short help on each part of the window (F1)."""
        if self._help is None:
            dialog = QDialog(self)
            dialog.setWindowTitle(f"{TITLE}: help")
            text = QTextBrowser()
            text.setHtml(HELP_HTML)
            text.setOpenExternalLinks(True)
            buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
            buttons.rejected.connect(dialog.close)
            layout = QVBoxLayout(dialog)
            layout.addWidget(text)
            layout.addWidget(buttons)
            dialog.resize(620, 640)
            self._help = dialog
        self._help.show()
        self._help.raise_()
        return self._help

    def _on_about_requested(self) -> None:
        QMessageBox.about(self, f"About {TITLE}", ABOUT_HTML)

    # ----- accessors for tests and the benchmark --------------------------------------------

    def contour_view(self) -> ContourView:
        """The contour view."""
        return self._contour

    def surface_view(self) -> SurfaceView | None:
        """The 3D view, or None without OpenGL."""
        return self._surface

    def loss_view(self) -> LossView:
        """The loss plot."""
        return self._loss

    def runs_panel(self) -> RunsPanel:
        """The runs table."""
        return self._runs_panel

    def function_panel(self) -> FunctionPanel:
        """The function editor."""
        return self._function

    def controls_panel(self) -> ControlsPanel:
        """The controls."""
        return self._controls

    def landscape(self) -> LandscapeGrid | None:
        """The landscape on screen."""
        return self._grid

    def expression(self) -> Expression | None:
        """The function on screen."""
        return self._expression

    def log_scale_action(self) -> QAction:
        """View > Log colour scale."""
        return self._log_action

    def pending_starts(self) -> list[tuple[float, float]]:
        """Starts added with Shift-click, waiting for Run."""
        return list(self._pending)

    def shown_trajectories(self) -> list[ShownTrajectory]:
        """Every trajectory on screen, oldest first."""
        return list(self._paths.values())

    # ----- closing --------------------------------------------------------------------------

    # ----- sessions -------------------------------------------------------------------------

    @property
    def sessions(self) -> SessionActions:
        """The session file actions (save, open, import, recent files)."""
        return self._sessions

    def session_state(self, *, with_trajectories: bool = True) -> Session:
        """What a session file stores: function, view, settings, starts in their batches, and
        (when asked, for batches that finished) the computed paths."""
        applied = self._function.applied()
        text, domain = applied if applied is not None else ("", self._domain)
        batches: dict[int, list[ShownTrajectory]] = {}
        for shown in self.trajectories():
            if not shown.imported:
                batches.setdefault(shown.run_id, []).append(shown)
        runs = []
        for paths in batches.values():
            paths.sort(key=lambda shown: shown.column)
            done = with_trajectories and all(
                shown.ended and not shown.stopped and not shown.failure
                and shown.shown == shown.received for shown in paths)
            runs.append(SessionRun(
                paths[0].settings,
                tuple(shown.start for shown in paths),
                tuple(shown.trajectory() for shown in paths) if done else None,
            ))
        controls = self._controls.run_settings()
        return Session(
            function=text,
            domain=domain,
            controls=controls,
            view=ViewSettings(self._log_action.isChecked(),
                              self._loss.log_check_box().isChecked()),
            pending=tuple(self._pending),
            runs=tuple(runs),
            race=tuple(entry.settings(controls) for entry in self._lab_tools.race_entries()),
        )

    def restore_session(self, session: Session) -> bool:
        """Show a session: its function, settings and starts; its paths, computed or run again.

        False (and nothing changed) when its function cannot be drawn over its domain.
        """
        from explorer.core.expression import parse

        expression = parse(session.function)
        if self._worker.is_ready:
            grid = _quiet_landscape(expression, session.domain, GRID_SIZE)
            if grid.finite_fraction == 0.0:
                return False
        self._function.set_function(session.function, session.domain)
        self._function.apply()  # stops and clears the old runs
        controls = session.controls
        self._controls.set_optimizer(controls.optimizer)
        self._controls.set_params(controls.optimizer, controls.param_dict)
        self._controls.set_lr(controls.lr)
        self._controls.set_limits(controls.steps, controls.tol, controls.ascent)
        self._controls.set_noise(controls.noise, controls.seed)
        if session.view.log_scale is not None:
            self._log_action.setChecked(session.view.log_scale)
        self._loss.log_check_box().setChecked(session.view.loss_log)
        for run in session.runs:
            if run.trajectories is None:
                self.start_runs(list(run.starts), run.settings)
            else:
                self._add_finished(list(run.trajectories), run.settings, imported=False)
        self._pending = list(session.pending)
        self._show_pending()
        if session.race:
            from explorer.core.race import RaceEntry

            self._lab_tools.set_race_entries(
                [RaceEntry(entry.optimizer, entry.lr, entry.params) for entry in session.race])
        return True

    def add_imported(self, trajectories: list[Trajectory], source: str) -> int:
        """Overlay trajectories read from a file, read-only (never run again); how many."""
        self._add_finished(trajectories, None, imported=True, source=source)
        return len(trajectories)

    def _add_finished(
        self,
        trajectories: list[Trajectory],
        settings: RunSettings | None,
        *,
        imported: bool,
        source: str = "",
    ) -> None:
        run_id = self.new_run_id()  # never submitted: a batch label for session files
        added: list[ShownTrajectory] = []
        for index, t in enumerate(trajectories):
            shown = ShownTrajectory(
                path_id=self._next_path_id,
                run_id=run_id,
                column=index,
                color=trajectory_color(self._color_index),
                start=t.start,
                settings=settings if settings is not None else RunSettings(
                    optimizer=t.optimizer if t.optimizer in REGISTRY else "sgd", lr=t.lr),
                function=t.function,
                start_f=float(t.f[0]),
                imported=imported,
                source=source or t.optimizer,
            )
            self._next_path_id += 1
            self._color_index += 1
            shown.append(np.column_stack([t.x, t.y]), t.f, np.column_stack([t.grad_x, t.grad_y]))
            self._held_rows += shown.received
            shown.shown = shown.received
            shown.status, shown.reason = t.status, t.reason
            if shown.status is Status.RUNNING:
                shown.stopped = True
            self._paths[shown.path_id] = shown
            added.append(shown)
            self._mark_dirty(shown.path_id)
            self._table_dirty[shown.path_id] = None
        self._runs_panel.add_trajectories(added)
        self._expect_paths()
        self._ensure_timer()

    def set_document_name(self, name: str) -> None:
        """Show the session file's name in the title bar."""
        self.setWindowTitle(f"{name} — {TITLE}")

    def show_error(self, title: str, text: str) -> None:
        """A window-modal message that does not block the event loop."""
        self._show_error(title, text)

    def closeEvent(self, event: QCloseEvent) -> None:
        """Stop the runs, join the worker (within a second when it runs), save the settings."""
        if not self._closing and not self._sessions.confirm_discard():
            event.ignore()
            return
        if not self._closing:
            self._closing = True
            self._timer.stop()
            self.save_settings()
            if self._help is not None:
                self._help.close()
            if not self._worker.shutdown(1000):
                # Still importing torch, which cannot be interrupted: leave the screen at once
                # and let the import finish before the thread object goes away.
                self.hide()
                self._worker.join()
        super().closeEvent(event)


def _getting_started() -> QWidget:
    """A short how-to under the controls, for a first-time user."""
    box = QGroupBox("How to")
    label = QLabel(GETTING_STARTED)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.RichText)
    layout = QVBoxLayout(box)
    layout.addWidget(label)
    return box


def _titled(title: str, widget: QWidget) -> QWidget:
    """A widget with a small bold caption above it."""
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(2, 2, 2, 2)
    layout.setSpacing(2)
    label = QLabel(f"<b>{title}</b>")
    layout.addWidget(label)
    layout.addWidget(widget, 1)
    return box


def _str(value: object, default: str) -> str:
    return value if isinstance(value, str) and value else default


def _float(value: object, default: float) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return default


def _domain(value: object, default: Domain) -> Domain:
    parts = value.split(",") if isinstance(value, str) else value
    try:
        numbers = [float(v) for v in parts]  # type: ignore[union-attr]
    except (TypeError, ValueError):
        return default
    if len(numbers) != 4 or not all(math.isfinite(v) for v in numbers):
        return default
    return numbers[0], numbers[1], numbers[2], numbers[3]


class _QuitWhenShown(QObject):
    """For tests and the benchmark: report when the window is on screen, then press Ctrl+Q."""

    def __init__(self, window: MainWindow, mode: str) -> None:
        super().__init__(window)
        self._window = window
        self._mode = mode
        self._shown = False
        self._engine = False
        self._waited = 0
        self._poll = QTimer(self)
        self._poll.setInterval(5)
        self._poll.timeout.connect(self._on_poll)
        self._poll.start()
        window.worker.engine_ready.connect(self._on_engine_ready)

    def _on_poll(self) -> None:
        handle = self._window.windowHandle()
        if not self._shown:
            if handle is None or not handle.isExposed():
                return
            self._shown = True
            print(f"{SHOWN_MARK} {time.time():.6f}", flush=True)
            # Shortcuts go to the active window; without a window manager, ask for it.
            self._window.activateWindow()
        if self._mode == "engine" and not self._engine:
            return
        if QApplication.activeWindow() is not self._window:
            self._waited += 1
            if self._waited < 1000:  # five seconds
                return
            print("GDX: the window never became active; closing it directly", flush=True)
            self._poll.stop()
            self._window.close()
            return
        self._poll.stop()
        from PySide6.QtTest import QTest

        QTest.keyClick(self._window, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)

    def _on_engine_ready(self) -> None:
        self._engine = True


class _WhenExposed(QObject):
    """Call functions once a window is on screen and its first frame is painted."""

    def __init__(self, window: QWidget, calls: list[Callable[[], None]]) -> None:
        super().__init__(window)
        self._window = window
        self._calls = calls
        self._poll = QTimer(self)
        self._poll.setInterval(5)
        self._poll.timeout.connect(self._on_poll)
        self._poll.start()

    def _on_poll(self) -> None:
        handle = self._window.windowHandle()
        if handle is None or not handle.isExposed():
            return
        self._poll.stop()
        for index, call in enumerate(self._calls):
            # One per event-loop turn, after the frame that is being drawn now.
            QTimer.singleShot(30 * (index + 1), call)


def run_app() -> int:
    """Open the window and run the event loop; the exit code."""
    # Share GL contexts between widgets (pyqtgraph's compiled shaders); must precede the app.
    QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName(TITLE)
    # The offscreen platform has no OpenGL: show the rest of the window without the 3D view.
    window = MainWindow(
        open_settings(), with_surface=app.platformName() != "offscreen", defer_surface=True
    )
    window.show()
    # The engine (torch) and the 3D view (OpenGL) load once the window is on screen.
    _WhenExposed(window, [window.start_engine, window.build_surface])
    mode = os.environ.get(QUIT_ENV, "")
    if mode:
        _QuitWhenShown(window, mode)
    return int(app.exec())

