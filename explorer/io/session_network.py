"""The session's 'network' block (issue 17): the window's Neural network mode, trained again on
open.

A session keeps the network's settings, not its numbers: training is deterministic from the
seed (core.network), so opening the session trains it again and gets the same losses,
sharpness and slice bit for bit, as a session without paths runs its paths again (README,
"Sessions"). Storing the result instead would mean a parameter vector per step (4000 x 1185
floats for the 2-32-32-1 net) for a picture the machine recomputes in seconds.

The block (absent: no network; older readers ignore it):
- data: a bundled set's name (spirals, moons, circles, xor: always the bundled one) or a CSV's
  path; a relative path is taken from the session file's folder, and the reader writes it back
  absolute. The file is read when the session is: a missing or unusable one is the field's
  error. sha256 (optional on reading, always written): the file's SHA-256, checked.
- hidden [widths], activation, loss; optimizer, lr, params, schedule, steps, seed (the controls'
  and the panel's, checked as a run's settings are, the lr within the controls' range, as the
  window trains with them); sharpness_every, directions, grid.
- start (optional): the flat parameters training started from (a click on an earlier slice),
  one number per parameter; absent: the seed's initialisation.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn, Protocol

import numpy as np

from explorer.core.budget import BudgetError
from explorer.core.loss_slice import DIRECTIONS, MAX_GRID
from explorer.core.network import (
    ACTIVATIONS,
    LOSSES,
    MAX_LAYERS,
    MAX_WIDTH,
    NetError,
    NetSpec,
    TrainSettings,
    check_spec,
    check_training,
    loss_labels,
)
from explorer.core.optimizers import LR_RANGE, REGISTRY
from explorer.core.trajectory import FloatArray, RunSettings
from explorer.io.session_words import found, show

KEY = "network"
# The most steps between two sharpness measurements the window's panel takes (0: never).
MAX_SHARPNESS_EVERY = 1_000_000
MAX_DATA_PATH = 4096
# The panel's defaults for the optional fields.
DEFAULT_SHARPNESS_EVERY = 25
DEFAULT_DIRECTIONS = "pca"
DEFAULT_GRID = 41
_SHA256 = re.compile(r"[0-9a-f]{64}")
_REQUIRED = ("data", "hidden", "activation", "loss", "optimizer", "lr", "steps")
_OPTIONAL = ("sha256", "params", "schedule", "seed", "sharpness_every", "directions", "grid",
             "start")
# The fields a run's settings check (io.session._Reader.settings) reads for the network.
_TRAINING = ("optimizer", "lr", "params", "steps", "seed", "schedule")


class Fields(Protocol):
    """The session reader's field checks (io.session._Reader)."""

    def fail(self, where: str, problem: str) -> NoReturn: ...
    def mapping(self, value: object, where: str) -> Mapping[str, Any]: ...
    def sequence(self, value: object, where: str, most: int | None = None) -> Sequence[Any]: ...
    def number(self, value: object, where: str) -> float: ...
    def settings(self, value: object, where: str) -> RunSettings: ...


@dataclass(frozen=True, eq=False)
class NetworkSource:
    """A network to train: its data, shape, training, slice and start."""

    data: str  # a bundled set's name, or a CSV's absolute path
    sha256: str
    spec: NetSpec
    settings: TrainSettings
    directions: str = DEFAULT_DIRECTIONS
    grid: int = DEFAULT_GRID
    start: FloatArray | None = None  # flat parameters; None: the seed's initialisation

    @property
    def path(self) -> Path:
        """The data file."""
        return data_file(self.data)


def bundled() -> dict[str, Path]:
    """The bundled network data sets: name -> file."""
    from explorer.io.dataset_csv import network_datasets

    return network_datasets()


def data_file(text: str) -> Path:
    """A bundled set's file for its bare name, else the path itself."""
    sets = bundled()
    return sets[text] if text in sets and Path(text).name == text else Path(text)


def data_text(path: Path) -> str:
    """How a session names a data file: a bundled set by name, any other by absolute path."""
    resolved = path.resolve()
    for name, file in bundled().items():
        if file.resolve() == resolved:
            return name
    return str(resolved)


