"""The window's parts that tools and sessions need: handed to them instead of the window."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtWidgets import QMainWindow

from explorer.gui.engine.runner import Runner
from explorer.gui.model.document import Document
from explorer.gui.model.notifier import Notifier
from explorer.gui.panels.controls_panel import ControlsPanel
from explorer.gui.panels.function_panel import FunctionPanel
from explorer.gui.views.contour_view import ContourView
from explorer.gui.views.loss_view import LossView


@dataclass(frozen=True, eq=False)
class Parts:
    """What a tool may use: the function on screen, the runs, the controls, the map, messages."""

    document: Document
    runner: Runner
    function: FunctionPanel
    controls: ControlsPanel
    contour: ContourView
    loss: LossView
    notifier: Notifier
    # The window: parent of dialogs, home of the tool docks.
    host: QMainWindow
