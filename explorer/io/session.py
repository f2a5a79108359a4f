"""Session files: a landscape, its starts and optimiser settings, and optionally its results.

A session is one JSON object with a format name and version. Every float is written by
Python's json module (repr, so it reads back bit for bit); NaN and infinities, which JSON
lacks, are written as the strings "nan", "inf" and "-inf". Runs keep their batches: the
starts that ran together run together again, so a reloaded session reproduces its numbers
bit for bit (vectorised maths may round differently for different batch sizes).
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

from explorer.core.budget import MAX_STEPS, BudgetError, check_rows
from explorer.core.expression import ParseError, parse
from explorer.core.landscape import Domain, validate_domain
from explorer.core.optimizers import (
    REGISTRY,
    OptimizerError,
    Value,
    check_value,
    get_spec,
    validate,
)
from explorer.core.race import MAX_ENTRIES
from explorer.core.schedules import check_schedule, schedule_rates
from explorer.core.scipy_methods import METHODS, is_scipy_method
from explorer.core.trajectory import Reason, RunSettings, Status, Trajectory
from explorer.io.atomic import atomic_text_writer
from explorer.io.reading import FileReadError, read_user_bytes
from explorer.io.session_network import NetworkSource, network_in, network_out
from explorer.io.session_race import race_budget_in, race_budget_out
from explorer.io.session_scipy import evaluations_in, extras_out, record_in, scipy_settings
from explorer.io.session_words import expected as _expected
from explorer.io.session_words import found as _found
from explorer.io.session_words import show as _show

FORMAT = "gradient-descent-explorer-session"
VERSION = 1
# Limits on what a session file may ask for (documented in README, "Sessions"): a run list
# longer than a window ever holds would build an optimiser per run; a seed beyond the
# window's control is one it could not show (and past 2**64 one torch refuses). Steps and
# recorded rows have the CLI's limits (core/budget.py).
MAX_RUNS = 10_000
MAX_SEED = 2**31 - 1
# Longest schedule text a settings object may hold (core.schedules' canonical forms are short).
_MAX_SCHEDULE = 1000

Point = tuple[float, float]
Color = tuple[int, int, int]
# Run ids are counted by the window from 1; far more than a window holds, far below overflow.
MAX_RUN_ID = 10**9
_FLAT_LIST = re.compile(r"\[\s+([^\[\]{}]*?)\s+\]")
_ARRAYS = ("x", "y", "f", "grad_x", "grad_y")


# The longest path time a session may ask for (seconds; the controls' range ends there too).
MAX_PATH_TIME = 600.0


# A model on data (issue 15): the most rows per batch and epochs a session may ask for.
MAX_BATCH_SIZE = 10_000_000
MAX_EPOCHS = 100_000
MAX_DATA_PATH = 4096
_SHA256 = re.compile(r"[0-9a-f]{64}")


class SessionError(ValueError):
    """A session file that cannot be read; the message names the file and the problem."""


@dataclass(frozen=True)
class ViewSettings:
    """How the landscape is shown. log_scale None means: chosen automatically."""

    log_scale: bool | None = None
    loss_log: bool = False
    # Seconds a path takes to draw (0: instant); None: not stored, the window keeps its own.
    path_time: float | None = None


@dataclass(frozen=True, eq=False)
class SessionRun:
    """Starts that ran together with one set of settings, and optionally what they produced."""

    settings: RunSettings
    starts: tuple[Point, ...]
    trajectories: tuple[Trajectory, ...] | None = None
    # The window's run id of each start (the runs table's #), None when not known.
    ids: tuple[int, ...] | None = None


@dataclass(frozen=True, eq=False)
class Session:
    """Everything needed to restore a picture and to run it again."""

    function: str
    domain: Domain
    controls: RunSettings = field(default_factory=RunSettings)
    view: ViewSettings = field(default_factory=ViewSettings)
    pending: tuple[Point, ...] = ()
    runs: tuple[SessionRun, ...] = ()
    race: tuple[RunSettings, ...] = ()
    preset: str | None = None
    # The race entries' colours, one per entry (or none), and the id the next run gets.
    race_colors: tuple[Color, ...] = ()
    next_id: int | None = None
    # The race's f evaluations per start (io.session_race); None: the race runs by steps.
    race_evaluations: int | None = None
    # A model on data instead of the function (the function stays for when it comes back).
    model: ModelSource | None = None
    # The window's neural network (io.session_network), trained again on open.
    network: NetworkSource | None = None


@dataclass(frozen=True)
class ModelSource:
    """A model on data: its name, the data file's path and SHA-256, and the minibatch."""

    model: str
    data: str
    sha256: str
    batch_size: int | None = None  # None: the full data set
    epochs: int = 20
    seed: int = 0


