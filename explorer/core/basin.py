"""Basins of attraction: a grid of starts descended as one batch, grouped by the minimum reached.

Every start of an n x n grid runs in one (N, 2) tensor with a torch.optim optimiser (the update is
elementwise, so rows never interact) and only the end points are kept. The end points are then
grouped: the best end point of each small cell they fall in is refined by damped Newton steps on
exact autograd Hessians; a refined point is a minimum when its Hessian is positive definite (or,
for degenerate and non-smooth minima, when f rises in every direction around it); and each start
is assigned to the minimum its end point lies near. Nothing here imports Qt: the window calls
basin_map from a worker thread, with a progress callback that can cancel.
"""

from __future__ import annotations

import colorsys
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import numpy as np
from numpy.typing import NDArray

from explorer.core.optimizers import OptimizerError, get_spec, make_optimizer
from explorer.core.presets import Minimum
from explorer.core.trajectory import FloatArray, RunSettings

if TYPE_CHECKING:
    import torch

Objective = Callable[["torch.Tensor", "torch.Tensor"], "torch.Tensor"]
Progress = Callable[[int, int], bool]
Domain = tuple[float, float, float, float]

DIVERGED: Final = -1
UNFINISHED: Final = -2
DEFAULT_GRID: Final = 64
MIN_GRID: Final = 2
MAX_GRID: Final = 512

# Damped Newton: most iterations, and the step (an estimate of the distance to the stationary
# point) below which a row has settled / is accepted as refined (relative to 1 + |q|).
_NEWTON_ITERATIONS: Final = 60
_SETTLED_STEP: Final = 1e-10
_ACCEPTED_STEP: Final = 1e-8
_HALVINGS: Final = 40
# Continued descent for rows Newton cannot settle (non-smooth minima): this many steps of the
# run's optimiser with the learning rate shrinking by this factor each step.
_FALLBACK_STEPS: Final = 400
_FALLBACK_DECAY: Final = 0.95
# Ring test for minima Newton cannot certify: f is sampled in this many directions at radii
# of these fractions of the domain's span.
_RING_DIRECTIONS: Final = 16
_RING_RADII: Final = (1e-3, 1e-4, 1e-5)
# Refined points closer than this (times the span) are one minimum; minima whose f is within
# this (relative) of the lowest are all global; a found minimum matches a known one within
# this distance (times the span).
_MERGE: Final = 1e-4
_GLOBAL_F: Final = 1e-9
_KNOWN_MATCH: Final = 1e-5


class BasinError(ValueError):
    """Settings a basin map cannot run with (domain, grid size, device), in words for the user."""


class BasinCancelled(Exception):
    """The progress callback returned False: the map was abandoned and there is no result."""


@dataclass(frozen=True)
class BasinMinimum:
    """A distinct minimum reached by some starts, at its refined position."""

    x: float
    y: float
    f: float
    count: int
    share: float
    is_global: bool


@dataclass(frozen=True, eq=False)
class BasinMap:
    """Where every start of the grid ended; arrays are indexed [ix, iy] and read-only.

    labels[ix, iy] is the index of the minimum in `minima` that the start (xs[ix], ys[iy])
    reached, DIVERGED (-1) or UNFINISHED (-2). Minima are ordered global first, then by f,
    then x, then y (equal minima by position, not by their rounding noise in f).
    ends[ix, iy] is the end point (NaN for diverged starts).
    """

    xs: FloatArray
    ys: FloatArray
    labels: NDArray[np.int64]
    ends: FloatArray
    minima: tuple[BasinMinimum, ...]
    global_share: float
    diverged_share: float
    unfinished_share: float
    # True or False when known minima were given: whether the lowest minimum found is one of
    # them (the caller's known global minima); None without known minima.
    matches_known: bool | None
    domain: Domain
    settings: RunSettings
    steps_run: int
    device: str

    @property
    def n(self) -> int:
        """Grid points per side."""
        return len(self.xs)

    @property
    def diverged_count(self) -> int:
        """Starts that diverged."""
        return int(np.count_nonzero(self.labels == DIVERGED))

    @property
    def unfinished_count(self) -> int:
        """Starts that neither diverged nor ended near a minimum."""
        return int(np.count_nonzero(self.labels == UNFINISHED))


