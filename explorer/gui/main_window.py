"""The main window: composition only. It builds the parts, wires their signals, handles close."""

from __future__ import annotations

import gc
from typing import TYPE_CHECKING

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QLabel,
    QMainWindow,
    QMessageBox,
)

from explorer.gui.settings_file import (
    APPLICATION,
    SETTINGS_ENV,
    open_settings,
    restore_geometry,
)

# Only what the first frame needs is imported here; the parts (pyqtgraph, numpy, the core)
# are imported by build(), after that frame is on screen (run_app).
if TYPE_CHECKING:
    from explorer.core.expression import Expression
    from explorer.core.landscape import Domain
    from explorer.gui.engine.descent_worker import DescentWorker
    from explorer.gui.exporting import Exporter
    from explorer.gui.session_state import SessionState
    from explorer.gui.views.contour_view import ContourView
    from explorer.gui.views.surface_view import SurfaceView

__all__ = ["SETTINGS_ENV", "TITLE", "MainWindow", "open_settings"]

TITLE = APPLICATION
LOADING = "Loading the engine (torch)…"
LOADING_HINT = "Loading the engine (torch)… the landscape appears in a moment"
READY = "Ready: click the map to descend from there; Shift-click adds starts, Space runs them."


class MainWindow(QMainWindow):
    """Gradient Descent Explorer: landscape views, function editor, controls, runs and loss."""

    # Made by build(), after the menus that call them: declared here so that their types are
    # known where the menus' callbacks name them.
    exporter: Exporter
    session: SessionState

    def __init__(self, settings: QSettings | None = None, *, with_surface: bool = True,
                 defer_surface: bool = False, defer_build: bool = False) -> None:
        """with_surface=False leaves the 3D view out (no OpenGL); defer_surface builds it only
        when build_surface() is called, so that the window can be shown sooner; defer_build
        makes only the frame (title, size, status bar) until build() is called: the first
        frame is drawn before pyqtgraph, numpy and the parts are even imported."""
        super().__init__()
        self.setWindowTitle(f"{TITLE}[*]")  # [*]: where Qt shows unsaved changes
        self._settings = settings if settings is not None else open_settings()
        self._closing = False
        self._ask_on_close = True
        self._built = False
        self._error_box: QMessageBox | None = None
        self.surface: SurfaceView | None = None
        self._with_surface = with_surface
        self._defer_surface = defer_surface
        self._engine_label = QLabel(LOADING)
        self.statusBar().addPermanentWidget(self._engine_label)
        self.statusBar().showMessage(LOADING)
        self.resize(1400, 900)
        if defer_build:
            opening = QLabel("Opening Gradient Descent Explorer…")
            opening.setAlignment(Qt.AlignmentFlag.AlignCenter)
            self.setCentralWidget(opening)
            restore_geometry(self._settings, self)  # the frame appears where the window was
        else:
            self.build()

    def is_built(self) -> bool:
        """Whether build() has made the parts (at once, unless defer_build was asked for)."""
        return self._built

    def build(self) -> None:
        """Import and make the parts, lay them out, wire them and restore the settings."""
        if self._built or self._closing:
            return
        self._built = True
        from explorer.gui.engine.runner import Runner
        from explorer.gui.exporting import Exporter
        from explorer.gui.figures import Figures
        from explorer.gui.function_undo import FunctionUndo
        from explorer.gui.help import HelpWindows
        from explorer.gui.inspection import Inspection
        from explorer.gui.layout import left_dock, scrolled
        from explorer.gui.menus import Menus
        from explorer.gui.model.document import Document
        from explorer.gui.model.notifier import Notifier
        from explorer.gui.model_mode import ModelMode
        from explorer.gui.network_mode import NetworkMode
        from explorer.gui.panels.controls_panel import ControlsPanel
        from explorer.gui.panels.function_panel import FunctionPanel
        from explorer.gui.panels.inspector_panel import InspectorPanel
        from explorer.gui.panels.runs_panel import RunsPanel
        from explorer.gui.parts import Parts
        from explorer.gui.path_drawing import PathDrawing
        from explorer.gui.session_actions import SessionActions
        from explorer.gui.session_state import SessionState
        from explorer.gui.settings import restore_layout, restore_panels
        from explorer.gui.state_display import StateDisplay
        from explorer.gui.tools.animation_dialog import AnimationExport
        from explorer.gui.tools.lab_tools import LabTools
        from explorer.gui.tools.lesson_panel import LessonGuide
        from explorer.gui.views.contour_view import ContourView
        from explorer.gui.views.loss_view import LossView
        from explorer.gui.views.state_marks import StateMarks

        self.document = Document()
        self.notifier = Notifier(self)
        self.notifier.status_requested.connect(self.statusBar().showMessage)
        self.notifier.error_requested.connect(self.show_error)

        self.contour = ContourView()
        self.loss = LossView()
        self.runs_panel = RunsPanel()
        self.function = FunctionPanel()
        self.controls = ControlsPanel()
        self.runner = Runner(self.document, self.controls.run_settings,
                             self.controls.path_time_s, self.runs_panel.update_trajectory,
                             self)
        self.parts = Parts(self.document, self.runner, self.function, self.controls,
                           self.contour, self.loss, self.notifier, self)
        self.model_mode = ModelMode(self.parts, self._settings, self)
        self.network_mode = NetworkMode(self.parts, self._settings, self.model_mode, self)
        self.drawing = PathDrawing(self)
        self.help = HelpWindows(self, TITLE)
        self._build_layout(self._with_surface)
        self.menus = Menus(self, {
            "export": lambda: self.exporter.ask_export(),
            "save_contour": lambda: self.exporter.ask_save_image("contour"),
            "save_surface": lambda: self.exporter.ask_save_image("surface"),
            "quit": self.close,
            "run_pause": self.runner.run_or_pause,
            "step": self.runner.step,
            "stop": self.runner.stop,
            "reset": self.runner.reset,
            "delete": lambda: self.drawing.delete_pressed(self.focusWidget()),
            "help": self.help.show_help,
            "about": self.help.show_about,
        })
        self.inspector = InspectorPanel(self.menus.inspect)
        self._inspector_dock = left_dock(self, "Inspector", "inspector_dock",
                                          scrolled(self.inspector))
        self.tabifyDockWidget(self._setup_dock, self._inspector_dock)
        self._setup_dock.raise_()
        self.inspection = Inspection(self.parts, self.inspector, self._inspector_dock,
                                     self.menus.inspect)
        self.state_display = StateDisplay(StateMarks(self.contour.plot_widget().getPlotItem()),
                                          self.inspector.state_box, self.menus.optimiser_state,
                                          self._settings, self)
        self.exporter = Exporter(self, self._settings, self.notifier,
                                 lambda selected: self.session.trajectories(
                                     selected_only=selected),
                                 lambda: len(self.runs_panel.selected_ids()), self._png_view)
        self.figures = Figures(self, self._settings, self.notifier, self.menus.file)
        self.animation = AnimationExport(self.parts, self._settings, self.menus.file,
                                         self.menus.log_scale.isChecked, self.network_mode)
        self.lab = LabTools(self.parts, self.menus.tools, self.animation)
        self.function_undo = FunctionUndo(self.parts, self.menus.edit, self.statusBar())
        self.session = SessionState(self.parts, self.runs_panel, self.menus.log_scale, self.lab,
                                    self.set_document_name, self.model_mode, self.network_mode)
        self.sessions = SessionActions(self, self.session, self.notifier, self._settings,
                                       self.menus.file, self.menus.quit,
                                       may_go_on=self._confirm_stop_tools)
        self.lesson = LessonGuide(self.parts, self.session, self.lab, self.inspection,
                                  self.sessions.confirm_discard, self.menus.help, self.network_mode)
        self._wire()
        restore_panels(self._settings, self.function, self.controls)
        restore_layout(self._settings, self, self._splitters)
        if self._with_surface and not self._defer_surface:
            self.build_surface()

    # ----- building -------------------------------------------------------------------------

    def _build_layout(self, with_surface: bool) -> None:
        from explorer.gui.layout import (
            central_area,
            left_dock,
            placeholder,
            setup_column,
            tabs,
            titled,
        )
        from explorer.gui.model.scheduler import PacedViews

        self._placeholder: QLabel | None = placeholder(
            "Preparing the 3D view…" if with_surface
            else "The 3D view needs OpenGL, which is not available here.")
        self._surface_box = titled("3D surface (drag to rotate, wheel to zoom)",
                                   self._placeholder)
        self._plots = tabs(  # the loss, and a model's data and fit beside it
            (titled("Loss: f at each step", self.loss), "Loss"),
            *self.network_mode.pages(titled("Data: the points, the current fit and its minibatch",
                                            self.model_mode.data_view)))
        self._splitters = central_area([titled("Contour map", self.contour), self._surface_box],
                                       [titled("Runs", self.runs_panel), self._plots])
        self.setCentralWidget(self._splitters[0])
        # Short tab titles: the setup, the inspector and three tools share the column's width.
        self._setup_dock = left_dock(self, "Setup", "setup_dock", setup_column(
            self.function, self.model_mode.panel, self.network_mode.panel, self.controls))
        # The 2-D views and the 3-D view are paced apart: software OpenGL can be slow.
        scheduler = self.runner.scheduler
        scheduler.add_views(PacedViews(self.drawing.draw_contour, 1 / 8, self.contour.flush,
                                       self.contour.plot_widget().viewport()))
        scheduler.add_views(PacedViews(self.drawing.draw_loss, 1 / 4, self.loss.flush,
                                       self.loss.plot_widget().viewport()))

    def _wire(self) -> None:
        runner, controls, contour = self.runner, self.controls, self.contour
        runner.worker.engine_ready.connect(self._on_engine_ready)
        runner.worker.engine_failed.connect(self._on_engine_failed)
        runner.message.connect(self.statusBar().showMessage)
        runner.error.connect(self.show_error)
        runner.running_changed.connect(controls.set_running)
        runner.paths_added.connect(self.drawing.paths_added)
        runner.paths_removed.connect(self.drawing.paths_removed)
        runner.pending_changed.connect(self.drawing.show_pending)
        contour.start_requested.connect(self.drawing.start_requested)
        self.function.function_applied.connect(self._on_function_applied)
        controls.run_pause_requested.connect(runner.run_or_pause)
        controls.step_requested.connect(runner.step)
        controls.stop_requested.connect(runner.stop)
        controls.reset_requested.connect(runner.reset)
        controls.clear_requested.connect(runner.clear)
        controls.export_requested.connect(self.exporter.ask_export)
        controls.speed_changed.connect(runner.scheduler.reset_credit)
        self.runs_panel.highlight_requested.connect(self.drawing.highlight)
        self.model_mode.model_shown.connect(self._on_model_shown)
        self.network_mode.shown.connect(self._on_model_shown)
        self.model_mode.grid_first_drawn.connect(self._check_suggested_log)
        self.loss.log_check_box().toggled.connect(self.menus.loss_log.setChecked)
        self.menus.loss_log.toggled.connect(self.loss.set_log_y)
        self.menus.log_scale.toggled.connect(self._on_log_toggled)
        for changed in (runner.paths_added, runner.paths_removed, runner.pending_changed,
                        self.function.function_applied, controls.settings_changed,
                        self.model_mode.model_shown,
                        controls.speed_changed, self.menus.log_scale.toggled,
                        self.menus.loss_log.toggled):
            changed.connect(self.sessions.refresh_modified)

    def build_surface(self) -> None:
        """Create the 3D view in place of its placeholder (importing OpenGL takes a moment)."""
        if self.surface is not None or not self._with_surface or self._closing:
            return
        if not self._built:
            self.build()
        from explorer.gui.model.scheduler import PacedViews
        from explorer.gui.views.surface_view import SurfaceView

        surface = SurfaceView()
        surface.start_requested.connect(self.drawing.start_requested)
        placeholder, self._placeholder = self._placeholder, None
        layout = self._surface_box.layout()
        assert layout is not None  # titled() gave the box its layout
        if placeholder is not None:
            layout.replaceWidget(placeholder, surface)
            placeholder.hide()  # at once: deleteLater waits for the event loop
            placeholder.deleteLater()
        else:
            layout.addWidget(surface)
        self.surface = surface
        surface.set_axis_names(*self.document.axis_names)
        if self.document.grid is not None:
            surface.set_landscape(self.document.grid, self.menus.log_scale.isChecked())
        self.runner.scheduler.add_views(PacedViews(self.drawing.draw_3d, 1 / 3, surface.flush,
                                                   surface.gl_widget()))
        self.drawing.show_pending()

    def start_engine(self) -> None:
        """Start the worker thread, which loads torch in the background."""
        if self._closing:
            return
        if not self._built:
            self.build()
        if not self.runner.worker.thread_handle.isRunning():
            self.runner.worker.start()

    @property
    def worker(self) -> DescentWorker:
        """The descent worker."""
        return self.runner.worker

    # ----- the function ---------------------------------------------------------------------

    def _on_function_applied(self, expression: Expression, domain: Domain) -> None:
        undo = self.function_undo
        if undo.is_shown(expression, domain):
            return  # the function on screen, picked again: its runs stay
        before = undo.current()
        if not self.runner.worker.is_ready:
            # Sampling f needs torch: keep the function and draw it once the engine is up.
            self.runner.discard()
            self.document.set(expression, domain, None)
            self.contour.set_hint(LOADING_HINT)
        elif not self.show_landscape(expression, domain):
            return
        undo.changed(before)

    def show_landscape(self, expression: Expression, domain: Domain, *, clear: bool = True) -> bool:
        """Sample f and redraw both views; a function undefined everywhere keeps the old one.

        clear=False keeps the runs on screen (they already belong to this function).
        """
        from explorer.gui.model.document import quiet_landscape
        from explorer.gui.views.contour_view import HINT

        grid = quiet_landscape(expression, domain)
        if grid.finite_fraction == 0.0:
            why = " (it overflows float64)" if grid.infinite_fraction == 1.0 else ""
            self.function.show_error(f"f has no finite value anywhere in this domain{why}: try "
                                     "another function or domain.")
            return False
        if clear:
            self.runner.discard()  # Undo brings them back, with their ids
        self.model_mode.leave()
        self.document.set(expression, domain, grid)
        self.inspection.new_function()
        self._check_suggested_log()
        # The surface first: the GL renders it (in threads of its own, with software GL)
        # while the contour map is traced and drawn here.
        if self.surface is not None:
            self.surface.set_landscape(grid, grid.suggest_log)
        self.contour.set_hint(HINT)
        self.contour.set_landscape(grid, grid.suggest_log)
        note = " (log colour scale: f spans a huge range)" if grid.suggest_log else ""
        gaps = f"; grey marks where {grid.gaps_text()}" if grid.has_gaps else ""
        self.statusBar().showMessage(f"Drawn f(x, y) = {expression.text}{note}{gaps}", 8000)
        return True

    def _check_suggested_log(self) -> None:
        """The log-scale menu item shows the scale the new landscape was drawn on."""
        grid = self.document.grid
        if grid is not None:
            log = self.menus.log_scale
            log.blockSignals(True)
            log.setChecked(grid.suggest_log)
            log.blockSignals(False)

    def _on_model_shown(self) -> None:
        self._check_suggested_log()
        if not self.network_mode.sharpness_watched():  # a student watching it keeps it
            self._plots.setCurrentIndex(1)  # the data and its fit
        # The tools and the inspector work on the model's full-data loss as on f.
        self.inspection.new_function()
        self.lab.landscape_changed()

    def _on_log_toggled(self, log: bool) -> None:
        self.contour.set_log_scale(log)
        if self.surface is not None:
            self.surface.set_log_scale(log)

    def _on_engine_ready(self) -> None:
        # torch leaves about a million long-lived objects, and every full garbage collection
        # walks them all: a quarter-second stall, at random, in the middle of an animation.
        # Collect once now and leave them out of later collections.
        gc.collect()
        gc.freeze()
        self._engine_label.setText("Engine ready")
        self.statusBar().showMessage(READY, 15000)
        document = self.document
        if document.expression is not None and document.grid is None:
            # Keep what was added while torch loaded (a session opened at start-up).
            self.show_landscape(document.expression, document.domain, clear=False)

    def _on_engine_failed(self, message: str) -> None:
        self._engine_label.setText("Engine failed")
        self.show_error("The engine could not load",
                        f"torch could not be loaded, so no descent can run:\n{message}")

    # ----- runs and their drawing -----------------------------------------------------------

    def _png_view(self, which: str) -> ContourView | SurfaceView | None:
        return self.surface if which == "surface" else self.contour

    # ----- messages and help ----------------------------------------------------------------

    def show_error(self, title: str, text: str) -> None:
        """A window-modal message that does not block the event loop."""
        box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok,
                          self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self._error_box = box
        box.open()

    def error_box(self) -> QMessageBox | None:
        """The last error dialog (for tests)."""
        return self._error_box

    def set_document_name(self, name: str) -> None:
        """Show the session file's name in the title bar."""
        self.setWindowTitle(f"{name}[*] — {TITLE}")

    # ----- closing --------------------------------------------------------------------------

    def _confirm_stop_tools(self) -> bool:
        """Ask before stopping what the tools compute; False: the user cancelled."""
        running = self.lab.running_jobs()
        return not running or self.lab.ask_stop(running) == QMessageBox.StandardButton.Yes

    def close_without_asking(self) -> None:
        """Close at once: stop every job and join the threads, but ask nothing (a second
        Ctrl+C in the terminal). Settings are saved; unsaved runs are not."""
        self._ask_on_close = False
        self.close()

    def closeEvent(self, event: QCloseEvent) -> None:
        """Ask once about running tools and unsaved changes; then stop every job, join the
        threads (the worker within a second when it runs) and save the settings."""
        if not self._built:  # only the frame yet: nothing runs, nothing to save
            self._closing = True
            super().closeEvent(event)
            return
        from explorer.gui.settings import save_all

        if not self._closing and self._ask_on_close and not (self._confirm_stop_tools()
                                                 and self.sessions.confirm_discard()):
            event.ignore()
            return
        if not self._closing:
            self._closing = True
            self.runner.scheduler.stop()
            self.lab.shutdown()
            self.model_mode.shutdown()
            self.network_mode.shutdown()
            save_all(self._settings, self.function, self.controls, self, self._splitters)
            self.help.close()
            if not self.runner.worker.shutdown(1000):
                # Still importing torch, which cannot be interrupted: leave the screen at once
                # and let the import finish before the thread object goes away.
                self.hide()
                self.runner.worker.join()
        super().closeEvent(event)
