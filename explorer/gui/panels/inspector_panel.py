"""The gradient inspector: f, the partial derivatives by hand and by autograd, the Hessian and the
largest stable learning rate at a point, the slope in every direction, and the predicted against
the actual decrease of each step of the selected run."""

from __future__ import annotations

import html
import math
import re
import warnings
from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QAction, QFont, QFontDatabase, QPolygonF
from PySide6.QtWidgets import (
    QCheckBox,
    QGraphicsPolygonItem,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from explorer.core.analysis import (
    DirectionalSlopes,
    GradientField,
    HessianReport,
    StepDecrease,
    directional_derivatives,
    gradient_field,
    hessian_report,
    step_decrease,
)
from explorer.core.gradient import GradientReport, Target, gradient_report
from explorer.gui.model.axis_names import FUNCTION_AXES, AxisNames
from explorer.gui.model.colors import RGB, rgba
from explorer.gui.panels.forms import push_button
from explorer.gui.panels.state_box import StateBox
from explorer.gui.views.gradient_overlay import DOWN_COLOR, UP_COLOR, arrow_segments

if TYPE_CHECKING:
    from explorer.core.landscape import Domain
    from explorer.core.trajectory import Trajectory

UNDEFINED = "undefined"
# In place of the derivative by hand where there is no formula to differentiate.
NO_FORMULA = "does not apply: no formula (the loss is a mean over the data rows)"
NOT_APPLICABLE = "n/a"
MINUS = "\N{MINUS SIGN}"
NEG_GRAD = f"{MINUS}∇f"
INSPECT_TIP = (
    "Inspect mode (I): a click on the contour map shows f, the gradient by hand and by\n"
    "autograd, the Hessian and the largest stable learning rate at that point, instead of\n"
    "starting a descent. Without the mode, hold Ctrl and move the mouse to inspect live."
)
FIELD_SIZE = 21
HINT = (
    "Turn on <b>Inspect</b> (key <b>I</b>) and click a point on the contour map, or hold "
    "<b>Ctrl</b> and move the mouse over the map."
)
SLOPE_CAPTION = (
    f"The slope of f in each direction (red: uphill, blue: downhill). It is steepest downhill "
    f"along {NEG_GRAD}."
)
DECREASE_HINT = "Select a run in the Runs table to compare, step by step, the decrease of f " \
    "that the gradient predicted with the decrease that happened."
_ANGLES = np.linspace(0.0, 2.0 * np.pi, 361)
# Linear plots clip values here: Qt overflows on larger coordinates.
_PLOT_LIMIT = 1e100
_BACKGROUND = (25, 25, 25)
_MUTED = "color: palette(placeholder-text);"
_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def number_text(value: float | None) -> str:
    """A value with 6 significant digits, or "undefined" when it is missing, NaN or infinite."""
    if value is None or not math.isfinite(value):
        return UNDEFINED
    return f"{value:.6g}"


def readable_formula(text: str) -> str:
    """sympy's text made easier to read: π, e, ·, x², √ and a real minus sign."""
    text = re.sub(r"\*\*(-?\d+)\b(?!\.)", lambda m: m.group(1).translate(_SUPERSCRIPT), text)
    text = text.replace("**", "^").replace("*", "·")
    text = re.sub(r"\bpi\b", "π", text)
    text = re.sub(r"\bE\b", "e", text)
    text = re.sub(r"\bsqrt\(", "√(", text)
    return text.replace(" - ", " \N{MINUS SIGN} ").replace("(-", "(\N{MINUS SIGN}")


class InspectorPanel(QWidget):
    """What the gradient says at one point, and how well it predicted the selected run's steps."""

    point_inspected = Signal(float, float, float, float)  # x, y, df/dx, df/dy (NaN: undefined)
    inspection_cleared = Signal()
    field_toggled = Signal(bool)
    lr_requested = Signal(float)

    def __init__(self, inspect_action: QAction | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._gradient: GradientReport | None = None
        self._hessian: HessianReport | None = None
        self._slopes: DirectionalSlopes | None = None
        self._decrease: StepDecrease | None = None
        self._labels: dict[str, QLabel] = {}
        self._names = FUNCTION_AXES

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self._build_tools(inspect_action))
        self._hint = QLabel(HINT)
        self._hint.setWordWrap(True)
        self._hint.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(self._hint)
        self._details = QWidget()
        details = QVBoxLayout(self._details)
        details.setContentsMargins(0, 0, 0, 0)
        details.addWidget(self._build_gradient_box())
        details.addWidget(self._build_hessian_box())
        details.addWidget(self._build_slope_box())
        layout.addWidget(self._details)
        layout.addWidget(self._build_decrease_box())
        # What the selected run's optimiser remembers (filled by the window's StateDisplay).
        self.state_box = StateBox()
        layout.addWidget(self.state_box)
        layout.addStretch(1)
        self._details.setVisible(False)

    # ----- building -------------------------------------------------------------------------

    def _build_tools(self, inspect_action: QAction | None) -> QHBoxLayout:
        row = QHBoxLayout()
        self._inspect_button = QToolButton()
        if inspect_action is not None:
            self._inspect_button.setDefaultAction(inspect_action)
        self._inspect_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        # The mode must be obvious at a glance: lit while on.
        self._inspect_button.setStyleSheet(
            "QToolButton { padding: 3px 8px; }"
            "QToolButton:checked { background-color: palette(highlight);"
            " color: palette(highlighted-text); }"
        )
        row.addWidget(self._inspect_button)
        self._field_box = QCheckBox(f"Show {NEG_GRAD} field")
        self._field_box.setToolTip(
            f"Draw small {NEG_GRAD} arrows over the whole map: the direction plain gradient\n"
            "descent would step from each point (longer where f is steeper, on a log scale)"
        )
        self._field_box.toggled.connect(self.field_toggled)
        row.addWidget(self._field_box)
        row.addStretch(1)
        self._clear_button = QToolButton()
        self._clear_button.setText("Clear")
        self._clear_button.setToolTip("Remove the inspected point and its arrows")
        self._clear_button.clicked.connect(self.clear)
        row.addWidget(self._clear_button)
        return row

    def _value_label(self, key: str, *, mono: bool = False, plain: bool = False) -> QLabel:
        label = QLabel()
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        label.setWordWrap(not mono)
        # Formulas are plain text (sympy may write '<'); the rest is rich text, for bold.
        plain = plain or mono
        label.setTextFormat(Qt.TextFormat.PlainText if plain else Qt.TextFormat.RichText)
        if mono:
            label.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self._labels[key] = label
        return label

    def _build_gradient_box(self) -> QGroupBox:
        box = QGroupBox("Gradient: by hand and by autograd")
        grid = QGridLayout(box)
        grid.setVerticalSpacing(3)
        grid.addWidget(self._value_label("point"), 0, 0, 1, 3)
        row = 1
        for key, name in (("dfdx", "∂f/∂x"), ("dfdy", "∂f/∂y")):
            formula = self._value_label(f"{key}_formula", plain=True)
            formula.setToolTip("The partial derivative worked out symbolically (by sympy)")
            grid.addWidget(QLabel(f"<b>{name}</b> ="), row, 0, Qt.AlignmentFlag.AlignTop)
            grid.addWidget(formula, row, 1, 1, 2)
            hand = self._value_label(f"{key}_hand")
            hand.setToolTip("The formula above, evaluated at the point")
            auto = self._value_label(f"{key}_autograd")
            auto.setToolTip("torch autograd: one backward pass through f")
            grid.addWidget(_caption_pair("by hand", hand), row + 1, 1)
            grid.addWidget(_caption_pair("autograd", auto), row + 1, 2)
            row += 2
        grid.addWidget(self._value_label("grad"), row, 0, 1, 3)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(2, 1)
        return box

    def _build_hessian_box(self) -> QGroupBox:
        box = QGroupBox("Curvature: the Hessian and the step size")
        layout = QVBoxLayout(box)
        layout.setSpacing(3)
        self._lr_button = push_button(
            "Use as learning rate",
            "Set the optimiser's learning rate to 2 / λmax: the largest step with which plain\n"
            "gradient descent does not blow up along the most curved direction here",
            self._on_lr_clicked,
        )
        matrix_row = QHBoxLayout()
        matrix_row.addWidget(QLabel("<b>H</b> ="))
        matrix_row.addWidget(self._value_label("hessian", mono=True))
        matrix_row.addStretch(1)
        matrix_row.addWidget(self._lr_button, 0, Qt.AlignmentFlag.AlignBottom)
        layout.addLayout(matrix_row)
        layout.addWidget(self._value_label("eigenvalues"))
        layout.addWidget(self._value_label("condition"))
        layout.addWidget(self._value_label("lr_max"))
        return box

    def _build_slope_box(self) -> QGroupBox:
        box = QGroupBox("Why subtract the gradient")
        layout = QHBoxLayout(box)
        self._slope_plot = _SlopePlot()
        layout.addWidget(self._slope_plot)
        text = QVBoxLayout()
        caption = QLabel(SLOPE_CAPTION)
        caption.setWordWrap(True)
        caption.setStyleSheet(_MUTED)
        text.addWidget(caption)
        text.addWidget(self._value_label("slope"))
        text.addStretch(1)
        layout.addLayout(text, 1)
        return box

    def _build_decrease_box(self) -> QGroupBox:
        box = QGroupBox("Each step: predicted and actual decrease of f")
        layout = QVBoxLayout(box)
        self._decrease_title = QLabel(DECREASE_HINT)
        self._decrease_title.setWordWrap(True)
        self._decrease_title.setStyleSheet(_MUTED)
        layout.addWidget(self._decrease_title)
        self._decrease_plot = pg.PlotWidget(background=_BACKGROUND)
        self._decrease_plot.setFixedHeight(180)
        item = self._decrease_plot.getPlotItem()
        item.setMenuEnabled(False)
        item.showGrid(x=True, y=True, alpha=0.15)
        item.setLabel("bottom", "step k")
        item.setLabel("left", "decrease of f")
        item.getAxis("left").enableAutoSIPrefix(False)
        for name in ("bottom", "left"):
            item.getAxis(name).setTextPen((220, 220, 220))
        legend = item.addLegend(offset=(-6, 6), labelTextColor=(230, 230, 230),
                                brush=pg.mkBrush(0, 0, 0, 150))
        legend.setLabelTextSize("8pt")
        self._predicted_curve = pg.PlotDataItem(
            pen=pg.mkPen((240, 240, 240), width=1.5, style=Qt.PenStyle.DashLine),
            connect="finite", antialias=True, name="predicted lr·|∇f|²",
        )
        self._actual_curve = pg.PlotDataItem(
            pen=pg.mkPen(UP_COLOR, width=2.0), connect="finite", antialias=True,
            name="actual f(k\N{MINUS SIGN}1) \N{MINUS SIGN} f(k)",
        )
        item.addItem(self._predicted_curve)
        item.addItem(self._actual_curve)
        self._predicted_curve.setZValue(2)  # dashed on top: visible where the two agree
        layout.addWidget(self._decrease_plot)
        self._decrease_plot.setVisible(False)
        return box

    # ----- the inspected point --------------------------------------------------------------

    def inspect(self, target: Target, x: float, y: float,
                names: AxisNames = FUNCTION_AXES) -> None:
        """Work out everything at (x, y) of f or a model's full-data loss and show it; emits
        point_inspected. names: what the axes are called (a model's parameters)."""
        self._names = names
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            # log of a negative, 0/0 and friends: NaN, shown as "undefined", never a warning.
            warnings.simplefilter("ignore")
            try:
                gradient = gradient_report(target, x, y)
                hessian = hessian_report(target, x, y)
                slopes = directional_derivatives(target, x, y, _ANGLES)
            except (ArithmeticError, ValueError, RuntimeError, TypeError):
                gradient = GradientReport(x, y, math.nan, (math.nan, math.nan), ("", ""),
                                          (None, None))
                hessian = HessianReport(x, y, ((math.nan,) * 2,) * 2, (math.nan, math.nan),
                                        math.nan, None)
                slopes = directional_derivatives_undefined(x, y)
        self._gradient, self._hessian, self._slopes = gradient, hessian, slopes
        self._show()
        gx, gy = self.gradient_shown()
        self.point_inspected.emit(float(x), float(y), gx, gy)

    def clear(self) -> None:
        """Forget the inspected point (a new function, or the Clear button)."""
        self._gradient = self._hessian = self._slopes = None
        self._details.setVisible(False)
        self._hint.setVisible(True)
        self.inspection_cleared.emit()

    def gradient_shown(self) -> tuple[float, float]:
        """The autograd gradient shown now; NaN where f is undefined or nothing is inspected."""
        g = self._gradient
        if g is None or not math.isfinite(g.f):
            return math.nan, math.nan
        return g.grad

    def _show(self) -> None:
        g, h, s = self._gradient, self._hessian, self._slopes
        assert g is not None and h is not None and s is not None
        self._hint.setVisible(False)
        self._details.setVisible(True)
        defined = math.isfinite(g.f)
        text = self._labels
        if g.undefined:  # "f is undefined at (x, y): log of a negative number", in words
            text["point"].setText(f"<b>{html.escape(g.undefined)}</b>")
        else:
            names = self._names
            value = "<b>f</b>" if g.has_formula else f"<b>{names.short}</b> (full data)"
            text["point"].setText(
                f"at {names.x} = {g.x:.6g}, {names.y} = {g.y:.6g}:&nbsp;&nbsp; {value} = "
                f"{number_text(g.f)}")
        for index, key in enumerate(("dfdx", "dfdy")):
            formula = g.symbolic[index]
            if not g.has_formula:  # a model on data: autograd's numbers only
                text[f"{key}_formula"].setText(NO_FORMULA)
                text[f"{key}_formula"].setToolTip(
                    "Symbolic derivatives need a formula; autograd differentiates the loss "
                    "over every data row")
                text[f"{key}_hand"].setText(NOT_APPLICABLE)
                text[f"{key}_autograd"].setText(number_text(g.grad[index] if defined else None))
                continue
            text[f"{key}_formula"].setText(readable_formula(formula) if formula else UNDEFINED)
            text[f"{key}_formula"].setToolTip(f"sympy: {formula}")
            hand = g.symbolic_values[index] if defined else None
            text[f"{key}_hand"].setText(number_text(hand))
            text[f"{key}_autograd"].setText(number_text(g.grad[index] if defined else None))
        gx, gy = self.gradient_shown()
        if defined and math.isfinite(gx) and math.isfinite(gy):
            text["grad"].setText(
                f"<b>∇f</b> = ({number_text(gx)}, {number_text(gy)})&nbsp;&nbsp; "
                f"<b>|∇f|</b> = {number_text(math.hypot(gx, gy))}")
        else:
            text["grad"].setText(f"<b>∇f</b>: {UNDEFINED} (f is not defined here)")
        self._show_hessian(h)
        self._slope_plot.set_slopes(s)
        if s.steepest_descent_angle is None:
            flat = math.isfinite(s.min_slope)
            text["slope"].setText("∇f = 0: flat here, no direction goes down" if flat
                                  else f"slopes: {UNDEFINED}")
        else:
            text["slope"].setText(
                f"Lowest slope: <b>{MINUS}|∇f| = {number_text(s.min_slope)}</b>, along "
                f"{NEG_GRAD}, {math.degrees(s.steepest_descent_angle):.0f}° from +x.")

    def _show_hessian(self, h: HessianReport) -> None:
        text = self._labels
        if not h.finite:
            text["hessian"].setText(UNDEFINED)
            text["eigenvalues"].setText(f"eigenvalues: {UNDEFINED}")
            text["condition"].setText(f"condition number: {UNDEFINED}")
            text["lr_max"].setText(f"largest stable learning rate: {UNDEFINED}")
            self._lr_button.setEnabled(False)
            return
        text["hessian"].setText(matrix_text(h.hessian))
        low, high = h.eigenvalues
        text["eigenvalues"].setText(
            f"eigenvalues λ₁ = {_short(low)},&nbsp; λ₂ = {_short(high)}")
        condition = ("∞ (singular: flat along one direction)" if h.condition_number == math.inf
                     else number_text(h.condition_number))
        text["condition"].setText(f"condition number |λ|max / |λ|min = {condition}")
        text["condition"].setToolTip(
            "How much more f curves in one direction than in another: a large number means a\n"
            "narrow valley, where one learning rate is too big across it and too small along it")
        if h.lr_max is None:
            text["lr_max"].setText(
                "largest stable learning rate 2 / λmax: no limit here (f curves down or is "
                "flat in every direction)")
            self._lr_button.setEnabled(False)
        else:
            text["lr_max"].setText(
                f"largest stable learning rate <b>2 / λmax = {number_text(h.lr_max)}</b>")
            self._lr_button.setEnabled(True)
        text["lr_max"].setToolTip(
            "Plain gradient descent on the local quadratic model overshoots more at every step\n"
            "and diverges when lr > 2 / λmax (λmax: the largest eigenvalue of H)")

    def _on_lr_clicked(self) -> None:
        if self._hessian is not None and self._hessian.lr_max is not None:
            self.lr_requested.emit(float(self._hessian.lr_max))

    # ----- the selected run -----------------------------------------------------------------

    def set_trajectory(self, trajectory: Trajectory | None, *, ascent: bool = False,
                       color: RGB = UP_COLOR, title: str = "") -> None:
        """Plot the predicted and actual decrease of each step of this run (None: a hint)."""
        if trajectory is None or len(trajectory.f) < 2:
            self._decrease = None
            self._decrease_title.setText(DECREASE_HINT if trajectory is None else
                                         f"{title}: no step taken yet")
            self._decrease_plot.setVisible(False)
            return
        decrease = step_decrease(trajectory, ascent=ascent)
        self._decrease = decrease
        note = "" if trajectory.optimizer == "sgd" else (
            " The prediction is plain SGD's; this optimiser steps differently.")
        self._decrease_title.setText(f"{title}.{note}" if title else note.strip())
        steps = decrease.steps.astype(np.float64)
        self._predicted_curve.setData(steps, _plottable(decrease.predicted))
        self._actual_curve.setPen(pg.mkPen(color, width=2.0))
        symbols = len(steps) <= 60
        self._actual_curve.setSymbol("o" if symbols else None)
        self._actual_curve.setSymbolSize(5)
        self._actual_curve.setSymbolBrush(pg.mkBrush(color))
        self._actual_curve.setSymbolPen(pg.mkPen(None))
        self._actual_curve.setData(steps, _plottable(decrease.actual))
        self._decrease_plot.setVisible(True)

    # ----- accessors (for tests and the window) ---------------------------------------------

    def texts(self) -> dict[str, str]:
        """The shown texts by name (point, dfdx_formula, dfdx_hand, dfdx_autograd, ..., lr_max)."""
        return {key: label.text() for key, label in self._labels.items()}

    def gradient(self) -> GradientReport | None:
        """The gradient report of the inspected point."""
        return self._gradient

    def hessian(self) -> HessianReport | None:
        """The Hessian report of the inspected point."""
        return self._hessian

    def decrease(self) -> StepDecrease | None:
        """The predicted and actual decrease plotted now."""
        return self._decrease

    def field_check_box(self) -> QCheckBox:
        """The "Show -grad f field" check box."""
        return self._field_box

    def lr_button(self) -> QPushButton:
        """The "Use as learning rate" button."""
        return self._lr_button

    def slope_plot(self) -> _SlopePlot:
        """The polar plot of the directional derivative."""
        return self._slope_plot

    def decrease_curves(self) -> tuple[pg.PlotDataItem, pg.PlotDataItem]:
        """The predicted and the actual decrease curves."""
        return self._predicted_curve, self._actual_curve


def quiet_gradient_field(target: Target, domain: Domain, chunk: int | None = None
                         ) -> GradientField | None:
    """The -grad f field for the map (None if it cannot be computed); NaN points are dropped."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            return gradient_field(target, domain, FIELD_SIZE, chunk=chunk)
        except (ArithmeticError, ValueError, RuntimeError, TypeError):
            return None


def directional_derivatives_undefined(x: float, y: float) -> DirectionalSlopes:
    """Slopes where nothing could be computed: all NaN."""
    return DirectionalSlopes(x, y, (math.nan, math.nan), _ANGLES,
                             np.full(len(_ANGLES), np.nan), None)


def matrix_text(matrix: tuple[tuple[float, float], tuple[float, float]]) -> str:
    """A 2 x 2 matrix in brackets, aligned (entries that are rounding noise read ≈0)."""
    scale = max(1.0, *(abs(v) for row in matrix for v in row))
    cells = [[_short(v, scale) for v in row] for row in matrix]
    width = [max(len(cells[0][c]), len(cells[1][c])) for c in range(2)]
    top = "  ".join(cells[0][c].rjust(width[c]) for c in range(2))
    bottom = "  ".join(cells[1][c].rjust(width[c]) for c in range(2))
    return f"⎡ {top} ⎤\n⎣ {bottom} ⎦"


def _short(value: float, scale: float = 1.0) -> str:
    """Four significant digits; a value below 1e-12 of the scale is rounding noise: ≈0."""
    if not math.isfinite(value):
        return UNDEFINED
    if value != 0.0 and abs(value) < 1e-12 * scale:
        return "≈0"
    return f"{value:.4g}"


def _plottable(values: np.ndarray) -> np.ndarray:
    """NaN where not finite (the curve breaks), clipped to what Qt can draw."""
    finite = np.isfinite(values)
    return np.where(finite, np.clip(values, -_PLOT_LIMIT, _PLOT_LIMIT), np.nan)


def _caption_pair(caption: str, value: QLabel) -> QWidget:
    """A small grey caption with a value after it."""
    box = QWidget()
    row = QHBoxLayout(box)
    row.setContentsMargins(0, 0, 0, 0)
    row.setSpacing(4)
    label = QLabel(caption)
    label.setStyleSheet(_MUTED)
    row.addWidget(label)
    row.addWidget(value, 1)
    return box


class _SlopePlot(pg.PlotWidget):
    """The directional derivative as a polar plot, oriented like the map (+x right, +y up).

    The radius in direction u is |D_u f| / |∇f|, red where f goes up, blue where it goes down:
    two circles that touch at the centre, the blue one pointing along -grad f (the lowest slope).
    """

    def __init__(self) -> None:
        super().__init__(background=_BACKGROUND)
        self.setFixedSize(185, 175)
        item = self.getPlotItem()
        item.hideAxis("left")
        item.hideAxis("bottom")
        item.setMenuEnabled(False)
        item.hideButtons()
        view = item.getViewBox()
        view.setMouseEnabled(False, False)
        view.setAspectLocked(True)
        view.setRange(xRange=(-1.5, 1.5), yRange=(-1.42, 1.42), padding=0.0)
        self.setToolTip(
            "How steeply f changes if you step from the point in each direction: the distance\n"
            "from the centre is the size of the slope, red uphill, blue downhill. The blue\n"
            f"circle is longest along {NEG_GRAD}: no direction goes down faster.")
        guide = pg.mkPen(150, 150, 150, 120, width=1, style=Qt.PenStyle.DashLine)
        circle = np.column_stack([np.cos(_ANGLES), np.sin(_ANGLES)])
        item.addItem(pg.PlotCurveItem(circle[:, 0], circle[:, 1], pen=guide))
        axes = pg.mkPen(150, 150, 150, 110, width=1)
        item.addItem(pg.PlotCurveItem([-1.2, 1.2, 0, 0], [0, 0, -1.2, 1.2], pen=axes,
                                      connect="pairs"))
        for text, pos in (("+x", (1.3, 0.0)), ("+y", (0.0, 1.22))):
            label = pg.TextItem(text, color=(170, 170, 170), anchor=(0.5, 0.5))
            label.setPos(*pos)
            item.addItem(label)
        self._up_fill = _polygon(UP_COLOR)
        self._down_fill = _polygon(DOWN_COLOR)
        item.addItem(self._up_fill)
        item.addItem(self._down_fill)
        self._up = pg.PlotCurveItem(pen=pg.mkPen(UP_COLOR, width=2.0), antialias=True)
        self._down = pg.PlotCurveItem(pen=pg.mkPen(DOWN_COLOR, width=2.0), antialias=True)
        self._arrow = pg.PlotCurveItem(pen=pg.mkPen(DOWN_COLOR, width=3.0), connect="pairs",
                                       antialias=True)
        self._tip = pg.ScatterPlotItem(size=9, pen=pg.mkPen((255, 255, 255), width=1.5),
                                       brush=pg.mkBrush(DOWN_COLOR))
        self._down_label = pg.TextItem(NEG_GRAD, color=DOWN_COLOR, anchor=(0.5, 0.5))
        self._up_label = pg.TextItem("∇f", color=UP_COLOR, anchor=(0.5, 0.5))
        for font_item in (self._down_label, self._up_label):
            font = QFont(font_item.textItem.font())
            font.setBold(True)
            font_item.setFont(font)
        self._message = pg.TextItem("", color=(200, 200, 200), anchor=(0.5, 0.5))
        for thing in (self._up, self._down, self._arrow, self._tip, self._down_label,
                      self._up_label, self._message):
            item.addItem(thing)

    def set_slopes(self, slopes: DirectionalSlopes) -> None:
        """Draw the slopes of one point (a message instead when the gradient is 0 or NaN)."""
        angle = slopes.steepest_descent_angle
        drawn = (self._up, self._down, self._arrow, self._tip, self._down_label, self._up_label,
                 self._up_fill, self._down_fill)
        if angle is None:
            for thing in drawn:
                thing.setVisible(False)
            flat = math.isfinite(slopes.min_slope)
            self._message.setText("flat: slope 0 everywhere" if flat else UNDEFINED)
            self._message.setPos(0.0, -0.35)
            self._message.setVisible(True)
            return
        self._message.setVisible(False)
        norm = -slopes.min_slope
        radius = slopes.slopes / norm
        for sign, line, fill in ((1.0, self._up, self._up_fill),
                                 (-1.0, self._down, self._down_fill)):
            r = np.where(sign * radius >= 0.0, np.abs(radius), 0.0)
            x, y = r * np.cos(slopes.angles), r * np.sin(slopes.angles)
            line.setData(x, y)
            fill.setPolygon(QPolygonF([QPointF(a, b) for a, b in zip(x, y, strict=True)]))
        dx, dy = math.cos(angle), math.sin(angle)
        xy = arrow_segments(np.array([0.0]), np.array([0.0]), np.array([dx]), np.array([dy]),
                            (1.0, 1.0), 0.16)
        self._arrow.setData(xy[:, 0], xy[:, 1])
        self._tip.setData(pos=[(dx, dy)])
        # Inside the circles (the axis labels sit outside them): "∇f" at the red one's centre,
        # "-grad f" beside the arrow in the blue one.
        self._up_label.setPos(-0.5 * dx, -0.5 * dy)
        self._down_label.setPos(0.55 * dx - 0.24 * dy, 0.55 * dy + 0.24 * dx)
        for thing in drawn:
            thing.setVisible(True)

    def curves(self) -> tuple[pg.PlotCurveItem, pg.PlotCurveItem]:
        """The uphill and the downhill curve (for tests)."""
        return self._up, self._down


def _polygon(color: RGB) -> QGraphicsPolygonItem:
    item = QGraphicsPolygonItem()
    item.setBrush(pg.mkBrush(rgba(color, 60)))
    item.setPen(pg.mkPen(None))
    return item
