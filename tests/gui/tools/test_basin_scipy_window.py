"""The basin tool with a scipy.optimize method (issue 16): one minimize per start on the job's
thread, the same map as core.basin.basin_map, progress by starts and Cancel between them."""

from __future__ import annotations

import pytest
from pytestqt.qtbot import QtBot

from explorer.core.basin import basin_map
from explorer.gui.main_window import MainWindow
from tests.gui.tools.test_basin_panel import open_panel

pytestmark = pytest.mark.window(surface=False, instant=False, optimizer="adam")


def test_a_powell_map_equals_the_core_map(qtbot: QtBot, window: MainWindow) -> None:
    window.controls.set_optimizer("powell")
    panel = open_panel(qtbot, window)
    assert "one minimize per start" in panel._form.optimizer_text()
    panel.set_grid_size(6)
    panel.set_steps(60)
    with qtbot.waitSignal(panel.job().finished, timeout=60_000):
        assert panel.compute()
        assert "one Powell minimize each" in panel.status_text()
    shown = panel.shown_map()
    assert shown is not None
    grid = window.document.grid
    assert grid is not None
    expected = basin_map(window.document.expression.evaluate, grid.domain,
                         panel.run_settings(), n=6)
    assert (shown.labels == expected.labels).all()
    assert [(m.x, m.y, m.count) for m in shown.minima] == [
        (m.x, m.y, m.count) for m in expected.minima]
    assert panel.overlay().image_item().image.shape == (6, 6, 4)


def test_a_64_by_64_scipy_map_reports_progress_and_cancels(
    qtbot: QtBot, window: MainWindow
) -> None:
    window.controls.set_optimizer("nelder-mead")
    panel = open_panel(qtbot, window)
    panel.set_grid_size(64)
    panel.set_steps(200)
    with qtbot.waitSignal(panel.job().progressed, timeout=30_000) as blocker:
        assert panel.compute()
    fraction, phase = blocker.args
    assert phase == "descent" and 0 <= fraction < 0.97
    assert panel.is_running()
    panel.cancel()
    assert not panel.is_running()
    qtbot.waitUntil(lambda: panel.job().thread_count() == 0, timeout=5_000)
    assert panel.shown_map() is None and "Cancelled" in panel.status_text()
