"""Model on data in the window: the loss over the parameters drawn and trained where clicked,
the data view following the path, minibatch runs as core.fitting.fit computes them, sessions
that refuse a changed data file, and bad data refused in one line with nothing changed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pytestqt.qtbot import QtBot

from explorer.core.trajectory import Status
from explorer.gui.main_window import MainWindow
from explorer.gui.model.run_table import STATUS_COLUMN
from explorer.gui.model.shown import ShownTrajectory
from explorer.gui.panels.model_panel import FitOptions
from explorer.io.dataset_csv import bundled_datasets
from explorer.io.trajectory_csv import read_trajectories, write_trajectories
from tests.gui.helpers import click_at, wait_idle

pytestmark = pytest.mark.window(surface=False)


def _write_linear(path: Path, n: int = 60, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A small regression set with x in [-1, 1] (plain SGD converges fast on it)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.0, 1.0, n)
    y = 2.0 * x + 1.0 + 0.1 * rng.normal(size=n)
    np.savetxt(path, np.column_stack([x, y]), delimiter=",", header="x,y", comments="",
               fmt="%.17g")
    return x, y


def _show(window: MainWindow, model: str, path: Path | str) -> None:
    window.model_mode.panel.select(model, str(path))
    window.model_mode.panel.apply()
    assert window.model_mode.panel.error_text() == ""
    assert window.document.is_model


def _lstsq(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.linalg.lstsq(np.column_stack([x, np.ones_like(x)]), y, rcond=None)[0]


def _inside(window: MainWindow, u: float = 0.25, v: float = 0.3) -> tuple[float, float]:
    """A point of the map's domain at fractions u, v of its width and height."""
    xmin, xmax, ymin, ymax = window.document.domain
    return xmin + u * (xmax - xmin), ymin + v * (ymax - ymin)


def _one_minibatch_path(window: MainWindow, qtbot: QtBot, tmp_path: Path, rows: int,
                        options: FitOptions) -> list[ShownTrajectory]:
    """Show linear on rows of fresh data, click once with these fit options, wait for it."""
    data = tmp_path / "line.csv"
    _write_linear(data, n=rows)
    _show(window, "linear", data)
    window.model_mode.panel.set_options(options)
    click_at(qtbot, window.contour, *_inside(window))
    qtbot.waitUntil(lambda: len(window.runner.store.paths) == 1, timeout=30_000)
    wait_idle(qtbot, window)
    return list(window.runner.store.paths.values())


def fit_status(window: MainWindow, shown: ShownTrajectory) -> str:
    """The status word core.fitting gives this path when run again from its start."""
    from explorer.core.fitting import FitSettings, fit

    landscape = window.model_mode.landscape
    assert landscape is not None
    run, options = window.controls.run_settings(), window.model_mode.options()
    return fit(landscape, shown.start, FitSettings(
        run.optimizer, run.lr, run.params, options.batch_size, options.epochs, options.seed,
        run.tol, run.bound)).status


def _axis_names(window: MainWindow) -> tuple[str, str]:
    item = window.contour.plot_widget().getPlotItem()
    return item.getAxis("bottom").labelText, item.getAxis("left").labelText


@pytest.mark.parametrize("model", ["linear", "logistic", "neuron", "deeplinear"])
def test_each_model_on_bundled_data_is_drawn_over_its_parameters(
        window: MainWindow, model: str) -> None:
    from explorer.core.models import get_model

    data = {"logistic": "classification", "neuron": "plateau"}.get(model, "regression")
    _show(window, model, bundled_datasets()[data])
    grid = window.document.grid
    assert grid is not None and grid.finite_fraction == 1.0
    assert _axis_names(window) == get_model(model).params
    # The grid holds the full-data loss: check a corner against the formula by numpy.
    landscape = window.model_mode.landscape
    assert landscape is not None
    spec, x, y = landscape.model, landscape.data.x, landscape.data.y
    w, b = grid.xs[0], grid.ys[-1]
    if model == "linear":
        expected = np.mean((w * x + b - y) ** 2)
    elif model == "logistic":
        z = w * x + b
        expected = np.mean(np.logaddexp(z, 0.0) - y * z)
    elif model == "neuron":
        expected = np.mean((1 / (1 + np.exp(-(w * x + b))) - y) ** 2)
    else:
        expected = np.mean((b * w * x - y) ** 2)
    assert grid.z[0, -1] == pytest.approx(expected, rel=1e-9)
    # The data view shows the points; a function brings the x, y axes back.
    assert window.model_mode.data_view.point_count() == len(x)
    # The tools and the inspector work on a model as on a function (issue 15).
    actions = [*window.menus.tools.actions(), window.menus.inspect]
    assert all(action.isEnabled() for action in actions)
    # The function panel says its function is not the one drawn, and how to draw it.
    assert not window.function.is_drawn()
    window.function.choose_preset("himmelblau")
    assert not window.document.is_model
    assert _axis_names(window) == ("x", "y")
    assert window.function.is_drawn()
    assert all(action.isEnabled() for action in actions)
    assert spec.name == model


