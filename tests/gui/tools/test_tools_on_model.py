"""The inspector, the sweep, the race, the basin map and CSV export on a model on data (issue 15).

All on linear over the bundled regression set. The golden values come from numpy on the data:
the gradient 2 [mean(r x), mean(r)] with r = w x + b - y, the Hessian
2 [[mean x^2, mean x], [mean x, 1]] and its 2 / lambda_max, and lstsq's best fit.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pytestqt.qtbot import QtBot

from explorer.gui.main_window import MainWindow
from explorer.gui.panels.model_panel import FitOptions
from explorer.gui.tools.full_batch import FULL_BATCH
from explorer.gui.tools.lab_tools import LabTools
from explorer.io.dataset_csv import bundled_datasets
from explorer.io.trajectory_csv import read_trajectories
from tests.gui.helpers import click_at, wait_idle

pytestmark = pytest.mark.window(surface=False)

DATA = bundled_datasets()["regression"]


def _xy() -> tuple[np.ndarray, np.ndarray]:
    """The regression set's columns, read by numpy, not by the app."""
    table = np.genfromtxt(DATA, delimiter=",", names=True)
    return np.asarray(table["x"], dtype=np.float64), np.asarray(table["y"], dtype=np.float64)


X, Y = _xy()
HESSIAN = 2.0 * np.array([[np.mean(X * X), np.mean(X)], [np.mean(X), 1.0]])
LR_LIMIT = 2.0 / float(np.linalg.eigvalsh(HESSIAN)[-1])
LSTSQ = np.linalg.lstsq(np.column_stack((X, np.ones_like(X))), Y, rcond=None)[0]


def numpy_gradient(w: float, b: float) -> tuple[float, float]:
    r = w * X + b - Y
    return 2.0 * float(np.mean(r * X)), 2.0 * float(np.mean(r))


def show_linear(window: MainWindow) -> None:
    panel = window.model_mode.panel
    panel.select("linear", str(DATA))
    panel.apply()
    assert panel.error_text() == "" and window.document.is_model


def lab(window: MainWindow) -> LabTools:
    tools = window.findChild(LabTools)
    assert tools is not None
    return tools


def test_the_inspector_shows_autograd_gradient_and_hessian_of_the_full_data_loss(
        qtbot: QtBot, window: MainWindow) -> None:
    show_linear(window)
    assert window.menus.inspect.isEnabled()
    assert all(action.isEnabled() for action in window.menus.tools.actions())
    w, b = 0.25, -1.0
    window.inspection.inspect_point(w, b)
    inspector = window.inspector
    report = inspector.gradient()
    assert report is not None and report.has_formula is False
    assert inspector.gradient_shown() == pytest.approx(numpy_gradient(w, b), rel=1e-10)
    assert report.f == pytest.approx(float(np.mean((w * X + b - Y) ** 2)), rel=1e-12)
    texts = inspector.texts()
    assert "does not apply" in texts["dfdx_formula"] and texts["dfdx_hand"] == "n/a"
    assert "at w = 0.25, b = -1:" in texts["point"] and "loss</b> (full data)" in texts["point"]
    hessian = inspector.hessian()
    assert hessian is not None
    assert np.array(hessian.hessian) == pytest.approx(HESSIAN, rel=1e-12)
    assert hessian.eigenvalues == pytest.approx(np.linalg.eigvalsh(HESSIAN), rel=1e-10)
    assert hessian.lr_max == pytest.approx(LR_LIMIT, rel=1e-12)
    window.controls.set_lr(0.001)
    inspector.lr_button().click()
    assert window.controls.lr() == pytest.approx(LR_LIMIT, rel=1e-9)
    # The hover read-out says the loss and its gradient; the field draws arrows along -grad.
    window.inspection._on_point_hovered(w, b)
    assert "w = 0.25   b = -1" in window.contour.hover_text()
    assert "full-data loss = " in window.contour.hover_text()
    inspector.field_check_box().setChecked(True)
    assert window.inspection.overlay.has_field()
    # Inspect mode: a click inspects, it trains nothing.
    window.menus.inspect.trigger()
    click_at(qtbot, window.contour, 1.0, -1.0)
    assert window.runner.shown_trajectories() == []
    window.menus.inspect.trigger()


