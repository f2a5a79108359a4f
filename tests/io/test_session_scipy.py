"""Sessions with scipy.optimize runs: options, counts, message and evaluated points round-trip;
what does not belong to a scipy run, or does not add up, is refused in one line."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from explorer.core.expression import parse
from explorer.core.scipy_methods import minimize
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

FUNCTION = "(x**2 + y - 11)**2 + (x + y**2 - 7)**2"
STARTS = ((0.5, -0.5), (-2.0, 1.0))
POWELL = RunSettings.create({"xtol": 1e-6}, optimizer="powell", steps=30, tol=1e-8)
BFGS = RunSettings(optimizer="bfgs", steps=50, tol=1e-7)


def _session() -> Session:
    runs = (SessionRun(POWELL, STARTS), SessionRun(BFGS, STARTS[:1]))
    return compute_session(Session(FUNCTION, (-5.0, 5.0, -5.0, 5.0), controls=BFGS, runs=runs))


def test_compute_session_runs_scipy_methods_as_minimize_does() -> None:
    session = _session()
    for run in session.runs:
        assert run.trajectories is not None
        for start, got in zip(run.starts, run.trajectories, strict=True):
            expected = minimize(parse(FUNCTION).evaluate, start, run.settings.optimizer,
                                steps=run.settings.steps, tol=run.settings.tol,
                                options=run.settings.param_dict)
            np.testing.assert_array_equal(got.x, expected.trajectory.x)
            np.testing.assert_array_equal(got.y, expected.trajectory.y)
            assert got.evaluations == expected.trajectory.evaluations
            assert got.scipy is not None
            np.testing.assert_array_equal(got.scipy.points, expected.evaluated)


def test_a_saved_session_reads_back_bit_for_bit(tmp_path: Path) -> None:
    session = _session()
    path = tmp_path / "s.json"
    save_session(path, session)
    loaded = load_session(path)
    assert loaded.controls == BFGS
    for before, after in zip(session.runs, loaded.runs, strict=True):
        assert after.settings == before.settings
        assert before.trajectories is not None and after.trajectories is not None
        for a, b in zip(before.trajectories, after.trajectories, strict=True):
            for key in ("x", "y", "f", "grad_x", "grad_y"):
                np.testing.assert_array_equal(getattr(a, key), getattr(b, key))
            assert (a.status, a.reason, a.evaluations) == (b.status, b.reason, b.evaluations)
            assert a.scipy is not None and b.scipy is not None
            assert (a.scipy.nit, a.scipy.message) == (b.scipy.nit, b.scipy.message)
            np.testing.assert_array_equal(a.scipy.points, b.scipy.points)
            np.testing.assert_array_equal(a.scipy.upto, b.scipy.upto)


def _json() -> dict[str, Any]:
    return session_to_json(_session())


def _refused(data: dict[str, Any]) -> str:
    with pytest.raises(SessionError) as caught:
        session_from_json(data, "s.json")
    message = str(caught.value)
    assert "\n" not in message and len(message) < 400
    return message


@pytest.mark.parametrize(
    ("key", "value", "words"),
    [
        ("ascent", True, "field 'runs[0].settings.ascent': powell is a scipy.optimize method"),
        ("noise", 0.5, "field 'runs[0].settings.noise': powell is a scipy.optimize method"),
        ("schedule", "step:step_size=2", "field 'runs[0].settings.schedule': powell is a scipy"),
        ("params", {"xatol": 0.1}, "field 'runs[0].settings.params.xatol': powell has no "
         "option 'xatol'"),
        ("params", {"xtol": -1.0}, "field 'runs[0].settings.params.xtol': powell option xtol "
         "must be finite, > 0"),
        ("params", {"maxfev": 2.5}, "field 'runs[0].settings.params.maxfev': powell option "
         "maxfev must be a whole number"),
        ("params", {"xtol": "1e-3"}, "field 'runs[0].settings.params.xtol': expected a number"),
        ("optimizer", "BFGS", "field 'runs[0].settings.optimizer': expected one of sgd, "),
    ],
)
def test_settings_a_scipy_method_cannot_take_are_refused(key: str, value: object,
                                                         words: str) -> None:
    data = _json()
    data["runs"][0]["settings"][key] = value
    assert words in _refused(data)


def _record(data: dict[str, Any], run: int = 0) -> dict[str, Any]:
    record: dict[str, Any] = data["runs"][run]["trajectories"][0]["scipy"]
    return record


def test_records_that_do_not_add_up_are_refused() -> None:
    where = "field 'runs[0].trajectories[0].scipy"
    data = _json()
    points = len(_record(data)["evaluated"])
    data["runs"][0]["trajectories"][0]["evaluations"]["f"] = points - 1
    assert f"{where}.evaluated': {points} points for {points - 1} evaluations" in _refused(data)

    for upto in ([], [1, *_record(_json())["upto"][1:]], _record(_json())["upto"][::-1]):
        data = _json()
        _record(data)["upto"] = upto
        assert f"{where}.upto'" in _refused(data)

    data = _json()
    _record(data)["evaluated"][0] = [0.5]
    assert f"{where}.evaluated[0]': expected [x, y]" in _refused(data)

    data = _json()
    _record(data)["message"] = "m" * 5000
    assert f"{where}.message': expected text of at most 1000" in _refused(data)

    data = _json()
    data["runs"][0]["trajectories"][0]["evaluations"] = {"f": 3, "grad": 0}
    assert "evaluations': expected exactly the counts f, grad and hess" in _refused(data)

    data = _json()
    data["runs"][0]["trajectories"][0]["evaluations"]["hess"] = 10**13
    assert "evaluations.hess': expected a whole number from 0 to" in _refused(data)


def test_a_torch_run_with_a_scipy_record_is_refused() -> None:
    data = _json()
    scipy_run = copy.deepcopy(data["runs"][0])
    torch_run = session_to_json(compute_session(Session(
        FUNCTION, (-5.0, 5.0, -5.0, 5.0),
        runs=(SessionRun(RunSettings(optimizer="adam", steps=3), STARTS[:1]),))))["runs"][0]
    torch_run["trajectories"][0]["scipy"] = scipy_run["trajectories"][0]["scipy"]
    data["runs"] = [torch_run]
    assert "field 'runs[0].trajectories[0].scipy': only a scipy.optimize method" in \
        _refused(data)
