"""The `trajectory` column: the window's run ids when given, 0, 1, ... (the command line) when
not; ids that cannot name the trajectories are refused before anything is written."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer.core.trajectory import Status, Trajectory
from explorer.io.trajectory_csv import read_trajectories, write_trajectories


def _trajectory(steps: int, shift: float) -> Trajectory:
    x = np.linspace(1.0, 0.0, steps) + shift
    y = np.linspace(-1.0, 0.0, steps)
    return Trajectory(x=x, y=y, f=x**2 + y**2, grad_x=2 * x, grad_y=2 * y, optimizer="sgd",
                      lr=0.1, status=Status.CONVERGED)


def _column(path: Path) -> list[int]:
    with open(path, newline="") as stream:
        return [int(row["trajectory"]) for row in csv.DictReader(stream)]


def test_without_ids_trajectories_are_numbered_from_0(tmp_path: Path) -> None:
    path = tmp_path / "cli.csv"
    lengths = [3, 4]
    write_trajectories(path, [_trajectory(n, i) for i, n in enumerate(lengths)])
    assert _column(path) == [i for i, n in enumerate(lengths) for _ in range(n)]


@settings(max_examples=40, deadline=None)
@given(ids=st.lists(st.integers(1, 10**9), min_size=1, max_size=4, unique=True))
def test_the_given_ids_name_the_trajectories_and_read_back(ids: list[int]) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "window.csv"
        trajectories = [_trajectory(2 + i, 0.1 * i) for i in range(len(ids))]
        write_trajectories(path, trajectories, ids)
        assert _column(path) == [i for i, t in zip(ids, trajectories, strict=True)
                                 for _ in range(len(t.x))]
        back = read_trajectories(path)
        for a, b in zip(trajectories, back, strict=True):
            np.testing.assert_array_equal(a.x, b.x)


@pytest.mark.parametrize("ids", [[1], [1, 2, 3], [4, 4]])
def test_ids_that_do_not_fit_are_refused_and_nothing_is_written(
    tmp_path: Path, ids: list[int]
) -> None:
    path = tmp_path / "bad.csv"
    with pytest.raises(ValueError, match="ids"):
        write_trajectories(path, [_trajectory(3, 0.0), _trajectory(3, 1.0)], ids)
    assert not path.exists()
