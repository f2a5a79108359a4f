"""The batched descent engine: N start points as one (N, 2) tensor, stepped by torch.optim.

One objective sum and one backward give every point its own gradient, because the points never
interact; every elementwise optimiser then updates each point exactly as if it ran alone.
L-BFGS is not elementwise (its line search and history span the whole tensor), so its starts
run one at a time.

Everything that descends goes through here: single and batched runs, sweeps (one learning rate
per start), races, and basin maps (descend_to_end: outcomes only, on any torch device). They
share one step loop (step_loop) and one outcome rule (core.outcome: check_row for a run's
rows, diverged_rows and converged_rows for tensors).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

from explorer.core.landscape import Objective as Objective  # re-exported: callers import it here
from explorer.core.memory import reuse_freed_memory
from explorer.core.noise import GradientNoise
from explorer.core.optimizers import get_spec, make_optimizer
from explorer.core.outcome import GATE_BLOCK, check_row
from explorer.core.outcome import converged_rows as converged_rows  # re-exported, like
from explorer.core.outcome import diverged_rows as diverged_rows  # Objective: callers use these
from explorer.core.precision import float64_defaults
from explorer.core.schedules import make_scheduler
from explorer.core.trajectory import FloatArray, Run, RunSettings

if TYPE_CHECKING:
    import torch

# progress(done, total) -> False to cancel (descend_to_end).
Progress = Callable[[int, int], bool]
T = TypeVar("T")
# From this many starts on, step tensors are megabytes: keep freed memory for reuse.
LARGE_BATCH = 1 << 16


class Cancelled(Exception):
    """The progress callback returned False: the run was abandoned and there is no result."""


@dataclass(frozen=True)
class Chunk:
    """Rows [first_row, end_row) were just written to the live run: copy what you keep."""

    run: Run
    first_row: int
    end_row: int
    # The trajectories the rows are of: None for all; one column while L-BFGS runs its starts
    # one at a time (a caller that stops early knows which path is part-way and which not begun).
    columns: slice | None = None


def descend(
    objective: Objective,
    starts: ArrayLike,
    settings: RunSettings,
    *,
    function: str = "",
    chunk_steps: int = 64,
    history: bool = True,
    lrs: ArrayLike | None = None,
    state: bool = False,
    _outcomes_only: bool = False,
) -> Iterator[Chunk]:
    """Run the optimiser from every start, yielding after every chunk_steps recorded rows.

    Row 0 is the start; row k is the point after k steps with the gradient the next step uses.
    Each trajectory stops when converged (gradient norm <= tol), diverged (a non-finite value, or
    |x| or |y| above bound; that row is kept) or after settings.steps steps.
    Without history the run keeps only the last chunk's rows (row k in run.slot(k)) and each
    trajectory's final row: memory stays bounded, and run.outcome(i) gives the result.
    lrs gives every start its own learning rate (a sweep): still one objective and one backward
    per step, with one torch parameter group per start.
    state=True (with history) also keeps, after every step, each optimiser state tensor with one
    value per coordinate (run.state); L-BFGS and sweeps keep none of that shape.
    """
    if state and not history:
        raise ValueError("the optimiser's state is kept only with history")
    window = None if history else max(2, min(chunk_steps, 4))
    chunk_steps = chunk_steps if window is None else min(chunk_steps, window)
    lr_array = None if lrs is None else np.asarray(lrs, dtype=np.float64)
    run = Run(starts_array(starts), settings, function, lrs=lr_array, window=window)
    keep_state = state and lr_array is None
    if run.size == 0:
        return
    if run.size >= LARGE_BATCH:
        reuse_freed_memory()
    if get_spec(settings.optimizer).elementwise:
        yield from _descend_batched(
            objective, run, chunk_steps, record=not _outcomes_only, state=keep_state
        )
    else:
        yield from _descend_each(objective, run, chunk_steps)


def run_descent(
    objective: Objective,
    starts: ArrayLike,
    settings: RunSettings,
    *,
    function: str = "",
    history: bool = True,
    lrs: ArrayLike | None = None,
) -> Run:
    """Run to the end and return the filled run (see descend for history and lrs)."""
    run: Run | None = None
    for chunk in descend(
        objective,
        starts,
        settings,
        function=function,
        chunk_steps=1 << 30,
        history=history,
        lrs=lrs,
        _outcomes_only=not history,
    ):
        run = chunk.run
    return run if run is not None else Run(starts_array(starts), settings, function)


def step_loop(
    optimizer: torch.optim.Optimizer,
    evaluate: Callable[[], T],
    steps: int,
    closure: Callable[[], float] | None = None,
    scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
) -> Iterator[tuple[int, T]]:
    """The one step loop: rows k = 0..steps, each evaluated (gradients filled) and yielded.

    The optimiser steps from row k to row k + 1 only when the caller asks for the next row, so
    a caller that stops at row k (converged, diverged, cancelled) leaves the point at row k.
    A learning-rate scheduler steps once after every optimiser step.
    """
    for k in range(steps + 1):
        optimizer.zero_grad()
        yield k, evaluate()
        if k < steps:
            with float64_defaults():  # state such as NAdam's momentum product in float64
                optimizer.step(closure)
            if scheduler is not None:
                scheduler.step()


class _RateRecorder:
    """Writes into run.rates, row by row, the learning rate each row's step used.

    At row k the scheduler has already stepped k times, so the rate step k used is the one
    the optimiser's groups held at row k - 1 (row 0 keeps the initial rate).
    """

    def __init__(
        self,
        run: Run,
        optimizer: torch.optim.Optimizer,
        scheduler: torch.optim.lr_scheduler.LRScheduler | None,
        columns: slice = slice(None),
    ) -> None:
        self.run, self.optimizer, self.columns = run, optimizer, columns
        self.active = scheduler is not None and run.window is None
        self.previous: list[float] = []

    def record(self, k: int) -> None:
        """Row k's rates (call after run.ensure_rows(k + 1))."""
        if not self.active:
            return
        now = [float(group["lr"]) for group in self.optimizer.param_groups]
        self.run.record_rates(k, self.previous if k else now, self.columns)
        self.previous = now


