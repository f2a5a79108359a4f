"""The Tools menu of the main window: the learning-rate sweep, the optimiser race, basins.

Each tool is built the first time it is opened, in a dock beside the map (a tab beside the
function, the controls and the inspector), never a window floating over it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDockWidget, QMenu, QMessageBox, QWidget

from explorer.gui.layout import scrolled
from explorer.gui.menus import Slot, make_action
from explorer.gui.model.colors import RGB
from explorer.gui.parts import Parts

if TYPE_CHECKING:
    from explorer.core.race import RaceEntry
    from explorer.gui.tools.animation_dialog import AnimationExport
    from explorer.gui.tools.basin_panel import BasinPanel
    from explorer.gui.tools.race_panel import RacePanel
    from explorer.gui.tools.sweep_panel import SweepPanel

SWEEP_SHORTCUT = "Ctrl+L"
RACE_SHORTCUT = "Ctrl+Shift+R"
BASIN_SHORTCUT = "Ctrl+B"


class LabTools(QObject):
    """Tools > Learning-rate sweep, Optimiser race and Basins of attraction, and their jobs."""

    def __init__(self, parts: Parts, menu: QMenu, animation: AnimationExport | None = None
                 ) -> None:
        super().__init__(parts.host)
        self._parts = parts
        self._animation = animation  # File > Export animation…, for the race's Animation…
        self._sweep: SweepPanel | None = None
        self._race: RacePanel | None = None
        self._basin: BasinPanel | None = None
        self._docks: list[QDockWidget] = []
        # Tests replace this: it answers "stop the tools' work?" without a dialog.
        self.ask_stop = self._ask_stop
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
        parts.controls.sweep_requested.connect(self.show_sweep)

    def _add(self, menu: QMenu, text: str, shortcut: str, slot: Slot, tip: str) -> QAction:
        window = self._parts.host
        action = make_action(window, text, shortcut, slot, tip)
        menu.addAction(action)
        return action

    def show_sweep(self) -> SweepPanel:
        """Open (or raise) the learning-rate sweep."""
        if self._sweep is None:
            from explorer.gui.tools.sweep_panel import SweepPanel

            self._sweep = SweepPanel(self._parts)
            self._sweep.lr_chosen.connect(self._on_lr_chosen)
            self._dock(self._sweep, "Sweep", "sweep_dock")
        self._raise(self._sweep)
        return self._sweep

    def show_race(self) -> RacePanel:
        """Open (or raise) the optimiser race."""
        panel = self._race_panel()
        self._raise(panel)
        return panel

    def _race_panel(self) -> RacePanel:
        if self._race is None:
            from explorer.gui.tools.race_panel import RacePanel

            self._race = RacePanel(self._parts)
            self._race.animation_requested.connect(self._on_race_animation_requested)
            self._dock(self._race, "Race", "race_dock")
        return self._race

    def _on_race_animation_requested(self, path_ids: list[int]) -> None:
        if self._animation is not None:
            self._animation.ask_export(paths=path_ids)

    def race_entries(self) -> list[RaceEntry]:
        """The race's entries; none while the race tool was never opened (nothing to keep)."""
        return [] if self._race is None else self._race.entries()

    def race_colors(self) -> list[RGB]:
        """The colour of each race entry, in the order of race_entries."""
        return [] if self._race is None else self._race.entry_colors()

    def set_race_entries(self, entries: list[RaceEntry], colors: list[RGB] | None = None
                         ) -> None:
        """Replace the race's entries and their colours (the tool shows them when opened)."""
        self._race_panel().set_entries(entries, colors)

    def race_budget(self) -> int | None:
        """The race's f evaluations per start; None: by steps (or the tool was never opened)."""
        return None if self._race is None else self._race.budget()

    def set_race_budget(self, evaluations: int | None) -> None:
        """Race by steps (None) or by this many f evaluations per start."""
        self._race_panel().set_budget(evaluations)

    def show_basin(self) -> BasinPanel:
        """Open (or raise) the basins-of-attraction tool."""
        if self._basin is None:
            from explorer.gui.tools.basin_panel import BasinPanel

            self._basin = BasinPanel(self._parts)
            self._dock(self._basin, "Basins", "basin_dock")
        self._raise(self._basin)
        return self._basin

    def landscape_changed(self) -> None:
        """A model on data replaced what was shown: the basin map of the old one goes."""
        if self._basin is not None:
            self._basin.landscape_changed()

    def _on_lr_chosen(self, optimizer: str, lr: float) -> None:
        controls = self._parts.controls
        if controls.optimizer_name() != optimizer:
            controls.set_optimizer(optimizer)
        controls.set_lr(lr)
        got = controls.lr()
        note = "" if got == lr else f" ({lr:.6g} is outside what the controls allow)"
        self._parts.notifier.status(f"Learning rate set to {got:.6g}, the sweep's best{note}.")

    def running_jobs(self) -> list[str]:
        """What the tools are computing now, in words (empty when nothing runs)."""
        jobs = [(self._basin, "a basin map"), (self._race, "an optimiser race"),
                (self._sweep, "a learning-rate sweep")]
        return [name for tool, name in jobs if tool is not None and tool.is_running()]

    def _ask_stop(self, running: list[str]) -> QMessageBox.StandardButton:
        box = QMessageBox(
            QMessageBox.Icon.Question, "Stop the tools?",
            f"{' and '.join(running).capitalize()} {'is' if len(running) == 1 else 'are'} "
            "still being computed.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            self._parts.host)
        box.setInformativeText("Stop and go on? Cancel keeps everything running.")
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        return QMessageBox.StandardButton(box.exec())

    def shutdown(self) -> None:
        """Stop every tool's work and join its threads (the window closes)."""
        for tool in (self._sweep, self._race):
            if tool is not None:
                tool.cancel()
        if self._basin is not None:
            self._basin.shutdown()  # joins its thread: none may outlive the window
        for dock in self._docks:
            dock.close()

    def _dock(self, tool: QWidget, title: str, name: str) -> None:
        """Put a new tool in a dock: a tab of the side column, beside the controls.

        The title is a short word, so that five tabs fit the column (the Tools menu gives each
        tool's full name)."""
        window = self._parts.host
        dock = QDockWidget(title, window)
        dock.setObjectName(name)  # saved layouts know the dock by this name: keep it
        # In a scroll area: a low window keeps its maps and scrolls the tool up and down; the
        # tool fits the column's width (its texts wrap), so there is never a sideways bar.
        dock.setWidget(scrolled(tool, framed=False))
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetClosable
                         | QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        if not window.restoreDockWidget(dock):  # where the user left it last time, or:
            # a tab beside the function, the controls and the inspector: the maps keep their
            # size (a dock of its own took a third of a small screen from them).
            beside = window.findChild(QDockWidget, "setup_dock")
            window.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)
            if beside is not None:
                width = beside.width()
                window.tabifyDockWidget(beside, dock)
                window.resizeDocks([beside], [width], Qt.Orientation.Horizontal)
        self._docks.append(dock)

    def _raise(self, tool: QWidget) -> None:
        """Show the tool's dock and bring its tab to the front."""
        dock = tool.parentWidget()
        while dock is not None and not isinstance(dock, QDockWidget):
            dock = dock.parentWidget()
        if dock is not None:
            dock.show()
            dock.raise_()  # a tab among the docks: no window is raised
        tool.show()

