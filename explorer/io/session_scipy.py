"""Session fields for scipy.optimize methods and evaluation counts: a scipy run's options and
limits, and per trajectory its counts, nit, message and the points where f was evaluated."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NoReturn, Protocol

import numpy as np

from explorer.core.optimizers import OptimizerError, Value
from explorer.core.scipy_methods import METHODS, parse_options
from explorer.core.scipy_record import ScipyRecord
from explorer.core.trajectory import Trajectory

# Most f evaluations one trajectory may list (Nelder-Mead takes about two per iteration; the
# window's step limit is 100,000), and the longest message (scipy's are one short sentence).
MAX_EVALUATED = 1_000_000
MAX_COUNT = 10**12
MAX_MESSAGE = 1000
COUNT_KEYS = ("f", "grad", "hess")


class Fields(Protocol):
    """The session reader's field checks (io.session._Reader)."""

    def fail(self, where: str, problem: str) -> NoReturn: ...
    def mapping(self, value: object, where: str) -> Mapping[str, Any]: ...
    def sequence(self, value: object, where: str, most: int | None = None) -> Sequence[Any]: ...
    def number(self, value: object, where: str) -> float: ...


def scipy_settings(fields: Fields, optimizer: str, data: Mapping[str, Any],
                   where: str) -> dict[str, Value]:
    """A scipy method's options (params), each checked as `run --param` checks it; what it has
    no use for (ascent, noise, a schedule) must be absent or off."""
    for key, off in (("ascent", False), ("noise", 0), ("schedule", "")):
        value = data.get(key, off)
        if value != off or isinstance(value, bool) != isinstance(off, bool):
            fields.fail(f"{where}.{key}", f"{optimizer} is a scipy.optimize method: it takes "
                        f"no {key} (expected {off!r} or nothing)")
    where = f"{where}.params"
    out: dict[str, Value] = {}
    for key, raw in fields.mapping(data.get("params", {}), where).items():
        if isinstance(raw, bool):
            text = "true" if raw else "false"
        elif isinstance(raw, int | float):
            text = repr(raw)
        else:
            fields.fail(f"{where}.{key}", f"expected a number or true/false, found "
                        f"{_kind(raw)}")
        try:
            out.update(parse_options(optimizer, [f"{key}={text}"]))
        except OptimizerError as err:
            fields.fail(f"{where}.{key}", str(err))
    return out


def extras_out(trajectory: Trajectory) -> dict[str, Any]:
    """A trajectory's evaluation counts and scipy record as JSON fields (none if unknown)."""
    out: dict[str, Any] = {}
    if trajectory.evaluations is not None:
        out["evaluations"] = dict(zip(COUNT_KEYS, trajectory.evaluations, strict=True))
    record = trajectory.scipy
    if record is not None:
        out["scipy"] = {
            "nit": record.nit,
            "message": record.message,
            "evaluated": [[_float(x), _float(y)] for x, y in record.points.tolist()],
            "upto": [int(v) for v in record.upto],
        }
    return out


def _float(value: float) -> float | str:
    return value if np.isfinite(value) else str(value)  # "nan", "inf", "-inf" as elsewhere


def evaluations_in(fields: Fields, data: Mapping[str, Any],
                   where: str) -> tuple[int, int, int] | None:
    """evaluations: absent, or {"f", "grad", "hess"} whole numbers from 0."""
    if "evaluations" not in data:
        return None
    counts = fields.mapping(data["evaluations"], f"{where}.evaluations")
    if set(counts) != set(COUNT_KEYS):
        fields.fail(f"{where}.evaluations", "expected exactly the counts f, grad and hess")
    f, grad, hess = (_whole(fields, counts[key], f"{where}.evaluations.{key}", MAX_COUNT)
                     for key in COUNT_KEYS)
    return f, grad, hess


def record_in(fields: Fields, data: Mapping[str, Any], where: str, optimizer: str, rows: int,
              evaluations: tuple[int, int, int] | None) -> ScipyRecord | None:
    """scipy: absent, or a scipy method's nit, message, evaluated points and, per path row,
    how many of them came before it (from 0, never fewer, all of them at the last row)."""
    if "scipy" not in data:
        return None
    where = f"{where}.scipy"
    if optimizer not in METHODS:
        fields.fail(where, f"only a scipy.optimize method's trajectory has this ({optimizer} "
                    "is torch's)")
    record = fields.mapping(data["scipy"], where)
    nit = _whole(fields, record.get("nit"), f"{where}.nit", MAX_COUNT)
    message = record.get("message")
    if not isinstance(message, str) or len(message) > MAX_MESSAGE:
        fields.fail(f"{where}.message", f"expected text of at most {MAX_MESSAGE} characters, "
                    f"found {_kind(message)}")
    items = fields.sequence(record.get("evaluated"), f"{where}.evaluated", most=MAX_EVALUATED)
    points = np.empty((len(items), 2))
    for i, item in enumerate(items):
        pair = fields.sequence(item, f"{where}.evaluated[{i}]")
        if len(pair) != 2:
            fields.fail(f"{where}.evaluated[{i}]", f"expected [x, y], found {len(pair)} numbers")
        points[i] = [fields.number(v, f"{where}.evaluated[{i}][{j}]") for j, v in enumerate(pair)]
    if evaluations is not None and len(points) > evaluations[0]:
        fields.fail(f"{where}.evaluated", f"{len(points)} points for {evaluations[0]} "
                    "evaluations of f")
    steps = fields.sequence(record.get("upto"), f"{where}.upto", most=rows)
    upto = np.array([_whole(fields, v, f"{where}.upto[{i}]", len(points))
                     for i, v in enumerate(steps)], dtype=np.int64)
    if len(upto) != rows or upto[0] != 0 or upto[-1] != len(points) or (np.diff(upto) < 0).any():
        fields.fail(f"{where}.upto", f"expected {rows} counts (one per row) from 0, never "
                    f"fewer, ending at {len(points)} (the evaluated points)")
    return ScipyRecord(nit, message, points, upto)


def _whole(fields: Fields, value: object, where: str, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= high:
        fields.fail(where, f"expected a whole number from 0 to {high:,}, found {_kind(value)}")
    return value


def _kind(value: object) -> str:
    """What a field holds, shortly: its type, or a short repr."""
    text = repr(value)
    return text if len(text) <= 40 else f"{type(value).__name__} of {len(text)} characters"
