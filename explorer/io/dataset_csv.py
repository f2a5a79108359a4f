"""Data sets for the models (issue 15): a CSV with a header, two columns used by name.

The columns a model needs (x and y, or x and label) are found by name in the header (extra
columns are ignored); every value must be a finite number, and a label 0 or 1. Anything else
is refused with one line naming the file, the row (1 is the first row under the header) and
the column. The file is read through read_user_bytes, so a device, a FIFO or a file larger
than MAX_DATA_BYTES is refused before it is read.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from explorer.io.reading import FileReadError, read_user_bytes

if TYPE_CHECKING:
    from explorer.core.models import ModelSpec

# The most data rows a file may have (documented in README, "fit").
MAX_ROWS = 1_000_000
# The largest data file read: a million rows of a few long numbers each, with room to spare.
MAX_DATA_BYTES = 200_000_000
# A network's data (issue 17): the most feature columns, and the most cells of a file read
# (each cell is a Python string while it is read: about 60 bytes).
MAX_FEATURES = 1000
MAX_CELLS = 20_000_000
LABEL = "label"
NETWORK_FOLDER = Path(__file__).resolve().parents[2] / "resources" / "data" / "networks"
DATA_FOLDER = Path(__file__).resolve().parents[2] / "resources" / "data"

FloatArray = NDArray[np.float64]


class DataError(ValueError):
    """A data file the models cannot use: one line naming the file, row and column."""


@dataclass(frozen=True, eq=False)
class Dataset:
    """The two columns a model uses, as float64 arrays of the same length, and their source."""

    x: FloatArray
    y: FloatArray
    name: str
    path: Path | None
    sha256: str

    @property
    def n(self) -> int:
        """The number of rows."""
        return len(self.x)


def bundled_datasets(folder: Path = DATA_FOLDER) -> dict[str, Path]:
    """The data sets shipped in resources/data (or folder): name -> path, sorted by name."""
    return {path.stem: path for path in sorted(folder.glob("*.csv"))}


def data_path(text: str, folder: Path = DATA_FOLDER) -> Path:
    """Where --data points: a bundled set's file for a bare name that is not a file, else text.

    A bare name (no folder, no suffix) that names no file here is looked up among the bundled
    sets (of folder); anything else is a path, so a file called 'regression' here is never
    shadowed.
    """
    path = Path(text)
    bundled = bundled_datasets(folder)
    if text in bundled and path.name == text and not path.suffix and not path.exists():
        return bundled[text]
    return path


def load_dataset(path: str | os.PathLike[str], model: ModelSpec) -> Dataset:
    """The columns model.columns of the CSV at path, checked; DataError on anything wrong."""
    name = Path(path)
    try:
        raw = read_user_bytes(name, MAX_DATA_BYTES)
    except FileReadError as err:
        raise DataError(str(err)) from None
    x, y = parse_columns(raw, model.columns, str(name))
    if model.name == "logistic":
        _check_labels(str(name), model.columns[1], y)
    digest = hashlib.sha256(raw).hexdigest()
    return Dataset(x, y, name.stem, name, digest)


def parse_columns(
    raw: bytes, columns: tuple[str, str], source: str
) -> tuple[FloatArray, FloatArray]:
    """The two named columns of CSV bytes as float64 arrays; DataError naming source otherwise."""
    reader = csv.reader(io.StringIO(_text(raw, source), newline=""))
    try:
        indices = _header(reader, columns, source)
        cells = _cells(reader, indices, columns, source)
    except csv.Error as err:
        raise DataError(f"{source}: line {reader.line_num}: not a CSV file ({err})") from None
    return (
        _numbers(cells[0], columns[0], source),
        _numbers(cells[1], columns[1], source),
    )


def _text(raw: bytes, source: str) -> str:
    """The bytes as UTF-8 text (a byte-order mark dropped); DataError otherwise."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise DataError(f"{source}: not UTF-8 text (byte {err.start})") from None


def _first_row(reader: Iterator[list[str]], source: str, wanted: str) -> list[str]:
    """The first non-blank row: the header."""
    for row in reader:
        if any(cell.strip() for cell in row):
            return row
    raise DataError(f"{source}: empty file: it needs a header naming {wanted}")


def _header(reader: Iterator[list[str]], columns: tuple[str, str], source: str) -> tuple[int, int]:
    """The positions of the two columns in the first non-blank row."""
    row = _first_row(reader, source, ", ".join(columns))
    found = [_position(row, column, source, f"this model needs columns {', '.join(columns)}")
             for column in columns]
    return found[0], found[1]


def _position(row: list[str], column: str, source: str, needs: str) -> int:
    """Where the header row names column (once, any case); DataError saying what is needed."""
    names = [cell.strip().lower() for cell in row]
    if names.count(column) > 1:
        raise DataError(f"{source}: the header names column '{column}' twice")
    if column not in names:
        shown = ", ".join(repr(cell[:20]) for cell in row[:8])
        raise DataError(f"{source}: no column '{column}' in the header (it has {shown}); {needs}")
    return names.index(column)


