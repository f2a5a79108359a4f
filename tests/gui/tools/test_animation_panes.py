"""The animation's data pane (issue 18): a model's data with each path's curve, a network's data
over its decision regions, at each frame's parameters; the map | loss layout of a function left
as it was."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pyqtgraph as pg
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray
from PySide6.QtWidgets import QHBoxLayout
from pytestqt.qtbot import QtBot

from explorer.core.expression import parse
from explorer.core.landscape import sample_landscape
from explorer.core.model_landscape import ModelLandscape
from explorer.core.models import get_model
from explorer.core.network import NetSpec, build_net, flat_parameters
from explorer.core.toy_data import toy_data
from explorer.core.trajectory import RunSettings
from explorer.gui.main_window import MainWindow
from explorer.gui.panels.model_panel import FitOptions
from explorer.gui.tools.animation_dialog import AnimationDialog, Panes, window_scene
from explorer.gui.tools.animation_export import (
    AnimatedPath,
    AnimationScene,
    FrameRenderer,
)
from explorer.gui.tools.animation_panes import (
    MIN_PANE_GRID,
    PANE_GRID,
    PANE_WORK,
    FitPane,
    FitPaneView,
    RegionsPane,
    RegionsPaneView,
    pane_grid,
)
from explorer.io.animation import AnimationSettings, frame_count
from explorer.io.dataset_csv import bundled_datasets, load_dataset
from tests.gui.helpers import wait_idle
from tests.gui.test_model_mode import _one_minibatch_path, _show
from tests.gui.test_network_mode import _setup, _train
from tests.gui.tools.test_animation_export import _scene

FloatArray = NDArray[np.float64]
SIZE = (400, 300)


def _linear_fit_scene(steps: int = 30) -> tuple[AnimationScene, FloatArray, FloatArray]:
    """A straight path in (w, b) from (0, 0) to the least-squares fit of the regression set,
    over its loss, with the fit pane; the data's x and y."""
    model = get_model("linear")
    data = load_dataset(bundled_datasets()["regression"], model)
    # The least-squares line, worked out here with numpy's polyfit.
    w, b = np.polyfit(data.x, data.y, 1)
    t = np.linspace(0.0, 1.0, steps + 1)
    xy = np.column_stack((w * t, b * t))
    loss = np.array([np.mean((p1 * data.x + p2 - data.y) ** 2) for p1, p2 in xy])
    landscape = ModelLandscape(model, data, (-1.0, 3.0, -2.0, 2.0))
    scene = AnimationScene(landscape.grid(32), [AnimatedPath(xy, loss, label="fit")],
                           names=("w", "b", "loss"),
                           data=FitPane(data.x, data.y, model.predict, "x", "y"))
    return scene, data.x, data.y


def _drawn(curve: pg.PlotDataItem) -> tuple[FloatArray, FloatArray]:
    """A curve's points as given to it (getData() gives them as shown: clipped to the view)."""
    return np.asarray(curve.xData, np.float64), np.asarray(curve.yData, np.float64)


def _pane_box(renderer: FrameRenderer) -> tuple[int, int, int, int]:
    """The data pane's rectangle in a frame: top, bottom, left, right."""
    assert renderer.pane is not None
    widget = renderer.pane.widget
    corner = widget.mapTo(widget.window(), widget.rect().topLeft())
    return corner.y(), corner.y() + widget.height(), corner.x(), corner.x() + widget.width()


def _changed_in(first: NDArray[np.uint8], last: NDArray[np.uint8],
                box: tuple[int, int, int, int]) -> int:
    top, bottom, left, right = box
    return int((first[top:bottom, left:right] != last[top:bottom, left:right]).any(-1).sum())


