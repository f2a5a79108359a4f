"""The contour, surface and loss views: what they draw, what a click emits, no warnings."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QGraphicsItem
from pytestqt.qtbot import QtBot

from explorer.core.landscape import LandscapeGrid, contour_levels, to_display
from explorer.gui.model.colors import (
    COLORMAP,
    DRAWN_POINTS_BUDGET,
    MAX_DRAWN_POINTS,
    MIN_DRAWN_POINTS,
    OUTLINE_COLOR,
    PALETTE,
    decimation_indices,
    equal_aspect,
    points_per_path,
    trajectory_color,
)
from explorer.gui.views.contour_landscape import ContourLinesItem, contour_lines_at
from explorer.gui.views.contour_view import ContourView
from explorer.gui.views.loss_view import LossView
from explorer.gui.views.surface_geometry import nice_ticks
from explorer.gui.views.surface_view import (
    SURFACE_HEIGHT,
    HeightField,
    SceneMapping,
    SurfaceView,
    intersect_height_field,
    pick_ray,
)

DOMAIN = (-5.0, 5.0, -5.0, 5.0)


def himmelblau(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Himmelblau's function: four minima of value 0, a maximum near (-0.27, -0.92)."""
    return (x**2 + y - 11) ** 2 + (x + y**2 - 7) ** 2


def make_grid(
    f: Callable[[np.ndarray, np.ndarray], np.ndarray] = himmelblau,
    domain: tuple[float, float, float, float] = DOMAIN,
    n: int = 128,
    gaps: bool = False,
) -> LandscapeGrid:
    """A LandscapeGrid built straight from numpy (no expression parser)."""
    xs = np.linspace(domain[0], domain[1], n)
    ys = np.linspace(domain[2], domain[3], n)
    x, y = np.meshgrid(xs, ys, indexing="ij")
    z = np.asarray(f(x, y), dtype=np.float64)
    if gaps:
        z = z.copy()
        z[(x > 1.0) & (y > 1.0)] = np.nan
    finite = np.isfinite(z)
    values = z[finite]
    low = float(values.min()) if values.size else 0.0
    high = float(values.max()) if values.size else 0.0
    return LandscapeGrid(domain, xs, ys, z, low, high, float(finite.mean()), False)


def descent_path(start: tuple[float, float], steps: int = 60, lr: float = 0.01) -> np.ndarray:
    """Plain gradient descent on Himmelblau's function, rows (x, y)."""
    out = [start]
    for _ in range(steps):
        x, y = out[-1]
        gx = 4 * x * (x * x + y - 11) + 2 * (x + y * y - 7)
        gy = 2 * (x * x + y - 11) + 4 * y * (x + y * y - 7)
        out.append((x - lr * gx, y - lr * gy))
    return np.array(out)


# -- colours and helpers ------------------------------------------------------------------------


def test_trajectory_colors_cycle_and_stand_out_on_viridis() -> None:
    import pyqtgraph as pg

    assert trajectory_color(0) == PALETTE[0]
    assert trajectory_color(len(PALETTE)) == PALETTE[0]
    assert len(set(PALETTE)) == len(PALETTE) >= 6
    lut = pg.colormap.get(COLORMAP).getLookupTable(nPts=256, alpha=False).astype(float)
    for color in PALETTE:
        assert all(isinstance(c, int) and 0 <= c <= 255 for c in color)
        # Far from every colour of the map, so that a path never melts into the background.
        assert np.min(np.linalg.norm(lut - np.array(color, dtype=float), axis=1)) > 60


def test_all_levels_at_once_match_one_level_at_a_time() -> None:
    rng = np.random.default_rng(3)
    xs, ys = np.linspace(-2.0, 2.0, 41), np.linspace(-1.0, 3.0, 37)
    gx, gy = np.meshgrid(xs, ys, indexing="ij")
    z = np.sin(2 * gx) * np.cos(3 * gy) + 0.1 * rng.standard_normal(gx.shape)
    z[5:9, 10:14] = np.nan  # a gap
    levels = [0.5, -0.3, 0.0, 0.5, 2.0, -0.9]  # unsorted, one repeated, one never reached
    together = contour_lines_at(xs, ys, z, levels)
    assert len(together) == len(levels)
    for level, (points, offsets) in zip(levels, together, strict=True):
        (alone, alone_offsets), = contour_lines_at(xs, ys, z, [level])
        np.testing.assert_array_equal(points, alone)
        np.testing.assert_array_equal(offsets, alone_offsets)
        assert offsets[0] == 0 and offsets[-1] == len(points)
    assert len(together[4][0]) == 0 and len(together[0][0]) > 0
    np.testing.assert_array_equal(together[0][0], together[3][0])


def test_many_paths_share_a_budget_of_drawn_points() -> None:
    assert points_per_path(1) == points_per_path(0) == MAX_DRAWN_POINTS
    for paths in (100, 1000, 10_000):
        assert points_per_path(paths) * paths <= DRAWN_POINTS_BUDGET
        assert points_per_path(paths) >= MIN_DRAWN_POINTS
    assert points_per_path(10_000) == DRAWN_POINTS_BUDGET // 10_000
    assert points_per_path(10**7) == MIN_DRAWN_POINTS


def test_decimation_keeps_first_and_last() -> None:
    assert list(decimation_indices(5)) == [0, 1, 2, 3, 4]
    rows = decimation_indices(100_000)
    assert len(rows) <= MAX_DRAWN_POINTS
    assert rows[0] == 0 and rows[-1] == 99_999
    assert np.all(np.diff(rows) > 0)


def test_equal_aspect_only_for_moderate_domains() -> None:
    assert equal_aspect((-2, 2, -1, 3))
    assert not equal_aspect((-100, 100, -1, 1))


# -- contour geometry ---------------------------------------------------------------------------


def lines_of(xs: np.ndarray, ys: np.ndarray, z: np.ndarray, level: float) -> list[np.ndarray]:
    """The polylines of one level, each (k, 2)."""
    (points, offsets), = contour_lines_at(xs, ys, z, [level])
    return np.split(points, offsets[1:-1]) if len(points) else []


def test_contour_of_a_paraboloid_is_a_circle() -> None:
    xs = np.linspace(-3, 3, 121)
    x, y = np.meshgrid(xs, xs, indexing="ij")
    z = x**2 + y**2
    for radius in (0.5, 1.0, 2.0, 2.9):
        lines = lines_of(xs, xs, z, radius**2)
        assert len(lines) == 1
        loop = lines[0]
        assert len(loop) > 20
        np.testing.assert_array_equal(loop[0], loop[-1])  # one closed loop
        # Linear interpolation of r^2 along a grid edge of h = 0.05 is off by under h^2 / 8r.
        assert np.allclose(np.hypot(loop[:, 0], loop[:, 1]), radius, atol=0.01)
        # Once round, without jumps: no step longer than a cell's diagonal.
        assert np.hypot(*np.diff(loop, axis=0).T).max() <= 0.05 * np.sqrt(2) + 1e-12
        angle = np.unwrap(np.arctan2(loop[:, 1], loop[:, 0]))
        assert abs(angle[-1] - angle[0]) == pytest.approx(2 * np.pi)


