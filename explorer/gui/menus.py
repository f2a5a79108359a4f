"""The window's menus and keyboard shortcuts: File, Run, View, Tools and Help."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu

from explorer.gui.panels.inspector_panel import INSPECT_TIP

Slot = Callable[[], object]


def make_action(window: QMainWindow, text: str, shortcut: QKeySequence | str | None,
                slot: Slot, tip: str) -> QAction:
    """An action of the window, with a window-wide shortcut and a status-bar tip."""
    action = QAction(text, window)
    if shortcut is not None:
        action.setShortcut(QKeySequence(shortcut))
        # Window-wide, but a text or number field with focus still gets its own keys:
        # line edits claim Space, R, Delete and the arrows through ShortcutOverride.
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    action.setStatusTip(tip)
    action.setToolTip(tip)
    action.triggered.connect(slot)
    window.addAction(action)
    return action


def add_export(file_menu: QMenu, action: QAction) -> None:
    """Put an export action in File with the other exports, before the session actions (which
    follow the first separator)."""
    separator = next((a for a in file_menu.actions() if a.isSeparator()), None)
    if separator is not None:
        file_menu.insertAction(separator, action)
    else:
        file_menu.addAction(action)


def _checkable(window: QMainWindow, text: str, tip: str) -> QAction:
    action = QAction(text, window)
    action.setCheckable(True)
    action.setStatusTip(tip)
    return action


class Menus:
    """Builds the menu bar; the window and the tools connect to the actions it keeps."""

    def __init__(self, window: QMainWindow, slots: dict[str, Slot]) -> None:
        bar = window.menuBar()

        def add(menu: QMenu, text: str, shortcut: QKeySequence | str | None, slot: str,
                tip: str) -> QAction:
            action = make_action(window, text, shortcut, slots[slot], tip)
            menu.addAction(action)
            return action

        self.file = bar.addMenu("&File")
        self.export = add(self.file, "&Export trajectories…", "Ctrl+E", "export",
                          "Write the trajectories (all, or the selected ones) to a CSV file")
        add(self.file, "Save &contour map as PNG…", None, "save_contour",
            "Save the contour map as it looks now")
        add(self.file, "Save 3D &surface as PNG…", None, "save_surface",
            "Save the 3D surface as it looks now")
        self.file.addSeparator()
        # The session actions go in here, before Quit.
        self.quit = add(self.file, "&Quit", "Ctrl+Q", "quit", "Quit")
        self.quit.setMenuRole(QAction.MenuRole.QuitRole)
        # Its Undo (a change of function) is FunctionUndo's.
        self.edit = bar.addMenu("&Edit")

        run = bar.addMenu("&Run")
        add(run, "Run / Pause", QKeySequence(Qt.Key.Key_Space), "run_pause",
            "Run the pending starts, or pause and resume")
        add(run, "Step", QKeySequence(Qt.Key.Key_Right), "step",
            "Pause and move every path one step")
        add(run, "Stop", None, "stop", "Stop every path where it is")
        add(run, "Reset to starts", QKeySequence(Qt.Key.Key_R), "reset",
            "Remove the paths and keep their starts, ready to run again")
        add(run, "Clear all", QKeySequence(Qt.Key.Key_Delete), "delete",
            "Remove the selected path, or every path and start when none is selected")

        view = bar.addMenu("&View")
        self.inspect = _checkable(window, "&Inspect gradient", INSPECT_TIP.replace("\n", " "))
        self.inspect.setShortcut(QKeySequence(Qt.Key.Key_I))
        self.inspect.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.inspect.setToolTip(INSPECT_TIP)
        window.addAction(self.inspect)
        view.addAction(self.inspect)
        view.addSeparator()
        self.log_scale = _checkable(window, "&Log colour scale",
                                    "Colour by log10(f - min f): for steep functions")
        view.addAction(self.log_scale)
        self.loss_log = _checkable(window, "Log scale on the &loss plot",
                                   "f on a log scale in the loss plot")
        view.addAction(self.loss_log)
        self.optimiser_state = _checkable(
            window, "Optimiser &state",
            "At the selected path's head: the step its momentum carries (arrow) and the "
            "adaptive methods' step per axis (cross)")
        self.optimiser_state.setChecked(True)
        view.addAction(self.optimiser_state)

        self.tools = bar.addMenu("&Tools")
        self.help = help_menu = bar.addMenu("&Help")
        add(help_menu, "&Help", QKeySequence(QKeySequence.StandardKey.HelpContents), "help",
            "What each part of the window does")
        add(help_menu, "&About", None, "about", "About this program").setMenuRole(
            QAction.MenuRole.AboutRole)
