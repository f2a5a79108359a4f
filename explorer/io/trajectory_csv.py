"""Trajectory CSV files: one row per step, floats written so they read back bit for bit."""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import cast

import numpy as np

from explorer.core.trajectory import Reason, Status, Trajectory
from explorer.io.atomic import atomic_text_writer
from explorer.io.reading import FileReadError, read_user_bytes

COLUMNS = ("trajectory", "optimizer", "lr", "step", "x", "y", "f", "grad_x", "grad_y")
EXTRA_COLUMNS = ("status", "function", "params")


# Most trajectories one file may hold (each becomes a path on the map), and the longest text
# in a cell of the optimizer, status, function or params column (each is shown in a label).
MAX_TRAJECTORIES = 10_000
MAX_TEXT = 1_000


class CsvFormatError(ValueError):
    """A CSV that is not in our format; the message names the file, the line and the problem."""


def write_trajectories(path: str | os.PathLike[str], trajectories: Iterable[Trajectory],
                       ids: Sequence[int] | None = None) -> int:
    """Write every step of every trajectory; return the rows written.

    The `trajectory` column is ids[i] for the i-th trajectory (the window's run ids), or i
    counted from 0 when no ids are given (the command line). The file is replaced atomically:
    a failed write leaves any older file as it was. Trajectories with optimiser state (run
    --state) add two columns per state tensor after the others, state.<name>.x and .y, empty
    on row 0 (no step yet) and for a trajectory without that state.
    """
    trajectories = list(trajectories)
    numbers = list(range(len(trajectories))) if ids is None else [int(i) for i in ids]
    if len(numbers) != len(trajectories) or len(set(numbers)) != len(numbers):
        raise ValueError(f"{len(trajectories)} trajectories need as many different ids")
    names = list(dict.fromkeys(name for t in trajectories for name in t.state))
    rows = 0
    with atomic_text_writer(path) as stream:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(COLUMNS + EXTRA_COLUMNS + state_columns(names))
        for index, t in zip(numbers, trajectories, strict=True):
            # tolist() gives Python floats, whose str() is the shortest exact repr.
            columns = zip(
                range(len(t.x)),
                t.x.tolist(),
                t.y.tolist(),
                t.f.tolist(),
                t.grad_x.tolist(),
                t.grad_y.tolist(),
                strict=True,
            )
            head = (index, t.optimizer)
            # Under a schedule the lr column is the rate each row's step used (row 0: the first).
            lrs = [float(t.lr)] * len(t.x) if t.rates is None else t.rates.tolist()
            tail = (t.status.label, t.function, t.params)
            if names:
                state = _state_cells(t, names)
                writer.writerows(
                    (*head, lr, *row, *tail, *cells)
                    for lr, row, cells in zip(lrs, columns, state, strict=True)
                )
            else:
                writer.writerows(
                    (*head, lr, *row, *tail) for lr, row in zip(lrs, columns, strict=True)
                )
            rows += len(t.x)
    return rows


def state_columns(names: Sequence[str]) -> tuple[str, ...]:
    """The CSV columns of these optimiser state tensors: state.<name>.x, state.<name>.y each."""
    return tuple(f"state.{name}.{axis}" for name in names for axis in ("x", "y"))


def _state_cells(t: Trajectory, names: Sequence[str]) -> Iterable[tuple[object, ...]]:
    """Row by row, the state columns' cells of t: empty on row 0 and where t has no such state."""
    count = len(t.x)
    columns: list[list[object]] = []
    for name in names:
        values = t.state.get(name)
        for axis in (0, 1):
            cells: list[object] = [""] * count if values is None else values[:, axis].tolist()
            cells[:1] = [""] * min(1, count)  # row 0: the start, before any step
            columns.append(cells)
    return zip(*columns, strict=True)


def read_trajectories(path: str | os.PathLike[str]) -> list[Trajectory]:
    """Read a trajectory CSV (ours, or one edited in a spreadsheet) back into trajectories."""
    name = Path(path)
    try:
        text = read_user_bytes(name).decode("utf-8-sig")
        return _parse(name, csv.reader(io.StringIO(text, newline="")))
    except FileReadError as err:
        raise CsvFormatError(str(err)) from None
    except UnicodeDecodeError:
        raise CsvFormatError(f"{name}: not a text file (it is not UTF-8)") from None
    except csv.Error as err:
        raise CsvFormatError(f"{name}: not a readable CSV file ({err})") from None
    except OSError as err:
        raise CsvFormatError(f"{name}: cannot read it ({err.strerror or err})") from None


