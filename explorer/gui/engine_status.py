"""The engine's state in the status bar: loading torch, ready, or failed with a message."""

from __future__ import annotations

import gc
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject

if TYPE_CHECKING:
    from PySide6.QtWidgets import QLabel, QStatusBar

    from explorer.gui.engine.descent_worker import DescentWorker

__all__ = ["READY", "EngineStatus"]

READY = "Ready: click the map to descend from there; Shift-click adds starts, Space runs them."


class EngineStatus(QObject):
    """Says in the status bar when the worker has loaded torch (then calls ready) or could not
    load it (then shows the error)."""

    # A QObject of the GUI thread: the worker's signals come from its own thread, queued here.
    def __init__(self, worker: DescentWorker, label: QLabel, status_bar: QStatusBar,
                 show_error: Callable[[str, str], object], ready: Callable[[], object],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._label = label
        self._status_bar = status_bar
        self._show_error = show_error
        self._ready = ready
        worker.engine_ready.connect(self._on_engine_ready)
        worker.engine_failed.connect(self._on_engine_failed)

    def _on_engine_ready(self) -> None:
        # torch leaves about a million long-lived objects, and every full garbage collection
        # walks them all: a quarter-second stall, at random, in the middle of an animation.
        # Collect once now and leave them out of later collections.
        gc.collect()
        gc.freeze()
        self._label.setText("Engine ready")
        self._status_bar.showMessage(READY, 15000)
        self._ready()

    def _on_engine_failed(self, message: str) -> None:
        self._label.setText("Engine failed")
        self._show_error("The engine could not load",
                         f"torch could not be loaded, so no descent can run:\n{message}")
