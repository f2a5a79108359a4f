"""One trajectory as the window holds it: rows received from the worker, rows revealed so far."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from explorer.core.methods import short_label
from explorer.core.optimizers import optimizer_kwargs
from explorer.core.scipy_methods import is_scipy_method
from explorer.core.scipy_record import ScipyRecord
from explorer.core.trajectory import Reason, RunSettings, Status, Trajectory, status_text
from explorer.gui.model.axis_names import FUNCTION_AXES, AxisNames

RGB = tuple[int, int, int]


def run_label(path_id: int) -> str:
    """How a run is named wherever the window names it (table, loss legend, inspector)."""
    return f"#{path_id}"


@dataclass(eq=False)
class ShownTrajectory:
    """One trajectory as the GUI holds it: rows received from the worker, rows revealed so far."""

    path_id: int
    run_id: int
    column: int
    color: RGB
    start: tuple[float, float]
    settings: RunSettings
    function: str
    start_f: float = math.nan
    xy: NDArray[np.float64] = field(default_factory=lambda: np.empty((0, 2)))
    f: NDArray[np.float64] = field(default_factory=lambda: np.empty(0))
    grad: NDArray[np.float64] = field(default_factory=lambda: np.empty((0, 2)))
    received: int = 0
    shown: int = 0
    status: Status = Status.RUNNING
    reason: Reason = Reason.NONE
    stopped: bool = False
    failure: str = ""
    # Why it diverged, beyond the bound: e.g. lr against 2 / lambda_max at the start.
    note: str = ""
    # While paused, Step reveals rows up to here as they arrive.
    step_target: int = 0
    # Read from a CSV file (source: its name): shown, exported, never run again.
    imported: bool = False
    source: str = ""
    # How a path computed elsewhere ended, in that computation's own words, shown instead of
    # the run status's: a minibatch fit says "done", "converged" or "diverged at step k: why".
    outcome: str = ""
    outcome_why: str = ""
    # The optimiser's per-coordinate state after each received row: name -> (capacity, 2),
    # NaN where not recorded (row 0; paths read from files or sessions keep none).
    state: dict[str, NDArray[np.float64]] = field(default_factory=dict)
    # f, gradient and Hessian evaluations of the whole run, once it has ended (None: unknown).
    evaluations: tuple[int, int, int] | None = None
    # A scipy method's nit, message and evaluated points (None for torch's optimisers).
    scipy: ScipyRecord | None = None

    def append(
        self, xy: NDArray[np.float64], f: NDArray[np.float64], grad: NDArray[np.float64],
        state: Mapping[str, NDArray[np.float64]] | None = None,
    ) -> None:
        """Add rows received from the worker (the buffers grow by doubling), with the
        optimiser's state over the same rows when the run kept it."""
        count = len(f)
        if count == 0:
            return
        need = self.received + count
        if need > len(self.f):
            # Doubling, but never past the most rows the run can have.
            capacity = min(max(need, 2 * len(self.f), 64), max(need, self.settings.steps + 1))
            for name, shape in (("xy", (capacity, 2)), ("f", (capacity,)),
                                ("grad", (capacity, 2))):
                grown = np.empty(shape)
                grown[: self.received] = getattr(self, name)[: self.received]
                setattr(self, name, grown)
        self.xy[self.received : need] = xy
        self.f[self.received : need] = f
        self.grad[self.received : need] = grad
        for name, values in (state or {}).items():
            self._state_buffer(name)[self.received : need] = values
        self.received = need

    def _state_buffer(self, name: str) -> NDArray[np.float64]:
        """The state tensor's rows, as long as the other buffers (NaN where none came)."""
        buffer = self.state.get(name)
        if buffer is None or len(buffer) < len(self.f):
            grown = np.full((len(self.f), 2), np.nan)
            if buffer is not None:
                kept = min(len(buffer), self.received)
                grown[:kept] = buffer[:kept]
            buffer = self.state[name] = grown
        return buffer

    def state_rows(self) -> dict[str, NDArray[np.float64]]:
        """The state tensors over the received rows: name -> (received, 2) (views)."""
        return {name: self._state_buffer(name)[: self.received] for name in self.state}

    @property
    def ended(self) -> bool:
        """True once no more rows will come: finished, stopped or failed."""
        return self.status != Status.RUNNING or self.stopped or bool(self.failure)

    @property
    def animating(self) -> bool:
        """True while rows are still to be revealed or computed."""
        return self.shown < self.received or not self.ended

    @property
    def steps_shown(self) -> int:
        """Optimiser steps drawn so far."""
        return max(self.shown - 1, 0)

    def shown_xy(self) -> NDArray[np.float64]:
        """The revealed points, or the start alone before the first row arrives."""
        if self.shown == 0:
            return np.array([self.start], dtype=np.float64)
        return self.xy[: self.shown]

    def shown_f(self) -> NDArray[np.float64]:
        """f at the revealed points (f at the start before the first row arrives)."""
        if self.shown == 0:
            return np.array([self.start_f], dtype=np.float64)
        return self.f[: self.shown]

    def current_f(self) -> float:
        """f at the current point."""
        return float(self.f[self.shown - 1]) if self.shown else self.start_f

    def grad_norm(self) -> float:
        """The gradient's length at the current point (nan before the first row)."""
        if not self.shown:
            return math.nan
        gx, gy = self.grad[self.shown - 1].tolist()
        return math.hypot(gx, gy)

    def status_text(self, names: AxisNames = FUNCTION_AXES) -> str:
        """Status as the table shows it: what is on screen, not what is computed ahead; a
        diverged path names the coordinate that left the bounds by its axis name."""
        if self.failure:
            return f"failed: {self.failure}"
        if self.stopped:
            return f"stopped at step {self.steps_shown}"
        if self.received == 0:
            return "waiting for the engine"
        if self.status == Status.RUNNING or self.shown < self.received:
            return "running"
        return self.final_trajectory_status_text(names)

    def diverged_text(self, names: AxisNames = FUNCTION_AXES) -> str:
        """Why the path diverged, once its last row is on screen ('' otherwise)."""
        text = self.status_text(names)
        return text if self.status == Status.DIVERGED and text.startswith("diverged") else ""

    def status_and_why(self, names: AxisNames = FUNCTION_AXES) -> tuple[str, str]:
        """The status as the table splits it: what happened ('diverged at step 12') and why
        ('|x| > 1e6', and any note); why is empty unless the path diverged."""
        text = self.diverged_text(names)
        if not text:
            status = self.status_text(names)
            if self.outcome and status == self.outcome:
                return self.outcome, self.outcome_why
            if self.scipy is not None and status == self.final_trajectory_status_text(names):
                return status, self.scipy.message  # scipy's words for why it stopped
            if self.status == Status.MAX_STEPS and not self.imported:
                return status, max_steps_why(self.settings)
            return status, ""
        status, _, why = text.partition(": ")
        return status, why

    def final_trajectory_status_text(self, names: AxisNames = FUNCTION_AXES) -> str:
        """The engine's final status in words: converged, diverged (why), max steps."""
        if self.outcome:
            return self.outcome
        if self.status == Status.DIVERGED:
            end = None
            if self.received:
                x, y = self.xy[self.received - 1].tolist()
                end = (x, y)
            return status_text(self.status, self.reason, max(self.received - 1, 0), end,
                               self.settings.bound, self.note, (names.x, names.y))
        if self.status == Status.MAX_STEPS:
            return "max steps"
        return self.status.label

    def optimizer_text(self) -> str:
        """The optimiser's label, plus any hyperparameters the user changed, and ascent."""
        if self.imported:
            return f"imported from {self.source}: {self.settings.optimizer}"
        text = short_label(self.settings.optimizer) + self.settings.params_label()
        if self.settings.ascent:
            text += ", ascent"
        if self.settings.noise > 0:
            text += f", noise {self.settings.noise:g} (seed {self.settings.seed})"
        if self.settings.schedule:
            text += f", schedule {self.settings.schedule}"
        return text

    def trajectory(self) -> Trajectory:
        """What is on screen, as core's Trajectory (copies), for export."""
        end = self.shown
        complete = end == self.received and self.status != Status.RUNNING and not self.stopped
        return Trajectory(
            x=self.xy[:end, 0].copy(),
            y=self.xy[:end, 1].copy(),
            f=self.f[:end].copy(),
            grad_x=self.grad[:end, 0].copy(),
            grad_y=self.grad[:end, 1].copy(),
            optimizer=self.settings.optimizer,
            # A scipy method has no learning rate: 0, as `run` writes it.
            lr=0.0 if is_scipy_method(self.settings.optimizer) else self.settings.lr,
            status=self.status if complete else (
                Status.STOPPED if self.stopped else Status.RUNNING),
            reason=self.reason if complete else Reason.NONE,
            function=self.function,
            params=self.settings.params_text(),
            rates=scheduled_rates(self.settings, end),
            evaluations=self.evaluations,
            scipy=None if self.scipy is None else self.scipy.cut(end),
        )

    def evaluated_shown(self) -> NDArray[np.float64]:
        """Where f was evaluated by the time the shown head was reached: (n, 2); none for a
        torch optimiser's run."""
        if self.scipy is None:
            return np.empty((0, 2))
        return self.scipy.until_row(self.shown - 1) if self.shown else self.scipy.points[:0]


def scheduled_rates(settings: RunSettings, rows: int) -> NDArray[np.float64] | None:
    """The rate each of a path's first rows' steps used under its schedule (None: none)."""
    if not settings.schedule or rows < 1:
        return None
    from explorer.core.schedules import schedule_rates

    return schedule_rates(settings.schedule, rows - 1, settings.lr, settings.optimizer,
                          settings.param_dict, steps_for_defaults=settings.steps)


def max_steps_why(settings: RunSettings) -> str:
    """Why a path used its whole step budget, where the settings say: weight decay pulls
    every step toward the origin, so the path settles beside the point where grad f = 0."""
    if is_scipy_method(settings.optimizer):
        return ""  # scipy's own message says why (the runs table shows it)
    kwargs = optimizer_kwargs(settings.optimizer, settings.lr, settings.param_dict)
    decay = kwargs.get("weight_decay", 0.0)
    if isinstance(decay, int | float) and decay > 0:
        return (f"weight decay {decay:g} pulls it toward the origin: it settles beside the "
                "minimum, where |∇f| stays above the tolerance")
    return ""
