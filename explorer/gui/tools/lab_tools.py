"""The Tools menu of the main window: the learning-rate sweep, the optimiser race, basins.

Each tool is a non-modal window over the main one, built the first time it is opened.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QMenu

if TYPE_CHECKING:
    from explorer.core.race import RaceEntry
    from explorer.gui.main_window import MainWindow
    from explorer.gui.tools.basin_panel import BasinPanel
    from explorer.gui.tools.race_panel import RacePanel
    from explorer.gui.tools.sweep_panel import SweepPanel

SWEEP_SHORTCUT = "Ctrl+L"
RACE_SHORTCUT = "Ctrl+Shift+R"
BASIN_SHORTCUT = "Ctrl+B"


class LabTools(QObject):
    """Adds Tools > Learning-rate sweep, Optimiser race and Basins of attraction to the window."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._window = window
        self._sweep: SweepPanel | None = None
        self._race: RacePanel | None = None
        self._basin: BasinPanel | None = None
        menu = _tools_menu(window)
        self.sweep_action = self._add(
            menu, "Learning-rate &sweep…", SWEEP_SHORTCUT, self.show_sweep,
            "Run one optimiser from one start with many learning rates and plot where each ended",
        )
        self.race_action = self._add(
            menu, "Optimiser &race…", RACE_SHORTCUT, self.show_race,
            "Run several optimisers from the same starts side by side, with a leaderboard",
        )
        self.basin_action = self._add(
            menu, "&Basins of attraction…", BASIN_SHORTCUT, self.show_basin,
            "Descend from every point of a grid and colour the map by the minimum each reached",
        )
        window.controls_panel().sweep_requested.connect(self.show_sweep)
        window.installEventFilter(self)

    def _add(self, menu: QMenu, text: str, shortcut: str, slot: object, tip: str) -> QAction:
        action = QAction(text, self._window)
        action.setShortcut(QKeySequence(shortcut))
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.setStatusTip(tip)
        action.setToolTip(tip)
        action.triggered.connect(slot)
        self._window.addAction(action)
        menu.addAction(action)
        return action

    def show_sweep(self) -> SweepPanel:
        """Open (or raise) the learning-rate sweep."""
        if self._sweep is None:
            from explorer.gui.tools.sweep_panel import SweepPanel

            self._sweep = SweepPanel(self._window)
            self._sweep.lr_chosen.connect(self._on_lr_chosen)
        _raise(self._sweep)
        return self._sweep

    def show_race(self) -> RacePanel:
        """Open (or raise) the optimiser race."""
        panel = self._race_panel()
        _raise(panel)
        return panel

    def _race_panel(self) -> RacePanel:
        if self._race is None:
            from explorer.gui.tools.race_panel import RacePanel

            self._race = RacePanel(self._window)
        return self._race

    def race_entries(self) -> list[RaceEntry]:
        """The race's entries; none while the race tool was never opened (nothing to keep)."""
        return [] if self._race is None else self._race.entries()

    def set_race_entries(self, entries: list[RaceEntry]) -> None:
        """Replace the race's entries (the tool shows them when it is opened)."""
        self._race_panel().set_entries(entries)

    def show_basin(self) -> BasinPanel:
        """Open (or raise) the basins-of-attraction tool."""
        if self._basin is None:
            from explorer.gui.tools.basin_panel import BasinPanel

            self._basin = BasinPanel(self._window)
        _raise(self._basin)
        return self._basin

    def _on_lr_chosen(self, optimizer: str, lr: float) -> None:
        controls = self._window.controls_panel()
        if controls.optimizer_name() != optimizer:
            controls.set_optimizer(optimizer)
        controls.set_lr(lr)
        got = controls.lr()
        note = "" if got == lr else f" ({lr:.6g} is outside what the controls allow)"
        self._window.statusBar().showMessage(
            f"Learning rate set to {got:.6g}, the sweep's best{note}.", 8000)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # Qt's name
        """Close the tools with the window (their runs stop with the worker)."""
        if watched is self._window and event.type() == QEvent.Type.Close:
            for tool in (self._sweep, self._race):
                if tool is not None:
                    tool.cancel()
                    tool.close()
            if self._basin is not None:
                self._basin.shutdown()  # joins its thread: none may outlive the window
                self._basin.close()
        return False


def _tools_menu(window: MainWindow) -> QMenu:
    """The window's Tools menu (made before Help if there is none yet)."""
    bar = window.menuBar()
    for action in bar.actions():
        menu = action.menu()
        if isinstance(menu, QMenu) and action.text().replace("&", "") == "Tools":
            return menu
    menu = QMenu("&Tools", window)
    help_action = next(
        (a for a in bar.actions() if a.text().replace("&", "") == "Help"), None
    )
    if help_action is not None:
        bar.insertMenu(help_action, menu)
    else:
        bar.addMenu(menu)
    return menu


def _raise(tool: QObject) -> None:
    tool.show()  # type: ignore[attr-defined]
    # Off screen there is no window stack to raise a window in or to activate it in (Qt's
    # offscreen platform warns "does not support raise()"): showing it is all there is.
    if QGuiApplication.platformName() not in ("offscreen", "minimal"):
        tool.raise_()  # type: ignore[attr-defined]
        tool.activateWindow()  # type: ignore[attr-defined]