def basin_map(
    objective: Objective,
    domain: Sequence[float],
    settings: RunSettings,
    *,
    n: int = DEFAULT_GRID,
    device: str = "cpu",
    known_minima: Sequence[Minimum] | None = None,
    progress: Progress | None = None,
    check_every: int = 10,
    radius: float = 0.01,
    max_candidates: int = 2048,
) -> BasinMap:
    """Descend from every start of an n x n grid over domain and group the starts by minimum.

    The optimiser runs settings.steps steps (fewer when every start has converged, gradient
    norm <= settings.tol, or diverged: a non-finite value or |x| or |y| above settings.bound,
    checked every check_every steps and at the end). With settings.noise > 0 every gradient of
    the descent gets seeded Gaussian noise (settings.seed); the refinement of minima has none.
    progress(done, total) is called at each check; when it returns False the run stops and
    BasinCancelled is raised. An end point within radius * (the domain's larger side) of a
    minimum counts as reaching it. At most max_candidates cells of end points are refined (the
    most populated first). L-BFGS is refused: it is not elementwise, so it cannot run as a batch.
    Raises BasinError for a bad domain, grid size or device, OptimizerError for bad settings.
    """
    import torch

    xmin, xmax, ymin, ymax = _check_domain(domain)
    _check_arguments(settings, n, check_every, radius, max_candidates)
    dev = _device(device)
    xs = np.linspace(xmin, xmax, n)
    ys = np.linspace(ymin, ymax, n)
    gx, gy = torch.meshgrid(
        torch.tensor(xs, dtype=torch.float64, device=dev),
        torch.tensor(ys, dtype=torch.float64, device=dev),
        indexing="ij",
    )
    starts = torch.stack((gx.reshape(-1), gy.reshape(-1)), dim=1)  # row ix * n + iy
    ends, end_f, diverged, steps_run = _descend(objective, starts, settings, progress, check_every)
    span = max(xmax - xmin, ymax - ymin)
    points, values, labels = _group(
        objective, ends, end_f, diverged, settings, span, radius * span, max_candidates
    )
    ends_np = ends.detach().cpu().numpy().copy()
    ends_np[diverged.cpu().numpy()] = np.nan
    return _result(
        xs,
        ys,
        labels.cpu().numpy(),
        ends_np,
        points,
        values,
        (xmin, xmax, ymin, ymax),
        settings,
        steps_run,
        str(dev),
        known_minima,
        span,
    )


# --- checks ----------------------------------------------------------------------------------


def _check_domain(domain: Sequence[float]) -> Domain:
    values = tuple(float(v) for v in domain)
    if len(values) != 4 or not all(math.isfinite(v) for v in values):
        raise BasinError("the domain must be four finite numbers: xmin, xmax, ymin, ymax")
    xmin, xmax, ymin, ymax = values
    if not (xmin < xmax and ymin < ymax):
        raise BasinError(
            f"the domain needs xmin < xmax and ymin < ymax, got x in [{xmin:g}, {xmax:g}], "
            f"y in [{ymin:g}, {ymax:g}]"
        )
    return xmin, xmax, ymin, ymax