def test_the_fit_pane_draws_the_model_at_the_frames_row(qapp: object) -> None:
    scene, x, _ = _linear_fit_scene()
    renderer = FrameRenderer(scene, *SIZE)
    try:
        assert isinstance(renderer.pane, FitPaneView)
        (curve,) = renderer.pane.curves
        frames = {}
        for step in (0, 7, 30):
            frames[step] = renderer.frame(step)
            xs, ys = _drawn(curve)
            p1, p2 = scene.paths[0].xy[step]
            # The line at the path's row, evaluated here: w*x + b across the data's x range.
            assert xs[0] <= x.min() and xs[-1] >= x.max()
            np.testing.assert_allclose(ys, p1 * xs + p2, rtol=0, atol=1e-12)
        # The fit moves in the data pane between the first frame and the last.
        box = _pane_box(renderer)
        assert box[2] >= SIZE[0] // 2  # on the right, beside the map
        assert _changed_in(frames[0], frames[30], box) > 50
    finally:
        renderer.close()


def test_a_path_shorter_than_the_scene_keeps_its_last_row(qapp: object) -> None:
    scene, _, _ = _linear_fit_scene(20)
    short = AnimatedPath(scene.paths[0].xy[:6], scene.paths[0].f[:6])
    scene = AnimationScene(scene.grid, [scene.paths[0], short], names=scene.names,
                           data=scene.data)
    renderer = FrameRenderer(scene, *SIZE)
    try:
        renderer.frame(15)
        assert isinstance(renderer.pane, FitPaneView)
        xs, ys = _drawn(renderer.pane.curves[1])
        p1, p2 = short.xy[-1]
        np.testing.assert_allclose(ys, p1 * xs + p2, rtol=0, atol=1e-12)
    finally:
        renderer.close()


def test_a_minibatch_paths_batch_of_the_step_is_highlighted(qapp: object) -> None:
    scene, x, _ = _linear_fit_scene(12)
    assert isinstance(scene.data, FitPane)
    rng = np.random.default_rng(5)
    batches = [rng.choice(len(x), 9, replace=False) for _ in range(12)]
    pane = FitPane(scene.data.x, scene.data.y, scene.data.predict, batches=batches)
    renderer = FrameRenderer(AnimationScene(scene.grid, scene.paths, names=scene.names,
                                            data=pane), *SIZE)
    try:
        assert isinstance(renderer.pane, FitPaneView)
        renderer.frame(0)
        assert len(renderer.pane.view.batch_rows()) == 0  # the start: no step, no batch
        for step in (1, 6, 12):
            renderer.frame(step)
            # Row k is where step k's batch led: the window highlights that batch there too.
            np.testing.assert_array_equal(renderer.pane.view.batch_rows(), batches[step - 1])
    finally:
        renderer.close()


@given(rows=st.lists(st.integers(-3, 12), max_size=6), path=st.integers(-2, 3))
def test_a_fit_panes_batches_must_be_rows_of_its_data(rows: list[int], path: int) -> None:
    x = np.arange(10.0)
    make = lambda: FitPane(x, x, get_model("linear").predict,  # noqa: E731
                           batches=[np.array(rows, dtype=np.int64)], batch_path=path)
    if all(0 <= r < 10 for r in rows) and path >= 0:
        assert make().batch_at(1) is not None and make().batch_at(0) is None
        assert make().batch_at(2) is None  # past the batches: none
    else:
        with pytest.raises(ValueError):
            make()


def test_batches_of_a_path_the_scene_has_not_are_refused(qapp: object) -> None:
    scene, x, y = _linear_fit_scene(4)
    assert isinstance(scene.data, FitPane)
    pane = FitPane(x, y, scene.data.predict, batches=[np.array([0])], batch_path=1)
    with pytest.raises(ValueError, match="path 1"):
        FrameRenderer(AnimationScene(scene.grid, scene.paths, data=pane), *SIZE)


