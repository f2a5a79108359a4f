"""Hostile session files: every field, given a wrong type or an out-of-range value, is refused
with a one-line SessionError that names the field, and never with any other exception."""

from __future__ import annotations

import copy
import io
import json
import math
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from explorer.core.budget import MAX_ROW_BYTES, MAX_STEPS, ROW_BYTES
from explorer.core.optimizers import REGISTRY
from explorer.core.race import MAX_EVALUATIONS
from explorer.core.scipy_methods import METHODS
from explorer.core.trajectory import RunSettings
from explorer.io.session import (
    FORMAT,
    MAX_RUNS,
    MAX_SEED,
    VERSION,
    Session,
    SessionError,
    SessionRun,
    compute_session,
    load_session,
    session_from_json,
    session_to_json,
)

Path_ = tuple[str | int, ...]
DELETE = object()
HOSTILE: list[object] = [
    True, False, None, "0.9", "", "nan", [], [1.0, 2.0], {}, {"a": 1},
    math.nan, math.inf, -math.inf, 10**30, -(10**30), -1, -0.5, 0, 1e308, 2**64, DELETE,
]


def _valid() -> dict[str, Any]:
    """A session that uses every field: runs with trajectories, a race, pending starts."""
    nadam = RunSettings.create({"momentum_decay": 0.01, "betas": (0.8, 0.95)}, optimizer="nadam",
                               lr=0.05, steps=6, noise=0.1, seed=3,
                               schedule="cosine-restarts:T_0=2,T_mult=2")
    lbfgs = RunSettings.create({"history_size": 5, "line_search_fn": "strong_wolfe"},
                               optimizer="lbfgs", lr=1.0, steps=3, schedule="step:step_size=2")
    # A scipy method: its options, counts, message and the points where f was evaluated.
    nelder_mead = RunSettings.create({"xatol": 1e-3, "adaptive": True, "maxfev": 40},
                                     optimizer="nelder-mead", steps=4, tol=1e-6)
    session = Session(
        function="x**2 + 3*y**2",
        domain=(-2.0, 2.0, -1.0, 3.0),
        controls=RunSettings(optimizer="momentum", lr=0.01, steps=50, ascent=True),
        pending=((0.25, -0.5),),
        runs=(SessionRun(nadam, ((0.3, -0.7), (1.0, 1.0))), SessionRun(lbfgs, ((1.5, 1.5),)),
              SessionRun(nelder_mead, ((0.5, 1.5),))),
        race=(nadam, lbfgs, nelder_mead),
        preset="bowl",
        race_evaluations=40,  # the race's f budget per start (io.session_race)
    )
    return session_to_json(compute_session(session))


VALID = _valid()


def _paths(value: object, prefix: Path_ = ()) -> list[Path_]:
    """Every field of the JSON data, containers included; of a list, its first three items."""
    out: list[Path_] = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            out += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value[:3]):
            out += _paths(item, (*prefix, index))
    return out


PATHS = _paths(VALID)