# -- writing ---------------------------------------------------------------------------------


def save_session(
    path: str | os.PathLike[str], session: Session, *, with_trajectories: bool = True
) -> None:
    """Write the session atomically: a failed write leaves any older file as it was."""
    data = session_to_json(session, with_trajectories=with_trajectories)
    text = json.dumps(data, indent=1, allow_nan=False)
    # One line per list of numbers: readable for a tutor, and not one line per float.
    text = _FLAT_LIST.sub(lambda m: "[" + " ".join(m.group(1).split()) + "]", text)
    with atomic_text_writer(path) as stream:
        stream.write(text + "\n")


def session_to_json(session: Session, *, with_trajectories: bool = True) -> dict[str, Any]:
    """The session as plain JSON data."""
    return {
        "format": FORMAT,
        "version": VERSION,
        "function": session.function,
        "preset": session.preset,
        "domain": [_float_out(v) for v in session.domain],
        "view": {"log_scale": session.view.log_scale, "loss_log": session.view.loss_log,
                 "path_time": session.view.path_time},
        "controls": settings_to_json(session.controls),
        "race": [_race_out(s, session.race_colors, i) for i, s in enumerate(session.race)],
        "next_id": session.next_id,
        **race_budget_out(session.race_evaluations),
        "pending": [[_float_out(x), _float_out(y)] for x, y in session.pending],
        "runs": [_run_out(run, with_trajectories) for run in session.runs],
        "model": _model_out(session.model),
        **network_out(session.network, settings_to_json),
    }


def _model_out(source: ModelSource | None) -> dict[str, Any] | None:
    if source is None:
        return None
    return {"name": source.model, "data": source.data, "sha256": source.sha256,
            "batch_size": source.batch_size, "epochs": source.epochs, "seed": source.seed}


def settings_to_json(settings: RunSettings) -> dict[str, Any]:
    """RunSettings as JSON data (tuples become lists)."""
    return {
        "optimizer": settings.optimizer,
        "lr": _float_out(settings.lr),
        "params": {k: list(v) if isinstance(v, tuple) else v for k, v in settings.params},
        "steps": settings.steps,
        "tol": _float_out(settings.tol),
        "bound": _float_out(settings.bound),
        "ascent": settings.ascent,
        "noise": _float_out(settings.noise),
        "seed": settings.seed,
        "schedule": settings.schedule,
    }


def _run_out(run: SessionRun, with_trajectories: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "settings": settings_to_json(run.settings),
        "starts": [[_float_out(x), _float_out(y)] for x, y in run.starts],
    }
    if run.ids is not None:
        out["ids"] = list(run.ids)
    if with_trajectories and run.trajectories is not None:
        out["trajectories"] = [
            {
                "status": t.status.label,
                "reason": t.reason.name.lower(),
                **{name: [_float_out(v) for v in getattr(t, name).tolist()] for name in _ARRAYS},
                **extras_out(t),
            }
            for t in run.trajectories
        ]
    return out


def _race_out(settings: RunSettings, colors: tuple[Color, ...], index: int) -> dict[str, Any]:
    out = settings_to_json(settings)
    if index < len(colors):
        out["color"] = list(colors[index])
    return out


