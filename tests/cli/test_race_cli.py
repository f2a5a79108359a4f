"""`race`: the leaderboard against core.race and against each entry run alone, the --entry
grammar (hypothesis), sessions, the CSV, the animation's frames, refusals and Ctrl+C."""

from __future__ import annotations

import hashlib
import json
import math
import re
import subprocess
import sys
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer.cli.common import UsageError
from explorer.cli.race import parse_entry
from explorer.core.budget import MAX_STEPS
from explorer.core.expression import parse
from explorer.core.optimizers import REGISTRY, get_spec
from explorer.core.presets import get_preset
from explorer.core.race import MAX_ENTRIES, RaceEntry, leaderboard
from explorer.core.scipy_descent import run_paths
from explorer.core.scipy_methods import METHODS
from explorer.core.trajectory import RunSettings, Status
from explorer.io.session import ModelSource, Session, save_session
from explorer.io.trajectory_csv import read_trajectories
from tests.cli.helpers import app, assert_usage_error
from tests.cli.test_interrupt import interrupt_when_started

ROOT = Path(__file__).resolve().parents[2]
STARTS = ((0.0, 0.0), (-1.0, -4.0))
BASE = ["race", "--preset", "himmelblau", "--start", "0,0", "--start", "-1,-4"]
# Torch and scipy, a tie-prone pair (SGD and momentum both converge), params of both kinds.
ENTRIES = {
    "sgd:lr=0.01": RaceEntry("sgd", 0.01),
    "momentum:lr=0.005": RaceEntry("momentum", 0.005),
    "adam:lr=0.1,betas=0.8,0.99": RaceEntry("adam", 0.1, (("betas", (0.8, 0.99)),)),
    "bfgs": RaceEntry("bfgs", RunSettings().lr),
    "nelder-mead:xatol=1e-6": RaceEntry("nelder-mead", RunSettings().lr, (("xatol", 1e-6),)),
}


def _argv(*extra: str, entries: tuple[str, ...] = tuple(ENTRIES)) -> list[str]:
    return [*BASE, *(f"--entry={text}" for text in entries), *extra]


def _race_json(*extra: str, entries: tuple[str, ...] = tuple(ENTRIES)) -> dict[str, object]:
    code, out, err = app(*_argv(*extra, "--json", entries=entries))
    assert code == 0 and err == "", err
    payload = json.loads(out)
    assert isinstance(payload, dict)
    return payload


def _text(value: object) -> str:
    """A hyperparameter as --param writes it."""
    return ",".join(map(repr, value)) if isinstance(value, tuple) else repr(value)


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return a == b or math.isclose(a, b, rel_tol=1e-12)


def test_the_leaderboard_is_core_races_over_each_entrys_own_paths() -> None:
    payload = _race_json("--steps", "200", "--tol", "1e-8")
    # Independently: each entry's paths from core (as `run --session` computes them), ranked.
    expression = parse(get_preset("himmelblau").formula)
    base = RunSettings(steps=200, tol=1e-8)
    entries = list(ENTRIES.values())
    paths = [run_paths(expression.evaluate, STARTS, e.settings(base), expression.text)
             for e in entries]
    standings = leaderboard(entries, paths, 1e-8, get_preset("himmelblau").minima)
    board = payload["leaderboard"]
    assert isinstance(board, list) and len(board) == len(standings)
    for place, (row, standing) in enumerate(zip(board, standings, strict=True), 1):
        assert row["place"] == place
        assert entries[row["entry"] - 1] == standing.entry
        assert row["lr"] == (None if standing.entry.is_scipy else standing.entry.lr)
        assert _close(row["final_f"], standing.final_f)
        assert row["steps_to_tol"] == standing.steps_to_tol
        assert row["reached"] == standing.reached
        assert _close(row["distance"], standing.distance)
        assert standing.evaluations is not None
        assert [row["evaluations"][k] for k in ("f", "grad", "hess")] == pytest.approx(
            standing.evaluations)
        assert row["status"] == standing.status