def _check_arguments(
    settings: RunSettings, n: int, check_every: int, radius: float, max_candidates: int
) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or not MIN_GRID <= n <= MAX_GRID:
        raise BasinError(f"the grid size must be a whole number from {MIN_GRID} to {MAX_GRID}")
    if check_every < 1 or max_candidates < 1 or not 0 < radius < 1:
        raise BasinError("check_every and max_candidates must be >= 1, radius in (0, 1)")
    if settings.steps < 0:
        raise BasinError("the number of steps must be >= 0")
    if settings.ascent:
        raise BasinError("a basin map descends: ascent is not supported")
    if not get_spec(settings.optimizer).elementwise:
        # L-BFGS couples every coordinate of its tensor (one line search, one history), so a
        # batch would not behave like separate runs, and 262144 separate runs are not cheap.
        raise OptimizerError(
            f"{settings.optimizer} is not elementwise, so it cannot run a grid of starts as one "
            "batch: choose another optimizer for a basin map"
        )


def _device(name: str) -> torch.device:
    import torch

    if name == "cpu":
        return torch.device("cpu")
    if name == "cuda" or name.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise BasinError(
                f"CUDA is not available here (torch {torch.__version__} finds no CUDA device): "
                "use --device cpu"
            )
        try:
            return torch.device(name)
        except RuntimeError:
            raise BasinError(f"bad CUDA device '{name}'") from None
    raise BasinError(f"unknown device '{name}': use cpu or cuda")


# --- the batched descent ---------------------------------------------------------------------


def _descend(
    objective: Objective,
    starts: torch.Tensor,
    settings: RunSettings,
    progress: Progress | None,
    check_every: int,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, int]:
    """Step every start; return the end points, f there, the diverged mask and steps taken.

    Lean on purpose: no per-step record, and status checks on the device every check_every
    steps (a few elementwise passes and one host sync), so the loop costs what a bare
    torch.optim loop costs.
    """
    import torch

    p = starts.clone().requires_grad_(True)
    optimizer = make_optimizer(settings.optimizer, [p], settings.lr, settings.param_dict)
    status = _Status(p, settings.bound, settings.tol)
    noise = _noise(settings, p.device)
    total = settings.steps
    k = 0
    while k < total:
        optimizer.zero_grad()
        f = _backward(objective, p)
        if noise is not None:
            assert p.grad is not None
            draw = torch.randn(p.shape, generator=noise, dtype=p.dtype, device=p.device)
            p.grad.add_(draw, alpha=settings.noise)
        if k % check_every == 0:
            _report(progress, k, total)
            if status.check(f):
                break  # everyone converged or diverged: the rest would change nothing
        optimizer.step()
        k += 1
    with torch.no_grad():
        ends = p.detach()
        end_f = objective(ends[:, 0], ends[:, 1]).detach()
        status.diverged |= ~_healthy(ends, end_f, settings.bound)
    _report(progress, total, total)
    return ends, end_f, status.diverged, k


def _noise(settings: RunSettings, device: torch.device) -> torch.Generator | None:
    """The seeded generator of gradient noise (settings.noise, settings.seed), None without."""
    import torch

    if settings.noise <= 0:
        return None
    return torch.Generator(device=device).manual_seed(settings.seed)


def _backward(objective: Objective, p: torch.Tensor) -> torch.Tensor:
    """f at every row of p; p.grad holds each row's gradient (one backward of the sum)."""
    import torch

    f = objective(*p.unbind(1))
    if f.requires_grad:
        torch.autograd.backward(f.sum())
    else:
        p.grad = torch.zeros_like(p)  # a constant function: no graph, zero gradient
    return f.detach()


def _healthy(p: torch.Tensor, f: torch.Tensor, bound: float) -> torch.Tensor:
    """Rows with finite f and |x|, |y| <= bound (NaN fails the comparison)."""
    import torch

    return (p.abs() <= bound).all(dim=1) & torch.isfinite(f)


