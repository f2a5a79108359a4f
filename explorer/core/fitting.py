"""Training a model on data with true minibatches (issue 15): the exact, replayable rule.

One generator, numpy.random.default_rng(seed), per fit. Each epoch draws
perm = rng.permutation(n); its batches are perm[i:i+B] for i = 0, B, 2B, ... (the last, smaller
one kept); batch_size None means B = n (a permutation is still drawn). One optimiser step per
batch: the batch's mean loss, backward, optimizer.step() (L-BFGS: a closure over that batch).

Outcome rule (the window's and the command's):
- diverged: the parameters after a step are not finite or leave |p| <= bound, or a step's batch
  loss or the full-data loss at a row is not finite (core.descent.diverged_rows); the path
  ends at that row.
- converged: at an epoch boundary (before the first epoch, and after each), the full-data
  gradient norm is at most tol (core.descent.converged_rows).
- stopped: should_stop() returned True; the path ends after the last step taken.
- done: every epoch ran.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from explorer.core.budget import MAX_POINT_STEPS, MAX_ROW_BYTES, BudgetError, check_steps
from explorer.core.descent import converged_rows, diverged_rows
from explorer.core.optimizers import Value, make_optimizer, validate
from explorer.core.precision import float64_defaults
from explorer.core.schedules import check_schedule, make_scheduler
from explorer.core.trajectory import FloatArray, Reason, Status, number_text, status_text

if TYPE_CHECKING:
    import torch

    from explorer.core.model_landscape import ModelLandscape

IndexArray = NDArray[np.int64]
# Rows between two looks for divergence: a look costs a few torch reductions.
_CHECK_EVERY = 64
# Steps between two progress reports (and one at every epoch's end).
_PROGRESS_EVERY = 1024


class FitError(ValueError):
    """Fit settings that cannot run (a bad batch size, epochs, seed, tolerance or start)."""


@dataclass(frozen=True)
class FitSettings:
    """Everything that decides a fit's numbers, apart from the landscape and the start."""

    optimizer: str
    lr: float
    params: tuple[tuple[str, Value], ...] = ()
    batch_size: int | None = None  # None: the whole data set, one step per epoch
    epochs: int = 20
    seed: int = 0
    # Converged when the full-data gradient norm is at most tol at an epoch boundary.
    tol: float = 1e-8
    # Diverged when |p1| or |p2| exceeds this.
    bound: float = 1e6
    # A learning-rate schedule (core.schedules' canonical text; '' = constant): one
    # scheduler.step() after each optimizer step, its defaults from the fit's total steps.
    schedule: str = ""

    @property
    def param_dict(self) -> dict[str, Value]:
        """The optimiser's keyword overrides as a dict."""
        return dict(self.params)


@dataclass(frozen=True, eq=False)
class FitResult:
    """A fit's path: parameters, full-data and batch losses per row, the batches, the outcome."""

    params: FloatArray  # (steps + 1, 2): row 0 the start, row k after step k
    loss: FloatArray  # (steps + 1,): the full-data loss at each row
    batch_loss: FloatArray  # (steps + 1,): step k's batch loss before its step; NaN in row 0
    batches: list[IndexArray]  # the data rows of each step (batches[k - 1] for step k)
    status: str  # "converged" | "diverged" | "done" | "stopped"
    reason: str
    epochs_done: int  # whole epochs run

    @property
    def steps(self) -> int:
        """The optimiser steps taken."""
        return len(self.params) - 1


def minibatches(rng: np.random.Generator, n: int, batch_size: int | None) -> list[IndexArray]:
    """One epoch's batches: perm = rng.permutation(n), then perm[i:i+B] (None: B = n)."""
    perm = rng.permutation(n)
    size = n if batch_size is None else batch_size
    return [perm[i : i + size] for i in range(0, n, max(size, 1))]


