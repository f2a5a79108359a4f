"""`run --state`: the optimiser's per-coordinate state as CSV columns, checked against torch."""

from __future__ import annotations

import csv
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer.core.budget import MAX_ROW_BYTES, ROW_BYTES, check_work
from explorer.core.descent import descend
from explorer.core.trajectory import RunSettings, Trajectory
from explorer.io.trajectory_csv import COLUMNS, EXTRA_COLUMNS, read_trajectories, write_trajectories
from tests.cli.helpers import app, assert_usage_error

FUNCTION = "x^2 + 3*y^2 + sin(x*y)"
STARTS = ((1.0, 2.0), (-1.5, 0.5), (0.3, -0.7))
STEPS = 30


def _objective(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """FUNCTION written directly in torch (not through the app's expression language)."""
    return x**2 + 3 * y**2 + torch.sin(x * y)


# (app's --optimizer, --lr, its --param texts, the torch class, the same keywords for torch)
CASES: dict[
    str, tuple[str, float, tuple[str, ...], type[torch.optim.Optimizer], dict[str, Any]]
] = {
    "sgd+momentum": (
        "sgd",
        0.05,
        ("momentum=0.9",),
        torch.optim.SGD,
        {"momentum": 0.9},
    ),
    "adam": (
        "adam",
        0.05,
        ("betas=0.8,0.99", "eps=1e-6"),
        torch.optim.Adam,
        {"betas": (0.8, 0.99), "eps": 1e-6},
    ),
    "rmsprop": (
        "rmsprop",
        0.01,
        ("alpha=0.9", "momentum=0.5", "eps=1e-8"),
        torch.optim.RMSprop,
        {"alpha": 0.9, "momentum": 0.5, "eps": 1e-8},
    ),
    "adagrad": (
        "adagrad",
        0.5,
        ("initial_accumulator_value=0.1", "lr_decay=0.01", "eps=1e-10"),
        torch.optim.Adagrad,
        {"initial_accumulator_value": 0.1, "lr_decay": 0.01, "eps": 1e-10},
    ),
    "adadelta": (
        "adadelta",
        1.0,
        ("rho=0.8", "eps=1e-6"),
        torch.optim.Adadelta,
        {"rho": 0.8, "eps": 1e-6},
    ),
    "nadam": (
        "nadam",
        0.05,
        ("betas=0.9,0.999", "momentum_decay=0.004"),
        torch.optim.NAdam,
        {"betas": (0.9, 0.999), "momentum_decay": 0.004},
    ),
}


@contextmanager
def _float64() -> Iterator[None]:
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        yield
    finally:
        torch.set_default_dtype(old)


def _replay(
    cls: type[torch.optim.Optimizer], lr: float, kwargs: dict[str, Any]
) -> list[dict[str, np.ndarray]]:
    """A plain torch loop over the same starts: optimizer.state[p]'s (N, 2) tensors per step."""
    with _float64():
        p = torch.tensor(STARTS, dtype=torch.float64, requires_grad=True)
        optimizer = cls([p], lr=lr, **kwargs)
        states = []
        for _ in range(STEPS):
            optimizer.zero_grad()
            _objective(p[:, 0], p[:, 1]).sum().backward()
            optimizer.step()
            states.append(
                {
                    str(name): value.detach().clone().numpy()
                    for name, value in optimizer.state[p].items()
                    if torch.is_tensor(value) and value.shape == p.shape
                }
            )
    return states


def _run_csv(path: Path, *extra: str, optimizer: str = "adam", lr: float = 0.05) -> int:
    starts = [arg for point in STARTS for arg in ("--start", f"{point[0]},{point[1]}")]
    code, _, err = app(
        "run",
        "--function",
        FUNCTION,
        *starts,
        "--optimizer",
        optimizer,
        "--lr",
        repr(lr),
        "--steps",
        str(STEPS),
        "--tol",
        "0",
        "--csv",
        str(path),
        *extra,
    )
    assert err == "" or code != 0, err
    return code


def _rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(newline="") as stream:
        reader = csv.DictReader(stream)
        return list(reader.fieldnames or []), list(reader)


@pytest.mark.parametrize("case", sorted(CASES))
def test_state_columns_equal_torch_state_in_a_replay(tmp_path: Path, case: str) -> None:
    optimizer, lr, params, cls, kwargs = CASES[case]
    path = tmp_path / "state.csv"
    param_args = [arg for text in params for arg in ("--param", text)]
    assert _run_csv(path, "--state", *param_args, optimizer=optimizer, lr=lr) == 0
    header, rows = _rows(path)
    replay = _replay(cls, lr, kwargs)
    names = list(replay[-1])
    assert names  # each of these optimisers keeps per-coordinate state
    expected_columns = [f"state.{n}.{axis}" for n in names for axis in ("x", "y")]
    assert header == [*COLUMNS, *EXTRA_COLUMNS, *expected_columns]
    assert len(rows) == len(STARTS) * (STEPS + 1)
    for row in rows:
        i, k = int(row["trajectory"]), int(row["step"])
        for name in names:
            for axis, column in enumerate(("x", "y")):
                cell = row[f"state.{name}.{column}"]
                if k == 0:
                    assert cell == ""  # the start: no step yet, no state
                    continue
                want = float(replay[k - 1][name][i, axis])
                assert math.isclose(float(cell), want, rel_tol=1e-12, abs_tol=1e-12), (
                    case,
                    i,
                    k,
                    name,
                    column,
                    cell,
                    want,
                )


def test_without_state_the_csv_is_the_same_minus_the_state_columns(tmp_path: Path) -> None:
    plain, with_state = tmp_path / "plain.csv", tmp_path / "state.csv"
    assert _run_csv(plain) == 0
    assert _run_csv(with_state, "--state") == 0
    plain_header, plain_rows = _rows(plain)
    header, rows = _rows(with_state)
    assert plain_header == [*COLUMNS, *EXTRA_COLUMNS]
    assert header[: len(plain_header)] == plain_header
    assert len(header) > len(plain_header)
    assert [{c: r[c] for c in plain_header} for r in rows] == plain_rows
    # The reader takes the file with state columns and ignores them.
    for a, b in zip(read_trajectories(plain), read_trajectories(with_state), strict=True):
        for field in ("x", "y", "f", "grad_x", "grad_y"):
            np.testing.assert_array_equal(getattr(a, field), getattr(b, field))


@pytest.mark.parametrize("optimizer", ["lbfgs", "sgd"])
def test_no_per_coordinate_state_writes_no_state_columns(tmp_path: Path, optimizer: str) -> None:
    # L-BFGS keeps history lists and flat vectors; plain SGD's momentum_buffer stays None.
    path = tmp_path / "none.csv"
    assert _run_csv(path, "--state", optimizer=optimizer, lr=0.01) == 0
    header, rows = _rows(path)
    assert header == [*COLUMNS, *EXTRA_COLUMNS]
    assert rows


def test_state_empty_before_the_first_step_leaves_row_zero_empty(tmp_path: Path) -> None:
    # Adam's state is empty until its first step; Adagrad's exists from construction but row 0
    # is still the start, before any step.
    for optimizer in ("adam", "adagrad"):
        path = tmp_path / f"{optimizer}.csv"
        assert _run_csv(path, "--state", optimizer=optimizer) == 0
        header, rows = _rows(path)
        state_columns = [c for c in header if c.startswith("state.")]
        assert state_columns
        for row in rows:
            cells = [row[c] for c in state_columns]
            if row["step"] == "0":
                assert cells == [""] * len(cells)
            else:
                assert all(math.isfinite(float(c)) for c in cells)


@pytest.mark.parametrize(
    "extra",
    [
        ["--state"],
        ["--state", "--json"],
    ],
)
def test_state_without_csv_is_a_usage_error(extra: list[str]) -> None:
    assert_usage_error(*app("run", "--function", "x^2", "--start", "1,2", *extra))


def test_state_with_session_is_a_usage_error(tmp_path: Path) -> None:
    session = tmp_path / "s.json"
    session.write_text("{}")
    assert_usage_error(
        *app("run", "--session", str(session), "--state", "--csv", str(tmp_path / "o.csv"))
    )


def test_state_columns_count_in_the_row_budget(tmp_path: Path) -> None:
    # Adam's two state tensors add 32 bytes to each 40-byte row: pick a request whose rows fit
    # the limit without them and not with them.
    starts, steps = 20, 999_999
    rows = starts * (steps + 1)
    assert rows * ROW_BYTES <= MAX_ROW_BYTES < rows * (ROW_BYTES + 2 * 2 * 8)
    check_work(starts, steps, keep_rows=True)  # without --state it is within budget
    out = tmp_path / "big.csv"
    argv = [arg for i in range(starts) for arg in ("--start", f"{i},1")]
    code, stdout, err = app(
        "run",
        "--function",
        "x^2+y^2",
        *argv,
        "--optimizer",
        "adam",
        "--steps",
        str(steps),
        "--csv",
        str(out),
        "--state",
    )
    assert_usage_error(code, stdout, err)
    assert "limit" in err and not out.exists()


def test_engine_refuses_state_without_history() -> None:
    with pytest.raises(ValueError, match="history"):
        next(descend(_objective, STARTS, RunSettings(optimizer="adam"), history=False, state=True))


_cells = st.floats(allow_nan=True, allow_infinity=True, width=64)


@settings(max_examples=40, deadline=None)
@given(
    values=st.lists(st.tuples(_cells, _cells), min_size=2, max_size=6),
    name=st.sampled_from(["exp_avg", "momentum_buffer", "sum"]),
)
def test_state_cells_read_back_bit_for_bit(
    tmp_path_factory: pytest.TempPathFactory, values: list[tuple[float, float]], name: str
) -> None:
    path = tmp_path_factory.mktemp("cells") / "t.csv"
    state = np.array(values, dtype=np.float64)
    count = len(values)
    points = np.linspace(-1.0, 1.0, count)
    t = Trajectory(x=points, y=points, f=points, grad_x=points, grad_y=points, state={name: state})
    other = Trajectory(x=points, y=points, f=points, grad_x=points, grad_y=points)
    assert write_trajectories(path, [t, other]) == 2 * count
    header, rows = _rows(path)
    columns = (f"state.{name}.x", f"state.{name}.y")
    assert header[-2:] == list(columns)
    for row in rows:
        k = int(row["step"])
        cells = [row[c] for c in columns]
        if row["trajectory"] == "1" or k == 0:
            assert cells == ["", ""]  # no such state, or the start
            continue
        for cell, want in zip(cells, state[k], strict=True):
            got = float(cell)
            assert (math.isnan(got) and math.isnan(want)) or got == want
    assert len(read_trajectories(path)) == 2


def test_engine_keeps_the_state_with_row_zero_empty() -> None:
    # descend takes any torch callable of x and y: the test's own objective works with state.
    objective: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] = _objective
    run = None
    for chunk in descend(objective, STARTS, RunSettings(optimizer="momentum", steps=3), state=True):
        run = chunk.run
    assert run is not None
    assert set(run.state) == {"momentum_buffer"}
    assert np.isnan(run.state["momentum_buffer"][0]).all()
