"""The main window: composition only. It builds the parts, wires their signals, handles close."""

from __future__ import annotations

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
    from explorer.gui.engine.descent_worker import DescentWorker
    from explorer.gui.exporting import Exporter
    from explorer.gui.session_state import SessionState
    from explorer.gui.view_area import ViewArea
    from explorer.gui.views.contour_view import ContourView
    from explorer.gui.views.surface_view import SurfaceView

__all__ = ["SETTINGS_ENV", "TITLE", "MainWindow", "open_settings"]

TITLE = APPLICATION
LOADING = "Loading the engine (torch)…"


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
        self._view_area: ViewArea | None = None  # the views' layout, made by build()
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
        from explorer.gui.engine_status import EngineStatus
        from explorer.gui.exporting import Exporter
        from explorer.gui.figures import Figures
        from explorer.gui.function_undo import FunctionUndo
        from explorer.gui.help import HelpWindows
        from explorer.gui.inspection import Inspection
        from explorer.gui.landscape_shown import LandscapeShown
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
        from explorer.gui.view_area import ViewArea
        from explorer.gui.views.contour_view import ContourView
        from explorer.gui.views.loss_view import LossView
        from explorer.gui.views.state_marks import StateMarks
        from explorer.gui.wiring import wire

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
        self._view_area = views = ViewArea(self.parts, self.runs_panel, self.model_mode,
                                           self.network_mode, self.drawing, self._with_surface)
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
        self.tabifyDockWidget(views.setup_dock, self._inspector_dock)
        views.setup_dock.raise_()
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
        self.landscape = LandscapeShown(self.parts, self.function_undo, views,
                                        self.menus.log_scale, self.inspection, self.lab,
                                        self.model_mode, self.network_mode)
        self._engine_status = EngineStatus(self.runner.worker, self._engine_label,
                                           self.statusBar(), self.show_error,
                                           self.landscape.show_pending, self)
        wire(self.parts, self.runs_panel, self.drawing, self.menus, views, self.model_mode,
             self.exporter, self.show_error, self.sessions.refresh_modified)
        restore_panels(self._settings, self.function, self.controls)
        restore_layout(self._settings, self, views.splitters)
        if self._with_surface and not self._defer_surface:
            self.build_surface()

    # ----- building -------------------------------------------------------------------------

    def build_surface(self) -> None:
        """Create the 3D view in place of its placeholder (importing OpenGL takes a moment)."""
        if self.surface is not None or not self._with_surface or self._closing:
            return
        if not self._built:
            self.build()
        assert self._view_area is not None  # build() made it
        self._view_area.build_surface(self.menus.log_scale.isChecked())

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

    @property
    def surface(self) -> SurfaceView | None:
        """The 3D view, once built (None without OpenGL or before build_surface())."""
        return self._view_area.surface if self._view_area is not None else None

    @surface.setter
    def surface(self, surface: SurfaceView | None) -> None:
        assert self._view_area is not None  # only a built window has a place for it
        self._view_area.surface = surface

    @property
    def view_area(self) -> ViewArea:
        """The views' layout: the map, the 3D view, the runs and the plots' tabs."""
        assert self._view_area is not None  # build() made it
        return self._view_area

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
            save_all(self._settings, self.function, self.controls, self,
                     self.view_area.splitters)
            self.help.close()
            if not self.runner.worker.shutdown(1000):
                # Still importing torch, which cannot be interrupted: leave the screen at once
                # and let the import finish before the thread object goes away.
                self.hide()
                self.runner.worker.join()
        super().closeEvent(event)
