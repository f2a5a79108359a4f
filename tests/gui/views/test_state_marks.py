"""The optimiser's state at the selected path's head: the arrow, the cross, the inspector's
numbers and the View menu's toggle, checked against a plain torch loop written here."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from PySide6.QtCore import QSettings
from pytestqt.qtbot import QtBot

from explorer.core.trajectory import RunSettings
from explorer.gui.main_window import MainWindow
from explorer.gui.model.shown import ShownTrajectory
from explorer.gui.state_display import SETTING
from tests.gui.helpers import WindowOpener, wait_idle

pytestmark = pytest.mark.window(surface=False, preset="ravine")

START = (-4.0, 2.0)


def _ravine(p: torch.Tensor) -> torch.Tensor:
    return p[0] ** 2 + 10.0 * p[1] ** 2


def _torch_states(make: type[torch.optim.Optimizer], steps: int, **kwargs: object
                  ) -> list[dict[str, np.ndarray]]:
    """torch's own state after each step 1..steps of a plain loop on the ravine from START."""
    p = torch.tensor(START, dtype=torch.float64, requires_grad=True)
    optimizer = make([p], **kwargs)
    states = []
    for _ in range(steps):
        optimizer.zero_grad()
        _ravine(p).backward()
        optimizer.step()
        states.append({name: value.detach().numpy().copy()
                       for name, value in optimizer.state[p].items()
                       if isinstance(value, torch.Tensor) and value.shape == p.shape})
    return states


def _run(qtbot: QtBot, window: MainWindow, optimizer: str, lr: float, steps: int,
         params: dict[str, object] | None = None) -> ShownTrajectory:
    controls = window.controls
    controls.set_optimizer(optimizer)
    if params:
        controls.set_params(optimizer, params)
    controls.set_lr(lr)
    controls.set_limits(steps, 0.0, False)
    with qtbot.waitSignal(window.worker.finished, timeout=30_000):
        window.runner.start_runs([START])
    wait_idle(qtbot, window)
    (shown,) = window.runner.shown_trajectories()
    window.runs_panel.select(shown.path_id)
    return shown


def _show_step(window: MainWindow, shown: ShownTrajectory, k: int) -> None:
    """Move the path's animated head to step k, as the frame scheduler does."""
    shown.shown = k + 1
    window.drawing.draw_contour(shown)


def test_adam_arrow_and_cross_follow_the_head(qtbot: QtBot, window: MainWindow) -> None:
    lr, steps = 0.05, 40
    shown = _run(qtbot, window, "adam", lr, steps)
    states = _torch_states(torch.optim.Adam, steps, lr=lr)
    marks = window.state_display.marks
    beta1, beta2, eps = 0.9, 0.999, 1e-8  # torch's defaults, which the registry keeps
    for k in (1, 7, steps):
        _show_step(window, shown, k)
        m, v = states[k - 1]["exp_avg"], states[k - 1]["exp_avg_sq"]
        v_hat = v / (1 - beta2**k)
        half = lr / (np.sqrt(v_hat) + eps)
        step = -lr * (m / (1 - beta1**k)) / (np.sqrt(v_hat) + eps)
        assert marks.is_shown()
        assert marks.half_widths() == pytest.approx(tuple(half), rel=1e-12)
        assert marks.arrow_vector() == pytest.approx(tuple(step), rel=1e-12)
        # The step is the one torch took to reach the head.
        head = shown.xy[k]
        assert np.allclose(head - shown.xy[k - 1], step, rtol=1e-9, atol=1e-15)
        # Drawn: the shaft from the head along the step times the label's magnification, the
        # arms of the cross half_widths times one scale (their ratio kept).
        arrow = marks.arrow_points()
        assert np.allclose(arrow[0], head)
        assert np.allclose(arrow[1] - arrow[0], step * marks.arrow_scale())
        if marks.arrow_scale() > 1:
            times = "\N{MULTIPLICATION SIGN}"
            assert f"{times}{marks.arrow_scale():.0f}" in marks.label_text()
        cross = marks.cross_points()
        scale = marks.cross_scale()
        assert np.allclose(cross[1] - head, (half[0] * scale, 0.0))
        assert np.allclose(cross[3] - head, (0.0, half[1] * scale))
        # On the ravine the flat axis (x: f'' = 2 against 20) gets the longer step.
        assert half[0] > half[1]
        # The inspector lists torch's numbers for this step.
        rows = {name: (x, y) for name, x, y in window.inspector.state_box.rows()}
        assert rows["exp_avg"] == pytest.approx(tuple(m), rel=1e-12)
        assert rows["exp_avg_sq"] == pytest.approx(tuple(v), rel=1e-12)
        assert f"after step {k}" in window.inspector.state_box.texts()["title"]


