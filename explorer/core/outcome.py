"""The one outcome rule of every descent: diverged (non-finite first, then out of bounds),
converged (|gradient| <= tol), max steps; checked row by row of a Run as it is recorded."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from explorer.core.trajectory import FloatArray, Reason, Run, Status

if TYPE_CHECKING:
    import torch


def check_row(
    run: Run, k: int, columns: slice, scratch: torch.Tensor | None = None
) -> int:
    """Give a status to the running trajectories in columns that stop at row k; count them."""
    import torch

    if (columns.stop is not None and columns.stop - (columns.start or 0) == 1) or run.size == 1:
        return _check_one(run, k, columns.start or 0)
    row_xy, row_f, row_grad = run.row(k)
    xy, f, grad = row_xy[columns], row_f[columns], row_grad[columns]
    # Whole-row gates first: in a healthy batch they cost one read of the row, and only a gate
    # that fires pays for per-trajectory masks.
    finite, low, high, g_low = _row_gates(xy, f, grad, scratch)
    settings = run.settings
    out_of_bounds = not finite or max(-low, high) > settings.bound
    maybe_converged = not finite or g_low <= settings.tol
    if not (out_of_bounds or maybe_converged or k >= settings.steps):
        return 0
    status, reason = run.status[columns], run.reason[columns]
    last_row = run.last_row[columns]
    running = status == Status.RUNNING
    stopped = 0
    xy_t, f_t, grad_t = torch.from_numpy(xy), torch.from_numpy(f), torch.from_numpy(grad)
    if out_of_bounds:  # set whenever the row is not all finite, too
        masks = diverged_rows(xy_t, f_t, grad_t, settings.bound)
        non_finite, out = masks[0].numpy(), masks[1].numpy()
        stopped += _stop(
            k, running & non_finite, Status.DIVERGED, Reason.NON_FINITE, status, reason, last_row
        )
        running &= ~non_finite
        stopped += _stop(
            k, running & out, Status.DIVERGED, Reason.OUT_OF_BOUNDS, status, reason, last_row
        )
        running &= ~out
    # A converged row has both |gx| and |gy| <= tol: if no component is that small (the usual
    # case mid-descent), no row is converged and the norms are not needed.
    if maybe_converged:
        converged = running & converged_rows(grad_t, settings.tol).numpy()
        stopped += _stop(k, converged, Status.CONVERGED, Reason.NONE, status, reason, last_row)
        running &= ~converged
    if k >= settings.steps:
        stopped += _stop(k, running, Status.MAX_STEPS, Reason.NONE, status, reason, last_row)
    if stopped and run.window is not None:
        # The ring will overwrite row k: keep the rows of the trajectories that ended on it.
        ended = np.zeros(run.size, dtype=bool)
        ended[columns] = (last_row == k) & (status != Status.RUNNING)
        run.keep_final(k, ended)
    return stopped


def diverged_rows(
    xy: torch.Tensor, f: torch.Tensor, grad: torch.Tensor, bound: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Row by row, the two ways to diverge: (a non-finite x, y, f or gradient, |x| or |y| > bound).

    A row can be in both masks (NaN is never above the bound, infinity is): non-finite wins.
    """
    import torch

    non_finite = ~(
        torch.isfinite(f) & torch.isfinite(xy).all(dim=1) & torch.isfinite(grad).all(dim=1)
    )
    return non_finite, (xy.abs() > bound).any(dim=1)


def converged_rows(grad: torch.Tensor, tol: float) -> torch.Tensor:
    """Rows whose gradient norm is at most tol."""
    return (grad * grad).sum(dim=1) <= tol * tol


# Gradients are scanned in blocks this long (2 MB): |g| of a block stays in cache for its min.
GATE_BLOCK = 1 << 18


def _row_gates(
    xy: FloatArray, f: FloatArray, grad: FloatArray, scratch: torch.Tensor | None
) -> tuple[bool, float, float, float]:
    """One read of a row: (all finite?, min and max coordinate, smallest |gradient component|).

    NaN and infinity propagate through sum, min and max, so the same passes catch non-finite
    values (a sum that overflows only sends the row to the exact per-trajectory check).
    torch.aminmax finds both ends in one pass; |g| is formed a cache-sized block at a time
    so that it is never written out to memory in full.
    """
    import torch

    low_t, high_t = torch.aminmax(torch.from_numpy(xy))
    flat = torch.from_numpy(grad).reshape(-1)
    size = flat.numel()
    block = min(size, GATE_BLOCK)
    buffer = scratch if scratch is not None and scratch.numel() >= block else flat.new_empty(block)
    g_low, g_tops = math.inf, 0.0  # g_tops sums the blocks' largest |g|: it is finite or not
    for start in range(0, size, block):
        part = flat[start : start + block]
        lo_t, hi_t = torch.aminmax(torch.abs(part, out=buffer[: part.numel()]))
        g_low, g_tops = min(g_low, float(lo_t)), g_tops + float(hi_t)
    low, high = float(low_t), float(high_t)
    finite = math.isfinite(float(torch.from_numpy(f).sum()) + low + high + g_tops)
    return finite, low, high, g_low


def _check_one(run: Run, k: int, i: int) -> int:
    """check_row for a single trajectory: the same rule in plain floats (numpy calls cost more)."""
    if run.status[i] != Status.RUNNING:
        return 0
    row_xy, row_f, row_grad = run.row(k)
    x, y = row_xy[i].tolist()
    gx, gy = row_grad[i].tolist()
    values = (x, y, float(row_f[i]), gx, gy)
    bound = run.settings.bound
    if not all(map(math.isfinite, values)):
        status, reason = Status.DIVERGED, Reason.NON_FINITE
    elif abs(x) > bound or abs(y) > bound:
        status, reason = Status.DIVERGED, Reason.OUT_OF_BOUNDS
    elif gx * gx + gy * gy <= run.settings.tol * run.settings.tol:  # as converged_rows
        status, reason = Status.CONVERGED, Reason.NONE
    elif k >= run.settings.steps:
        status, reason = Status.MAX_STEPS, Reason.NONE
    else:
        return 0
    run.status[i], run.reason[i], run.last_row[i] = status, reason, k
    if run.window is not None:
        run.keep_final(k, slice(i, i + 1))
    return 1


def _stop(
    k: int,
    mask: NDArray[np.bool_],
    new_status: Status,
    new_reason: Reason,
    status: NDArray[np.int8],
    reason: NDArray[np.int8],
    last_row: NDArray[np.int64],
) -> int:
    count = int(np.count_nonzero(mask))
    if count:
        status[mask] = new_status
        reason[mask] = new_reason
        last_row[mask] = k
    return count
