"""Data CSV loading: columns by name, finite numbers, labels, limits, hostile files (issue 15)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from explorer.core.models import get_model
from explorer.io import dataset_csv
from explorer.io.dataset_csv import DataError, bundled_datasets, data_path, load_dataset

LINEAR = get_model("linear")
LOGISTIC = get_model("logistic")


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def refused(path: Path | str, model: object = LINEAR) -> str:
    """The DataError message, checked to be one line naming the file."""
    with pytest.raises(DataError) as info:
        load_dataset(path, model)  # type: ignore[arg-type]
    message = str(info.value)
    assert "\n" not in message and str(path) in message and len(message) < 300, message
    return message


def test_columns_by_name_extra_ignored_and_sha(tmp_path: Path) -> None:
    text = "id,Y , x\n1,2.5,-1\n2,3e2,0.25\n\n"
    data = load_dataset(write(tmp_path / "d.csv", text), LINEAR)
    np.testing.assert_array_equal(data.x, [-1.0, 0.25])
    np.testing.assert_array_equal(data.y, [2.5, 300.0])
    assert data.x.dtype == np.float64 and data.n == 2 and data.name == "d"
    assert data.sha256 == hashlib.sha256(text.encode()).hexdigest()


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("x,z\n1,2\n", "no column 'y'"),
        ("", "empty file"),
        ("x,y\n", "no data rows"),
        ("x,y\n1,2\n3,abc\n", "row 2, column y: 'abc' is not a number"),
        ("x,y\n1,2\nnan,3\n", "row 2, column x: 'nan' is not a finite number"),
        ("x,y\n1,inf\n", "row 1, column y: 'inf' is not a finite number"),
        ("x,y\n1,\n", "row 1, column y: an empty cell is not a number"),
        ("x,y\n1,2\n5\n", "row 2, column y: no value"),
        ("x,y,x\n1,2,3\n", "names column 'x' twice"),
        ("x,y\n1e999,2\n", "row 1, column x: '1e999' is not a finite number"),
    ],
)
def test_bad_files_get_one_line(tmp_path: Path, text: str, words: str) -> None:
    assert words in refused(write(tmp_path / "bad.csv", text))


def test_labels_must_be_0_or_1(tmp_path: Path) -> None:
    good = load_dataset(write(tmp_path / "c.csv", "x,label\n1,0\n2,1.0\n"), LOGISTIC)
    np.testing.assert_array_equal(good.y, [0.0, 1.0])
    message = refused(write(tmp_path / "c2.csv", "x,label\n1,0\n2,2\n"), LOGISTIC)
    assert "row 2, column label: 2 is not a label 0 or 1" in message
    assert "no column 'label'" in refused(write(tmp_path / "c3.csv", "x,y\n1,0\n"), LOGISTIC)


def test_not_utf8_and_nul(tmp_path: Path) -> None:
    (tmp_path / "b.csv").write_bytes(b"x,y\n\xff\xfe,1\n")
    assert "not UTF-8" in refused(tmp_path / "b.csv")
    (tmp_path / "n.csv").write_bytes(b"x,y\n1,\x002\n")
    refused(tmp_path / "n.csv")


def test_missing_file_folder_device_fifo(tmp_path: Path) -> None:
    assert "cannot read" in refused(tmp_path / "missing.csv")
    assert "folder" in refused(tmp_path)
    assert "device" in refused("/dev/zero")
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    assert "pipe" in refused(fifo)


def test_row_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert dataset_csv.MAX_ROWS >= 1_000_000
    # The limit itself, made small: the same counting that refuses row MAX_ROWS + 1.
    monkeypatch.setattr(dataset_csv, "MAX_ROWS", 5)
    rows = "".join(f"{i},{i}\n" for i in range(5))
    assert load_dataset(write(tmp_path / "five.csv", "x,y\n" + rows), LINEAR).n == 5
    message = refused(write(tmp_path / "six.csv", "x,y\n" + rows + "5,5\n"))
    assert "more than 5 data rows" in message


def test_a_million_rows_load(tmp_path: Path) -> None:
    n = dataset_csv.MAX_ROWS
    values = np.arange(n, dtype=np.float64) / 7
    path = tmp_path / "big.csv"
    with open(path, "w", encoding="utf-8") as file:
        file.write("x,y\n")
        np.savetxt(file, np.column_stack((values, values)), fmt="%.17g", delimiter=",")
    data = load_dataset(path, LINEAR)
    assert data.n == n
    np.testing.assert_array_equal(data.x, values)


def test_file_over_the_byte_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dataset_csv, "MAX_DATA_BYTES", 10)
    assert "bytes" in refused(write(tmp_path / "d.csv", "x,y\n1,2\n3,4\n"))


CELLS = st.one_of(
    st.text(max_size=8),
    st.sampled_from(["nan", "NaN", "inf", "-inf", "", " ", "1e999", "0x10", "1,5", '"', "\x00"]),
)


FIXTURE = [HealthCheck.function_scoped_fixture]  # tmp_path: each example rewrites its one file


@settings(max_examples=60, deadline=None, suppress_health_check=FIXTURE)
@given(
    row=st.integers(0, 4), column=st.integers(0, 1), cell=CELLS,
)
def test_hostile_cells(tmp_path: Path, row: int, column: int, cell: str) -> None:
    table = [[f"{r}.5", f"{-r}"] for r in range(5)]
    table[row][column] = cell
    text = "x,y\n" + "".join(",".join(r) + "\n" for r in table)
    path = tmp_path / "h.csv"
    path.write_text(text, encoding="utf-8")
    try:
        data = load_dataset(path, LINEAR)
    except DataError as error:
        message = str(error)
        assert "\n" not in message and str(path) in message
        return
    # Loaded: then every value is a finite float that Python reads from the cell it came from.
    assert np.isfinite(data.x).all() and np.isfinite(data.y).all()
    assert data.n <= 5


@settings(max_examples=30, deadline=None, suppress_health_check=FIXTURE)
@given(raw=st.binary(max_size=200))
def test_random_bytes_never_crash(tmp_path: Path, raw: bytes) -> None:
    path = tmp_path / "r.csv"
    path.write_bytes(raw)
    try:
        load_dataset(path, LOGISTIC)
    except DataError as error:
        assert "\n" not in str(error)


def test_bundled_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bundled = bundled_datasets()
    assert data_path("regression") == bundled["regression"]
    assert data_path("regression.csv") == Path("regression.csv")
    assert data_path("./regression") == Path("./regression")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "plateau").write_text("x,y\n1,2\n")
    assert data_path("plateau") == Path("plateau")  # a file of that name wins
