"""The main window: click to start, batched runs, errors, pause/step/stop, export, settings."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication, QLineEdit, QSlider, QTextBrowser
from pytestqt.qtbot import QtBot

from explorer.core.descent import run_descent
from explorer.core.expression import parse
from explorer.core.presets import get_preset
from explorer.core.trajectory import RunSettings, Status
from explorer.gui.main_window import TITLE, MainWindow
from explorer.gui.model.run_table import STATUS_COLUMN
from explorer.io.trajectory_csv import read_trajectories
from tests.gui.helpers import WindowOpener, click_at, wait_idle

HIMMELBLAU = get_preset("himmelblau")


def nearest_minimum(x: float, y: float) -> float:
    return min(math.hypot(x - m.x, y - m.y) for m in HIMMELBLAU.minima)


def test_opens_on_himmelblau(window: MainWindow) -> None:
    assert window.windowTitle() == f"{TITLE}[*]"
    assert window.function.text() == HIMMELBLAU.formula
    grid = window.document.grid
    assert grid is not None and grid.domain == HIMMELBLAU.domain
    assert len(window.contour.contour_item().levels) >= 10
    assert window.worker.is_ready


def test_click_descends_from_there_to_a_minimum(qtbot: QtBot, window: MainWindow) -> None:
    with qtbot.waitSignal(window.worker.finished, timeout=30_000):
        start = click_at(qtbot, window.contour, 0.5, -0.5)
    wait_idle(qtbot, window)
    (shown,) = window.runner.shown_trajectories()
    assert shown.start == pytest.approx(start, abs=1e-9)
    assert math.hypot(start[0] - 0.5, start[1] + 0.5) < 0.05  # within a pixel or two
    trajectory = shown.trajectory()
    assert trajectory.status == Status.CONVERGED
    assert nearest_minimum(*trajectory.end) < 1e-4
    # The same path, in the same colour, in every view and in the table.
    assert window.contour.path_ids() == [shown.path_id]
    assert window.loss.path_ids() == [shown.path_id]
    if window.surface is not None:
        assert window.surface.path_ids() == [shown.path_id]
    row = window.runs_panel.row_texts(shown.path_id)
    assert row[STATUS_COLUMN] == "converged" and row[3] == str(trajectory.steps)


def test_shift_clicks_wait_then_space_runs_them_together(
    qtbot: QtBot, window: MainWindow
) -> None:
    first = click_at(qtbot, window.contour, -1.0, 1.0, shift=True)
    second = click_at(qtbot, window.contour, 1.0, -3.0, shift=True)
    assert window.runner.pending_starts() == [first, second]
    assert len(window.contour.pending_item().data) == 2
    assert window.runner.shown_trajectories() == []

    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    with qtbot.waitSignal(window.worker.finished, timeout=30_000):
        qtbot.keyClick(window, Qt.Key.Key_Space)
    wait_idle(qtbot, window)
    assert window.runner.pending_starts() == []
    assert len(window.contour.pending_item().data) == 0
    paths = window.runner.shown_trajectories()
    assert [p.start for p in paths] == [first, second]
    assert len({p.run_id for p in paths}) == 1  # one batched request
    assert len({p.color for p in paths}) == 2
    for path in paths:
        assert nearest_minimum(*path.trajectory().end) < 1e-4


def test_bad_function_shows_the_error_and_keeps_landscape_and_runs(
    qtbot: QtBot, window: MainWindow
) -> None:
    window.runner.start_runs([(0.0, 0.0)])
    wait_idle(qtbot, window)
    grid = window.document.grid
    panel = window.function
    field = panel.expression_field()
    field.selectAll()
    qtbot.keyClicks(field, "x**2 + (y")
    assert len(window.runner.shown_trajectories()) == 1  # typing loses nothing
    qtbot.keyClick(field, Qt.Key.Key_Return)
    error = panel.error_text()
    assert "column 8" in error and "parenthesis" in error
    assert error.splitlines()[-2:] == ["x**2 + (y", "       ^"]
    assert window.document.grid is grid
    assert len(window.runner.shown_trajectories()) == 1

    field.selectAll()
    qtbot.keyClicks(field, "x**2 + 3*y**2")
    qtbot.keyClick(field, Qt.Key.Key_Return)
    assert panel.error_text() == ""
    assert window.document.grid is not grid
    assert window.runner.shown_trajectories() == []  # a new function replaces the runs


def test_keys_typed_in_a_text_field_stay_there(qtbot: QtBot, window: MainWindow) -> None:
    window.runner.start_runs([(1.0, 1.0)])
    wait_idle(qtbot, window)
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    field = window.function.expression_field()
    field.setFocus()
    field.setText("x")
    qtbot.keyClicks(field, " r")
    qtbot.keyClick(field, Qt.Key.Key_Delete)
    assert field.text() == "x r"
    assert len(window.runner.shown_trajectories()) == 1  # neither Reset (R) nor Clear (Delete) ran
    assert window.runner.pending_starts() == []


def test_pause_step_and_stop(qtbot: QtBot, window: MainWindow) -> None:
    controls = window.controls
    controls.set_path_time(600.0)  # the longest: 100,000 steps at about 170 a second
    controls.set_lr(1e-5)
    controls.set_limits(100_000, 0.0, False)
    window.runner.start_runs([(0.0, 0.0)])
    (path,) = window.runner.shown_trajectories()
    qtbot.waitUntil(lambda: path.shown >= 3, timeout=10_000)

    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    qtbot.keyClick(window, Qt.Key.Key_Space)
    assert window.runner.is_paused()
    paused_at = path.shown
    qtbot.wait(250)
    assert path.shown == paused_at

    qtbot.keyClick(window, Qt.Key.Key_Right)
    qtbot.waitUntil(lambda: path.shown == paused_at + 1, timeout=2000)
    qtbot.wait(150)
    assert path.shown == paused_at + 1
    controls.button("step").click()
    qtbot.waitUntil(lambda: path.shown == paused_at + 2, timeout=2000)

    qtbot.keyClick(window, Qt.Key.Key_Space)
    assert not window.runner.is_paused()
    qtbot.waitUntil(lambda: path.shown > paused_at + 4, timeout=5000)

    controls.button("stop").click()
    stopped_at = path.shown
    qtbot.waitUntil(lambda: window.worker.is_idle, timeout=1000)
    qtbot.wait(150)
    assert path.shown == path.received == stopped_at
    assert not window.runner.is_animating()
    assert path.status_text() == f"stopped at step {stopped_at - 1}"
    assert window.runs_panel.row_texts(path.path_id)[STATUS_COLUMN] == path.status_text()
    assert path.trajectory().status is Status.STOPPED  # what an export writes for it


def test_select_highlights_and_delete_removes(qtbot: QtBot, window: MainWindow) -> None:
    window.runner.start_runs([(0.0, 0.0), (-2.0, 2.0), (2.0, -2.0)])
    wait_idle(qtbot, window)
    ids = [p.path_id for p in window.runner.shown_trajectories()]
    table = window.runs_panel.table()
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    table.setFocus()
    window.runs_panel.select(ids[1])
    contour = window.contour
    assert contour.path_items(ids[1]).line.zValue() > contour.path_items(ids[0]).line.zValue()
    qtbot.keyClick(table, Qt.Key.Key_Delete)
    assert [p.path_id for p in window.runner.shown_trajectories()] == [ids[0], ids[2]]
    assert contour.path_ids() == [ids[0], ids[2]]
    assert window.loss.path_ids() == [ids[0], ids[2]]
    assert window.runs_panel.path_ids() == [ids[0], ids[2]]

    window.function.expression_field().setFocus()
    window.contour.setFocus()
    qtbot.keyClick(window, Qt.Key.Key_Delete)
    assert window.runner.shown_trajectories() == []  # nothing selected: Delete clears all
    assert contour.path_ids() == []


def test_export_writes_exactly_what_the_engine_computed(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    controls = window.controls
    controls.set_optimizer("adam")
    controls.set_lr(0.05)
    controls.set_params("adam", {"amsgrad": True})
    controls.set_limits(250, 1e-8, False)
    starts = [(0.5, -1.25), (-3.0, 3.5), (4.0, 4.0)]
    with qtbot.waitSignal(window.worker.finished, timeout=30_000):
        window.runner.start_runs(starts)
    wait_idle(qtbot, window)

    path = tmp_path / "all.csv"
    assert window.exporter.export_to(path)
    got = read_trajectories(path)
    settings = RunSettings.create({"amsgrad": True}, optimizer="adam", lr=0.05, steps=250,
                                  tol=1e-8)
    expression = parse(HIMMELBLAU.formula)
    want = run_descent(expression.evaluate, starts, settings, function=expression.text)
    assert len(got) == 3
    for read, engine in zip(got, want.trajectories(), strict=True):
        for name in ("x", "y", "f", "grad_x", "grad_y"):
            assert getattr(read, name).tobytes() == getattr(engine, name).tobytes()
        assert (read.optimizer, read.lr, read.status, read.function, read.params) == (
            engine.optimizer, engine.lr, engine.status, engine.function, engine.params)
    assert got[0].params == "amsgrad=true"

    window.runs_panel.select(window.runner.shown_trajectories()[1].path_id)
    selected = tmp_path / "selected.csv"
    assert window.exporter.export_to(selected, selected_only=True)
    (only,) = read_trajectories(selected)
    assert only.x.tobytes() == want.trajectory(1).x.tobytes()


def test_a_failed_export_says_so_and_keeps_everything(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    window.runner.start_runs([(0.0, 0.0)])
    wait_idle(qtbot, window)
    target = tmp_path / "no such folder" / "t.csv"
    assert not window.exporter.export_to(target)
    box = window.error_box()
    assert box is not None and box.isVisible()
    assert "does not exist" in box.text()
    assert not target.exists()
    assert len(window.runner.shown_trajectories()) == 1
    box.close()


def test_reset_keeps_the_starts_for_another_run(qtbot: QtBot, window: MainWindow) -> None:
    window.runner.start_runs([(0.0, 0.0), (1.0, 1.0)])
    wait_idle(qtbot, window)
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    qtbot.keyClick(window, Qt.Key.Key_R)
    assert window.runner.shown_trajectories() == []
    assert window.runner.pending_starts() == [(0.0, 0.0), (1.0, 1.0)]
    window.controls.set_optimizer("momentum")
    with qtbot.waitSignal(window.worker.finished, timeout=30_000):
        qtbot.keyClick(window, Qt.Key.Key_Space)
    wait_idle(qtbot, window)
    assert [p.settings.optimizer for p in window.runner.shown_trajectories()] == ["momentum"] * 2


def test_steep_functions_get_the_log_colour_scale(qtbot: QtBot, window: MainWindow) -> None:
    assert not window.contour.is_log_scale()
    assert window.function.choose_preset("beale")
    assert window.document.grid.domain == get_preset("beale").domain
    views = [window.contour, window.surface]
    views = [view for view in views if view is not None]
    assert all(view.is_log_scale() for view in views)
    window.menus.log_scale.trigger()  # switched by hand
    assert not any(view.is_log_scale() for view in views)


@pytest.mark.window(instant=False)  # the test sets the speed itself, to see it remembered
def test_settings_are_remembered(window_opener: WindowOpener, settings: QSettings) -> None:
    window = window_opener()
    panel = window.function
    panel.set_function("x**2 + y**2 / 4", (-2.0, 2.0, -3.0, 3.0))
    assert panel.apply()
    controls = window.controls
    controls.set_optimizer("rmsprop")
    controls.set_lr(0.003)
    controls.set_params("rmsprop", {"alpha": 0.9, "centered": True})
    controls.set_limits(777, 1e-6, True)
    controls.set_path_time(3.5)
    window.close()

    again = window_opener(QSettings(settings.fileName(), QSettings.Format.IniFormat))
    assert again.function.text() == "x**2 + y**2 / 4"
    assert again.document.grid.domain == (-2.0, 2.0, -3.0, 3.0)
    run = again.controls.run_settings()
    assert (run.optimizer, run.lr, run.steps, run.tol, run.ascent) == (
        "rmsprop", 0.003, 777, 1e-6, True)
    assert run.param_dict == {"alpha": 0.9, "centered": True}
    assert again.controls.path_time_s() == 3.5


def test_closing_mid_run_stops_and_joins_the_worker(
    qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    controls = window.controls
    controls.set_lr(1e-6)
    controls.set_limits(100_000, 0.0, False)
    window.runner.start_runs([(0.0, 0.0)] * 20)
    qtbot.waitUntil(
        lambda: window.runner.shown_trajectories()[0].received > 10, timeout=10_000
    )
    joined: list[bool] = []
    shutdown = window.worker.shutdown

    def recorded_shutdown(timeout_ms: int = 1000) -> bool:
        joined.append(shutdown(timeout_ms))
        return joined[-1]

    monkeypatch.setattr(window.worker, "shutdown", recorded_shutdown)
    window.close()
    assert joined == [True]  # the thread ended within the second closeEvent gives it
    assert not window.worker.thread_handle.isRunning()


def test_help_explains_each_part(qtbot: QtBot, window: MainWindow) -> None:
    dialog = window.help.show_help()
    assert dialog.isVisible()
    text = dialog.findChild(QTextBrowser).toPlainText()
    for part in ("Function", "Contour map and 3D surface", "Optimiser", "Runs table", "Space"):
        assert part in text
    dialog.close()


@pytest.mark.gl
def test_surface_renders_a_landscape_with_paths(qtbot: QtBot, window: MainWindow) -> None:
    window.runner.start_runs([(0.0, 0.0)])
    wait_idle(qtbot, window)
    surface = window.surface
    assert surface is not None
    image = surface.render_image()
    assert not image.isNull()
    pixels = np.array([[image.pixelColor(x, y).green() for x in range(0, image.width(), 7)]
                       for y in range(0, image.height(), 7)])
    assert pixels.std() > 10  # a drawn surface, not a blank background


def test_controls_build_from_the_registry_and_keep_lr_in_sync(qtbot: QtBot) -> None:
    from explorer.core.optimizers import REGISTRY
    from explorer.gui.panels.controls_panel import ControlsPanel

    panel = ControlsPanel()
    qtbot.addWidget(panel)
    for name, spec in REGISTRY.items():
        panel.set_optimizer(name)
        assert panel.optimizer_name() == name
        assert panel.lr() == spec.default_lr
        assert panel.params() == {}  # defaults are not overrides
        assert panel.run_settings().optimizer == name
    panel.set_optimizer("adam")
    panel.set_params("adam", {"betas": (0.8, 0.99), "amsgrad": True})
    assert panel.params() == {"betas": (0.8, 0.99), "amsgrad": True}
    panel.set_optimizer("lbfgs")
    panel.set_params("lbfgs", {"line_search_fn": "strong_wolfe", "max_iter": 5})
    assert panel.run_settings().param_dict == {"line_search_fn": "strong_wolfe", "max_iter": 5}

    field = next(e for e in panel.findChildren(QLineEdit) if e.text() == "1")  # L-BFGS lr
    field.selectAll()
    qtbot.keyClicks(field, "20")
    qtbot.keyClick(field, Qt.Key.Key_Return)
    assert panel.lr() == 10.0 and field.text() == "10"  # clamped, and shown clamped
    panel.set_lr(3e-4)
    assert field.text() == "0.0003"
    slider = next(s for s in panel.findChildren(QSlider) if s.toolTip().startswith("Learning"))
    assert slider.value() == round((math.log10(3e-4) + 5) * 100)
    slider.setValue(slider.value() + 100)  # one decade up
    assert panel.lr() == pytest.approx(3e-3)
