"""The path time in session files: kept, left out, and refused when it is not seconds."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer.core.trajectory import RunSettings
from explorer.io.session import (
    MAX_PATH_TIME,
    Session,
    SessionError,
    ViewSettings,
    session_from_json,
    session_to_json,
)


def _session(path_time: float | None) -> Session:
    return Session(function="x**2 + y**2", domain=(-1.0, 1.0, -1.0, 1.0),
                   controls=RunSettings(), view=ViewSettings(path_time=path_time))


@settings(deadline=None)  # the first example parses f (sympy loads)
@given(st.one_of(st.none(), st.just(0.0), st.just(MAX_PATH_TIME),
                 st.floats(0.0, MAX_PATH_TIME)))
def test_the_path_time_survives_a_round_trip(path_time: float | None) -> None:
    data = session_to_json(_session(path_time))
    assert data["view"]["path_time"] == path_time
    assert session_from_json(data).view.path_time == path_time


def test_an_older_file_without_it_leaves_the_window_its_own() -> None:
    data = session_to_json(_session(3.0))
    del data["view"]["path_time"]
    assert session_from_json(data).view.path_time is None


@settings(deadline=None)
@given(st.one_of(
    st.booleans(), st.text(max_size=5), st.lists(st.integers(), max_size=2),
    st.floats().filter(lambda v: not 0.0 <= v <= MAX_PATH_TIME),
    st.integers().filter(lambda v: not 0 <= v <= MAX_PATH_TIME),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=1),
))
def test_anything_but_seconds_in_range_is_refused_by_name(bad: object) -> None:
    data = session_to_json(_session(1.0))
    data["view"]["path_time"] = bad
    with pytest.raises(SessionError) as caught:
        session_from_json(data)
    message = str(caught.value)
    assert "view.path_time" in message and f"{MAX_PATH_TIME:g}" in message
    assert "\n" not in message and "Traceback" not in message
    if isinstance(bad, float) and math.isfinite(bad):
        assert repr(bad) in message or f"{bad:g}" in message
