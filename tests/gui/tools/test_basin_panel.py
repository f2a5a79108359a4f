"""The basins-of-attraction tool: computes off the GUI thread, draws the map, reports, cancels."""

from __future__ import annotations

import math
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.qtbot import QtBot

from explorer.core.basin import DIVERGED, PLATEAU, UNFINISHED, BasinMap, label_colour
from explorer.core.presets import get_preset
from explorer.gui.main_window import MainWindow
from explorer.gui.model.minima_table import SHARE_HEADER
from explorer.gui.tools.basin_panel import BasinPanel
from explorer.io.png import SIGNATURE

HIMMELBLAU = get_preset("himmelblau")
# Long enough that it is surely still computing when the test acts: 256 x 256 starts.
LONG_GRID, LONG_STEPS = 256, 20_000
# The window (no 3D view) on Himmelblau with Adam in the controls, animating paths.
pytestmark = pytest.mark.window(surface=False, instant=False, optimizer="adam")


def open_panel(qtbot: QtBot, window: MainWindow) -> BasinPanel:
    """Tools > Basins of attraction, by its shortcut."""
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    qtbot.keyClick(window, Qt.Key.Key_B, Qt.KeyboardModifier.ControlModifier)
    panel = window.findChild(BasinPanel)
    assert panel is not None and panel.isVisible()
    return panel


def compute(qtbot: QtBot, panel: BasinPanel, n: int = 24, lr: float = 0.1,
            steps: int = 150) -> BasinMap:
    """Compute a map and wait for it to be shown."""
    panel.set_grid_size(n)
    panel.set_lr(lr)
    panel.set_steps(steps)
    with qtbot.waitSignal(panel.job().finished, timeout=60_000):
        assert panel.compute()
    assert not panel.is_running()
    result = panel.shown_map()
    assert result is not None
    return result


def start_long(qtbot: QtBot, panel: BasinPanel) -> None:
    """Start a map that takes far longer than the test, and wait until it reports progress."""
    panel.set_grid_size(LONG_GRID)
    panel.set_steps(LONG_STEPS)
    with qtbot.waitSignal(panel.job().progressed, timeout=30_000):
        assert panel.compute()
    assert panel.is_running() and panel.job().thread_count() == 1


def table_rows(panel: BasinPanel) -> list[tuple[int, list[str]]]:
    """(label, cell texts) per row: label is a minimum's index, DIVERGED or UNFINISHED."""
    model = panel.table().model()
    rows = []
    for row in range(model.rowCount()):
        label = model.index(row, 0).data(Qt.ItemDataRole.UserRole)
        rows.append((int(label), [model.index(row, c).data() for c in range(model.columnCount())]))
    return rows


def screen_colour(window: MainWindow, x: float, y: float) -> tuple[int, int, int]:
    """The most common colour of the rendered contour map in a small patch around (x, y)."""
    plot = window.contour.plot_widget()
    box = plot.getPlotItem().getViewBox()
    pos = plot.mapFromScene(box.mapViewToScene(QPointF(x, y)))
    image = plot.grab().toImage()
    scale = image.devicePixelRatio()
    cx, cy = round(pos.x() * scale), round(pos.y() * scale)
    colours = Counter(
        image.pixelColor(cx + dx, cy + dy).getRgb()[:3]
        for dx in range(-3, 4) for dy in range(-3, 4)
    )
    return colours.most_common(1)[0][0]