# -- writing ---------------------------------------------------------------------------------


def network_out(source: NetworkSource | None,
                settings_json: Callable[[RunSettings], dict[str, Any]]) -> dict[str, Any]:
    """The block as JSON data under its key (nothing without a network, so older files and
    readers see no change); settings_json writes the training fields as a run's settings."""
    if source is None:
        return {}
    train = source.settings
    run = settings_json(RunSettings(optimizer=train.optimizer, lr=train.lr, params=train.params,
                                    steps=train.steps, seed=train.seed, schedule=train.schedule))
    block: dict[str, Any] = {
        "data": source.data,
        "sha256": source.sha256,
        "hidden": list(source.spec.hidden),
        "activation": source.spec.activation,
        "loss": source.spec.loss,
        **{key: run[key] for key in _TRAINING},
        "sharpness_every": train.sharpness_every,
        "directions": source.directions,
        "grid": source.grid,
    }
    if source.start is not None:
        block["start"] = [v if np.isfinite(v) else str(v) for v in source.start.tolist()]
    return {KEY: block}


def slice_command(source: NetworkSource) -> str:
    """The `slice` command line that trains this network as the window does."""
    train, spec = source.settings, source.spec
    words = ["python", "main.py", "slice", "--data", source.data,
             "--hidden", ",".join(map(str, spec.hidden)), "--activation", spec.activation,
             "--loss", spec.loss, "--optimizer", train.optimizer, "--lr", repr(train.lr)]
    params = RunSettings(params=train.params).params_text()
    for pair in params.split(";") if params else []:
        words += ["--param", pair]
    if train.schedule:
        words += ["--schedule", train.schedule]
    words += ["--steps", str(train.steps), "--seed", str(train.seed),
              "--sharpness-every", str(train.sharpness_every),
              "--directions", source.directions, "--grid", str(source.grid)]
    return shlex.join(words)


# -- reading ---------------------------------------------------------------------------------


def network_in(fields: Fields, top: Mapping[str, Any],
               folder: Path | None = None) -> NetworkSource | None:
    """The block from a session's top level (null or absent: none), every field checked; its
    data file is read (a relative path from folder)."""
    value = top.get(KEY)
    if value is None:
        return None
    block = fields.mapping(value, KEY)
    unknown = sorted(set(block) - {*_REQUIRED, *_OPTIONAL})
    if unknown:  # a misspelt key would train something else than the file says
        fields.fail(f"{KEY}.{unknown[0]}", "not a network field (expected one of "
                    + ", ".join(sorted({*_REQUIRED, *_OPTIONAL})) + ")")
    for key in _REQUIRED:
        if key not in block:
            fields.fail(f"{KEY}.{key}", "missing")
    hidden = _hidden(fields, block["hidden"])
    activation = _choice(fields, block["activation"], "activation", ACTIVATIONS)
    loss = _choice(fields, block["loss"], "loss", LOSSES)
    directions = _choice(fields, block.get("directions", DEFAULT_DIRECTIONS), "directions",
                         DIRECTIONS)
    grid = block.get("grid", DEFAULT_GRID)
    if not _whole(grid, 3, MAX_GRID) or grid % 2 == 0:
        fields.fail(f"{KEY}.grid", f"expected an odd whole number from 3 to {MAX_GRID}, found "
                    f"{found(grid)}")
    every = block.get("sharpness_every", DEFAULT_SHARPNESS_EVERY)
    if not _whole(every, 0, MAX_SHARPNESS_EVERY):
        fields.fail(f"{KEY}.sharpness_every", f"expected a whole number from 0 to "
                    f"{MAX_SHARPNESS_EVERY:,}, found {found(every)}")
    optimizer = block["optimizer"]
    if not isinstance(optimizer, str) or optimizer not in REGISTRY:
        fields.fail(f"{KEY}.optimizer", f"expected one of {', '.join(REGISTRY)} (a network "
                    f"trains with a torch optimiser), found {found(optimizer)}")
    run = fields.settings({key: block[key] for key in _TRAINING if key in block}, KEY)
    if not LR_RANGE[0] <= run.lr <= LR_RANGE[1]:  # the window trains with the controls' lr
        fields.fail(f"{KEY}.lr", f"expected a learning rate from {LR_RANGE[0]:g} to "
                    f"{LR_RANGE[1]:g} (the window's range), found {show(block['lr'])}")
    settings = TrainSettings(run.optimizer, run.lr, run.params, run.steps, run.seed, None,
                             every, run.schedule)
    path, data = _data(fields, block["data"], folder)
    digest = block.get("sha256")
    if digest is not None:
        if not isinstance(digest, str) or not _SHA256.fullmatch(digest):
            fields.fail(f"{KEY}.sha256", f"expected 64 lowercase hex digits, found "
                        f"{found(digest)}")
        if digest != data.sha256:
            fields.fail(f"{KEY}.sha256", f"the data file {path} has changed since the session "
                        f"was saved (SHA-256 {data.sha256[:12]}…, the session expects "
                        f"{digest[:12]}…)")
    spec = NetSpec(data.features.shape[1], hidden, activation, loss)
    try:
        check_spec(spec)
    except (BudgetError, NetError) as error:
        fields.fail(f"{KEY}.hidden", str(error))
    try:
        loss_labels(loss, data.labels)
    except NetError as error:
        fields.fail(f"{KEY}.loss", f"{path}: {error}")
    try:  # every field is checked by now but the work the steps ask of this network
        check_training(spec, data.n, settings)
    except (BudgetError, ValueError) as error:
        fields.fail(f"{KEY}.steps", str(error))
    start = _start(fields, block.get("start"), spec.parameter_count)
    return NetworkSource(data_text(path), data.sha256, spec, settings, directions, grid, start)


