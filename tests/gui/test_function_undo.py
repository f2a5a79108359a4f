"""A new function removes the old one's runs with Undo offered; the same one picked again keeps
them."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from explorer.gui.main_window import MainWindow
from explorer.gui.model.shown import ShownTrajectory
from tests.gui.helpers import wait_idle

STARTS = [(1.0, 1.0), (-2.0, 2.0), (2.5, -1.5)]


def _run(qtbot: QtBot, window: MainWindow) -> list[ShownTrajectory]:
    for start in STARTS:
        window.runner.start_runs([start])
    wait_idle(qtbot, window)
    return window.runner.shown_trajectories()


def _picture(window: MainWindow) -> list[tuple[int, tuple[int, int, int], np.ndarray]]:
    """Each run's id, colour and points, in table order."""
    paths = window.runner.store.paths
    return [(i, paths[i].color, paths[i].shown_xy().copy()) for i in window.runs_panel.path_ids()]


def _same_picture(a: list[tuple[int, tuple[int, int, int], np.ndarray]],
                  b: list[tuple[int, tuple[int, int, int], np.ndarray]]) -> None:
    assert [(i, c) for i, c, _ in a] == [(i, c) for i, c, _ in b]
    for (_, _, xy_a), (_, _, xy_b) in zip(a, b, strict=True):
        np.testing.assert_array_equal(xy_a, xy_b)


def test_picking_the_shown_preset_again_keeps_every_run(qtbot: QtBot, window: MainWindow) -> None:
    name = window.function.preset_name()
    assert name  # the window opens on a preset
    runs = _run(qtbot, window)
    assert window.function.choose_preset(name)
    assert window.function.apply()  # Enter in the unchanged field: the same
    assert window.runner.shown_trajectories() == runs  # the very same objects
    assert window.runs_panel.path_ids() == [r.path_id for r in runs]
    assert not window.function_undo.can_undo()


def test_a_new_preset_clears_and_ctrl_z_brings_function_and_runs_back(
    qtbot: QtBot, window: MainWindow
) -> None:
    _run(qtbot, window)
    text, domain = window.function.text(), window.document.domain
    before = _picture(window)
    next_id = window.runner.store.next_path_id
    other = next(name for name in ("rosenbrock", "beale") if name != window.function.preset_name())
    assert window.function.choose_preset(other)
    assert window.runner.shown_trajectories() == []
    assert window.runs_panel.path_ids() == [] and window.loss.path_ids() == []
    assert "Undo" in window.function_undo.link_text()
    assert window.function_undo.action.isEnabled()

    window.activateWindow()
    window.contour.plot_widget().setFocus()
    qtbot.waitUntil(lambda: window.isActiveWindow())
    qtbot.keyClick(window.contour.plot_widget(), Qt.Key.Key_Z,
                   Qt.KeyboardModifier.ControlModifier)
    wait_idle(qtbot, window)
    assert window.function.text() == text
    assert window.document.expression is not None and window.document.expression.text == text
    assert window.document.domain == domain
    _same_picture(_picture(window), before)
    assert window.contour.path_ids() == [i for i, _, _ in before]
    assert window.runner.store.next_path_id == next_id

    # Undo again: nothing was removed by the undo, so nothing changes.
    assert not window.function_undo.action.isEnabled()
    assert not window.function_undo.undo()
    _same_picture(_picture(window), before)
    assert window.function.text() == text


def test_a_new_domain_offers_undo_and_the_status_link_undoes(
    qtbot: QtBot, window: MainWindow
) -> None:
    _run(qtbot, window)
    before = _picture(window)
    text, domain = window.function.text(), window.document.domain
    wider = (domain[0] - 1.0, domain[1] + 1.0, domain[2] - 1.0, domain[3] + 1.0)
    window.function.set_function(text, wider)
    assert window.function.apply()
    assert window.document.domain == wider and window.runner.shown_trajectories() == []
    window.function_undo._link.linkActivated.emit("undo")  # a click on the link
    wait_idle(qtbot, window)
    assert window.document.domain == domain
    _same_picture(_picture(window), before)


def test_undo_of_a_change_after_new_runs_keeps_those_undoable(
    qtbot: QtBot, window: MainWindow
) -> None:
    _run(qtbot, window)
    first = _picture(window)
    assert window.function.choose_preset("booth")
    window.runner.start_runs([(0.0, 0.0)])
    wait_idle(qtbot, window)
    second = _picture(window)
    assert window.function_undo.undo()
    _same_picture(_picture(window), first)
    # The Booth run went with its function: one more Undo brings it back.
    assert window.function_undo.undo()
    assert window.function.preset_name() == "booth"
    _same_picture(_picture(window), second)


def test_a_change_without_runs_offers_nothing(qtbot: QtBot, window: MainWindow) -> None:
    assert window.function.choose_preset("booth")
    assert not window.function_undo.can_undo() and window.function_undo.link_text() == ""
    assert not window.function_undo.undo()
    assert window.function.preset_name() == "booth"