def _evaluator(
    objective: Objective, p: torch.Tensor, noise: GradientNoise
) -> Callable[[], torch.Tensor]:
    """The row evaluation of a single-tensor run: f, and p.grad with the gradient noise added."""

    def evaluate() -> torch.Tensor:
        f = evaluate_rows(objective, p)
        noise.add(p)
        return f

    return evaluate


@dataclass(frozen=True, eq=False)
class BatchEnd:
    """Where every start of descend_to_end stands after its last row (tensors on its device)."""

    points: torch.Tensor  # (N, 2)
    f: torch.Tensor  # (N,)
    diverged: torch.Tensor  # (N,) bool
    steps_run: int


def descend_to_end(
    objective: Objective,
    starts: torch.Tensor,
    settings: RunSettings,
    *,
    check_every: int = 1,
    progress: Progress | None = None,
) -> BatchEnd:
    """Step every start (an (N, 2) float64 tensor, on any device) and keep only where it ends.

    For maps of many starts with an elementwise optimiser: no per-step record, and the outcome
    rule runs on the device every check_every steps (a few reductions and one host sync), so
    the loop costs what a bare torch.optim loop costs. A row that diverged stays diverged; a
    converged row keeps stepping (its end is the last row). The run stops early at a check where
    every row has converged or diverged; the last row is checked for divergence too.
    progress(done, total) is called at each check and at the end; False raises Cancelled.
    """
    import torch

    p = starts.detach().clone().requires_grad_(True)
    optimizer = make_optimizer(
        settings.optimizer, [p], settings.lr, settings.param_dict, ascent=settings.ascent
    )
    scheduler = make_scheduler(optimizer, settings.schedule, settings.steps)
    status = _EndStatus(p, settings)
    total = settings.steps
    k, f = 0, p.new_empty(0)
    evaluate = _evaluator(objective, p, GradientNoise(settings, p.device))
    for k, f in step_loop(optimizer, evaluate, total, scheduler=scheduler):
        if k == total:
            break
        if k % check_every == 0:
            _report(progress, k, total)
            if status.check(f):
                break  # everyone converged or diverged: the rest would change nothing
    with torch.no_grad():
        status.mark_diverged(f)
    _report(progress, total, total)
    return BatchEnd(p.detach(), f, status.diverged, k)


