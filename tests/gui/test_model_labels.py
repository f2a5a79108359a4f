"""Model on data: the maps, the 3D view, both colour bars and the runs table name the model's
parameters and its loss, and x, y and f(x, y) again for a function; so do the loss plot, the
stopping rule and a diverged path's reason (|w| > 1e6); a minibatch path's status is
core.fitting's own (done, converged, diverged with its reason) (issue 15)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pytestqt.qtbot import QtBot

from explorer.core.models import MODELS, get_model
from explorer.gui.main_window import MainWindow
from explorer.gui.model.run_table import STATUS_COLUMN, WHY_COLUMN
from explorer.gui.panels.model_panel import FitOptions
from explorer.io.dataset_csv import bundled_datasets
from tests.gui.helpers import wait_idle
from tests.gui.test_model_mode import _inside, _one_minibatch_path, _show, _write_linear

DATA = {"logistic": "classification", "neuron": "plateau"}


def _names_on_screen(window: MainWindow) -> dict[str, object]:
    item = window.contour.plot_widget().getPlotItem()
    bar = window.contour.color_bar().getAxis("left").labelText
    header = window.runs_panel.model()
    texts = {
        "axes": (item.getAxis("bottom").labelText, item.getAxis("left").labelText),
        "bar": bar,
        "headers": tuple(header.header_text(c) for c in (1, 4, 5)),
    }
    if window.surface is not None:
        labels, title = window.surface.label_texts()
        texts["floor"] = tuple(labels[-2:])
        texts["surface bar"] = title
    return texts


@pytest.mark.window(surface=None)
@pytest.mark.parametrize("model", list(MODELS))
def test_every_label_names_the_parameters_and_the_loss_then_x_y_again(
        window: MainWindow, model: str) -> None:
    p1, p2 = get_model(model).params
    _show(window, model, bundled_datasets()[DATA.get(model, "regression")])
    log = window.menus.log_scale.isChecked()
    value = "log10(loss - min)" if log else "loss"
    expected: dict[str, object] = {
        "axes": (p1, p2), "bar": value, "headers": (f"Start ({p1}, {p2})", "loss", "|∇loss|")}
    if window.surface is not None:
        expected |= {"floor": (p1, p2), "surface bar": value}
    assert _names_on_screen(window) == expected
    # The log scale keeps the loss's name.
    window.menus.log_scale.setChecked(not log)
    other = "loss" if log else "log10(loss - min)"
    assert window.contour.color_bar().getAxis("left").labelText == other
    if window.surface is not None:
        assert window.surface.label_texts()[1] == other
    # A function: x, y and f(x, y) everywhere again.
    assert window.function.choose_preset("himmelblau")
    log = window.menus.log_scale.isChecked()
    value = "log10(f - min)" if log else "f(x, y)"
    expected = {"axes": ("x", "y"), "bar": value, "headers": ("Start (x, y)", "f", "|∇f|")}
    if window.surface is not None:
        expected |= {"floor": ("x", "y"), "surface bar": value}
    assert _names_on_screen(window) == expected


@pytest.mark.gl
@pytest.mark.window(surface=True)
def test_a_surface_built_after_the_model_is_shown_names_its_parameters(
        window: MainWindow) -> None:
    # The 3D view is built once; a window that already shows a model names it on creation.
    assert window.surface is not None
    _show(window, "deeplinear", bundled_datasets()["regression"])
    surface, window.surface = window.surface, None
    window.view_area._placeholder = None
    window.build_surface()
    assert window.surface is not None and window.surface is not surface
    assert window.surface.axis_names() == ("w1", "w2", "loss")
    surface.deleteLater()


@pytest.mark.window(surface=False)
@pytest.mark.parametrize(("lr", "tol", "epochs", "outcome"), [
    (0.1, 1e-12, 3, "done"),  # every epoch runs
    (0.1, 50.0, 3, "converged"),  # the gradient is small enough at once
    (50.0, 1e-12, 30, "diverged"),  # far too large a step: with the fit's reason
])
def test_a_finished_minibatch_path_shows_the_fits_own_status(
        window: MainWindow, qtbot: QtBot, tmp_path: Path, lr: float, tol: float,
        epochs: int, outcome: str) -> None:
    from explorer.core.fitting import FitSettings, fit

    window.controls.set_optimizer("sgd")
    window.controls.set_lr(lr)
    window.controls.set_limits(1000, tol, False)
    (shown,) = _one_minibatch_path(window, qtbot, tmp_path, 40, FitOptions(8, epochs, 2))
    landscape = window.model_mode.landscape
    assert landscape is not None
    run = window.controls.run_settings()
    result = fit(landscape, shown.start, FitSettings(run.optimizer, run.lr, run.params, 8,
                                                     epochs, 2, run.tol, run.bound))
    texts = window.runs_panel.model().texts_of(shown.path_id)
    if result.status == "diverged":
        status, _, why = result.reason.partition(": ")
        assert (texts[STATUS_COLUMN], texts[WHY_COLUMN]) == (status, why)
        assert "|x|" not in why and "|y|" not in why  # the parameters' names, if any
    else:
        assert (texts[STATUS_COLUMN], texts[WHY_COLUMN]) == (result.status, result.reason)
    assert result.status == outcome


def _value_labels(window: MainWindow) -> tuple[str, str, str]:
    """The loss plot's y axis title, the tolerance's row label and the stopping rule."""
    loss_axis = window.loss.plot_widget().getPlotItem().getAxis("left").labelText
    return (loss_axis, window.controls.tolerance_label_text(),
            window.controls.stopping_rule_text())


@pytest.mark.window(surface=False)
@pytest.mark.parametrize("model", list(MODELS))
def test_loss_plot_and_stopping_rule_name_the_loss_then_f_again(
        window: MainWindow, model: str) -> None:
    window.loss.set_log_y(False)
    window.controls.set_limits(250, 1e-5, False)
    _show(window, model, bundled_datasets()[DATA.get(model, "regression")])
    axis, tol, rule = _value_labels(window)
    assert (axis, tol) == ("loss", "Stop when |∇loss| ≤")
    assert rule.startswith("Stops when |∇loss| ≤ ") and "250 steps" in rule
    assert "f" not in axis + tol + rule.replace("after", "")
    window.loss.set_log_y(True)
    assert _value_labels(window)[0] == "loss - min loss  (log scale)"
    # Changing the tolerance keeps the loss's name in the rule.
    window.controls.set_limits(40, 1e-3, False)
    assert _value_labels(window)[2].startswith("Stops when |∇loss| ≤ ")
    # A function: f everywhere again, on either scale.
    assert window.function.choose_preset("himmelblau")
    assert _value_labels(window)[:2] == ("f - min f  (log scale)", "Stop when |∇f| ≤")
    assert _value_labels(window)[2].startswith("Stops when |∇f| ≤ ")
    window.loss.set_log_y(False)
    assert _value_labels(window)[0] == "f"


@pytest.mark.window(surface=False)
@pytest.mark.parametrize("model", ["linear", "deeplinear"])
def test_a_diverged_full_batch_model_path_names_the_parameter(
        window: MainWindow, qtbot: QtBot, tmp_path: Path, model: str) -> None:
    p1, p2 = get_model(model).params
    data = tmp_path / "line.csv"
    _write_linear(data, n=30)
    _show(window, model, data)
    window.model_mode.panel.set_options(FitOptions(None, 1, 0))
    window.controls.set_optimizer("sgd")
    window.controls.set_lr(1e3)  # far past 2 / lambda_max: the parameters blow up
    window.controls.set_limits(500, 1e-12, False)
    window.runner.start_runs([_inside(window, 0.6, 0.7)])
    wait_idle(qtbot, window)
    (shown,) = window.runner.store.paths.values()
    texts = window.runs_panel.model().texts_of(shown.path_id)
    assert texts[STATUS_COLUMN].startswith("diverged at step ")
    # Which parameter left the bounds, from the path's last row and the bound.
    bound = shown.settings.bound
    last = shown.xy[shown.received - 1]
    assert np.isfinite(last).all()  # it left the bounds, not a NaN
    name = p1 if abs(last[0]) > bound else p2
    assert texts[WHY_COLUMN].startswith(f"|{name}| > 1e6")
    assert "|x|" not in texts[WHY_COLUMN] and "|y|" not in texts[WHY_COLUMN]
    ((_, _, why),) = window.contour.diverged_marks().values()
    assert f"|{name}| > 1e6" in why and "|x|" not in why and "|y|" not in why
