"""The schedule picker under the learning rate: what a run gets, the rate plot and its dot, the
settings file and sessions (issue 16)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMainWindow
from pytestqt.qtbot import QtBot

from explorer.core.schedules import SCHEDULES
from explorer.gui.main_window import MainWindow
from explorer.gui.panels.controls_panel import ControlsPanel
from explorer.gui.panels.function_panel import FunctionPanel
from explorer.gui.panels.schedule_panel import PLOT_HEIGHT, PLOT_STEPS
from explorer.gui.settings import restore_panels, save_all
from explorer.io.session import load_session
from tests.gui.helpers import wait_idle
from tests.sgdr import sgdr_rates


@pytest.fixture
def controls(qtbot: QtBot) -> ControlsPanel:
    import torch  # noqa: F401  the engine has loaded it by the time a user picks a schedule

    panel = ControlsPanel()
    qtbot.addWidget(panel)
    return panel


def _choose(controls: ControlsPanel, name: str, keys: str = "") -> None:
    """Pick a name in the combo and type keys, as a user does (Enter applies them)."""
    panel = controls.schedule
    combo, field = panel.name_combo(), panel.keys_field()
    combo.setCurrentIndex(combo.findData(name))
    field.setText(keys)
    field.editingFinished.emit()


def test_constant_by_default_with_no_plot(controls: ControlsPanel) -> None:
    assert controls.run_settings().schedule == ""
    assert not controls.schedule.plot_widget().isVisibleTo(controls)


def test_a_chosen_schedule_reaches_the_run_and_the_plot(controls: ControlsPanel) -> None:
    controls.set_optimizer("sgd")
    controls.set_lr(0.5)
    controls.set_limits(9, 0.0, False)
    _choose(controls, "cosine-restarts", "T_mult=2, T_0=1")
    assert controls.run_settings().schedule == "cosine-restarts:T_0=1,T_mult=2"
    plot = controls.schedule.plot_widget()
    assert plot.isVisibleTo(controls) and plot.height() <= PLOT_HEIGHT
    expected = sgdr_rates(0.5, 1, 2, 9)  # row k: the rate step k uses
    np.testing.assert_allclose(controls.schedule.plotted_rates(), expected, atol=1e-12)


def test_the_plot_follows_the_learning_rate_and_steps(controls: ControlsPanel) -> None:
    _choose(controls, "cosine")
    controls.set_limits(50, 0.0, False)
    controls.set_lr(0.2)
    controls.settings_changed.emit()  # set_lr alone is silent, as for a session's restore
    rates = controls.schedule.plotted_rates()
    assert len(rates) == 51 and rates[0] == pytest.approx(0.2)
    # T_max defaults to the run's steps: step 50 uses the rate after 49 scheduler steps.
    assert rates[-1] == pytest.approx(0.1 * (1 + math.cos(math.pi * 49 / 50)), rel=1e-9)
    controls.set_limits(PLOT_STEPS + 100, 0.0, False)
    assert len(controls.schedule.plotted_rates()) == PLOT_STEPS + 1


def test_bad_keys_keep_the_last_good_schedule_and_say_why(controls: ControlsPanel) -> None:
    _choose(controls, "step", "step_size=5")
    _choose(controls, "step", "step_size=5,gamma=7")
    assert "gamma" in controls.schedule.message()
    assert controls.run_settings().schedule == "step:step_size=5"


def test_keys_the_run_cannot_take_fall_back_to_the_name(controls: ControlsPanel) -> None:
    controls.set_limits(100, 0.0, False)
    _choose(controls, "onecycle", "total_steps=10")
    assert "total_steps" in controls.schedule.message()
    assert controls.run_settings().schedule == "onecycle"
    controls.set_limits(10, 0.0, False)
    assert controls.schedule.message() == ""
    assert controls.run_settings().schedule == "onecycle:total_steps=10"


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    name=st.sampled_from(list(SCHEDULES)),
    keys=st.one_of(
        st.text(max_size=20),
        st.builds(
            lambda k, v: f"{k}={v}",
            st.sampled_from(["gamma", "T_max", "T_0", "x"]),
            st.one_of(st.floats().map(repr), st.integers(-(10**12), 10**12).map(str)),
        ),
    ),
)
def test_any_typed_keys_give_a_run_the_engine_takes(
    controls: ControlsPanel, name: str, keys: str
) -> None:
    from explorer.core.schedules import check_schedule

    _choose(controls, name, keys)
    got = controls.run_settings()
    assert got.schedule.partition(":")[0] == name
    assert check_schedule(got.schedule, got.steps, got.optimizer, got.lr) == got.schedule


def test_the_settings_file_keeps_the_schedule(qtbot: QtBot, tmp_path: Path) -> None:
    store = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    function, controls = FunctionPanel(), ControlsPanel()
    qtbot.addWidget(function)
    qtbot.addWidget(controls)
    restore_panels(store, function, controls)
    _choose(controls, "multistep", "milestones=10/20")
    save_all(store, function, controls, QMainWindow(), [])
    again_function, again = FunctionPanel(), ControlsPanel()
    qtbot.addWidget(again_function)
    qtbot.addWidget(again)
    restore_panels(store, again_function, again)
    assert again.run_settings().schedule == "multistep:milestones=10/20"


@pytest.mark.window(surface=False, preset="ravine")
def test_the_dot_follows_the_selected_path_and_sessions_keep_it(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    controls = window.controls
    controls.set_optimizer("adam")
    controls.set_lr(0.1)
    controls.set_limits(30, 0.0, False)
    _choose(controls, "exponential", "gamma=0.9")
    with qtbot.waitSignal(window.worker.finished, timeout=30_000):
        window.runner.start_runs([(-4.0, 2.0)])
    wait_idle(qtbot, window)
    (shown,) = window.runner.shown_trajectories()
    assert shown.settings.schedule == "exponential:gamma=0.9"
    schedule = controls.schedule
    assert schedule.marker_position() is None  # nothing selected yet
    window.runs_panel.select(shown.path_id)
    for k in (0, 4, 30):
        shown.shown = k + 1
        window.drawing.draw_contour(shown)
        # ExponentialLR: step k uses lr * gamma^(k-1) (row 0 and 1: lr).
        assert schedule.marker_position() == pytest.approx((k, 0.1 * 0.9 ** max(k - 1, 0)))
    # The exported path's lr column is those rates.
    exported = shown.trajectory()
    assert exported.rates is not None
    np.testing.assert_allclose(exported.rates[1:], 0.1 * 0.9 ** np.arange(30), rtol=1e-12)
    # Another schedule on the controls: the plot is not this path's, the dot goes.
    _choose(controls, "cosine")
    window.drawing.draw_contour(shown)
    assert schedule.marker_position() is None
    # The session keeps the controls' and the run's schedules, and restores the controls'.
    path = tmp_path / "s.json"
    assert window.sessions.save_to(path)
    session = load_session(path)
    assert session.controls.schedule == "cosine"
    assert session.runs[0].settings.schedule == "exponential:gamma=0.9"
    _choose(controls, "")
    assert controls.run_settings().schedule == ""
    assert window.sessions.open_from(path)
    assert controls.run_settings().schedule == "cosine"
    (reopened,) = window.runner.shown_trajectories()
    assert reopened.settings.schedule == "exponential:gamma=0.9"


def test_while_torch_loads_the_plot_waits_for_it(
    qtbot: QtBot, controls: ControlsPanel, monkeypatch: pytest.MonkeyPatch
) -> None:
    from explorer.gui.panels import schedule_panel

    # At start-up torch loads in its thread: a remembered schedule must not import it on the
    # GUI thread (the window would hang until it loaded).
    monkeypatch.setattr(schedule_panel, "torch_ready", lambda: False)
    controls.set_limits(20, 0.0, False)
    controls.set_schedule("step:step_size=4")
    assert controls.run_settings().schedule == "step:step_size=4"  # kept as it was saved
    assert len(controls.schedule.plotted_rates()) == 0
    monkeypatch.setattr(schedule_panel, "torch_ready", lambda: True)
    qtbot.waitUntil(lambda: len(controls.schedule.plotted_rates()) == 21)
    rates = controls.schedule.plotted_rates()
    np.testing.assert_allclose(rates[1:], 0.01 * 0.1 ** (np.arange(20) // 4), rtol=1e-12)