def test_linear_full_batch_click_ends_at_the_least_squares_point(
        window: MainWindow, qtbot: QtBot, tmp_path: Path) -> None:
    path = tmp_path / "line.csv"
    x, y = _write_linear(path)
    _show(window, "linear", path)
    best = _lstsq(x, y)
    marker = window.model_mode._marker.getData()
    assert np.allclose([marker[0][0], marker[1][0]], best, atol=1e-12)
    window.controls.set_optimizer("sgd")
    window.controls.set_lr(0.5)
    window.controls.set_limits(5000, 1e-12, False)
    xmin, xmax, ymin, ymax = window.document.domain
    start = click_at(qtbot, window.contour, xmin + 0.2 * (xmax - xmin), ymin + 0.8 * (ymax - ymin))
    wait_idle(qtbot, window)
    (shown,) = window.runner.store.paths.values()
    assert np.allclose(shown.xy[0], start)
    assert np.abs(shown.xy[shown.received - 1] - best).max() < 1e-8
    # The data view draws the fit at the path's end: the line w*x + b.
    data_view = window.model_mode.data_view
    assert data_view.fit_params() == pytest.approx(tuple(shown.xy[shown.received - 1]))
    xs, ys = data_view.curve_data()
    end = shown.xy[shown.received - 1]
    assert np.allclose(ys, end[0] * xs + end[1])


def test_minibatch_path_is_core_fit_and_differs_from_the_full_batch(
        window: MainWindow, qtbot: QtBot, tmp_path: Path) -> None:
    from explorer.core.fitting import FitSettings, fit

    path = tmp_path / "line.csv"
    _write_linear(path, n=40)
    _show(window, "linear", path)
    window.controls.set_optimizer("sgd")
    window.controls.set_lr(0.1)
    window.model_mode.panel.set_options(FitOptions(8, 4, 3))
    xmin, xmax, ymin, ymax = window.document.domain
    start = click_at(qtbot, window.contour, xmin + 0.3 * (xmax - xmin), ymin + 0.3 * (ymax - ymin))
    qtbot.waitUntil(lambda: len(window.runner.store.paths) == 1, timeout=30_000)
    wait_idle(qtbot, window)
    (shown,) = window.runner.store.paths.values()
    landscape = window.model_mode.landscape
    assert landscape is not None
    run = window.controls.run_settings()
    expected = fit(landscape, start, FitSettings(run.optimizer, run.lr, run.params, 8, 4, 3,
                                                 run.tol))
    steps = shown.received
    assert steps == len(expected.params) == 4 * 5 + 1  # 40 rows, batches of 8, 4 epochs
    assert np.abs(shown.xy[:steps] - expected.params).max() < 1e-12
    assert np.abs(shown.f[:steps] - expected.loss).max() < 1e-12
    # The loss plot draws the batch loss beside the full-data loss.
    curve = window.model_mode.batch_curve(shown.path_id)
    assert curve is not None
    _, batch = curve.getData()
    assert np.isnan(batch[0]) and np.allclose(batch[1:], np.asarray(expected.batch_loss)[-20:])
    # The same start and rate on the full data set, 20 steps: another, smooth path.
    window.model_mode.panel.set_options(FitOptions(None, 4, 3))
    window.controls.set_limits(20, 1e-12, False)
    window.runner.start_runs([start])
    wait_idle(qtbot, window)
    full = window.runner.store.paths[max(window.runner.store.paths)]
    assert full.received == steps
    assert np.abs(full.xy[:steps] - shown.xy[:steps]).max() > 1e-3