def _float_out(value: float) -> float | str:
    value = float(value)
    if math.isfinite(value):
        return value
    return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")


# -- reading ---------------------------------------------------------------------------------


def load_session(path: str | os.PathLike[str]) -> Session:
    """Read and check a session file; any problem raises SessionError naming file and field."""
    name = Path(path)
    try:
        raw = read_user_bytes(name)
    except FileReadError as err:
        raise SessionError(str(err)) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SessionError(f"{name}: not a session file (it is not text)") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise SessionError(
            f"{name}: not a session file: line {err.lineno}, column {err.colno}: {err.msg}"
        ) from None
    except ValueError:  # an integer of more digits than Python converts (4300)
        raise SessionError(f"{name}: not a session file (a number with too many digits)") from None
    except RecursionError:
        raise SessionError(f"{name}: not a session file (nested too deeply)") from None
    return session_from_json(data, str(name), folder=name.parent)


def session_from_json(data: object, name: str = "session", *,
                      folder: Path | None = None) -> Session:
    """Check JSON data field by field and build the Session (a network's relative data path
    from folder)."""
    reader = _Reader(name)
    top = reader.mapping(data, "")
    file_format = top.get("format")
    if file_format != FORMAT:
        raise SessionError(f"{name}: not a session file (field 'format' is {file_format!r})")
    version = top.get("version")
    if isinstance(version, bool) or version != VERSION:  # True == 1 in Python
        raise SessionError(
            f"{name}: field 'version': format version {_show(version)} is not supported "
            f"(this app reads {VERSION})"
        )
    function = reader.string(top, "function")
    reader.function = function
    try:
        parse(function)
    except ParseError as err:
        raise SessionError(
            f"{name}: field 'function': {err.message} (column {err.column})"
        ) from None
    preset = top.get("preset")
    if preset is not None and not isinstance(preset, str):
        reader.fail("preset", f"expected a name or null, found {_found(preset)}")
    domain_values = reader.numbers(top, "domain", 4)
    try:
        domain = validate_domain((domain_values[0], domain_values[1],
                                  domain_values[2], domain_values[3]))
    except ValueError as err:
        reader.fail("domain", str(err))
    view = reader.mapping(top.get("view", {}), "view")
    log_scale = view.get("log_scale")
    if log_scale is not None and not isinstance(log_scale, bool):
        reader.fail("view.log_scale", f"expected true, false or null, found {_found(log_scale)}")
    loss_log = view.get("loss_log", False)
    if not isinstance(loss_log, bool):
        reader.fail("view.loss_log", f"expected true or false, found {_found(loss_log)}")
    controls = reader.settings(top.get("controls", {}), "controls")
    race_items = reader.sequence(top.get("race", []), "race", most=MAX_ENTRIES)
    race = tuple(reader.settings(item, f"race[{i}]") for i, item in enumerate(race_items))
    race_colors = reader.colors(race_items, "race")
    pending = reader.points(top.get("pending", []), "pending")
    runs = tuple(
        reader.run(item, f"runs[{i}]")
        for i, item in enumerate(reader.sequence(top.get("runs", []), "runs", MAX_RUNS))
    )
    return Session(
        function=function,
        domain=domain,
        controls=controls,
        view=ViewSettings(log_scale=log_scale, loss_log=loss_log,
                          path_time=_path_time(reader, view.get("path_time"))),
        pending=pending,
        runs=runs,
        race=race,
        preset=preset,
        race_colors=race_colors,
        next_id=reader.next_id(top.get("next_id"), runs),
        race_evaluations=race_budget_in(reader.fail, top),
        model=_model_source(reader, top.get("model")),
        network=network_in(reader, top, folder),
    )


