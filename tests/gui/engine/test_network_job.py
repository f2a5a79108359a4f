"""The network job's work function, without threads: pause holds the training before its next
step, each Step lets exactly one through, Stop ends it there and what was trained is sliced;
the regions are the network's output shaded by the loss's rule."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from explorer.core.network import NetSpec, TrainSettings
from explorer.gui.engine.network_job import (
    Gate,
    NetworkProgress,
    NetworkRequest,
    region_box,
    regions_of,
    shade,
    train_and_slice,
)
from explorer.io.dataset_csv import load_features, network_data_path


def _request(steps: int = 50) -> NetworkRequest:
    data = load_features(network_data_path("xor"))
    return NetworkRequest(1, data, NetSpec(2, (4,), "tanh", "mse"),
                          TrainSettings("sgd", 0.1, steps=steps, seed=2), "pca", 5)


def test_paused_training_takes_one_step_per_step_and_stops_where_told() -> None:
    gate = Gate()
    gate.pause(True)
    reports: list[int] = []

    def report(value: object) -> None:
        assert isinstance(value, NetworkProgress)
        reports.append(value.step)
        if len(reports) < 4:
            gate.step()  # the GUI's Step, pressed as soon as the paused state is shown
        else:
            gate.halt()  # Stop

    result = train_and_slice(_request(), lambda: False, gate, report)
    assert reports == [0, 1, 2, 3]
    assert result.run.status == "stopped" and result.run.steps == 3
    # What was trained is sliced: the centre is the third step's parameters.
    np.testing.assert_array_equal(result.view.center, result.run.path[3])


def test_an_unpaused_gate_lets_the_training_run_to_its_end() -> None:
    gate = Gate()
    gate.pause(True)
    gate.pause(False)
    result = train_and_slice(_request(20), lambda: False, gate, lambda value: None)
    assert result.run.status == "done" and result.run.steps == 20


def test_a_cancelled_training_is_not_sliced() -> None:
    with pytest.raises(RuntimeError):
        train_and_slice(_request(), lambda: True, Gate(), lambda value: None)


@pytest.mark.parametrize("loss", ["mse", "bce"])
def test_regions_are_the_output_shaded_by_the_loss(loss: str) -> None:
    from explorer.core.network import NetProblem

    data = load_features(network_data_path("xor"))
    problem = NetProblem(NetSpec(2, (6,), "tanh", loss), data.features, data.labels, 0)
    box = region_box(data.features)
    assert box is not None
    assert box[0] < data.features[:, 0].min() and box[1] > data.features[:, 0].max()
    regions = regions_of(problem, box, 9)
    assert regions is not None
    i, j = 3, 7
    point = torch.tensor([[regions.xs[i], regions.ys[j]]], dtype=torch.float64)
    with torch.no_grad():
        out = float(problem.net(point))
    want = np.tanh(out / 2) if loss == "bce" else min(max(out, -1.0), 1.0)
    assert regions.values[i, j] == pytest.approx(want, abs=1e-12)


def test_shades_stay_in_range_for_hostile_outputs() -> None:
    out = np.array([np.nan, np.inf, -np.inf, 1e308, -1e308, 0.0, 5e-324])
    for loss in ("mse", "bce"):
        values = shade(loss, out)
        finite = values[np.isfinite(values)]
        assert np.all(np.abs(finite) <= 1.0)
        assert np.isnan(values[0])


def test_no_box_without_two_features() -> None:
    assert region_box(np.zeros((5, 3))) is None
    assert region_box(np.zeros((0, 2))) is None
    box = region_box(np.ones((4, 2)))  # a single point: a box around it, not a flat one
    assert box is not None and box[0] < 1.0 < box[1]


_VALUES = st.one_of(st.floats(-1e6, 1e6), st.sampled_from([1.7e308, -1.7e308, 1e307, 5e-324]))


@given(arrays(np.float64, st.tuples(st.integers(1, 6), st.just(2)), elements=_VALUES))
def test_the_box_is_finite_and_holds_the_data_or_there_is_none(features: np.ndarray) -> None:
    # Huge values among them: one at the top of float's range gives no box, not a warning.
    box = region_box(features)
    if box is None:  # only where padding the range leaves float's range
        assert np.abs(features).max() > 1e307
        return
    assert all(np.isfinite(box))
    assert box[0] <= features[:, 0].min() and features[:, 0].max() <= box[1]
    assert box[2] <= features[:, 1].min() and features[:, 1].max() <= box[3]


def test_the_slice_gives_each_thread_its_own_values() -> None:
    import threading

    result = train_and_slice(_request(10), lambda: False, Gate(), lambda value: None)
    landscape = result.landscape
    points = [torch.tensor([0.1 * k], dtype=torch.float64) for k in range(-5, 6)]
    with torch.no_grad():
        expected = [float(landscape.objective(p, -p)) for p in points]
    wrong: list[float] = []

    def evaluate(order: list[int]) -> None:
        with torch.no_grad():
            for _ in range(30):
                for k in order:
                    value = float(landscape.objective(points[k], -points[k]))
                    if value != expected[k]:
                        wrong.append(value)

    threads = [threading.Thread(target=evaluate, args=(list(range(11)),)),
               threading.Thread(target=evaluate, args=(list(reversed(range(11))),))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == []
