"""The runs in the views: what a click, Delete, the runner's signals and the frame scheduler
call to start, remove and draw paths."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from PySide6.QtWidgets import QStatusBar, QWidget

    from explorer.gui.engine.runner import Runner
    from explorer.gui.inspection import Inspection
    from explorer.gui.model.document import Document
    from explorer.gui.model.shown import ShownTrajectory
    from explorer.gui.model_mode import ModelMode
    from explorer.gui.network_mode import NetworkMode
    from explorer.gui.panels.controls_panel import ControlsPanel
    from explorer.gui.panels.runs_panel import RunsPanel
    from explorer.gui.state_display import StateDisplay
    from explorer.gui.views.contour_view import ContourView
    from explorer.gui.views.evaluation_dots import EvaluationDots
    from explorer.gui.views.loss_view import LossView
    from explorer.gui.views.surface_view import SurfaceView

__all__ = ["PathDrawing", "WindowViews"]


class WindowViews(Protocol):
    """The window's parts that show paths (the main window has them all)."""

    contour: ContourView
    loss: LossView
    surface: SurfaceView | None
    runs_panel: RunsPanel
    runner: Runner
    inspection: Inspection
    model_mode: ModelMode
    network_mode: NetworkMode
    document: Document
    state_display: StateDisplay
    controls: ControlsPanel

    def statusBar(self) -> QStatusBar: ...


class PathDrawing:
    """Adds and removes the paths' rows and drawings, draws a path's new steps in each view
    (the scheduler's callbacks), shows the pending starts and the highlighted path."""

    def __init__(self, window: WindowViews) -> None:
        self._window = window  # read at each call: the parts are made one after another
        # The selected path, whose step the schedule plot's dot follows.
        self._selected: ShownTrajectory | None = None
        self._dots: EvaluationDots | None = None  # made with the first scipy method's path

    def evaluation_dots(self) -> EvaluationDots:
        """Where the scipy methods' paths evaluated f, on the contour map."""
        if self._dots is None:
            from explorer.gui.views.evaluation_dots import EvaluationDots

            self._dots = EvaluationDots(self._window.contour.plot_widget().getPlotItem())
        return self._dots

    def start_requested(self, x: float, y: float, add_only: bool) -> None:
        """A click on a view: descend from there (a minibatch fit on its own thread), or
        with Shift, add a start that waits for Run."""
        window = self._window
        if window.document.landscape is None:
            return
        if window.network_mode.active:  # the network trains again from there, on its thread
            window.network_mode.start_at(x, y)
            return
        if window.model_mode.uses_minibatches():  # a fit of its own thread, one per click
            window.model_mode.start_fit(x, y)
            return
        if not add_only:
            window.runner.start_runs([(x, y)])
            return
        window.runner.add_pending(x, y)
        count = len(window.runner.store.pending)
        window.statusBar().showMessage(
            f"{count} start{'s' if count > 1 else ''} waiting: press Space (Run) to start "
            "them together.", 8000)

    def delete_pressed(self, focus: QWidget | None) -> None:
        """Delete: the selected runs when the table has the focus, else every run."""
        window = self._window
        table = window.runs_panel.table()
        selected = window.runs_panel.selected_ids()
        in_table = table.hasFocus() or (focus is not None and table.isAncestorOf(focus))
        if selected and in_table:
            window.runner.remove_paths(selected)
        else:
            window.runner.clear()

    def views(self) -> list[ContourView | LossView | SurfaceView]:
        """The views that draw paths (the 3D view once it exists)."""
        window = self._window
        views: list[ContourView | LossView | SurfaceView] = [window.contour, window.loss]
        return views + ([window.surface] if window.surface is not None else [])

    def paths_added(self, added: list[ShownTrajectory]) -> None:
        """New runs: their rows, and the views told how many paths are coming."""
        self._window.runs_panel.add_trajectories(added)
        self._expect_paths()

    def paths_removed(self, path_ids: list[int]) -> None:
        """Runs removed: from every view and the table."""
        for path_id in path_ids:
            for view in self.views():
                view.remove_path(path_id)
            if self._dots is not None:
                self._dots.remove(path_id)
        self._window.runs_panel.remove_trajectories(path_ids)
        self._window.state_display.forget(path_ids)
        if self._selected is not None and self._selected.path_id in path_ids:
            self._show_rate_step(None)
        self._expect_paths()

    def show_pending(self) -> None:
        """The starts waiting for Run, on the map and the surface."""
        window = self._window
        xy = window.runner.store.pending_array()
        window.contour.set_pending_starts(xy)
        if window.surface is not None:
            window.surface.set_pending_starts(xy, window.runner.values_at(xy))

    def highlight(self, path_id: int | None) -> None:
        """Highlight one path (None: none) in every view, the inspector and the data view."""
        window = self._window
        window.inspection.show_decrease(path_id)
        shown = window.runner.store.paths.get(path_id) if path_id is not None else None
        batch = [] if shown is None else sorted(
            (p for p in window.runner.store.paths.values() if p.run_id == shown.run_id),
            key=lambda p: p.column)
        window.state_display.select(shown, batch, window.document.target())
        self._show_rate_step(shown)
        if shown is not None:
            window.model_mode.path_drawn(shown)
        for view in self.views():
            view.set_highlight(path_id)

    def draw_contour(self, shown: ShownTrajectory) -> None:
        """A path's steps so far on the contour map (the cross where it diverged)."""
        contour = self._window.contour
        xy = shown.shown_xy()
        contour.set_path(shown.path_id, xy, shown.color, current=len(xy) - 1,
                         diverged=shown.diverged_text(contour.axis_names()))
        if shown.scipy is not None:  # where f was evaluated up to the head, faintly
            self.evaluation_dots().set_points(shown.path_id, shown.evaluated_shown(),
                                              shown.color, self._window.document.domain)
        self._window.state_display.path_drawn(shown)  # the selected head's optimiser state
        if shown is self._selected:
            self._show_rate_step(shown)

    def _show_rate_step(self, shown: ShownTrajectory | None) -> None:
        """The schedule plot's dot at the selected path's head (hidden when none)."""
        self._selected = shown
        schedule = self._window.controls.schedule
        if shown is None:
            schedule.show_step(None, 0)
        else:
            schedule.show_step(shown.settings, max(shown.shown - 1, 0))

    def draw_loss(self, shown: ShownTrajectory) -> None:
        """A path's f (or loss) so far in the loss plot, and what follows it."""
        window = self._window
        window.loss.set_path(shown.path_id, shown.shown_f(), shown.color)
        window.inspection.path_drawn(shown.path_id)
        window.model_mode.path_drawn(shown)

    def draw_3d(self, shown: ShownTrajectory) -> None:
        """A path's steps so far on the surface."""
        surface = self._window.surface
        if surface is not None:
            xy = shown.shown_xy()
            surface.set_path(shown.path_id, xy, shown.shown_f(), shown.color,
                             current=len(xy) - 1)

    def _expect_paths(self) -> None:
        """Tell the views how many paths are coming, so that a big batch starts as a crowd."""
        count = len(self._window.runner.store.paths)
        for view in self.views():
            view.expect_paths(count)
