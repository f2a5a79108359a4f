"""A 2-D slice of a network's loss around its final parameters, and the path projected on it.

Directions (flat vectors over parameters() in order):
- filter: two random Gaussian directions, each row of every weight matrix scaled to the norm of
  the same row of the final weights, bias (1-D) directions zero (Li et al. 2018).
- pca: the first two principal directions (unit vectors) of the path minus the final parameters.
- fixed: two random Gaussian directions from the seed alone, each scaled to the norm of the
  starting parameters, so every optimiser from the same start gets the same plane.
The slice is loss(theta_c + a*d1 + b*d2) on an n x n grid of (a, b) around the final parameters
theta_c (losses[i, j] at a = alphas[i], b = betas[j]), evaluated many parameter vectors at once
with torch.func.vmap over functional_call. The path's rows are projected onto the plane by least
squares; the slice's loss at each projection is set beside the loss the path really had.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from explorer.core.budget import BudgetError, size_text
from explorer.core.network import NetProblem, loss_of
from explorer.core.trajectory import FloatArray

if TYPE_CHECKING:
    import torch

DIRECTIONS = ("filter", "pca", "fixed")
# The largest grid side (a 401 x 401 slice is 160,801 networks).
MAX_GRID = 401
# Memory for one batch of parameter vectors evaluated at once (their activations included).
CHUNK_BYTES = 256 << 20
# The path rows PCA looks at: at most this many, evenly spaced (the first and last included).
PCA_ROWS = 2048
# The grid's half-width for filter and fixed directions (Li et al.'s plots span -1 to 1); the
# pca grid spans the path's projection with this much room around it.
UNIT_SPAN = 1.0
PATH_MARGIN = 1.25


class SliceError(ValueError):
    """Slice settings that cannot run (unknown directions, a bad grid size)."""


@dataclass(frozen=True, eq=False)
class LossSlice:
    """The grid, its losses, the plane, and the path on it with both losses."""

    directions: str
    alphas: FloatArray  # (n,)
    betas: FloatArray  # (n,)
    losses: FloatArray  # (n, n): losses[i, j] at alphas[i], betas[j]
    center: FloatArray  # (parameters,)
    d1: FloatArray
    d2: FloatArray
    path_ab: FloatArray  # (rows, 2): each path row's least-squares coordinates on the plane
    path_loss: FloatArray  # (rows,): the loss the path really had
    path_slice_loss: FloatArray  # (rows,): the slice's loss at the projection

    @property
    def center_loss(self) -> float:
        """The slice at (0, 0): the final parameters' loss."""
        return float(self.losses[len(self.alphas) // 2, len(self.betas) // 2])

    @property
    def max_path_gap(self) -> float:
        """The largest |true loss - slice loss| along the path (NaN where either is NaN)."""
        gap = np.abs(self.path_loss - self.path_slice_loss)
        return float(np.max(gap)) if len(gap) else 0.0


def filter_directions(problem: NetProblem, weights: torch.Tensor, seed: int) -> torch.Tensor:
    """(2, parameters): Li et al.'s filter-normalised random directions for these weights."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    out = torch.zeros(2, weights.numel(), dtype=torch.float64)
    for k in range(2):
        pieces = []
        offset = 0
        for p in problem.net.parameters():
            w = weights[offset : offset + p.numel()].reshape(p.shape)
            offset += p.numel()
            d = torch.randn(p.shape, generator=generator, dtype=torch.float64)
            if p.dim() <= 1:
                pieces.append(torch.zeros(p.numel(), dtype=torch.float64))
                continue
            rows_w = torch.linalg.vector_norm(w.reshape(w.shape[0], -1), dim=1, keepdim=True)
            rows_d = torch.linalg.vector_norm(d.reshape(d.shape[0], -1), dim=1, keepdim=True)
            scaled = d.reshape(d.shape[0], -1) * rows_w / rows_d.clamp_min(1e-300)
            pieces.append(scaled.reshape(-1))
        out[k] = torch.cat(pieces)
    return out


def fixed_directions(size: int, scale: float, seed: int) -> torch.Tensor:
    """(2, size): two Gaussian directions from the seed, each of norm scale."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    d = torch.randn(2, size, generator=generator, dtype=torch.float64)
    norms: torch.Tensor = torch.linalg.vector_norm(d, dim=1, keepdim=True)
    return d * (scale / norms)


def pca_directions(path: FloatArray, center: FloatArray) -> torch.Tensor:
    """(2, parameters): the path's first two principal directions about center (unit vectors).

    A direction the path never takes (a straight path has one) is a unit vector orthogonal to
    the first, so the plane always exists.
    """
    import torch

    rows = np.unique(np.linspace(0, len(path) - 1, min(len(path), PCA_ROWS)).astype(np.int64))
    m = torch.from_numpy(path[rows] - center)
    _, s, vh = torch.linalg.svd(m, full_matrices=False)
    size = path.shape[1]
    out = torch.zeros(2, size, dtype=torch.float64)
    basis = [vh[k] for k in range(min(2, len(s))) if float(s[k]) > 1e-12 * max(float(s[0]), 1e-300)]
    for k in range(2):
        if k < len(basis):
            out[k] = basis[k]
            continue
        # No such direction in the path: the first coordinate axis not yet in the span.
        for axis in range(size):
            e = torch.zeros(size, dtype=torch.float64)
            e[axis] = 1.0
            for j in range(k):
                e = e - torch.dot(e, out[j]) * out[j]
            if float(torch.linalg.vector_norm(e)) > 0.5:
                out[k] = e / torch.linalg.vector_norm(e)
                break
    return out


def check_slice(problem: NetProblem, directions: str, grid: int) -> None:
    """Raise SliceError or BudgetError unless the slice can be computed within the limits."""
    if directions not in DIRECTIONS:
        raise SliceError(f"directions must be one of {', '.join(DIRECTIONS)}")
    if (
        isinstance(grid, bool)
        or not isinstance(grid, int)
        or not 3 <= grid <= MAX_GRID
        or grid % 2 == 0
    ):
        raise SliceError(
            f"the grid must be an odd whole number from 3 to {MAX_GRID} (so that its middle "
            f"point is the final parameters), not {str(grid)[:40]!r}"
        )
    need = max(vector_bytes(problem), CHUNK_BYTES)
    have = available_memory()
    if have is not None and need > have:
        raise BudgetError(
            f"the {grid} x {grid} slice of a {problem.spec.parameter_count}-parameter network "
            f"on {problem.rows} rows needs {size_text(need)} of memory (one grid point needs "
            f"{size_text(vector_bytes(problem))}); the machine has {size_text(have)} available"
        )


def vector_bytes(problem: NetProblem) -> int:
    """Memory one parameter vector's loss takes inside a batched evaluation (about)."""
    widths = problem.spec.widths
    # The vector and its views, and each layer's pre-activation and activation over the rows.
    return 8 * (2 * problem.spec.parameter_count + 2 * problem.rows * sum(widths[1:]))


def available_memory() -> int | None:
    """The memory the machine has available now (Linux's MemAvailable), or None if unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as file:
            for line in file:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (OSError, ValueError, AttributeError):
        return None


def batched_loss(problem: NetProblem) -> Callable[[torch.Tensor], torch.Tensor]:
    """(m, parameters) -> (m,): the full-data loss at each flat parameter vector, batched by
    torch.func.vmap over functional_call; differentiable."""
    import torch
    from torch.func import functional_call, vmap

    net = problem.net
    names = [name for name, _ in net.named_parameters()]
    shapes = [p.shape for p in net.parameters()]
    sizes = [p.numel() for p in net.parameters()]
    x, y, loss = problem.x, problem.y, problem.spec.loss

    def one(flat: torch.Tensor) -> torch.Tensor:
        pieces = torch.split(flat, sizes)
        params = {n: piece.reshape(s) for n, piece, s in zip(names, pieces, shapes, strict=True)}
        output: torch.Tensor = functional_call(net, params, (x,))
        return loss_of(loss, output.squeeze(-1), y)

    batched: Callable[[torch.Tensor], torch.Tensor] = vmap(one)
    return batched


def batched_losses(
    problem: NetProblem, center: torch.Tensor, coefficients: torch.Tensor, d: torch.Tensor
) -> torch.Tensor:
    """(m,) full-data losses at center + coefficients @ d (m rows), a batch of them at a time."""
    import torch

    batched = batched_loss(problem)
    chunk = max(1, CHUNK_BYTES // vector_bytes(problem))
    out = torch.empty(len(coefficients), dtype=torch.float64)
    with torch.no_grad():
        for start in range(0, len(coefficients), chunk):
            thetas = center + coefficients[start : start + chunk] @ d
            out[start : start + chunk] = batched(thetas)
    return out


def loss_slice(
    problem: NetProblem,
    path: FloatArray,
    path_loss: FloatArray,
    *,
    directions: str = "filter",
    grid: int = 41,
    seed: int = 0,
) -> LossSlice:
    """The slice around the path's last row, and the path projected onto it."""
    import torch

    check_slice(problem, directions, grid)
    center = path[-1]
    theta = torch.from_numpy(np.ascontiguousarray(center))
    if directions == "filter":
        d = filter_directions(problem, theta, seed)
    elif directions == "fixed":
        d = fixed_directions(len(center), float(np.linalg.norm(path[0])) or 1.0, seed)
    else:
        d = pca_directions(path, center)
    ab = project(path, center, d.numpy())
    if directions == "pca":
        reach = float(np.max(np.abs(ab))) if len(ab) else 0.0
        span = PATH_MARGIN * reach if reach > 0 else UNIT_SPAN
    else:
        span = UNIT_SPAN
    axis = np.linspace(-span, span, grid)
    axis[grid // 2] = 0.0  # the middle of an odd count, exactly: the final parameters
    a, b = np.meshgrid(axis, axis, indexing="ij")
    coefficients = torch.from_numpy(np.column_stack((a.ravel(), b.ravel())))
    losses = batched_losses(problem, theta, coefficients, d).numpy().reshape(grid, grid)
    slice_loss = batched_losses(problem, theta, torch.from_numpy(ab), d).numpy()
    dn = d.numpy()
    return LossSlice(directions, axis.copy(), axis.copy(), losses, center.copy(), dn[0].copy(),
                     dn[1].copy(), ab, np.asarray(path_loss, dtype=np.float64).copy(), slice_loss)


def run_slice(
    problem: NetProblem,
    path: FloatArray,
    path_loss: FloatArray,
    *,
    directions: str = "filter",
    grid: int = 41,
    seed: int = 0,
) -> LossSlice:
    """The slice around a run's last row where the parameters and the loss are finite (its last
    row, unless it diverged); SliceError when even the start is not finite."""
    finite = np.isfinite(path_loss) & np.isfinite(path).all(axis=1)
    if not len(finite) or not finite[0]:
        raise SliceError("the loss is not finite at the start: nothing to slice")
    rows = len(finite) if finite.all() else int(np.argmin(finite))
    return loss_slice(problem, path[:rows], path_loss[:rows], directions=directions,
                      grid=grid, seed=seed)


def project(path: FloatArray, center: FloatArray, d: FloatArray) -> FloatArray:
    """(rows, 2): least-squares (a, b) with center + a*d[0] + b*d[1] nearest each path row."""
    # The normal equations: (d d^T) c = d (row - center), for every row at once.
    gram = d @ d.T
    rhs = (path - center) @ d.T
    return np.asarray(np.linalg.solve(gram, rhs.T).T, dtype=np.float64)
