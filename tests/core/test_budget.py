"""The request limits: steps per path, point-steps of work, memory for rows kept (issue 14, 12)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from explorer.core.budget import (
    MAX_POINT_STEPS,
    MAX_ROW_BYTES,
    MAX_STEPS,
    BudgetError,
    check_steps,
    check_work,
    size_text,
)

# x, y, f, grad_x, grad_y as float64: worked out here, not read from the module.
BYTES_PER_ROW = 5 * 8


def test_steps_up_to_the_limit_pass_and_one_more_is_refused() -> None:
    check_steps(MAX_STEPS)
    with pytest.raises(BudgetError) as info:
        check_steps(MAX_STEPS + 1)
    assert str(MAX_STEPS) in str(info.value)
    assert size_text((MAX_STEPS + 2) * BYTES_PER_ROW) in str(info.value)


def test_the_reported_request_gives_the_limit_and_the_memory() -> None:
    with pytest.raises(BudgetError) as info:
        check_steps(100_000_000_000)
    message = str(info.value)
    assert "1000000" in message and "TiB" in message


def test_rows_kept_over_the_budget_give_the_memory_they_would_need() -> None:
    paths = MAX_ROW_BYTES // (BYTES_PER_ROW * MAX_STEPS) + 1
    with pytest.raises(BudgetError) as info:
        check_work(paths, MAX_STEPS, keep_rows=True)
    assert size_text(paths * (MAX_STEPS + 1) * BYTES_PER_ROW) in str(info.value)
    check_work(paths, MAX_STEPS, keep_rows=False)  # the same without rows kept is fine


def test_a_basin_grid_of_512_gets_the_steps_its_work_allows() -> None:
    starts = 512 * 512
    most = MAX_POINT_STEPS // starts
    check_work(starts, most, keep_rows=False)
    with pytest.raises(BudgetError) as info:
        check_work(starts, most + 1, keep_rows=False)
    assert str(most) in str(info.value)


@given(
    paths=st.integers(min_value=1, max_value=10**7),
    steps=st.integers(min_value=0, max_value=10**12),
    keep_rows=st.booleans(),
)
def test_a_request_passes_exactly_when_it_is_within_every_limit(
    paths: int, steps: int, keep_rows: bool
) -> None:
    within = (
        steps <= MAX_STEPS
        and paths * steps <= MAX_POINT_STEPS
        and (not keep_rows or paths * (steps + 1) * BYTES_PER_ROW <= MAX_ROW_BYTES)
    )
    try:
        check_work(paths, steps, keep_rows=keep_rows)
    except BudgetError as error:
        assert not within
        assert "\n" not in str(error) and "limit" in str(error)
    else:
        assert within


@given(st.integers(min_value=0, max_value=10**20))
def test_sizes_read_in_their_unit(count: int) -> None:
    text = size_text(count)
    number, unit = text.split()
    units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"]
    value = float(number) * 1024 ** units.index(unit)
    # One decimal in the unit shown: within half a tenth of that unit (or exact in bytes).
    assert abs(value - count) <= 0.05 * 1024 ** units.index(unit) + 0.5
    assert unit == "PiB" or float(number) <= 1024  # 1023.96 KiB shows as 1024.0


@given(st.integers(min_value=10**300, max_value=10**1000))
def test_counts_past_floats_range_are_shown_not_raised(count: int) -> None:
    # A step count typed with hundreds of digits (the window's network panel) reached here.
    assert size_text(count).endswith(" PiB")
    with pytest.raises(BudgetError, match="limit"):
        check_steps(count)