def _forward(flat: FloatArray, widths: tuple[int, ...], points: FloatArray) -> FloatArray:
    """A tanh network's output worked out with numpy: torch's Linear layers in order, each a
    (out, in) weight then its bias in the flat vector."""
    at, h = 0, points
    for i in range(len(widths) - 1):
        n_in, n_out = widths[i], widths[i + 1]
        w = flat[at: at + n_in * n_out].reshape(n_out, n_in)
        at += n_in * n_out
        b = flat[at: at + n_out]
        at += n_out
        h = h @ w.T + b
        if i < len(widths) - 2:
            h = np.tanh(h)
    assert at == len(flat)
    return np.asarray(h[:, 0], dtype=np.float64)


def _network_pane(steps: int = 12) -> RegionsPane:
    """Parameters that move from a network's initialisation to three times it, row by row."""
    features, labels = toy_data("moons", 60, 0.1, 3)
    spec = NetSpec(2, (5,), "tanh", "mse")
    start = flat_parameters(build_net(spec, 1)).numpy()
    rows = np.array([start * (1.0 + 2.0 * k / steps) for k in range(steps + 1)])
    return RegionsPane(features, labels, ("x1", "x2"), spec, rows)


def _network_scene(pane: RegionsPane) -> AnimationScene:
    steps = len(pane.parameters) - 1
    grid = sample_landscape(parse("x^2 + y^2"), (-1.0, 1.0, -1.0, 1.0), 16)
    t = np.linspace(-0.8, 0.8, steps + 1)
    return AnimationScene(grid, [AnimatedPath(np.column_stack((t, t)), 2 * t**2)],
                          names=("a", "b", "loss"), data=pane)


def test_the_regions_are_the_network_at_the_frames_row(qapp: object) -> None:
    pane = _network_pane()
    renderer = FrameRenderer(_network_scene(pane), *SIZE)
    try:
        assert isinstance(renderer.pane, RegionsPaneView)
        frames = {}
        for step in (0, 5, 12):
            frames[step] = renderer.frame(step)
            regions = renderer.pane.regions
            assert regions is not None
            assert regions.values.shape == (PANE_GRID, PANE_GRID)
            # The grid covers the data; the drawn values are the output (clipped, mse) there.
            features = pane.features
            assert regions.xs[0] < features[:, 0].min() and regions.xs[-1] > features[:, 0].max()
            a, b = np.meshgrid(regions.xs, regions.ys, indexing="ij")
            out = _forward(pane.parameters[step], pane.spec.widths,
                           np.column_stack((a.ravel(), b.ravel())))
            np.testing.assert_allclose(regions.values, np.clip(out, -1, 1).reshape(a.shape),
                                       rtol=0, atol=1e-12)
            shown = renderer.pane.view.value_at(float(regions.xs[3]), float(regions.ys[7]))
            assert shown == regions.values[3, 7]
        assert _changed_in(frames[0], frames[12], _pane_box(renderer)) > 50
    finally:
        renderer.close()


def test_the_pane_leaves_the_window_network_alone(qapp: object) -> None:
    """The pane evaluates a network of its own: a NetProblem's parameters stay as they were."""
    from explorer.core.network import NetProblem

    pane = _network_pane(4)
    problem = NetProblem(pane.spec, pane.features, pane.labels, 1)
    before = flat_parameters(problem.net).clone()
    view = RegionsPaneView(pane)
    view.draw(4)
    assert torch.equal(flat_parameters(problem.net), before)
    view.view.deleteLater()


def test_a_function_keeps_the_map_and_loss_layout(qapp: object) -> None:
    """No data: the map and the loss plot side by side, as before the data pane (the frames
    were compared against the previous renderer's, pixel for pixel, when it came)."""
    renderer = FrameRenderer(_scene(10), *SIZE)
    try:
        assert renderer.pane is None
        layout = renderer.contour.parentWidget().layout()
        assert isinstance(layout, QHBoxLayout)
        assert [layout.itemAt(i).widget() for i in range(layout.count())] == [
            renderer.contour, renderer.loss]
        assert [layout.stretch(i) for i in range(layout.count())] == [3, 2]
    finally:
        renderer.close()


