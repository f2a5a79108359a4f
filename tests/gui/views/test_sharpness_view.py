"""The sharpness view's live series: points appended in pieces draw the same series as one
set_series, each arrival redraws at most one block, and hostile rows are left out or refused."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from pytestqt.qtbot import QtBot

from explorer.gui.views.sharpness_view import SharpnessView


def _view(qtbot: QtBot) -> SharpnessView:
    view = SharpnessView()
    qtbot.addWidget(view)
    return view


def test_pieces_draw_the_series_with_a_bounded_last_curve(qtbot: QtBot) -> None:
    view = _view(qtbot)
    view.start([(20.0, "2/lr")])
    rng = np.random.default_rng(0)
    steps = np.arange(0.0, 5 * 1000, 5)
    rows = np.column_stack((steps, rng.normal(size=len(steps))))
    cuts = np.sort(rng.choice(np.arange(1, len(rows)), size=40, replace=False))
    redrawn = []
    for piece in np.split(rows, cuts):
        before = [curve.getOriginalDataset()[0] for curve in view._curves[:-1]]
        view.append(piece)
        # Settled curves keep the very arrays they were given: only the last one is redrawn.
        assert all(a is b for a, b in zip(before, (c.getOriginalDataset()[0] for c in view._curves),
                                          strict=False))
        redrawn.append(len(view._curves[-1].getOriginalDataset()[0]))
    assert max(redrawn) <= SharpnessView.BLOCK
    xs, ys = view.series()
    np.testing.assert_array_equal(xs, rows[:, 0])
    np.testing.assert_array_equal(ys, rows[:, 1])
    assert view.curve_count() == int(np.ceil((len(rows) - 1) / (SharpnessView.BLOCK - 1)))
    assert view.edge_heights() == [20.0]
    # One set_series of the whole draws the same points.
    other = _view(qtbot)
    other.set_series(rows, [(20.0, "2/lr")])
    for a, b in zip(view.series(), other.series(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_start_clears_the_points_and_sets_the_edges(qtbot: QtBot) -> None:
    view = _view(qtbot)
    view.append(np.array([[0.0, 1.0], [1.0, 2.0]]))
    view.start([(4.0, "2/lr"), (6.0, "(2+2·0.5)/lr")])
    assert len(view.series()[0]) == 0 and view.curve_count() == 1
    assert view.edge_heights() == [4.0, 6.0]
    view.clear()
    assert view.edge_heights() == []


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=arrays(np.float64, st.tuples(st.integers(0, 600), st.just(2)),
                   elements=st.floats(allow_nan=True, allow_infinity=True)))
def test_hostile_rows_leave_out_what_is_not_finite(qtbot: QtBot, rows: np.ndarray) -> None:
    view = _view(qtbot)
    view.append(rows)
    finite = rows[np.isfinite(rows).all(axis=1)]
    xs, ys = view.series()
    np.testing.assert_array_equal(xs, finite[:, 0])
    np.testing.assert_array_equal(ys, finite[:, 1])


def test_rows_that_are_not_pairs_are_refused(qtbot: QtBot) -> None:
    view = _view(qtbot)
    with pytest.raises(ValueError):
        view.append(np.zeros(3))
    with pytest.raises(ValueError):
        view.append(np.array([["a", "b"]]))
    assert len(view.series()[0]) == 0


@pytest.mark.parametrize("width", [240, 420, 900])
def test_the_edge_labels_stay_inside_the_plot(qtbot: QtBot, width: int) -> None:
    # A label centred near the left end spilled past the y axis in a narrow plot (the Sharpness
    # tab at 1024 x 700 showed "/lr = 20"): every label lies inside the view box, above its line.
    view = _view(qtbot)
    view.resize(width, 220)
    view.show()
    qtbot.waitExposed(view)
    view.set_series(np.column_stack((np.arange(0.0, 1000, 25), np.linspace(5, 45, 40))),
                    [(20.0, "2/lr"), (38.0, "(2+2β)/lr")])
    qtbot.wait(50)
    box = view.plot_widget().getPlotItem().getViewBox()
    inside = box.mapRectToScene(box.boundingRect())
    for line in view._edges:
        label = line.label
        assert label.toPlainText().startswith(("2/lr", "(2+2β)/lr"))
        rect = label.mapRectToScene(label.boundingRect())
        assert inside.contains(rect), (width, rect, inside)
        # Above the line: the label's bottom is at or over the line's height on screen.
        line_y = box.mapViewToScene(pg.Point(0.0, line.value())).y()
        assert rect.bottom() <= line_y + 1.0
