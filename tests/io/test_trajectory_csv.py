"""Trajectory CSVs: exact round trip, the column contract, atomic writes, clear errors."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from explorer.core.descent import run_descent
from explorer.core.trajectory import RunSettings, Status, Trajectory
from explorer.io.atomic import ExportError
from explorer.io.trajectory_csv import (
    COLUMNS,
    CsvFormatError,
    read_trajectories,
    write_trajectories,
)


def wavy(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return torch.sin(3 * x) * torch.cos(2 * y) + 0.1 * (x**2 + y**2)


def _trajectories() -> list[Trajectory]:
    settings = RunSettings.create({"momentum": 0.5}, optimizer="sgd", lr=0.0137, steps=25)
    run = run_descent(wavy, [[0.3, -1.7], [1e-300, 2.5], [100.0, 1.0]], settings, function="f, x")
    return run.trajectories()


def test_round_trip_is_exact(tmp_path: Path) -> None:
    written = _trajectories()
    path = tmp_path / "runs.csv"
    rows = write_trajectories(path, written)
    assert rows == sum(len(t.x) for t in written)
    read = read_trajectories(path)
    assert len(read) == len(written)
    for a, b in zip(written, read, strict=True):
        for name in ("x", "y", "f", "grad_x", "grad_y"):
            np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
        assert (a.optimizer, a.lr, a.status, a.function, a.params) == (
            b.optimizer,
            b.lr,
            b.status,
            b.function,
            b.params,
        )


def test_header_and_column_contract(tmp_path: Path) -> None:
    path = tmp_path / "runs.csv"
    write_trajectories(path, _trajectories())
    with open(path, encoding="utf-8", newline="") as stream:
        rows = list(csv.reader(stream))
    assert (
        tuple(rows[0][:9])
        == COLUMNS
        == (
            "trajectory",
            "optimizer",
            "lr",
            "step",
            "x",
            "y",
            "f",
            "grad_x",
            "grad_y",
        )
    )
    first = rows[1]
    assert first[0] == "0" and first[1] == "sgd" and float(first[2]) == 0.0137
    assert first[3] == "0" and (float(first[4]), float(first[5])) == (0.3, -1.7)
    assert {row[0] for row in rows[1:]} == {"0", "1", "2"}
    assert rows[-1][9] in {s.label for s in Status}


def test_non_finite_values_round_trip(tmp_path: Path) -> None:
    t = Trajectory(
        x=np.array([1.0, np.inf]),
        y=np.array([0.0, np.nan]),
        f=np.array([2.0, np.nan]),
        grad_x=np.array([-0.0, 1e308]),
        grad_y=np.array([5e-324, -np.inf]),
        status=Status.DIVERGED,
    )
    path = tmp_path / "nan.csv"
    write_trajectories(path, [t])
    (back,) = read_trajectories(path)
    for name in ("x", "y", "f", "grad_x", "grad_y"):
        np.testing.assert_array_equal(getattr(back, name), getattr(t, name))
    assert np.signbit(back.grad_x[0])
    assert back.status is Status.DIVERGED


def test_failed_write_keeps_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "runs.csv"
    path.write_text("precious\n", encoding="utf-8")

    def exploding() -> list[Trajectory]:
        good = _trajectories()[0]
        bad = Trajectory(
            x=np.zeros(3), y=np.zeros(2), f=np.zeros(3), grad_x=np.zeros(3), grad_y=np.zeros(3)
        )
        return [good, bad]

    with pytest.raises(ValueError):
        write_trajectories(path, exploding())
    assert path.read_text(encoding="utf-8") == "precious\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["runs.csv"]


def test_replacing_an_existing_file_is_clean(tmp_path: Path) -> None:
    path = tmp_path / "runs.csv"
    path.write_text("old\n", encoding="utf-8")
    os.chmod(path, 0o640)
    write_trajectories(path, _trajectories())
    assert read_trajectories(path)
    assert path.stat().st_mode & 0o777 == 0o640


def test_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="does not exist"):
        write_trajectories(tmp_path / "gone" / "runs.csv", _trajectories())


def test_unwritable_folder_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # CI runs as root, which may write anywhere, so refuse the temporary file as the OS would.
    def refuse(*args: object, **kwargs: object) -> tuple[int, str]:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("tempfile.mkstemp", refuse)
    with pytest.raises(ExportError, match=r"cannot write .*Permission denied"):
        write_trajectories(tmp_path / "runs.csv", _trajectories())
    assert list(tmp_path.iterdir()) == []


def test_full_disk_keeps_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "runs.csv"
    path.write_text("precious\n", encoding="utf-8")

    def full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("os.fsync", full)
    with pytest.raises(ExportError, match="No space left"):
        write_trajectories(path, _trajectories())
    assert path.read_text(encoding="utf-8") == "precious\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["runs.csv"]


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("", "missing column"),
        ("trajectory,optimizer,lr,step,x,y,f,grad_x\n", "missing column(s) grad_y"),
        (",".join(COLUMNS) + "\n0,sgd,0.1,0,1.0,abc,1,1,1\n", "line 2: y is 'abc'"),
        (",".join(COLUMNS) + "\n0,sgd,0.1,0,1,1,1,1,1\n0,sgd,0.1,2,1,1,1,1,1\n", "expected 1"),
        (",".join(COLUMNS) + "\n0,sgd,0.1,0,1,1\n", "line 2: 6 fields"),
        (",".join(COLUMNS) + "\n", "no trajectory rows"),
        (",".join(COLUMNS) + "\nx,sgd,0.1,0,1,1,1,1,1\n", "trajectory is 'x', not a whole"),
    ],
)
def test_bad_csv_files_name_the_problem(tmp_path: Path, content: str, fragment: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(CsvFormatError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        read_trajectories(path)


def test_binary_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(b"\xff\xfe\x00\x81garbage")
    with pytest.raises(CsvFormatError, match="not UTF-8"):
        read_trajectories(path)


def test_spreadsheet_edited_file_reads(tmp_path: Path) -> None:
    # Reordered columns, a BOM, CRLF line ends and extra columns, as a spreadsheet may save.
    path = tmp_path / "edited.csv"
    path.write_bytes(
        "\ufeffstep,trajectory,x,y,f,grad_x,grad_y,lr,optimizer,note\r\n"
        "0,7,1.5,2,3,4,5,0.1,adam,hi\r\n1,7,1.25,2,3,4,5,0.1,adam,\r\n".encode()
    )
    (t,) = read_trajectories(path)
    assert t.optimizer == "adam" and list(t.x) == [1.5, 1.25] and t.steps == 1