def _parse(name: Path, reader: Iterable[Sequence[str]]) -> list[Trajectory]:
    rows = iter(reader)
    header = [cell.strip().lower() for cell in next(rows, [])]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise CsvFormatError(f"{name}: line 1: missing column(s) {', '.join(missing)}")
    index = {
        column: header.index(column) for column in (*COLUMNS, *EXTRA_COLUMNS) if column in header
    }
    groups: dict[int, dict[str, list[object]]] = {}
    for line, row in enumerate(rows, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) < len(header):
            raise CsvFormatError(f"{name}: line {line}: {len(row)} fields, expected {len(header)}")
        tid = _number(name, line, "trajectory", row[index["trajectory"]], int)
        step = _number(name, line, "step", row[index["step"]], int)
        if tid not in groups and len(groups) == MAX_TRAJECTORIES:
            raise CsvFormatError(
                f"{name}: line {line}: more than {MAX_TRAJECTORIES:,} trajectories in one file"
            )
        group = groups.setdefault(int(tid), {"step": [], "values": [], "meta": [], "lr": []})
        expected = len(group["step"])
        if step != expected:
            raise CsvFormatError(
                f"{name}: line {line}: trajectory {tid} has step {step}, expected {expected}"
            )
        group["step"].append(step)
        group["lr"].append(_number(name, line, "lr", row[index["lr"]], float))
        group["values"].append(
            [
                _number(name, line, c, row[index[c]], float)
                for c in ("x", "y", "f", "grad_x", "grad_y")
            ]
        )
        if not group["meta"]:
            for column in ("optimizer", *EXTRA_COLUMNS):
                if column in index and len(row[index[column]]) > MAX_TEXT:
                    raise CsvFormatError(
                        f"{name}: line {line}: {column} is {len(row[index[column]]):,} "
                        f"characters long, at most {MAX_TEXT:,}"
                    )
            group["meta"] = [
                row[index["optimizer"]],
                _number(name, line, "lr", row[index["lr"]], float),
                *(row[index[c]] if c in index else "" for c in EXTRA_COLUMNS),
            ]
    if not groups:
        raise CsvFormatError(f"{name}: no trajectory rows after the header")
    return [_trajectory(name, group) for group in groups.values()]


def _number(name: Path, line: int, column: str, text: str, kind: type[float] | type[int]) -> float:
    try:
        return kind(text.strip())
    except ValueError:
        raise CsvFormatError(
            f"{name}: line {line}: {column} is {_cell_text(text)}, not a {_kind_name(kind)}"
        ) from None


def _cell_text(text: str) -> str:
    """A cell as an error message quotes it: repr, cut short, so the message stays one line
    whatever the cell holds."""
    return repr(text if len(text) <= 40 else text[:37] + "...")


def _kind_name(kind: type[float] | type[int]) -> str:
    return "whole number" if kind is int else "number"


def _trajectory(name: Path, group: dict[str, list[object]]) -> Trajectory:
    values = np.array(group["values"], dtype=np.float64)
    optimizer, lr, status, function, params = group["meta"]
    lrs = np.array(group["lr"], dtype=np.float64)
    # A column that changes from row to row is a schedule's rates; a constant one is the lr.
    rates = None if np.array_equal(lrs, np.full_like(lrs, lrs[0]), equal_nan=True) else lrs
    try:
        state = Status.from_label(str(status)) if status else Status.MAX_STEPS
    except KeyError:
        raise CsvFormatError(f"{name}: unknown status {_cell_text(str(status))}") from None
    return Trajectory(
        x=values[:, 0].copy(),
        y=values[:, 1].copy(),
        f=values[:, 2].copy(),
        grad_x=values[:, 3].copy(),
        grad_y=values[:, 4].copy(),
        optimizer=str(optimizer),
        lr=float(cast(float, lr)),  # _parse read it with _number(..., float)
        status=state,
        reason=Reason.NONE,
        function=str(function),
        params=str(params),
        rates=rates,
    )
