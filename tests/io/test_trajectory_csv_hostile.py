"""Hostile trajectory CSVs: any one cell replaced by anything gives the trajectories or a
one-line CsvFormatError naming the file and line, never another exception."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from explorer.core.trajectory import Trajectory
from explorer.io.trajectory_csv import (
    COLUMNS,
    MAX_TEXT,
    MAX_TRAJECTORIES,
    CsvFormatError,
    read_trajectories,
    write_trajectories,
)


def _rows(tmp_path: Path) -> list[list[str]]:
    paths = [
        Trajectory(x=np.linspace(0, 1, 4), y=np.linspace(1, 0, 4), f=np.arange(4.0),
                   grad_x=np.ones(4), grad_y=np.zeros(4), optimizer="adam", lr=0.05,
                   function="x**2", params="betas=0.8,0.9"),
        Trajectory(x=np.zeros(2), y=np.ones(2), f=np.ones(2), grad_x=np.ones(2),
                   grad_y=np.ones(2)),
    ]
    path = tmp_path / "good.csv"
    write_trajectories(path, paths)
    return list(csv.reader(io.StringIO(path.read_text(), newline="")))


HOSTILE_CELLS = st.one_of(
    st.sampled_from(["", "nan", "inf", "-1", "1e999", "9" * 5000, "true", "x\ny", '"', "0x10",
                     "1_000", " 3 ", "\x00", "é" * 3]),
    st.text(max_size=20),
    st.integers().map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(row=st.integers(0, 6), column=st.integers(0, len(COLUMNS) + 2), cell=HOSTILE_CELLS)
def test_one_bad_cell_gives_trajectories_or_one_line(
    tmp_path: Path, row: int, column: int, cell: str
) -> None:
    rows = _rows(tmp_path)
    rows[row][column] = cell
    path = tmp_path / "hostile.csv"
    with path.open("w", newline="", encoding="utf-8") as stream:
        csv.writer(stream, lineterminator="\n").writerows(rows)
    try:
        trajectories = read_trajectories(path)
    except CsvFormatError as err:
        message = str(err)
        assert "\n" not in message and message.startswith(str(path)) and len(message) < 500
        return
    assert 1 <= len(trajectories) <= 3
    assert all(len(t.x) == len(t.f) >= 1 for t in trajectories)


def test_too_many_trajectories_and_too_long_texts(tmp_path: Path) -> None:
    header = ",".join(COLUMNS)
    many = tmp_path / "many.csv"
    many.write_text(header + "\n" + "".join(
        f"{i},sgd,0.1,0,1,1,1,1,1\n" for i in range(MAX_TRAJECTORIES + 1)))
    with pytest.raises(CsvFormatError, match=f"line {MAX_TRAJECTORIES + 2}: more than"):
        read_trajectories(many)
    long = tmp_path / "long.csv"
    long.write_text(header + "\n" + "0," + "a" * (MAX_TEXT + 1) + ",0.1,0,1,1,1,1,1\n")
    with pytest.raises(CsvFormatError, match=f"line 2: optimizer is {MAX_TEXT + 1:,} characters"):
        read_trajectories(long)
    digits = tmp_path / "digits.csv"
    digits.write_text(header + "\n" + "9" * 5000 + ",sgd,0.1,0,1,1,1,1,1\n")
    with pytest.raises(CsvFormatError, match=r"line 2: trajectory is '9{37}\.\.\.', not a whole"):
        read_trajectories(digits)