def test_data_view_follows_the_animated_path_and_its_minibatch(
        window: MainWindow, qtbot: QtBot, tmp_path: Path) -> None:
    (shown,) = _one_minibatch_path(window, qtbot, tmp_path, 30, FitOptions(7, 2, 1))
    fit_path = window.model_mode.fit_path(shown.path_id)
    assert fit_path is not None and len(fit_path.batches) == 2 * 5  # 30 rows: 4 of 7, 1 of 2
    view = window.model_mode.data_view
    for k in (1, 2, 6, shown.received):
        shown.shown = k  # as the animation reveals it
        window.model_mode.path_drawn(shown)
        w, b = shown.xy[k - 1]
        assert view.fit_params() == (w, b)
        xs, ys = view.curve_data()
        assert np.allclose(ys, w * xs + b)
        rows = view.batch_rows()
        if k == 1:
            assert len(rows) == 0  # the start: no step taken yet
        else:
            assert np.array_equal(rows, fit_path.batches[k - 2])


def test_session_round_trip_and_a_changed_data_file_is_refused(
        window: MainWindow, qtbot: QtBot, tmp_path: Path) -> None:
    data = tmp_path / "line.csv"
    _write_linear(data)
    _show(window, "linear", data)
    window.controls.set_lr(0.3)
    window.model_mode.panel.set_options(FitOptions(None, 3, 9))
    click_at(qtbot, window.contour, *_inside(window, 0.7, 0.6))
    wait_idle(qtbot, window)
    before = {i: s.xy[: s.received].copy() for i, s in window.runner.store.paths.items()}
    session = tmp_path / "s.json"
    assert window.sessions.save_to(session)
    window.function.choose_preset("rosenbrock")
    assert not window.document.is_model
    assert window.sessions.open_from(session)
    wait_idle(qtbot, window)
    assert window.document.is_model
    assert window.model_mode.landscape is not None
    assert window.model_mode.landscape.data.path is not None
    assert Path(window.model_mode.landscape.data.path).resolve() == data.resolve()
    assert window.model_mode.options() == FitOptions(None, 3, 9)
    after = {i: s.xy[: s.received] for i, s in window.runner.store.paths.items()}
    assert after.keys() == before.keys()
    assert all(np.array_equal(after[i], before[i]) for i in before)
    # The data file changes: the session is refused in words, and the screen stays.
    window.function.choose_preset("himmelblau")
    shown = window.document.landscape
    data.write_text(data.read_text() + "0.5,0.5\n")
    assert not window.sessions.open_from(session)
    box = window.error_box()
    assert box is not None and "has changed since the session was saved" in box.text()
    assert window.document.landscape is shown
    box.close()


def test_minibatch_paths_are_stored_even_without_computed_paths(
        window: MainWindow, qtbot: QtBot, tmp_path: Path) -> None:
    (before,) = _one_minibatch_path(window, qtbot, tmp_path, 20, FitOptions(5, 3, 2))
    window.sessions.include_paths.setChecked(False)
    session = tmp_path / "s.json"
    assert window.sessions.save_to(session)
    assert window.sessions.open_from(session)
    wait_idle(qtbot, window)
    (after,) = window.runner.store.paths.values()
    assert after.received == before.received == 3 * 4 + 1
    assert np.array_equal(after.xy[: after.received], before.xy[: before.received])
    # Every epoch ran (tol 1e-8 is not reached in 12 steps): core.fitting's "done", before
    # and after reopening, and in the exported CSV (not max steps).
    assert fit_status(window, before) == "done"
    table = window.runs_panel.model()
    assert table.texts_of(after.path_id)[STATUS_COLUMN] == "done"
    assert after.trajectory().status is Status.DONE
    out = tmp_path / "paths.csv"
    write_trajectories(out, [after.trajectory()])
    assert [t.status for t in read_trajectories(out)] == [Status.DONE]