def test_contour_lines_follow_the_axes_and_the_rows() -> None:
    # z[i, j] is the value at (xs[i], ys[j]), on grids of different sizes and spacings.
    xs, ys = np.linspace(-1.0, 3.0, 41), np.linspace(-2.0, 0.0, 11)
    x, y = np.meshgrid(xs, ys, indexing="ij")
    (line,) = lines_of(xs, ys, x, 1.25)  # f = x: the line x = 1.25, from y = -2 to 0
    np.testing.assert_allclose(line[:, 0], 1.25)
    assert sorted([line[0, 1], line[-1, 1]]) == [-2.0, 0.0]
    (line,) = lines_of(xs, ys, 3 * y, -4.5)  # f = 3y: the line y = -1.5
    np.testing.assert_allclose(line[:, 1], -1.5)
    assert sorted([line[0, 0], line[-1, 0]]) == [-1.0, 3.0]


def test_a_nan_hole_breaks_a_contour_line() -> None:
    xs = np.linspace(-3, 3, 121)
    x, y = np.meshgrid(xs, xs, indexing="ij")
    z = x**2 + y**2
    z[(np.abs(x) < 0.5) & (y > 0)] = np.nan  # a slot through the top of every circle
    lines = lines_of(xs, xs, z, 4.0)
    assert len(lines) == 1  # the circle, opened at the slot
    line = lines[0]
    assert not np.array_equal(line[0], line[-1])
    assert np.isfinite(line).all()
    assert np.allclose(np.hypot(line[:, 0], line[:, 1]), 2.0, atol=0.01)
    # No point inside the slot, and the ends stop within a cell of it (cells touching a NaN
    # are left out whole).
    assert not ((np.abs(line[:, 0]) < 0.5) & (line[:, 1] > 0)).any()
    ends = np.abs(line[[0, -1], 0])
    assert np.all((ends >= 0.5) & (ends <= 0.5 + 2 * 0.05 + 1e-9))
    assert np.all(line[[0, -1], 1] > 0)


def test_contour_lines_skip_nan_cells_without_warnings() -> None:
    grid = make_grid(gaps=True)
    lines = contour_lines_at(grid.xs, grid.ys, grid.z, contour_levels(grid, 14))
    assert sum(len(points) for points, _ in lines) > 0
    for points, _ in lines:
        assert np.isfinite(points).all()
        inside_gap = (points[:, 0] > 1.1) & (points[:, 1] > 1.1)
        assert not inside_gap.any()
    nothing = contour_lines_at(grid.xs, grid.ys, np.full_like(grid.z, np.nan), [1.0, 2.0])
    assert [len(points) for points, _ in nothing] == [0, 0]


@pytest.mark.parametrize(("level", "corners_cut_off"), [(0.25, "low"), (0.75, "high")])
def test_a_saddle_cell_is_split_by_its_centre_value(level: float, corners_cut_off: str) -> None:
    # One cell: 1 at (0, 0) and (1, 1), 0 at (1, 0) and (0, 1); its centre is worth 0.5.
    # Below the centre's value the two high corners join through the middle and the lines cut
    # off the low corners; above it the lines cut off the high corners.
    xs = ys = np.array([0.0, 1.0])
    z = np.array([[1.0, 0.0], [0.0, 1.0]])
    lines = lines_of(xs, ys, z, level)
    assert len(lines) == 2 and all(len(line) == 2 for line in lines)
    cut = [(1.0, 0.0), (0.0, 1.0)] if corners_cut_off == "low" else [(0.0, 0.0), (1.0, 1.0)]
    depth = level if corners_cut_off == "low" else 1 - level  # how far along each edge
    for line in lines:
        corner = min(cut, key=lambda c: np.hypot(*(line.mean(axis=0) - c)))
        # Both ends lie on the two edges at the corner, depth along each from it.
        distances = sorted(np.abs(line - corner).sum(axis=1))
        assert distances == pytest.approx([depth, depth])
    corners = {min(cut, key=lambda c: np.hypot(*(line.mean(axis=0) - c))) for line in lines}
    assert len(corners) == 2


def test_the_lines_of_a_saddle_surface_are_hyperbolas() -> None:
    xs = np.linspace(-2, 2, 81)
    x, y = np.meshgrid(xs, xs, indexing="ij")
    for level in (-1.0, 0.5):
        lines = lines_of(xs, xs, x * y, level)
        assert len(lines) == 2  # one branch in each of two opposite quadrants
        for line in lines:
            np.testing.assert_allclose(line[:, 0] * line[:, 1], level, atol=0.01)
            assert np.all(np.sign(line[:, 0] * line[:, 1]) == np.sign(level))
            # Open branches that run out at the edge of the domain.
            assert np.all(np.abs(line[[0, -1]]).max(axis=1) == pytest.approx(2.0))


# -- contour view -------------------------------------------------------------------------------


@pytest.fixture
def contour(qtbot: QtBot) -> ContourView:
    view = ContourView()
    qtbot.addWidget(view)
    view.resize(700, 600)
    view.show()
    qtbot.waitExposed(view)
    view.set_landscape(make_grid(), log=False)
    QApplication.processEvents()
    return view


def widget_point(view: ContourView, x: float, y: float) -> QPoint:
    """The viewport pixel that shows data point (x, y)."""
    box = view.plot_widget().getPlotItem().getViewBox()
    scene = box.mapViewToScene(QPointF(x, y))
    return view.plot_widget().mapFromScene(scene)


def test_contour_view_draws_image_colour_bar_and_contours(contour: ContourView) -> None:
    grid = make_grid()
    image = contour.image_item()
    assert image.image.shape == (128, 128)
    assert image.levels is not None
    low, high = contour.color_bar().levels()
    assert low == pytest.approx(grid.z_min) and high == pytest.approx(grid.z_max)
    assert contour.color_bar().getAxis("left").labelText == "f(x, y)"
    lines = contour.contour_item()
    assert isinstance(lines, ContourLinesItem)
    assert len(lines.levels) >= 10
    assert all(count > 0 for count in lines.point_counts())
    assert all(len(lines.lines(i)) > 0 for i in range(len(lines.levels)))
    # All levels in one path, which starts afresh at each line and nowhere else.
    path = lines.path
    assert path.elementCount() == sum(lines.point_counts())
    moves = sum(path.elementAt(i).isMoveTo() for i in range(path.elementCount()))
    assert moves == sum(len(lines.lines(i)) for i in range(len(lines.levels)))
    assert lines.cacheMode() == QGraphicsItem.CacheMode.DeviceCoordinateCache
    item = contour.plot_widget().getPlotItem()
    assert item.getAxis("bottom").labelText == "x"
    assert item.getAxis("left").labelText == "y"
    (x0, x1), (y0, y1) = item.getViewBox().viewRange()
    assert x0 <= -5.0 + 1e-6 and x1 >= 5.0 - 1e-6 and y0 <= -5.0 + 1e-6 and y1 >= 5.0 - 1e-6


def test_busy_contours_are_traced_on_every_other_sample() -> None:
    import pyqtgraph as pg

    from explorer.gui.views.contour_landscape import CONTOUR_POINT_BUDGET

    def rastrigin(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return 20 + x**2 - 10 * np.cos(2 * np.pi * x) + y**2 - 10 * np.cos(2 * np.pi * y)

    pen = pg.mkPen("w")
    for f, busy in ((himmelblau, False), (rastrigin, True)):
        grid = make_grid(f, n=256)
        levels = contour_levels(grid, 14, False)
        full = [len(points) for points, _ in contour_lines_at(grid.xs, grid.ys, grid.z, levels)]
        assert (sum(full) > 2 * CONTOUR_POINT_BUDGET) == busy  # far from the edge either way
        assert (sum(full) < CONTOUR_POINT_BUDGET / 2) == (not busy)
        lines = ContourLinesItem(grid.xs, grid.ys, grid.z, levels, pen)
        assert (lines.step == 2) == busy
        if busy:  # about half the points, every level still drawn
            assert sum(lines.point_counts()) < 0.6 * sum(full)
            assert all(n > 0 for n in lines.point_counts())
            assert len(lines.lines(0)[0]) > 1
        else:
            assert lines.point_counts() == full
    # A small grid is traced whole, however busy.
    grid = make_grid(rastrigin, n=128)
    lines = ContourLinesItem(grid.xs, grid.ys, grid.z, contour_levels(grid, 14, False), pen)
    assert lines.step == 1


def test_contour_view_log_scale_changes_the_values(contour: ContourView) -> None:
    grid = make_grid()
    linear = contour.image_item().image.copy()
    contour.set_log_scale(True)
    log = contour.image_item().image
    assert not np.allclose(linear, log)
    assert np.allclose(log, grid.transformed(True))
    assert contour.color_bar().getAxis("left").labelText == "log10(f - min)"
    assert contour.color_bar().levels()[1] == pytest.approx(np.nanmax(grid.transformed(True)))
    assert len(contour.contour_item().levels) >= 10
    contour.set_log_scale(False)
    assert np.allclose(contour.image_item().image, linear)


def test_contour_view_resets_range_for_a_new_domain(contour: ContourView) -> None:
    box = contour.plot_widget().getPlotItem().getViewBox()
    box.setRange(xRange=(0, 1), yRange=(0, 1), padding=0)
    contour.set_landscape(make_grid(domain=(10.0, 30.0, -1.0, 1.0)), log=False)
    (x0, x1), (y0, y1) = box.viewRange()
    assert x0 == pytest.approx(10.0, abs=0.5) and x1 == pytest.approx(30.0, abs=0.5)
    assert y0 == pytest.approx(-1.0, abs=0.1) and y1 == pytest.approx(1.0, abs=0.1)


@pytest.mark.parametrize(
    ("modifier", "add_only"),
    [(Qt.KeyboardModifier.NoModifier, False), (Qt.KeyboardModifier.ShiftModifier, True)],
)
def test_contour_click_emits_start(contour: ContourView, qtbot: QtBot, modifier, add_only) -> None:
    target = (1.5, -2.0)
    pos = widget_point(contour, *target)
    with qtbot.waitSignal(contour.start_requested, timeout=2000) as blocker:
        qtbot.mouseClick(contour.plot_widget().viewport(), Qt.MouseButton.LeftButton, modifier, pos)
    x, y, shift = blocker.args
    pixel = 10.0 / 500  # data units per pixel, roughly
    assert x == pytest.approx(target[0], abs=2 * pixel)
    assert y == pytest.approx(target[1], abs=2 * pixel)
    assert shift is add_only


def test_contour_click_outside_domain_or_drag_does_not_emit(
    contour: ContourView, qtbot: QtBot
) -> None:
    box = contour.plot_widget().getPlotItem().getViewBox()
    box.setRange(xRange=(-10, 10), yRange=(-10, 10), padding=0)
    QApplication.processEvents()
    emitted: list[tuple[float, float, bool]] = []
    contour.start_requested.connect(lambda *args: emitted.append(args))
    viewport = contour.plot_widget().viewport()
    qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=widget_point(contour, 8.0, 8.0))
    start, end = widget_point(contour, 0.0, 0.0), widget_point(contour, 2.0, 2.0)
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=start)
    for k in range(1, 11):
        qtbot.mouseMove(viewport, start + (end - start) * (k / 10))
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=end)
    QApplication.processEvents()
    assert emitted == []


def test_contour_hover_emits_data_point(contour: ContourView, qtbot: QtBot) -> None:
    pos = widget_point(contour, -1.0, 2.0)
    with qtbot.waitSignal(contour.point_hovered, timeout=2000) as blocker:
        qtbot.mouseMove(contour.plot_widget().viewport(), pos)
    x, y = blocker.args
    assert x == pytest.approx(-1.0, abs=0.05) and y == pytest.approx(2.0, abs=0.05)
    contour.set_hover_text("f = 1.0")
    assert contour.hover_text() == "f = 1.0"
    contour.set_hover_text("")
    assert contour.hover_text() == ""


def test_contour_paths_reuse_items_and_decimate(contour: ContourView) -> None:
    path = descent_path((-4.0, 4.0))
    contour.set_path(1, path[:10], (230, 159, 0))
    items = contour.path_items(1)
    contour.set_path(1, path, (230, 159, 0))
    assert contour.path_items(1) is items
    x, y = items.line.getData()
    assert np.allclose(x, path[:, 0]) and np.allclose(y, path[:, 1])
    start, now = items.marks
    assert np.allclose(start, path[0]) and np.allclose(now, path[-1])
    contour.set_path(1, path, (230, 159, 0), current=5)
    assert np.allclose(contour.path_items(1).marks[1], path[5])

    long = np.column_stack([np.linspace(-4, 4, 50_000), np.sin(np.linspace(0, 20, 50_000))])
    contour.set_path(2, long, (86, 180, 233))
    x, y = contour.path_items(2).line.getData()
    assert len(x) <= MAX_DRAWN_POINTS
    assert (x[0], y[0]) == tuple(long[0]) and (x[-1], y[-1]) == tuple(long[-1])
    assert sorted(contour.path_ids()) == [1, 2]

    contour.set_highlight(1)
    assert items.line.opts["pen"].widthF() > contour.path_items(2).line.opts["pen"].widthF()
    assert items.line.zValue() > contour.path_items(2).line.zValue()
    assert contour.path_items(2).line.opts["pen"].color().alpha() < 255
    contour.set_highlight(None)
    assert contour.path_items(2).line.opts["pen"].color().alpha() == 255

    scene_items = set(contour.plot_widget().getPlotItem().items)
    contour.remove_path(1)
    assert contour.path_ids() == [2]
    assert items.line not in contour.plot_widget().getPlotItem().items
    assert len(scene_items) - len(contour.plot_widget().getPlotItem().items) == len(items.items())
    contour.clear_paths()
    assert contour.path_ids() == []


def test_contour_path_with_non_finite_rows(contour: ContourView) -> None:
    path = descent_path((0.0, 0.0), steps=5)
    path = np.vstack([path, [[1e300, -1e300], [np.nan, np.inf]]])
    contour.set_path(3, path, (213, 94, 0))
    x, _ = contour.path_items(3).line.getData()
    assert np.isfinite(x).all() and np.abs(x).max() < 1e12
    contour.set_path(4, np.full((3, 2), np.nan), (213, 94, 0))
    QApplication.processEvents()


def test_contour_pending_starts(contour: ContourView) -> None:
    contour.set_pending_starts(np.array([[1.0, 1.0], [-2.0, 3.0]]))
    assert len(contour.pending_item().data) == 2
    contour.set_pending_starts(np.empty((0, 2)))
    assert len(contour.pending_item().data) == 0


def test_contour_nan_gaps_draw_without_warnings(contour: ContourView, tmp_path: Path) -> None:
    contour.set_landscape(make_grid(gaps=True), log=False)
    contour.set_log_scale(True)
    assert np.isnan(contour.image_item().image).any()
    assert len(contour.contour_item().levels) >= 10
    contour.set_landscape(make_grid(lambda x, y: np.full_like(x, np.nan)), log=False)
    contour.set_landscape(make_grid(lambda x, y: np.zeros_like(x)), log=True)
    contour.save_png(str(tmp_path / "gaps.png"))  # renders every item
    assert (tmp_path / "gaps.png").stat().st_size > 1000


def test_contour_save_png(contour: ContourView, tmp_path: Path) -> None:
    target = tmp_path / "contour.png"
    contour.set_path(0, descent_path((2.0, -4.0)), trajectory_color(0))
    contour.save_png(str(target))
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(OSError, match="could not write"):
        contour.save_png(str(tmp_path / "missing" / "folder" / "contour.png"))