def test_himmelblau_map_lists_four_minima_and_draws_them_the_right_way_up(
    qtbot: QtBot, window: MainWindow
) -> None:
    panel = open_panel(qtbot, window)
    result = compute(qtbot, panel)
    total = 24 * 24

    # The table: the four known minima, then diverged and unfinished; counts add up.
    assert panel.table().model().headerData(4, Qt.Orientation.Horizontal) == SHARE_HEADER
    rows = table_rows(panel)
    minima = [(label, cells) for label, cells in rows if label >= 0]
    assert len(minima) == 4
    assert [label for label, _ in rows[4:]] == [DIVERGED, UNFINISHED]
    for known in HIMMELBLAU.minima:
        assert any(abs(float(cells[1]) - known.x) < 1e-5 and abs(float(cells[2]) - known.y) < 1e-5
                   for _, cells in minima), known
    counts = [int(re.search(r"\((\d+) of (\d+)\)", cells[4]).group(1)) for _, cells in rows]
    assert sum(counts) == total
    assert all(c > 0 for c in counts[:4])
    shares = [m.share for m in result.minima]
    assert sum(shares) + result.diverged_share + result.unfinished_share == pytest.approx(1.0)
    assert "100.0%" in panel.summary_text()  # all four are global minima, f = 0
    assert "known global minimum of the Himmelblau preset" in panel.summary_text()

    # The layer: one pixel per start, [ix, iy], each in its label's colour.
    overlay = panel.overlay()
    image = overlay.image_item().image
    assert image.shape == (24, 24, 4)
    assert overlay.image_item().isVisible()
    assert len(overlay.number_items()) == 4
    assert [item.toPlainText() for item in overlay.number_items()] == ["1", "2", "3", "4"]
    for index, m in enumerate(result.minima):
        # The pixel under the minimum, found through the item's own mapping from the view.
        pixel = overlay.image_item().mapFromView(QPointF(m.x, m.y))
        ix, iy = int(pixel.x()), int(pixel.y())
        assert tuple(image[ix, iy, :3]) == label_colour(index)
        assert result.labels[ix, iy] == index

    # On screen, opaque: a start well inside each basin shows that basin's colour. The starts
    # chosen have the same label all around and lie away from the marker and its number.
    panel.opacity_slider().setValue(100)
    assert overlay.opacity() == 1.0
    xs, ys, labels = result.xs, result.ys, result.labels
    for index, m in enumerate(result.minima):
        ix, iy = next(
            (ix, iy)
            for ix in range(1, 23) for iy in range(1, 23)
            if (labels[ix - 1:ix + 2, iy - 1:iy + 2] == index).all()
            and 0.8 < math.hypot(xs[ix] - m.x, ys[iy] - m.y) < 2.5
        )
        assert screen_colour(window, xs[ix], ys[iy]) == label_colour(index), (index, ix, iy)
    # The contour lines stay visible above the layer.
    contours = window.contour.contour_item()
    assert contours is not None and contours.isVisible()
    assert contours.zValue() > overlay.image_item().zValue()


def test_a_constant_function_is_a_plateau_not_minima(qtbot: QtBot, window: MainWindow) -> None:
    window.function.set_function("1 + 0*x", (-1.0, 1.0, -1.0, 1.0))
    assert window.function.apply()
    panel = open_panel(qtbot, window)
    result = compute(qtbot, panel, n=8, steps=10)
    assert result.minima == () and result.plateau_share == 1.0
    rows = table_rows(panel)
    assert [label for label, _ in rows] == [DIVERGED, UNFINISHED, PLATEAU]
    assert rows[-1][1][0] == "plateau" and "(64 of 64)" in rows[-1][1][4]
    summary = panel.summary_text()
    assert "No start point reached an isolated minimum" in summary
    assert "On a plateau" in summary and "100.0%" in summary
    image = panel.overlay().image_item().image
    assert (image[..., :3].reshape(-1, 3) == label_colour(PLATEAU)).all()
    assert panel.overlay().number_items() == [] or not any(
        item.isVisible() for item in panel.overlay().number_items()
    )


def test_the_minima_table_fits_its_texts(qtbot: QtBot, window: MainWindow) -> None:
    panel = open_panel(qtbot, window)
    compute(qtbot, panel)
    table = panel.table()
    columns = table.model().columnCount()
    # Each column is at least as wide as its widest cell (no "-3.7…"); the last one stretches.
    for column in range(columns):
        assert table.columnWidth(column) >= table.sizeHintForColumn(column), column
    compute(qtbot, panel, n=16)  # rows changed in place: measured again
    for column in range(columns):
        assert table.columnWidth(column) >= table.sizeHintForColumn(column), column