def _dotted(path: Path_) -> str:
    """('runs', 0, 'settings', 'lr') as the message writes it: runs[0].settings.lr."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def _mutated(path: Path_, value: object) -> dict[str, Any]:
    data = copy.deepcopy(VALID)
    parent: Any = data
    for part in path[:-1]:
        parent = parent[part]
    if value is DELETE:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return data


# A scipy record's points are checked against its counts per row (upto) and its f count, and
# a scipy record against its run's settings (an emptied settings object names sgd, not scipy).
_NEIGHBOURS = {"starts": "trajectories", "optimizer": "params", "steps": "trajectories",
               "evaluated": "upto", "evaluations": "scipy", "settings": "trajectories"}


def _field(message: str) -> str:
    """The field a message names: field 'x.y' (the file-level format has its own wording)."""
    found = re.search(r"field '([^']*)'", message)
    assert found, message
    return found.group(1)


def test_the_valid_session_reads() -> None:
    session = session_from_json(VALID, "ok.json")
    assert len(session.runs) == 3 and session.runs[0].trajectories is not None
    assert len(PATHS) > 60  # the mutations reach deep into runs, race and trajectories
    # ...and into a scipy method's run: its options, counts, record and evaluated points.
    for field in ("params", "evaluations", "scipy", "nit", "message", "evaluated", "upto"):
        assert any(p[:2] == ("runs", 2) and field in p for p in PATHS), field
    # ...and into a scipy race entry's options and the race's evaluation budget.
    assert any(p[:3] == ("race", 2, "params") for p in PATHS)
    assert ("race_evaluations",) in PATHS


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=st.sampled_from(PATHS), value=st.sampled_from(HOSTILE))
def test_one_bad_field_gives_one_line_naming_it(path: Path_, value: object) -> None:
    data = _mutated(path, value)
    try:
        session = session_from_json(data, "hostile.json")
    except SessionError as err:
        message = str(err)
        assert "\n" not in message and message.startswith("hostile.json: ")
        named = _field(message)
        # The field itself, the field that holds it (a domain checked as a whole, a trajectory
        # whose arrays no longer match) or, for an emptied object, the field now missing in it.
        changed = _dotted(path)
        if not (changed.startswith(named) or named.startswith(changed)):
            # A field checked against its neighbour: the starts against the trajectories, the
            # optimiser against its params, the steps against the trajectories' lengths.
            key = next(str(p) for p in reversed(path) if str(p) in _NEIGHBOURS)  # innermost
            assert f".{_NEIGHBOURS[key]}" in named, (message, changed)
            entry = path[:2] if path[0] in ("runs", "race") else path[:1]
            assert named.startswith(_dotted(entry)), (message, changed)
        assert len(message) < 400
        return
    # Accepted: then the value was one the field may hold, and the numbers are usable.
    for entry in (session.controls, *session.race, *(run.settings for run in session.runs)):
        assert 0 <= entry.steps <= MAX_STEPS and 0 <= entry.seed <= MAX_SEED
        assert math.isfinite(entry.lr) and entry.lr > 0
        assert math.isfinite(entry.noise) and entry.noise >= 0
        assert entry.optimizer in REGISTRY or entry.optimizer in METHODS
    budget = session.race_evaluations
    assert budget is None or (type(budget) is int and 1 <= budget <= MAX_EVALUATIONS)
    for run in session.runs:
        for t in run.trajectories or ():
            record = t.scipy
            if record is not None:  # counts per row from 0 to every point, never fewer
                assert run.settings.optimizer in METHODS and len(record.upto) == len(t.x)
                assert record.upto[0] == 0 and record.upto[-1] == len(record.points)
                assert (record.upto[1:] >= record.upto[:-1]).all()
                assert t.evaluations is None or t.evaluations[0] >= len(record.points)


@settings(max_examples=60, deadline=None)
@given(
    path=st.sampled_from([p for p in PATHS if "params" in p and len(p) > p.index("params") + 1]),
    value=st.one_of(
        st.floats(allow_nan=True, allow_infinity=True), st.integers(), st.text(max_size=5),
        st.booleans(), st.none(), st.lists(st.floats(), max_size=3),
    ),
)
def test_hyperparameters_follow_the_registry(path: Path_, value: object) -> None:
    """A hyperparameter is accepted only within its registry entry's kind and range."""
    data = _mutated(path, value)
    try:
        session = session_from_json(data, "hostile.json")
    except SessionError as err:
        assert _dotted(path).startswith(_field(str(err)))
        return
    where = session.race[path[1]] if path[0] == "race" else (
        session.controls if path[0] == "controls" else session.runs[int(path[1])].settings)
    key = str(path[path.index("params") + 1])
    got = where.param_dict[key]
    if where.optimizer in METHODS:  # a scipy option: its documented type and range
        option = METHODS[where.optimizer].options[key]
        assert isinstance(got, option.kind) and isinstance(got, bool) == (option.kind is bool)
        if not isinstance(got, bool):
            assert isinstance(got, int | float) and option.low <= got <= option.high
            assert got > option.low or option.low_inclusive
        return
    spec = {p.name: p for p in REGISTRY[where.optimizer].hyperparameters}[key]
    for number in got if isinstance(got, tuple) else (got,):
        if isinstance(number, int | float) and not isinstance(number, bool):
            assert spec.low is not None and spec.high is not None
            assert spec.low <= number <= spec.high


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (("runs", 0, "settings", "seed"), 10**30,
         "field 'runs[0].settings.seed': expected a whole number from 0 to "
         f"{MAX_SEED:,}, found a 31-digit number"),
        (("version",), True, "field 'version': format version true is not supported"),
        (("runs", 1, "settings", "params", "history_size"), "0.9",
         "field 'runs[1].settings.params.history_size': expected a whole number from 1 to 1000,"
         ' found the text "0.9"'),
        (("controls", "params"), {"momentum": "0.9"},
         "field 'controls.params.momentum': expected a number from 0 to 0.999,"
         ' found the text "0.9"'),
        (("race", 0, "params", "betas"), [0.9, 2.0],
         "field 'race[0].params.betas': expected a list of 2 numbers from 0 to 0.99999,"
         " found a list of 2 items"),
        (("runs", 0, "settings", "optimizer"), ["adam"],
         "field 'runs[0].settings.optimizer': expected one of sgd, "),
        (("runs", 0, "settings", "steps"), MAX_STEPS + 1,
         f"field 'runs[0].settings.steps': expected a whole number from 0 to {MAX_STEPS:,}"),
        (("runs", 0, "trajectories", 0, "status"), 3,
         "field 'runs[0].trajectories[0].status': expected text, found 3"),
    ],
)
def test_the_issues_cases_have_clear_messages(
    path: Path_, value: object, expected: str
) -> None:
    with pytest.raises(SessionError) as caught:
        session_from_json(_mutated(path, value), "s.json")
    assert str(caught.value).startswith("s.json: " + expected), str(caught.value)


