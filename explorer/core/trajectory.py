"""What a run produces: per-step arrays for every trajectory, their status, and the settings."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from explorer.core.optimizers import Value
from explorer.core.scipy_record import ScipyRecord

FloatArray = NDArray[np.float64]


class Status(enum.IntEnum):
    """Where a trajectory stands; stored as int8 per trajectory."""

    RUNNING = 0
    CONVERGED = 1
    DIVERGED = 2
    MAX_STEPS = 3
    # Never set by the engine: a path the user stopped before it ended (the window's exports).
    STOPPED = 4
    # Never set by the engine (the CLI's run): a minibatch fit (core.fitting) that ran every
    # epoch. Not max_steps: a fit's length is its epochs, not a step budget it ran out of.
    DONE = 5

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
    # Seeded Gaussian noise of this scale is added to every gradient before the step (the
    # recorded gradient is the noisy one the step used): a stand-in for minibatch gradients.
    noise: float = 0.0
    seed: int = 0
    # A learning-rate schedule in core.schedules' canonical text ('' = a constant lr): one
    # scheduler.step() after every optimizer.step().
    schedule: str = ""

    @classmethod
    def create(cls, params: Mapping[str, Value] | None = None, **kwargs: Any) -> RunSettings:
        """Build settings from a keyword mapping, freezing it into sorted pairs."""
        pairs = tuple(sorted((params or {}).items()))
        # Any: the other fields by name, each of its own type (the dataclass takes them).
        return cls(params=pairs, **kwargs)

    @property
    def param_dict(self) -> dict[str, Value]:
        """The optimiser keyword overrides as a dict."""
        return dict(self.params)

    def params_text(self) -> str:
        """The overrides as 'key=value;...' text, as the CSV stores them."""
        return ";".join(f"{key}={_value_text(value)}" for key, value in self.params)

    def params_label(self) -> str:
        """The overrides as ' (key=value, ...)' to follow the optimiser's label; '' if none."""
        extra = self.params_text()
        return f" ({extra.replace(';', ', ')})" if extra else ""


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
    # The optimiser's per-coordinate state after each step (run --state): name -> (rows, 2),
    # read from torch's optimizer.state; row 0 (the start, before any step) is NaN.
    state: Mapping[str, FloatArray] = field(default_factory=dict)
    # The learning rate each row's step used under a schedule (row 0: the initial one);
    # None: lr throughout.
    rates: FloatArray | None = None
    # Objective, gradient and Hessian evaluations the optimiser used (Run.evaluations; scipy's
    # nfev, njev, nhev); None where unknown (read from a CSV).
    evaluations: tuple[int, int, int] | None = None
    # A scipy.optimize method's run: nit, its message and where f was evaluated; None otherwise.
    scipy: ScipyRecord | None = None

    def rate(self, k: int) -> float:
        """The learning rate the step to row k used (row 0: the initial one)."""
        return self.lr if self.rates is None else float(self.rates[k])

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

    def status_text(self, bound: float | None = None, note: str = "") -> str:
        """Status with the reason when it diverged, e.g. 'diverged at step 5: |x| > 1e6'."""
        return status_text(self.status, self.reason, self.steps, self.end, bound, note)


def status_text(
    status: Status,
    reason: Reason,
    steps: int,
    end: tuple[float, float] | None = None,
    bound: float | None = None,
    note: str = "",
    names: tuple[str, str] = ("x", "y"),
) -> str:
    """The status word; when diverged, the step and why, then the note (e.g. about the lr).

    With the end point and the bound, leaving the bounds names the coordinate by its name in
    names: '|x| > 1e6', or '|w| > 1e6' for a model's parameters.
    """
    if status is not Status.DIVERGED:
        return status.label
    if reason is Reason.NON_FINITE and steps == 0 and note:
        # No step was taken: the note says why f is not finite at the start (no lr is to blame).
        why, note = note, ""
    elif reason is Reason.NON_FINITE:
        why = "a value became NaN or infinite"
    elif end is not None and bound is not None:
        coordinate = names[0] if abs(end[0]) > bound else names[1]
        why = f"|{coordinate}| > {number_text(bound)}"
    else:
        why = "left the bounds"
    text = f"diverged at step {steps}: {why}"
    return f"{text}; {note}" if note else text


def number_text(value: float, digits: int = 6) -> str:
    """A short form of a number: 1e6 rather than 1e+06, 0.00096, 2.5."""
    text = f"{value:.{digits}g}"
    mantissa, _, exponent = text.partition("e")
    if not exponent:
        return text
    return f"{mantissa}e{int(exponent)}"


