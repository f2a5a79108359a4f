"""The window's signals that only forward from one part to another: the controls to the runner,
the runner to the drawing, the menus to the views, and every change to the session's
unsaved-changes mark."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from explorer.gui.exporting import Exporter
    from explorer.gui.menus import Menus
    from explorer.gui.model_mode import ModelMode
    from explorer.gui.panels.runs_panel import RunsPanel
    from explorer.gui.parts import Parts
    from explorer.gui.path_drawing import PathDrawing
    from explorer.gui.view_area import ViewArea

__all__ = ["wire"]


def wire(parts: Parts, runs: RunsPanel, drawing: PathDrawing, menus: Menus, views: ViewArea,
         model: ModelMode, exporter: Exporter, show_error: Callable[[str, str], object],
         changed: Callable[[], object]) -> None:
    """Connect the parts' signals to the parts that act on them; changed is called on every
    change a session file would keep."""
    runner, controls, function, loss = parts.runner, parts.controls, parts.function, parts.loss
    runner.message.connect(parts.host.statusBar().showMessage)
    runner.error.connect(show_error)
    runner.running_changed.connect(controls.set_running)
    runner.paths_added.connect(drawing.paths_added)
    runner.paths_removed.connect(drawing.paths_removed)
    runner.pending_changed.connect(drawing.show_pending)
    parts.contour.start_requested.connect(drawing.start_requested)
    controls.run_pause_requested.connect(runner.run_or_pause)
    controls.step_requested.connect(runner.step)
    controls.stop_requested.connect(runner.stop)
    controls.reset_requested.connect(runner.reset)
    controls.clear_requested.connect(runner.clear)
    controls.export_requested.connect(exporter.ask_export)
    controls.speed_changed.connect(runner.scheduler.reset_credit)
    runs.highlight_requested.connect(drawing.highlight)
    loss.log_check_box().toggled.connect(menus.loss_log.setChecked)
    menus.loss_log.toggled.connect(loss.set_log_y)
    menus.log_scale.toggled.connect(views.set_log_scale)
    for signal in (runner.paths_added, runner.paths_removed, runner.pending_changed,
                   function.function_applied, controls.settings_changed, model.model_shown,
                   controls.speed_changed, menus.log_scale.toggled, menus.loss_log.toggled):
        signal.connect(changed)
