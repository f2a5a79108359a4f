"""A model's loss grid is computed off the GUI thread (GridJob): a coarse grid is drawn first,
the event loop runs while the full one computes, the full one equals ModelLandscape.grid(n),
and a new choice cancels the old computation (issue 15)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from PySide6.QtCore import QTimer
from pytestqt.qtbot import QtBot

from explorer.core.landscape import LandscapeGrid
from explorer.core.model_landscape import GridCancelled, ModelLandscape
from explorer.core.models import get_model
from explorer.gui import model_mode
from explorer.gui.main_window import MainWindow
from explorer.gui.model_mode import (
    COARSE_GRID,
    COARSE_WORK,
    MODEL_GRID,
    grid_size,
    grid_sizes,
)
from explorer.io.dataset_csv import bundled_datasets, load_dataset

pytestmark = pytest.mark.window(surface=False)


def _write_logistic(path: Path, rows: int) -> None:
    rng = np.random.default_rng(11)
    x = rng.normal(0.0, 2.0, rows)
    label = (rng.random(rows) < 1.0 / (1.0 + np.exp(-(1.5 * x - 0.5)))).astype(float)
    np.savetxt(path, np.column_stack([x, label]), delimiter=",", header="x,label",
               comments="", fmt="%.17g")


class _Gate:
    """Holds every grid computed off the GUI thread until opened; records how each ended."""

    def __init__(self) -> None:
        self.opened = threading.Event()
        self.entered = threading.Event()
        self.ended: list[str] = []

    def wrap(self, grid: Callable[..., LandscapeGrid]) -> Callable[..., LandscapeGrid]:
        def gated(landscape: ModelLandscape, n: int,
                  should_stop: Callable[[], bool] | None = None) -> LandscapeGrid:
            if threading.current_thread() is threading.main_thread():
                return grid(landscape, n, should_stop)
            self.entered.set()
            assert self.opened.wait(30)
            try:
                result = grid(landscape, n, should_stop)
            except GridCancelled:
                self.ended.append("cancelled")
                raise
            self.ended.append(f"grid {n}")
            return result

        return gated


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> Iterator[_Gate]:
    gate = _Gate()
    monkeypatch.setattr(ModelLandscape, "grid", gate.wrap(ModelLandscape.grid))
    yield gate
    gate.opened.set()  # never leave a thread waiting


def _show(window: MainWindow, model: str, path: Path | str) -> None:
    window.model_mode.panel.select(model, str(path))
    window.model_mode.panel.apply()
    assert window.model_mode.panel.error_text() == ""


def _ticks_while_computing(window: MainWindow, qtbot: QtBot, gate: _Gate) -> int:
    """Event-loop turns counted by a timer while the full grid is held computing."""
    ticks = [0]
    timer = QTimer()
    timer.setInterval(0)
    timer.timeout.connect(lambda: ticks.__setitem__(0, ticks[0] + 1))
    timer.start()
    qtbot.waitUntil(lambda: ticks[0] >= 25 and gate.entered.is_set(), timeout=20_000)
    timer.stop()
    assert window.model_mode.grid_computing()
    return ticks[0]


def test_a_coarse_grid_first_the_loop_runs_and_the_full_grid_is_the_landscapes(
        window: MainWindow, qtbot: QtBot, tmp_path: Path, gate: _Gate) -> None:
    data = tmp_path / "classes.csv"
    _write_logistic(data, 3000)
    _show(window, "logistic", data)
    # Drawn at once: the coarse grid, on the map too.
    coarse = window.document.grid
    assert coarse is not None and coarse.z.shape == (COARSE_GRID, COARSE_GRID)
    assert window.contour.image_item().image.shape == (COARSE_GRID, COARSE_GRID)
    assert _ticks_while_computing(window, qtbot, gate) >= 25
    gate.opened.set()
    n = grid_size(3000, from_sums=False)
    qtbot.waitUntil(lambda: not window.model_mode.grid_computing(), timeout=30_000)
    grid = window.document.grid
    assert grid is not None and grid.z.shape == (n, n) and n > COARSE_GRID
    assert window.contour.image_item().image.shape == (n, n)
    # The same numbers as the landscape's own grid, computed here on a fresh landscape.
    spec = get_model("logistic")
    expected = ModelLandscape(spec, load_dataset(str(data), spec)).grid(n)
    assert np.array_equal(grid.xs, expected.xs) and np.array_equal(grid.ys, expected.ys)
    assert np.array_equal(grid.z, expected.z)
    assert gate.ended == [f"grid {n}"]


def test_data_too_large_for_any_grid_at_once_says_so_then_draws_coarse_to_fine(
        window: MainWindow, qtbot: QtBot, tmp_path: Path, gate: _Gate,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(model_mode, "MAX_GRID_WORK", 40 * 40 * 40_000)  # a 40 x 40 full grid
    data = tmp_path / "many.csv"
    _write_logistic(data, 40_000)
    _show(window, "logistic", data)
    assert window.document.is_model and window.document.grid is None
    assert window.contour.hint_text().startswith("Computing the loss over w, b on 40000 rows")
    gate.opened.set()
    qtbot.waitUntil(lambda: not window.model_mode.grid_computing(), timeout=30_000)
    grid = window.document.grid
    assert grid is not None and grid.z.shape == (40, 40)
    assert gate.ended == ["grid 8", "grid 24", "grid 40"]
    assert not window.contour.hint_text().startswith("Computing")


def test_a_new_choice_cancels_the_old_computation(
        window: MainWindow, qtbot: QtBot, tmp_path: Path, gate: _Gate) -> None:
    data = tmp_path / "classes.csv"
    _write_logistic(data, 3000)
    _show(window, "logistic", data)
    qtbot.waitUntil(gate.entered.is_set, timeout=20_000)
    _show(window, "linear", bundled_datasets()["regression"])  # from sums: drawn at once
    linear = window.document.grid
    assert linear is not None and linear.z.shape == (MODEL_GRID, MODEL_GRID)
    assert not window.model_mode.grid_computing()
    gate.opened.set()
    qtbot.waitUntil(lambda: window.model_mode.grids.thread_count() == 0, timeout=30_000)
    assert gate.ended == ["cancelled"]
    assert window.document.grid is linear


@given(st.integers(min_value=-5, max_value=10**12), st.booleans())
def test_grid_sizes_go_coarse_to_full_and_only_a_cheap_one_is_drawn_at_once(
        rows: int, from_sums: bool) -> None:
    sizes = grid_sizes(rows, from_sums)
    assert sizes[-1] == grid_size(rows, from_sums)
    assert list(sizes) == sorted(set(sizes))
    if from_sums:
        assert sizes == (MODEL_GRID,)
    else:
        # The coarse grid comes first unless the full one is no finer; below it, a cheaper one
        # only where the coarse one costs more than COARSE_WORK row evaluations.
        assert len(sizes) == 1 or COARSE_GRID in sizes
        assert (sizes[0] < COARSE_GRID) == (len(sizes) > 1
                                            and COARSE_GRID**2 * max(rows, 0) > COARSE_WORK)
