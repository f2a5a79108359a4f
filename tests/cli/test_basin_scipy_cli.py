"""`basin --optimizer <scipy method>` and `sweep`'s refusal of scipy methods (issue 16)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer.core.basin import basin_map
from explorer.core.expression import parse
from explorer.core.scipy_methods import METHODS
from explorer.core.trajectory import RunSettings
from tests.cli.helpers import app, assert_usage_error
from tests.cli.test_interrupt import interrupt_when_started

HIMMELBLAU = "(x**2 + y - 11)**2 + (x + y**2 - 7)**2"


@pytest.mark.parametrize("method", ["bfgs", "powell"])
def test_basin_json_equals_the_core_map(method: str) -> None:
    code, out, err = app(
        "basin", "--function", HIMMELBLAU, "--domain=-5,5,-5,5", "--grid", "4",
        "--optimizer", method, "--steps", "100", "--json",
    )
    assert code == 0, err
    data = json.loads(out)
    expected = basin_map(
        parse(HIMMELBLAU).evaluate, (-5, 5, -5, 5),
        RunSettings(optimizer=method, lr=0.0, steps=100), n=4,
    )
    assert [(m["x"], m["y"], m["share"]) for m in data["minima"]] == [
        (m.x, m.y, m.share) for m in expected.minima
    ]
    assert data["diverged_share"] == expected.diverged_share


def test_basin_table_names_the_scipy_method() -> None:
    code, out, err = app("basin", "--preset", "himmelblau", "--grid", "3", "--optimizer", "cg",
                         "--param", "gtol=1e-7")
    assert code == 0, err
    assert "scipy.optimize.minimize cg (gtol=1e-07)" in out


@pytest.mark.parametrize(
    "extra",
    [["--lr", "0.5"], ["--schedule", "cosine"], ["--device", "cuda"], ["--param", "momentum=0.9"],
     ["--param", "maxfev=0"], ["--param", "maxfev=1e400"], ["--param", "maxfev"]],
)
def test_basin_refuses_what_a_scipy_method_cannot_take(extra: list[str]) -> None:
    assert_usage_error(*app("basin", "--preset", "himmelblau", "--grid", "3",
                            "--optimizer", "nelder-mead", *extra))


@settings(max_examples=30, deadline=None)
@given(value=st.one_of(st.text(max_size=30), st.integers(-10**30, 10**30).map(str),
                       st.floats(allow_nan=True, allow_infinity=True).map(repr)))
def test_basin_scipy_options_are_checked(value: str) -> None:
    code, out, err = app("basin", "--preset", "himmelblau", "--grid", "2", "--steps", "5",
                         "--optimizer", "powell", "--param", f"maxfev={value}", "--json")
    if code == 0:
        assert int(value.strip()) >= 1  # only a whole number within range is taken
    else:
        assert_usage_error(code, out, err)


@pytest.mark.parametrize("method", list(METHODS))
def test_sweep_refuses_scipy_methods_in_one_line(method: str) -> None:
    code, out, err = app("sweep", "--preset", "himmelblau", "--start", "1,1", "--optimizer", method,
                         "--lr-min", "0.01", "--lr-max", "1", "--count", "3", "--steps", "10")
    assert_usage_error(code, out, err)
    assert "has none" in err and method in err


def test_a_scipy_basin_is_interrupted_with_one_line(tmp_path: Path) -> None:
    code, out, err = interrupt_when_started(
        ["basin", "--function", HIMMELBLAU, "--domain=-5,5,-5,5", "--grid", "64",
         "--optimizer", "nelder-mead"],
        tmp_path,
    )
    assert code == 130 and out == "" and "Traceback" not in err
    assert err.splitlines()[-1].startswith("interrupted after ")
    assert err.splitlines()[-1].endswith(" of 4096 starts: no map")