def test_the_sweep_on_linear_finds_the_numpy_stability_limit(
        qtbot: QtBot, window: MainWindow) -> None:
    from explorer.core.sweep import log_spaced
    from explorer.core.trajectory import Status

    show_linear(window)
    window.controls.set_optimizer("sgd")
    window.controls.set_limits(3000, 1e-10, False)
    window.controls.sweep_requested.emit()  # the Sweep… button beside the learning rate
    panel = lab(window).show_sweep()
    panel.set_start(0.0, 0.0)
    panel.set_range(0.05, 1.0, 20)
    with qtbot.waitSignal(window.worker.finished, timeout=30_000):
        assert panel.run_sweep()
    qtbot.waitUntil(lambda: not panel.is_running(), timeout=30_000)
    assert panel.stable_lr() == pytest.approx(LR_LIMIT, rel=1e-12)
    lrs = log_spaced(0.05, 1.0, 20)
    diverged = [e.lr for e in panel.entries() if e.status is Status.DIVERGED]
    assert diverged == [lr for lr in lrs.tolist() if lr > LR_LIMIT]
    assert FULL_BATCH in panel.summary_text()
    assert window.runner.shown_trajectories() == []


def test_the_race_on_linear_reaches_lstsq_and_ranks_against_it(
        qtbot: QtBot, window: MainWindow) -> None:
    from explorer.core.race import RaceEntry

    show_linear(window)
    window.model_mode.panel.set_options(FitOptions(16, 3, 1))  # a minibatch set for clicks...
    window.controls.set_limits(3000, 1e-10, False)
    panel = lab(window).show_race()
    panel.set_entries([RaceEntry("sgd", 0.9 * LR_LIMIT), RaceEntry("adam", 0.01)])
    starts = [(-0.3, 0.2), (3.0, -1.5)]
    for x, y in starts:
        window.runner.add_pending(x, y)
    with qtbot.waitSignal(panel.leaderboard_ready, timeout=60_000):
        assert panel.start_race()
    assert FULL_BATCH in panel.message_text()  # ...but a race is full batch
    paths = window.runner.shown_trajectories()
    assert len(paths) == 4
    best = panel.standings()[0]
    assert best.entry.optimizer == "sgd"
    assert best.distance is not None and best.distance < 1e-6
    for shown in paths:
        if shown.settings.optimizer == "sgd":
            assert shown.trajectory().end == pytest.approx(tuple(LSTSQ), abs=1e-6)
    board = panel.leaderboard_table().model()
    assert board.index(0, 5).data() not in ("-", "no known minima")


def test_the_basin_map_on_linear_is_one_minimum_at_lstsq(
        qtbot: QtBot, window: MainWindow) -> None:
    show_linear(window)
    window.controls.set_optimizer("sgd")
    panel = lab(window).show_basin()
    panel.set_grid_size(12)
    panel.set_lr(0.5 * LR_LIMIT)
    panel.set_steps(3000)
    with qtbot.waitSignal(panel.job().finished, timeout=60_000):
        assert panel.compute()
    result = panel.shown_map()
    assert result is not None and len(result.minima) == 1
    (only,) = result.minima
    assert (only.x, only.y) == pytest.approx(tuple(LSTSQ), abs=1e-6)
    assert only.share == 1.0 and result.matches_known is True
    assert "least-squares fit" in panel.summary_text()
    # Another model is another landscape: the old map goes.
    window.model_mode.panel.select("deeplinear", str(DATA))
    window.model_mode.panel.apply()
    assert panel.shown_map() is None


