"""StateMarks on its own: any arrow and cross, however hostile, draws sanely or not at all."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pytestqt.qtbot import QtBot

from explorer.core.optimizer_state import MOMENT_ARROW, StateReading
from explorer.gui.views.state_marks import CROSS_PX, MAX_ARROW_PX, MIN_ARROW_PX, StateMarks

VALUES = st.one_of(st.floats(allow_nan=True, allow_infinity=True),
                   st.sampled_from([0.0, -0.0, 1e-300, 1e300, -1e300, 5e-324]))


class _Marks:
    """The marks, with a repr that needs no Qt object (hypothesis prints it after teardown)."""

    def __init__(self, widget: pg.PlotWidget) -> None:
        self.widget = widget  # kept: the marks' items live in its scene
        self.marks = StateMarks(widget.getPlotItem())

    def __repr__(self) -> str:
        return "StateMarks on -5..5 x -5..5"


@pytest.fixture
def held(qtbot: QtBot) -> _Marks:
    """One set of marks on a shown plot of -5..5 x -5..5 (reused by every example)."""
    widget = pg.PlotWidget()
    qtbot.addWidget(widget)
    widget.resize(500, 400)
    widget.show()
    qtbot.waitExposed(widget)
    widget.getPlotItem().getViewBox().setRange(xRange=(-5, 5), yRange=(-5, 5), padding=0)
    return _Marks(widget)


@given(head=st.tuples(VALUES, VALUES), arrow=st.tuples(VALUES, VALUES),
       spread=st.tuples(VALUES, VALUES))
@example(head=(0.0, 0.0), arrow=(1.0, 1.0), spread=(1.0, math.nan))  # max() skipped the NaN
@example(head=(0.0, 0.0), arrow=(1.0, 1.0), spread=(math.nan, 1.0))
@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_reading_draws_sanely(held: _Marks, head: tuple[float, float],
                                  arrow: tuple[float, float],
                                  spread: tuple[float, float]) -> None:
    marks = held.marks
    reading = StateReading(3, arrow=arrow, arrow_text=MOMENT_ARROW, spread=spread)
    marks.show_reading(head, reading)
    for points in (marks.arrow_points(), marks.cross_points()):
        assert np.isfinite(points).all()
        assert (np.abs(points) < 1e7).all()  # near the view, never Qt's huge coordinates
    pixel = held.widget.getPlotItem().getViewBox().viewPixelSize()
    if marks.is_shown() and marks.arrow_vector() is not None and len(marks.arrow_points()):
        shaft = marks.arrow_points()[1] - marks.arrow_points()[0]
        length = math.hypot(shaft[0] / pixel[0], shaft[1] / pixel[1])
        assert MIN_ARROW_PX * 0.999 <= length <= MAX_ARROW_PX or marks.arrow_scale() == 1e6
    cross = marks.cross_points()
    if marks.is_shown() and len(cross) and marks.half_widths() is not None:
        arms = (abs(cross[1, 0] - cross[0, 0]) / 2 / pixel[0],
                abs(cross[3, 1] - cross[2, 1]) / 2 / pixel[1])
        assert max(arms) == pytest.approx(CROSS_PX, rel=1e-6)
    marks.clear()
    assert not marks.is_shown() and marks.label_text() == ""
