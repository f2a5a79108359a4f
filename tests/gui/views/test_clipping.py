"""Paths cut at the map's edges: the pure clipping, the contour map, the 3D surface."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from pytestqt.qtbot import QtBot

from explorer.core.trajectory import RunSettings, Status, number_text
from explorer.gui.main_window import MainWindow
from explorer.gui.model.run_table import STATUS_COLUMN, WHY_COLUMN
from explorer.gui.views.clipping import clamp_points, clip_polyline, inside_box
from explorer.gui.views.contour_view import ContourView
from explorer.gui.views.diverged_marks import diverged_point
from explorer.gui.views.surface_view import SurfaceView
from tests.gui.helpers import wait_idle
from tests.gui.views.test_views import make_grid, view_image

BOX = (-5.0, 5.0, -5.0, 5.0)
SLACK = 1e-9


def _on_segment(point: np.ndarray, a: np.ndarray, b: np.ndarray) -> bool:
    """Whether point lies on segment ab (up to rounding), by the triangle inequality."""
    length = float(np.hypot(*(b - a)))
    detour = float(np.hypot(*(point - a)) + np.hypot(*(b - point)))
    return detour <= length + 1e-7 * max(1.0, length)


coordinates = st.one_of(
    st.floats(-20.0, 20.0), st.floats(-1e300, 1e300), st.sampled_from([np.nan, np.inf, -np.inf]))


@settings(max_examples=300, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(0, 12), st.just(2)), elements=coordinates))
def test_clipped_points_lie_in_the_box_and_on_the_path(xy: np.ndarray) -> None:
    out = clip_polyline(xy, BOX)
    drawn = out[np.isfinite(out).all(axis=1)]
    assert np.all(np.isnan(out[~np.isfinite(out).all(axis=1)]))  # breaks are NaN rows only
    assert np.all((drawn >= -5.0 - SLACK) & (drawn <= 5.0 + SLACK))
    segments = [(xy[i], xy[i + 1]) for i in range(len(xy) - 1)
                if np.isfinite(xy[i]).all() and np.isfinite(xy[i + 1]).all()]
    for point in drawn:
        assert (any(_on_segment(point, a, b) for a, b in segments)
                or any(np.array_equal(point, p) for p in xy))
    # Every point of the path inside the box is drawn.
    for point in xy[inside_box(xy, BOX)]:
        if len(xy) == 1 or any(np.array_equal(point, a) or np.array_equal(point, b)
                               for a, b in segments):
            assert any(np.allclose(point, q, rtol=0, atol=1e-9) for q in drawn)


def test_a_path_inside_is_unchanged_and_a_crossing_is_cut_on_the_edge() -> None:
    inside = np.array([[0.0, 0.0], [1.0, 2.0], [-3.0, 4.0]])
    np.testing.assert_array_equal(clip_polyline(inside, BOX), inside)
    # From (0, 1) to (10, 6): y = 1 + x / 2 meets x = 5 at y = 3.5.
    out = clip_polyline(np.array([[0.0, 1.0], [10.0, 6.0], [1e9, -1e9], [2.0, 2.0],
                                  [1.0, 1.0]]), BOX)
    assert out[0].tolist() == [0.0, 1.0] and out[1] == pytest.approx([5.0, 3.5])
    assert np.isnan(out[2]).all()  # left and came back: two parts
    # Back in from (1e9, -1e9) to (2, 2): the line through them enters the box at x = 5.
    t = (1e9 - 5.0) / (1e9 - 2.0)
    assert out[3] == pytest.approx([5.0, -1e9 + t * (2.0 + 1e9)])
    assert out[4:].tolist() == [[2.0, 2.0], [1.0, 1.0]]
    assert clamp_points(np.array([[9.0, -9.0]]), BOX).tolist() == [[5.0, -5.0]]


def test_a_diverged_path_is_marked_where_it_was_last_seen() -> None:
    path = np.array([[0.0, 1.0], [10.0, 6.0], [1e12, 1e12], [np.nan, np.nan]])
    assert diverged_point(path, BOX) == pytest.approx((5.0, 3.5))  # where it left the box
    assert diverged_point(path[:1], BOX) == (0.0, 1.0)  # the last finite point, inside
    assert diverged_point(np.array([[9.0, 9.0], [np.inf, 0.0]]), BOX) is None


@pytest.fixture
def contour(qtbot: QtBot) -> ContourView:
    view = ContourView()
    qtbot.addWidget(view)
    view.resize(600, 500)
    view.show()
    qtbot.waitExposed(view)
    view.set_landscape(make_grid(), log=False)
    return view


@given(st.lists(st.tuples(st.floats(-1e200, 1e200), st.floats(-1e200, 1e200)), min_size=1,
                max_size=30))
@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_contour_paths_stay_in_the_domain_and_the_view_does_not_move(
    contour: ContourView, points: list[tuple[float, float]]
) -> None:
    box = contour.plot_widget().getPlotItem().getViewBox()
    before = box.viewRange()
    contour.set_path(1, np.array([(0.0, 0.0), *points]), (230, 159, 0),
                     diverged="diverged at step 3: |x| > 1e6")
    contour.set_path(2, np.array(points[::-1]), (86, 180, 233))
    contour.flush()
    for path_id in (1, 2):
        line, marks, _ = contour.path_data(path_id)
        assert np.all(np.abs(line) <= 5.0 + SLACK) and np.all(np.abs(marks) <= 5.0 + SLACK)
    x, y, why = contour.diverged_marks()[1]
    assert abs(x) <= 5.0 + SLACK and abs(y) <= 5.0 + SLACK and why.startswith("diverged")
    assert 2 not in contour.diverged_marks()
    assert box.viewRange() == before
    contour.clear_paths()
    assert contour.diverged_marks() == {}


@pytest.mark.gl  # the view holds a QOpenGLWidget: the offscreen platform refuses it
def test_surface_paths_stop_at_the_surface_box(qtbot: QtBot) -> None:
    surface = SurfaceView()
    qtbot.addWidget(surface)
    surface.resize(500, 400)
    grid = make_grid()
    surface.set_landscape(grid, log=False)
    mapping = surface.scene_mapping()
    assert mapping is not None
    path = np.array([[0.0, 1.0], [3.0, 2.0], [60.0, 30.0], [4e9, 1e9], [1.0, 1.0], [2.0, 0.0]])
    surface.set_path(7, path, np.zeros(len(path)), (230, 159, 0))
    line, marks, _ = surface.path_data(7)
    back = mapping.from_scene(np.concatenate([line, marks]).astype(np.float64))
    assert np.all(np.abs(back[:, :2]) <= 5.0 + 1e-4)  # the markers too
    # The points inside the box are all drawn, the others none.
    assert len(line) == int(inside_box(path, grid.domain).sum())
    pos = surface.path_items(7).line.pos
    assert np.isfinite(pos).all() and len(pos) == 4  # two segments: (0,1)-(3,2), (1,1)-(2,0)

    # A current point far outside, with the huge f a diverged path reaches, sits on the
    # surface where it left the box (f(5, 2) = 260 of up to 890 here), not at the box's top.
    far = np.array([[0.0, 1.0], [3.0, 2.0], [4e9, 2.0]])
    surface.set_path(8, far, np.array([1.0, 2.0, 1e300]), (86, 180, 233))
    _, marks, _ = surface.path_data(8)
    assert mapping.from_scene(marks[-1:].astype(np.float64))[0, :2] == pytest.approx([5.0, 2.0])
    top = mapping.to_scene(5.0, 2.0, mapping.high)[2]
    on_surface = mapping.to_scene(5.0, 2.0, 260.0)[2]
    assert marks[-1, 2] < on_surface + 0.1 * mapping.height < top


@pytest.mark.window(surface=False)
def test_a_diverged_run_stays_on_the_map_and_the_table_says_why(
    qtbot: QtBot, window: MainWindow
) -> None:
    window.runner.start_runs([(1.0, 1.0)], RunSettings(lr=10.0, steps=50))  # Himmelblau
    wait_idle(qtbot, window)
    (shown,) = window.runner.shown_trajectories()
    assert shown.status is Status.DIVERGED
    xmin, xmax, ymin, ymax = window.document.domain
    (x0, x1), (y0, y1) = window.contour.plot_widget().getPlotItem().getViewBox().viewRange()
    margin = 0.1 * max(xmax - xmin, ymax - ymin)
    assert xmin - margin <= x0 and x1 <= xmax + margin
    assert ymin - margin <= y0 and y1 <= ymax + margin
    line, marks, _ = window.contour.path_data(shown.path_id)
    assert np.all((line[:, 0] >= xmin) & (line[:, 0] <= xmax))
    assert np.all((line[:, 1] >= ymin) & (line[:, 1] <= ymax))
    assert np.all((marks[:, 0] >= xmin) & (marks[:, 0] <= xmax))  # the current point too
    # The cross: where the path was last seen on the map, its last drawn point.
    x, y, why = window.contour.diverged_marks()[shown.path_id]
    assert (x, y) == tuple(line[-1]) and why == shown.status_text()
    row = window.runs_panel.row_texts(shown.path_id)
    steps = shown.received - 1
    assert row[STATUS_COLUMN] == f"diverged at step {steps}"
    assert row[WHY_COLUMN] == f"|x| > {number_text(shown.settings.bound)}"
    last = shown.xy[shown.received - 1]
    assert abs(last[0]) > shown.settings.bound  # what Why says, checked on the numbers


def test_a_crowd_cuts_its_diverged_paths_at_the_domain_too(contour: ContourView) -> None:
    rng = np.random.default_rng(3)
    for i in range(60):  # past CROWD_PATHS: the layer draws them
        inside = rng.uniform(-4.0, 4.0, (5, 2))
        away = inside[-1] * np.array([[10.0], [1e3], [1e9]])  # leaves the map, far
        contour.set_path(i, np.concatenate([inside, away]), (230, 159, 0),
                         diverged="diverged at step 7: |x| > 1e6")
    contour.flush()
    assert contour.is_crowded()
    layer = contour.crowd_layer()
    for i in range(60):
        line, _, _ = layer.trail(i)
        drawn = line[np.isfinite(line).all(axis=1)]
        assert len(drawn) >= 5 and np.all(np.abs(drawn) <= 5.0 + SLACK)
    assert len(contour.diverged_marks()) == 60
    view_image(contour)  # it paints without complaint (Qt warnings fail the test)