def test_the_table_lists_the_standings_in_order_with_their_numbers() -> None:
    code, out, err = app(*_argv("--steps", "200"))
    assert code == 0 and err == ""
    payload = _race_json("--steps", "200")
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("#  entry"))
    rows = [line.split() for line in lines[header + 1: header + 1 + len(ENTRIES)]]
    board = payload["leaderboard"]
    assert isinstance(board, list)
    for cells, row in zip(rows, board, strict=True):
        assert int(cells[0]) == row["place"] and int(cells[1]) == row["entry"]
        # The mean final f, printed to six significant digits.
        printed = [float(c) for c in cells if re.fullmatch(r"-?\d[\d.]*(e-?\d+)?", c)]
        assert any(math.isclose(v, row["final_f"], rel_tol=1e-5, abs_tol=1e-300)
                   for v in printed), (cells, row)
    assert lines[1].startswith(f"race of {len(ENTRIES)} entries from 2 starts, at most 200 steps")


@pytest.mark.parametrize("text", list(ENTRIES))
def test_each_entry_runs_as_run_runs_it_alone(text: str) -> None:
    payload = _race_json("--steps", "150", entries=(text,))
    entry = ENTRIES[text]
    argv = ["run", "--preset", "himmelblau", "--start", "0,0", "--start", "-1,-4",
            "--steps", "150", "--optimizer", entry.optimizer, "--json"]
    if not entry.is_scipy:
        argv += ["--lr", repr(entry.lr)]
    argv += [f"--param={k}={_text(v)}" for k, v in entry.params]
    code, out, err = app(*argv)
    assert code == 0, err
    alone = json.loads(out)["trajectories"]
    raced = payload["entries"][0]["trajectories"]  # type: ignore[index]
    assert len(raced) == len(alone) == 2
    for mine, theirs in zip(raced, alone, strict=True):
        for key in ("start", "end", "f", "status", "evaluations"):
            assert mine[key] == theirs[key], key
        if not entry.is_scipy:  # scipy's run prints nit; the race the path's steps
            assert mine["steps"] == theirs["steps"]


def test_an_evaluation_budget_holds_every_entry_to_it() -> None:
    payload = _race_json("--evaluations", "30", "--tol", "0",
                         entries=("adam:lr=0.1", "lbfgs:lr=0.5", "nelder-mead"))
    assert payload["evaluations"] == 30 and payload["steps"] is None
    entries = payload["entries"]
    assert isinstance(entries, list)
    for entry in entries:
        for path in entry["trajectories"]:
            used = path["evaluations"]["f"]
            if entry["optimizer"] == "nelder-mead":
                assert used >= 1  # its last iteration may pass the budget by a few
            else:
                assert used == 30, entry["optimizer"]
    board = payload["leaderboard"]
    assert isinstance(board, list) and len(board) == 3


