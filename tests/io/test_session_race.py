"""Sessions keep race entries with scipy methods and the race's evaluation budget (issue 16);
a hostile 'race_evaluations' is one SessionError naming the field."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from explorer.core.race import MAX_EVALUATIONS, RaceEntry
from explorer.core.trajectory import RunSettings
from explorer.io.session import Session, SessionError, session_from_json, session_to_json

BASE = RunSettings(steps=50, tol=1e-6)
ENTRIES = (
    RaceEntry.default("bfgs").settings(BASE),
    RaceEntry("nelder-mead", 0.01, (("maxfev", 40), ("adaptive", True))).settings(BASE),
    RaceEntry("adam", 0.05).settings(BASE),
)


def session(evaluations: int | None) -> Session:
    return Session("x**2 + y**2", (-2.0, 2.0, -2.0, 2.0), race=ENTRIES,
                   race_evaluations=evaluations)


@pytest.mark.parametrize("evaluations", [None, 1, 37, MAX_EVALUATIONS])
def test_scipy_race_entries_and_the_budget_come_back(evaluations: int | None) -> None:
    data = json.loads(json.dumps(session_to_json(session(evaluations))))
    assert ("race_evaluations" in data) == (evaluations is not None)
    back = session_from_json(data)
    assert back.race == ENTRIES
    assert back.race_evaluations == evaluations


def test_an_older_file_without_the_field_races_by_steps() -> None:
    data = session_to_json(session(None))
    assert "race_evaluations" not in data
    assert session_from_json({**data, "race_evaluations": None}).race_evaluations is None


@given(st.one_of(
    st.integers(-10**20, 10**20),
    st.booleans(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
))
def test_a_hostile_budget_is_one_error_naming_the_field(value: object) -> None:
    data = {**session_to_json(session(None)), "race_evaluations": value}
    fine = isinstance(value, int) and not isinstance(value, bool)
    if fine and 1 <= value <= MAX_EVALUATIONS:  # type: ignore[operator]
        assert session_from_json(data).race_evaluations == value
        return
    with pytest.raises(SessionError, match="field 'race_evaluations': expected null or a whole"):
        session_from_json(data)


@pytest.mark.parametrize(
    ("params", "field"),
    [({"maxfev": 0}, "race[0].params.maxfev"), ({"maxfev": math.inf}, None),
     ({"momentum": 0.9}, "race[0].params.momentum"), ({"maxfev": "ten"}, "race[0].params.maxfev")],
)
def test_a_scipy_race_entry_with_bad_options_is_refused(
    params: dict[str, object], field: str | None
) -> None:
    data = session_to_json(session(None))
    data["race"][0] = {**data["race"][0], "optimizer": "nelder-mead", "params": params}
    text = json.dumps(data)  # infinity as JSON's Infinity, as a hand-edited file may have it
    with pytest.raises(SessionError) as error:
        session_from_json(json.loads(text))
    if field is not None:
        assert f"field '{field}'" in str(error.value)


def test_a_scipy_race_entry_with_a_schedule_or_noise_is_refused() -> None:
    data = session_to_json(session(None))
    for key, value in (("schedule", "cosine"), ("noise", 0.5), ("ascent", True)):
        bad = json.loads(json.dumps(data))
        bad["race"][0][key] = value
        with pytest.raises(SessionError, match=rf"race\[0\]\.{key}"):
            session_from_json(bad)
