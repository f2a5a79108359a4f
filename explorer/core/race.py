"""The optimiser race: several optimisers from the same starts, ranked on a leaderboard.

Each entry (a torch optimiser with its learning rate and hyperparameters, or a scipy.optimize
method with its options) runs from every start with the same budget: the same steps, or the
same number of f evaluations (entry_settings says exactly how each kind is held to it). Its
standing sums up its trajectories: mean final f, the steps its slowest start needed to reach
the tolerance, its evaluations, and how far its ends lie from the nearest known minimum.
tune_lr makes a race fair: the best learning rate of a small sweep, per torch optimiser.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from explorer.core.descent import Objective, run_descent, starts_array
from explorer.core.landscape import FunctionLandscape, Landscape
from explorer.core.landscape import known_minima as known_minima  # its old home: re-exported
from explorer.core.methods import short_label
from explorer.core.optimizers import OptimizerError, Value, get_spec
from explorer.core.presets import Minimum
from explorer.core.scipy_methods import EVALUATION_LIMIT, METHODS, is_scipy_method
from explorer.core.sweep import SweepEntry, best_entry, log_spaced
from explorer.core.trajectory import (
    Outcome,
    Reason,
    RunSettings,
    Status,
    Trajectory,
    number_text,
)

# Final f values this close count as a tie on the leaderboard, broken by the steps to the
# tolerance: paths that converged to the same minimum end with f differing only in rounding
# (1e-19 against 5e-19), which says nothing about which optimiser did better.
F_TIE = 1e-10
# The learning rates tune_lr tries by default: 12 log-spaced values over four decades.
TUNE_RANGE = (1e-4, 1.0)
TUNE_COUNT = 12
# The most entries a race holds: each has a colour of its own, and a leaderboard of more
# would not fit the race tool's column.
MAX_ENTRIES = 6
# The largest evaluation budget a race takes (per start and entry).
MAX_EVALUATIONS = 100_000


@dataclass(frozen=True)
class RaceEntry:
    """One competitor: an optimiser, its learning rate and its hyperparameter overrides."""

    optimizer: str
    lr: float
    params: tuple[tuple[str, Value], ...] = ()

    @classmethod
    def default(cls, optimizer: str) -> RaceEntry:
        """The optimiser with the registry's default learning rate and settings (a scipy
        method has no learning rate: its lr is RunSettings' default, kept and never used)."""
        if is_scipy_method(optimizer):
            return cls(optimizer, RunSettings().lr)
        return cls(optimizer, get_spec(optimizer).default_lr)

    @property
    def label(self) -> str:
        """The short label: 'SGD', 'Adam', 'BFGS', 'Nelder-Mead'."""
        return short_label(self.optimizer)

    @property
    def is_scipy(self) -> bool:
        """Whether the entry is a scipy.optimize method (no learning rate)."""
        return is_scipy_method(self.optimizer)

    def settings(self, base: RunSettings, evaluations: int | None = None) -> RunSettings:
        """base (steps, tolerance, bound, noise...) with this entry's optimiser, lr and params;
        with an evaluation budget, as entry_settings holds it to that many f evaluations."""
        settings = dataclasses.replace(
            base, optimizer=self.optimizer, lr=float(self.lr), params=tuple(sorted(self.params))
        )
        if self.is_scipy:  # scipy minimises f itself: no schedule, ascent or gradient noise
            settings = dataclasses.replace(settings, schedule="", ascent=False, noise=0.0)
        return settings if evaluations is None else entry_settings(settings, evaluations)