def test_toggle_opacity_and_the_controls_defaults(qtbot: QtBot, window: MainWindow) -> None:
    controls = window.controls
    controls.set_lr(0.05)
    controls.set_limits(321, 1e-8, False)
    panel = open_panel(qtbot, window)
    settings = panel.run_settings()
    assert (settings.optimizer, settings.lr, settings.steps) == ("adam", 0.05, 321)
    controls.set_lr(0.02)
    controls.set_limits(400, 1e-8, False)
    assert (panel.run_settings().lr, panel.run_settings().steps) == (0.02, 400)
    panel.set_lr(0.1)  # edited here: no longer follows the controls
    controls.set_lr(0.03)
    assert panel.run_settings().lr == 0.1

    compute(qtbot, panel, n=12, steps=100)
    overlay = panel.overlay()
    check = panel.show_check_box()
    check.setChecked(False)
    assert not overlay.image_item().isVisible() and not overlay.marker_item().isVisible()
    check.setChecked(True)
    assert overlay.image_item().isVisible() and overlay.marker_item().isVisible()
    panel.opacity_slider().setValue(30)
    assert overlay.image_item().opacity() == pytest.approx(0.3)


def test_lbfgs_is_refused_in_words(qtbot: QtBot, window: MainWindow) -> None:
    window.controls.set_optimizer("lbfgs")
    panel = open_panel(qtbot, window)
    assert not panel.compute()
    assert "cannot run a grid" in panel.status_text()
    assert panel.job().thread_count() == 0


def test_cancel_stops_within_a_fraction_of_a_second(qtbot: QtBot, window: MainWindow) -> None:
    panel = open_panel(qtbot, window)
    start_long(qtbot, panel)
    panel.cancel()
    assert not panel.is_running()
    qtbot.waitUntil(lambda: panel.job().thread_count() == 0, timeout=1_000)
    assert panel.shown_map() is None and panel.overlay().image_item().image is None
    assert "Cancelled" in panel.status_text()
    # The window kept working, and a new map computes after the cancelled one.
    compute(qtbot, panel, n=8, steps=50)
    assert panel.overlay().image_item().image.shape == (8, 8, 4)


def test_changing_the_function_cancels_and_drops_the_old_map(
    qtbot: QtBot, window: MainWindow
) -> None:
    panel = open_panel(qtbot, window)
    old = compute(qtbot, panel, n=8, steps=50)
    start_long(qtbot, panel)
    assert window.function.choose_preset("rosenbrock")
    assert not panel.is_running()
    qtbot.waitUntil(lambda: panel.job().thread_count() == 0, timeout=2_000)
    assert panel.shown_map() is None and panel.table().model().rowCount() == 0
    assert not panel.overlay().is_visible()
    assert "function or domain changed" in panel.status_text()
    # A late answer from the old function is dropped.
    panel.job().finished.emit(old)
    assert panel.shown_map() is None and panel.overlay().image_item().image is None


def test_opening_a_session_cancels(qtbot: QtBot, window: MainWindow) -> None:
    panel = open_panel(qtbot, window)
    state = window.session.state()
    start_long(qtbot, panel)
    assert window.session.restore(state)
    assert not panel.is_running()
    qtbot.waitUntil(lambda: panel.job().thread_count() == 0, timeout=2_000)
    assert panel.shown_map() is None


def test_closing_the_window_mid_run_joins_the_thread(qtbot: QtBot, window: MainWindow) -> None:
    panel = open_panel(qtbot, window)
    job = panel.job()
    start_long(qtbot, panel)
    window.close()
    # Joined because it was told to stop: 256 x 256 starts of 20,000 steps would take minutes.
    assert job.thread_count() == 0 and not job.running
    assert panel.shown_map() is None
    assert not panel.isVisible()