def test_the_csv_holds_every_path_entry_after_entry(tmp_path: Path) -> None:
    csv = tmp_path / "race.csv"
    texts = ("sgd:lr=0.01", "bfgs", "adam:lr=0.1,betas=0.8,0.99")
    code, out, err = app(*_argv("--steps", "40", "--csv", str(csv), entries=texts))
    assert code == 0 and err == "" and f"wrote {csv}" in out
    paths = read_trajectories(csv)
    assert len(paths) == len(texts) * len(STARTS)
    for k, path in enumerate(paths):
        entry = ENTRIES[texts[k // len(STARTS)]]
        assert path.optimizer == entry.optimizer
        assert path.start == STARTS[k % len(STARTS)]
    # The same rows as `run --csv` writes for the entry alone.
    alone = tmp_path / "alone.csv"
    code, _, err = app("run", "--preset", "himmelblau", "--start", "0,0", "--start", "-1,-4",
                       "--steps", "40", "--optimizer", "adam", "--lr", "0.1",
                       "--param", "betas=0.8,0.99", "--csv", str(alone))
    assert code == 0, err
    for mine, theirs in zip(paths[4:], read_trajectories(alone), strict=True):
        assert np.array_equal(mine.x, theirs.x) and np.array_equal(mine.f, theirs.f)


def _session(tmp_path: Path, *, race: tuple[RunSettings, ...], pending: tuple[tuple[float,
             float], ...] = STARTS, evaluations: int | None = None) -> Path:
    preset = get_preset("himmelblau")
    controls = RunSettings(optimizer="adam", lr=0.3, steps=60, tol=1e-6)
    session = Session(function=preset.formula, domain=preset.domain, controls=controls,
                      pending=pending, race=race, race_evaluations=evaluations)
    path = tmp_path / "race.json"
    save_session(path, session)
    return path


def test_a_sessions_race_runs_its_entries_from_its_starts(tmp_path: Path) -> None:
    controls = RunSettings(steps=60, tol=1e-6)
    entries = (RaceEntry("sgd", 0.01), RaceEntry("adam", 0.2, (("amsgrad", True),)),
               RaceEntry("powell", RunSettings().lr))
    path = _session(tmp_path, race=tuple(e.settings(controls) for e in entries))
    code, out, err = app("race", "--session", str(path), "--json")
    assert code == 0, err
    from_session = json.loads(out)
    from_flags = _race_json("--steps", "60", "--tol", "1e-6",
                            entries=("sgd:lr=0.01", "adam:lr=0.2,amsgrad=true", "powell"))
    assert from_session["entries"] == from_flags["entries"]
    assert from_session["leaderboard"] == from_flags["leaderboard"]


def test_a_sessions_evaluation_budget_is_kept(tmp_path: Path) -> None:
    path = _session(tmp_path, race=(RunSettings(optimizer="adam", lr=0.1),), evaluations=25)
    code, out, err = app("race", "--session", str(path), "--json")
    assert code == 0, err
    payload = json.loads(out)
    assert payload["evaluations"] == 25
    assert all(t["evaluations"]["f"] == 25 for t in payload["entries"][0]["trajectories"])


@pytest.mark.parametrize(
    ("race", "pending", "needle"),
    [((), STARTS, "no race entries"), ((RunSettings(),), (), "no starts")],
)
def test_a_session_without_entries_or_starts_is_refused(
    tmp_path: Path, race: tuple[RunSettings, ...], pending: tuple[tuple[float, float], ...],
    needle: str,
) -> None:
    path = _session(tmp_path, race=race, pending=pending)
    code, out, err = app("race", "--session", str(path))
    assert_usage_error(code, out, err)
    assert needle in err


@pytest.mark.parametrize("extra", [["--preset", "bowl"], ["--start", "1,1"], ["--entry", "sgd"],
                                   ["--steps", "5"], ["--tol", "0.1"], ["--evaluations", "9"]])
def test_session_refuses_what_it_gives(tmp_path: Path, extra: list[str]) -> None:
    path = _session(tmp_path, race=(RunSettings(),))
    code, out, err = app("race", "--session", str(path), *extra)
    assert_usage_error(code, out, err)
    assert extra[0] in err


def test_a_session_on_a_model_is_refused(tmp_path: Path) -> None:
    preset = get_preset("himmelblau")
    digest = hashlib.sha256(b"x,y\n1,2\n").hexdigest()
    session = Session(function=preset.formula, domain=preset.domain, pending=STARTS,
                      race=(RunSettings(),), model=ModelSource("linear", "/data/a.csv", digest))
    path = tmp_path / "model.json"
    save_session(path, session)
    code, out, err = app("race", "--session", str(path))
    assert_usage_error(code, out, err)
    assert "a model on data" in err


def test_a_bad_session_file_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"format": "something else"}')
    assert_usage_error(*app("race", "--session", str(path)))


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--entry", "sgd"], "--start"),
        (["--start", "0,0"], "--entry"),
        (["--start", "0,0", *["--entry=sgd:lr=0.0" + str(i + 1) for i in
                              range(MAX_ENTRIES + 1)]], f"at most {MAX_ENTRIES}"),
        (["--start", "0,0", "--entry", "adam", "--entry",
          f"adam:lr={RaceEntry.default('adam').lr!r}"], "again"),
        (["--start", "0,0", "--entry", "sgd", "--steps", "5", "--evaluations", "5"], "budgets"),
        (["--start", "0,0", "--entry", "lbfgs:line_search_fn=strong_wolfe", "--evaluations",
          "5"], "line search"),
        (["--start", "0,0", "--entry", "sgd", "--evaluations", "0"], "--evaluations"),
        (["--start", "0,0", "--entry", "sgd", "--evaluations", "100001"], "--evaluations"),
        (["--start", "0,0", "--entry", "sgd", "--steps", str(MAX_STEPS + 1)], "--steps"),
        (["--start", "0,0", "--entry", "sgd", "--schedule", "cosine:T_max=x"], "T_max"),
        (["--start", "0,0", "--entry", "sgd", "--fps", "5"], "--animation"),
    ],
)
def test_bad_races_are_one_line(argv: list[str], needle: str) -> None:
    code, out, err = app("race", "--preset", "bowl", *argv)
    assert_usage_error(code, out, err)
    assert needle in err


