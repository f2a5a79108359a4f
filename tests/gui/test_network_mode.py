"""The "Neural network" in the window (issue 17): a tiny net trained on the bundled xor in the
background, its slice drawn as the landscape (centre = final loss), the path's true loss, the
sharpness against 2/lr, the decision regions, a click that trains again from the slice, Stop,
and hostile fields refused in one red line with nothing changed."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pytestqt.qtbot import QtBot

from explorer.core.network import MAX_LAYERS, MAX_WIDTH
from explorer.gui.engine.network_job import NetworkResult
from explorer.gui.main_window import MainWindow
from explorer.gui.network_mode import SLICE_AXES
from explorer.io.dataset_csv import load_features, network_data_path
from tests.gui.helpers import click_at, wait_idle

pytestmark = pytest.mark.window(surface=False)


def _setup(window: MainWindow, *, steps: str = "200", hidden: str = "8", every: int = 20,
           grid: int = 11, lr: float = 0.1) -> None:
    """A 2-8-1 tanh mse net on xor, SGD at lr, a small slice."""
    panel = window.network_mode.panel
    panel.choose(activation="tanh", loss="mse", data="xor")
    assert panel.fields().directions == "pca"  # the window's default: the path's own plane
    panel.set_hidden(hidden)
    panel.set_steps(steps)
    panel.set_sharpness_every(every)
    panel.set_grid(grid)
    window.controls.set_optimizer("sgd")
    window.controls.set_lr(lr)


def _train(window: MainWindow, qtbot: QtBot) -> NetworkResult:
    mode = window.network_mode
    with qtbot.waitSignal(mode.shown, timeout=60_000):
        token = mode.train()
        assert token is not None, mode.panel.error_text()
    wait_idle(qtbot, window)
    assert mode.result is not None
    return mode.result


def _loss_at(result: NetworkResult, flat: np.ndarray) -> float:
    """The full-data mse loss of the network at a flat parameter vector, computed here."""
    net = result.problem.net
    with torch.no_grad():
        torch.nn.utils.vector_to_parameters(torch.from_numpy(flat.copy()), net.parameters())
        out = net(result.problem.x).squeeze(-1)
    return float(((out - result.problem.y) ** 2).mean())


def test_training_shows_the_slice_whose_centre_is_the_final_loss(window: MainWindow,
                                                                 qtbot: QtBot) -> None:
    _setup(window)
    result = _train(window, qtbot)
    run = result.run
    assert run.status == "done" and run.steps == 200
    grid = window.document.grid
    assert window.document.landscape is window.network_mode.landscape
    assert grid is not None and grid.z.shape == (11, 11)
    # The slice's centre is the final parameters' loss, computed again from the parameters.
    final = _loss_at(result, run.path[-1])
    assert abs(float(grid.z[5, 5]) - final) <= 1e-10
    assert abs(float(run.loss[-1]) - final) <= 1e-10
    # The map draws the path projected on the plane; its loss column is the true loss.
    (shown,) = window.runner.store.paths.values()
    np.testing.assert_array_equal(shown.f[: shown.received], result.view.path_loss)
    assert abs(shown.xy[shown.received - 1][0]) < 1e-9  # the end is the slice's centre
    assert window.contour.plot_widget().getPlotItem().getAxis("bottom").labelText == SLICE_AXES.x
    curve = window.network_mode.slice_curve(shown.path_id)
    assert curve is not None
    steps, values = curve.getData()
    np.testing.assert_array_equal(steps, np.arange(201))
    np.testing.assert_allclose(values, result.view.path_slice_loss, rtol=0, atol=0)
    # On the loss plot's log scale the dotted curve follows, as the path's own curve does.
    window.loss.log_check_box().setChecked(True)
    _, logged = curve.getData()
    np.testing.assert_array_equal(logged, window.loss.display_values(result.view.path_slice_loss))
    assert not np.allclose(logged, values)
    # The training took the loss down from its start.
    assert run.loss[-1] < run.loss[0]


def test_sharpness_plot_has_its_line_at_two_over_lr(window: MainWindow, qtbot: QtBot) -> None:
    _setup(window, lr=0.25)
    result = _train(window, qtbot)
    view = window.network_mode.sharpness_view
    lr = window.controls.lr()
    assert view.edge_heights() == [pytest.approx(2.0 / lr, rel=1e-12)]
    steps, values = view.series()
    np.testing.assert_array_equal(steps, np.arange(0, 200, 20))
    np.testing.assert_array_equal(values, result.run.sharpness[:, 1])


def test_the_sharpness_tab_appears_with_the_first_network(window: MainWindow,
                                                          qtbot: QtBot) -> None:
    from PySide6.QtWidgets import QTabWidget

    page = window.network_mode.sharpness_view
    tabs = next(t for t in window.findChildren(QTabWidget)
                if any(t.tabText(i) == "Sharpness" for i in range(t.count())))
    index = next(i for i in range(tabs.count()) if tabs.tabText(i) == "Sharpness")
    assert not tabs.isTabVisible(index)  # a function's window: Loss and Data only
    _setup(window)
    _train(window, qtbot)
    assert tabs.isTabVisible(index) and tabs.widget(index).isAncestorOf(page)


def test_momentum_adds_its_own_edge(window: MainWindow, qtbot: QtBot) -> None:
    _setup(window, steps="40", lr=0.05)
    window.controls.set_params("sgd", {"momentum": 0.5})
    assert dict(window.controls.run_settings().params).get("momentum") == 0.5
    _train(window, qtbot)
    heights = window.network_mode.sharpness_view.edge_heights()
    assert heights == [pytest.approx(2.0 / 0.05), pytest.approx((2.0 + 2.0 * 0.5) / 0.05)]


def test_regions_have_the_networks_sign_at_the_data_points(window: MainWindow,
                                                           qtbot: QtBot) -> None:
    _setup(window, steps="1500", hidden="8", lr=0.2, every=0)
    result = _train(window, qtbot)
    data = load_features(network_data_path("xor"))
    net = result.problem.net
    with torch.no_grad():
        torch.nn.utils.vector_to_parameters(torch.from_numpy(result.run.path[-1].copy()),
                                            net.parameters())
        out = net(torch.from_numpy(data.features)).squeeze(-1).numpy()
    # Trained: the network classifies most points right.
    assert np.mean(np.sign(out) == data.labels) > 0.9
    view = window.network_mode.decision_view
    assert view.point_count() == data.n
    # Where the output is clearly on one side, the shade drawn there has its sign.
    clear = np.abs(out) > 0.3
    assert clear.sum() > data.n // 2
    shades = np.array([view.value_at(x, y) for x, y in data.features])
    assert np.all(np.sign(shades[clear]) == np.sign(out[clear]))


def test_a_click_on_the_slice_trains_again_from_there(window: MainWindow, qtbot: QtBot) -> None:
    from explorer.core.loss_slice import project

    _setup(window, steps="100")
    first = _train(window, qtbot)
    mode = window.network_mode
    a, b = 0.4, -0.3
    with qtbot.waitSignal(mode.shown, timeout=60_000):
        click_at(qtbot, window.contour, a, b)
    wait_idle(qtbot, window)
    second = mode.result
    assert second is not None and second is not first
    start = second.run.path[0]
    assert second.request.start is not None
    np.testing.assert_array_equal(start, second.request.start)
    # The start lies on the first slice's plane, where the click was (to a pixel or so).
    view = first.view
    ((ca, cb),) = project(start[None, :], view.center, np.stack((view.d1, view.d2)))
    assert (ca, cb) == (pytest.approx(a, abs=0.02), pytest.approx(b, abs=0.02))
    np.testing.assert_allclose(start, first.landscape.parameters_at(ca, cb), rtol=0, atol=1e-12)
    # Its first loss is the first slice's loss at that point.
    at_click = float(first.landscape.objective(torch.tensor(ca, dtype=torch.float64),
                                               torch.tensor(cb, dtype=torch.float64)))
    assert second.run.loss[0] == pytest.approx(at_click, rel=1e-9)
    assert len(window.runner.store.paths) == 1  # the old slice's path went with it


def test_start_at_trains_from_parameters_at(window: MainWindow, qtbot: QtBot) -> None:
    _setup(window, steps="10")
    first = _train(window, qtbot)
    mode = window.network_mode
    with qtbot.waitSignal(mode.shown, timeout=60_000):
        assert mode.start_at(0.25, 0.5) is not None
    wait_idle(qtbot, window)
    assert mode.result is not None
    np.testing.assert_array_equal(mode.result.run.path[0],
                                  first.landscape.parameters_at(0.25, 0.5))


def test_stop_ends_the_training_and_slices_what_was_trained(window: MainWindow,
                                                            qtbot: QtBot) -> None:
    _setup(window, steps="1000000", hidden="8", every=0)
    mode = window.network_mode
    assert mode.train() is not None, mode.panel.error_text()
    assert mode.panel.stop_button().isEnabled() and not mode.panel.train_button().isEnabled()
    qtbot.waitUntil(lambda: mode.panel.progress_bar().value() > 0, timeout=60_000)
    with qtbot.waitSignal(mode.shown, timeout=60_000):
        mode.panel.stop_button().click()
    result = mode.result
    assert result is not None and result.run.status == "stopped"
    assert 0 < result.run.steps < 1_000_000
    assert not mode.running
    assert mode.panel.train_button().isEnabled()
    wait_idle(qtbot, window)


@pytest.mark.parametrize(("field", "text"), [
    ("hidden", "0"), ("hidden", "10000"), ("hidden", "a,b"), ("hidden", ""),
    ("hidden", ",".join(["2"] * (MAX_LAYERS + 1))), ("hidden", str(MAX_WIDTH + 1)),
    ("steps", "10000000000000"), ("steps", "-1"), ("steps", "1e3"), ("steps", "many"),
    ("steps", "9" * 400), ("steps", "9" * 5000), ("steps", "1.5"), ("steps", " "),
])
def test_hostile_fields_give_a_red_line_and_change_nothing(window: MainWindow, field: str,
                                                           text: str) -> None:
    _setup(window)
    before = window.document.landscape
    panel = window.network_mode.panel
    (panel.set_hidden if field == "hidden" else panel.set_steps)(text)
    assert window.network_mode.train() is None
    assert panel.error_text() != ""
    assert "\n" not in panel.error_text()
    assert max(len(word) for word in panel.error_text().split()) <= 41  # wraps in the column
    assert window.document.landscape is before
    assert not window.network_mode.running


@given(st.text(max_size=30))
@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_hidden_text_trains_or_is_refused_in_one_line(window: MainWindow,
                                                          hidden: str) -> None:
    from explorer.core.network import NetError, parse_hidden

    mode = window.network_mode
    mode.panel.set_hidden(hidden)
    mode.panel.set_steps("1")
    mode.panel.set_sharpness_every(0)
    token = mode.train()
    if token is None:
        assert mode.panel.error_text() and "\n" not in mode.panel.error_text()
    else:  # only what the core's parser accepts starts
        parse_hidden(hidden.strip())
        mode.job.shutdown()
        mode.panel.set_running(False)
    try:
        parse_hidden(hidden.strip())
    except NetError:
        assert token is None


def test_a_scipy_method_and_a_bad_data_file_are_refused(window: MainWindow, tmp_path) -> None:
    _setup(window)
    panel = window.network_mode.panel
    window.controls.set_optimizer("nelder-mead")
    assert window.network_mode.train() is None
    assert "scipy" in panel.error_text()
    window.controls.set_optimizer("sgd")
    bad = tmp_path / "bad.csv"
    bad.write_text("x1,x2\n1,2\n", encoding="utf-8")
    panel.open_file(str(bad))
    assert window.network_mode.train() is None
    assert "label" in panel.error_text()
    assert window.document.landscape is not window.network_mode.landscape or \
        window.network_mode.landscape is None


def test_an_even_grid_is_refused_by_the_job(window: MainWindow, qtbot: QtBot) -> None:
    _setup(window, steps="5", grid=12)
    mode = window.network_mode
    before = window.document.landscape
    with qtbot.waitSignal(mode.job.failed, timeout=60_000):
        assert mode.train() is not None
    assert "odd" in mode.panel.error_text()
    assert window.document.landscape is before
    assert mode.panel.train_button().isEnabled()


def test_a_function_or_a_model_after_the_network_takes_the_map_back(window: MainWindow,
                                                                    qtbot: QtBot) -> None:
    from explorer.io.dataset_csv import bundled_datasets

    _setup(window, steps="5")
    _train(window, qtbot)
    mode = window.network_mode
    assert mode.active
    assert window.function.apply()  # the function in the panel (Himmelblau) drawn again
    assert not mode.active and window.document.expression is not None
    assert window.contour.plot_widget().getPlotItem().getAxis("bottom").labelText == "x"
    # A model shown after it: the Data tab shows the model's data again.
    window.model_mode.panel.select("linear", str(bundled_datasets()["regression"]))
    window.model_mode.panel.apply()
    assert window.document.is_model and not mode.active
    page = window.model_mode.data_view.parentWidget()
    assert page is not None and page.isVisible()
    assert not window.network_mode.decision_view.isVisible()


def test_pause_step_and_stop_from_the_panel(window: MainWindow, qtbot: QtBot) -> None:
    _setup(window, steps="1000000", hidden="8", every=0)
    mode, panel = window.network_mode, window.network_mode.panel
    assert not panel.pause_button().isEnabled() and not panel.step_button().isEnabled()
    assert mode.train() is not None
    assert panel.pause_button().isEnabled() and not panel.step_button().isEnabled()
    panel.pause_button().click()
    assert panel.step_button().isEnabled() and panel.pause_button().text() == "Resume"
    qtbot.waitUntil(lambda: mode.job.held_at() is not None, timeout=60_000)
    held = mode.job.held_at()
    assert held is not None
    panel.step_button().click()
    qtbot.waitUntil(lambda: mode.job.held_at() == held + 1, timeout=60_000)
    with qtbot.waitSignal(mode.shown, timeout=60_000):
        panel.stop_button().click()
    result = mode.result
    assert result is not None and result.run.status == "stopped"
    assert result.run.steps == held + 1  # held there: not a step more
    assert not panel.pause_button().isEnabled() and panel.train_button().isEnabled()
    wait_idle(qtbot, window)


def test_a_session_saved_with_a_network_on_screen_keeps_no_run_of_it(window: MainWindow,
                                                                      qtbot: QtBot) -> None:
    _setup(window, steps="5")
    _train(window, qtbot)
    assert len(window.runner.store.paths) == 1
    state = window.session.state()
    # Its path lies on the slice: kept as a run on the function, it would be run again there.
    assert state.runs == ()
    assert state.function == window.function.applied()[0]  # type: ignore[index]