def test_without_the_loss_plot_the_data_pane_is_beside_the_map(qapp: object) -> None:
    scene, _, _ = _linear_fit_scene(10)
    scene = AnimationScene(scene.grid, scene.paths, names=scene.names, loss=False,
                           data=scene.data)
    renderer = FrameRenderer(scene, *SIZE)
    try:
        assert renderer.loss is None and renderer.pane is not None
        top, bottom, left, _ = _pane_box(renderer)
        assert (top, bottom) == (0, SIZE[1]) and left >= SIZE[0] // 2
        frame = renderer.frame(10)
        assert frame.shape == (SIZE[1], SIZE[0], 3)
    finally:
        renderer.close()


# -- hostile panes --------------------------------------------------------------------------------


@given(st.integers(0, 5), st.integers(0, 5))
def test_a_fit_pane_needs_matching_data(xs: int, ys: int) -> None:
    predict = get_model("linear").predict
    if xs == ys and xs:
        assert len(FitPane(np.zeros(xs), np.zeros(ys), predict).x) == xs
    else:
        with pytest.raises(ValueError, match="fit pane"):
            FitPane(np.zeros(xs), np.zeros(ys), predict)


@given(rows=st.integers(0, 4), width=st.integers(0, 30), grid=st.integers(-5, 2000))
def test_a_regions_pane_refuses_parameters_of_another_shape(rows: int, width: int,
                                                            grid: int) -> None:
    spec = NetSpec(2, (3,), "tanh", "mse")  # 13 parameters
    features, labels = np.zeros((4, 2)), np.array([1.0, -1.0, 1.0, -1.0])
    fits = rows > 0 and width == spec.parameter_count and (grid == 0 or 2 <= grid <= 1024)
    make = lambda: RegionsPane(features, labels, ("a", "b"), spec,  # noqa: E731
                               np.zeros((rows, width)), grid=grid)
    if fits:
        assert make().row(10**9) == rows - 1 and make().row(-3) == 0
    else:
        with pytest.raises(ValueError):
            make()


@given(st.integers(-3, 10**7))
def test_the_regions_grid_keeps_a_frames_work_bounded(parameters: int) -> None:
    n = pane_grid(parameters)
    assert MIN_PANE_GRID <= n <= PANE_GRID
    # The most points a side within the work, or the floor; a small network gets PANE_GRID.
    assert n == MIN_PANE_GRID or n * n * max(parameters, 1) <= PANE_WORK
    assert n == PANE_GRID or (n + 1) ** 2 * parameters > PANE_WORK
    spec = NetSpec(2, (5,), "tanh", "mse")
    assert RegionsPane(np.zeros((2, 2)), np.zeros(2), ("a", "b"), spec,
                       np.zeros((1, spec.parameter_count))).points == PANE_GRID


def test_a_regions_pane_refuses_features_of_another_shape() -> None:
    spec = NetSpec(2, (3,), "tanh", "mse")
    with pytest.raises(ValueError, match="features"):
        RegionsPane(np.zeros((4, 3)), np.zeros(4), ("a",), spec, np.zeros((1, 13)))
    with pytest.raises(ValueError, match="labels"):
        RegionsPane(np.zeros((4, 2)), np.zeros(3), ("a",), spec, np.zeros((1, 13)))


