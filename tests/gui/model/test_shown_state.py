"""The optimiser state travels with its rows: from the worker's payload into the shown path."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer.core.trajectory import RunSettings
from explorer.gui.engine.descent_worker import ChunkPayload
from explorer.gui.model.shown import ShownTrajectory


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
