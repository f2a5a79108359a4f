"""The 3D view's floor labels never sit on its colour bar: labels that would are moved left
of it together, keeping their layout (issue 15: 'w2' under the bar at 1024 x 700)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PySide6.QtCore import QRectF
from pytestqt.qtbot import QtBot

from explorer.gui.views.gl_overlays import shift_labels_clear_of
from explorer.gui.views.surface_view import SurfaceView
from tests.gui.views.test_views import make_grid, rendered

GAP = 4.0
COORD = st.floats(-3000.0, 3000.0, allow_nan=False)
SIZE = st.floats(0.5, 400.0, allow_nan=False)
BOXES = st.lists(st.tuples(COORD, COORD, SIZE, SIZE), max_size=14)


def _rects(values: list[tuple[float, float, float, float]]) -> list[QRectF]:
    return [QRectF(x, y, w, h) for x, y, w, h in values]


def _shares_rows(a: QRectF, b: QRectF) -> bool:
    return a.top() < b.bottom() and a.bottom() > b.top()


@settings(max_examples=300, deadline=None)
@given(boxes=BOXES, keep_out=st.lists(st.tuples(COORD, COORD, SIZE, SIZE), max_size=3))
def test_shifted_labels_clear_every_area_and_keep_their_layout(
        boxes: list[tuple[float, float, float, float]],
        keep_out: list[tuple[float, float, float, float]]) -> None:
    before, after, areas = _rects(boxes), _rects(boxes), _rects(keep_out)
    shift_labels_clear_of(after, areas, GAP)
    moves = {round(b.left() - a.left(), 6) for a, b in zip(after, before, strict=True)}
    moves.discard(0.0)
    assert len(moves) <= 1  # one distance for all that move: the layout of the moved stays
    for a, b in zip(after, before, strict=True):
        assert (a.top(), a.width(), a.height()) == (b.top(), b.width(), b.height())
        assert a.left() <= b.left()  # only ever left
        for area in areas:
            # Clear of the area, and of anything right of it (the view's edge) on its rows.
            assert not (_shares_rows(a, area) and a.right() > area.left() - GAP + 1e-6)
    if not any(_shares_rows(b, area) and b.right() > area.left() - GAP
               for b in before for area in areas):
        assert moves == set()  # nothing on the bar: nothing moves


def test_hostile_sizes_do_not_break_the_rule() -> None:
    # Enormous, empty and far-off labels and areas.
    boxes = [QRectF(1e300, 0.0, 10.0, 10.0), QRectF(0.0, 0.0, 0.0, 0.0),
             QRectF(-1e12, 5.0, 1e12, 1.0)]
    area = QRectF(50.0, -1.0, 10.0, 20.0)
    shift_labels_clear_of(boxes, [area], GAP)
    assert all(not (_shares_rows(b, area) and b.right() > area.left() - GAP) for b in boxes)
    shift_labels_clear_of(boxes, [], GAP)  # no bar: nothing to do


@pytest.mark.gl
@pytest.mark.parametrize(("width", "height", "azimuth"), [
    (270, 350, 0.0),  # the 3D view of a 1024 x 700 window
    (220, 300, 25.0), (270, 350, -40.0), (640, 480, 0.0), (180, 420, 70.0),
])
def test_floor_labels_never_overlap_the_colour_bar(
        qtbot: QtBot, width: int, height: int, azimuth: float) -> None:
    view = SurfaceView()
    qtbot.addWidget(view)
    view.resize(width, height)
    view.set_axis_names("w1", "w2", "loss")
    view.set_landscape(make_grid(), log=True)
    view.gl_widget().orbit(azimuth, 0)
    rendered(view, qtbot)
    view.grab()  # the labels and the bar are painted over the GL picture
    labels, bar = view.label_layout()
    assert len(bar) == 2  # the bar's title, and the bar with its numbers
    assert {"w1", "w2"} <= {text for text, _ in labels}
    for text, box in labels:
        for area in bar:
            assert not box.intersects(area), (text, box, area)
