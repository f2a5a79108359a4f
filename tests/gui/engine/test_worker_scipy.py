"""The descent worker with a scipy.optimize method: one minimize per start, each start's path
whole in one chunk with its evaluated points, stoppable between starts."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from pytestqt.qtbot import QtBot

from explorer.core.expression import parse
from explorer.core.presets import get_preset
from explorer.core.scipy_methods import minimize
from explorer.core.trajectory import RunSettings
from explorer.gui.engine.descent_worker import DescentWorker, RunRequest
from tests.gui.engine.test_worker import Recorder
from tests.gui.helpers import ENGINE_TIMEOUT_MS

HIMMELBLAU = parse(get_preset("himmelblau").formula)
STARTS = np.array([[0.0, 0.0], [-1.0, -4.0], [4.5, 4.5]])


@pytest.fixture
def worker(qtbot: QtBot) -> Iterator[DescentWorker]:
    """A started worker whose engine has loaded."""
    descent = DescentWorker()
    with qtbot.waitSignal(descent.engine_ready, timeout=ENGINE_TIMEOUT_MS):
        descent.start()
    yield descent
    assert descent.shutdown(1000)


def test_each_start_is_minimize_whole_with_its_evaluations(
    qtbot: QtBot, worker: DescentWorker
) -> None:
    recorder = Recorder(worker)
    settings = RunSettings.create({"xatol": 1e-6}, optimizer="nelder-mead", steps=200, tol=1e-9)
    with qtbot.waitSignal(worker.finished, timeout=30_000):
        worker.submit(RunRequest(1, HIMMELBLAU, STARTS, settings))
    result = recorder.results[1]
    for i, start in enumerate(STARTS):
        want = minimize(HIMMELBLAU.evaluate, (start[0], start[1]), "nelder-mead", steps=200,
                        tol=1e-9, options={"xatol": 1e-6})
        xy, f, grad = recorder.rows(1, i)
        got = result.trajectories[i]
        for array, other in ((xy[:, 0], want.trajectory.x), (xy[:, 1], want.trajectory.y),
                             (f, want.trajectory.f), (grad[:, 1], want.trajectory.grad_y),
                             (got.x, want.trajectory.x)):
            assert array.tobytes() == other.tobytes()
        assert got.evaluations == want.trajectory.evaluations
        assert got.scipy is not None
        np.testing.assert_array_equal(got.scipy.points, want.evaluated)
        # The chunk that brought the start's rows brought its whole trajectory too.
        (carrier,) = [p for p in recorder.chunks[1] if i in p.finished]
        record = carrier.finished[i].scipy
        assert record is not None
        np.testing.assert_array_equal(record.points, want.evaluated)
        assert int(carrier.end[i]) == len(want.trajectory.x) and int(carrier.begin[i]) == 0


def test_paused_it_computes_one_start_per_step_and_stops_between_starts(
    qtbot: QtBot, worker: DescentWorker
) -> None:
    recorder = Recorder(worker)
    settings = RunSettings(optimizer="powell", steps=50, tol=1e-9)
    worker.pause()
    worker.submit(RunRequest(2, HIMMELBLAU, STARTS, settings))
    qtbot.wait(100)
    assert recorder.row_count(2) == 0
    with qtbot.waitSignal(worker.chunk_ready, timeout=10_000):
        worker.step([2])
    qtbot.wait(100)
    done = [i for p in recorder.chunks[2] for i in p.finished]
    assert done == [0]  # one whole start, the others not begun
    worker.stop([2])
    worker.resume()
    qtbot.waitUntil(lambda: worker.is_idle, timeout=1000)
    qtbot.wait(100)
    assert [i for p in recorder.chunks[2] for i in p.finished] == [0]
    assert 2 not in recorder.results