# -- loss view ----------------------------------------------------------------------------------


@pytest.fixture
def loss(qtbot: QtBot) -> LossView:
    view = LossView()
    qtbot.addWidget(view)
    view.resize(500, 300)
    view.show()
    qtbot.waitExposed(view)
    return view


def test_loss_view_draws_and_updates(loss: LossView) -> None:
    f = himmelblau(*descent_path((-4.0, 4.0)).T)
    loss.set_path(0, f[:5], (230, 159, 0))
    curve = loss.curve(0)
    loss.set_path(0, f, (230, 159, 0))
    assert loss.curve(0) is curve
    x, y = curve.getData()
    assert np.allclose(x, np.arange(len(f))) and np.allclose(y, f)
    item = loss.plot_widget().getPlotItem()
    assert item.getAxis("bottom").labelText == "step"
    assert item.getAxis("left").labelText == "f"
    loss.set_path(1, np.linspace(5, 1, 100_000), (86, 180, 233))
    QApplication.processEvents()  # the range settles before a paint; pyqtgraph downsamples to it
    assert len(loss.curve(1).getData()[0]) <= MAX_DRAWN_POINTS
    loss.set_highlight(1)
    assert loss.curve(1).opts["pen"].widthF() > loss.curve(0).opts["pen"].widthF()
    loss.remove_path(1)
    assert loss.path_ids() == [0]
    loss.clear_paths()
    assert loss.path_ids() == []


def test_loss_view_log_mode_with_awkward_values(loss: LossView) -> None:
    loss.set_path(0, np.array([3.0, 1.0, 0.0, 0.0]), (230, 159, 0))
    loss.set_path(1, np.array([2.0, -1.0, -5.0, np.nan, np.inf, -np.inf, 1e308]), (86, 180, 233))
    loss.log_check_box().setChecked(True)
    assert loss.is_log_y()
    assert "log" in loss.plot_widget().getPlotItem().getAxis("left").labelText
    _, y0 = loss.curve(0).getData()
    _, y1 = loss.curve(1).getData()
    assert np.isfinite(y0).all()
    assert np.isfinite(y1[:3]).all() and np.isnan(y1[3:6]).all()
    assert y1[2] == y1[:3].min()  # the lowest f sits lowest on the log scale
    loss.set_path(2, np.array([-1e308, -np.inf]), (213, 94, 0))
    loss.set_path(3, np.array([np.nan]), (213, 94, 0))
    loss.set_path(4, np.array([7.0]), (204, 121, 167))
    QApplication.processEvents()
    loss.set_log_y(False)
    assert not loss.log_check_box().isChecked()
    _, y1 = loss.curve(1).getData()
    assert y1[0] == 2.0
    QApplication.processEvents()


# -- surface geometry (no GL needed) ------------------------------------------------------------


def test_scene_mapping_round_trip_and_height() -> None:
    mapping = SceneMapping((-2.0, 2.0, -1.0, 3.0), low=10.0, high=110.0)
    data = np.array([[-2.0, -1.0, 10.0], [2.0, 3.0, 110.0], [0.5, 1.0, 60.0]])
    scene = mapping.to_scene(data[:, 0], data[:, 1], data[:, 2])
    assert np.allclose(scene[0], [-0.5, -0.5, 0.0])
    assert np.allclose(scene[1], [0.5, 0.5, SURFACE_HEIGHT])
    assert np.allclose(mapping.from_scene(scene), data)
    # A long thin domain fills the unit box instead of becoming a sliver.
    wide = SceneMapping((0.0, 100.0, 0.0, 1.0), low=0.0, high=1.0)
    assert np.allclose(wide.to_scene(100.0, 1.0, 1.0), [0.5, 0.5, SURFACE_HEIGHT])


def test_height_field_bilinear() -> None:
    xs = np.linspace(-1, 1, 5)
    x, y = np.meshgrid(xs, xs, indexing="ij")
    field = HeightField(xs, xs, 0.2 + 0.1 * x - 0.05 * y)
    h = field.height_at(np.array([0.3, -0.9, 2.0]), np.array([0.1, 0.7, 0.0]))
    assert np.allclose(h[:2], [0.2 + 0.03 - 0.005, 0.2 - 0.09 - 0.035])
    assert np.isnan(h[2])


def test_ray_meets_plane_where_expected() -> None:
    xs = np.linspace(-0.5, 0.5, 41)
    x, _ = np.meshgrid(xs, xs, indexing="ij")
    field = HeightField(xs, xs, 0.1 + 0.2 * x)
    origin = np.array([0.0, -2.0, 1.0])
    direction = np.array([0.1, 2.0, -1.0])
    direction /= np.linalg.norm(direction)
    hit = intersect_height_field(origin, direction, field)
    assert hit is not None
    # Solve origin + t d on z = 0.1 + 0.2 x by hand.
    t = (0.1 + 0.2 * origin[0] - origin[2]) / (direction[2] - 0.2 * direction[0])
    assert np.allclose(hit, origin + t * direction, atol=1e-9)
    straight_down = intersect_height_field(np.array([0.2, 0.3, 5.0]), np.array([0, 0, -1.0]), field)
    assert straight_down is not None
    assert np.allclose(straight_down, [0.2, 0.3, 0.14], atol=1e-9)
    assert intersect_height_field(origin, np.array([0.0, 0.0, 1.0]), field) is None  # upwards
    assert intersect_height_field(np.array([3.0, 0, 1]), np.array([0, 0, -1.0]), field) is None


def test_ray_finds_the_first_hill() -> None:
    xs = np.linspace(-0.5, 0.5, 101)
    x, _ = np.meshgrid(xs, xs, indexing="ij")
    field = HeightField(xs, xs, 0.4 * np.exp(-((x + 0.2) ** 2) / 0.005))  # a ridge at x = -0.2
    hit = intersect_height_field(np.array([-1.0, 0.0, 0.3]), np.array([1.0, 0.0, 0.0]), field)
    assert hit is not None and -0.3 < hit[0] < -0.2 and hit[2] == pytest.approx(0.3)


def test_pick_ray_unprojects() -> None:
    identity = np.eye(4)
    origin, direction = pick_ray(identity, identity, 75.0, 25.0, 100.0, 100.0)
    assert np.allclose(origin, [0.5, 0.5, -1.0])
    assert np.allclose(direction, [0.0, 0.0, 1.0])


def test_nice_ticks() -> None:
    assert np.allclose(nice_ticks(-5, 5), [-4, -2, 0, 2, 4])
    assert np.allclose(nice_ticks(0.0, 1.0), [0, 0.2, 0.4, 0.6, 0.8, 1.0])


# -- surface view -------------------------------------------------------------------------------


@pytest.fixture
def surface(qtbot: QtBot) -> SurfaceView:
    view = SurfaceView()
    qtbot.addWidget(view)
    view.resize(640, 480)
    return view


