"""`run --optimizer bfgs` etc.: scipy.optimize methods on the command line (issue 16)."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer.core.scipy_methods import METHODS
from explorer.io.trajectory_csv import COLUMNS, EXTRA_COLUMNS, read_trajectories
from tests.cli.helpers import app, assert_usage_error
from tests.core.test_scipy_methods import CASES, LECTURE, direct_minimize

STARTS = ("2,-1", "-1,1.5")


def _direct(name: str, start: tuple[float, float], steps: int) -> tuple[np.ndarray, Any]:
    """The same minimize, called directly with the hand-written derivatives of the core test."""
    return direct_minimize(CASES["lecture-rosenbrock"][1], start, name, steps, 1e-8)


def _run(name: str, *extra: str) -> tuple[int, str, str]:
    starts = [f"--start={s}" for s in STARTS]
    return app("run", "--function", LECTURE, *starts, "--optimizer", name, *extra)


@pytest.mark.parametrize("name", list(METHODS))
def test_json_and_csv_match_a_direct_scipy_call(name: str, tmp_path: Path) -> None:
    path = tmp_path / "run.csv"
    code, out, err = _run(name, "--steps", "150", "--json", "--csv", str(path))
    assert code == 0, err
    payload = json.loads(out)
    assert payload["optimizer"] == name and payload["lr"] is None
    trajectories = read_trajectories(path)
    with path.open(newline="") as stream:
        assert tuple(next(csv.reader(stream))) == COLUMNS + EXTRA_COLUMNS
    for entry, trajectory, text in zip(payload["trajectories"], trajectories, STARTS, strict=True):
        start = tuple(float(v) for v in text.split(","))
        points, result = _direct(name, start, 150)
        got = np.column_stack([trajectory.x, trajectory.y])
        assert got.shape == points.shape
        np.testing.assert_allclose(got, points, rtol=0, atol=1e-8)
        assert entry["steps"] == result.nit
        assert entry["message"] == result.message
        assert set(entry["evaluations"]) == {"f", "grad", "hess"}
        counts = {"f": result.nfev, "grad": result.get("njev", 0), "hess": result.get("nhev", 0)}
        assert entry["evaluations"] == counts
        assert (entry["status"] == "converged") == bool(result.success)
        assert entry["end"] == pytest.approx(list(points[-1]), abs=1e-8)
        assert trajectory.optimizer == name and trajectory.lr == 0.0
        assert trajectory.status.label == entry["status"]


def test_the_table_names_the_method_and_counts() -> None:
    code, out, err = _run("bfgs")
    assert code == 0, err
    assert "scipy.optimize.minimize bfgs, tol 1e-08, at most 100 iterations" in out
    _, result = _direct("bfgs", (2.0, -1.0), 100)
    assert f"{result.nfev}/{result.njev}/0" in out
    assert result.message in out


def test_the_iteration_limit_is_max_steps() -> None:
    code, out, _ = _run("bfgs", "--steps", "2", "--json")
    assert code == 0
    for entry in json.loads(out)["trajectories"]:
        assert entry["status"] == "max_steps" and entry["steps"] == 2


def test_params_reach_scipy() -> None:
    code, out, _ = _run("nelder-mead", "--param", "maxfev=25", "--json")
    assert code == 0
    for entry in json.loads(out)["trajectories"]:
        # scipy stops once nfev passes maxfev (its last simplex step may add one or two).
        assert 25 <= entry["evaluations"]["f"] <= 27
        assert entry["status"] == "max_steps"


def test_torch_optimisers_are_unchanged_and_lbfgs_stays_torchs() -> None:
    code, out, _ = _run("lbfgs", "--lr", "0.5", "--json")
    assert code == 0
    payload = json.loads(out)
    assert payload["lr"] == 0.5
    assert all("message" not in t for t in payload["trajectories"])


@pytest.mark.parametrize(
    "extra",
    [
        ("--param", "lr=0.1"),
        ("--param", "momentum=0.9"),
        ("--param", "maxiter=5"),
        ("--param", "gtol"),
        ("--param", "gtol=-1"),
        ("--param", "gtol=nan"),
        ("--param", "gtol=1e999"),
        ("--param", "gtol=" + "9" * 5000),
        ("--param", "gtol=[1]"),
        ("--lr", "0.1"),
        ("--bound", "10"),
        ("--ascent",),
        ("--state", "--csv", "unused.csv"),
        ("--steps", "-1"),
        ("--steps", "abc"),
        ("--tol", "-1"),
    ],
)
def test_hostile_options_exit_2_with_one_line(extra: tuple[str, ...], tmp_path: Path) -> None:
    extra = tuple(str(tmp_path / e) if e.endswith(".csv") else e for e in extra)
    assert_usage_error(*_run("bfgs", *extra))
    assert not (tmp_path / "unused.csv").exists()


@settings(max_examples=40, deadline=None)
@given(
    name=st.sampled_from(list(METHODS)),
    key=st.sampled_from(["gtol", "xtol", "maxfev", "maxcor", "eta", "adaptive", "xatol", "lr"]),
    value=st.one_of(
        st.floats(allow_nan=True, allow_infinity=True).map(repr),
        st.integers(min_value=-(10**30), max_value=10**30).map(str),
        st.text(max_size=20),
    ),
)
def test_any_param_runs_or_exits_2(name: str, key: str, value: str) -> None:
    code, out, err = app(
        "run", "--preset", "booth", "--start=1,1", "--optimizer", name, "--steps", "20",
        "--param", f"{key}={value}", "--json",
    )  # fmt: skip
    if code == 0:
        assert json.loads(out)["trajectories"][0]["evaluations"]["f"] >= 1
    else:
        assert_usage_error(code, out, err)


def test_the_readme_lists_every_method_and_option() -> None:
    # The README's paragraph is written by hand: it must name what parse_options accepts.
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    text = readme.split("**scipy.optimize methods.**", 1)[1].split("\n\n", 1)[0]
    for name, method in METHODS.items():
        assert f"`{name}`" in text
        for key in method.options:
            assert f"`{key}`" in text, (name, key)
