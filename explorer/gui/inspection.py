"""The gradient at a point: the hover read-out, the inspector panel and its arrows on the map."""

from __future__ import annotations

import math
import warnings

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDockWidget

from explorer.core.landscape import Landscape
from explorer.gui.model.shown import run_label
from explorer.gui.panels.inspector_panel import InspectorPanel, quiet_gradient_field
from explorer.gui.parts import Parts
from explorer.gui.views.gradient_overlay import GradientOverlay

# Points x data rows held at once while the -grad field of a model is differentiated (32 MiB).
_FIELD_ELEMENTS = 1 << 22


class Inspection(QObject):
    """Wires the contour map's hover and inspect clicks to the inspector and its overlay."""

    def __init__(self, parts: Parts, inspector: InspectorPanel, dock: QDockWidget,
                 action: QAction) -> None:
        super().__init__(parts.host)
        self._parts = parts
        self._inspector = inspector
        self._dock = dock
        self._decrease_id: int | None = None  # the run whose steps the inspector plots
        self.overlay = GradientOverlay(parts.contour.plot_widget().getPlotItem())
        inspector.point_inspected.connect(self.overlay.set_point)
        inspector.inspection_cleared.connect(self.overlay.clear_point)
        inspector.field_toggled.connect(self.show_field)
        inspector.lr_requested.connect(self._on_lr_requested)
        parts.contour.point_hovered.connect(self._on_point_hovered)
        parts.contour.inspect_requested.connect(self.inspect_point)
        action.toggled.connect(self._on_inspect_toggled)

    def new_function(self) -> None:
        """The function changed: the point's numbers belong to the old one."""
        self._inspector.clear()
        self.show_field(self._inspector.field_check_box().isChecked())

    def _on_point_hovered(self, x: float, y: float) -> None:
        landscape = self._parts.document.landscape
        if landscape is None:
            return
        expression = self._parts.document.expression
        names = self._parts.document.axis_names
        lines = [f"{names.x} = {x:.4g}   {names.y} = {y:.4g}"]
        if self._parts.runner.worker.is_ready:
            from explorer.core.gradient import autograd_gradient

            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    f, gx, gy = autograd_gradient(landscape, x, y)
            except (ArithmeticError, ValueError, RuntimeError, TypeError):
                f, gx, gy = math.nan, math.nan, math.nan
            if math.isfinite(f):
                lines.append(f"f(x, y) = {f:.6g}" if expression is not None
                             else f"full-data loss = {f:.6g}")
                lines.append(f"∇f = ({gx:.4g}, {gy:.4g})   |∇f| = {math.hypot(gx, gy):.4g}")
            elif expression is None:
                lines.append("the loss is not a finite number here")
            else:  # say why, and show no numbers that look valid
                problem = expression.undefined_at(x, y)
                lines.append(problem.where("here") if problem else "f is not a finite number here")
        else:
            lines.append("f and ∇f: the engine is still loading…")
        self._parts.contour.set_hover_text("\n".join(lines))

    def _on_inspect_toggled(self, on: bool) -> None:
        self._parts.contour.set_inspect_mode(on)
        if on:
            self._dock.raise_()
            self._parts.notifier.status(
                "Inspect mode: click the map to inspect a point; press I to descend again.")

    def inspect_point(self, x: float, y: float) -> None:
        """Show f (a model's full-data loss), the gradient, the Hessian and the slopes at (x, y)
        in the inspector."""
        landscape = self._parts.document.landscape
        if landscape is None or not self._parts.runner.worker.is_ready:
            self._parts.notifier.status("The engine (torch) is still loading…", 3000)
            return
        self._inspector.inspect(landscape, x, y, self._parts.document.axis_names)
        self._dock.raise_()

    def show_field(self, on: bool) -> None:
        """Draw (or hide) the field of -grad f arrows over the map."""
        document = self._parts.document
        field = None
        if on and document.landscape is not None and document.grid is not None:
            field = quiet_gradient_field(document.landscape, document.domain,
                                         field_chunk(document.landscape))
        self.overlay.set_field(field)

    def _on_lr_requested(self, lr: float) -> None:
        controls = self._parts.controls
        controls.set_lr(lr)
        got = controls.lr()
        note = "" if got == lr else f" (2 / λmax = {lr:.6g} is outside what the controls allow)"
        self._parts.notifier.status(f"Learning rate set to {got:.6g}{note}.")

    def show_decrease(self, path_id: int | None) -> None:
        """Plot the selected run's predicted and actual decrease per step in the inspector."""
        self._decrease_id = path_id
        shown = self._parts.runner.store.paths.get(path_id) if path_id is not None else None
        if shown is None:
            self._inspector.set_trajectory(None)
            return
        self._inspector.set_trajectory(
            shown.trajectory(), ascent=shown.settings.ascent, color=shown.color,
            title=f"Run {run_label(shown.path_id)}: {shown.optimizer_text()}, "
                  f"lr {shown.settings.lr:g}")

    def path_drawn(self, path_id: int) -> None:
        """A path moved: refresh the decrease plot if it is the one shown."""
        if path_id == self._decrease_id:
            self.show_decrease(path_id)


def field_chunk(landscape: Landscape) -> int | None:
    """Points per pass of the -grad field: all of them, unless a model's loss runs over its rows."""
    from explorer.core.model_landscape import ModelLandscape

    if isinstance(landscape, ModelLandscape) and not landscape.from_sums:
        return max(1, _FIELD_ELEMENTS // max(landscape.data.n, 1))
    return None