class _EndStatus:
    """descend_to_end's sticky mask of diverged rows, checked on the device as cheaply as can be."""

    def __init__(self, p: torch.Tensor, settings: RunSettings) -> None:
        import torch

        self.p = p
        self.bound = settings.bound
        self.tol = settings.tol
        self.diverged = torch.zeros(len(p), dtype=torch.bool, device=p.device)
        self.any_diverged = False

    def _state(self) -> tuple[torch.Tensor, torch.Tensor]:
        p = self.p.detach()
        return p, self.p.grad if self.p.grad is not None else p.new_zeros(p.shape)

    def mark_diverged(self, f: torch.Tensor) -> None:
        """Add the rows that diverge on this row (f is its values) to the mask."""
        p, grad = self._state()
        non_finite, out = diverged_rows(p, f, grad, self.bound)
        self.diverged |= non_finite | out
        self.any_diverged = bool(self.diverged.any())

    def check(self, f: torch.Tensor) -> bool:
        """Mark newly diverged rows; True when every row has converged or diverged.

        A healthy batch costs three reductions and one host sync: the extremes of x, y and
        the gradient and the sum of f (NaN and infinity propagate through all of them). Only
        when they show trouble, or after some row has diverged, are per-row masks computed.
        """
        import torch

        with torch.no_grad():
            p, grad = self._state()
            lo, hi = torch.aminmax(p)
            g_lo, g_hi = torch.aminmax(grad)
            stats = torch.stack((-lo, hi, f.sum(), -g_lo, g_hi)).tolist()
            reach, g_max = max(stats[0], stats[1]), max(stats[3], stats[4])
            if not self.any_diverged and math.isfinite(sum(stats)) and reach <= self.bound:
                if g_max > self.tol:
                    return False  # a gradient component above tol: that row has not converged
            self.mark_diverged(f)
            return bool((self.diverged | converged_rows(grad, self.tol)).all())


def _report(progress: Progress | None, done: int, total: int) -> None:
    if progress is not None and progress(done, total) is False:
        raise Cancelled(f"cancelled at step {done} of {total}")


def evaluate_rows(objective: Objective, p: torch.Tensor) -> torch.Tensor:
    """f at every row of p, shaped (N,), with p.grad filled by one backward of the sum."""
    import torch

    x, y = p.unbind(1)  # one backward copy, where two column selects cost two
    f = objective(x, y)
    if f.requires_grad:
        torch.autograd.backward(f.sum())
    else:
        # A constant function: no graph, so the gradient is exactly zero.
        p.grad = p.detach().mul(0.0)
    return f.detach()


def _record(run: Run, k: int, p: torch.Tensor, f: torch.Tensor, columns: slice) -> None:
    assert p.grad is not None
    s = run.slot(k)
    run.xy[s, columns] = p.detach().numpy()
    run.f[s, columns] = f.numpy()
    run.grad[s, columns] = p.grad.numpy()


def _record_state(run: Run, k: int, optimizer: torch.optim.Optimizer, p: torch.Tensor) -> None:
    """Copy p's per-coordinate state tensors (torch's own, shaped as p) into run.state row k."""
    import torch

    for name, value in optimizer.state[p].items():
        if isinstance(value, torch.Tensor) and value.shape == p.shape:
            run.record_state(k, str(name), value.detach().numpy())


