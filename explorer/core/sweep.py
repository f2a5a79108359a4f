"""The learning-rate sweep: one start, many learning rates, one batched run."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from explorer.core.descent import Objective, run_descent
from explorer.core.trajectory import Outcome, RunSettings, Status

MAX_COUNT = 1000


class SweepError(ValueError):
    """A learning-rate range or count the sweep cannot use."""


@dataclass(frozen=True)
class SweepEntry:
    """Where the run with one learning rate ended."""

    lr: float
    outcome: Outcome

    @property
    def f(self) -> float:
        """Final f."""
        return self.outcome.f

    @property
    def steps(self) -> int:
        """Steps taken until it converged, diverged or ran out."""
        return self.outcome.steps

    @property
    def status(self) -> Status:
        """converged, diverged or max_steps."""
        return self.outcome.status


def log_spaced(lr_min: float, lr_max: float, count: int) -> NDArray[np.float64]:
    """count learning rates from lr_min to lr_max, evenly spaced on a log scale, increasing."""
    if not (0 < lr_min <= lr_max < math.inf):
        raise SweepError(
            f"the learning rates must satisfy 0 < lr-min <= lr-max, got {lr_min:g} and {lr_max:g}"
        )
    if not 1 <= count <= MAX_COUNT:
        raise SweepError(f"the count must be between 1 and {MAX_COUNT}, got {count}")
    if count == 1 or lr_min == lr_max:
        return np.full(count, lr_min)
    lrs = np.logspace(math.log10(lr_min), math.log10(lr_max), count)
    lrs[0], lrs[-1] = lr_min, lr_max  # exactly the ends asked for, not 10**log10(...)
    return lrs


def lr_sweep(
    objective: Objective,
    start: tuple[float, float],
    settings: RunSettings,
    lrs: NDArray[np.float64],
    *,
    function: str = "",
) -> list[SweepEntry]:
    """Run the optimiser from start once per learning rate, all as one batched run.

    settings.lr is ignored: each trajectory uses its own entry of lrs. Entries come back in
    the order of lrs.
    """
    starts = np.repeat(np.asarray(start, dtype=np.float64).reshape(1, 2), len(lrs), axis=0)
    run = run_descent(objective, starts, settings, function=function, history=False, lrs=lrs)
    return [SweepEntry(float(lr), run.outcome(i)) for i, lr in enumerate(lrs)]


def best_entry(entries: list[SweepEntry]) -> SweepEntry | None:
    """The entry a fair race would pick: lowest final f, then fewest steps; never a diverged one."""
    usable = [e for e in entries if e.status is not Status.DIVERGED and math.isfinite(e.f)]
    if not usable:
        return None
    return min(usable, key=lambda e: (e.f, e.steps, e.lr))
