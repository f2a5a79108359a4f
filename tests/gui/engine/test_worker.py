"""The descent worker: streamed rows equal the engine's, throttling, pause/step/stop, shutdown."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

import numpy as np
import pytest
from PySide6.QtCore import QCoreApplication, QObject, QThread
from pytestqt.qtbot import QtBot

import explorer.gui.engine.descent_worker as worker_module
from explorer.core.descent import run_descent
from explorer.core.expression import parse
from explorer.core.presets import get_preset
from explorer.core.trajectory import RunSettings, Status
from explorer.gui.engine.descent_worker import (
    EMIT_INTERVAL_PER_PATH_S,
    EMIT_INTERVAL_S,
    ChunkPayload,
    DescentWorker,
    RunRequest,
    RunResult,
    emit_interval,
)
from tests.gui.helpers import ENGINE_TIMEOUT_MS

HIMMELBLAU = parse(get_preset("himmelblau").formula)


def test_big_batches_emit_less_often() -> None:
    settings = RunSettings(optimizer="sgd", lr=0.01, steps=10)
    one = RunRequest(1, HIMMELBLAU, [[0.0, 0.0]], settings)
    many = RunRequest(2, HIMMELBLAU, np.zeros((10_000, 2)), settings)
    assert emit_interval(one) == EMIT_INTERVAL_S
    assert emit_interval(many) == pytest.approx(10_000 * EMIT_INTERVAL_PER_PATH_S)
    assert emit_interval(many) > 10 * EMIT_INTERVAL_S


class Recorder(QObject):
    """Collects the worker's signals in the GUI thread (a QObject, so they arrive queued)."""

    def __init__(self, worker: DescentWorker) -> None:
        super().__init__()
        self.chunks: dict[int, list[ChunkPayload]] = {}
        self.results: dict[int, RunResult] = {}
        self.failures: dict[int, str] = {}
        worker.chunk_ready.connect(self.on_chunk)
        worker.finished.connect(self.on_finished)
        worker.failed.connect(self.on_failed)

    def on_chunk(self, run_id: int, payload: ChunkPayload) -> None:
        self.chunks.setdefault(run_id, []).append(payload)

    def on_finished(self, run_id: int, result: RunResult) -> None:
        self.results[run_id] = result

    def on_failed(self, run_id: int, message: str) -> None:
        self.failures[run_id] = message

    def rows(self, run_id: int, column: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """A column's streamed rows, joined in order."""
        parts = [p.rows(column) for p in self.chunks.get(run_id, [])]
        if not parts:
            return np.empty((0, 2)), np.empty(0), np.empty((0, 2))
        return (
            np.concatenate([p[0] for p in parts]),
            np.concatenate([p[1] for p in parts]),
            np.concatenate([p[2] for p in parts]),
        )

    def row_count(self, run_id: int) -> int:
        return sum(int((p.end - p.begin).max()) for p in self.chunks.get(run_id, []))


@pytest.fixture
def worker(qtbot: QtBot) -> Iterator[DescentWorker]:
    """A started worker whose engine has loaded."""
    descent = DescentWorker()
    with qtbot.waitSignal(descent.engine_ready, timeout=ENGINE_TIMEOUT_MS):
        descent.start()
    yield descent
    assert descent.shutdown(1000)


def _submit_and_wait(qtbot: QtBot, worker: DescentWorker, request: RunRequest) -> None:
    with qtbot.waitSignal(worker.finished, timeout=30_000):
        worker.submit(request)


def test_streamed_rows_are_exactly_the_engines(qtbot: QtBot, worker: DescentWorker) -> None:
    recorder = Recorder(worker)
    starts = np.array([[0.0, 0.0], [-1.0, -4.0], [4.5, 4.5]])
    settings = RunSettings(optimizer="sgd", lr=0.01, steps=300)
    _submit_and_wait(qtbot, worker, RunRequest(1, HIMMELBLAU, starts, settings))

    expected = run_descent(HIMMELBLAU.evaluate, starts, settings, function=HIMMELBLAU.text)
    result = recorder.results[1]
    for i, want in enumerate(expected.trajectories()):
        xy, f, grad = recorder.rows(1, i)
        got = result.trajectories[i]
        for array, other in ((xy[:, 0], want.x), (xy[:, 1], want.y), (f, want.f),
                             (grad[:, 0], want.grad_x), (grad[:, 1], want.grad_y),
                             (got.x, want.x), (got.f, want.f), (got.grad_y, want.grad_y)):
            assert array.tobytes() == other.tobytes()
        assert got.status == want.status == Status.CONVERGED
    # Every payload owns its arrays: nothing aliases the engine's live buffers or each other.
    payloads = recorder.chunks[1]
    assert all(p.xy.base is None and p.f.base is None for p in payloads)
    assert payloads[-1].status.tolist() == [Status.CONVERGED] * 3


def test_plain_function_receivers_run_in_the_gui_thread(
    qtbot: QtBot, worker: DescentWorker
) -> None:
    threads: list[QThread] = []
    worker.chunk_ready.connect(lambda *_: threads.append(QThread.currentThread()))
    worker.finished.connect(lambda *_: threads.append(QThread.currentThread()))
    settings = RunSettings(optimizer="sgd", lr=0.01, steps=50)
    _submit_and_wait(qtbot, worker, RunRequest(3, HIMMELBLAU, [[0.0, 0.0]], settings))
    gui_thread = QCoreApplication.instance().thread()
    assert len(threads) >= 2
    assert all(thread is gui_thread for thread in threads)


def test_lbfgs_streams_one_start_after_the_other(qtbot: QtBot, worker: DescentWorker) -> None:
    recorder = Recorder(worker)
    starts = np.array([[1.0, 1.0], [-1.0, 2.5]])
    settings = RunSettings(optimizer="lbfgs", lr=0.5, steps=6)
    _submit_and_wait(qtbot, worker, RunRequest(7, HIMMELBLAU, starts, settings))

    expected = run_descent(HIMMELBLAU.evaluate, starts, settings, function=HIMMELBLAU.text)
    for i, want in enumerate(expected.trajectories()):
        xy, f, _ = recorder.rows(7, i)
        assert xy[:, 0].tobytes() == want.x.tobytes()
        assert f.tobytes() == want.f.tobytes()


class FakeClock:
    """The worker's clock in a test: each reading is a millisecond on; a rest costs nothing."""

    def __init__(self) -> None:
        self.now = 0.0

    def perf_counter(self) -> float:
        self.now += 1e-3
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_emits_are_throttled_to_the_screen_rate(
    qtbot: QtBot, worker: DescentWorker, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder = Recorder(worker)
    clock = FakeClock()
    # Only the worker's module reads the fake clock: the count below depends on no real timing.
    monkeypatch.setattr(worker_module, "time",
                        SimpleNamespace(perf_counter=clock.perf_counter, sleep=clock.sleep))
    settings = RunSettings(optimizer="sgd", lr=1e-5, steps=4000, tol=0.0)
    _submit_and_wait(qtbot, worker, RunRequest(2, HIMMELBLAU, [[0.0, 0.0]], settings))
    elapsed = clock.now
    assert recorder.row_count(2) == 4001
    # About 60 a second, plus the last one; never one per step.
    assert len(recorder.chunks[2]) <= elapsed / EMIT_INTERVAL_S * 1.2 + 3
    assert len(recorder.chunks[2]) < 4001 / 4


def test_pause_step_resume_and_stop(qtbot: QtBot, worker: DescentWorker) -> None:
    recorder = Recorder(worker)
    settings = RunSettings(optimizer="sgd", lr=1e-6, steps=100_000, tol=0.0)
    worker.submit(RunRequest(3, HIMMELBLAU, [[0.0, 0.0]], settings))
    qtbot.waitUntil(lambda: recorder.row_count(3) > 5, timeout=10_000)

    worker.pause()
    qtbot.wait(100)  # the chunk in flight lands
    paused_rows = recorder.row_count(3)
    qtbot.wait(200)
    assert recorder.row_count(3) == paused_rows

    with qtbot.waitSignal(worker.chunk_ready, timeout=1000):
        worker.step([3])
    assert recorder.row_count(3) == paused_rows + 1
    qtbot.wait(100)
    assert recorder.row_count(3) == paused_rows + 1

    worker.resume()
    qtbot.waitUntil(
        lambda: recorder.row_count(3) > paused_rows + 20, timeout=5000
    )

    worker.stop([3])
    qtbot.waitUntil(lambda: worker.is_idle, timeout=100)  # within a few frames, even when busy
    qtbot.wait(50)
    rows = recorder.row_count(3)
    qtbot.wait(150)
    assert recorder.row_count(3) == rows
    assert 3 not in recorder.results


def test_a_new_run_does_not_wait_for_a_long_one(qtbot: QtBot, worker: DescentWorker) -> None:
    recorder = Recorder(worker)
    long = RunSettings(optimizer="sgd", lr=1e-6, steps=100_000, tol=0.0)
    worker.submit(RunRequest(4, HIMMELBLAU, [[0.0, 0.0]], long))
    _submit_and_wait(qtbot, worker, RunRequest(5, HIMMELBLAU, [[1.0, 1.0]],
                                                RunSettings(steps=20)))
    assert 5 in recorder.results and 4 not in recorder.results
    worker.stop([4])


def test_a_refused_setting_fails_the_run_and_the_worker_goes_on(
    qtbot: QtBot, worker: DescentWorker
) -> None:
    recorder = Recorder(worker)
    bad = RunSettings.create({"betas": (2.0, 0.5)}, optimizer="adam", lr=0.05, steps=10)
    with qtbot.waitSignal(worker.failed, timeout=10_000):
        worker.submit(RunRequest(6, HIMMELBLAU, [[0.0, 0.0]], bad))
    assert "beta" in recorder.failures[6].lower()
    _submit_and_wait(qtbot, worker, RunRequest(8, HIMMELBLAU, [[0.0, 0.0]],
                                                RunSettings(steps=5)))
    assert recorder.results[8].trajectories[0].steps == 5


def test_shutdown_mid_run_joins_within_a_second(qtbot: QtBot) -> None:
    descent = DescentWorker()
    with qtbot.waitSignal(descent.engine_ready, timeout=ENGINE_TIMEOUT_MS):
        descent.start()
    with qtbot.waitSignal(descent.chunk_ready, timeout=10_000):
        descent.submit(RunRequest(1, HIMMELBLAU, [[0.0, 0.0]] * 50,
                                  RunSettings(lr=1e-6, steps=100_000, tol=0.0)))
    assert descent.shutdown(1000)  # joined within the second it is given
    assert not descent.thread_handle.isRunning()


def test_requests_are_immutable() -> None:
    starts = np.array([[1.0, 2.0]])
    request = RunRequest(1, HIMMELBLAU, starts, RunSettings())
    starts[0, 0] = 99.0  # the request made its own copy
    assert request.starts[0, 0] == 1.0
    with pytest.raises(ValueError):
        request.starts[0, 0] = 5.0
    with pytest.raises(AttributeError):
        request.run_id = 2  # type: ignore[misc]
