"""The sharpness reaches the Sharpness tab while the network trains (issue 17): each progress
report carries the measurements since the last one; paused and stepped, the plot holds every
measurement taken so far (steps that are multiples of k below the held step, each the top
Hessian eigenvalue at that step's parameters, before its update), the dashed 2/lr line and the
tab come with the first point, and the finished plot is the result's series."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from pytestqt.qtbot import QtBot

from explorer.core.network import NetProblem, NetSpec, TrainSettings, loss_of
from explorer.gui.engine.network_job import Gate, NetworkProgress, NetworkRequest, train_and_slice
from explorer.gui.main_window import MainWindow
from explorer.io.dataset_csv import load_features, network_data_path
from tests.gui.helpers import wait_idle

pytestmark = pytest.mark.window(surface=False)


def _top_eigenvalue(problem: NetProblem, flat: np.ndarray) -> float:
    """eigvalsh of the full Hessian of the full-batch loss at a flat parameter vector."""
    names_shapes = [(name, p.shape) for name, p in problem.net.named_parameters()]
    sizes = [int(np.prod(shape)) for _, shape in names_shapes]

    def loss(theta: torch.Tensor) -> torch.Tensor:
        pieces = torch.split(theta, sizes)
        params = {name: piece.reshape(shape)
                  for (name, shape), piece in zip(names_shapes, pieces, strict=True)}
        out = torch.func.functional_call(problem.net, params, (problem.x,)).squeeze(-1)
        return loss_of(problem.spec.loss, out, problem.y)

    hessian = torch.autograd.functional.hessian(loss, torch.from_numpy(flat.copy()))
    return float(np.linalg.eigvalsh(hessian.numpy())[-1])


def _rows(reports: list[NetworkProgress]) -> np.ndarray:
    return np.concatenate([r.sharpness for r in reports]).reshape(-1, 2)


@pytest.mark.parametrize("every", [1, 3])
def test_each_report_carries_the_measurements_since_the_last(every: int) -> None:
    data = load_features(network_data_path("xor"))
    request = NetworkRequest(1, data, NetSpec(2, (4,), "tanh", "mse"),
                             TrainSettings("sgd", 0.5, steps=40, seed=2, sharpness_every=every),
                             "pca", 5)
    gate = Gate()
    gate.pause(True)
    reports: list[NetworkProgress] = []
    held: list[int] = []

    def report(value: object) -> None:
        assert isinstance(value, NetworkProgress)
        reports.append(value)
        steps = _rows(reports)[:, 0]
        # Always the measurements from step 0 on, every k steps, none past the step reached.
        np.testing.assert_array_equal(steps, every * np.arange(len(steps), dtype=float))
        assert not len(steps) or steps[-1] <= value.step
        if gate.held_at != value.step:
            return  # a report on the way (the first point, or a throttled one)
        # Held before a step: everything measured before it, its own not yet.
        np.testing.assert_array_equal(steps, np.arange(0, value.step, every, dtype=float))
        held.append(value.step)
        if value.step < 10:
            gate.step()
        else:
            gate.halt()

    result = train_and_slice(request, lambda: False, gate, report)
    live = _rows(reports)
    assert held == list(range(11))  # held before each step, one step per Step
    # The first measurement (step 0) is reported at once, before the pause at step 1.
    assert reports[0].step == 0 and reports[0].sharpness.shape == (0, 2)
    assert reports[1].step == 0 and reports[1].sharpness[:, 0].tolist() == [0.0]
    np.testing.assert_array_equal(live, result.run.sharpness)
    # Each is the top eigenvalue at its step's parameters, before that step's update.
    for step, value in live:
        reference = _top_eigenvalue(result.problem, result.run.path[int(step)])
        assert value == pytest.approx(reference, rel=1e-3)


def _setup(window: MainWindow, *, steps: str, every: int, lr: float = 0.5) -> None:
    panel = window.network_mode.panel
    panel.choose(activation="tanh", loss="mse", data="xor")
    panel.set_hidden("4")
    panel.set_steps(steps)
    panel.set_sharpness_every(every)
    panel.set_grid(5)
    window.controls.set_optimizer("sgd")
    window.controls.set_lr(lr)


def _sharpness_tab_visible(window: MainWindow) -> bool:
    from PySide6.QtWidgets import QTabWidget

    page = window.network_mode.sharpness_view
    tabs = next(t for t in window.findChildren(QTabWidget)
                if any(t.tabText(i) == "Sharpness" for i in range(t.count())))
    index = next(i for i in range(tabs.count()) if tabs.tabText(i) == "Sharpness")
    return tabs.isTabVisible(index) and tabs.widget(index).isAncestorOf(page)


def test_a_paused_training_shows_the_sharpness_measured_so_far(window: MainWindow,
                                                               qtbot: QtBot) -> None:
    every = 3
    _setup(window, steps="1000000", every=every)
    mode, panel = window.network_mode, window.network_mode.panel
    view = mode.sharpness_view
    assert not _sharpness_tab_visible(window)
    assert mode.train() is not None
    panel.pause_button().click()
    qtbot.waitUntil(lambda: mode.job.held_at() is not None, timeout=60_000)
    seen: dict[int, np.ndarray] = {}
    for _ in range(every + 2):
        held = mode.job.held_at()
        assert held is not None
        expected = np.arange(0, held, every, dtype=float)
        # The reports sent before the hold are all on their way: wait for them to be drawn.
        qtbot.waitUntil(lambda expected=expected: len(view.series()[0]) == len(expected),
                        timeout=60_000)
        steps, values = view.series()
        np.testing.assert_array_equal(steps, expected)
        seen[held] = values.copy()
        assert mode.result is None and mode.running  # all of it before the training ends
        # Held before step 0 (paused at once) nothing is measured yet; the tab comes with a point.
        assert _sharpness_tab_visible(window) == bool(len(expected))
        if not len(expected):
            panel.step_button().click()
            qtbot.waitUntil(lambda held=held: mode.job.held_at() == held + 1, timeout=60_000)
            continue
        lr = window.controls.lr()
        assert view.edge_heights() == [pytest.approx(2.0 / lr, rel=1e-12)]
        box = view.plot_widget().getPlotItem().getViewBox()
        box.updateAutoRange()
        low, high = box.viewRange()[1]
        assert low <= 2.0 / lr <= high  # the edge is in sight from the first point on
        panel.step_button().click()
        qtbot.waitUntil(lambda held=held: mode.job.held_at() == held + 1, timeout=60_000)
    # Stepped at least every + 1 times with points: one step was a multiple of k and added one.
    counts = [len(v) for v in seen.values()]
    assert counts[-1] > counts[0]
    with qtbot.waitSignal(mode.shown, timeout=60_000):
        panel.stop_button().click()
    wait_idle(qtbot, window)
    result = mode.result
    assert result is not None
    steps, values = view.series()
    np.testing.assert_array_equal(steps, result.run.sharpness[:, 0])
    np.testing.assert_array_equal(values, result.run.sharpness[:, 1])
    for live in seen.values():  # the live points were the run's own measurements
        np.testing.assert_array_equal(live, result.run.sharpness[: len(live), 1])


def test_the_finished_plot_is_the_results_series(window: MainWindow, qtbot: QtBot) -> None:
    _setup(window, steps="300", every=1, lr=0.2)
    mode = window.network_mode
    with qtbot.waitSignal(mode.shown, timeout=60_000):
        assert mode.train() is not None
    wait_idle(qtbot, window)
    result = mode.result
    assert result is not None
    steps, values = mode.sharpness_view.series()
    np.testing.assert_array_equal(steps, result.run.sharpness[:, 0])
    np.testing.assert_array_equal(values, result.run.sharpness[:, 1])
    assert mode.sharpness_view.curve_count() > 1  # 300 points: more than one block
