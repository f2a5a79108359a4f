"""The learning-rate sweep and scipy.optimize methods, which have no learning rate."""

from __future__ import annotations

import pytest
from pytestqt.qtbot import QtBot

from explorer.gui.main_window import MainWindow

pytestmark = pytest.mark.window(surface=False)


def test_the_sweep_declines_a_scipy_method(qtbot: QtBot, window: MainWindow) -> None:
    sweep = window.lab.show_sweep()
    window.controls.set_optimizer("powell")
    assert not sweep.run_sweep()
    assert "Powell is a scipy.optimize method: it has no learning rate" in sweep.summary_text()
    assert not sweep.is_running()
    # A torch optimiser sweeps as before.
    window.controls.set_optimizer("sgd")
    assert sweep.run_sweep()
    qtbot.waitUntil(lambda: not sweep.is_running(), timeout=30_000)
    assert sweep.entries()
