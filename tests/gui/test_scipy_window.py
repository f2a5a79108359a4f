"""scipy.optimize methods in the window: the grouped list, their options, runs, dots, table."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import QComboBox, QMainWindow
from pytestqt.qtbot import QtBot

from explorer.core.expression import parse
from explorer.core.optimizers import REGISTRY, OptimizerError
from explorer.core.scipy_methods import METHODS, minimize, parse_options
from explorer.core.trajectory import RunSettings
from explorer.gui.main_window import MainWindow
from explorer.gui.model.run_table import EVALS_COLUMN
from explorer.gui.panels.controls_panel import ControlsPanel
from explorer.gui.panels.function_panel import FunctionPanel
from explorer.gui.panels.scipy_options import GROUPS
from explorer.gui.settings import restore_panels, save_all
from explorer.io.session import (
    Session,
    SessionRun,
    compute_session,
    load_session,
    session_to_json,
)
from tests.gui.helpers import wait_idle

pytestmark = pytest.mark.window(surface=False)

START = (0.5, -0.5)


@pytest.fixture
def controls(qtbot: QtBot) -> ControlsPanel:
    panel = ControlsPanel()
    qtbot.addWidget(panel)
    return panel


def _combo(controls: ControlsPanel) -> QComboBox:
    combo = controls.findChild(QComboBox)
    assert combo is not None
    return combo


def test_the_list_groups_torch_and_scipy_under_headers_no_one_can_choose(
    controls: ControlsPanel,
) -> None:
    combo = _combo(controls)
    model = combo.model()
    assert isinstance(model, QStandardItemModel)
    rows = [(combo.itemText(i), combo.itemData(i)) for i in range(combo.count())]
    headers = [i for i, (_, data) in enumerate(rows) if data is None]
    assert [rows[i][0] for i in headers] == [f"— {group} —" for group in GROUPS]
    for i in headers:
        flags = model.item(i).flags()
        assert not flags & Qt.ItemFlag.ItemIsEnabled and not flags & Qt.ItemFlag.ItemIsSelectable
    # torch.optim's registry under the first header, scipy's methods under the second.
    torch_names = [data for _, data in rows[headers[0] + 1 : headers[1]]]
    scipy_names = [data for _, data in rows[headers[1] + 1 :]]
    assert torch_names == list(REGISTRY) and scipy_names == list(METHODS)
    assert controls.optimizer_name() == torch_names[0]


def test_a_scipy_method_turns_off_what_only_torch_has_and_shows_its_options(
    controls: ControlsPanel,
) -> None:
    controls.set_optimizer("nelder-mead")
    assert controls.is_scipy()
    for widget in (controls._lr_row, controls.schedule, controls._ascent, controls._noise_row):
        assert not widget.isEnabled()
    assert "No learning rate" in controls._optimizer_help.text()
    assert "maxiter" in controls.stopping_rule_text()
    # Its options where the hyperparameters go: one field per documented option.
    for key in METHODS["nelder-mead"].options:
        assert controls.scipy_options.edit(key).text() == ""
    settings = controls.run_settings()
    assert settings.optimizer == "nelder-mead" and settings.params == ()
    assert not settings.ascent and settings.noise == 0 and settings.schedule == ""
    controls.scipy_options.edit("xatol").setText("0.001")
    controls.scipy_options.edit("xatol").editingFinished.emit()
    controls.scipy_options.edit("adaptive").setText("TRUE")
    controls.scipy_options.edit("adaptive").editingFinished.emit()
    assert controls.run_settings().param_dict == {"xatol": 0.001, "adaptive": True}
    # Back to torch: the learning rate is on again, the hyperparameters come back.
    controls.set_optimizer("adam")
    assert controls._lr_row.isEnabled() and not controls.is_scipy()
    assert controls.run_settings().param_dict == {}
    # ...and the scipy method kept what was typed for it.
    controls.set_optimizer("nelder-mead")
    assert controls.scipy_options.edit("xatol").text() == "0.001"
    assert controls.run_settings().param_dict == {"xatol": 0.001, "adaptive": True}


@pytest.mark.parametrize(
    ("key", "text", "words"),
    [
        ("xatol", "-1", "must be finite, > 0"),
        ("xatol", "0", "must be finite, > 0"),
        ("xatol", "1e400", "must be finite"),
        ("xatol", "nan", "must be finite"),
        ("xatol", "abc", "must be a number"),
        ("maxfev", "2.5", "must be a whole number"),
        ("maxfev", "9" * 60, "must be finite"),
        ("adaptive", "1", "is true or false"),
    ],
)
def test_hostile_option_values_are_named_and_left_out(
    controls: ControlsPanel, key: str, text: str, words: str
) -> None:
    controls.set_optimizer("nelder-mead")
    edit = controls.scipy_options.edit(key)
    edit.setText(text)
    edit.editingFinished.emit()
    message = controls.scipy_options.error_text()
    assert words in message and key in message and "\n" not in message
    assert key not in controls.run_settings().param_dict
    # Cleared, the field means scipy's default again and the message goes.
    edit.setText("")
    edit.editingFinished.emit()
    assert controls.scipy_options.error_text() == ""


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=80))
def test_any_text_in_an_option_field_is_the_clis_value_or_a_message(
    controls: ControlsPanel, text: str
) -> None:
    controls.set_optimizer("l-bfgs-b")
    edit = controls.scipy_options.edit("maxcor")
    edit.setText(text)
    edit.editingFinished.emit()
    typed = edit.text().strip()  # what the field kept (it takes at most 64 characters)
    try:
        expected = parse_options("l-bfgs-b", [f"maxcor={typed}"]) if typed else {}
    except OptimizerError:
        expected = None
    if expected is None:
        assert controls.scipy_options.error_text()
        assert "maxcor" not in controls.run_settings().param_dict
    else:
        assert controls.scipy_options.error_text() == ""
        assert controls.run_settings().param_dict == expected


def test_settings_files_give_scipy_methods_only_the_options_they_take(
    controls: ControlsPanel,
) -> None:
    controls.set_params("bfgs", {"gtol": 1e-7, "lr": 3, "norm": "x", "xrtol": 5.0, "cg": []})
    controls.set_optimizer("bfgs")
    assert controls.run_settings().param_dict == {"gtol": 1e-7}
    assert controls.all_params()["bfgs"] == {"gtol": 1e-7}


def test_the_settings_file_keeps_the_scipy_method_and_its_options(
    qtbot: QtBot, controls: ControlsPanel, tmp_path: Path
) -> None:
    function = FunctionPanel()
    qtbot.addWidget(function)
    controls.set_optimizer("trust-ncg")
    edit = controls.scipy_options.edit("eta")
    edit.setText("0.2")
    edit.editingFinished.emit()
    s = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    save_all(s, function, controls, QMainWindow(), [])
    # A hand-edited file: a value scipy refuses is dropped, the good one kept.
    s.setValue("optimizer/params", json.dumps({"trust-ncg": {"eta": 0.2, "gtol": -1}}))
    again = ControlsPanel()
    qtbot.addWidget(again)
    restore_panels(s, function, again)
    assert again.optimizer_name() == "trust-ncg" and again.is_scipy()
    assert again.run_settings().param_dict == {"eta": 0.2}
    assert again.scipy_options.edit("eta").text() == "0.2"


def test_quitting_with_a_scipy_method_keeps_the_schedule_for_torch(
    qtbot: QtBot, controls: ControlsPanel, tmp_path: Path
) -> None:
    function = FunctionPanel()
    qtbot.addWidget(function)
    controls.set_optimizer("sgd")
    controls.set_schedule("step:step_size=5,gamma=0.5")
    schedule = controls.run_settings().schedule
    assert schedule.startswith("step:")
    controls.set_optimizer("cg")
    assert controls.run_settings().schedule == ""  # a scipy run has none
    s = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    save_all(s, function, controls, QMainWindow(), [])
    again = ControlsPanel()
    qtbot.addWidget(again)
    restore_panels(s, function, again)
    assert again.optimizer_name() == "cg"
    again.set_optimizer("sgd")
    assert again.run_settings().schedule == schedule


def test_bfgs_and_nelder_mead_from_one_start_draw_their_evaluations(
    qtbot: QtBot, window: MainWindow
) -> None:
    names = ("bfgs", "nelder-mead")
    for name in names:
        window.controls.set_optimizer(name)
        with qtbot.waitSignal(window.worker.finished, timeout=30_000):
            window.runner.start_runs([START])
        wait_idle(qtbot, window)
    paths = window.runner.shown_trajectories()
    assert [p.settings.optimizer for p in paths] == list(names)
    objective = parse(window.function.text()).evaluate
    dots = window.drawing.evaluation_dots()
    counts = []
    for shown in paths:
        settings = shown.settings
        expected = minimize(objective, START, settings.optimizer, steps=settings.steps,
                            tol=settings.tol)
        got = shown.trajectory()
        # The path is minimize's, bit for bit: the same call on the worker thread.
        for key in ("x", "y", "f", "grad_x", "grad_y"):
            np.testing.assert_array_equal(getattr(got, key), getattr(expected.trajectory, key))
        assert got.status is expected.trajectory.status
        assert got.lr == expected.trajectory.lr == 0.0  # as run's CSV has it
        # A dot for every evaluation of f, where scipy asked for it.
        nfev = expected.evaluations["f"]
        assert dots.count(shown.path_id) == nfev
        np.testing.assert_array_equal(dots.drawn(shown.path_id), expected.evaluated)
        # The table: steps, the f evaluations, scipy's counts in the tooltip, its message.
        row = window.runs_panel.row_texts(shown.path_id)
        assert row[3] == str(len(expected.trajectory.x) - 1)
        assert row[EVALS_COLUMN] == str(nfev)
        assert "lr" not in row[2]
        assert row[-1] == expected.message
        model = window.runs_panel.model()
        tip = model.data(model.index(model.row_of(shown.path_id), EVALS_COLUMN),
                         Qt.ItemDataRole.ToolTipRole)
        f, grad, hess = (expected.evaluations[k] for k in ("f", "grad", "hess"))
        assert tip == (f"Evaluations of the whole run (scipy's nfev, njev, nhev): f {f}, "
                       f"gradient {grad}, Hessian {hess}")
        header = model.headerData(EVALS_COLUMN, Qt.Orientation.Horizontal,
                                  Qt.ItemDataRole.ToolTipRole)
        assert header is not None and "Evaluations of f" in str(header)
        counts.append(nfev)
    # The lesson: Nelder-Mead needs many more evaluations of f than BFGS.
    assert counts[1] > 3 * counts[0]


def test_the_dots_follow_the_animated_head(qtbot: QtBot, window: MainWindow) -> None:
    window.controls.set_optimizer("nelder-mead")
    with qtbot.waitSignal(window.worker.finished, timeout=30_000):
        window.runner.start_runs([START])
    wait_idle(qtbot, window)
    (shown,) = window.runner.shown_trajectories()
    record = shown.scipy
    assert record is not None
    dots = window.drawing.evaluation_dots()
    # With the head at row k, the points evaluated by the time scipy reached it.
    rows = len(record.upto)
    for k in (1, 2, rows // 2, rows):
        shown.shown = k
        window.drawing.draw_contour(shown)
        assert dots.count(shown.path_id) == record.upto[k - 1]
        np.testing.assert_array_equal(dots.drawn(shown.path_id),
                                      record.points[: record.upto[k - 1]])
    window.runner.remove_paths([shown.path_id])
    assert dots.count(shown.path_id) == 0 and len(dots.drawn(shown.path_id)) == 0


def _records(window: MainWindow) -> list[tuple[object, ...]]:
    """What each path on screen holds: method, options, path, counts, nit, message, points."""
    out = []
    for shown in window.runner.shown_trajectories():
        t = shown.trajectory()
        record = t.scipy
        assert record is not None
        out.append((t.optimizer, shown.settings.params, t.x.tolist(), t.y.tolist(),
                    t.evaluations, record.nit, record.message, record.points.tolist(),
                    record.upto.tolist()))
    return out


def test_a_session_keeps_scipy_runs_and_their_evaluations(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    window.controls.set_optimizer("bfgs")
    with qtbot.waitSignal(window.worker.finished, timeout=30_000):
        window.runner.start_runs([START])
    window.controls.set_optimizer("nelder-mead")
    edit = window.controls.scipy_options.edit("xatol")
    edit.setText("0.001")
    edit.editingFinished.emit()
    with qtbot.waitSignal(window.worker.finished, timeout=30_000):
        window.runner.start_runs([START, (-1.0, 2.0)])
    wait_idle(qtbot, window)
    before = _records(window)
    assert [r[0] for r in before] == ["bfgs", "nelder-mead", "nelder-mead"]
    assert before[1][1] == (("xatol", 0.001),)

    path = tmp_path / "scipy.json"
    assert window.sessions.save_to(path)
    saved = load_session(path)
    assert [run.settings.optimizer for run in saved.runs] == ["bfgs", "nelder-mead"]
    assert saved.controls.optimizer == "nelder-mead"
    assert saved.controls.param_dict == {"xatol": 0.001}

    window.controls.set_optimizer("adam")
    assert window.sessions.open_from(path)
    assert _records(window) == before
    assert window.controls.optimizer_name() == "nelder-mead"
    assert window.controls.scipy_options.edit("xatol").text() == "0.001"
    # Shown whole again: the dots and the table's counts, as when they ran.
    wait_idle(qtbot, window)
    dots = window.drawing.evaluation_dots()
    for shown in window.runner.shown_trajectories():
        assert shown.evaluations is not None
        assert dots.count(shown.path_id) == shown.evaluations[0]
        row = window.runs_panel.row_texts(shown.path_id)
        assert row[EVALS_COLUMN] == str(shown.evaluations[0])

    # Saved without paths, the runs run again (on the worker) to the same numbers.
    window.sessions.include_paths.setChecked(False)
    starts_only = tmp_path / "starts-only.json"
    assert window.sessions.save_to(starts_only)
    assert "evaluated" not in starts_only.read_text()
    assert window.sessions.open_from(starts_only)
    wait_idle(qtbot, window)
    assert _records(window) == before


def test_selecting_a_scipy_path_and_a_torch_paths_counts(
    qtbot: QtBot, window: MainWindow
) -> None:
    window.controls.set_optimizer("trust-ncg")
    with qtbot.waitSignal(window.worker.finished, timeout=30_000):
        window.runner.start_runs([START])
    window.controls.set_optimizer("adam")
    with qtbot.waitSignal(window.worker.finished, timeout=30_000):
        window.runner.start_runs([START])
    wait_idle(qtbot, window)
    scipy_path, adam_path = window.runner.shown_trajectories()
    # The inspector and the state marks have nothing of torch's to show for a scipy path.
    window.drawing.highlight(scipy_path.path_id)
    assert "keeps no torch.optim state" in window.inspector.state_box.texts()["note"]
    window.drawing.highlight(adam_path.path_id)
    # A torch run's Evals: the engine's count (one f per row for Adam), once shown whole.
    trajectory = adam_path.trajectory()
    assert trajectory.evaluations is not None
    assert trajectory.evaluations[0] == len(trajectory.x)
    row = window.runs_panel.row_texts(adam_path.path_id)
    assert row[EVALS_COLUMN] == str(len(trajectory.x)) and ", lr 0.05" in row[2]


def test_hostile_evaluated_points_in_a_session_are_left_off_the_map(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    settings = RunSettings(optimizer="nelder-mead", steps=30, tol=1e-6)
    session = Session(window.function.text(), (-5.0, 5.0, -5.0, 5.0),
                      runs=(SessionRun(settings, (START,)),))
    data = session_to_json(compute_session(session))
    record = data["runs"][0]["trajectories"][0]["scipy"]
    hostile = [["nan", 0.0], [1e300, 1.0], [0.0, "-inf"], [-1e308, -1e308]]
    record["evaluated"][: len(hostile)] = hostile
    path = tmp_path / "hostile-points.json"
    path.write_text(json.dumps(data))
    assert window.sessions.open_from(path)
    wait_idle(qtbot, window)
    (shown,) = window.runner.shown_trajectories()
    assert shown.scipy is not None
    dots = window.drawing.evaluation_dots()
    assert dots.count(shown.path_id) == len(record["evaluated"])
    drawn = dots.drawn(shown.path_id)
    # Only the finite points near the map are drawn (Qt refuses huge coordinates).
    assert len(drawn) == len(record["evaluated"]) - len(hostile)
    assert np.isfinite(drawn).all() and (np.abs(drawn) < 1e6).all()
