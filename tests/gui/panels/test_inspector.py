"""The gradient inspector: inspect mode, the numbers in the panel, the arrows, the learning-rate
button, the -grad field, undefined points and the predicted-decrease plot."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from explorer.gui.main_window import MainWindow
from explorer.gui.panels.inspector_panel import MINUS, NEG_GRAD, UNDEFINED, readable_formula
from tests.gui.helpers import click_at, wait_idle

# The window (no 3D view) on the tutorial's function, drawing paths instantly.
pytestmark = pytest.mark.window(surface=False, preset="tutorial")


def _apply(window: MainWindow, text: str, domain: tuple[float, float, float, float]) -> None:
    panel = window.function
    panel.set_function(text, domain)
    assert panel.apply()


def _segments(item: object) -> np.ndarray:
    """The (start, end) pairs an arrow item draws, shape (k, 2, 2)."""
    x, y = item.getData()  # type: ignore[attr-defined]
    return np.column_stack([x, y]).reshape(-1, 2, 2)


def test_a_click_in_inspect_mode_shows_the_gradient_by_hand_and_by_autograd(
    qtbot: QtBot, window: MainWindow
) -> None:
    window.menus.inspect.trigger()
    assert window.contour.is_inspect_mode()
    x, y = click_at(qtbot, window.contour, 2.0, 3.0)
    assert window.runner.shown_trajectories() == []  # inspecting starts no descent
    texts = window.inspector.texts()
    # df/dx = y + pi cos(pi x), df/dy = x, worked by hand at the clicked pixel's data point.
    want = (y + math.pi * math.cos(math.pi * x), x)
    for key, value in zip(("dfdx", "dfdy"), want, strict=True):
        assert float(texts[f"{key}_hand"]) == pytest.approx(value, rel=1e-5)
        assert float(texts[f"{key}_autograd"]) == pytest.approx(value, rel=1e-5)
    assert want == pytest.approx((3 + math.pi, 2.0), abs=0.05)  # within a pixel of (2, 3)

    # Exactly at (2, 3): the tutorial's (3 + pi, 2), both ways.
    window.inspection.inspect_point(2.0, 3.0)
    texts = window.inspector.texts()
    assert texts["dfdx_formula"] == "y + π·cos(π·x)"
    assert texts["dfdy_formula"] == "x"
    assert texts["dfdx_hand"] == texts["dfdx_autograd"] == "6.14159"
    assert texts["dfdy_hand"] == texts["dfdy_autograd"] == "2"
    assert "(6.14159, 2)" in texts["grad"] and "6.45904" in texts["grad"]
    assert "2 / λmax = 2" in texts["lr_max"]

    # The arrows: grad f from (2, 3) along (3 + pi, 2), -grad f the other way (the domain is
    # square, drawn to scale, so directions in data coordinates are directions on screen).
    overlay = window.inspection.overlay
    up, down = overlay.arrow_items()
    for item, sign in ((up, 1.0), (down, -1.0)):
        assert item.isVisible()
        shaft = _segments(item)[0]
        assert shaft[0] == pytest.approx([2.0, 3.0])
        direction = shaft[1] - shaft[0]
        gradient = sign * np.array([3 + math.pi, 2.0])
        assert direction[0] * gradient[1] - direction[1] * gradient[0] == pytest.approx(
            0.0, abs=1e-9 * np.linalg.norm(direction) * np.linalg.norm(gradient))
        assert direction @ gradient > 0
        assert len(_segments(item)) == 3  # a shaft and two head strokes
    labels = [label.toPlainText() for label in overlay.label_items()]
    assert labels == ["∇f", NEG_GRAD]

    # The polar plot: downhill along -grad f, as far out as the slope is steep.
    _, downhill = window.inspector.slope_plot().curves()
    dx, dy = downhill.getData()
    far = int(np.argmax(np.hypot(dx, dy)))
    unit = -np.array([3 + math.pi, 2.0]) / math.hypot(3 + math.pi, 2.0)
    assert np.array([dx[far], dy[far]]) == pytest.approx(unit, abs=1e-3)

    # I switches the mode off again: a click descends.
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    qtbot.keyClick(window, Qt.Key.Key_I)
    assert not window.contour.is_inspect_mode()
    with qtbot.waitSignal(window.worker.finished, timeout=30_000):
        click_at(qtbot, window.contour, -1.0, -1.0)
    wait_idle(qtbot, window)
    assert len(window.runner.shown_trajectories()) == 1


def test_ctrl_hover_inspects_live(qtbot: QtBot, window: MainWindow) -> None:
    view = window.contour
    plot = view.plot_widget()
    box = plot.getPlotItem().getViewBox()
    pos = plot.mapFromScene(box.mapViewToScene(QPointF(-1.0, 1.5)))
    event = QMouseEvent(QEvent.Type.MouseMove, QPointF(pos), QPointF(plot.mapToGlobal(pos)),
                        Qt.MouseButton.NoButton, Qt.MouseButton.NoButton,
                        Qt.KeyboardModifier.ControlModifier)
    QApplication.sendEvent(plot.viewport(), event)
    panel = window.inspector
    qtbot.waitUntil(lambda: panel.gradient() is not None, timeout=5000)
    report = panel.gradient()
    assert report is not None
    assert (report.x, report.y) == pytest.approx((-1.0, 1.5), abs=0.05)
    assert window.runner.shown_trajectories() == []


def test_use_as_learning_rate_sets_two_over_lambda_max(qtbot: QtBot, window: MainWindow) -> None:
    window.inspection.inspect_point(2.0, 3.0)
    button = window.inspector.lr_button()
    assert button.isEnabled()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert window.controls.lr() == pytest.approx(2.0, abs=1e-12)

    # 3x^2 + 2xy + 5y^2: lambda_max = 8 + 2 sqrt 2.
    _apply(window, "3*x**2 + 2*x*y + 5*y**2", (-2.0, 2.0, -2.0, 2.0))
    window.inspection.inspect_point(0.5, -0.5)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert window.controls.lr() == pytest.approx(2 / (8 + 2 * math.sqrt(2)), rel=1e-12)

    # A concave function sets no limit: the button is off.
    _apply(window, "-(x**2 + y**2)", (-2.0, 2.0, -2.0, 2.0))
    window.inspection.inspect_point(0.5, 0.5)
    assert not button.isEnabled()
    assert "no limit" in window.inspector.texts()["lr_max"]


def test_the_field_toggle_draws_minus_grad_arrows(qtbot: QtBot, window: MainWindow) -> None:
    overlay = window.inspection.overlay
    field_box = window.inspector.field_check_box()
    assert not overlay.has_field()
    field_box.setChecked(True)
    item = overlay.field_item()
    assert overlay.has_field() and item.isVisible()
    segments = _segments(item)
    assert len(segments) % 3 == 0 and 0 < len(segments) // 3 <= 21 * 21
    shafts = segments[::3]
    # Each shaft points along -grad f = -(y + pi cos(pi x), x) at its base.
    base, direction = shafts[:, 0], shafts[:, 1] - shafts[:, 0]
    minus_grad = -np.column_stack([base[:, 1] + np.pi * np.cos(np.pi * base[:, 0]), base[:, 0]])
    cos = np.sum(direction * minus_grad, axis=1) / (
        np.linalg.norm(direction, axis=1) * np.linalg.norm(minus_grad, axis=1))
    assert cos == pytest.approx(np.ones(len(cos)), abs=1e-9)

    # A new function keeps the field on, drawn for the new f; undefined points are left out.
    _apply(window, "log(x) + y", (-2.0, 2.0, -2.0, 2.0))
    assert overlay.has_field()
    assert (_segments(item)[::3, 0, 0] > 0).all()
    field_box.setChecked(False)
    assert not overlay.has_field() and not item.isVisible()


def test_an_undefined_point_reads_undefined(qtbot: QtBot, window: MainWindow) -> None:
    _apply(window, "log(x) + y", (-2.0, 2.0, -2.0, 2.0))
    window.inspection.inspect_point(-1.0, 0.5)
    panel = window.inspector
    texts = panel.texts()
    # Why, in words, and no number that looks valid.
    assert texts["point"] == "<b>f is undefined at (-1, 0.5): log of a negative number</b>"
    for key in ("dfdx_hand", "dfdx_autograd", "dfdy_hand", "dfdy_autograd", "hessian"):
        assert texts[key] == UNDEFINED, key
    assert UNDEFINED in texts["grad"] and UNDEFINED in texts["lr_max"]
    assert not panel.lr_button().isEnabled()
    up, down = window.inspection.overlay.arrow_items()
    assert not up.isVisible() and not down.isVisible()

    window.inspection.inspect_point(1.0, 0.5)  # defined again: 1/x = 1, 1
    assert panel.texts()["dfdx_autograd"] == "1" and up.isVisible()


def test_hovering_where_f_is_undefined_says_why(qtbot: QtBot, window: MainWindow) -> None:
    _apply(window, "sqrt(x) + 1/y", (-2.0, 2.0, -2.0, 2.0))
    qtbot.waitUntil(lambda: window.runner.worker.is_ready)
    window.inspection._on_point_hovered(-1.0, 0.5)
    text = window.contour.hover_text()
    assert "f is undefined here: sqrt of a negative number" in text
    assert "∇f" not in text and "nan" not in text
    window.inspection._on_point_hovered(1.0, 0.0)
    assert "f is undefined here: division by zero" in window.contour.hover_text()
    window.inspection._on_point_hovered(4.0, 0.5)  # sqrt(4) + 2 = 4
    assert "f(x, y) = 4" in window.contour.hover_text()


def test_a_new_function_clears_the_inspection(qtbot: QtBot, window: MainWindow) -> None:
    window.inspection.inspect_point(2.0, 3.0)
    assert window.inspection.overlay.point() is not None
    assert window.function.choose_preset("himmelblau")
    assert window.inspector.gradient() is None
    assert window.inspection.overlay.point() is None
    assert not window.inspection.overlay.arrow_items()[0].isVisible()


def test_selected_run_shows_predicted_and_actual_decrease(
    qtbot: QtBot, window: MainWindow
) -> None:
    _apply(window, "x**2 + 3*y**2", (-2.0, 2.0, -2.0, 2.0))
    controls = window.controls
    controls.set_optimizer("sgd")
    controls.set_lr(0.1)
    controls.set_limits(20, 0.0, False)
    with qtbot.waitSignal(window.worker.finished, timeout=30_000):
        window.runner.start_runs([(1.0, 1.0)])
    wait_idle(qtbot, window)
    panel = window.inspector
    assert panel.decrease() is None
    (shown,) = window.runner.shown_trajectories()
    window.runs_panel.select(shown.path_id)
    decrease = panel.decrease()
    assert decrease is not None and len(decrease.steps) == 20
    # Step 1 by hand: grad (2, 6) at (1, 1), predicted 0.1 * 40 = 4; the step lands on
    # (0.8, 0.4), where f = 0.64 + 0.48 = 1.12, so f fell by 4 - 1.12 = 2.88.
    assert decrease.predicted[0] == pytest.approx(4.0)
    assert decrease.actual[0] == pytest.approx(2.88)
    predicted, actual = panel.decrease_curves()
    assert actual.getData()[1][0] == pytest.approx(2.88)
    assert len(predicted.getData()[0]) == 20
    window.runs_panel.select(None)
    assert panel.decrease() is None


def test_readable_formulas() -> None:
    assert readable_formula("4*x*(x**2 + y - 11) + 2*x") == f"4·x·(x² + y {MINUS} 11) + 2·x"
    assert readable_formula("pi*exp(-x)*sqrt(E)") == f"π·exp({MINUS}x)·√(e)"
    assert readable_formula("x**(-2) + x**1.5") == f"x^({MINUS}2) + x^1.5"