def steps_per_epoch(n: int, batch_size: int | None) -> int:
    """ceil(n / B): the optimiser steps in one epoch."""
    return 1 if batch_size is None or n == 0 else -(-n // batch_size)


def check_fit(landscape: ModelLandscape, start: tuple[float, float], settings: FitSettings) -> int:
    """Refuse settings that cannot run or pass a budget limit; the number of steps it takes."""
    _check_whole("batch size", settings.batch_size, 1, allow_none=True)
    _check_whole("epochs", settings.epochs, 0)
    _check_whole("seed", settings.seed, 0)
    for label, value in (("tol", settings.tol), ("bound", settings.bound)):
        if isinstance(value, bool) or not isinstance(value, int | float) or not (
            0 <= value < math.inf
        ):
            raise FitError(f"{label} must be a finite number >= 0, not {str(value)[:40]!r}")
    if not settings.bound > 0:
        raise FitError("bound must be above 0")
    if len(start) != 2 or not all(
        isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in start
    ):
        raise FitError(f"the start must be two finite numbers, not {start!r}")
    validate(settings.optimizer, settings.lr, settings.param_dict)
    n = len(landscape.data.x)
    steps = settings.epochs * steps_per_epoch(n, settings.batch_size)
    check_steps(steps)
    check_schedule(settings.schedule, steps, settings.optimizer, settings.lr)
    drawn = settings.epochs * n
    if drawn * 8 > MAX_ROW_BYTES:  # every epoch's permutation is kept (the batches)
        raise BudgetError(
            f"{settings.epochs} epochs of {n} rows draw {drawn} row indices, above the limit of "
            f"{MAX_ROW_BYTES // 8} ({MAX_ROW_BYTES >> 20} MiB of batches)"
        )
    # The full-data loss at every row: a few sums (linear, deeplinear), else a pass over the data.
    work = (steps + 1) * (1 if landscape.from_sums else n) + 2 * drawn
    if work > MAX_POINT_STEPS:
        raise BudgetError(
            f"{steps} steps on {n} rows is {work:.3g} row evaluations, above the limit of "
            f"{MAX_POINT_STEPS:.3g}: fewer epochs, a larger batch or fewer rows"
        )
    return steps


def _check_whole(label: str, value: object, low: int, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
        raise FitError(f"{label} must be a whole number >= {low}, not {str(value)[:40]!r}")


def fit(
    landscape: ModelLandscape,
    start: tuple[float, float],
    settings: FitSettings,
    *,
    should_stop: Callable[[], bool] | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> FitResult:
    """Train from start by the module's rule; on_progress(steps done) now and then."""
    steps = check_fit(landscape, start, settings)
    loop = _Loop(landscape, start, settings, steps)
    with float64_defaults():  # optimiser state (NAdam's product, step counts) in float64
        loop.run(should_stop, on_progress)
    return loop.result()


class _Loop:
    """One fit's state: the parameter tensor, its optimiser and the rows recorded so far."""

    def __init__(
        self,
        landscape: ModelLandscape,
        start: tuple[float, float],
        settings: FitSettings,
        steps: int,
    ) -> None:
        import torch

        self.landscape = landscape
        self.settings = settings
        self.p = torch.tensor([float(v) for v in start], dtype=torch.float64, requires_grad=True)
        self.optimizer = make_optimizer(
            settings.optimizer, [self.p], settings.lr, settings.param_dict
        )
        self.scheduler = make_scheduler(self.optimizer, settings.schedule, steps)
        self.params = np.empty((steps + 1, 2))
        self.params[0] = self.p.detach().numpy()
        self.batch_loss = np.full(steps + 1, np.nan)
        self.batches: list[IndexArray] = []
        self.k = 0  # steps taken
        self.checked = 0  # rows checked for divergence
        self.status, self.reason = Status.DONE, ""
        self.epochs_done = 0

    def run(
        self, should_stop: Callable[[], bool] | None, on_progress: Callable[[int], None] | None
    ) -> None:
        """Every epoch's steps, until an outcome other than 'done'."""
        settings = self.settings
        rng = np.random.default_rng(settings.seed)
        n = len(self.landscape.x)
        for epoch in range(settings.epochs):
            if self._converged(epoch):
                return
            for rows in minibatches(rng, n, settings.batch_size):
                if should_stop is not None and should_stop():
                    self.status, self.reason = Status.STOPPED, f"stopped at step {self.k}"
                    return
                self._step(rows)
                if self.k % _CHECK_EVERY == 0 and self._diverged():
                    return
                if on_progress is not None and self.k % _PROGRESS_EVERY == 0:
                    on_progress(self.k)
            self.epochs_done = epoch + 1
            if self._diverged():
                return
            if on_progress is not None:
                on_progress(self.k)
        self._converged(settings.epochs)

    def _step(self, rows: IndexArray) -> None:
        """One optimiser step on the batch rows; record the batch loss and the new parameters."""
        import torch

        index = torch.from_numpy(rows)
        x, y = self.landscape.x[index], self.landscape.y[index]
        model, p, optimizer = self.landscape.model, self.p, self.optimizer

        def closure() -> float:
            optimizer.zero_grad()
            loss = model.loss(p[0], p[1], x, y)
            torch.autograd.backward(loss)
            return float(loss.detach())

        loss = optimizer.step(closure)  # L-BFGS returns its first evaluation: at the old p
        if self.scheduler is not None:
            self.scheduler.step()
        self.k += 1
        self.batch_loss[self.k] = float(loss)
        self.params[self.k] = p.detach().numpy()
        self.batches.append(rows)

    def _diverged(self) -> bool:
        """Look at the rows since the last look; at the first that diverged, end the path."""
        import torch

        first, end = self.checked, self.k + 1
        self.checked = end
        xy = torch.from_numpy(self.params[first:end])
        f = torch.from_numpy(self.batch_loss[first:end].copy())
        if first == 0:
            f[0] = 0.0  # row 0 has no batch loss
        return self._end_at_divergence(first, xy, f)

    def _end_at_divergence(self, first: int, xy: torch.Tensor, f: torch.Tensor) -> bool:
        """End the path at the first of these rows (from row first) that diverged, if any."""
        non_finite, out = diverged_rows(xy, f, xy.new_zeros(xy.shape), self.settings.bound)
        bad = _first_true(non_finite | out)
        if bad is None:
            return False
        row = first + bad
        reason = Reason.NON_FINITE if bool(non_finite[bad]) else Reason.OUT_OF_BOUNDS
        self.k = row
        self.status, self.reason = Status.DIVERGED, self._divergence_text(reason, row)
        return True

    def _divergence_text(self, reason: Reason, row: int) -> str:
        """descend's words for the reason, with the model's parameter name for a bound."""
        p1, p2 = self.params[row].tolist()
        return status_text(Status.DIVERGED, reason, row, (p1, p2), self.settings.bound,
                           names=self.landscape.model.params)

    def _converged(self, epoch: int) -> bool:
        """At an epoch boundary: is the full-data gradient norm at most tol?"""
        import torch

        p = self.p.detach().clone().requires_grad_(True)
        loss = self.landscape.objective(p[0], p[1])
        (grad,) = torch.autograd.grad(loss, p)
        if not bool(converged_rows(grad.reshape(1, 2), self.settings.tol)[0]):
            return False
        self.status = Status.CONVERGED
        self.reason = (
            f"the full-data gradient norm is at most {number_text(self.settings.tol)} "
            f"after {epoch} epochs ({self.k} steps)"
        )
        return True

    def result(self) -> FitResult:
        """The rows taken, their full-data losses and the outcome (divergence there ends it)."""
        import torch

        if self.status is not Status.DIVERGED:
            self._diverged()
        params = self.params[: self.k + 1].copy()
        loss = self.landscape.losses(params)
        # A non-finite full-data loss ends the path there, even before a batch showed it (the
        # start itself, where the data overflow).
        self._end_at_divergence(0, torch.from_numpy(params), torch.from_numpy(loss))
        rows = self.k + 1
        params, loss = params[:rows], loss[:rows]
        status = self.status
        if status is Status.DONE:
            epochs = self.settings.epochs
            self.reason = f"ran all {epochs} epoch{'s' if epochs != 1 else ''}"
        return FitResult(
            params,
            loss,
            self.batch_loss[:rows].copy(),
            self.batches[: rows - 1],
            status.label,
            self.reason,
            min(self.epochs_done, self.settings.epochs),
        )


def _first_true(mask: torch.Tensor) -> int | None:
    """The index of the first True in a 1-D mask, or None."""
    hits = mask.nonzero()
    return int(hits[0, 0]) if len(hits) else None