_WILD = st.one_of(st.floats(allow_nan=True, allow_infinity=True),
                  st.sampled_from([1e308, -1e308, 1e-308, 0.0]))


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
# Data whose span passes float's range (1e308 apart) is left out: pyqtgraph's own bounds overflow
# there, in the window's data view as here.
@given(p1=_WILD, p2=_WILD, scale=st.sampled_from([1e-300, 1.0, 1e150, 1e300]))
def test_wild_parameters_and_data_draw_without_a_warning(qapp: object, p1: float, p2: float,
                                                         scale: float) -> None:
    """A diverged fit's parameters and data of any size: a curve (NaN where not finite) and a
    finite view, with no warning (warnings fail tests)."""
    model = get_model("linear")
    x = np.array([-1.0, 0.0, 2.0]) * scale
    pane = FitPane(x, x * 0.5, model.predict)
    view = FitPaneView(pane, [np.array([[0.0, 0.0], [p1, p2]])], [(255, 0, 0)])
    try:
        view.draw(1)
        xs, ys = _drawn(view.curves[0])
        assert np.isfinite(xs).all()
        with np.errstate(all="ignore"):
            expected = p1 * xs + p2
        np.testing.assert_array_equal(ys, np.where(np.isfinite(expected), expected, np.nan))
        (low, high), _ = view.view.plot_widget().getPlotItem().getViewBox().viewRange()
        assert np.isfinite([low, high]).all()
    finally:
        view.view.deleteLater()


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=_WILD)
def test_diverged_network_parameters_shade_without_a_warning(qapp: object,
                                                             value: float) -> None:
    pane = _network_pane(2)
    wild = pane.parameters.copy()
    wild[-1] = value
    view = RegionsPaneView(RegionsPane(pane.features, pane.labels, pane.names, pane.spec, wild,
                                       grid=8))
    try:
        view.draw(2)
        assert view.regions is not None
        values = view.regions.values
        assert (np.isnan(values) | ((values >= -1) & (values <= 1))).all()
    finally:
        view.view.deleteLater()


# -- the window -----------------------------------------------------------------------------------


def _export(window: MainWindow, qtbot: QtBot, path: Path, every: int, panes: Panes,
            ask: Callable[[], object] | None = None) -> NDArray[np.uint8]:
    """File > Export animation… (or ask: a button) answered with these settings; the frames."""
    export = window.animation
    export.ask_settings = lambda steps: (AnimationSettings(fps=10, every=every, width=SIZE[0],
                                                           height=SIZE[1]), panes)
    export.ask_path = lambda name: str(path)
    (ask or export.ask_export)()
    job = export.job
    assert job is not None
    with qtbot.waitSignal(job.finished, timeout=60_000):
        pass
    frames: NDArray[np.uint8] = iio.imread(path, index=None)
    assert len(frames) == frame_count(job.steps[-1], every)
    return frames