def _model_source(reader: _Reader, value: object) -> ModelSource | None:
    """The 'model' field: null, or a model name, a data file, its SHA-256 and the minibatch."""
    from explorer.core.models import MODELS

    if value is None:
        return None
    data = reader.mapping(value, "model")
    name = reader.string(data, "name", "model")
    if name not in MODELS:
        reader.fail("model.name", f"unknown model {_show(name)}: one of {', '.join(MODELS)}")
    path = reader.string(data, "data", "model")
    if not path or len(path) > MAX_DATA_PATH or "\0" in path:
        reader.fail("model.data", f"expected a file path of 1 to {MAX_DATA_PATH} characters")
    digest = reader.string(data, "sha256", "model")
    if not _SHA256.fullmatch(digest):
        reader.fail("model.sha256", f"expected 64 lowercase hex digits, found {_show(digest)}")
    batch = data.get("batch_size")
    batch_size = None if batch is None else _count(reader, batch, "model.batch_size",
                                                   MAX_BATCH_SIZE)
    epochs = _count(reader, data.get("epochs", 20), "model.epochs", MAX_EPOCHS)
    seed = _count(reader, data.get("seed", 0), "model.seed", MAX_SEED, low=0)
    return ModelSource(name, path, digest, batch_size, epochs, seed)