class _Status:
    """Which rows have diverged (sticky), checked on the device with as little work as possible."""

    def __init__(self, p: torch.Tensor, bound: float, tol: float) -> None:
        import torch

        self.p = p
        self.bound = bound
        self.tol = tol
        self.diverged = torch.zeros(len(p), dtype=torch.bool, device=p.device)
        self.any_diverged = False

    def check(self, f: torch.Tensor) -> bool:
        """Mark newly diverged rows; True when every row has converged or diverged.

        A healthy batch costs three reductions and one host sync: the extremes of x, y and
        the gradient and the sum of f (NaN and infinity propagate through all of them). Only
        when they show trouble, or after some row has diverged, are per-row masks computed.
        """
        import torch

        with torch.no_grad():
            p = self.p.detach()
            grad = self.p.grad if self.p.grad is not None else torch.zeros_like(p)
            lo, hi = torch.aminmax(p)
            g_lo, g_hi = torch.aminmax(grad)
            stats = torch.stack((-lo, hi, f.sum(), -g_lo, g_hi)).tolist()
            reach, g_max = max(stats[0], stats[1]), max(stats[3], stats[4])
            if not self.any_diverged and math.isfinite(sum(stats)) and reach <= self.bound:
                if g_max > self.tol:
                    return False  # a gradient component above tol: that row has not converged
            norm2 = (grad * grad).sum(dim=1)
            self.diverged |= ~(_healthy(p, f, self.bound) & torch.isfinite(norm2))
            self.any_diverged = bool(self.diverged.any())
            return bool((self.diverged | (norm2 <= self.tol * self.tol)).all())


def _report(progress: Progress | None, done: int, total: int) -> None:
    if progress is not None and progress(done, total) is False:
        raise BasinCancelled(f"basin map cancelled at step {done} of {total}")


# --- grouping end points into minima ---------------------------------------------------------


def _group(
    objective: Objective,
    ends: torch.Tensor,
    end_f: torch.Tensor,
    diverged: torch.Tensor,
    settings: RunSettings,
    span: float,
    radius: float,
    max_candidates: int,
) -> tuple[FloatArray, FloatArray, torch.Tensor]:
    """The distinct minima (points (K, 2), f (K,)) and every start's label (N,) on the device."""
    import torch

    labels = torch.full((len(ends),), DIVERGED, dtype=torch.int64, device=ends.device)
    alive = torch.nonzero(~diverged).squeeze(1)
    if len(alive) == 0:
        return np.empty((0, 2)), np.empty(0), labels
    e, fe = ends[alive], end_f[alive]
    candidates = _candidates(e, fe, radius, max_candidates)
    q, fq, is_min = _refine(objective, candidates, settings, span)
    points, values = _distinct(q[is_min], fq[is_min], _MERGE * span)
    if len(points) == 0:
        labels[alive] = UNFINISHED
        return points, values, labels
    labels[alive] = _nearest(e, torch.tensor(points, device=e.device), radius)
    return points, values, labels


def _candidates(e: torch.Tensor, fe: torch.Tensor, cell: float, limit: int) -> torch.Tensor:
    """The lowest end point of each occupied cell (side `cell`), most populated cells first."""
    import torch

    # Clamped so that the key below cannot overflow, whatever the end points and cell size.
    ij = torch.floor(e / cell).clamp(-(2.0**30), 2.0**30).to(torch.int64)
    ij = ij - ij.min(dim=0).values
    key = ij[:, 0] * (int(ij[:, 1].max()) + 1) + ij[:, 1]
    _, inverse, counts = torch.unique(key, return_inverse=True, return_counts=True)
    cells = len(counts)
    lowest = torch.full((cells,), math.inf, dtype=fe.dtype, device=fe.device)
    lowest = lowest.scatter_reduce(0, inverse, fe, reduce="amin")
    best = fe == lowest[inverse]
    index = torch.arange(len(e), device=e.device)
    first = torch.full((cells,), len(e), dtype=torch.int64, device=e.device)
    first = first.scatter_reduce(0, inverse[best], index[best], reduce="amin")
    order = torch.argsort(counts, descending=True, stable=True)[:limit]
    return e[first[order]]