@pytest.mark.gl  # the view holds a QOpenGLWidget: the offscreen platform refuses it
def test_surface_view_maps_landscape_and_paths(surface: SurfaceView) -> None:
    grid = make_grid()
    surface.set_landscape(grid, log=False)
    mapping = surface.scene_mapping()
    assert mapping is not None
    assert mapping.low == pytest.approx(grid.z_min) and mapping.high == pytest.approx(grid.z_max)
    heights = surface.height_field().heights
    assert heights.min() == pytest.approx(0.0) and heights.max() == pytest.approx(SURFACE_HEIGHT)
    path = descent_path((-4.0, 4.0))
    f = himmelblau(path[:, 0], path[:, 1])
    surface.set_path(0, path, f, (230, 159, 0))
    items = surface.path_items(0)
    surface.set_path(0, path, f, (230, 159, 0), current=3)
    assert surface.path_items(0) is items
    pos = items.line.pos
    assert len(pos) == len(path)
    back = mapping.from_scene(pos.astype(np.float64))
    assert np.allclose(back[:, :2], path, atol=1e-4)
    # Never under the surface, whatever f says.
    ground = surface.height_field().height_at(pos[:, 0], pos[:, 1])
    assert np.all(pos[:, 2] >= ground - 1e-6)
    start = mapping.from_scene(items.marks[0].astype(np.float64))
    now = mapping.from_scene(items.marks[1].astype(np.float64))
    assert np.allclose(start[:2], path[0], atol=1e-4) and np.allclose(now[:2], path[3], atol=1e-4)

    surface.set_log_scale(True)
    assert surface.scene_mapping().high == pytest.approx(np.nanmax(grid.transformed(True)))
    assert not np.allclose(surface.path_items(0).line.pos, pos)  # the path followed the scale

    long = np.column_stack([np.linspace(-4, 4, 30_000), np.zeros(30_000)])
    surface.set_path(1, long, np.full(30_000, 1e9), (86, 180, 233))  # f above the range: clipped
    assert len(surface.path_items(1).line.pos) <= MAX_DRAWN_POINTS
    surface.set_highlight(1)
    assert surface.path_items(1).line.width > surface.path_items(0).line.width
    surface.set_pending_starts(np.array([[0.0, 0.0]]), np.array([himmelblau(0.0, 0.0)]))
    surface.remove_path(0)
    assert surface.path_ids() == [1]
    surface.clear_paths()
    assert surface.path_ids() == []


@pytest.mark.gl
def test_surface_view_nan_gaps_without_warnings(surface: SurfaceView) -> None:
    surface.set_landscape(make_grid(gaps=True), log=True)
    heights = surface.height_field().heights
    assert np.isfinite(heights).all()
    colors = surface.surface_item()._meshdata.vertexColors()
    assert colors.shape == (heights.size, 4)
    grey = np.ptp(colors[:, :3], axis=1) < 1e-6  # r = g = b: no viridis colour is grey
    assert 0 < grey.sum() < len(colors)
    surface.set_landscape(make_grid(lambda x, y: np.full_like(x, np.nan)), log=False)
    surface.set_landscape(make_grid(lambda x, y: np.zeros_like(x)), log=False)
    surface.set_path(0, np.array([[0.0, 0.0], [np.nan, 1.0]]), np.array([0.0, np.nan]), (1, 2, 3))


def rendered(view: SurfaceView, qtbot: QtBot) -> np.ndarray:
    """The GL picture as an (h, w, 4) uint8 array (RGBA)."""
    from PySide6.QtGui import QImage

    view.show()
    qtbot.waitExposed(view)
    QApplication.processEvents()
    image = view.render_image().convertToFormat(QImage.Format.Format_RGBA8888)
    data = np.frombuffer(image.constBits(), dtype=np.uint8, count=image.sizeInBytes())
    return data.reshape(image.height(), image.bytesPerLine())[:, : 4 * image.width()].reshape(
        image.height(), image.width(), 4
    ).copy()


@pytest.mark.gl
def test_surface_renders_viridis(surface: SurfaceView, qtbot: QtBot, tmp_path: Path) -> None:
    import pyqtgraph as pg

    surface.set_landscape(make_grid(), log=False)
    path = descent_path((-4.0, 4.0))
    surface.set_path(0, path, himmelblau(*path.T), trajectory_color(0))
    pixels = rendered(surface, qtbot)
    assert pixels.shape[0] > 100 and pixels.shape[1] > 100
    rgb = pixels[..., :3].astype(float)
    assert rgb.std() > 20.0
    # Some pixels look like viridis (shading darkens them: compare hue, not brightness).
    lut = pg.colormap.get(COLORMAP).getLookupTable(nPts=64, alpha=False).astype(float)
    sample = rgb.reshape(-1, 3)[::7]
    bright = sample[sample.max(axis=1) > 60]
    norm = bright / bright.max(axis=1, keepdims=True)
    lut_norm = lut / lut.max(axis=1, keepdims=True)
    distance = np.min(np.linalg.norm(norm[:, None, :] - lut_norm[None, :, :], axis=2), axis=1)
    assert np.mean(distance < 0.08) > 0.2
    target = tmp_path / "surface.png"
    surface.save_png(str(target))
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(OSError, match="could not write"):
        surface.save_png(str(tmp_path / "missing" / "surface.png"))


@pytest.mark.gl
def test_surface_is_rendered_once_while_paths_move(surface: SurfaceView, qtbot: QtBot) -> None:
    """The surface and its floor grid render into a layer of their own: moving paths reuse
    it, and the picture is the one a full render gives."""
    surface.set_landscape(make_grid(), log=False)
    gl_widget = surface.gl_widget()
    path = descent_path((-4.0, 4.0), steps=40)
    surface.set_path(0, path[:10], himmelblau(*path[:10].T), trajectory_color(0))
    rendered(surface, qtbot)
    layers, renders = gl_widget.layer_renders, gl_widget.renders
    for n in (20, 30, 41):
        surface.set_path(0, path[:n], himmelblau(*path[:n].T), trajectory_color(0))
        gl_widget.render_scene()
    assert gl_widget.renders == renders + 3 and gl_widget.layer_renders == layers
    reused = rendered(surface, qtbot)
    surface.surface_item().update()  # as if the surface changed: the layer renders again
    fresh = rendered(surface, qtbot)
    assert gl_widget.layer_renders == layers + 1
    assert np.abs(reused.astype(int) - fresh.astype(int)).max() <= 2
    # A path behind nothing shows in its colour; the camera moving renders the layer again.
    assert pixels_of(fresh[..., :3], trajectory_color(0), tolerance=40) > 20
    gl_widget.orbit(30, 0)
    rendered(surface, qtbot)
    assert gl_widget.layer_renders == layers + 2


@pytest.mark.gl
def test_a_new_landscape_starts_rendering_at_once(surface: SurfaceView, qtbot: QtBot) -> None:
    """set_landscape hands the surface to the GL before it returns (the GL rasterizes while
    the window draws the contour map); the picture finished later is the full one."""
    surface.set_landscape(make_grid(), log=False)
    rendered(surface, qtbot)
    gl_widget = surface.gl_widget()
    layers, renders = gl_widget.layer_renders, gl_widget.renders
    surface.set_landscape(make_grid(lambda x, y: x**2 + 3 * y**2), log=False)
    assert gl_widget.layer_renders == layers + 1 and gl_widget.renders == renders
    picture = rendered(surface, qtbot)
    assert gl_widget.layer_renders == layers + 1 and gl_widget.renders > renders
    assert picture[..., :3].astype(float).std() > 20.0


@pytest.mark.gl
def test_the_window_grab_shows_the_3d_view(surface: SurfaceView, qtbot: QtBot) -> None:
    """The 3D picture is a plain image in the widget: grabbing the widget (as screenshots and
    Save image do) shows it, with its labels and colour bar."""
    surface.set_landscape(make_grid(), log=False)
    rendered(surface, qtbot)
    image = surface.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
    data = np.frombuffer(image.constBits(), dtype=np.uint8).reshape(
        image.height(), image.bytesPerLine())[:, : image.width() * 3]
    assert data.reshape(image.height(), image.width(), 3).astype(float).std() > 20.0


