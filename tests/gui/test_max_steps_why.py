"""A path that used its whole step budget says why in the runs table where the settings say:
AdamW's weight decay holds it beside the minimum (issue 14, item 6)."""

from __future__ import annotations

import pytest
from pytestqt.qtbot import QtBot

from explorer.core.descent import run_descent
from explorer.core.trajectory import Status
from explorer.gui.main_window import MainWindow
from tests.gui.helpers import wait_idle

pytestmark = pytest.mark.window(surface=False)


@pytest.mark.parametrize(("optimizer", "decays"), [("adamw", True), ("sgd", False)])
def test_max_steps_says_why_when_weight_decay_holds_the_path(
    qtbot: QtBot, window: MainWindow, optimizer: str, decays: bool
) -> None:
    window.controls.set_optimizer(optimizer)
    window.controls.set_limits(60, 1e-12, False)  # too few steps for anyone to converge
    settings = window.controls.run_settings()
    expression = window.document.expression
    assert expression is not None
    expected = run_descent(expression.evaluate, [(0.0, 0.0)], settings).outcome(0)
    assert expected.status is Status.MAX_STEPS
    window.runner.start_runs([(0.0, 0.0)])
    wait_idle(qtbot, window)
    path_id = window.runs_panel.path_ids()[-1]
    texts = window.runs_panel.row_texts(path_id)
    assert texts[-2] == "max steps"
    if decays:
        assert "weight decay 0.01" in texts[-1] and "beside the minimum" in texts[-1]
    else:
        assert texts[-1] == ""