def test_a_trajectory_longer_than_its_steps_is_refused() -> None:
    data = copy.deepcopy(VALID)
    trajectory = data["runs"][0]["trajectories"][0]
    steps = data["runs"][0]["settings"]["steps"]
    for key in ("x", "y", "f", "grad_x", "grad_y"):
        trajectory[key] = [0.5] * (steps + 2)
    with pytest.raises(SessionError, match=rf"expected at most {steps + 1} rows"):
        session_from_json(data, "s.json")


def test_a_rerun_that_would_fill_memory_is_refused() -> None:
    data = copy.deepcopy(VALID)
    run = data["runs"][0]
    del run["trajectories"]
    run["settings"]["steps"] = MAX_STEPS
    starts = MAX_ROW_BYTES // ROW_BYTES // (MAX_STEPS + 1) + 1
    run["starts"] = [[0.5, 0.5]] * starts
    with pytest.raises(SessionError, match=rf"field 'runs\[0\]': {starts} starts x {MAX_STEPS} "):
        session_from_json(data, "s.json")


def test_run_session_with_a_huge_seed_is_a_usage_error(tmp_path: Path) -> None:
    """The issue's case: the CLI said a torch traceback; now one line and exit 2."""
    from explorer import cli

    data = _mutated(("runs", 0, "settings", "seed"), 10**30)
    path = tmp_path / "seed.json"
    path.write_text(json.dumps(data))
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(["run", "--session", str(path)], out, err)
    assert code == 2 and out.getvalue() == ""
    assert err.getvalue().count("\n") == 1 and "runs[0].settings.seed" in err.getvalue()
    with pytest.raises(SessionError):
        load_session(path)


def test_a_huge_number_of_runs_is_refused_by_count(tmp_path: Path) -> None:
    """Many runs would each build an optimiser: past the limit the file is refused at once."""
    data = {
        "format": FORMAT, "version": VERSION, "function": "x**2 + y**2",
        "domain": [-1, 1, -1, 1],
        "runs": [{"settings": {}, "starts": [[0.5, 0.5]]}] * (MAX_RUNS + 1),
    }
    path = tmp_path / "many.json"
    path.write_text(json.dumps(data))
    with pytest.raises(SessionError, match=rf"field 'runs': expected at most {MAX_RUNS:,} entries"):
        load_session(path)


def test_race_entries_and_pending_starts_are_bounded() -> None:
    from explorer.core.race import MAX_ENTRIES

    race = copy.deepcopy(VALID)
    race["race"] = [copy.deepcopy(VALID["race"][0]) for _ in range(MAX_ENTRIES + 1)]
    with pytest.raises(SessionError, match=rf"race.*expected at most {MAX_ENTRIES} entries"):
        session_from_json(race)
    pending = copy.deepcopy(VALID)
    pending["pending"] = [[0.0, 0.0]] * (MAX_RUNS + 1)
    with pytest.raises(SessionError, match=rf"pending.*expected at most {MAX_RUNS:,} entries"):
        session_from_json(pending)
