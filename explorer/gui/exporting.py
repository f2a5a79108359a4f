"""File > Export trajectories as CSV and Save the views as PNG."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from explorer.gui.model.notifier import Notifier
from explorer.gui.model.shown import ShownTrajectory
from explorer.gui.settings import text_value
from explorer.io.atomic import ExportError
from explorer.io.trajectory_csv import write_trajectories


class _SavesPng(Protocol):
    def save_png(self, path: str) -> None: ...


class Exporter:
    """Writes what is on screen to files; a failure gets a message and loses nothing."""

    def __init__(self, parent: QWidget, settings: QSettings, notifier: Notifier,
                 trajectories: Callable[[bool], list[ShownTrajectory]],
                 selected_count: Callable[[], int],
                 views: Callable[[str], _SavesPng | None]) -> None:
        self._parent = parent
        self._settings = settings
        self._notifier = notifier
        self._trajectories = trajectories  # all (False) or the selected ones (True)
        self._selected_count = selected_count
        self._views = views  # "contour" or "surface" -> the view, None when it is missing

    def export_to(self, path: str | os.PathLike[str], *, selected_only: bool = False) -> bool:
        """Write the trajectories as drawn now to a CSV; on failure show a dialog, keep all."""
        chosen = [t for t in self._trajectories(selected_only) if t.shown > 0]
        try:
            # The table's ids: the file's `trajectory` column says #n where the window does.
            rows = write_trajectories(path, [t.trajectory() for t in chosen],
                                      [t.path_id for t in chosen])
        except ExportError as error:
            self._notifier.error("Export failed",
                                 f"{error}\n\nNothing was written; everything on screen is kept.")
            return False
        self._notifier.status(f"Wrote {len(chosen)} trajectories ({rows} rows) to {path}", 10000)
        return True

    def ask_export(self) -> None:
        """Ask which trajectories and where, then export them."""
        total = len(self._trajectories(False))
        if not total:
            self._notifier.status("Nothing to export yet: start a descent first.", 5000)
            return
        selected_only = False
        selected = self._selected_count()
        if selected and selected < total:
            box = QMessageBox(self._parent)
            box.setWindowTitle("Export trajectories")
            box.setText("Export which trajectories?")
            every = box.addButton(f"All {total}", QMessageBox.ButtonRole.AcceptRole)
            some = box.addButton(f"The {selected} selected", QMessageBox.ButtonRole.AcceptRole)
            box.addButton(QMessageBox.StandardButton.Cancel)
            box.exec()
            if box.clickedButton() not in (every, some):
                return
            selected_only = box.clickedButton() is some
        path = self._ask_path("Export trajectories", "trajectories.csv",
                              "CSV files (*.csv);;All files (*)")
        if path:
            self.export_to(path, selected_only=selected_only)

    def save_image(self, which: str, path: str) -> bool:
        """Save the contour map or the surface as PNG; on failure show a dialog."""
        view = self._views(which)
        if view is None:
            self._notifier.error("Save image", "The 3D view is not available here.")
            return False
        try:
            view.save_png(path)
        except OSError as error:
            self._notifier.error("Save image failed", str(error))
            return False
        self._notifier.status(f"Saved the {which} image to {path}", 8000)
        return True

    def ask_save_image(self, which: str) -> None:
        """Ask where, then save the view as PNG."""
        path = self._ask_path("Save image", f"{which}.png", "PNG images (*.png)")
        if path:
            self.save_image(which, path)

    def _ask_path(self, title: str, name: str, filters: str) -> str:
        folder = Path(text_value(self._settings.value("export/folder"), str(Path.home())))
        path, _ = QFileDialog.getSaveFileName(self._parent, title, str(folder / name), filters)
        if path:
            self._settings.setValue("export/folder", str(Path(path).parent))
        return path