def test_model_runs_export_as_csv_and_read_back(
        qtbot: QtBot, window: MainWindow, tmp_path: Path) -> None:
    show_linear(window)
    window.controls.set_optimizer("sgd")
    window.controls.set_lr(0.1)
    window.controls.set_limits(200, 1e-10, False)
    click_at(qtbot, window.contour, 0.5, -1.0)  # full batch
    wait_idle(qtbot, window)
    window.model_mode.panel.set_options(FitOptions(32, 2, 5))
    click_at(qtbot, window.contour, 2.0, -0.5)  # minibatches
    qtbot.waitUntil(lambda: len(window.runner.store.paths) == 2, timeout=30_000)
    wait_idle(qtbot, window)
    out = tmp_path / "runs.csv"
    assert window.exporter.export_to(out)
    header = out.read_text().splitlines()[0]
    assert header.startswith("trajectory,optimizer,lr,step,x,y,f,grad_x,grad_y")
    back = read_trajectories(out)
    shown = sorted(window.runner.store.paths.values(), key=lambda s: s.path_id)
    assert len(back) == 2
    for read, path in zip(back, shown, strict=True):
        want = path.trajectory()
        assert read.function == "linear on regression"
        np.testing.assert_array_equal(read.x, want.x)
        np.testing.assert_array_equal(read.y, want.y)
        np.testing.assert_array_equal(read.f, want.f)
        # f is the full-data loss at (w, b) = (x, y), by numpy.
        for k in (0, len(read.x) - 1):
            w, b = read.x[k], read.y[k]
            assert read.f[k] == pytest.approx(float(np.mean((w * X + b - Y) ** 2)), rel=1e-9)
            assert (read.grad_x[k], read.grad_y[k]) == pytest.approx(numpy_gradient(w, b),
                                                                     rel=1e-8, abs=1e-12)


def test_a_diverged_model_run_says_lr_is_above_the_limit(
        qtbot: QtBot, window: MainWindow) -> None:
    show_linear(window)
    window.controls.set_optimizer("sgd")
    window.controls.set_lr(2.0 * LR_LIMIT)
    window.controls.set_limits(2000, 1e-10, False)
    with qtbot.waitSignal(window.worker.finished, timeout=30_000):
        window.runner.start_runs([(0.0, 0.0)])
    wait_idle(qtbot, window)
    (shown,) = window.runner.shown_trajectories()
    assert shown.trajectory().status.label == "diverged"
    assert f"2 / lambda_max = {LR_LIMIT:.2g}" in shown.note


@pytest.mark.parametrize("point", [(1e308, -1e308), (1e200, 3.0), (-5e-324, 1e-300)])
def test_inspecting_hostile_points_of_a_model_shows_numbers_or_undefined(
        window: MainWindow, point: tuple[float, float]) -> None:
    show_linear(window)
    window.inspection.inspect_point(*point)
    report = window.inspector.gradient()
    assert report is not None and report.has_formula is False
    w, b = point
    with np.errstate(all="ignore"):
        want = float(np.mean((w * X + b - Y) ** 2))
    if np.isfinite(want):
        assert report.f == pytest.approx(want, rel=1e-9)
    else:  # the loss overflows float64 there: said in words, no number that looks valid
        assert not np.isfinite(report.f) and report.undefined is not None
        assert "not a finite number" in window.inspector.texts()["point"]
        assert window.inspector.texts()["dfdx_autograd"] == "undefined"
    window.inspection._on_point_hovered(*point)  # no warning, some text
    assert window.contour.hover_text()


def test_tune_on_a_model_picks_core_tune_lr_on_its_full_data_loss(
        qtbot: QtBot, window: MainWindow) -> None:
    from explorer.core.race import tune_lr

    show_linear(window)
    window.controls.set_limits(100, 0.0, False)
    panel = lab(window).show_race()
    starts = [(0.0, 0.0), (2.0, -1.5)]
    for x, y in starts:
        window.runner.add_pending(x, y)
    entry = panel.entries()[0]
    panel.tune_button(0).click()
    qtbot.waitUntil(lambda: not panel.is_tuning(), timeout=30_000)
    landscape = window.model_mode.landscape
    assert landscape is not None
    want = tune_lr(landscape.objective, starts, entry, window.controls.run_settings())
    assert want is not None and want < LR_LIMIT  # above the limit plain SGD diverges
    assert panel.entries()[0].lr == pytest.approx(want)