def _count(reader: _Reader, value: object, where: str, high: int, low: int = 1) -> int:
    """A whole number from low to high (not a bool, not a float), or the field's error."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        reader.fail(where, f"expected a whole number from {low} to {high:,}, found "
                           f"{_found(value)}")
    return value


class _Reader:
    """Field checks that raise SessionError with the file name and the field's path."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.function = ""
        self.checked: set[tuple[str, float, tuple[tuple[str, Value], ...]]] = set()
        # Canonical schedule texts by (text, steps, optimizer, lr): each checked once.
        self.schedules: dict[tuple[object, ...], str] = {}
        self.rate_cache: dict[RunSettings, np.ndarray] = {}
        self.seen_ids: list[int] = []  # every run's ids so far: no two starts share one

    def fail(self, where: str, problem: str) -> NoReturn:
        raise SessionError(f"{self.name}: field '{where}': {problem}")

    def mapping(self, value: object, where: str) -> Mapping[str, Any]:
        if not isinstance(value, dict):
            if not where:
                raise SessionError(f"{self.name}: not a session file (not a JSON object)")
            self.fail(where, f"expected an object, found {_found(value)}")
        return value

    def sequence(self, value: object, where: str, most: int | None = None) -> Sequence[Any]:
        if not isinstance(value, list):
            self.fail(where, f"expected a list, found {_found(value)}")
        if most is not None and len(value) > most:
            self.fail(where, f"expected at most {most:,} entries, found {len(value):,}")
        return value

    def string(self, data: Mapping[str, Any], key: str, where: str = "") -> str:
        path = f"{where}.{key}" if where else key
        if key not in data:
            self.fail(path, "missing")
        value = data[key]
        if not isinstance(value, str):
            self.fail(path, f"expected text, found {_found(value)}")
        return value

    def number(self, value: object, where: str) -> float:
        if isinstance(value, str) and value in ("nan", "inf", "-inf"):
            return float(value)
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(where, f"expected a number, found {_found(value)}")
        return float(value)

    def numbers(self, data: Mapping[str, Any], key: str, count: int) -> list[float]:
        if key not in data:
            self.fail(key, "missing")
        items = self.sequence(data[key], key)
        if len(items) != count:
            self.fail(key, f"expected {count} numbers, found {len(items)}")
        return [self.number(v, f"{key}[{i}]") for i, v in enumerate(items)]

    def finite(self, value: object, where: str) -> float:
        number = self.number(value, where)
        if not math.isfinite(number):
            self.fail(where, f"expected a finite number, found {_found(value)}")
        return number

    def points(self, value: object, where: str) -> tuple[Point, ...]:
        out = []
        for i, item in enumerate(self.sequence(value, where, most=MAX_RUNS)):
            pair = self.sequence(item, f"{where}[{i}]")
            if len(pair) != 2:
                self.fail(f"{where}[{i}]", f"expected [x, y], found {len(pair)} numbers")
            out.append((self.finite(pair[0], f"{where}[{i}][0]"),
                        self.finite(pair[1], f"{where}[{i}][1]")))
        return tuple(out)

    def whole(self, data: Mapping[str, Any], key: str, where: str, default: int, most: int) -> int:
        value = data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= most:
            expected = f"expected a whole number from 0 to {most:,}"
            self.fail(f"{where}.{key}", f"{expected}, found {_found(value)}")
        return int(value)

    def at_least(self, data: Mapping[str, Any], key: str, where: str, default: float,
                 *, positive: bool = False) -> float:
        """A finite number >= 0 (or > 0 when positive)."""
        value = self.finite(data.get(key, default), f"{where}.{key}")
        if value < 0 or (positive and value == 0):
            wanted = "a positive number" if positive else "a number >= 0"
            self.fail(f"{where}.{key}", f"expected {wanted}, found {_found(data.get(key))}")
        return value

    def settings(self, value: object, where: str) -> RunSettings:
        data = self.mapping(value, where)
        defaults = RunSettings()
        optimizer = data.get("optimizer", defaults.optimizer)
        if not isinstance(optimizer, str) or optimizer not in {**REGISTRY, **METHODS}:
            names = ", ".join([*REGISTRY, *METHODS])
            self.fail(f"{where}.optimizer", f"expected one of {names}, found {_found(optimizer)}")
        scipy = is_scipy_method(optimizer)
        lr = self.at_least(data, "lr", where, defaults.lr, positive=True)
        # A scipy method's options, checked as --param checks them; no ascent, noise, schedule.
        params = (scipy_settings if scipy else _Reader.params)(self, optimizer, data, where)
        steps = self.whole(data, "steps", where, defaults.steps, MAX_STEPS)
        tol = self.at_least(data, "tol", where, defaults.tol)
        bound = self.at_least(data, "bound", where, defaults.bound, positive=True)
        ascent = data.get("ascent", False)
        if not isinstance(ascent, bool):
            self.fail(f"{where}.ascent", f"expected true or false, found {_found(ascent)}")
        noise = self.at_least(data, "noise", where, 0.0)
        seed = self.whole(data, "seed", where, 0, MAX_SEED)
        schedule = self.schedule(data, where, steps, optimizer, lr)
        # Building an optimiser costs more than reading a run: check each combination once.
        key = (optimizer, lr, tuple(sorted(params.items())))
        if key not in self.checked and not scipy:
            try:
                validate(optimizer, lr, params)
            except OptimizerError as err:
                self.fail(f"{where}.params", str(err))
            self.checked.add(key)
        return RunSettings.create(
            params, optimizer=optimizer, lr=lr, steps=steps, tol=tol, bound=bound,
            ascent=ascent, noise=noise, seed=seed, schedule=schedule,
        )

    def schedule(self, data: Mapping[str, Any], where: str, steps: int, optimizer: str,
                 lr: float) -> str:
        """The settings' schedule in canonical form ('' where an older file has none)."""
        text = data.get("schedule", "")
        if not isinstance(text, str) or len(text) > _MAX_SCHEDULE:
            wanted = f"expected schedule text of at most {_MAX_SCHEDULE} characters"
            self.fail(f"{where}.schedule", f"{wanted}, found {_found(text)}")
        if not text:
            return ""
        key = (text, steps, optimizer, lr)
        if key not in self.schedules:
            try:
                self.schedules[key] = check_schedule(text, steps, optimizer, lr)
            except OptimizerError as err:  # a ScheduleError
                self.fail(f"{where}.schedule", str(err))
        return self.schedules[key]

    def params(self, optimizer: str, data: Mapping[str, Any], where: str) -> dict[str, Value]:
        """The optimiser's keywords, each checked by the registry against its kind and range."""
        listed = {p.name: p for p in get_spec(optimizer).hyperparameters}
        out: dict[str, Value] = {}
        where = f"{where}.params"
        for key, raw in self.mapping(data.get("params", {}), where).items():
            try:
                out[key] = check_value(optimizer, key, raw)
            except OptimizerError as err:
                param = listed.get(key)
                if param is None:  # not a keyword the registry lists: say which it takes
                    self.fail(f"{where}.{key}", str(err))
                self.fail(f"{where}.{key}", f"expected {_expected(param)}, found {_found(raw)}")
        return out

    def run(self, value: object, where: str) -> SessionRun:
        data = self.mapping(value, where)
        if "settings" not in data:
            self.fail(f"{where}.settings", "missing")
        settings = self.settings(data["settings"], f"{where}.settings")
        if "starts" not in data:
            self.fail(f"{where}.starts", "missing")
        starts = self.points(data["starts"], f"{where}.starts")
        try:
            check_rows((settings.steps + 1) * len(starts),
                       f"{len(starts)} starts x {settings.steps} steps")
        except BudgetError as err:
            self.fail(where, str(err))
        ids = self.ids(data.get("ids"), f"{where}.ids", len(starts))
        if "trajectories" not in data:
            return SessionRun(settings, starts, ids=ids)
        items = self.sequence(data["trajectories"], f"{where}.trajectories")
        if len(items) != len(starts):
            count = f"{len(items)} trajectories for {len(starts)} starts"
            self.fail(f"{where}.trajectories", count)
        trajectories = tuple(
            self.trajectory(item, f"{where}.trajectories[{i}]", settings)
            for i, item in enumerate(items)
        )
        return SessionRun(settings, starts, trajectories, ids)

    def ids(self, value: object, where: str, count: int) -> tuple[int, ...] | None:
        """A run's ids: null or absent, or one whole number from 1 to MAX_RUN_ID per start."""
        if value is None:
            return None
        items = self.sequence(value, where)
        if len(items) != count:
            self.fail(where, f"expected {count} ids (one per start), got {len(items)}")
        for i, item in enumerate(items):
            if isinstance(item, bool) or not isinstance(item, int) or not 1 <= item <= MAX_RUN_ID:
                self.fail(f"{where}[{i}]", f"expected a whole number from 1 to {MAX_RUN_ID}, "
                          f"got {_show(item)}")
        self.seen_ids.extend(items)
        if len(set(self.seen_ids)) != len(self.seen_ids):
            self.fail(where, "an id is given to two starts")
        return tuple(items)

    def next_id(self, value: object, runs: tuple[SessionRun, ...]) -> int | None:
        """The id the next run gets: null or absent, or a whole number past every run's id."""
        if value is None:
            return None
        low = max((i for run in runs for i in run.ids or ()), default=0) + 1
        if isinstance(value, bool) or not isinstance(value, int) or not (
                low <= value <= MAX_RUN_ID + 1):
            self.fail("next_id", f"expected a whole number from {low} to {MAX_RUN_ID + 1}, "
                      f"got {_show(value)}")
        return value

    def colors(self, items: Sequence[Any], where: str) -> tuple[Color, ...]:
        """The race entries' colours: [r, g, b] (0-255) in every entry, or in none."""
        found = [item.get("color") if isinstance(item, dict) else None for item in items]
        if all(color is None for color in found):
            return ()
        out = []
        for i, color in enumerate(found):
            place = f"{where}[{i}].color"
            rgb = self.sequence(color, place) if color is not None else []
            if len(rgb) != 3 or any(isinstance(c, bool) or not isinstance(c, int)
                                    or not 0 <= c <= 255 for c in rgb):
                self.fail(place, f"expected [red, green, blue], each 0 to 255, got {_show(color)}")
            out.append((int(rgb[0]), int(rgb[1]), int(rgb[2])))
        return tuple(out)

    def trajectory(self, value: object, where: str, settings: RunSettings) -> Trajectory:
        data = self.mapping(value, where)
        arrays = {}
        for key in _ARRAYS:
            if key not in data:
                self.fail(f"{where}.{key}", "missing")
            items = self.sequence(data[key], f"{where}.{key}")
            arrays[key] = np.array(
                [self.number(v, f"{where}.{key}[{i}]") for i, v in enumerate(items)],
                dtype=np.float64,
            )
        lengths = {len(a) for a in arrays.values()}
        if len(lengths) != 1 or 0 in lengths:
            self.fail(where, "x, y, f, grad_x and grad_y must be non-empty and equally long")
        if max(lengths) > settings.steps + 1:
            self.fail(
                f"{where}.x", f"expected at most {settings.steps + 1} rows (steps + 1), "
                f"found {max(lengths)}"
            )
        for key in ("status", "reason"):
            if not isinstance(data.get(key, ""), str):
                self.fail(f"{where}.{key}", f"expected text, found {_found(data.get(key))}")
        try:
            status = Status.from_label(str(data.get("status", "max_steps")))
        except KeyError:
            self.fail(f"{where}.status", f"unknown status {_show(data.get('status'))}")
        reason_name = str(data.get("reason", "none")).upper()
        if reason_name not in Reason.__members__:
            self.fail(f"{where}.reason", f"unknown reason {_show(data.get('reason'))}")
        evaluations = evaluations_in(self, data, where)
        return Trajectory(
            x=arrays["x"],
            y=arrays["y"],
            f=arrays["f"],
            grad_x=arrays["grad_x"],
            grad_y=arrays["grad_y"],
            optimizer=settings.optimizer,
            lr=settings.lr,
            status=status,
            reason=Reason[reason_name],
            function=self.function,
            params=settings.params_text(),
            state={},  # a session keeps no optimiser state
            rates=self.rates(settings, len(arrays["x"])),
            evaluations=evaluations,
            scipy=record_in(self, data, where, settings.optimizer, len(arrays["x"]), evaluations),
        )

    def rates(self, settings: RunSettings, rows: int) -> np.ndarray | None:
        """The rate each of the first rows' steps used under settings' schedule (None: none).

        A session keeps the schedule, not the rates: they follow from it (core.schedules).
        """
        if not settings.schedule:
            return None
        rates = self.rate_cache.get(settings)
        if rates is None or len(rates) < rows:
            rates = self.rate_cache[settings] = schedule_rates(
                settings.schedule, rows - 1, settings.lr, settings.optimizer,
                settings.param_dict, steps_for_defaults=settings.steps,
            )
        return rates[:rows].copy()


def compute_session(session: Session) -> Session:
    """The session with every run computed again, batch by batch, as the window ran it."""
    from explorer.core.scipy_descent import run_paths

    expression = parse(session.function)
    runs = []
    for entry in session.runs:
        paths = run_paths(expression.evaluate, entry.starts, entry.settings, expression.text)
        runs.append(SessionRun(entry.settings, entry.starts, tuple(paths), entry.ids))
    return Session(
        function=session.function,
        domain=session.domain,
        controls=session.controls,
        view=session.view,
        pending=session.pending,
        runs=tuple(runs),
        race=session.race,
        preset=session.preset,
        race_colors=session.race_colors,
        next_id=session.next_id,
        race_evaluations=session.race_evaluations,
        model=session.model,
        network=session.network,
    )


def _path_time(reader: _Reader, value: object) -> float | None:
    """view.path_time: null, or seconds from 0 (instant) to MAX_PATH_TIME."""
    if value is None:
        return None
    if (isinstance(value, bool) or not isinstance(value, int | float)
            or not 0.0 <= value <= MAX_PATH_TIME):
        reader.fail("view.path_time", f"expected seconds from 0 to {MAX_PATH_TIME:g} or null, "
                    f"got {_show(value)}")
    return float(value)