def _whole(value: object, low: int, high: int) -> bool:
    return not isinstance(value, bool) and isinstance(value, int) and low <= value <= high


def _choice(fields: Fields, value: object, key: str, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in choices:
        fields.fail(f"{KEY}.{key}", f"expected one of {', '.join(choices)}, found "
                    f"{found(value)}")
    return value


def _hidden(fields: Fields, value: object) -> tuple[int, ...]:
    """hidden: 1 to MAX_LAYERS widths, each 1 to MAX_WIDTH."""
    if (not isinstance(value, list) or not 1 <= len(value) <= MAX_LAYERS
            or not all(_whole(width, 1, MAX_WIDTH) for width in value)):
        fields.fail(f"{KEY}.hidden", f"expected a list of 1 to {MAX_LAYERS} widths, each a "
                    f"whole number from 1 to {MAX_WIDTH}, found {show(value)}")
    return tuple(value)


def _data(fields: Fields, value: object, folder: Path | None) -> tuple[Path, Any]:
    """The data file named by the field, and its features read and checked."""
    from explorer.io.dataset_csv import DataError, load_features

    if not isinstance(value, str) or not value or len(value) > MAX_DATA_PATH or "\0" in value:
        fields.fail(f"{KEY}.data", f"expected a bundled data set's name ({', '.join(bundled())})"
                    f" or a file path of 1 to {MAX_DATA_PATH} characters, found {found(value)}")
    path = data_file(value)
    if not path.is_absolute() and folder is not None:
        path = folder / path
    try:
        path = path.resolve()
        return path, load_features(path)
    except (DataError, OSError, RuntimeError) as error:  # RuntimeError: a symlink loop
        fields.fail(f"{KEY}.data", f"the data file cannot be used: {error}")


def _start(fields: Fields, value: object, count: int) -> FloatArray | None:
    """start: null, or one number per parameter."""
    if value is None:
        return None
    where = f"{KEY}.start"
    items = fields.sequence(value, where, most=count)
    if len(items) != count:
        fields.fail(where, f"expected {count} numbers (one per parameter), found {len(items)}")
    return np.array([fields.number(v, f"{where}[{i}]") for i, v in enumerate(items)],
                    dtype=np.float64)