def test_a_race_past_the_row_budget_is_refused_before_any_work(tmp_path: Path) -> None:
    csv = tmp_path / "out.csv"
    starts = [f"--start={i},0" for i in range(40)]
    code, out, err = app("race", "--preset", "bowl", *starts, "--entry", "sgd", "--entry",
                         "adam", "--steps", str(MAX_STEPS), "--csv", str(csv))
    assert_usage_error(code, out, err)
    assert "rows" in err and not csv.exists()


@pytest.mark.parametrize("target", ["missing/out.csv", "."])
def test_an_unwritable_csv_is_refused(tmp_path: Path, target: str) -> None:
    code, out, err = app(*_argv("--csv", str(tmp_path / target), entries=("sgd",)))
    assert_usage_error(code, out, err)


def test_a_diverged_entry_ranks_last_in_strict_json() -> None:
    code, out, err = app("race", "--function", "x**2 + 10*y**2", "--start", "1,1", "--json",
                         "--entry", "sgd:lr=0.5", "--entry", "adam:lr=0.1", "--steps", "400")
    assert code == 0, err
    payload = json.loads(out, parse_constant=lambda name: pytest.fail(f"JSON has {name}"))
    last = payload["leaderboard"][-1]
    assert last["optimizer"] == "sgd" and last["diverged"] == 1 and last["final_f"] is None
    (path,) = payload["entries"][0]["trajectories"]
    assert path["status"] == "diverged"
    code, out, err = app("race", "--function", "x**2 + 10*y**2", "--start", "1,1",
                         "--entry", "sgd:lr=0.5", "--entry", "adam:lr=0.1", "--steps", "400")
    assert code == 0 and out.splitlines()[-1].split()[-1] == "diverged"


def test_function_and_session_together_are_refused(tmp_path: Path) -> None:
    path = _session(tmp_path, race=(RunSettings(),))
    code, out, err = app("race", "--function", "x**2 + y**2", "--session", str(path))
    assert_usage_error(code, out, err)
    assert "--function" in err


@pytest.mark.parametrize("name", ["out.bmp", "missing/out.gif", "out.svg"])
def test_refused_animation_paths_cost_no_work(tmp_path: Path, name: str) -> None:
    target = tmp_path / name
    code, out, err = app(*_argv("--animation", str(target), entries=("sgd",)))
    assert_usage_error(code, out, err)
    assert not target.exists()


