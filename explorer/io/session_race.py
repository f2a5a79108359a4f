"""The session's race budget: 'race_evaluations', the f evaluations per start every race entry
gets (core.race.entry_settings); absent or null: the race runs by steps."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NoReturn

from explorer.core.race import MAX_EVALUATIONS

KEY = "race_evaluations"


def race_budget_out(evaluations: int | None) -> dict[str, Any]:
    """The field as JSON data (nothing for a race by steps, so older readers see no change)."""
    return {} if evaluations is None else {KEY: int(evaluations)}


def race_budget_in(fail: Callable[[str, str], NoReturn], top: Mapping[str, Any]) -> int | None:
    """The field from a session's top level: null, or a whole number 1..MAX_EVALUATIONS."""
    value = top.get(KEY)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not (
        1 <= value <= MAX_EVALUATIONS
    ):
        shown = repr(value) if isinstance(value, int | float) else type(value).__name__
        fail(KEY, f"expected null or a whole number from 1 to {MAX_EVALUATIONS:,}, found {shown}")
    return int(value)