def test_momentum_arrow_is_minus_lr_times_the_buffer(qtbot: QtBot, window: MainWindow) -> None:
    lr, steps = 0.02, 25
    shown = _run(qtbot, window, "momentum", lr, steps)
    states = _torch_states(torch.optim.SGD, steps, lr=lr, momentum=0.9)
    marks = window.state_display.marks
    for k in (1, 12, steps):
        _show_step(window, shown, k)
        buffer = states[k - 1]["momentum_buffer"]
        assert marks.arrow_vector() == pytest.approx(tuple(-lr * buffer), rel=1e-12)
        assert marks.half_widths() is None  # momentum has no per-axis step size
        rows = {name: (x, y) for name, x, y in window.inspector.state_box.rows()}
        assert rows["momentum_buffer"] == pytest.approx(tuple(buffer), rel=1e-12)
    # Before the first step there is nothing remembered, and nothing drawn.
    _show_step(window, shown, 0)
    assert not marks.is_shown()
    assert "No step yet" in window.inspector.state_box.texts()["note"]


@pytest.mark.parametrize("optimizer", ["sgd", "lbfgs"])
def test_nothing_to_draw_is_said(qtbot: QtBot, window: MainWindow, optimizer: str) -> None:
    shown = _run(qtbot, window, optimizer, 0.01, 5)
    _show_step(window, shown, shown.received - 1)
    assert not window.state_display.marks.is_shown()
    box = window.inspector.state_box
    assert box.rows() == []
    assert "nothing to draw" in box.texts()["note"]


def test_toggle_hides_the_marks_and_is_remembered(
    qtbot: QtBot, window: MainWindow, window_opener: WindowOpener, settings: QSettings
) -> None:
    _run(qtbot, window, "adam", 0.05, 10)
    marks = window.state_display.marks
    action = window.menus.optimiser_state
    assert action.isChecked() and marks.is_shown()
    action.setChecked(False)
    assert not marks.is_shown() and marks.label_text() == ""
    assert settings.value(SETTING) == "false"
    action.setChecked(True)
    assert marks.is_shown()
    window.runs_panel.select(None)  # no selection: nothing at any head
    assert not marks.is_shown()
    assert window.inspector.state_box.rows() == []
    action.setChecked(False)
    window.close()
    again = window_opener(settings)
    assert not again.menus.optimiser_state.isChecked()


def test_marks_leave_with_their_path(qtbot: QtBot, window: MainWindow) -> None:
    shown = _run(qtbot, window, "rmsprop", 0.01, 10)
    marks = window.state_display.marks
    assert marks.is_shown() and marks.arrow_vector() is None
    half = marks.half_widths()
    assert half is not None and all(math.isfinite(h) and h > 0 for h in half)
    window.runner.remove_paths([shown.path_id])
    assert not marks.is_shown()
    assert window.inspector.state_box.rows() == []


