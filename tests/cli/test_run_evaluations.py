"""run --json reports evaluations for every optimiser (issue 16): the engine's counts."""

from __future__ import annotations

import json

import pytest

from explorer.core.descent import run_descent
from explorer.core.expression import parse
from explorer.core.optimizers import REGISTRY
from explorer.core.trajectory import RunSettings
from tests.cli.helpers import app

FUNCTION = "0.5*(1 - x)**2 + (y - x**2)**2"
STARTS = [(2.0, -1.0), (0.5, 0.5)]


@pytest.mark.parametrize("optimizer", list(REGISTRY))
def test_every_torch_optimiser_reports_its_evaluations(optimizer: str) -> None:
    lr = REGISTRY[optimizer].default_lr
    argv = ["run", "--function", FUNCTION, "--optimizer", optimizer, "--lr", repr(lr)]
    argv += ["--steps", "40", "--json"]
    for x, y in STARTS:
        argv += ["--start", f"{x},{y}"]
    code, out, err = app(*argv)
    assert code == 0, err
    run = run_descent(
        parse(FUNCTION).evaluate, STARTS, RunSettings(optimizer=optimizer, lr=lr, steps=40)
    )
    for i, entry in enumerate(json.loads(out)["trajectories"]):
        f, grad, hess = run.outcome(i).evaluations or (None, None, None)
        assert entry["evaluations"] == {"f": f, "grad": grad, "hess": hess}
        assert all(isinstance(v, int) and v >= 1 for v in (f, grad)) and hess == 0
        if REGISTRY[optimizer].elementwise:
            assert f == entry["steps"] + 1  # rows 0..steps each evaluated once


def test_five_sgd_steps_are_six_evaluations() -> None:
    # Rows 0..5, each one f and one gradient; 5 steps are far from tol 1e-8 on this start.
    code, out, err = app(
        "run", "--function", FUNCTION, "--start", "2,-1", "--steps", "5", "--json"
    )
    assert code == 0, err
    assert json.loads(out)["trajectories"][0]["evaluations"] == {"f": 6, "grad": 6, "hess": 0}