def state_names(settings: RunSettings) -> tuple[str, ...]:
    """The per-coordinate state tensors the optimiser keeps, by name, as one step shows them."""
    import torch

    if not get_spec(settings.optimizer).elementwise:
        return ()  # L-BFGS: history lists and flat vectors, nothing shaped as the points
    p = torch.zeros((1, 2), dtype=torch.float64, requires_grad=True)
    optimizer = make_optimizer(
        settings.optimizer, [p], settings.lr, settings.param_dict, ascent=settings.ascent
    )
    p.grad = torch.ones_like(p)
    with float64_defaults():
        optimizer.step()
    return tuple(
        str(name)
        for name, value in optimizer.state[p].items()
        if isinstance(value, torch.Tensor) and value.shape == p.shape
    )


def _descend_batched(
    objective: Objective, run: Run, chunk_steps: int, record: bool = True, state: bool = False
) -> Iterator[Chunk]:
    """The elementwise optimisers, all starts as one tensor.

    record=False is for callers that read only the outcomes (run_descent without history):
    the status checks then read the step's tensors in place instead of copies of them.
    """
    import torch

    settings = run.settings
    if run.lrs is not None:
        yield from _descend_sweep(objective, run, chunk_steps)
        return
    p = torch.tensor(run.starts, dtype=torch.float64, requires_grad=True)
    optimizer = make_optimizer(
        settings.optimizer, [p], settings.lr, settings.param_dict, ascent=settings.ascent
    )
    scheduler = make_scheduler(optimizer, settings.schedule, settings.steps)
    rates = _RateRecorder(run, optimizer, scheduler if record else None)
    evaluate = _evaluator(objective, p, GradientNoise(settings, p.device))
    everything = slice(None)
    scratch = torch.empty(min(2 * run.size, GATE_BLOCK), dtype=torch.float64)

    def rows() -> Iterator[bool]:
        running = run.size
        for k, f in step_loop(optimizer, evaluate, settings.steps, scheduler=scheduler):
            if record:
                run.ensure_rows(k + 1)
                _record(run, k, p, f, everything)
                rates.record(k)
                if state and k:
                    _record_state(run, k, optimizer, p)
            else:
                assert p.grad is not None
                run.live = (p.detach().numpy(), f.numpy(), p.grad.numpy())
            run.rows = k + 1
            running -= check_row(run, k, everything, scratch)
            run.live = None
            # Stopped points keep stepping inside the batch (they cannot disturb the others,
            # the update being elementwise); their rows after last_row are simply never read.
            yield running == 0

    yield from _chunked(run, rows(), chunk_steps)


def _chunked(
    run: Run, rows: Iterator[bool], chunk_steps: int, columns: slice | None = None
) -> Iterator[Chunk]:
    """Rows 0, 1, ... (each True once every start has stopped) as chunks of chunk_steps rows.

    The last chunk ends at the row where every start has stopped; rows is not asked for more.
    """
    first = 0
    for k, done in enumerate(rows):
        if done or k + 1 - first >= chunk_steps:
            yield Chunk(run, first, k + 1, columns)
            first = k + 1
        if done:
            return


