"""`--schedule` on run, sweep, basin and fit: the CSV's lr column, JSON, refusals (issue 16)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from explorer.core.schedules import SCHEDULES
from explorer.io.trajectory_csv import read_trajectories
from tests.cli.helpers import app, assert_usage_error
from tests.sgdr import sgdr_rates

FUNCTION = "x^2+3*y^2+sin(x*y)"  # no spaces: the commands below are split on them


def _objective(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """FUNCTION in torch directly."""
    return x**2 + 3 * y**2 + torch.sin(x * y)


def cmd(text: str) -> list[str]:
    """A command line split on spaces, {F} standing for FUNCTION."""
    return [FUNCTION if word == "{F}" else word for word in text.split()]


def _lr_column(path: Path) -> list[float]:
    with path.open(newline="") as file:
        return [float(row["lr"]) for row in csv.DictReader(file)]


def test_the_issue_example_writes_each_steps_rate(tmp_path: Path) -> None:
    out_csv = tmp_path / "run.csv"
    code, out, err = app(
        *cmd(
            "run --function {F} --start 0.3,0.2 --optimizer sgd --lr 0.5 --steps 9 --tol 0 "
            "--schedule cosine-restarts:T_0=1,T_mult=2 --csv"
        ),
        str(out_csv),
        *cmd("--json"),
    )
    assert code == 0, err
    assert json.loads(out)["schedule"] == "cosine-restarts:T_0=1,T_mult=2"
    rates = _lr_column(out_csv)
    expected = sgdr_rates(0.5, 1, 2, 9)
    assert len(rates) == 10
    np.testing.assert_allclose(rates, expected, rtol=0, atol=1e-12)
    # The path is a plain torch loop's: SGD, one scheduler.step() after each step.
    p = torch.tensor([[0.3, 0.2]], dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([p], lr=0.5)
    sched = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=1, T_mult=2)
    path = [p.detach().numpy()[0].copy()]
    for _ in range(9):
        opt.zero_grad()
        _objective(p[:, 0], p[:, 1]).sum().backward()
        opt.step()
        sched.step()
        path.append(p.detach().numpy()[0].copy())
    (t,) = read_trajectories(out_csv)
    np.testing.assert_allclose(np.column_stack([t.x, t.y]), path, rtol=0, atol=1e-12)
    assert t.rates is not None and t.rates.tolist() == rates


def test_without_a_schedule_the_lr_column_is_constant(tmp_path: Path) -> None:
    out_csv = tmp_path / "run.csv"
    code, out, _ = app(
        *cmd("run --function {F} --start 0.3,0.2 --lr 0.05 --steps 5 --csv"),
        str(out_csv),
        *cmd("--json"),
    )
    assert code == 0
    assert json.loads(out)["schedule"] == ""
    assert _lr_column(out_csv) == [0.05] * 6
    (t,) = read_trajectories(out_csv)
    assert t.rates is None


def test_the_table_names_the_schedule() -> None:
    code, out, _ = app(
        *cmd("run --function {F} --start 0.3,0.2 --steps 5 --schedule"), "step : gamma=0.5"
    )
    assert code == 0 and "schedule step:gamma=0.5" in out


@pytest.mark.parametrize("name", list(SCHEDULES))
def test_sweep_and_basin_take_every_schedule(name: str) -> None:
    code, out, err = app(
        *cmd(
            "sweep --function {F} --start 0.5,0.5 --optimizer adam --lr-min 0.01 --lr-max 0.1 "
            "--count 3 --steps 20 --schedule"
        ),
        name,
        *cmd("--json"),
    )
    assert code == 0, err
    assert {entry["schedule"] for entry in json.loads(out)} == {name}
    code, out, err = app(
        *cmd("basin --function {F} --domain -1,1,-1,1 --grid 4 --steps 20 --schedule"),
        name,
        *cmd("--json"),
    )
    assert code == 0, err
    assert json.loads(out)["schedule"] == name


def test_a_schedule_changes_a_sweeps_outcome() -> None:
    base = cmd(
        "sweep --function {F} --start 0.5,0.5 --optimizer sgd --lr-min 0.01 --lr-max 0.1 "
        "--count 2 --steps 30 --json"
    )
    plain = json.loads(app(*base)[1])
    decayed = json.loads(app(*base, "--schedule", "exponential:gamma=0.5")[1])
    assert [e["lr"] for e in plain] == [e["lr"] for e in decayed]
    assert all(a["f"] != b["f"] for a, b in zip(plain, decayed, strict=True))


def test_fit_takes_a_schedule() -> None:
    code, out, err = app(
        *cmd(
            "fit --model linear --data regression --epochs 5 --schedule linear:total_iters=3 --json"
        )
    )
    assert code == 0, err
    assert json.loads(out)["schedule"] == "linear:total_iters=3"
    assert_usage_error(
        *app("fit", "--model", "linear", "--data", "regression", "--schedule", "cosine:T_max=0")
    )


@pytest.mark.parametrize("method", ["bfgs", "nelder-mead"])
def test_scipy_methods_refuse_a_schedule(method: str) -> None:
    code, out, err = app(
        *cmd("run --function {F} --start 0.5,0.5 --optimizer"), method, *cmd("--schedule cosine")
    )
    assert_usage_error(code, out, err)
    assert "--schedule" in err and method in err


def test_a_session_run_refuses_a_schedule(tmp_path: Path) -> None:
    code, out, err = app("run", "--session", str(tmp_path / "x.json"), "--schedule", "cosine")
    assert_usage_error(code, out, err)
    assert "--schedule" in err


_COMMANDS = {
    "run": cmd("run --function {F} --start 0.5,0.5 --steps 10"),
    "sweep": cmd(
        "sweep --function {F} --start 0.5,0.5 --optimizer sgd --lr-min 0.01 --lr-max 0.1 "
        "--count 2 --steps 10"
    ),
    "basin": cmd("basin --function {F} --domain -1,1,-1,1 --grid 2 --steps 10"),
    "fit": cmd("fit --model linear --data regression --epochs 5"),
}


@pytest.mark.parametrize("command", list(_COMMANDS))
@pytest.mark.parametrize(
    "text",
    [
        ":",
        "warp",
        "cosine:",
        "cosine:T_max",
        "step:step_size=1,step_size=2",
        "step:gamma=nan",
        "exponential:gamma=-0.5",
        "cosine:T_max=1e99",
        "cosine:eta_min=inf",
        "onecycle:total_steps=3",
        "multistep:milestones=9/4",
        "linear:bogus=1",
        "st ep:gamma=0.1",
    ],
)
def test_bad_schedules_are_one_line_errors(command: str, text: str) -> None:
    assert_usage_error(*app(*_COMMANDS[command], "--schedule", text))


@pytest.mark.parametrize("command", list(_COMMANDS))
def test_an_empty_schedule_is_the_constant_rate(command: str) -> None:
    code, _, err = app(*_COMMANDS[command], "--schedule", "")
    assert code == 0, err


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=st.one_of(
        st.text(max_size=30),
        st.builds(
            lambda name, key, value: f"{name}:{key}={value}",
            st.sampled_from(list(SCHEDULES)),
            st.sampled_from(["gamma", "T_max", "T_0", "step_size", "milestones", "max_lr", "x"]),
            st.one_of(
                st.text(max_size=8), st.floats().map(repr), st.integers(-(10**20), 10**20).map(str)
            ),
        ),
    )
)
def test_any_schedule_text_runs_or_is_one_error_line(text: str) -> None:
    code, out, err = app(*_COMMANDS["run"], "--schedule", text, "--json")
    if code == 0:
        assert "Traceback" not in err
        json.loads(out)
    else:
        assert_usage_error(code, out, err)


def test_fit_under_a_step_schedule_follows_the_rule_by_hand(tmp_path: Path) -> None:
    from explorer.io.dataset_csv import bundled_datasets

    data = bundled_datasets()["regression"]
    table = np.loadtxt(data, delimiter=",", skiprows=1)
    x, y = table[:, 0], table[:, 1]
    out_csv = tmp_path / "fit.csv"
    code, _, err = app(
        *cmd(
            f"fit --model linear --data {data} --optimizer sgd --lr 0.05 --batch-size 32 "
            "--epochs 3 --seed 4 --start -1,2 --schedule step:step_size=5,gamma=0.5 --csv"
        ),
        str(out_csv),
    )
    assert code == 0, err
    # core.fitting's rule (README, "fit") with StepLR's rate: step k uses lr * gamma^((k-1)//5).
    rng = np.random.default_rng(4)
    w, b, k, expected = -1.0, 2.0, 0, [(-1.0, 2.0)]
    for _ in range(3):
        perm = rng.permutation(len(x))
        for i in range(0, len(x), 32):
            rows = perm[i : i + 32]
            k += 1
            rate = 0.05 * 0.5 ** ((k - 1) // 5)
            r = w * x[rows] + b - y[rows]
            w, b = w - rate * float(np.mean(2 * r * x[rows])), b - rate * float(np.mean(2 * r))
            expected.append((w, b))
    got = np.loadtxt(out_csv, delimiter=",", skiprows=1, usecols=(1, 2))
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