def _answer_stop(window: MainWindow, answer: QMessageBox.StandardButton) -> list[list[str]]:
    """Answer the "stop the tools?" question with answer; the questions asked, in order."""
    asked: list[list[str]] = []

    def ask(running: list[str]) -> QMessageBox.StandardButton:
        asked.append(list(running))
        return answer

    window.lab.ask_stop = ask
    return asked


def test_quit_while_a_map_computes_asks_once_and_cancel_keeps_it(
    qtbot: QtBot, window: MainWindow
) -> None:
    panel = open_panel(qtbot, window)
    earlier = compute(qtbot, panel)
    job = panel.job()
    start_long(qtbot, panel)
    asked = _answer_stop(window, QMessageBox.StandardButton.Cancel)
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    qtbot.keyClick(window, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    assert asked == [["a basin map"]]
    # Cancelled: the window, the map computing and the map shown are all as they were.
    assert window.isVisible() and panel.isVisible()
    assert panel.is_running() and job.running and job.thread_count() == 1
    assert panel.shown_map() is earlier
    with qtbot.waitSignal(job.progressed, timeout=30_000):
        pass  # still computing
    # Accepted: every job stops and its thread is joined before the window goes.
    asked = _answer_stop(window, QMessageBox.StandardButton.Yes)
    window.close()
    assert asked == [["a basin map"]]
    assert not window.isVisible()
    assert job.thread_count() == 0 and not job.running


def test_opening_a_session_while_a_map_computes_asks_and_cancel_keeps_the_map(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    panel = open_panel(qtbot, window)
    earlier = compute(qtbot, panel)
    path = tmp_path / "other.json"
    assert window.sessions.save_to(path)
    start_long(qtbot, panel)
    asked = _answer_stop(window, QMessageBox.StandardButton.Cancel)
    assert not window.sessions.open_from(path)
    assert asked == [["a basin map"]]
    assert panel.is_running() and panel.shown_map() is earlier
    asked = _answer_stop(window, QMessageBox.StandardButton.Yes)
    assert window.sessions.open_from(path)
    assert asked == [["a basin map"]]
    assert not panel.is_running()
    qtbot.waitUntil(lambda: panel.job().thread_count() == 0, timeout=2_000)


def test_save_png_and_a_clear_error_when_unwritable(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    panel = open_panel(qtbot, window)
    compute(qtbot, panel, n=16, steps=100)
    path = tmp_path / "basins.png"
    assert panel.save_png(str(path))
    data = path.read_bytes()
    assert data.startswith(SIGNATURE)
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert width == height == 16 * (512 // 16)

    bad = tmp_path / "no such folder" / "basins.png"
    assert not panel.save_png(str(bad))
    box = window.error_box()
    assert box is not None and box.isVisible()
    assert "no such folder" in box.text() and "Nothing was written" in box.text()
    assert not bad.exists()
    box.close()


def test_map_rgba_matches_the_core_colours() -> None:
    from explorer.core.basin import basin_map
    from explorer.core.expression import parse
    from explorer.core.trajectory import RunSettings
    from explorer.gui.views.basin_overlay import basin_rect, basin_rgba

    result = basin_map(parse("x**2 + y**2").evaluate, (-1.0, 1.0, -2.0, 2.0),
                       RunSettings(optimizer="sgd", lr=0.1, steps=200), n=5)
    rgba = basin_rgba(result)
    assert rgba.shape == (5, 5, 4) and (rgba[..., 3] == 255).all()
    assert (rgba[..., :3] == np.array(label_colour(0), dtype=np.uint8)).all()
    rect = basin_rect(result)
    # Pixels are centred on the starts: half a grid step beyond the domain on every side.
    assert (rect.left(), rect.right()) == pytest.approx((-1.25, 1.25))
    assert (rect.top(), rect.bottom()) == pytest.approx((-2.5, 2.5))
