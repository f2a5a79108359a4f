"""Figures: every named plot saved as SVG or PNG, from its right-click menu or File > Export
figure…, with its colour bar, legend and axis labels (pyqtgraph's exporters, on the plot's
whole scene)."""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import Any

import pyqtgraph as pg
from pyqtgraph.exporters import ImageExporter, SVGExporter
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QObject, QPoint, QSettings
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMainWindow, QMenu

from explorer.gui.menus import add_export, make_action
from explorer.gui.model.notifier import Notifier
from explorer.gui.settings import text_value
from explorer.gui.views.figure_names import HUB, figure_name
from explorer.io.atomic import ExportError, atomic_binary_writer

FORMATS = {".svg": "SVG", ".png": "PNG"}
# The last folder an export went to, shared with the CSV and PNG exports.
_FOLDER_KEY = "export/folder"


def _tolerate_closed_paths() -> None:
    """Let pyqtgraph's SVG export read the "Z" that closes a path (its issue #3495).

    Qt 6's SVG generator ends closed paths (every ViewBox's background) with " Z", which
    pyqtgraph 0.14's coordinate correction takes for a coordinate pair and fails on. Dropping
    the token first changes nothing drawn: those paths already end at their start point.
    """
    module = importlib.import_module("pyqtgraph.exporters.SVGExporter")
    original = module.correctCoordinates
    if getattr(original, "tolerates_closed_paths", False):
        return

    # Any: minidom nodes and pyqtgraph's own arguments, passed through unchanged.
    def correct(node: Any, defs: Any, item: Any, options: Any) -> Any:
        for path in node.getElementsByTagName("path"):
            tokens = path.getAttribute("d").split()
            if "Z" in tokens or "z" in tokens:
                path.setAttribute("d", " ".join(t for t in tokens if t not in ("Z", "z")))
        return original(node, defs, item, options)

    correct.tolerates_closed_paths = True  # type: ignore[attr-defined]
    module.__dict__["correctCoordinates"] = correct


def figure_bytes(plot: pg.GraphicsView, suffix: str) -> bytes:
    """The plot's whole scene as an SVG document or a PNG image, at the size it is shown."""
    scene = plot.scene()
    if suffix == ".svg":
        _tolerate_closed_paths()
        data = SVGExporter(scene).export(toBytes=True)
        assert isinstance(data, bytes)
        return data
    if suffix != ".png":
        raise ExportError(f"cannot save a figure as {suffix or 'a file without an extension'}: "
                          "use .svg or .png")
    image = ImageExporter(scene).export(toBytes=True)
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if image is None or not image.save(buffer, "PNG"):
        raise ExportError("the plot could not be drawn as a PNG image")
    return bytes(QByteArray(buffer.data()).data())


def save_figure(plot: pg.GraphicsView, path: str | os.PathLike[str]) -> None:
    """Write the plot to path as SVG or PNG by its extension; ExportError when it cannot."""
    target = Path(path)
    data = figure_bytes(plot, target.suffix.lower())
    with atomic_binary_writer(target) as stream:
        stream.write(data)


class Figures(QObject):
    """File > Export figure… and every named plot's right-click menu, for one window."""

    def __init__(self, host: QMainWindow, settings: QSettings, notifier: Notifier,
                 file_menu: QMenu) -> None:
        super().__init__(host)
        self._host = host
        self._settings = settings
        self._notifier = notifier
        self.action = make_action(host, "Export &figure…", "Ctrl+Shift+E", self.ask_export,
                                  "Save a plot (the map, the loss, a tool's plot) as SVG or PNG")
        add_export(file_menu, self.action)
        HUB.menu_requested.connect(self._on_menu_requested)
        # Tests answer the dialogs: (plot, suggested path) -> the chosen path or "".
        self.ask_path = self._ask_path

    def available(self) -> list[tuple[str, pg.GraphicsView]]:
        """The named plots on screen now, in the window's order, each with its name."""
        out = []
        for plot in self._host.findChildren(pg.GraphicsView):
            name = figure_name(plot)
            if name and plot.isVisible() and plot.window() is self._host:
                out.append((name, plot))
        return out

    def ask_export(self) -> None:
        """Ask which plot (when several are shown) and where, then save it."""
        plots = self.available()
        if not plots:
            self._notifier.status("No plot is shown to export.", 4000)
            return
        names = [name for name, _ in plots]
        if len(plots) == 1:
            chosen = 0
        else:
            name, ok = QInputDialog.getItem(self._host, "Export figure", "Plot:", names, 0,
                                            False)
            if not ok:
                return
            chosen = names.index(name)
        self.export_interactively(plots[chosen][1])

    def export_interactively(self, plot: pg.GraphicsView) -> bool:
        """Ask for a file name and save the plot there; a failure is said, not raised."""
        stem = figure_name(plot).lower().replace(" ", "_") or "figure"
        folder = text_value(self._settings.value(_FOLDER_KEY), str(Path.home()))
        path = self.ask_path(plot, str(Path(folder) / f"{stem}.svg"))
        if not path:
            return False
        try:
            save_figure(plot, path)
        except (ExportError, OSError) as err:
            self._notifier.error("Cannot export the figure", str(err))
            return False
        self._settings.setValue(_FOLDER_KEY, str(Path(path).parent))
        self._notifier.status(f"Saved {figure_name(plot)} to {path}", 6000)
        return True

    def _ask_path(self, plot: pg.GraphicsView, suggested: str) -> str:
        path, _ = QFileDialog.getSaveFileName(
            self._host, f"Export {figure_name(plot)}", suggested,
            "SVG (vector) (*.svg);;PNG (image) (*.png)")
        return path

    def _on_menu_requested(self, plot: object, pos: QPoint) -> None:
        if not isinstance(plot, pg.GraphicsView) or plot.window() is not self._host:
            return
        menu = QMenu(plot)
        menu.addAction(f"Export {figure_name(plot)} as SVG or PNG…",
                       lambda: self.export_interactively(plot))
        menu.popup(plot.viewport().mapToGlobal(pos))
        self.last_menu = menu