def test_trail_strides_keep_at_most_the_limit_and_grow_by_doubling() -> None:
    from explorer.gui.views.crowd import kept_rows, trail_stride

    for limit in (2, 3, 4, 50, 500, 2000):
        last = 1
        for n in (0, 1, 2, 3, 10, 499, 500, 501, 1000, 1999, 2000, 2001, 10**5, 10**6 + 3):
            stride = trail_stride(n, limit)
            assert stride & (stride - 1) == 0 and stride >= last  # powers of two, growing
            last = stride
            rows = kept_rows(n, stride)
            assert len(rows) <= limit
            if n:
                assert rows[0] == 0 and rows[-1] == n - 1
                assert np.all(np.diff(rows)[:-1] == stride)
            if stride > 1:  # the smallest such power of two
                assert len(kept_rows(n, stride // 2)) > limit


@pytest.mark.gl
@pytest.mark.parametrize("shift", [False, True])
def test_surface_click_from_above_hits_the_centre(
    surface: SurfaceView, qtbot: QtBot, shift
) -> None:
    from PySide6.QtGui import QVector3D

    surface.set_landscape(make_grid(), log=False)
    rendered(surface, qtbot)
    view = surface.gl_widget()
    view.setCameraPosition(pos=QVector3D(0, 0, 0.25), distance=2.0, elevation=90, azimuth=-90)
    centre = QPoint(view.width() // 2, view.height() // 2)
    modifier = Qt.KeyboardModifier.ShiftModifier if shift else Qt.KeyboardModifier.NoModifier
    with qtbot.waitSignal(surface.start_requested, timeout=2000) as blocker:
        qtbot.mouseClick(view, Qt.MouseButton.LeftButton, modifier, centre)
    x, y, add_only = blocker.args
    assert -5.0 <= x <= 5.0 and -5.0 <= y <= 5.0
    assert x == pytest.approx(0.0, abs=0.1) and y == pytest.approx(0.0, abs=0.1)
    assert add_only is shift


@pytest.mark.gl
def test_surface_drag_or_miss_does_not_emit(surface: SurfaceView, qtbot: QtBot) -> None:
    surface.set_landscape(make_grid(), log=False)
    rendered(surface, qtbot)
    view = surface.gl_widget()
    emitted: list[tuple[float, float, bool]] = []
    surface.start_requested.connect(lambda *args: emitted.append(args))
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=QPoint(3, 3))  # the sky
    start = QPoint(view.width() // 2, view.height() // 2)
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(view, start + QPoint(40, 10))
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=start + QPoint(40, 10))
    QApplication.processEvents()
    assert emitted == []


@pytest.mark.gl
def test_surface_click_agrees_with_the_drawn_point(surface: SurfaceView, qtbot: QtBot) -> None:
    grid = make_grid()
    surface.set_landscape(grid, log=False)
    rendered(surface, qtbot)
    mapping = surface.scene_mapping()
    view = surface.gl_widget()
    # Project a known surface point to the screen with the view's own matrices, then pick it.
    x, y = 2.0, -1.0
    d = to_display(himmelblau(np.array(x), np.array(y)), grid.z_min, grid.z_max, False)
    point = mapping.to_scene(x, y, d)
    point[2] = surface.height_field().height_at(point[:1], point[1:2])[0]
    viewport = (0, 0, view.width(), view.height())
    from explorer.gui.views.surface_view import matrix_to_numpy

    clip = (
        matrix_to_numpy(view.projectionMatrix(viewport, viewport))
        @ matrix_to_numpy(view.viewMatrix())
        @ np.append(point, 1.0)
    )
    ndc = clip[:3] / clip[3]
    px = (ndc[0] + 1) / 2 * view.width()
    py = (1 - ndc[1]) / 2 * view.height()
    picked = surface.pick(px, py)
    assert picked is not None
    assert picked[0] == pytest.approx(x, abs=0.1) and picked[1] == pytest.approx(y, abs=0.1)


def test_many_paths_keep_a_halo_only_on_the_selected_one(contour: ContourView) -> None:
    from explorer.gui.views.contour_view import _MAX_HALOED_PATHS

    view = contour
    path = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 1.5]])
    for i in range(_MAX_HALOED_PATHS):
        view.set_path(i, path + i * 0.01, trajectory_color(i))
    assert all(view.path_items(i).halo.isVisible() for i in view.path_ids())
    view.set_path(99, path, trajectory_color(99))
    view.set_highlight(3)
    visible = [i for i in view.path_ids() if view.path_items(i).halo.isVisible()]
    assert visible == [3]
    view.remove_path(99)
    assert all(view.path_items(i).halo.isVisible() for i in view.path_ids())


# -- crowds: many paths, few items --------------------------------------------------------------


def crowd_paths(count: int, steps: int = 12) -> list[np.ndarray]:
    """count short descent paths from a grid of starts over Himmelblau's domain."""
    side = int(np.ceil(np.sqrt(count)))
    starts = [(x, y) for x in np.linspace(-4.5, 4.5, side) for y in np.linspace(-4.5, 4.5, side)]
    return [descent_path(start, steps=steps, lr=0.005) for start in starts[:count]]


def view_image(view: ContourView) -> np.ndarray:
    """The contour view's plot as it looks now, (h, w, 3) bytes."""
    image = view.plot_widget().grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
    rows = np.frombuffer(image.constBits(), dtype=np.uint8).reshape(
        image.height(), image.bytesPerLine())
    return rows[:, : image.width() * 3].reshape(image.height(), image.width(), 3).copy()


def pixels_of(image: np.ndarray, color: tuple[int, int, int], tolerance: int = 12) -> int:
    """How many pixels of image have (about) this colour."""
    return int((np.abs(image.astype(int) - np.array(color)).max(axis=2) <= tolerance).sum())


def test_a_crowd_of_paths_is_drawn_by_one_layer(contour: ContourView) -> None:
    from explorer.gui.views.contour_view import CROWD_PATHS

    plot = contour.plot_widget().getPlotItem()
    before = len(plot.items)
    paths = crowd_paths(300)
    for i, path in enumerate(paths):
        contour.set_path(i, path, trajectory_color(i), current=len(path) - 3)
    contour.flush()
    assert contour.is_crowded() and len(paths) > CROWD_PATHS
    assert len(plot.items) == before  # no items per path: the layer draws them all
    layer = contour.crowd_layer()
    assert layer.isVisible() and layer.keys() == list(range(300))
    for i in (0, 7, 151, 299):
        line, marks, color = layer.trail(i)
        np.testing.assert_allclose(line, paths[i])  # 13 points: none decimated
        np.testing.assert_allclose(marks, [paths[i][0], paths[i][-3]])
        assert color == trajectory_color(i)
    drawn, marks, color = contour.path_data(7)
    np.testing.assert_allclose(drawn, paths[7])
    np.testing.assert_allclose(marks, [paths[7][0], paths[7][-3]])
    assert color == trajectory_color(7)
    # It paints: every colour of the palette shows, where the paths are.
    image = view_image(contour)
    for color in PALETTE:
        assert pixels_of(image, color) > 50, color


