"""Session files: exact round trip, bit-for-bit reruns, clear errors, run --session."""

from __future__ import annotations

import io
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from explorer.core.descent import run_descent
from explorer.core.expression import parse
from explorer.core.trajectory import Reason, RunSettings, Status, Trajectory
from explorer.io.atomic import ExportError
from explorer.io.session import (
    FORMAT,
    Session,
    SessionError,
    SessionRun,
    ViewSettings,
    compute_session,
    load_session,
    save_session,
    session_to_json,
)
from explorer.io.trajectory_csv import read_trajectories

WAVY = "sin(3*x)*cos(2*y) + 0.1*(x**2 + y**2)"


def _session(*, noise: float = 0.0) -> Session:
    momentum = RunSettings.create({"momentum": 0.5, "nesterov": True}, optimizer="sgd",
                                  lr=0.0137, steps=40)
    adam = RunSettings.create({"betas": (0.8, 0.95)}, optimizer="adam", lr=0.05, steps=25,
                              noise=noise, seed=11)
    return Session(
        function=WAVY,
        domain=(-2.5, 2.0, -1.0, 3.0),
        controls=RunSettings(optimizer="rmsprop", lr=0.003, steps=77, tol=1e-6, ascent=True),
        view=ViewSettings(log_scale=True, loss_log=True),
        pending=((0.25, -0.5),),
        runs=(
            SessionRun(momentum, ((0.3, -0.7), (1e-300, 2.5), (-2.0, 1.0))),
            SessionRun(adam, ((1.5, 1.5),)),
        ),
        race=(momentum, adam),
        preset=None,
    )


def _assert_same_trajectory(a: Trajectory, b: Trajectory) -> None:
    for name in ("x", "y", "f", "grad_x", "grad_y"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert (a.status, a.reason, a.optimizer, a.lr, a.params) == (
        b.status, b.reason, b.optimizer, b.lr, b.params)


def test_round_trip_keeps_every_field_and_every_bit(tmp_path: Path) -> None:
    session = compute_session(_session(noise=0.2))
    path = tmp_path / "lesson.json"
    save_session(path, session)
    loaded = load_session(path)
    assert loaded.function == WAVY and loaded.domain == session.domain
    assert loaded.controls == session.controls and loaded.race == session.race
    assert loaded.view == session.view and loaded.pending == session.pending
    assert [r.settings for r in loaded.runs] == [r.settings for r in session.runs]
    assert [r.starts for r in loaded.runs] == [r.starts for r in session.runs]
    for mine, theirs in zip(loaded.runs, session.runs, strict=True):
        assert mine.trajectories is not None and theirs.trajectories is not None
        for a, b in zip(mine.trajectories, theirs.trajectories, strict=True):
            _assert_same_trajectory(a, b)
            assert a.function == WAVY


def test_non_finite_values_survive_as_strings(tmp_path: Path) -> None:
    odd = Trajectory(
        x=np.array([1.0, -0.0, math.inf]), y=np.array([0.5, math.nan, 2.0]),
        f=np.array([1.0, 2.0, -math.inf]), grad_x=np.zeros(3), grad_y=np.ones(3),
        optimizer="sgd", lr=0.5, status=Status.DIVERGED, reason=Reason.NON_FINITE,
    )
    session = Session("x**2", (-1.0, 1.0, -1.0, 1.0),
                      runs=(SessionRun(RunSettings(lr=0.5), ((1.0, 0.5),), (odd,)),))
    path = tmp_path / "odd.json"
    save_session(path, session)
    json.loads(path.read_text())  # strict JSON: no bare NaN or Infinity tokens
    assert "NaN" not in path.read_text() and "Infinity" not in path.read_text()
    (back,) = load_session(path).runs[0].trajectories or ()
    np.testing.assert_array_equal(back.x, odd.x)
    assert math.copysign(1.0, back.x[1]) == -1.0
    assert np.isnan(back.y[1]) and back.f[2] == -math.inf
    assert back.status is Status.DIVERGED and back.reason is Reason.NON_FINITE


def test_rerunning_a_saved_session_reproduces_it_bit_for_bit(tmp_path: Path) -> None:
    # Noise included: the seed, the step and the batch decide every draw.
    first = compute_session(_session(noise=0.3))
    path = tmp_path / "lesson.json"
    save_session(path, first, with_trajectories=False)
    loaded = load_session(path)
    assert all(run.trajectories is None for run in loaded.runs)
    again = compute_session(loaded)
    for a_run, b_run in zip(first.runs, again.runs, strict=True):
        for a, b in zip(a_run.trajectories or (), b_run.trajectories or (), strict=True):
            _assert_same_trajectory(a, b)
    # ... and the numbers are the engine's, batch by batch.
    run = first.runs[0]
    direct = run_descent(parse(WAVY).evaluate, list(run.starts), run.settings)
    _assert_same_trajectory(direct.trajectory(2), (run.trajectories or ())[2])


def _write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    return path


def _valid() -> dict[str, Any]:
    return session_to_json(_session())


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        (lambda d: d.pop("function"), "field 'function': missing"),
        (lambda d: d.update(function="2x + y"), "'function': missing '*': write 2*x (column 2)"),
        (lambda d: d.update(version=99), "format version 99 is not supported"),
        (lambda d: d.update(format="something-else"), "not a session file"),
        (lambda d: d.update(domain=[1, 0, 0, 1]), "field 'domain'"),
        (lambda d: d.update(domain=[0, 1, 0]), "field 'domain': expected 4 numbers"),
        (lambda d: d["runs"][0]["settings"].update(lr=-1), "field 'runs[0].settings.lr'"),
        (lambda d: d["runs"][1]["settings"].update(optimizer="adamz"),
         "field 'runs[1].settings.optimizer': expected one of sgd, "),
        (lambda d: d["runs"][0]["settings"]["params"].update(bogus=1),
         "field 'runs[0].settings.params.bogus': sgd has no keyword 'bogus'"),
        (lambda d: d["runs"][0].update(starts=[[1, 2, 3]]), "field 'runs[0].starts[0]'"),
        (lambda d: d["runs"][0].update(starts=[["a", 2]]),
         "field 'runs[0].starts[0][0]': expected a number"),
        (lambda d: d["runs"][0].update(trajectories=[{"x": [1]}]), "trajectories"),
        (lambda d: d["pending"].append("here"), "field 'pending[1]': expected a list"),
        (lambda d: d["view"].update(log_scale="yes"), "field 'view.log_scale'"),
        (lambda d: d["controls"].update(steps=2.5), "field 'controls.steps'"),
    ],
)
def test_bad_fields_are_named(
    tmp_path: Path, change: Callable[[dict[str, Any]], object], needle: str
) -> None:
    data = _valid()
    change(data)
    path = _write(tmp_path, data)
    with pytest.raises(SessionError) as caught:
        load_session(path)
    message = str(caught.value)
    assert message.startswith(str(path)) and needle in message