def test_a_bad_entry_in_a_subprocess_exits_2_with_one_line() -> None:
    done = subprocess.run(
        [sys.executable, "main.py", "race", "--preset", "bowl", "--start", "1,1",
         "--entry", "nosuch:lr=1"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and "unknown optimiser 'nosuch'" in done.stderr


# -- the --entry grammar ---------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_any_entry_text_is_an_entry_or_one_line(text: str) -> None:
    try:
        entry = parse_entry(text)
    except UsageError as error:
        message = str(error)
        assert "\n" not in message and len(message) < 400, message
        return
    assert entry.optimizer in REGISTRY or entry.optimizer in METHODS


_NAMES = st.sampled_from([*REGISTRY, *METHODS])


@settings(max_examples=200, deadline=None)
@given(_NAMES, st.text(max_size=30), st.text(max_size=30))
def test_hostile_items_after_a_name_are_refused_in_one_line(name: str, key: str,
                                                            value: str) -> None:
    text = f"{name}:{key}={value}"
    try:
        entry = parse_entry(text)
    except UsageError as error:
        assert "\n" not in str(error) and str(error).startswith("--entry "), error
        return
    # Taken: then the key was lr or one of the optimiser's own, and its value is kept.
    assert key.strip() == "lr" or key.strip() in dict(entry.params), text


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(sorted(REGISTRY)),
       st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-10**30, 10**30)))
def test_lr_is_a_positive_finite_number(name: str, lr: float) -> None:
    text = f"{name}:lr={lr!r}"
    if (isinstance(lr, float) and math.isfinite(lr) and lr > 0) or (isinstance(lr, int) and lr > 0):
        assert parse_entry(text).lr == float(repr(lr))
        return
    with pytest.raises(UsageError, match="lr"):
        parse_entry(text)


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_in_range_hyperparameters_are_taken_as_given(data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(sorted(REGISTRY)))
    spec = get_spec(name)
    params = [p for p in spec.hyperparameters if p.kind in ("float", "pair", "bool", "int")]
    if not params:
        return
    chosen = data.draw(st.lists(st.sampled_from(params), unique_by=lambda p: p.name, max_size=3))
    given_values: dict[str, object] = {}
    for param in chosen:
        if param.kind == "bool":
            given_values[param.name] = data.draw(st.booleans())
        else:
            assert param.low is not None and param.high is not None
            if param.kind == "int":
                given_values[param.name] = data.draw(st.integers(int(param.low),
                                                                 int(param.high)))
            elif param.kind == "pair":
                given_values[param.name] = tuple(data.draw(st.floats(param.low, param.high))
                                                 for _ in range(2))
            else:
                given_values[param.name] = data.draw(st.floats(param.low, param.high))
    items = [f"{k}={','.join(map(repr, v)) if isinstance(v, tuple) else str(v).lower()}"
             for k, v in given_values.items()]
    text = name + (":" + ",".join(items) if items else "")
    try:
        entry = parse_entry(text)
    except UsageError as error:  # torch itself refuses some combinations (nesterov, no momentum)
        assert name in str(error) or "nesterov" in str(error), error
        return
    assert dict(entry.params) == given_values


def test_a_pair_reads_across_the_comma_and_keys_may_come_in_any_order() -> None:
    assert parse_entry("adam:betas=0.8,0.99,lr=0.2") == parse_entry("adam:lr=0.2,betas=0.8,0.99")
    entry = parse_entry(" Adam : lr = 0.2 , betas = 0.8 , 0.99 ")
    assert entry == RaceEntry("adam", 0.2, (("betas", (0.8, 0.99)),))
    assert parse_entry("rmsprop").lr == RaceEntry.default("rmsprop").lr


