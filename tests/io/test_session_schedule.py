"""Sessions keep each run's learning-rate schedule; older files without one read as constant."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer import cli
from explorer.core.descent import run_descent
from explorer.core.expression import parse
from explorer.core.schedules import canonical
from explorer.core.trajectory import RunSettings
from explorer.io.session import (
    Session,
    SessionError,
    SessionRun,
    compute_session,
    load_session,
    save_session,
    session_from_json,
    session_to_json,
)
from explorer.io.trajectory_csv import read_trajectories

FUNCTION = "x**2 + 3*y**2 + sin(x*y)"
SCHEDULED = RunSettings(optimizer="adam", lr=0.1, steps=12, tol=0.0, schedule="cosine:eta_min=0.01")


def _session() -> Session:
    return Session(
        function=FUNCTION,
        domain=(-2.0, 2.0, -2.0, 2.0),
        controls=SCHEDULED,
        runs=(
            SessionRun(SCHEDULED, ((0.5, 0.5), (-1.0, 1.0))),
            SessionRun(RunSettings(lr=0.05, steps=5), ((1.0, 1.0),)),
        ),
        race=(SCHEDULED,),
    )


def test_the_schedule_survives_a_save_and_the_rates_follow_from_it(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    save_session(path, compute_session(_session()))
    loaded = load_session(path)
    assert loaded.controls.schedule == SCHEDULED.schedule
    assert loaded.race[0].schedule == SCHEDULED.schedule
    assert [run.settings.schedule for run in loaded.runs] == [SCHEDULED.schedule, ""]
    engine = run_descent(parse(FUNCTION).evaluate, [(0.5, 0.5)], SCHEDULED).trajectory(0)
    first = loaded.runs[0].trajectories
    assert first is not None and first[0].rates is not None and engine.rates is not None
    np.testing.assert_array_equal(first[0].rates, engine.rates)
    np.testing.assert_array_equal(first[0].x, engine.x)
    plain = loaded.runs[1].trajectories
    assert plain is not None and plain[0].rates is None


def test_an_older_file_without_a_schedule_is_constant() -> None:
    data = session_to_json(_session())
    for entry in (data["controls"], *(run["settings"] for run in data["runs"]), *data["race"]):
        del entry["schedule"]
    session = session_from_json(data, "old.json")
    assert session.controls.schedule == "" and session.runs[0].settings.schedule == ""


def test_the_schedule_is_kept_canonical() -> None:
    data = session_to_json(_session())
    data["controls"]["schedule"] = " cosine : eta_min=0.01 "
    assert session_from_json(data, "s.json").controls.schedule == "cosine:eta_min=0.01"


def test_run_session_reruns_the_schedule(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    save_session(path, _session(), with_trajectories=False)
    csv_path = tmp_path / "out.csv"
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(["run", "--session", str(path), "--csv", str(csv_path), "--json"], out, err)
    assert code == 0, err.getvalue()
    entries = json.loads(out.getvalue())["trajectories"]
    assert [e["schedule"] for e in entries] == [SCHEDULED.schedule] * 2 + [""]
    first = read_trajectories(csv_path)[0]
    engine = run_descent(parse(FUNCTION).evaluate, [(0.5, 0.5)], SCHEDULED).trajectory(0)
    assert first.rates is not None and engine.rates is not None
    np.testing.assert_array_equal(first.rates, engine.rates)


@pytest.mark.parametrize(
    "value",
    [5, 0.5, True, None, [], {}, "warp", ":", "cosine:", "cosine:T_max=0", "step:gamma=nan",
     "onecycle:total_steps=3", "x" * 5000, "cosine:T_max=5,T_max=6"],
)
def test_a_bad_schedule_names_its_field(value: object) -> None:
    data = session_to_json(_session())
    data["runs"][0]["settings"]["schedule"] = value
    with pytest.raises(SessionError, match=r"field 'runs\[0\]\.settings\.schedule'") as caught:
        session_from_json(data, "s.json")
    assert "\n" not in str(caught.value) and len(str(caught.value)) < 400


@settings(max_examples=80, deadline=None)
@given(st.one_of(st.text(max_size=40), st.integers(), st.floats(), st.none(), st.booleans()))
def test_any_schedule_value_reads_or_is_named(value: object) -> None:
    data = session_to_json(_session())
    data["race"][0]["schedule"] = value
    try:
        session = session_from_json(data, "s.json")
    except SessionError as error:
        assert "field 'race[0].schedule'" in str(error) and "\n" not in str(error)
        return
    # Accepted: text that core.schedules takes, kept in its canonical form.
    assert isinstance(value, str)
    assert session.race[0].schedule == canonical(value)