def test_bad_csv_gives_one_line_and_changes_nothing(
        window: MainWindow, tmp_path: Path) -> None:
    good = tmp_path / "good.csv"
    _write_linear(good)
    _show(window, "linear", good)
    landscape, grid = window.document.landscape, window.document.grid
    paths = window.model_mode.panel._data.count()
    for name, text in (("nan.csv", "x,y\n1,2\n3,nan\n"), ("cols.csv", "a,b\n1,2\n"),
                       ("empty.csv", "x,y\n"), ("huge.csv", "x,y\n1,1e400\n"),
                       ("word.csv", "x,y\n1,two\n")):
        bad = tmp_path / name
        bad.write_text(text)
        window.model_mode.panel.open_file(str(bad))
        error = window.model_mode.panel.error_text()
        assert error and "\n" not in error
        assert window.document.landscape is landscape and window.document.grid is grid
        assert window.model_mode.panel._data.count() == paths  # the bad file is not listed
    window.model_mode.panel.open_file(str(tmp_path / "missing.csv"))
    assert window.model_mode.panel.error_text()
    assert window.document.landscape is landscape


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=200))
def test_any_bytes_are_shown_or_refused_in_one_line(window: MainWindow, tmp_path: Path,
                                                    raw: bytes) -> None:
    path = tmp_path / "any.csv"
    path.write_bytes(b"x,y\n" + raw)
    window.model_mode.panel.open_file(str(path))
    error = window.model_mode.panel.error_text()
    if error:
        assert "\n" not in error
    else:
        assert window.document.is_model and window.document.grid is not None


@given(st.integers(min_value=-5, max_value=10**12), st.booleans())
def test_grid_size_keeps_the_work_bounded(rows: int, from_sums: bool) -> None:
    from explorer.gui.model_mode import MAX_GRID_WORK, MIN_GRID, MODEL_GRID, grid_size

    size = grid_size(rows, from_sums)
    assert MIN_GRID <= size <= MODEL_GRID
    if from_sums:
        assert size == MODEL_GRID
    elif size > MIN_GRID:
        assert size * size * max(rows, 1) <= MAX_GRID_WORK
    if not from_sums and size < MODEL_GRID:  # as fine as the budget allows
        assert (size + 1) ** 2 * rows > MAX_GRID_WORK


def test_minibatch_landscape_toggle_draws_the_batch_loss_lines(
        window: MainWindow, qtbot: QtBot, tmp_path: Path) -> None:
    (shown,) = _one_minibatch_path(window, qtbot, tmp_path, 24, FitOptions(6, 1, 5))
    overlay = window.model_mode.batch_overlay
    assert not overlay.is_shown()  # off until asked for
    window.model_mode.panel.batch_landscape_check_box().setChecked(True)
    assert overlay.is_shown()
    # The lines lie where the last step's batch loss (by numpy) equals one of its levels.
    fit_path = window.model_mode.fit_path(shown.path_id)
    assert fit_path is not None
    rows = fit_path.batches[-1]
    landscape = window.model_mode.landscape
    assert landscape is not None
    x, y = landscape.data.x[rows], landscape.data.y[rows]
    lx, ly = overlay.line_data()
    finite = np.isfinite(lx)
    values = np.mean((lx[finite, None] * x + ly[finite, None] - y) ** 2, axis=1)
    from explorer.gui.views.batch_overlay import BATCH_GRID, quantile_levels

    xmin, xmax, ymin, ymax = landscape.domain
    gx, gy = np.linspace(xmin, xmax, BATCH_GRID), np.linspace(ymin, ymax, BATCH_GRID)
    grid = np.mean((gx[:, None, None] * x + gy[None, :, None] - y) ** 2, axis=2)
    levels = quantile_levels(grid)
    nearest = np.abs(values[:, None] - levels).min(axis=1)
    span = grid.max() - grid.min()
    assert nearest.max() < 0.02 * span  # linear interpolation on a coarse grid
    window.model_mode.panel.batch_landscape_check_box().setChecked(False)
    assert not overlay.is_shown()