def _refine(
    objective: Objective, q0: torch.Tensor, settings: RunSettings, span: float
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Refined candidates, f there, and which of them are minima.

    Damped Newton first; rows it cannot settle (non-smooth minima, flat regions) continue the
    run's descent with a shrinking learning rate and get a second Newton pass. A row is a
    minimum when it settled with a positive definite Hessian, or when f rises (or stays) in
    every direction on small rings around it (degenerate minima such as x**4 + y**4).
    """
    import torch

    q, settled = _newton(objective, q0, settings.bound)
    if not bool(settled.all()):
        rows = torch.nonzero(~settled).squeeze(1)
        more = _continue_descent(objective, q[rows], settings)
        better = _no_worse(objective, more, q[rows])
        q[rows[better]] = more[better]
        q2, settled2 = _newton(objective, q[rows], settings.bound)
        q[rows] = q2
        settled[rows] = settled2
    f, g, hessian = _derivatives(objective, q)
    step = _damped_step(g, hessian)[0]
    small = step.norm(dim=1) <= _ACCEPTED_STEP * (1 + q.norm(dim=1))
    finite = _healthy(q, f, settings.bound)
    strict = finite & small & _positive_definite(hessian)
    is_min = strict.clone()
    others = torch.nonzero(finite & ~strict).squeeze(1)
    if len(others):
        is_min[others] = _ring_minimum(objective, q[others], f[others], span)
    return q, f, is_min


def _derivatives(
    objective: Objective, q: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """f (M,), gradient (M, 2) and Hessian (M, 2, 2) of every row, by autograd.

    The rows are independent, so one backward of the sum gives every gradient and one more
    backward per gradient component gives every Hessian row: exact, and batched (unlike
    torch.autograd.functional.hessian, which would build an (M, 2, M, 2) matrix).
    """
    import torch

    p = q.detach().clone().requires_grad_(True)
    zeros = torch.zeros_like(p)
    with torch.enable_grad():
        f = objective(p[:, 0], p[:, 1])
        if not f.requires_grad:
            return f.detach(), zeros, torch.zeros((len(p), 2, 2), dtype=p.dtype, device=p.device)
        (g,) = torch.autograd.grad(f.sum(), p, create_graph=True)
        rows = []
        for i in range(2):
            if not g.requires_grad:
                rows.append(zeros)
                continue
            try:
                (h,) = torch.autograd.grad(g[:, i].sum(), p, retain_graph=i == 0, allow_unused=True)
            except RuntimeError:  # an operation without a second derivative
                h = None
            rows.append(zeros if h is None else h)
    return f.detach(), g.detach(), torch.stack(rows, dim=1).detach()


def _eigenvalues(hessian: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Smallest and largest eigenvalue of each symmetrised 2 x 2 matrix (closed form, NaN-safe)."""
    a, c = hessian[:, 0, 0], hessian[:, 1, 1]
    b = 0.5 * (hessian[:, 0, 1] + hessian[:, 1, 0])
    mean = 0.5 * (a + c)
    radius = (0.25 * (a - c) ** 2 + b * b).sqrt()
    return mean - radius, mean + radius


def _positive_definite(hessian: torch.Tensor) -> torch.Tensor:
    low, high = _eigenvalues(hessian)
    return (low > 0) & (low > 1e-12 * high.abs())


def _damped_step(g: torch.Tensor, hessian: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The Newton step -(H + mu I)^-1 g with mu >= 0 just large enough to make it a descent step.

    Returns the step and g . step. mu is 0 where H is positive definite (pure Newton, quadratic
    convergence); elsewhere it shifts the spectrum above zero (Levenberg-Marquardt), so a saddle
    is left rather than approached.
    """
    import torch

    low, high = _eigenvalues(hessian)
    gnorm = g.norm(dim=1)
    floor = torch.maximum(gnorm, 1e-12 * (1 + high.abs()))
    mu = torch.where(_positive_definite(hessian), torch.zeros_like(low), floor - low.clamp(max=0))
    a = hessian[:, 0, 0] + mu
    c = hessian[:, 1, 1] + mu
    b = 0.5 * (hessian[:, 0, 1] + hessian[:, 1, 0])
    det = a * c - b * b
    step = torch.stack((c * g[:, 0] - b * g[:, 1], a * g[:, 1] - b * g[:, 0]), dim=1)
    step = -step / det[:, None]
    step = torch.where(torch.isfinite(step), step, torch.zeros_like(step))
    return step, (g * step).sum(dim=1)


def _newton(
    objective: Objective, q0: torch.Tensor, bound: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Damped Newton with backtracking on every row; the rows and which of them settled."""
    import torch

    q = q0.detach().clone()
    settled = torch.zeros(len(q), dtype=torch.bool, device=q.device)
    active = torch.ones_like(settled)
    for _ in range(_NEWTON_ITERATIONS):
        rows = torch.nonzero(active).squeeze(1)
        if len(rows) == 0:
            break
        qa = q[rows]
        f, g, hessian = _derivatives(objective, qa)
        step, slope = _damped_step(g, hessian)
        done = step.norm(dim=1) <= _SETTLED_STEP * (1 + qa.norm(dim=1))
        lost = ~_healthy(qa, f, bound)
        t = _line_search(objective, qa, f, step, slope)
        moved = t > 0
        q[rows] = torch.where(moved[:, None], qa + t[:, None] * step, qa)
        settled[rows] = done & ~lost
        # A row stops when it settled, left the finite world, or cannot decrease f any more.
        active[rows] = ~(done | lost | ~moved)
    return q, settled


def _line_search(
    objective: Objective, q: torch.Tensor, f: torch.Tensor, step: torch.Tensor, slope: torch.Tensor
) -> torch.Tensor:
    """Step fractions (1, 1/2, 1/4, ...) that decrease f enough (Armijo); 0 where none does."""
    import torch

    # Rounding slack: near a minimum f cannot resolve the last Newton steps, which are right.
    slack = 1e-13 * (1 + f.abs())
    t = torch.ones_like(f)
    accepted = torch.zeros_like(f, dtype=torch.bool)
    with torch.no_grad():
        for _ in range(_HALVINGS):
            trial = q + t[:, None] * step
            ft = objective(trial[:, 0], trial[:, 1])
            accepted = accepted | (ft <= f + 1e-4 * t * slope + slack)
            if bool(accepted.all()):
                break
            t = torch.where(accepted, t, 0.5 * t)
    return torch.where(accepted, t, torch.zeros_like(t))


def _continue_descent(
    objective: Objective, q0: torch.Tensor, settings: RunSettings
) -> torch.Tensor:
    """More steps of the run's own optimiser with a shrinking learning rate."""
    import torch

    p = q0.detach().clone().requires_grad_(True)
    optimizer = make_optimizer(settings.optimizer, [p], settings.lr, settings.param_dict)
    with torch.enable_grad():
        for _ in range(_FALLBACK_STEPS):
            optimizer.zero_grad()
            _backward(objective, p)
            optimizer.step()
            for group in optimizer.param_groups:
                group["lr"] *= _FALLBACK_DECAY
    return p.detach()


def _no_worse(objective: Objective, new: torch.Tensor, old: torch.Tensor) -> torch.Tensor:
    import torch

    with torch.no_grad():
        f_new = objective(new[:, 0], new[:, 1])
        f_old = objective(old[:, 0], old[:, 1])
    return torch.isfinite(f_new) & (~torch.isfinite(f_old) | (f_new <= f_old))


def _ring_minimum(
    objective: Objective, q: torch.Tensor, f: torch.Tensor, span: float
) -> torch.Tensor:
    """Rows where f on rings of several small radii is nowhere below f at the centre."""
    import torch

    angles = torch.arange(_RING_DIRECTIONS, dtype=q.dtype, device=q.device)
    angles = angles * (2 * math.pi / _RING_DIRECTIONS)
    directions = torch.stack((angles.cos(), angles.sin()), dim=1)  # (D, 2)
    slack = 1e-12 * (1 + f.abs())
    ok = torch.ones(len(q), dtype=torch.bool, device=q.device)
    with torch.no_grad():
        for fraction in _RING_RADII:
            ring = q[:, None, :] + (fraction * span) * directions[None, :, :]  # (M, D, 2)
            fr = objective(ring[..., 0], ring[..., 1])
            ok &= (fr >= f[:, None] - slack[:, None]).all(dim=1)
    return ok


def _distinct(
    points: torch.Tensor, values: torch.Tensor, merge: float
) -> tuple[FloatArray, FloatArray]:
    """Merge refined points closer than `merge` into one (keeping the lowest f)."""
    p = points.detach().cpu().numpy()
    v = values.detach().cpu().numpy()
    kept: list[int] = []
    for i in np.argsort(v, kind="stable"):
        if not kept or np.min(np.hypot(*(p[kept] - p[i]).T)) > merge:
            kept.append(int(i))
    return p[kept].reshape(-1, 2), v[kept]


def _nearest(e: torch.Tensor, minima: torch.Tensor, radius: float) -> torch.Tensor:
    """Each end point's nearest minimum when it is within radius, else UNFINISHED."""
    import torch

    out = torch.empty(len(e), dtype=torch.int64, device=e.device)
    chunk = max(1, (1 << 22) // len(minima))
    for start in range(0, len(e), chunk):
        block = e[start : start + chunk]
        distance, index = torch.cdist(block, minima).min(dim=1)
        out[start : start + chunk] = torch.where(distance <= radius, index, UNFINISHED)
    return out


# --- the result --------------------------------------------------------------------------------


def _result(
    xs: FloatArray,
    ys: FloatArray,
    flat_labels: NDArray[np.int64],
    ends: FloatArray,
    points: FloatArray,
    values: FloatArray,
    domain: Domain,
    settings: RunSettings,
    steps_run: int,
    device: str,
    known: Sequence[Minimum] | None,
    span: float,
) -> BasinMap:
    """Counts and shares; minima that no start reached are dropped."""
    total = len(flat_labels)
    counts = np.bincount(flat_labels[flat_labels >= 0], minlength=len(points))
    lowest = float(values[counts > 0].min()) if counts.any() else math.inf
    tolerance = _GLOBAL_F * (1 + abs(lowest))
    is_global = values <= lowest + tolerance
    order = sorted(
        (i for i in range(len(points)) if counts[i] > 0),
        key=lambda i: (
            not is_global[i],
            0.0 if is_global[i] else float(values[i]),
            float(points[i, 0]),
            float(points[i, 1]),
        ),
    )
    remap = np.full(len(points), UNFINISHED, dtype=np.int64)
    remap[order] = np.arange(len(order))
    labels = flat_labels
    if len(points):
        labels = np.where(flat_labels >= 0, remap[np.maximum(flat_labels, 0)], flat_labels)
    minima = tuple(
        BasinMinimum(
            x=float(points[i, 0]),
            y=float(points[i, 1]),
            f=float(values[i]),
            count=int(counts[i]),
            share=int(counts[i]) / total,
            is_global=bool(is_global[i]),
        )
        for i in order
    )
    global_count = sum(m.count for m in minima if m.is_global)
    matches = None
    if known:
        matches = any(
            math.hypot(m.x - k.x, m.y - k.y) <= _KNOWN_MATCH * max(1.0, span)
            for m in minima
            if m.is_global
            for k in known
        )
    n = len(xs)
    labels = labels.reshape(n, n)
    ends = ends.reshape(n, n, 2)
    for array in (xs, ys, labels, ends):
        array.setflags(write=False)
    return BasinMap(
        xs=xs,
        ys=ys,
        labels=labels,
        ends=ends,
        minima=minima,
        global_share=global_count / total,
        diverged_share=int(np.count_nonzero(labels == DIVERGED)) / total,
        unfinished_share=int(np.count_nonzero(labels == UNFINISHED)) / total,
        matches_known=matches,
        domain=domain,
        settings=settings,
        steps_run=steps_run,
        device=device,
    )


# --- the picture ---------------------------------------------------------------------------------

# Distinct colours for the first minima (matplotlib's tab10 without its grey), then generated
# hues; diverged and unfinished starts get colours no minimum uses.
_FIRST_COLOURS: Final = (
    (31, 119, 180),
    (255, 127, 14),
    (44, 160, 44),
    (214, 39, 40),
    (148, 103, 189),
    (140, 86, 75),
    (227, 119, 194),
    (188, 189, 34),
    (23, 190, 207),
)
DIVERGED_RGB: Final = (0, 0, 0)
UNFINISHED_RGB: Final = (200, 200, 200)
MARKER_RGB: Final = (255, 255, 255)


def minimum_colour(index: int) -> tuple[int, int, int]:
    """The colour of minimum `index` in basin maps (the same in the window and in PNG files)."""
    if index < len(_FIRST_COLOURS):
        return _FIRST_COLOURS[index]
    hue = (index * 0.618033988749895) % 1.0
    r, g, b = colorsys.hsv_to_rgb(hue, 0.75, 0.85)
    return round(255 * r), round(255 * g), round(255 * b)


def label_colour(label: int) -> tuple[int, int, int]:
    """The colour of a label: a minimum's, DIVERGED_RGB or UNFINISHED_RGB."""
    if label == DIVERGED:
        return DIVERGED_RGB
    if label == UNFINISHED:
        return UNFINISHED_RGB
    return minimum_colour(label)


def basin_image(result: BasinMap, scale: int | None = None) -> NDArray[np.uint8]:
    """The map as RGB pixels (rows top to bottom = y high to low), each start a scale x scale
    block in its label's colour, each minimum inside the domain marked by a white cross."""
    n = result.n
    scale = max(1, 512 // n) if scale is None else max(1, int(scale))
    palette = np.array(
        [DIVERGED_RGB, UNFINISHED_RGB] + [minimum_colour(i) for i in range(len(result.minima))],
        dtype=np.uint8,
    ).reshape(-1, 3)
    # Label -2 -> row 1, -1 -> row 0, minimum i -> row i + 2.
    index = np.where(result.labels == UNFINISHED, 1, result.labels + 1)
    index = np.where(result.labels >= 0, result.labels + 2, index)
    cells = palette[index.T[::-1]]  # [iy, ix] with iy from the top
    image = np.repeat(np.repeat(cells, scale, axis=0), scale, axis=1)
    xmin, xmax, ymin, ymax = result.domain
    dx, dy = (xmax - xmin) / (n - 1), (ymax - ymin) / (n - 1)
    arm = max(3, len(image) // 64)
    for m in result.minima:
        if xmin <= m.x <= xmax and ymin <= m.y <= ymax:
            col = int(((m.x - xmin) / dx + 0.5) * scale)
            row = int(((ymax - m.y) / dy + 0.5) * scale)
            _cross(image, row, col, arm)
    return np.ascontiguousarray(image)


def _cross(image: NDArray[np.uint8], row: int, col: int, arm: int) -> None:
    """A white cross with a black outline, clipped to the image."""
    height, width = image.shape[:2]

    def paint(r0: int, r1: int, c0: int, c1: int, colour: tuple[int, int, int]) -> None:
        image[max(0, r0) : min(height, r1), max(0, c0) : min(width, c1)] = colour

    for pad, colour in ((2, (0, 0, 0)), (1, MARKER_RGB)):
        half = pad - 1
        paint(row - arm - half, row + arm + 1 + half, col - half - 1, col + half + 2, colour)
        paint(row - half - 1, row + half + 2, col - arm - half, col + arm + 1 + half, colour)