@dataclass(eq=False)
class Run:
    """The engine's preallocated buffers for N trajectories, filled row by row.

    Rows are step-major (row, trajectory), so recording one step is one contiguous copy.
    Rows after a trajectory's last_row are meaningless: it stopped there.
    """

    starts: FloatArray
    settings: RunSettings
    function: str = ""
    # One learning rate per trajectory (a learning-rate sweep); None: settings.lr for all.
    lrs: FloatArray | None = None
    xy: FloatArray = field(init=False)
    f: FloatArray = field(init=False)
    grad: FloatArray = field(init=False)
    last_row: NDArray[np.int64] = field(init=False)
    status: NDArray[np.int8] = field(init=False)
    reason: NDArray[np.int8] = field(init=False)
    rows: int = 0
    # None keeps every row. A number keeps only that many recent rows, reused as a ring
    # (row k lives in slot k % window), plus each trajectory's final row: bounded memory and
    # no fresh pages to fault in for every step, for callers that need only the outcome.
    window: int | None = None
    final_xy: FloatArray = field(init=False)
    final_f: FloatArray = field(init=False)
    final_grad: FloatArray = field(init=False)
    # When only outcomes are wanted, the engine points this at the live step's own memory
    # (x, y, f and gradient as the tensors hold them) instead of copying every step into the
    # ring; row() then serves the current step from it.
    live: tuple[FloatArray, FloatArray, FloatArray] | None = None
    # Set by the engine when asked for the optimiser's state: name -> (rows, N, 2), NaN where
    # not recorded (row 0, rows before the name first appeared). Empty otherwise.
    state: dict[str, FloatArray] = field(init=False, default_factory=dict)
    # Set by the engine under a schedule (with history): the learning rate each row's step
    # used, (rows, 1) when every trajectory shares it, (rows, N) when each has its own.
    rates: FloatArray | None = field(init=False, default=None)
    # Set by the engine for L-BFGS: every closure call per trajectory (each one f and one
    # gradient, line-search calls included). None: one evaluation per row (see evaluations).
    closure_calls: NDArray[np.int64] | None = field(init=False, default=None)

    # Past this many values the buffers start smaller and grow on demand. np.empty, not
    # np.zeros: numpy asks for huge pages on large empty arrays, which makes first writes
    # several times cheaper than calloc's zeroed 4 KiB pages.
    MAX_INITIAL_VALUES = 1 << 28

    def __post_init__(self) -> None:
        self.starts = np.ascontiguousarray(self.starts, dtype=np.float64).reshape(-1, 2)
        n = len(self.starts)
        if self.lrs is not None:
            self.lrs = np.ascontiguousarray(self.lrs, dtype=np.float64).reshape(-1)
            if len(self.lrs) != n:
                raise ValueError(f"{len(self.lrs)} learning rates for {n} starts")
        capacity = self.settings.steps + 1
        if self.window is not None:
            capacity = max(1, min(capacity, self.window))
        capacity = max(1, min(capacity, self.MAX_INITIAL_VALUES // max(1, 5 * n)))
        self.xy = np.empty((capacity, n, 2))
        self.f = np.empty((capacity, n))
        self.grad = np.empty((capacity, n, 2))
        self.last_row = np.zeros(n, dtype=np.int64)
        self.status = np.zeros(n, dtype=np.int8)
        self.reason = np.zeros(n, dtype=np.int8)
        self.final_xy = np.full((n, 2), np.nan)
        self.final_f = np.full(n, np.nan)
        self.final_grad = np.full((n, 2), np.nan)

    @property
    def size(self) -> int:
        """Number of trajectories."""
        return len(self.starts)

    @property
    def capacity(self) -> int:
        """Rows allocated."""
        return len(self.f)

    def slot(self, k: int) -> int:
        """The buffer row that holds step k."""
        return k if self.window is None else k % self.capacity

    def row(self, k: int) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Step k's x, y (N, 2), f (N,) and gradient (N, 2) (the live step's, when set)."""
        if self.live is not None:
            return self.live
        s = self.slot(k)
        return self.xy[s], self.f[s], self.grad[s]

    def keep_final(self, k: int, mask: NDArray[np.bool_] | slice) -> None:
        """Copy row k of the trajectories in mask into their final rows (they stopped at k)."""
        xy, f, grad = self.row(k)
        if not isinstance(mask, slice) and mask.all():
            mask = slice(None)  # everyone ended here (max_steps): plain row copies
        self.final_xy[mask] = xy[mask]
        self.final_f[mask] = f[mask]
        self.final_grad[mask] = grad[mask]

    def record_state(self, k: int, name: str, values: FloatArray) -> None:
        """Keep one (N, 2) state tensor's values after step k under its name."""
        buffer = self.state.get(name)
        if buffer is None:
            buffer = self.state[name] = np.full((self.capacity, self.size, 2), np.nan)
        buffer[self.slot(k)] = values

    def ensure_rows(self, rows: int) -> None:
        """Grow the buffers (doubling, capped at steps + 1) so that rows fit."""
        if rows <= self.capacity or self.window is not None:
            return
        new = min(max(rows, 2 * self.capacity), self.settings.steps + 1)
        for name in ("xy", "f", "grad"):
            old = getattr(self, name)
            grown = np.empty((new, *old.shape[1:]))
            grown[: self.rows] = old[: self.rows]
            setattr(self, name, grown)
        for name, old in self.state.items():
            grown = np.full((new, *old.shape[1:]), np.nan)
            grown[: self.rows] = old[: self.rows]
            self.state[name] = grown
        if self.rates is not None:
            grown = np.full((new, *self.rates.shape[1:]), np.nan)
            grown[: self.rows] = self.rates[: self.rows]
            self.rates = grown

    def record_rates(self, k: int, values: list[float], columns: slice = slice(None)) -> None:
        """Keep the learning rates row k's step used (one, or one per trajectory in columns)."""
        if self.rates is None:
            shared = len(values) == 1 and columns == slice(None)
            self.rates = np.full((self.capacity, 1 if shared else self.size), np.nan)
        self.rates[self.slot(k), columns] = values

    def lr(self, i: int) -> float:
        """Trajectory i's learning rate."""
        return self.settings.lr if self.lrs is None else float(self.lrs[i])

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
        """A copy of trajectory i, rows 0..last_row (only for runs that keep every row)."""
        if self.window is not None:
            raise ValueError("this run kept only its final rows: use outcome()")
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
            lr=self.lr(i),
            status=Status(int(self.status[i])),
            reason=Reason(int(self.reason[i])),
            function=self.function,
            params=self.settings.params_text(),
            state={name: values[:end, i].copy() for name, values in self.state.items()},
            rates=None if self.rates is None else self.rates[:end, i % self.rates.shape[1]].copy(),
            evaluations=self.evaluations(i),
        )

    def trajectories(self) -> list[Trajectory]:
        """Copies of every trajectory."""
        return [self.trajectory(i) for i in range(self.size)]

    def evaluations(self, i: int) -> tuple[int, int, int]:
        """Trajectory i's (f, gradient, Hessian) evaluations so far.

        An elementwise optimiser's step uses the f and gradient evaluated at its row, and the
        last row's tell how it ended: one of each per row, rows 0..last (points a batch keeps
        stepping after they stopped are not counted). L-BFGS: its closure calls, counted.
        """
        if self.closure_calls is not None:
            calls = int(self.closure_calls[i])
            return calls, calls, 0
        rows = int(self.last_row[i]) + 1 if self.status[i] else self.rows
        return rows, rows, 0

    def outcome(self, i: int) -> Outcome:
        """Trajectory i's start, end, final f and gradient, steps and status."""
        if self.window is None:
            last = int(self.last_row[i]) if self.status[i] else self.rows - 1
            xy, f, grad = self.xy[last, i], float(self.f[last, i]), self.grad[last, i]
        else:
            last = int(self.last_row[i])
            xy, f, grad = self.final_xy[i], float(self.final_f[i]), self.final_grad[i]
        return Outcome(
            start=(float(self.starts[i, 0]), float(self.starts[i, 1])),
            end=(float(xy[0]), float(xy[1])),
            f=f,
            grad=(float(grad[0]), float(grad[1])),
            steps=last,
            status=Status(int(self.status[i])),
            reason=Reason(int(self.reason[i])),
            evaluations=self.evaluations(i),
        )


@dataclass(frozen=True)
class Outcome:
    """Where one trajectory ended, without its path."""

    start: tuple[float, float]
    end: tuple[float, float]
    f: float
    grad: tuple[float, float]
    steps: int
    status: Status
    reason: Reason = Reason.NONE
    # (f, gradient, Hessian) evaluations, as Trajectory.evaluations.
    evaluations: tuple[int, int, int] | None = None

    def status_text(self, bound: float | None = None, note: str = "") -> str:
        """Status with the reason when it diverged (see status_text)."""
        return status_text(self.status, self.reason, self.steps, self.end, bound, note)