def _descend_sweep(objective: Objective, run: Run, chunk_steps: int) -> Iterator[Chunk]:
    """Every start with its own learning rate: one leaf and one parameter group per start.

    The objective still sees all points as one (N, 2) tensor (their concatenation), so a step
    costs one forward and one backward; the optimiser updates each group with its own lr.
    """
    import torch

    settings = run.settings
    assert run.lrs is not None
    leaves = [
        torch.tensor(run.starts[i : i + 1], dtype=torch.float64, requires_grad=True)
        for i in range(run.size)
    ]
    groups: list[dict[str, Any]] = [
        {"params": [leaf], "lr": float(lr)} for leaf, lr in zip(leaves, run.lrs, strict=True)
    ]
    optimizer = make_optimizer(
        settings.optimizer, groups, settings.lr, settings.param_dict, ascent=settings.ascent
    )
    scheduler = make_scheduler(optimizer, settings.schedule, settings.steps)
    rates = _RateRecorder(run, optimizer, scheduler)
    noise = GradientNoise(settings)

    def evaluate() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        p = torch.cat(leaves)
        f = objective(*p.unbind(1))
        if f.requires_grad:
            torch.autograd.backward(f.sum())
        for leaf in leaves:
            if leaf.grad is None:  # a constant function: no graph, gradient exactly zero
                leaf.grad = torch.zeros_like(leaf)
        grad = torch.cat([leaf.grad for leaf in leaves if leaf.grad is not None])
        noise.add_to(grad)
        for i, leaf in enumerate(leaves):
            leaf.grad = grad[i : i + 1].clone()
        return p, f, grad

    def rows() -> Iterator[bool]:
        running = run.size
        for k, (p, f, grad) in step_loop(optimizer, evaluate, settings.steps, scheduler=scheduler):
            run.ensure_rows(k + 1)
            s = run.slot(k)
            run.xy[s] = p.detach().numpy()
            run.f[s] = f.detach().numpy()
            run.grad[s] = grad.numpy()
            rates.record(k)
            run.rows = k + 1
            running -= check_row(run, k, slice(None))
            yield running == 0

    yield from _chunked(run, rows(), chunk_steps)


def _descend_each(objective: Objective, run: Run, chunk_steps: int) -> Iterator[Chunk]:
    """One start at a time, for optimisers whose update couples the coordinates of the tensor."""
    import torch

    settings = run.settings
    sign = -1.0 if settings.ascent and not get_spec(settings.optimizer).supports_maximize else 1.0
    noise = GradientNoise(settings)
    run.closure_calls = np.zeros(run.size, dtype=np.int64)
    for i in range(run.size):
        p = torch.tensor(run.starts[i : i + 1], dtype=torch.float64, requires_grad=True)
        optimizer = make_optimizer(
            settings.optimizer, [p], run.lr(i), settings.param_dict, ascent=settings.ascent
        )

        scheduler = make_scheduler(optimizer, settings.schedule, settings.steps)
        rates = _RateRecorder(run, optimizer, scheduler, slice(i, i + 1))
        closure = _closure(objective, p, optimizer, sign, noise, _Counter(run.closure_calls, i))
        evaluate = _evaluator(objective, p, noise)
        steps = step_loop(optimizer, evaluate, settings.steps, closure, scheduler)
        rows = _rows_of_one(run, i, p, steps, rates)
        yield from _chunked(run, rows, chunk_steps, slice(i, i + 1))


def _rows_of_one(
    run: Run,
    i: int,
    p: torch.Tensor,
    steps: Iterator[tuple[int, torch.Tensor]],
    rates: _RateRecorder,
) -> Iterator[bool]:
    """Record start i's rows in its column; True at the row where it stops."""
    column = slice(i, i + 1)
    for k, f in steps:
        run.ensure_rows(k + 1)
        _record(run, k, p, f, column)
        rates.record(k)
        run.rows = max(run.rows, k + 1)
        yield check_row(run, k, column) > 0


def _closure(
    objective: Objective,
    p: torch.Tensor,
    optimizer: torch.optim.Optimizer,
    sign: float,
    noise: GradientNoise,
    counter: _Counter,
) -> Callable[[], float]:
    """The loss-and-gradient callback L-BFGS calls (several times per step, in its search)."""
    import torch

    def closure() -> float:
        counter.add()
        optimizer.zero_grad()
        loss = sign * objective(*p.unbind(1)).sum()
        if loss.requires_grad:
            torch.autograd.backward(loss)
        else:
            p.grad = torch.zeros_like(p)
        noise.add(p)
        return float(loss.detach())

    return closure


@dataclass(frozen=True)
class _Counter:
    """Counts one trajectory's closure calls into its cell of an array (Run.closure_calls)."""

    counts: NDArray[np.int64]
    index: int

    def add(self) -> None:
        """One more call."""
        self.counts[self.index] += 1


def starts_array(points: ArrayLike) -> FloatArray:
    """Start points as a contiguous (N, 2) float64 array."""
    return np.ascontiguousarray(points, dtype=np.float64).reshape(-1, 2)