def test_the_crowd_layer_strokes_only_what_is_new(contour: ContourView, qtbot: QtBot) -> None:
    """Growing paths add segments to the layer's image; the picture is the one drawn from
    scratch."""
    short, long = crowd_paths(60, steps=12), crowd_paths(60, steps=40)
    np.testing.assert_allclose(long[5][:13], short[5])  # the same descents, further on
    for i, path in enumerate(short):
        contour.set_path(i, path, trajectory_color(i))
    contour.flush()
    view_image(contour)
    layer = contour.crowd_layer()
    redraws = layer.full_redraws
    calls: list[int] = []
    original = layer.update
    layer.update = lambda *a: (calls.append(1), original(*a))  # type: ignore[method-assign]
    for i, path in enumerate(long):
        contour.set_path(i, path, trajectory_color(i))
    assert calls == []  # nothing repainted yet: set_path only stores the path
    qtbot.waitUntil(lambda: len(calls) == 1, timeout=2000)  # the timer flushes once
    grown = view_image(contour)
    assert layer.full_redraws == redraws  # only the new segments were stroked
    layer.invalidate()
    scratch = view_image(contour)
    assert layer.full_redraws == redraws + 1
    differ = (np.abs(grown.astype(int) - scratch.astype(int)).max(axis=2) > 60).mean()
    assert differ < 0.002  # where pieces join, antialiasing may differ by a pixel
    # A path replaced by another from the same start is drawn again, not extended.
    other = long[3].copy()
    other[1:, 0] += 0.3
    contour.set_path(3, other, trajectory_color(3))
    contour.flush()
    view_image(contour)
    assert layer.full_redraws == redraws + 2


def test_selecting_a_crowded_path_gives_it_its_own_items(contour: ContourView) -> None:
    plot = contour.plot_widget().getPlotItem()
    paths = crowd_paths(100)
    for i, path in enumerate(paths):
        contour.set_path(i, path, trajectory_color(i))
    contour.flush()
    layer = contour.crowd_layer()
    crowd_only = len(plot.items)
    with pytest.raises(KeyError):
        contour.path_items(8)
    contour.set_highlight(8)
    items = contour.path_items(8)
    assert len(plot.items) == crowd_only + len(items.items())
    assert items.line.isVisible() and items.halo.isVisible() and items.steps.isVisible()
    np.testing.assert_allclose(np.column_stack(items.line.getData()), paths[8])
    assert items.line.zValue() > layer.zValue()
    assert items.line.opts["pen"].widthF() > 2.0
    # It left the crowd, and the crowd is dimmed.
    assert 8 not in layer.keys() and len(layer.keys()) == 99
    assert layer.alpha() < 255
    # Updates of the selected path go to its own items.
    contour.set_path(8, paths[8][:5], trajectory_color(8))
    assert len(items.line.getData()[0]) == 5
    contour.set_highlight(9)
    with pytest.raises(KeyError):
        contour.path_items(8)
    np.testing.assert_allclose(layer.trail(8)[0], paths[8][:5])  # back in the crowd
    assert 9 not in layer.keys()
    contour.set_highlight(None)
    assert len(plot.items) == crowd_only
    assert sorted(layer.keys()) == list(range(100))
    assert layer.alpha() == 255


def test_removing_crowded_paths_updates_the_crowd_and_dissolves_it(contour: ContourView) -> None:
    from explorer.gui.views.contour_view import CROWD_PATHS

    plot = contour.plot_widget().getPlotItem()
    before = len(plot.items)
    paths = crowd_paths(60)
    for i, path in enumerate(paths):
        contour.set_path(i, path, trajectory_color(i))
    contour.flush()
    layer = contour.crowd_layer()
    contour.remove_path(4)
    contour.flush()
    assert 4 not in layer.keys() and len(layer.keys()) == 59
    assert len(plot.items) == before
    contour.set_highlight(0)
    for i in list(contour.path_ids())[CROWD_PATHS:]:
        contour.remove_path(i)
    contour.flush()
    # Few paths again: each has its own items, the selection kept.
    assert not contour.is_crowded() and len(contour.path_ids()) == CROWD_PATHS
    assert not layer.isVisible() and layer.keys() == []
    for i in contour.path_ids():
        np.testing.assert_allclose(np.column_stack(contour.path_items(i).line.getData()),
                                   paths[i])
    assert contour.path_items(0).line.zValue() > contour.path_items(2).line.zValue()
    contour.clear_paths()
    assert contour.path_ids() == [] and len(plot.items) == before


def test_loss_view_draws_a_crowd_with_one_layer(loss: LossView) -> None:
    plot = loss.plot_widget().getPlotItem()
    before = len(plot.items)
    values = [himmelblau(*path.T) for path in crowd_paths(200)]
    for i, f in enumerate(values):
        loss.set_path(i, f, trajectory_color(i))
    loss.flush()
    layer = loss.crowd_layer()
    assert loss.is_crowded() and len(plot.items) == before and layer.keys() == list(range(200))
    for i in (0, 5, 199):
        line, _, color = layer.trail(i)
        np.testing.assert_allclose(line, np.column_stack([np.arange(13), values[i]]))
        assert color == trajectory_color(i)
    # The plot ranges over the crowd: every step, and f from the lowest to the highest.
    low = min(float(f.min()) for f in values)
    high = max(float(f.max()) for f in values)
    assert layer.dataBounds(0) == (0.0, 12.0) and layer.dataBounds(1) == (low, high)
    QApplication.processEvents()
    (x0, x1), (y0, y1) = plot.getViewBox().viewRange()
    assert x0 <= 0.0 and x1 >= 12.0 and y0 <= low and y1 >= high
    steps, y, color = loss.path_values(5)
    np.testing.assert_allclose(y, values[5])
    assert color == trajectory_color(5) and steps[-1] == len(values[5]) - 1
    loss.set_highlight(5)
    assert loss.curve(5).opts["pen"].widthF() > 2.0
    assert len(plot.items) == before + 1 and 5 not in layer.keys() and layer.alpha() < 255
    loss.set_log_y(True)
    _, y5 = loss.curve(5).getData()
    crowd = layer.trail(0)[0][:, 1]
    assert np.isfinite(y5).all() and np.nanmin(crowd) < np.nanmax(crowd) < 10
    # On the log scale the crowd shows log10(f - min f + offset), like the selected curve.
    floor = min(float(f.min()) for f in values)
    np.testing.assert_allclose(10 ** crowd, values[0] - floor, rtol=1e-6, atol=1e-6)
    for i in range(160):
        loss.remove_path(i)
    loss.flush()
    # Few curves again: each has its own, on the log scale.
    assert not loss.is_crowded() and loss.path_ids() == list(range(160, 200))
    assert layer.keys() == [] and not layer.isVisible()
    _, y = loss.curve(170).getData()
    np.testing.assert_allclose(y, loss.path_values(170)[1])
    loss.clear_paths()
    assert len(plot.items) == before


@pytest.mark.gl
def test_surface_view_draws_a_crowd_with_a_few_shared_items(surface: SurfaceView,
                                                            qtbot: QtBot) -> None:
    surface.show()
    qtbot.waitExposed(surface)
    surface.set_landscape(make_grid(), log=False)
    before = len(surface.gl_widget().items)
    paths = crowd_paths(400)
    for i, path in enumerate(paths):
        surface.set_path(i, path, himmelblau(*path.T), trajectory_color(i))
    surface.flush()
    assert surface.is_crowded()
    crowd = surface.crowd_items()
    assert crowd is not None
    assert len(surface.gl_widget().items) - before == len(crowd.items())  # 8, not 8 per path
    # Segments pair points of one path only, each coloured as its path.
    mapping = surface.scene_mapping()
    pos = crowd.line.pos.reshape(-1, 2, 3)
    assert len(pos) == sum(len(p) - 1 for p in paths)
    line, _, _ = surface.path_data(0)
    np.testing.assert_allclose(mapping.from_scene(line.astype(np.float64))[:, :2], paths[0],
                               atol=1e-4)
    np.testing.assert_allclose(pos[: len(paths[0]) - 1, 0], line[:-1], atol=1e-6)
    colors = crowd.line.color.reshape(-1, 2, 4)
    first = len(paths[0]) - 1
    np.testing.assert_allclose(colors[0, 0, :3], np.array(trajectory_color(0)) / 255, atol=1e-6)
    np.testing.assert_allclose(colors[first, 0, :3], np.array(trajectory_color(1)) / 255,
                               atol=1e-6)
    assert len(crowd.current_dot.pos) == 400
    surface.set_highlight(3)
    assert len(surface.path_items(3).line.pos) == len(paths[3])
    assert len(crowd.current_dot.pos) == 399
    image = surface.render_image()
    assert not image.isNull()
    from explorer.gui.views.surface_view import CROWD_PATHS

    for i in range(400 - CROWD_PATHS):
        surface.remove_path(i)
    surface.flush()
    assert not surface.is_crowded() and len(surface.path_items(399).line.pos) == len(paths[399])
    assert not crowd.line.visible()
    surface.clear_paths()
    assert surface.path_ids() == []