def entry_settings(settings: RunSettings, evaluations: int) -> RunSettings:
    """settings held to `evaluations` f evaluations per start, instead of settings.steps steps.

    - An elementwise torch optimiser evaluates f (and its gradient) once per row, rows 0..N:
      N = evaluations - 1 steps use exactly that many.
    - L-BFGS takes one iteration per step (max_iter=1: one closure call each, none for a line
      search) and `evaluations` steps: exactly that many closure calls. With a line search
      (strong_wolfe) a step calls f as often as its search needs: refused (OptimizerError).
    - A scipy method with an evaluation limit of its own (Nelder-Mead's and Powell's maxfev,
      L-BFGS-B's maxfun) gets it; one without (CG, BFGS, Newton-CG, trust-NCG) is stopped by
      its callback at the first iterate that finds `evaluations` or more f evaluations made.
      Both are checked between iterations: the last iteration may take a method past the
      budget by the evaluations it needed (the leaderboard shows the counts). maxiter is the
      budget too (an iteration evaluates f at least once), so it never stops first.
    """
    if isinstance(evaluations, bool) or not isinstance(evaluations, int) or not (
        1 <= evaluations <= MAX_EVALUATIONS
    ):
        raise OptimizerError(
            f"an evaluation budget is a whole number from 1 to {MAX_EVALUATIONS}, "
            f"not {evaluations!r}"
        )
    name = settings.optimizer
    params = dict(settings.params)
    if is_scipy_method(name):
        options = METHODS[name].options
        limit = next((key for key in ("maxfev", "maxfun") if key in options), EVALUATION_LIMIT)
        params[limit] = evaluations
        return dataclasses.replace(
            settings, steps=evaluations, params=tuple(sorted(params.items()))
        )
    if get_spec(name).elementwise:
        return dataclasses.replace(settings, steps=evaluations - 1)
    if params.get("line_search_fn") not in (None, "none"):
        raise OptimizerError(
            f"{get_spec(name).label} with a line search calls f as often as its search needs: "
            "it cannot be held to an evaluation budget (race it by steps, or without the search)"
        )
    params["max_iter"] = 1
    return dataclasses.replace(settings, steps=evaluations, params=tuple(sorted(params.items())))


@dataclass(frozen=True)
class Lap:
    """How one trajectory of an entry ended."""

    start: tuple[float, float]
    end: tuple[float, float]
    f: float
    steps: int
    steps_to_tol: int | None
    distance: float | None
    status: Status
    reason: Reason = Reason.NONE
    # (f, gradient, Hessian) evaluations the path used; None where unknown.
    evaluations: tuple[int, int, int] | None = None


@dataclass(frozen=True)
class Standing:
    """An entry's place on the leaderboard, from its laps (one per start)."""

    entry: RaceEntry
    laps: tuple[Lap, ...]
    # Ranked for an evaluation budget: fewer evaluations, not fewer steps, break a tie in f.
    by_evaluations: bool = False

    @property
    def diverged(self) -> int:
        """How many of its trajectories diverged."""
        return sum(lap.status is Status.DIVERGED for lap in self.laps)

    @property
    def final_f(self) -> float:
        """Mean final f over the starts; infinity when one diverged or ended undefined."""
        values = [lap.f for lap in self.laps]
        if not values or self.diverged or not all(math.isfinite(v) for v in values):
            return math.inf
        return math.fsum(values) / len(values)

    @property
    def reached(self) -> int:
        """How many of its trajectories reached the tolerance."""
        return sum(lap.steps_to_tol is not None for lap in self.laps)

    @property
    def steps_to_tol(self) -> int | None:
        """Steps until every start had reached the tolerance (its slowest); None if one never."""
        steps = [lap.steps_to_tol for lap in self.laps]
        if not steps or any(s is None for s in steps):
            return None
        return max(s for s in steps if s is not None)

    @property
    def distance(self) -> float | None:
        """Mean distance of its ends to the nearest known minimum; None without known minima."""
        values = [lap.distance for lap in self.laps]
        if not values or any(v is None for v in values):
            return None
        return math.fsum(v for v in values if v is not None) / len(values)

    @property
    def evaluations(self) -> tuple[float, float, float] | None:
        """Mean (f, gradient, Hessian) evaluations per start; None if one path's are unknown."""
        counts = [lap.evaluations for lap in self.laps]
        if not counts or any(c is None for c in counts):
            return None
        known = [c for c in counts if c is not None]
        f, grad, hess = (math.fsum(c[k] for c in known) / len(known) for k in range(3))
        return f, grad, hess

    @property
    def status(self) -> str:
        """'converged', 'max_steps', 'diverged', or a count of each when the starts disagree."""
        counts: dict[str, int] = {}
        for lap in self.laps:
            counts[lap.status.label] = counts.get(lap.status.label, 0) + 1
        if len(counts) == 1:
            return next(iter(counts))
        return ", ".join(f"{count} {label}" for label, count in counts.items())

    def sort_key(self) -> tuple[int, float, float, float, str, float]:
        """Diverged entries last, then lowest final f (to within F_TIE), then fewest steps to
        the tolerance (by_evaluations: fewest f evaluations), then lowest f."""
        f = self.final_f
        if math.isnan(f):
            f = math.inf
        if self.by_evaluations:
            counts = self.evaluations
            tie = math.inf if counts is None else counts[0]
        else:
            steps = self.steps_to_tol
            tie = math.inf if steps is None else float(steps)
        return (
            1 if self.diverged else 0,
            float(round(f / F_TIE)) if math.isfinite(f) else math.inf,
            tie,
            f,
            self.entry.label,
            self.entry.lr,
        )