def _right_bottom(frames: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """Where the data pane is drawn: the right two fifths, lower half."""
    return frames[:, SIZE[1] // 2 + 10:, SIZE[0] * 3 // 5 + 10:]


@pytest.mark.window(surface=False)
def test_a_models_export_draws_its_data_and_fit(window: MainWindow, qtbot: QtBot,
                                                tmp_path: Path) -> None:
    _show(window, "linear", bundled_datasets()["regression"])
    window.controls.set_optimizer("sgd")
    window.controls.set_lr(0.05)
    window.controls.set_limits(30, 0.0, False)
    window.runner.start_runs([(0.0, 0.0)])
    wait_idle(qtbot, window)
    (shown,) = window.runner.store.paths.values()
    # The pane the export draws: the model's data, its curve at the path's rows.
    scene = window_scene(window.parts, False, data=window.model_mode.data_pane)
    assert scene is not None and isinstance(scene.data, FitPane)
    data = window.model_mode.landscape.data if window.model_mode.landscape else None
    assert data is not None
    np.testing.assert_array_equal(scene.data.x, data.x)
    renderer = FrameRenderer(scene, *SIZE)
    try:
        renderer.frame(10)
        assert isinstance(renderer.pane, FitPaneView)
        xs, ys = _drawn(renderer.pane.curves[0])
        w, b = shown.xy[10]
        np.testing.assert_allclose(ys, w * xs + b, rtol=0, atol=1e-12)
    finally:
        renderer.close()
    frames = _export(window, qtbot, tmp_path / "model.gif", 10, Panes())
    pane = _right_bottom(frames)
    assert (pane[0] != pane[-1]).any(-1).sum() > 50  # the fit moved
    # Without the data view: the map the same, the loss plot alone on the right.
    bare = _export(window, qtbot, tmp_path / "bare.gif", 10, Panes(data=False))
    assert (_right_bottom(bare) != _right_bottom(frames)).any()
    log = window.menus.log_scale.isChecked()
    drawn = []
    for data_of in (window.model_mode.data_pane, None):
        renderer = FrameRenderer(window_scene(window.parts, log, data=data_of)
                                 or pytest.fail("no scene"), *SIZE)
        try:
            drawn.append(renderer.frame(10))
        finally:
            renderer.close()
    split = SIZE[0] * 3 // 5 - 5
    np.testing.assert_array_equal(drawn[0][:, :split], drawn[1][:, :split])


@pytest.mark.window(surface=False)
def test_a_minibatch_paths_batches_go_to_the_pane(window: MainWindow, qtbot: QtBot,
                                                  tmp_path: Path) -> None:
    (shown,) = _one_minibatch_path(window, qtbot, tmp_path, 30, FitOptions(7, 2, 1))
    fit = window.model_mode.fit_path(shown.path_id)
    assert fit is not None
    pane = window.model_mode.data_pane([shown.path_id])
    assert isinstance(pane, FitPane) and pane.batch_path == 0
    assert len(pane.batches) == len(fit.batches) == shown.received - 1
    for ours, its in zip(pane.batches, fit.batches, strict=True):
        np.testing.assert_array_equal(ours, its)


@pytest.mark.window(surface=False)
def test_a_networks_export_shades_its_regions_at_each_step(window: MainWindow, qtbot: QtBot,
                                                           tmp_path: Path) -> None:
    _setup(window, steps="60", grid=7, lr=0.5)
    result = _train(window, qtbot)
    ids = sorted(window.runner.store.paths)
    pane = window.network_mode.data_pane(ids)
    assert isinstance(pane, RegionsPane) and pane.path == 0
    # Every step's parameters: the training keeps them all (row k after step k).
    np.testing.assert_array_equal(pane.parameters, result.run.path)
    np.testing.assert_array_equal(pane.features, result.request.data.features)
    assert window.model_mode.data_pane(ids) is None  # a network, not a model, is on screen
    frames = _export(window, qtbot, tmp_path / "net.gif", 20, Panes(),
                     window.network_mode.panel.animation_button().click)
    shaded = _right_bottom(frames)
    assert (shaded[0] != shaded[-1]).any(-1).sum() > 50  # the regions changed


@pytest.mark.window(surface=False)
def test_a_function_has_no_data_pane_and_the_dialog_offers_none(window: MainWindow,
                                                                qtbot: QtBot) -> None:
    window.runner.start_runs([(0.0, 0.0)], RunSettings(lr=0.005, steps=10, tol=0.0))
    wait_idle(qtbot, window)
    ids = sorted(window.runner.store.paths)
    assert window.model_mode.data_pane(ids) is None
    assert window.network_mode.data_pane(ids) is None
    asked: list[Panes] = []

    def answer(steps: int) -> None:
        dialog = AnimationDialog(steps, data=False)
        qtbot.addWidget(dialog)
        assert dialog.data_box.isHidden()
        asked.append(dialog.panes())

    window.animation.ask_settings = answer  # type: ignore[assignment]
    window.animation.ask_export()
    assert asked == [Panes(loss=True, data=False)]


def test_the_dialog_offers_the_data_view_where_there_is_data(qtbot: QtBot) -> None:
    dialog = AnimationDialog(10, data=True)
    qtbot.addWidget(dialog)
    assert not dialog.data_box.isHidden() and dialog.panes() == Panes()
    dialog.data_box.setChecked(False)
    dialog.loss_box.setChecked(False)
    assert dialog.panes() == Panes(loss=False, data=False)
