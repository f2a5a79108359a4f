"""The window's views laid out: the contour map with the 3D view beside it (built later, in place
of a placeholder), the runs and the plots' tabs below, the setup column docked at the left."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QLabel

from explorer.gui.layout import central_area, left_dock, placeholder, setup_column, tabs, titled
from explorer.gui.model.scheduler import PacedViews

if TYPE_CHECKING:
    from explorer.gui.model_mode import ModelMode
    from explorer.gui.network_mode import NetworkMode
    from explorer.gui.panels.runs_panel import RunsPanel
    from explorer.gui.parts import Parts
    from explorer.gui.path_drawing import PathDrawing
    from explorer.gui.views.surface_view import SurfaceView

__all__ = ["ViewArea"]


class ViewArea:
    """Puts the views, the runs table and the setup column in the window, paces the views'
    drawing, and builds the 3D view when asked."""

    def __init__(self, parts: Parts, runs: RunsPanel, model: ModelMode, network: NetworkMode,
                 drawing: PathDrawing, with_surface: bool) -> None:
        self._parts = parts
        self._drawing = drawing
        self.surface: SurfaceView | None = None
        host, contour, loss = parts.host, parts.contour, parts.loss
        self._placeholder: QLabel | None = placeholder(
            "Preparing the 3D view…" if with_surface
            else "The 3D view needs OpenGL, which is not available here.")
        self._surface_box = titled("3D surface (drag to rotate, wheel to zoom)",
                                   self._placeholder)
        self.plots = tabs(  # the loss, and a model's data and fit beside it
            (titled("Loss: f at each step", loss), "Loss"),
            *network.pages(titled("Data: the points, the current fit and its minibatch",
                                  model.data_view)))
        self.splitters = central_area([titled("Contour map", contour), self._surface_box],
                                      [titled("Runs", runs), self.plots])
        host.setCentralWidget(self.splitters[0])
        # Short tab titles: the setup, the inspector and three tools share the column's width.
        self.setup_dock = left_dock(host, "Setup", "setup_dock", setup_column(
            parts.function, model.panel, network.panel, parts.controls))
        # The 2-D views and the 3-D view are paced apart: software OpenGL can be slow.
        scheduler = parts.runner.scheduler
        scheduler.add_views(PacedViews(drawing.draw_contour, 1 / 8, contour.flush,
                                       contour.plot_widget().viewport()))
        scheduler.add_views(PacedViews(drawing.draw_loss, 1 / 4, loss.flush,
                                       loss.plot_widget().viewport()))

    def build_surface(self, log: bool) -> None:
        """Create the 3D view in place of its placeholder, drawing the landscape on screen (on a
        log colour scale when log is True)."""
        from explorer.gui.views.surface_view import SurfaceView  # OpenGL: only when asked

        surface = SurfaceView()
        surface.start_requested.connect(self._drawing.start_requested)
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
        document = self._parts.document
        surface.set_axis_names(*document.axis_names)
        if document.grid is not None:
            surface.set_landscape(document.grid, log)
        self._parts.runner.scheduler.add_views(PacedViews(self._drawing.draw_3d, 1 / 3,
                                                          surface.flush, surface.gl_widget()))
        self._drawing.show_pending()

    def set_log_scale(self, log: bool) -> None:
        """Colour the map and the 3D view by log10(f - min) (True) or by f."""
        self._parts.contour.set_log_scale(log)
        if self.surface is not None:
            self.surface.set_log_scale(log)