@pytest.mark.gl
def test_surface_lines_are_smooth_unless_the_gl_is_software(
    surface: SurfaceView, qtbot: QtBot
) -> None:
    from OpenGL import GL
    from pyqtgraph.opengl.items.GLLinePlotItem import GLLinePlotItem

    from explorer.gui.views.surface_gl import SOFTWARE_GL

    surface.set_landscape(make_grid(), log=False)
    rendered(surface, qtbot)
    surface.set_path(0, np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 1.5]]), np.zeros(3), (230, 159, 0))
    view = surface.gl_widget()
    view.makeCurrent()
    renderer = GL.glGetString(GL.GL_RENDERER).decode().lower()
    view.doneCurrent()
    assert view.smooth_lines == (not any(word in renderer for word in SOFTWARE_GL))
    lines = [item for item in view.items if isinstance(item, GLLinePlotItem)]
    assert len(lines) >= 4  # the floor grid and the path's own lines
    assert all(item.antialias == view.smooth_lines for item in lines)


def test_the_window_knows_when_a_view_has_painted(qtbot: QtBot) -> None:
    """The window updates one view at a time, each after the last one's repaint: it learns of
    a repaint from a paint event, or from the 3D view's rendered signal."""
    from PySide6.QtCore import QObject, Signal
    from PySide6.QtWidgets import QLabel

    from explorer.gui.model.scheduler import _PaintWatch

    painted: list[QObject] = []
    watch = _PaintWatch(painted.append)
    label = QLabel("x")
    qtbot.addWidget(label)
    label.show()
    qtbot.waitExposed(label)
    watch.watch(label)
    watch.watch(label)  # once only
    painted.clear()
    label.update()
    qtbot.waitUntil(lambda: painted == [label], timeout=2000)

    class Rendering(QLabel):
        rendered = Signal()

    gl_like = Rendering("3D")
    qtbot.addWidget(gl_like)
    watch.watch(gl_like)
    painted.clear()
    gl_like.rendered.emit()
    assert painted == [gl_like]


def test_long_curves_are_stroked_in_pieces_that_look_the_same(qtbot: QtBot) -> None:
    import pyqtgraph as pg

    from explorer.gui.views.curves import PIECE_POINTS, PiecewiseCurveItem

    t = np.arange(300)
    x, y = np.exp(-t / 200) * np.cos(t / 8), np.exp(-t / 200) * np.sin(t / 8)  # a spiral
    images = []
    for kind in (pg.PlotCurveItem, PiecewiseCurveItem):
        plot = pg.PlotWidget()
        qtbot.addWidget(plot)
        plot.resize(300, 300)
        curve = kind(x, y, pen=pg.mkPen((230, 159, 0), width=3), antialias=True)
        plot.addItem(curve)
        plot.setRange(xRange=(-1.1, 1.1), yRange=(-1.1, 1.1), padding=0)
        plot.show()
        qtbot.waitExposed(plot)
        image = plot.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
        rows = np.frombuffer(image.constBits(), dtype=np.uint8).reshape(
            image.height(), image.bytesPerLine())
        images.append(rows[:, : image.width() * 3].astype(int))
        if kind is PiecewiseCurveItem:
            pieces = curve.pieces()
            assert len(pieces) == int(np.ceil((len(x) - 1) / PIECE_POINTS))
            # Consecutive pieces share their end point: no gaps.
            ends = [(p.elementAt(p.elementCount() - 1).x, p.elementAt(p.elementCount() - 1).y)
                    for p in pieces[:-1]]
            starts = [(p.elementAt(0).x, p.elementAt(0).y) for p in pieces[1:]]
            np.testing.assert_allclose(ends, starts)
            assert sum(p.elementCount() for p in pieces) == len(x) + len(pieces) - 1
    plain, pieces_image = images
    assert pixels_of(plain.reshape(300, 300, 3).astype(np.uint8), (230, 159, 0)) > 500
    differ = (np.abs(plain - pieces_image) > 60).mean()
    assert differ < 0.002


def test_the_loss_plot_range_moves_in_round_steps(loss: LossView) -> None:
    """The loss plot's auto range grows to round step counts and rounds f outwards, so that
    it (and its axes) stay put for many frames while paths descend."""
    from explorer.gui.views.loss_view import round_out, round_up_steps

    assert [round_up_steps(s) for s in (1, 7, 10, 11, 101, 151, 499, 501, 2001)] == [
        1, 8.0, 10.0, 12.5, 125.0, 200.0, 500.0, 600.0, 2500.0]
    assert round_out(0.0012, 386.7) == (0.0, 400.0)
    assert round_out(-3.2, 2.5) == (-4.0, 3.0)
    assert round_out(5.0, 5.0) == (5.0, 5.0)
    view = loss.plot_widget().getPlotItem().getViewBox()
    ranges = []
    f = 300.0 * np.exp(-np.arange(400) / 60.0)
    for n in range(120, 400, 20):  # one path growing, f falling
        loss.set_path(0, f[:n], trajectory_color(0))
        QApplication.processEvents()
        ranges.append(tuple(map(tuple, view.viewRange())))
    (x0, x1), (y0, y1) = ranges[-1]
    assert x0 <= 0.0 and x1 >= 399 and y0 <= f.min() and y1 >= f.max()
    # 14 frames, but x only takes the round ends (125, 150, 200, 250, 300, 400) and f's
    # rounded range hardly moves.
    ends = {round_up_steps(n - 1) for n in range(120, 400, 20)}
    assert len({x for x, _ in ranges}) == len(ends) < len(ranges)
    assert len({y for _, y in ranges}) <= 2


def test_each_of_twenty_paths_is_drawn_over_a_wider_dark_outline(contour: ContourView) -> None:
    """The first twenty runs (all their colours different) each have a halo under the line."""
    count = len(PALETTE)
    for i in range(count):
        angle = 2 * np.pi * i / count
        path = np.column_stack([np.linspace(0, 4 * np.cos(angle), 12),
                                np.linspace(0, 4 * np.sin(angle), 12)])
        contour.set_path(i, path, trajectory_color(i), current=len(path) - 1)
    contour.flush()
    for i in range(count):
        items = contour.path_items(i)
        halo, line = items.halo.opts["pen"], items.line.opts["pen"]
        assert items.halo.isVisible(), i
        assert halo.color().getRgb()[:3] == OUTLINE_COLOR
        assert line.color().getRgb()[:3] == trajectory_color(i)
        assert halo.widthF() > line.widthF()
        assert items.halo.zValue() < items.line.zValue()  # underneath
