"""The landscape on screen: a new function sampled and drawn in the views (or kept until the
engine is up), and the views, the tools and the log-scale item following a model shown."""

from __future__ import annotations

from typing import TYPE_CHECKING

from explorer.gui.model.document import quiet_landscape
from explorer.gui.views.contour_view import HINT

if TYPE_CHECKING:
    from PySide6.QtGui import QAction

    from explorer.core.expression import Expression
    from explorer.core.landscape import Domain
    from explorer.gui.function_undo import FunctionUndo
    from explorer.gui.inspection import Inspection
    from explorer.gui.model_mode import ModelMode
    from explorer.gui.network_mode import NetworkMode
    from explorer.gui.parts import Parts
    from explorer.gui.tools.lab_tools import LabTools
    from explorer.gui.view_area import ViewArea

__all__ = ["LOADING_HINT", "LandscapeShown"]

LOADING_HINT = "Loading the engine (torch)… the landscape appears in a moment"


class LandscapeShown:
    """Draws the function applied (its runs kept for Undo), or the model or network shown, in
    the views; keeps the log-scale item on the scale the landscape was drawn on."""

    def __init__(self, parts: Parts, undo: FunctionUndo, views: ViewArea, log_action: QAction,
                 inspection: Inspection, lab: LabTools, model: ModelMode,
                 network: NetworkMode) -> None:
        self._parts = parts
        self._undo = undo
        self._views = views  # read at each call: the 3D view is built later
        self._log_action = log_action
        self._inspection = inspection
        self._lab = lab
        self._model = model
        self._network = network
        parts.function.function_applied.connect(self._on_function_applied)
        model.model_shown.connect(self._on_model_shown)
        network.shown.connect(self._on_model_shown)
        model.grid_first_drawn.connect(self.check_suggested_log)

    def _on_function_applied(self, expression: Expression, domain: Domain) -> None:
        undo = self._undo
        if undo.is_shown(expression, domain):
            return  # the function on screen, picked again: its runs stay
        before = undo.current()
        parts = self._parts
        if not parts.runner.worker.is_ready:
            # Sampling f needs torch: keep the function and draw it once the engine is up.
            parts.runner.discard()
            parts.document.set(expression, domain, None)
            parts.contour.set_hint(LOADING_HINT)
        elif not self.show_landscape(expression, domain):
            return
        undo.changed(before)

    def show_pending(self) -> None:
        """Draw the function kept while the engine loaded (a session opened at start-up), with
        the runs added meanwhile."""
        document = self._parts.document
        if document.expression is not None and document.grid is None:
            self.show_landscape(document.expression, document.domain, clear=False)

    def show_landscape(self, expression: Expression, domain: Domain, *, clear: bool = True) -> bool:
        """Sample f and redraw both views; a function undefined everywhere keeps the old one.

        clear=False keeps the runs on screen (they already belong to this function).
        """
        parts = self._parts
        grid = quiet_landscape(expression, domain)
        if grid.finite_fraction == 0.0:
            why = " (it overflows float64)" if grid.infinite_fraction == 1.0 else ""
            parts.function.show_error(f"f has no finite value anywhere in this domain{why}: "
                                      "try another function or domain.")
            return False
        if clear:
            parts.runner.discard()  # Undo brings them back, with their ids
        self._model.leave()
        parts.document.set(expression, domain, grid)
        self._inspection.new_function()
        self.check_suggested_log()
        # The surface first: the GL renders it (in threads of its own, with software GL)
        # while the contour map is traced and drawn here.
        surface = self._views.surface
        if surface is not None:
            surface.set_landscape(grid, grid.suggest_log)
        parts.contour.set_hint(HINT)
        parts.contour.set_landscape(grid, grid.suggest_log)
        note = " (log colour scale: f spans a huge range)" if grid.suggest_log else ""
        gaps = f"; grey marks where {grid.gaps_text()}" if grid.has_gaps else ""
        parts.host.statusBar().showMessage(f"Drawn f(x, y) = {expression.text}{note}{gaps}",
                                           8000)
        return True

    def check_suggested_log(self) -> None:
        """The log-scale menu item shows the scale the new landscape was drawn on."""
        grid = self._parts.document.grid
        if grid is not None:
            log = self._log_action
            log.blockSignals(True)
            log.setChecked(grid.suggest_log)
            log.blockSignals(False)

    def _on_model_shown(self) -> None:
        self.check_suggested_log()
        if not self._network.sharpness_watched():  # a student watching it keeps it
            self._views.plots.setCurrentIndex(1)  # the data and its fit
        # The tools and the inspector work on the model's full-data loss as on f.
        self._inspection.new_function()
        self._lab.landscape_changed()