def steps_to_tolerance(
    grad_x: ArrayLike, grad_y: ArrayLike, tol: float
) -> int | None:
    """The first step k whose gradient has length at most tol, or None if none has."""
    gx = np.asarray(grad_x, dtype=np.float64)
    gy = np.asarray(grad_y, dtype=np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        hits = np.flatnonzero(np.hypot(gx, gy) <= tol)
    return int(hits[0]) if len(hits) else None


def nearest_minimum_distance(
    point: tuple[float, float], minima: Sequence[Minimum]
) -> float | None:
    """Euclidean distance from point to the nearest of minima; None when there are none."""
    if not minima:
        return None
    x, y = point
    if not (math.isfinite(x) and math.isfinite(y)):
        return math.inf
    return min(math.hypot(x - m.x, y - m.y) for m in minima)


def lap(trajectory: Trajectory, tol: float, minima: Sequence[Minimum] = ()) -> Lap:
    """How a trajectory ended, measured for the leaderboard."""
    return Lap(
        start=trajectory.start,
        end=trajectory.end,
        f=float(trajectory.f[-1]),
        steps=trajectory.steps,
        steps_to_tol=steps_to_tolerance(trajectory.grad_x, trajectory.grad_y, tol),
        distance=nearest_minimum_distance(trajectory.end, minima),
        status=trajectory.status,
        reason=trajectory.reason,
        evaluations=trajectory.evaluations,
    )


def leaderboard(
    entries: Sequence[RaceEntry],
    trajectories: Sequence[Sequence[Trajectory]],
    tol: float,
    minima: Sequence[Minimum] = (),
    *,
    by_evaluations: bool = False,
) -> list[Standing]:
    """The standings, best first (Standing.sort_key): trajectories[i] are entry i's paths.

    by_evaluations: the race gave every entry the same evaluation budget (entry_settings).
    """
    if len(entries) != len(trajectories):
        raise ValueError(f"{len(trajectories)} groups of trajectories for {len(entries)} entries")
    standings = [
        Standing(entry, tuple(lap(t, tol, minima) for t in paths), by_evaluations)
        for entry, paths in zip(entries, trajectories, strict=True)
    ]
    return sorted(standings, key=Standing.sort_key)


def landscape_minima(landscape: Landscape | None) -> tuple[Minimum, ...]:
    """What the race and the basin map measure against: the landscape's known minima, else a
    preset's whose formula a function is (linear on data: its least-squares point)."""
    if landscape is None:
        return ()
    own = tuple(landscape.known_minima)
    if own or not isinstance(landscape, FunctionLandscape):
        return own
    return known_minima(landscape.expression.text)


def tune_grid(
    starts: ArrayLike, lrs: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Every start with every learning rate, as one batch: row k * S + s is start s at lrs[k]."""
    points = starts_array(starts)
    rates = np.asarray(lrs, dtype=np.float64).reshape(-1)
    return np.tile(points, (len(rates), 1)), np.repeat(rates, len(points))


def outcome_of(trajectory: Trajectory) -> Outcome:
    """A trajectory's outcome (where and how it ended) without its path."""
    return Outcome(
        start=trajectory.start,
        end=trajectory.end,
        f=float(trajectory.f[-1]),
        grad=(float(trajectory.grad_x[-1]), float(trajectory.grad_y[-1])),
        steps=trajectory.steps,
        status=trajectory.status,
        reason=trajectory.reason,
        evaluations=trajectory.evaluations,
    )


def combined_entries(
    lrs: ArrayLike, outcomes: Sequence[Outcome], starts: int
) -> list[SweepEntry]:
    """One sweep entry per learning rate over several starts (outcomes in tune_grid order).

    Its f is the mean over the starts, its steps the most; it diverged if one start diverged,
    converged only if all did.
    """
    rates = np.asarray(lrs, dtype=np.float64).reshape(-1)
    if len(outcomes) != len(rates) * starts or starts < 1:
        raise ValueError(f"{len(outcomes)} outcomes for {len(rates)} rates x {starts} starts")
    entries = []
    for k, lr in enumerate(rates.tolist()):
        group = outcomes[k * starts : (k + 1) * starts]
        labels = {o.status for o in group}
        if Status.DIVERGED in labels:
            status = Status.DIVERGED
        elif labels == {Status.CONVERGED}:
            status = Status.CONVERGED
        else:
            status = Status.MAX_STEPS
        values = [o.f for o in group]
        f = math.fsum(values) / starts if all(math.isfinite(v) for v in values) else math.nan
        first = group[0]
        outcome = Outcome(
            start=first.start,
            end=first.end,
            f=f,
            grad=first.grad,
            steps=max(o.steps for o in group),
            status=status,
            reason=next((o.reason for o in group if o.status is Status.DIVERGED), Reason.NONE),
        )
        entries.append(SweepEntry(float(lr), outcome))
    return entries


def tune_lr(
    objective: Objective,
    starts: ArrayLike,
    entry: RaceEntry,
    base: RunSettings,
    *,
    lr_min: float = TUNE_RANGE[0],
    lr_max: float = TUNE_RANGE[1],
    count: int = TUNE_COUNT,
    function: str = "",
) -> float | None:
    """The entry's best learning rate of a small log-spaced sweep from the race's starts.

    Best as core.sweep.best_entry has it (lowest mean final f, then fewest steps; never one
    that diverged from any start); None when every rate diverged.
    """
    if entry.is_scipy:
        raise OptimizerError(f"{entry.label} is a scipy.optimize method: it has no learning rate")
    lrs = log_spaced(lr_min, lr_max, count)
    points = starts_array(starts)
    grid, rates = tune_grid(points, lrs)
    run = run_descent(
        objective, grid, entry.settings(base), function=function, history=False, lrs=rates
    )
    outcomes = [run.outcome(i) for i in range(run.size)]
    best = best_entry(combined_entries(lrs, outcomes, len(points)))
    return None if best is None else best.lr


# -- the leaderboard's texts: the window's table and the command line's ---------------------------


def standing_texts(place: int, standing: Standing, *, has_minima: bool,
                   digits: int = 3) -> tuple[str, ...]:
    """A standing's cells: place, optimiser, lr, mean final f, steps to tol, distance,
    evaluations, status (numbers to `digits` significant digits)."""
    steps = standing.steps_to_tol
    if steps is not None:
        steps_text = str(steps)
    elif standing.reached:
        steps_text = f"{standing.reached} of {len(standing.laps)} reached"
    else:
        steps_text = "not reached"
    distance = standing.distance
    if distance is None:
        distance_text = "no known minima" if not has_minima else "-"
    else:
        distance_text = number_text(distance, digits)
    f = standing.final_f
    f_text = number_text(f, digits) if math.isfinite(f) else "diverged"
    return (str(place), standing.entry.label, lr_text(standing.entry, digits), f_text,
            steps_text, distance_text, evaluations_text(standing.evaluations),
            standing.status.replace("_", " "))


def lr_text(entry: RaceEntry, digits: int = 3) -> str:
    """The entry's learning rate; '-' for a scipy method, which has none."""
    return "-" if entry.is_scipy else number_text(entry.lr, digits)


def evaluations_text(counts: tuple[float, float, float] | None) -> str:
    """Mean f / gradient / Hessian evaluations per start as 'f/g/h' ('-' when unknown)."""
    if counts is None:
        return "-"
    return "/".join(number_text(round(value, 1), 4) for value in counts)
