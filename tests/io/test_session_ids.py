"""Session files keep each run's id, the next id and the race's colours; bad ones are refused."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer.core.trajectory import RunSettings
from explorer.io.session import (
    MAX_RUN_ID,
    Session,
    SessionError,
    SessionRun,
    load_session,
    save_session,
    session_from_json,
    session_to_json,
)

SGD = RunSettings(optimizer="sgd", lr=0.1, steps=5)
ADAM = RunSettings(optimizer="adam", lr=0.05, steps=5)


def _session() -> Session:
    return Session(
        function="x**2 + y**2",
        domain=(-1.0, 1.0, -1.0, 1.0),
        runs=(SessionRun(SGD, ((0.5, 0.5), (-0.5, 0.25)), ids=(1, 3)),
              SessionRun(ADAM, ((0.1, -0.2),), ids=(7,))),
        race=(SGD, ADAM),
        race_colors=((230, 159, 0), (86, 180, 233)),
        next_id=8,
    )


def _json() -> dict[str, Any]:
    return session_to_json(_session())


def test_ids_next_id_and_race_colours_survive_a_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "ids.json"
    save_session(path, _session())
    back = load_session(path)
    assert [run.ids for run in back.runs] == [run.ids for run in _session().runs]
    assert back.next_id == _session().next_id
    assert back.race_colors == _session().race_colors
    data = json.loads(path.read_text())
    assert data["race"][1]["color"] == list(_session().race_colors[1])


def test_files_without_ids_or_colours_still_read() -> None:
    data = _json()
    del data["next_id"]
    for run in data["runs"]:
        del run["ids"]
    for entry in data["race"]:
        del entry["color"]
    session = session_from_json(data)
    assert all(run.ids is None for run in session.runs)
    assert session.next_id is None and session.race_colors == ()


HOSTILE: list[object] = [True, False, "1", 1.0, 0, -1, MAX_RUN_ID + 1, 10**30, [], {}, [1]]


def _refused(data: dict[str, Any], field: str) -> None:
    with pytest.raises(SessionError) as caught:
        session_from_json(data, "bad.json")
    message = str(caught.value)
    assert message.startswith(f"bad.json: field '{field}") and "\n" not in message


@settings(max_examples=80, deadline=None)
@given(value=st.one_of(st.sampled_from(HOSTILE), st.integers(), st.floats(), st.text(max_size=4),
                       st.none()),
       run=st.integers(0, 1))
def test_a_bad_id_is_refused_naming_it(value: object, run: int) -> None:
    data = _json()
    data["runs"][run]["ids"][0] = value
    good = isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_RUN_ID
    taken = {i for r in _session().runs for i in r.ids or ()} - {_session().runs[run].ids[0]}
    if good and value not in taken and value < 8:  # below next_id, and nobody else's
        assert session_from_json(data).runs[run].ids[0] == value
        return
    with pytest.raises(SessionError) as caught:
        session_from_json(data, "bad.json")
    assert "\n" not in str(caught.value) and str(caught.value).startswith("bad.json: field '")


def test_ids_must_be_one_per_start_and_never_shared() -> None:
    data = _json()
    data["runs"][0]["ids"] = [1]
    _refused(data, "runs[0].ids")
    data = _json()
    data["runs"][1]["ids"] = [3]  # run 0's second start has #3
    _refused(data, "runs[1].ids")
    data = _json()
    data["runs"][0]["ids"] = "1, 3"
    _refused(data, "runs[0].ids")


@settings(max_examples=60, deadline=None)
@given(value=st.one_of(st.sampled_from(HOSTILE), st.integers(), st.floats(), st.text(max_size=4)))
def test_a_bad_next_id_is_refused_naming_it(value: object) -> None:
    data = _json()
    data["next_id"] = value
    good = (isinstance(value, int) and not isinstance(value, bool)
            and 8 <= value <= MAX_RUN_ID + 1)  # past #7, the highest id in the file
    if good:
        assert session_from_json(data).next_id == value
    else:
        _refused(data, "next_id")


@settings(max_examples=80, deadline=None)
@given(value=st.one_of(st.sampled_from(HOSTILE), st.lists(st.integers(-300, 300), max_size=4),
                       st.text(max_size=7), st.lists(st.floats(0, 255), min_size=3, max_size=3)))
def test_a_bad_race_colour_is_refused_naming_it(value: object) -> None:
    data = _json()
    data["race"][1]["color"] = value
    good = (isinstance(value, list) and len(value) == 3 and all(
        isinstance(c, int) and not isinstance(c, bool) and 0 <= c <= 255 for c in value))
    if good:
        assert isinstance(value, list)
        assert session_from_json(data).race_colors[1] == tuple(value)
    else:
        _refused(data, "race[1].color")


def test_race_colours_are_all_or_none() -> None:
    data = _json()
    del data["race"][0]["color"]
    _refused(data, "race[0].color")
