"""What a run produces: per-step arrays for every trajectory, their status, and the settings."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from explorer.core.optimizers import Value

FloatArray = NDArray[np.float64]


class Status(enum.IntEnum):
    """Where a trajectory stands; stored as int8 per trajectory."""

    RUNNING = 0
    CONVERGED = 1
    DIVERGED = 2
    MAX_STEPS = 3

    @property
    def label(self) -> str:
        """The word used in tables, JSON and CSV files."""
        return self.name.lower()

    @classmethod
    def from_label(cls, label: str) -> Status:
        """Inverse of label."""
        return cls[label.strip().upper()]


class Reason(enum.IntEnum):
    """Why a trajectory diverged."""

    NONE = 0
    NON_FINITE = 1
    OUT_OF_BOUNDS = 2


@dataclass(frozen=True)
class RunSettings:
    """Everything that decides a run's numbers, apart from the function and the starts."""

    optimizer: str = "sgd"
    lr: float = 0.01
    params: tuple[tuple[str, Value], ...] = ()
    steps: int = 100
    tol: float = 1e-8
    bound: float = 1e6
    ascent: bool = False

    @classmethod
    def create(cls, params: Mapping[str, Value] | None = None, **kwargs: object) -> RunSettings:
        """Build settings from a keyword mapping, freezing it into sorted pairs."""
        pairs = tuple(sorted((params or {}).items()))
        return cls(params=pairs, **kwargs)  # type: ignore[arg-type]

    @property
    def param_dict(self) -> dict[str, Value]:
        """The optimiser keyword overrides as a dict."""
        return dict(self.params)

    def params_text(self) -> str:
        """The overrides as 'key=value;...' text, as the CSV stores them."""
        return ";".join(f"{key}={_value_text(value)}" for key, value in self.params)


def _value_text(value: Value) -> str:
    if isinstance(value, tuple):
        return ",".join(repr(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, float) else str(value)


@dataclass(frozen=True, eq=False)
class Trajectory:
    """One path: row k is the point after k optimiser steps and the gradient found there."""

    x: FloatArray
    y: FloatArray
    f: FloatArray
    grad_x: FloatArray
    grad_y: FloatArray
    optimizer: str = "sgd"
    lr: float = 0.01
    status: Status = Status.MAX_STEPS
    reason: Reason = Reason.NONE
    function: str = ""
    params: str = ""

    @property
    def steps(self) -> int:
        """Optimiser steps taken (rows minus the start)."""
        return len(self.x) - 1

    @property
    def start(self) -> tuple[float, float]:
        """The first point."""
        return float(self.x[0]), float(self.y[0])

    @property
    def end(self) -> tuple[float, float]:
        """The last recorded point."""
        return float(self.x[-1]), float(self.y[-1])

    def status_text(self) -> str:
        """Status with the reason when it diverged, e.g. 'diverged at step 5: |x| > 1e6'."""
        if self.status is not Status.DIVERGED:
            return self.status.label
        why = "a value became NaN or infinite"
        if self.reason is Reason.OUT_OF_BOUNDS:
            why = "left the bounds"
        return f"diverged at step {self.steps}: {why}"


@dataclass(eq=False)
class Run:
    """The engine's preallocated buffers for N trajectories, filled row by row.

    Rows are step-major (row, trajectory), so recording one step is one contiguous copy.
    Rows after a trajectory's last_row are meaningless: it stopped there.
    """

    starts: FloatArray
    settings: RunSettings
    function: str = ""
    xy: FloatArray = field(init=False)
    f: FloatArray = field(init=False)
    grad: FloatArray = field(init=False)
    last_row: NDArray[np.int64] = field(init=False)
    status: NDArray[np.int8] = field(init=False)
    reason: NDArray[np.int8] = field(init=False)
    rows: int = 0

    # Past this many values the buffers start smaller and grow on demand. np.empty, not
    # np.zeros: numpy asks for huge pages on large empty arrays, which makes first writes
    # several times cheaper than calloc's zeroed 4 KiB pages.
    MAX_INITIAL_VALUES = 1 << 28

    def __post_init__(self) -> None:
        self.starts = np.ascontiguousarray(self.starts, dtype=np.float64).reshape(-1, 2)
        n = len(self.starts)
        capacity = self.settings.steps + 1
        capacity = max(1, min(capacity, self.MAX_INITIAL_VALUES // max(1, 5 * n)))
        self.xy = np.empty((capacity, n, 2))
        self.f = np.empty((capacity, n))
        self.grad = np.empty((capacity, n, 2))
        self.last_row = np.zeros(n, dtype=np.int64)
        self.status = np.zeros(n, dtype=np.int8)
        self.reason = np.zeros(n, dtype=np.int8)

    @property
    def size(self) -> int:
        """Number of trajectories."""
        return len(self.starts)

    @property
    def capacity(self) -> int:
        """Rows allocated."""
        return len(self.f)

    def ensure_rows(self, rows: int) -> None:
        """Grow the buffers (doubling, capped at steps + 1) so that rows fit."""
        if rows <= self.capacity:
            return
        new = min(max(rows, 2 * self.capacity), self.settings.steps + 1)
        for name in ("xy", "f", "grad"):
            old = getattr(self, name)
            grown = np.empty((new, *old.shape[1:]))
            grown[: self.rows] = old[: self.rows]
            setattr(self, name, grown)

    @property
    def running(self) -> NDArray[np.bool_]:
        """Mask of trajectories still running."""
        mask: NDArray[np.bool_] = self.status == Status.RUNNING
        return mask

    @property
    def finished(self) -> bool:
        """True once no trajectory is running."""
        return bool(self.rows > 0 and not self.running.any())

    def trajectory(self, i: int) -> Trajectory:
        """A copy of trajectory i, rows 0..last_row."""
        end = int(self.last_row[i]) + 1 if self.status[i] else self.rows
        xy = self.xy[:end, i]
        grad = self.grad[:end, i]
        return Trajectory(
            x=xy[:, 0].copy(),
            y=xy[:, 1].copy(),
            f=self.f[:end, i].copy(),
            grad_x=grad[:, 0].copy(),
            grad_y=grad[:, 1].copy(),
            optimizer=self.settings.optimizer,
            lr=self.settings.lr,
            status=Status(int(self.status[i])),
            reason=Reason(int(self.reason[i])),
            function=self.function,
            params=self.settings.params_text(),
        )

    def trajectories(self) -> list[Trajectory]:
        """Copies of every trajectory."""
        return [self.trajectory(i) for i in range(self.size)]