def _cells(
    reader: Iterator[list[str]], indices: Sequence[int], columns: Sequence[str], source: str
) -> list[list[str]]:
    """The text of the columns at indices, one list each, row by row (blank rows skipped and
    not counted); DataError where a row lacks one, past MAX_ROWS or MAX_CELLS, or for none."""
    out: list[list[str]] = [[] for _ in indices]
    need = max(indices) + 1
    count = 0
    for row in reader:
        if not row or (len(row) == 1 and not row[0].strip()):
            continue  # a blank line (the file's last, often)
        count += 1
        if count > MAX_ROWS:
            raise DataError(f"{source}: more than {MAX_ROWS:,} data rows (the limit)")
        if count * len(indices) > MAX_CELLS:
            raise DataError(
                f"{source}: more than {MAX_CELLS:,} cells in {len(indices)} columns (the limit: "
                f"{MAX_CELLS // len(indices):,} rows of them)"
            )
        if len(row) < need:
            missing = next(c for i, c in zip(indices, columns, strict=True) if i >= len(row))
            raise DataError(
                f"{source}: row {count}, column {missing}: no value (the row has "
                f"{len(row)} cell{'s' if len(row) != 1 else ''})"
            )
        for column, index in zip(out, indices, strict=True):
            column.append(row[index])
    if not count:
        raise DataError(f"{source}: no data rows under the header")
    return out


@dataclass(frozen=True, eq=False)
class FeatureData:
    """A network's data: every column but label a feature (float64), the labels, the source."""

    features: FloatArray  # (n, d)
    labels: FloatArray  # (n,)
    feature_names: tuple[str, ...]
    name: str
    path: Path | None
    sha256: str

    @property
    def n(self) -> int:
        """The number of rows."""
        return len(self.labels)


def network_datasets() -> dict[str, Path]:
    """The network data sets shipped in resources/data/networks: name -> path, by name."""
    return bundled_datasets(NETWORK_FOLDER)


def network_data_path(text: str) -> Path:
    """Where a network's --data points: data_path among the network sets (spirals, moons,
    circles, xor)."""
    return data_path(text, NETWORK_FOLDER)


def load_features(path: str | os.PathLike[str]) -> FeatureData:
    """The CSV at path as features and labels, checked; DataError on anything wrong."""
    name = Path(path)
    try:
        raw = read_user_bytes(name, MAX_DATA_BYTES)
    except FileReadError as err:
        raise DataError(str(err)) from None
    features, labels, names = parse_features(raw, str(name))
    return FeatureData(features, labels, names, name.stem, name, hashlib.sha256(raw).hexdigest())


def parse_features(
    raw: bytes, source: str
) -> tuple[FloatArray, FloatArray, tuple[str, ...]]:
    """(features (n, d), labels (n,), feature names) of CSV bytes whose header names a label
    column; every other column is a feature. DataError naming source otherwise."""
    reader = csv.reader(io.StringIO(_text(raw, source), newline=""))
    try:
        row = _first_row(reader, source, f"a '{LABEL}' column and feature columns")
        label = _position(row, LABEL, source, "a network needs a label column and features")
        names = [
            cell.strip() or f"column {i + 1}" for i, cell in enumerate(row) if i != label
        ]
        if not names:
            raise DataError(f"{source}: no feature columns: every column but '{LABEL}' is one")
        if len(names) > MAX_FEATURES:
            raise DataError(
                f"{source}: {len(names)} feature columns, above the limit of {MAX_FEATURES}"
            )
        indices = [i for i in range(len(row)) if i != label] + [label]
        cells = _cells(reader, indices, [*names, LABEL], source)
    except csv.Error as err:
        raise DataError(f"{source}: line {reader.line_num}: not a CSV file ({err})") from None
    columns = [_numbers(c, n, source) for c, n in zip(cells, [*names, LABEL], strict=True)]
    return np.column_stack(columns[:-1]), columns[-1], tuple(names)


def _numbers(cells: list[str], column: str, source: str) -> FloatArray:
    """The cells as finite float64 numbers; DataError at the first that is not one."""
    try:
        values = np.array(cells, dtype=np.float64)
    except (ValueError, OverflowError):
        # numpy says only that some cell failed: find the first one, and say which.
        for row, cell in enumerate(cells, start=1):
            try:
                float(cell)
            except (ValueError, OverflowError):
                raise DataError(
                    f"{source}: row {row}, column {column}: {_shown(cell)} is not a number"
                ) from None
        raise  # numpy refused what Python accepts: not expected, so not hidden
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        row = int(bad[0])
        raise DataError(
            f"{source}: row {row + 1}, column {column}: {_shown(cells[row])} is not a finite "
            "number"
        )
    return values


def _check_labels(source: str, column: str, labels: FloatArray) -> None:
    """Every label 0 or 1, or DataError at the first that is not."""
    bad = np.flatnonzero((labels != 0.0) & (labels != 1.0))
    if bad.size:
        row = int(bad[0])
        raise DataError(
            f"{source}: row {row + 1}, column {column}: {labels[row]:g} is not a label 0 or 1"
        )


def _shown(cell: str) -> str:
    """A cell quoted for a message, cut short and on one line."""
    text = cell.replace("\n", " ").replace("\r", " ")
    return repr(text if len(text) <= 30 else text[:27] + "...") if text.strip() else "an empty cell"
