"""The headless command line: output formats, CSVs, and clear errors with exit code 2."""

from __future__ import annotations

import io
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from explorer.app import main
from explorer.core.descent import run_descent
from explorer.core.expression import parse
from explorer.core.trajectory import RunSettings
from explorer.io.trajectory_csv import read_trajectories

ROOT = Path(__file__).resolve().parents[2]


def cli(*argv: str) -> tuple[int, str, str]:
    """Run the CLI in-process; return (exit code, stdout, stderr)."""
    from explorer import cli as module

    out, err = io.StringIO(), io.StringIO()
    code = module.main(list(argv), out, err)
    return code, out.getvalue(), err.getvalue()


def test_run_json_matches_the_engine() -> None:
    code, out, err = cli(
        "run", "--preset", "himmelblau", "--start", "0,0", "--start", "-1,-1",
        "--optimizer", "sgd", "--lr", "0.01", "--steps", "500", "--json",
    )
    assert code == 0 and err == ""
    data = json.loads(out)
    assert set(data) == {"function", "optimizer", "lr", "schedule", "trajectories"}
    assert data["optimizer"] == "sgd" and data["lr"] == 0.01 and data["schedule"] == ""
    assert data["function"] == "(x**2 + y - 11)**2 + (x + y**2 - 7)**2"
    first, second = data["trajectories"]
    assert set(first) == {"start", "end", "f", "steps", "status", "evaluations"}
    assert first["start"] == [0.0, 0.0] and first["status"] == "converged"
    assert first["end"] == pytest.approx([3.0, 2.0], abs=1e-8)
    assert second["end"] == pytest.approx([-3.779310253377747, -3.2831859912861696], abs=1e-8)
    expected = run_descent(
        parse(data["function"]).evaluate, [[0.0, 0.0]], RunSettings(lr=0.01, steps=500)
    ).trajectory(0)
    assert first["steps"] == expected.steps and first["f"] == float(expected.f[-1])
    # Issue 16: SGD evaluates f and its gradient once per row, rows 0..steps.
    assert first["evaluations"] == {"f": expected.steps + 1, "grad": expected.steps + 1, "hess": 0}


def test_run_table_has_a_row_per_trajectory() -> None:
    code, out, _ = cli("run", "--function", "x^2 + 10*y^2", "--start", "1,1", "--start", "2,0.5",
                       "--lr", "0.2", "--steps", "50")
    assert code == 0
    lines = [line for line in out.splitlines() if line.strip()]
    header = next(i for i, line in enumerate(lines) if line.startswith("#"))
    assert "start" in lines[header] and "status" in lines[header]
    rows = lines[header + 1 :]
    assert len(rows) == 2
    # lr 0.2 is above 2 / 20 = 0.1 on the y curvature: both runs diverge.
    assert all("diverged" in row for row in rows)


def test_negative_coordinates_as_typed() -> None:
    a = json.loads(cli("run", "--preset", "bowl", "--start", "-1.5,2", "--json")[1])
    b = json.loads(cli("run", "--preset", "bowl", "--start=-1.5,2", "--json")[1])
    assert a == b and a["trajectories"][0]["start"] == [-1.5, 2.0]


def test_negative_function_text_is_not_an_option() -> None:
    code, out, _ = cli("run", "--function", "-x**2 - y**2", "--start", "1,1", "--ascent",
                       "--lr", "0.1", "--steps", "500", "--json")
    assert code == 0
    assert json.loads(out)["trajectories"][0]["status"] == "converged"