def test_a_schedule_gives_each_step_its_own_rate(qtbot: QtBot, window: MainWindow) -> None:
    """Under a schedule the marks use the rate the step used: the arrow is still the step."""
    lr, steps = 0.2, 12
    settings = RunSettings(optimizer="adam", lr=lr, steps=steps, tol=0.0,
                           schedule="step:step_size=3,gamma=0.5")
    with qtbot.waitSignal(window.worker.finished, timeout=30_000):
        window.runner.start_runs([START], settings)
    wait_idle(qtbot, window)
    (shown,) = window.runner.shown_trajectories()
    window.runs_panel.select(shown.path_id)
    marks = window.state_display.marks
    for k in range(1, steps + 1):
        _show_step(window, shown, k)
        rate = lr * 0.5 ** ((k - 1) // 3)  # StepLR: halved after every third step
        v_hat = shown.state["exp_avg_sq"][k] / (1 - 0.999**k)
        assert marks.half_widths() == pytest.approx(tuple(rate / (np.sqrt(v_hat) + 1e-8)))
        assert np.allclose(marks.arrow_vector(), shown.xy[k] - shown.xy[k - 1], rtol=1e-9)


def test_a_session_saved_with_its_paths_gets_the_state_again(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    """Sessions keep no state: selecting a path read from one runs its batch again."""
    noisy = RunSettings(optimizer="adam", lr=0.1, steps=30, tol=0.0, noise=0.5, seed=3)
    window.runner.start_runs([START, (3.0, -1.0)], noisy)
    wait_idle(qtbot, window)
    before = {shown.path_id: {name: values.copy() for name, values in
                              shown.state_rows().items()}
              for shown in window.runner.shown_trajectories()}
    path = tmp_path / "state.json"
    assert window.sessions.save_to(path)
    assert window.sessions.open_from(path)
    paths = window.runner.shown_trajectories()
    assert [shown.state for shown in paths] == [{}, {}]  # the file has none
    window.runs_panel.select(paths[1].path_id)
    for shown in paths:
        got = shown.state_rows()
        assert sorted(got) == ["exp_avg", "exp_avg_sq"]
        for name, values in before[shown.path_id].items():
            np.testing.assert_allclose(got[name], values, rtol=1e-9, equal_nan=True)
    assert window.state_display.marks.is_shown()

    # Without the other start of its noisy batch the path cannot come out the same: no state,
    # and the inspector says why.
    assert window.sessions.open_from(path)
    first, second = window.runner.shown_trajectories()
    window.runner.remove_paths([first.path_id])
    window.runs_panel.select(second.path_id)
    assert second.state == {} and not window.state_display.marks.is_shown()
    assert "not kept" in window.inspector.state_box.texts()["note"]


def test_a_diverged_head_far_off_the_map_draws_nothing(qtbot: QtBot, window: MainWindow) -> None:
    shown = _run(qtbot, window, "momentum", 5.0, 200)  # lr far above 2 / lambda_max = 0.1
    assert shown.status.name == "DIVERGED"
    _show_step(window, shown, shown.received - 1)
    assert not window.state_display.marks.is_shown()
    assert window.state_display.marks.label_text() == ""
    # The numbers are still listed (or why not) in the inspector.
    box = window.inspector.state_box
    assert box.rows() or box.texts()["note"]


def test_the_marks_follow_the_animation_and_the_step_key(qtbot: QtBot, window: MainWindow
                                                         ) -> None:
    """While the path animates (and when Step moves it) the marks are those of the step drawn."""
    window.controls.set_optimizer("adam")
    window.controls.set_lr(0.05)
    window.controls.set_limits(400, 0.0, False)
    window.controls.set_path_time(30.0)  # slow: the head is mid-way when paused
    window.runner.start_runs([START])
    (shown,) = window.runner.shown_trajectories()
    window.runs_panel.select(shown.path_id)
    qtbot.waitUntil(lambda: shown.shown > 3, timeout=30_000)
    window.runner.set_paused(True)
    marks = window.state_display.marks

    def shows_head() -> bool:
        k = shown.shown - 1
        step = shown.xy[k] - shown.xy[k - 1]
        vector = marks.arrow_vector()
        return vector is not None and bool(np.allclose(vector, step, rtol=1e-9))

    qtbot.waitUntil(shows_head, timeout=10_000)
    before = shown.shown
    window.runner.step()
    qtbot.waitUntil(lambda: shown.shown == before + 1, timeout=10_000)
    qtbot.waitUntil(shows_head, timeout=10_000)
    assert f"after step {before}" in window.inspector.state_box.texts()["title"]
    window.runner.stop()
