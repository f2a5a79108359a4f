"""The optimiser state travels with its rows: from the worker's payload into the shown path."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer.core.expression import parse
from explorer.core.trajectory import RunSettings
from explorer.gui.engine.descent_worker import ChunkPayload
from explorer.gui.model.shown import ShownTrajectory
from explorer.gui.model.state_replay import MAX_REPLAY_STEPS, can_replay, replay_state


def _shown(steps: int) -> ShownTrajectory:
    return ShownTrajectory(1, 1, 0, (255, 0, 0), (0.0, 0.0), RunSettings(steps=steps), "x")


@given(sizes=st.lists(st.integers(0, 90), min_size=1, max_size=8),
       with_state=st.lists(st.booleans(), min_size=8, max_size=8))
@settings(max_examples=60, deadline=None)
def test_state_rows_follow_any_chunking(sizes: list[int], with_state: list[bool]) -> None:
    total = sum(sizes)
    rows = np.arange(2 * total, dtype=np.float64).reshape(-1, 2)
    shown = _shown(max(total, 1))
    expected = np.full((total, 2), np.nan)
    at = 0
    for size, keep in zip(sizes, with_state, strict=False):
        part = rows[at:at + size]
        state = {"exp_avg": -part} if keep else None
        shown.append(part, part[:, 0], part, state=state)
        if keep:
            expected[at:at + size] = -part
        at += size
    got = shown.state_rows()
    if not any(keep and size for size, keep in zip(sizes, with_state, strict=False)):
        assert got.get("exp_avg") is None or np.isnan(got["exp_avg"]).all()
        return
    assert got["exp_avg"].shape == (total, 2)
    assert np.array_equal(got["exp_avg"], expected, equal_nan=True)
    assert np.array_equal(shown.xy[:total], rows)  # the rows themselves unchanged


def test_payload_state_rows_are_the_columns_rows() -> None:
    xy = np.arange(24, dtype=np.float64).reshape(4, 3, 2)  # rows 5..8 of three paths
    payload = ChunkPayload(
        first_row=5, xy=xy, f=xy[..., 0], grad=xy, begin=np.array([5, 6, 8]),
        end=np.array([9, 9, 8]), status=np.zeros(3, np.int8), reason=np.zeros(3, np.int8),
        state={"sum": xy * 10},
    )
    assert np.array_equal(payload.state_rows(1)["sum"], xy[1:4, 1] * 10)
    assert payload.state_rows(2)["sum"].shape == (0, 2)
    plain = ChunkPayload(5, xy, xy[..., 0], xy, payload.begin, payload.end, payload.status,
                         payload.reason)
    assert plain.state_rows(0) == {}


def _finished(settings: RunSettings, starts: list[tuple[float, float]]) -> list[ShownTrajectory]:
    """Paths as a session shows them: whole, from the engine's numbers, with no state."""
    from explorer.core.descent import run_descent

    run = run_descent(parse(RAVINE).evaluate, starts, settings)
    paths = []
    for column, t in enumerate(run.trajectories()):
        shown = ShownTrajectory(column + 1, 7, column, (0, 0, 0), t.start, settings, RAVINE)
        shown.append(np.column_stack([t.x, t.y]), t.f, np.column_stack([t.grad_x, t.grad_y]))
        shown.shown, shown.status = shown.received, t.status
        paths.append(shown)
    return paths


RAVINE = "x**2 + 10*y**2"


def test_replay_gives_the_state_only_to_paths_it_reproduces() -> None:
    from explorer.core.descent import descend

    settings = RunSettings(optimizer="rmsprop", lr=0.05, steps=25, tol=0.0)
    starts = [(-4.0, 2.0), (1.0, 1.0)]
    run = None
    for chunk in descend(parse(RAVINE).evaluate, starts, settings, state=True):
        run = chunk.run
    assert run is not None
    paths = _finished(settings, starts)
    assert replay_state(parse(RAVINE), paths)
    for shown, t in zip(paths, run.trajectories(), strict=True):
        assert np.array_equal(shown.state_rows()["square_avg"], t.state["square_avg"],
                              equal_nan=True)
    tampered = _finished(settings, starts)
    tampered[1].xy[5, 0] += 1e-6  # an edited file: not what the engine computed
    assert not replay_state(parse(RAVINE), tampered)
    assert all(shown.state == {} for shown in tampered)


@pytest.mark.parametrize("spoil", ["imported", "lbfgs", "steps", "stopped", "mixed"])
def test_replay_refuses_what_it_cannot_reproduce(spoil: str) -> None:
    settings = RunSettings(optimizer="lbfgs" if spoil == "lbfgs" else "adam", lr=0.01,
                           steps=MAX_REPLAY_STEPS + 5 if spoil == "steps" else 10, tol=0.0)
    paths = _finished(settings, [(1.0, 2.0), (2.0, 1.0)])
    if spoil == "imported":
        paths[0].imported = True
    if spoil == "stopped":
        paths[1].stopped = True
    if spoil == "mixed":
        paths[1].settings = RunSettings(optimizer="adam", lr=0.02, steps=10)
    assert not can_replay(paths)
    assert not replay_state(parse(RAVINE), paths)
    assert all(shown.state == {} for shown in paths)
    assert not can_replay([])