def test_params_reach_the_optimiser(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    code, _, _ = cli("run", "--preset", "booth", "--start", "0,0", "--optimizer", "sgd",
                     "--param", "momentum=0.9", "--param", "nesterov=true", "--steps", "5",
                     "--csv", str(path))
    assert code == 0
    (t,) = read_trajectories(path)
    settings = RunSettings.create({"momentum": 0.9, "nesterov": True}, steps=5)
    expected = run_descent(parse(t.function).evaluate, [[0.0, 0.0]], settings).trajectory(0)
    np.testing.assert_array_equal(t.x, expected.x)
    assert "momentum=0.9" in t.params and "nesterov=true" in t.params


def test_csv_has_every_step_of_every_trajectory(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    code, _, _ = cli("run", "--preset", "rosenbrock", "--start", "-1,2", "--start", "0,0",
                     "--optimizer", "adam", "--lr", "0.05", "--steps", "40", "--csv", str(path))
    assert code == 0
    first, second = read_trajectories(path)
    assert first.steps == 40 and second.steps == 40
    assert first.start == (-1.0, 2.0) and first.optimizer == "adam" and first.lr == 0.05


def test_grad_json_is_the_tutorial_slide() -> None:
    code, out, _ = cli("grad", "--function", "x*y + sin(pi*x)", "--at", "2,3", "--json")
    assert code == 0
    data = json.loads(out)
    assert set(data) == {"f", "grad", "symbolic"}
    assert data["grad"] == pytest.approx([3 + math.pi, 2.0], rel=1e-12)
    assert data["f"] == pytest.approx(6.0, abs=1e-12)
    assert data["symbolic"] == ["y + pi*cos(pi*x)", "x"]


def test_grad_table_shows_both_ways() -> None:
    code, out, _ = cli("grad", "--preset", "tutorial", "--at", "2,3")
    assert code == 0
    assert "y + pi*cos(pi*x)" in out and "by hand" in out and "autograd" in out
    assert f"{3 + math.pi:.6g}" in out


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["run", "--function", "2x + y", "--start", "0,0"], "write 2*x"),
        (["run", "--function", "x + z", "--start", "0,0"], "unknown name 'z'"),
        (["run", "--preset", "nope", "--start", "0,0"], "unknown preset 'nope'"),
        (["run", "--preset", "bowl", "--start", "0"], "expected X,Y"),
        (["run", "--preset", "bowl"], "--start"),
        (["run", "--preset", "bowl", "--start", "0,0", "--optimizer", "sdg"], "sdg"),
        (["run", "--preset", "bowl", "--start", "0,0", "--lr", "-1"], "positive"),
        (["run", "--preset", "bowl", "--start", "0,0", "--steps", "many"], "whole number"),
        (["run", "--preset", "bowl", "--start", "0,0", "--param", "betas=1"], "no keyword"),
        (["run", "--preset", "bowl", "--start", "0,0", "--param", "momentum=-2"], "momentum"),
        (["run", "--preset", "bowl", "--function", "x", "--start", "0,0"], "not allowed"),
        (["run", "--preset", "bowl", "--start", "0,0", "--csv", "/no/such/dir/a.csv"],
         "does not exist"),
        (["grad", "--preset", "bowl"], "--at"),
        (["grad", "--function", "sin(x", "--at", "1,1"], "parenthes"),
        (["frobnicate"], "unknown command"),
    ],
)
def test_errors_are_one_clear_message_and_exit_2(argv: list[str], fragment: str) -> None:
    out, err = io.StringIO(), io.StringIO()
    from contextlib import redirect_stderr, redirect_stdout

    with redirect_stdout(out), redirect_stderr(err):
        code = main(argv)
    assert code == 2
    assert fragment in err.getvalue()
    assert "Traceback" not in err.getvalue() and out.getvalue() == ""
    assert err.getvalue().startswith("error: ")


def test_expression_error_shows_a_caret_under_the_column() -> None:
    code, _, err = cli("run", "--function", "x + y + z", "--start", "0,0")
    assert code == 2
    lines = err.splitlines()
    assert lines[0].startswith("error: unknown name 'z'") and "column 9" in lines[0]
    assert lines[1] == "x + y + z"
    assert lines[2] == " " * 8 + "^"


def test_bad_run_leaves_an_existing_csv_untouched(tmp_path: Path) -> None:
    path = tmp_path / "keep.csv"
    path.write_text("precious\n", encoding="utf-8")
    code, _, _ = cli("run", "--function", "x +", "--start", "0,0", "--csv", str(path))
    assert code == 2
    code, _, _ = cli("run", "--preset", "bowl", "--start", "0,0", "--param", "nope=1",
                     "--csv", str(path))
    assert code == 2
    assert path.read_text(encoding="utf-8") == "precious\n"


def test_diverged_values_are_null_in_json() -> None:
    code, out, _ = cli("run", "--function", "exp(x**2)", "--start", "3,0", "--lr", "1",
                       "--steps", "20", "--json")
    assert code == 0
    (t,) = json.loads(out)["trajectories"]
    assert t["status"] == "diverged"


def test_main_py_runs_as_a_subprocess() -> None:
    result = subprocess.run(
        [sys.executable, "main.py", "grad", "--preset", "tutorial", "--at", "2,3", "--json"],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["grad"][1] == 2.0
    bad = subprocess.run(
        [sys.executable, "main.py", "run", "--function", "2x", "--start", "0,0"],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and "2*x" in bad.stderr
