"""The frame scheduler's pacing: each path takes the chosen time, whatever its length."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PySide6.QtWidgets import QApplication

from explorer.core.trajectory import RunSettings, Status
from explorer.gui.model import scheduler as scheduler_module
from explorer.gui.model.run_store import RunStore
from explorer.gui.model.scheduler import FrameScheduler
from explorer.gui.model.shown import ShownTrajectory


class FakeClock:
    """time.perf_counter for the scheduler, moved by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _path(store: RunStore, path_id: int, budget: int) -> ShownTrajectory:
    shown = ShownTrajectory(path_id, path_id, 0, (0, 0, 0), (0.0, 0.0),
                            RunSettings(steps=budget), "x**2 + y**2")
    store.paths[path_id] = shown
    return shown


def _receive(shown: ShownTrajectory, rows: int) -> None:
    shown.append(np.zeros((rows, 2)), np.zeros(rows), np.zeros((rows, 2)))


@pytest.fixture(autouse=True)
def _application(qapp: QApplication) -> None:
    """The scheduler's timer needs a QApplication (the tests tick it by hand)."""


def _scheduler(monkeypatch: pytest.MonkeyPatch, seconds: list[float]
               ) -> tuple[FrameScheduler, RunStore, FakeClock]:
    clock = FakeClock()
    monkeypatch.setattr(scheduler_module.time, "perf_counter", clock)
    store = RunStore()
    return FrameScheduler(store, lambda: seconds[0], lambda shown: None), store, clock


def _tick(scheduler: FrameScheduler, clock: FakeClock, seconds: float) -> None:
    """Let seconds pass, in frames of at most 0.1 s (longer ones count as stalls)."""
    frames = max(1, round(seconds / 0.1))
    for _ in range(frames):
        clock.now += seconds / frames
        scheduler._on_tick()


def _stall(scheduler: FrameScheduler, clock: FakeClock, seconds: float) -> None:
    """One frame that came seconds late."""
    clock.now += seconds
    scheduler._on_tick()


def test_a_path_takes_the_path_time_whatever_its_length(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    scheduler, store, clock = _scheduler(monkeypatch, [2.0])
    short, long = _path(store, 1, 500), _path(store, 2, 500)
    for shown, rows in ((short, 41), (long, 501)):  # 40 and 500 steps, computed
        _receive(shown, rows)
        shown.status = Status.CONVERGED
        scheduler.animate(shown.path_id)
    scheduler.ensure_running()
    for _ in range(10):
        _tick(scheduler, clock, 0.1)  # 1 s of 2
    # Halfway through the time, halfway along each path (the start row comes first).
    assert short.shown == 1 + 20 and long.shown == 1 + 250
    for _ in range(10):
        _tick(scheduler, clock, 0.1)
    assert short.shown == 41 and long.shown == 501
    assert not scheduler.animating


def test_a_path_still_computing_goes_at_the_budgets_pace_then_at_its_own(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    scheduler, store, clock = _scheduler(monkeypatch, [2.0])
    shown = _path(store, 1, 500)
    _receive(shown, 100)
    scheduler.animate(1)
    scheduler.ensure_running()
    _tick(scheduler, clock, 0.2)
    assert shown.shown == 1 + 50  # 500 steps in 2 s: 250 a second
    _tick(scheduler, clock, 0.2)
    assert shown.shown == 100  # as far as computed
    _receive(shown, 100)  # it converged at step 199: 199 steps in 2 s
    shown.status = Status.CONVERGED
    _tick(scheduler, clock, 0.6)
    assert shown.shown == 1 + int(1.0 / 2.0 * 199)
    _tick(scheduler, clock, 0.25)
    _tick(scheduler, clock, 0.25)
    _tick(scheduler, clock, 0.5)
    assert shown.shown == 200


def test_pause_holds_a_path_and_a_stalled_frame_does_not_make_it_jump(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    scheduler, store, clock = _scheduler(monkeypatch, [2.0])
    shown = _path(store, 1, 400)
    _receive(shown, 401)
    shown.status = Status.MAX_STEPS
    scheduler.animate(1)
    scheduler.ensure_running()
    _tick(scheduler, clock, 0.5)
    at = shown.shown
    assert at == 1 + 100
    scheduler.paused = True
    scheduler.hold_paths()
    _stall(scheduler, clock, 5.0)
    assert shown.shown == at
    shown.step_target += 1  # Step, by hand
    _tick(scheduler, clock, 0.1)
    assert shown.shown == at + 1
    scheduler.paused = False
    scheduler.reset_credit()  # resumes from where it is drawn
    _stall(scheduler, clock, 10.0)  # a stalled frame: at most MAX_TICK_S of animation
    assert shown.shown == at + 1 + int(scheduler_module.MAX_TICK_S / 2.0 * 400)


@given(st.one_of(st.just(0.0), st.floats(1e-3, 600.0)), st.integers(1, 5000))
@settings(max_examples=60, deadline=None)
def test_any_path_time_ends_every_path_in_that_time(seconds: float, steps: int) -> None:
    with pytest.MonkeyPatch.context() as monkeypatch:
        scheduler, store, clock = _scheduler(monkeypatch, [seconds])
        shown = _path(store, 1, steps)
        _receive(shown, steps + 1)
        shown.status = Status.CONVERGED
        scheduler.animate(1)
        scheduler.ensure_running()
        ticks = 0
        while shown.shown < shown.received:
            _stall(scheduler, clock, 0.05)
            ticks += 1
            assert ticks * 0.05 <= seconds + 0.05 + 1e-9  # never later than the path time
        # ... nor sooner, by more than a tick (instant: at the first tick).
        assert ticks * 0.05 >= seconds - 0.05 - 1e-9 * max(seconds, 1.0)