# -- pictures ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("steps", "every"), [(12, 5), (10, 10), (7, 1), (9, 20)])
def test_the_animation_has_a_frame_per_rule(qapp: object, tmp_path: Path, steps: int,
                                            every: int) -> None:
    path = tmp_path / "race.gif"
    code, out, err = app(*_argv("--steps", str(steps), "--tol", "0", "--animation", str(path),
                                "--every", str(every), "--size", "200x150",
                                entries=("sgd:lr=0.01", "adam:lr=0.1")))
    assert code == 0, err
    frames = iio.imread(path, index=None)
    # The start, every `every`-th step, and the last if it falls between.
    expected = len(range(0, steps, every)) + 1
    assert frames.shape[0] == expected and f"({expected} frames" in out
    assert not np.array_equal(frames[0], frames[-1])  # the paths grew


def test_every_path_of_an_entry_has_the_entrys_colour(qapp: object, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """As in the window's race: entry k's paths (one per start) all take run k's colour."""
    from explorer.cli import animate
    from explorer.gui.model.colors import trajectory_color

    scenes = []

    def capture(args: object, settings: object, grid: object, frames: object) -> str:
        scenes.append(animate._scene(grid, frames))  # type: ignore[arg-type]
        return ""

    monkeypatch.setattr(animate, "render", capture)
    entries = ("sgd:lr=0.01", "adam:lr=0.1", "momentum:lr=0.005")
    code, _, err = app(*_argv("--steps", "5", "--animation", str(tmp_path / "race.gif"),
                              entries=entries))
    assert code == 0, err
    (scene,) = scenes
    colours = [path.color for path in scene.paths]
    assert colours == [trajectory_color(k) for k in range(len(entries)) for _ in STARTS]
    assert len(set(colours)) == len(entries)


def test_the_svg_holds_the_paths(qapp: object, tmp_path: Path) -> None:
    import xml.etree.ElementTree as ElementTree

    path = tmp_path / "race.svg"
    code, out, err = app(*_argv("--steps", "20", "--svg", str(path),
                                entries=("sgd:lr=0.01", "adam:lr=0.1")))
    assert code == 0, err
    root = ElementTree.parse(path).getroot()
    assert root.tag.endswith("svg") and f"wrote {path}" in out


# -- Ctrl+C ----------------------------------------------------------------------------------


def test_ctrl_c_stops_the_race_with_one_line_and_keeps_the_steps(tmp_path: Path) -> None:
    csv = tmp_path / "race.csv"
    code, out, err = interrupt_when_started(
        ["race", "--function", "x + y", "--start", "0,0", "--entry", "sgd:lr=0.01",
         "--entry", "adam:lr=0.01", "--steps", str(MAX_STEPS), "--tol", "0", "--csv", str(csv)],
        tmp_path)
    assert code == 130 and out == "" and "Traceback" not in err
    assert len(err.splitlines()) == 2  # the notice, then the message
    match = re.fullmatch(r"interrupted at step (\d+) of entry 1 of 2 \(SGD\): no leaderboard; "
                         r"wrote the steps so far of 1 path to .*", err.splitlines()[-1])
    assert match, err
    (path,) = read_trajectories(csv)
    assert path.status is Status.STOPPED and len(path.x) == int(match.group(1)) + 1


def test_the_bundled_race_session_races_as_run_session_runs_it() -> None:
    """resources/race_session.json holds its race's entries: `race --session` ranks the paths
    `run --session` computes for the same file, each entry's final f the same number."""
    session = str(ROOT / "resources" / "race_session.json")
    code, out, err = app("race", "--session", session, "--json")
    assert code == 0 and err == "", err
    race = json.loads(out)
    code, out, err = app("run", "--session", session, "--json")
    assert code == 0, err
    alone = {t["optimizer"]: t["f"] for t in json.loads(out)["trajectories"]}
    raced = {e["optimizer"]: e["trajectories"][0]["f"] for e in race["entries"]}
    assert raced == alone and len(raced) == 4
    finals = [row["final_f"] for row in race["leaderboard"]]
    assert finals == sorted(finals)
