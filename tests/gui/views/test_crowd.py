"""The crowd component the views share: its rules without any drawing, and what was drawn of a
growing path; and the loss plot's downsampling by pyqtgraph, which keeps spikes."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from explorer.gui.views.crowd import Crowd, CrowdHooks, Growth, current_row
from explorer.gui.views.loss_view import LossView

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")


class Drawing:
    """Hooks that record what the crowd asks a view to draw."""

    def __init__(self) -> None:
        self.alone: set[int] = set()  # paths with items of their own
        self.crowd: set[int] = set()  # paths in the crowd's drawing
        self.draws = 0
        self.restyles = 0

    def hooks(self) -> CrowdHooks:
        """The hooks, as a view gives them."""
        return CrowdHooks(
            draw_alone=self.alone.add, drop_alone=self.alone.discard, join=self.crowd.add,
            leave=self.crowd.discard, clear=self.crowd.clear, draw=self._draw,
            restyle=self._restyle,
        )

    def _draw(self) -> None:
        self.draws += 1

    def _restyle(self) -> None:
        self.restyles += 1


def test_past_the_limit_all_but_the_selected_path_join_the_crowd(qtbot: QtBot) -> None:
    drawing = Drawing()
    crowd: Crowd[str] = Crowd(drawing.hooks(), limit=3)
    for path_id in range(3):
        assert crowd.put(path_id, f"path {path_id}")  # own items: the caller draws them
        drawing.alone.add(path_id)
    crowd.select(1)
    assert not crowd.crowded and drawing.restyles == 1
    assert not crowd.put(3, "path 3")  # the fourth: the crowd starts, and draws it
    assert crowd.crowded and drawing.alone == {1} and drawing.crowd == {0, 2, 3}
    assert crowd.put(1, "path 1 grown")  # the selected path keeps its own items
    assert drawing.draws == 0  # nothing drawn yet: once, when the event loop turns
    qtbot.waitUntil(lambda: drawing.draws == 1, timeout=2000)
    crowd.flush()
    assert drawing.draws == 1  # nothing changed since

    crowd.select(2)  # 2 leaves the crowd, 1 joins it again
    assert drawing.alone == {2} and drawing.crowd == {0, 1, 3} and drawing.draws == 2
    crowd.remove(2)
    assert crowd.highlight is None and drawing.alone == set() and 2 not in crowd.paths
    crowd.flush()  # three paths: the crowd dissolves, each gets its own items back
    assert not crowd.crowded and drawing.alone == {0, 1, 3} and drawing.crowd == set()
    assert list(crowd.paths) == [0, 1, 3] and crowd.paths[1] == "path 1 grown"


def test_expected_paths_start_the_crowd_before_they_come(qtbot: QtBot) -> None:
    drawing = Drawing()
    crowd: Crowd[int] = Crowd(drawing.hooks(), limit=3)
    crowd.expect(10)
    assert crowd.crowded and crowd.count() == 10
    assert not crowd.put(0, 0) and drawing.crowd == {0} and drawing.alone == set()
    crowd.flush()
    assert crowd.crowded and drawing.draws == 1
    crowd.clear()
    assert not crowd.crowded and crowd.count() == 0 and drawing.crowd == set()
    assert crowd.put(0, 0)


def test_growth_tells_a_grown_path_from_a_new_one() -> None:
    path = np.column_stack([np.arange(10.0), np.arange(10.0) ** 2])
    growth = Growth()
    assert growth.follow(path[:5], stride=1) == 0  # never drawn
    growth.mark_drawn(path[:5], 5)
    assert growth.follow(path[:8], stride=1) == 5  # grown: rows 0-4 stay drawn
    growth.mark_drawn(path[:8], 8)
    other = path.copy()
    other[3:, 1] += 1.0  # the same start, another path
    assert not growth.grew(other, stride=1)
    assert growth.follow(path[:9], stride=2) == 0  # coarser: drawn again
    growth.mark_drawn(path[:9], 5)
    assert growth.follow(path, stride=2) == 5
    assert growth.follow(path[:6], stride=2) == 0  # shrank below what was drawn
    growth.forget()
    assert growth.follow(path, stride=2) == 0


def test_current_row_counts_from_the_end_and_stays_inside() -> None:
    assert current_row(10, None) == 9
    assert current_row(10, 3) == 3
    assert current_row(10, -2) == 8
    assert current_row(10, 50) == 9 and current_row(10, -50) == 0
    assert current_row(0, None) == 0


def test_the_loss_plot_downsamples_long_curves_and_keeps_their_spikes(qtbot: QtBot) -> None:
    view = LossView()
    qtbot.addWidget(view)
    view.resize(500, 300)
    view.show()
    qtbot.waitExposed(view)
    f = np.linspace(5.0, 1.0, 100_000)
    f[54_321] = 80.0  # one step far above the rest
    view.set_path(0, f, (230, 159, 0))
    QApplication.processEvents()  # the range settles, and the curve is downsampled to it
    x, y = view.curve(0).getData()
    width = view.plot_widget().getPlotItem().getViewBox().width()
    assert len(x) <= 2 * width + 4  # a highest and a lowest f per pixel column
    assert y.max() == 80.0 and y.min() <= f[-2]  # the spike, and (nearly) the lowest f
    (x0, x1), _ = view.plot_widget().getPlotItem().getViewBox().viewRange()
    assert x0 <= 0.0 and x1 >= len(f) - 1  # every step in range, downsampled or not
    steps, values, _ = view.path_values(0)
    assert len(steps) == len(values) == len(f)  # the curve's data: not decimated by us