def test_not_json_binary_and_missing_files(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{\n "format": "gradient-descent-explorer-session",\n "version": 1,,\n}')
    with pytest.raises(SessionError, match=r"broken.json: not a session file: line 3, column"):
        load_session(broken)
    binary = tmp_path / "binary.json"
    binary.write_bytes(bytes(range(256)))
    with pytest.raises(SessionError, match="it is not text"):
        load_session(binary)
    with pytest.raises(SessionError, match="cannot read it"):
        load_session(tmp_path / "missing.json")
    listing = tmp_path / "list.json"
    listing.write_text("[1, 2]")
    with pytest.raises(SessionError, match="not a JSON object"):
        load_session(listing)
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100000 + "]" * 100000)
    with pytest.raises(SessionError):
        load_session(deep)


def test_failed_save_keeps_the_older_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "lesson.json"
    save_session(path, _session())
    before = path.read_bytes()

    def full_disk(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("os.fsync", full_disk)
    with pytest.raises(ExportError, match="No space left"):
        save_session(path, compute_session(_session()))
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lesson.json"]
    with pytest.raises(ExportError, match="does not exist"):
        save_session(tmp_path / "gone" / "lesson.json", _session())


def cli(*argv: str) -> tuple[int, str, str]:
    from explorer import cli as module

    out, err = io.StringIO(), io.StringIO()
    code = module.main(list(argv), out, err)
    return code, out.getvalue(), err.getvalue()


def test_run_session_json_and_csv_match_the_engine(tmp_path: Path) -> None:
    path = tmp_path / "lesson.json"
    save_session(path, _session(noise=0.1), with_trajectories=False)
    csv_path = tmp_path / "out.csv"
    code, out, err = cli("run", "--session", str(path), "--csv", str(csv_path), "--json")
    assert code == 0 and err == ""
    data = json.loads(out)
    assert data["function"] == WAVY and data["optimizer"] is None and data["lr"] is None
    assert [t["optimizer"] for t in data["trajectories"]] == ["sgd"] * 3 + ["adam"]
    expected = compute_session(_session(noise=0.1))
    flat = [t for run in expected.runs for t in run.trajectories or ()]
    for entry, t in zip(data["trajectories"], flat, strict=True):
        assert entry["start"] == list(t.start) and entry["end"] == list(t.end)
        assert entry["f"] == float(t.f[-1]) and entry["steps"] == t.steps
    for a, b in zip(read_trajectories(csv_path), flat, strict=True):
        np.testing.assert_array_equal(a.x, b.x)
        np.testing.assert_array_equal(a.grad_y, b.grad_y)


def test_run_session_table_and_errors(tmp_path: Path) -> None:
    path = tmp_path / "lesson.json"
    save_session(path, _session())
    code, out, _ = cli("run", "--session", str(path))
    assert code == 0 and out.count("optimizer sgd") == 1 and out.count("optimizer adam") == 1
    for extra, needle in ((("--lr", "0.5"), "--lr"), (("--start", "1,1"), "--start"),
                          (("--preset", "himmelblau"), "--preset")):
        code, out, err = cli("run", "--session", str(path), *extra)
        assert code == 2 and out == "" and needle in err
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"format": FORMAT, "version": 3}))
    code, out, err = cli("run", "--session", str(bad))
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "bad.json" in err and "version 3" in err
    empty = tmp_path / "empty.json"
    save_session(empty, Session("x**2", (-1.0, 1.0, -1.0, 1.0)))
    code, _, err = cli("run", "--session", str(empty))
    assert code == 2 and "no runs" in err
    code, _, err = cli("run", "--start", "1,1")
    assert code == 2 and "--session" in err
