"""Minima of a basin map: end points grouped, refined by Newton steps, and labelled.

The best end point of each small cell the end points fall in is refined by damped Newton steps
on exact autograd Hessians; a refined point is a minimum when its Hessian is positive definite
(or, for degenerate and non-smooth minima, when f rises in every direction around it); and each
start is assigned to the minimum its end point lies near.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Final

import numpy as np

from explorer.core.descent import Objective, evaluate_rows, step_loop
from explorer.core.optimizers import make_optimizer
from explorer.core.trajectory import FloatArray, RunSettings

if TYPE_CHECKING:
    import torch

# The labels of starts that reached no minimum. PLATEAU: the end point lies where f is flat
# (constant around it, or constant along a valley floor): no isolated minimum to name.
DIVERGED: Final = -1
UNFINISHED: Final = -2
PLATEAU: Final = -3

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
# Refined points closer than this (times the span) are one minimum.
_MERGE: Final = 1e-4
# End points tested for flatness at a time (each costs _RING_DIRECTIONS * 3 evaluations).
_RING_CHUNK: Final = 1 << 15


def group_ends(
    objective: Objective,
    ends: torch.Tensor,
    end_f: torch.Tensor,
    diverged: torch.Tensor,
    settings: RunSettings,
    span: float,
    radius: float,
    max_candidates: int,
) -> tuple[FloatArray, FloatArray, torch.Tensor]:
    """The distinct minima (points (K, 2), f (K,)) and every start's label (N,) on the device.

    A start whose end point is near no minimum is PLATEAU where f is flat around that end point
    (see _ring), else UNFINISHED.
    """
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
    else:
        labels[alive] = _nearest(e, torch.tensor(points, device=e.device), radius)
    rest = alive[labels[alive] == UNFINISHED]
    for start in range(0, len(rest), _RING_CHUNK):
        rows = rest[start : start + _RING_CHUNK]
        p = ends[rows]
        with torch.no_grad():
            f = objective(p[:, 0], p[:, 1])
        flat = _ring(objective, p, f, span)[1]
        labels[rows[flat]] = PLATEAU
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
    every direction on small rings around it (degenerate minima such as x**4 + y**4), unless
    f is flat there (_ring).
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
    is_min = torch.zeros_like(strict)
    rows = torch.nonzero(finite).squeeze(1)
    if len(rows):
        # Every row gets the ring test: autograd calls a kink positive definite
        # ((x + abs(x))**2 at x = 0, the edge of a plateau), and flat is never a minimum.
        lowest, flat = _ring(objective, q[rows], f[rows], span)
        is_min[rows] = (strict[rows] | lowest) & ~flat
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
        for k, _ in step_loop(optimizer, lambda: evaluate_rows(objective, p), _FALLBACK_STEPS):
            if k:  # the step to row k + 1 takes the learning rate shrunk k times
                for group in optimizer.param_groups:
                    group["lr"] *= _FALLBACK_DECAY
    return p.detach()


def _no_worse(objective: Objective, new: torch.Tensor, old: torch.Tensor) -> torch.Tensor:
    import torch

    with torch.no_grad():
        f_new = objective(new[:, 0], new[:, 1])
        f_old = objective(old[:, 0], old[:, 1])
    return torch.isfinite(f_new) & (~torch.isfinite(f_old) | (f_new <= f_old))


def _ring(
    objective: Objective, q: torch.Tensor, f: torch.Tensor, span: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Rows where f on rings of several small radii is nowhere below f at the centre, and of
    those the flat ones: on every ring, f also equals f at the centre in some direction.

    A flat row is no isolated minimum: a plateau (f constant around it, as for 1 + 0*x), the
    edge of one ((x + abs(x))**2 at x = 0) or a valley floor of minima (x**2 along x = 0). An
    isolated degenerate minimum (x**4 + y**4) rises in every direction on the largest ring.
    """
    import torch

    angles = torch.arange(_RING_DIRECTIONS, dtype=q.dtype, device=q.device)
    angles = angles * (2 * math.pi / _RING_DIRECTIONS)
    directions = torch.stack((angles.cos(), angles.sin()), dim=1)  # (D, 2)
    slack = 1e-12 * (1 + f.abs())
    ok = torch.ones(len(q), dtype=torch.bool, device=q.device)
    flat = torch.isfinite(f)
    with torch.no_grad():
        for fraction in _RING_RADII:
            ring = q[:, None, :] + (fraction * span) * directions[None, :, :]  # (M, D, 2)
            fr = objective(ring[..., 0], ring[..., 1])
            ok &= (fr >= f[:, None] - slack[:, None]).all(dim=1)
            flat &= (fr <= f[:, None] + slack[:, None]).any(dim=1)
    return ok, ok & flat


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


def _healthy(p: torch.Tensor, f: torch.Tensor, bound: float) -> torch.Tensor:
    """Rows with finite f and |x|, |y| <= bound (NaN fails the comparison)."""
    import torch

    return (p.abs() <= bound).all(dim=1) & torch.isfinite(f)
