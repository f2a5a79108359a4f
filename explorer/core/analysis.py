"""What the gradient says at a point: curvature, slopes in every direction, the -grad field,
and how well the first-order prediction of each step matched what happened."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray

from explorer.core.gradient import Target, autograd_gradient, objective_of
from explorer.core.landscape import Domain, Objective, validate_domain

if TYPE_CHECKING:
    from explorer.core.trajectory import Trajectory

FloatArray = NDArray[np.float64]
Matrix2 = tuple[tuple[float, float], tuple[float, float]]

# Below this share of the largest |eigenvalue|, the smallest one is rounding noise: the
# Hessian is singular and the condition number is infinite.
_SINGULAR_RTOL = 4 * np.finfo(np.float64).eps

# Arrows of the -grad field are at most this share of the grid spacing long.
_FIELD_FILL = 0.85


@dataclass(frozen=True)
class HessianReport:
    """The Hessian at (x, y) and what it says about the step size of plain gradient descent.

    hessian: the 2 x 2 matrix ((f_xx, f_xy), (f_yx, f_yy)) from torch autograd, in float64.
    eigenvalues: ascending (NaN, NaN when f or the Hessian is not finite there; the matrix is
        then NaN too).
    condition_number: |lambda| max / |lambda| min; inf when the Hessian is singular (the
        smaller |lambda| is zero, up to rounding), NaN when the Hessian is not finite.
    lr_max: 2 / lambda_max, the largest learning rate at which plain gradient descent on the
        local quadratic model does not diverge; None when lambda_max <= 0 (no direction curves
        upwards, so curvature sets no limit) or when the Hessian is not finite.
    """

    x: float
    y: float
    hessian: Matrix2
    eigenvalues: tuple[float, float]
    condition_number: float
    lr_max: float | None

    @property
    def finite(self) -> bool:
        """True when every entry of the Hessian is a finite number."""
        return all(math.isfinite(v) for row in self.hessian for v in row)


def hessian_report(target: Target, x: float, y: float) -> HessianReport:
    """The Hessian at (x, y) by autograd, its eigenvalues, condition number and 2 / lambda_max."""
    import torch

    objective = objective_of(target)

    def f(point: torch.Tensor) -> torch.Tensor:
        return objective(point[0], point[1])

    point = torch.tensor([float(x), float(y)], dtype=torch.float64)
    with torch.no_grad():
        value = float(f(point))
    if not math.isfinite(value):
        # Where f itself is undefined (log(x) at x < 0), so are its derivatives, even where
        # the derivative's formula (1/x) would give a number.
        nan = (math.nan, math.nan)
        return _report_from_matrix(float(x), float(y), (nan, nan))
    # strict=False: a function linear (or constant) in x or y has an all-zero block, not an error.
    h = torch.autograd.functional.hessian(  # type: ignore[no-untyped-call]  # torch: untyped
        f, point
    )
    h = h.detach().numpy().astype(np.float64)
    hessian: Matrix2 = (
        (float(h[0, 0]), float(h[0, 1])),
        (float(h[1, 0]), float(h[1, 1])),
    )
    return _report_from_matrix(float(x), float(y), hessian)


def _report_from_matrix(x: float, y: float, hessian: Matrix2) -> HessianReport:
    """Eigenvalues, condition number and lr_max of a 2 x 2 Hessian."""
    matrix = np.array(hessian, dtype=np.float64)
    if not np.isfinite(matrix).all():
        return HessianReport(x, y, hessian, (math.nan, math.nan), math.nan, None)
    # Symmetrised: autograd's f_xy and f_yx can differ in the last bit.
    low, high = (float(v) for v in np.linalg.eigvalsh((matrix + matrix.T) / 2.0))
    smallest, largest = sorted((abs(low), abs(high)))
    condition = math.inf if smallest <= _SINGULAR_RTOL * largest else largest / smallest
    lr_max = 2.0 / high if high > 0.0 else None
    return HessianReport(x, y, hessian, (low, high), condition, lr_max)


@dataclass(frozen=True, eq=False)
class DirectionalSlopes:
    """The slope of f at a point along unit directions u = (cos a, sin a): D_u f = grad f . u.

    Where f is not finite, the gradient and every slope are NaN.

    steepest_descent_angle is the angle of -grad f (radians, in (-pi, pi]), where the slope is
    lowest, equal to -|grad f|; None when the gradient is zero or not finite (no such direction).
    """

    x: float
    y: float
    gradient: tuple[float, float]
    angles: FloatArray
    slopes: FloatArray
    steepest_descent_angle: float | None

    @property
    def min_slope(self) -> float:
        """The lowest slope over all directions: -|grad f| (NaN when undefined)."""
        return -math.hypot(*self.gradient)


def directional_slopes(gradient: tuple[float, float], angles: ArrayLike) -> FloatArray:
    """grad . (cos a, sin a) for each angle a (radians)."""
    a = np.asarray(angles, dtype=np.float64)
    return np.asarray(gradient[0] * np.cos(a) + gradient[1] * np.sin(a), dtype=np.float64)


def steepest_descent_angle(gradient: tuple[float, float]) -> float | None:
    """The angle of -grad f (radians), or None when the gradient is zero or not finite."""
    gx, gy = gradient
    if not (math.isfinite(gx) and math.isfinite(gy)) or (gx == 0.0 and gy == 0.0):
        return None
    return math.atan2(-gy, -gx)


def directional_derivatives(
    target: Target, x: float, y: float, angles: ArrayLike
) -> DirectionalSlopes:
    """The slope of f at (x, y) along each angle, from the autograd gradient."""
    f, gx, gy = autograd_gradient(target, float(x), float(y))
    if not math.isfinite(f):
        gx, gy = math.nan, math.nan  # f is undefined here, and so is every slope
    a = np.array(angles, dtype=np.float64).ravel()
    return DirectionalSlopes(
        x=float(x),
        y=float(y),
        gradient=(gx, gy),
        angles=a,
        slopes=directional_slopes((gx, gy), a),
        steepest_descent_angle=steepest_descent_angle((gx, gy)),
    )


@dataclass(frozen=True, eq=False)
class GradientField:
    """-grad f at grid points, with arrow vectors (u, v) scaled for display.

    x, y: the base points (only those where f and grad f are finite).
    u, v: the arrow of each point, along -grad f. Its length is
        length * log(1 + |g| / g_ref) / log(1 + g_max / g_ref), with g_ref the median |grad f|
        and g_max the largest: the log keeps huge gradients (Rosenbrock's walls) from hiding
        the rest while steeper still means longer, and the longest arrow is `length` (a share
        of the grid spacing), so arrows never overlap. A zero gradient gives a zero arrow.
    magnitude: the true |grad f| at each point.
    """

    x: FloatArray
    y: FloatArray
    u: FloatArray
    v: FloatArray
    magnitude: FloatArray
    length: float

    def __len__(self) -> int:
        return len(self.x)


def gradient_field(
    target: Target, domain: Domain, m: int = 21, *, chunk: int | None = None
) -> GradientField:
    """-grad f on an m x m grid over the domain: a batched forward and backward pass per chunk.

    chunk: points per pass (all at once by default); a model on many rows needs fewer, since
    its loss holds points x rows values while autograd runs.
    """
    import torch

    if m < 2:
        raise ValueError("the field needs at least 2 x 2 points")
    if chunk is not None and chunk < 1:
        raise ValueError(f"the field needs at least one point per pass, got {chunk}")
    xmin, xmax, ymin, ymax = validate_domain(domain)
    xs = torch.linspace(xmin, xmax, m, dtype=torch.float64)
    ys = torch.linspace(ymin, ymax, m, dtype=torch.float64)
    gx_grid, gy_grid = torch.meshgrid(xs, ys, indexing="ij")
    x = gx_grid.reshape(-1).numpy().astype(np.float64)
    y = gy_grid.reshape(-1).numpy().astype(np.float64)
    objective = objective_of(target)
    step = m * m if chunk is None else chunk
    parts = [
        _field_part(objective, x[i : i + step], y[i : i + step]) for i in range(0, m * m, step)
    ]
    f, gx, gy = (np.concatenate([part[k] for part in parts]) for k in range(3))
    keep = np.isfinite(f) & np.isfinite(gx) & np.isfinite(gy)
    x, y, gx, gy = x[keep], y[keep], gx[keep], gy[keep]
    magnitude = np.hypot(gx, gy)
    spacing = min((xmax - xmin) / (m - 1), (ymax - ymin) / (m - 1))
    length = _FIELD_FILL * spacing
    scale = _display_lengths(magnitude, length)
    with np.errstate(invalid="ignore", divide="ignore"):
        unit = np.where(magnitude > 0.0, 1.0 / magnitude, 0.0)
    return GradientField(
        x=x, y=y, u=-gx * unit * scale, v=-gy * unit * scale, magnitude=magnitude, length=length
    )


def _field_part(
    objective: Objective, x: FloatArray, y: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """f and its gradient at points (x, y): one forward and one backward pass."""
    import torch

    px = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    py = torch.tensor(y, dtype=torch.float64, requires_grad=True)
    value = torch.broadcast_to(objective(px, py), px.shape)
    n = len(x)
    if value.requires_grad:
        # Each point's f depends on that point alone, so the gradient of the sum is every
        # point's gradient at once; a NaN at one point stays at that point.
        grads = torch.autograd.grad(value.sum(), (px, py), allow_unused=True)
        gx = np.zeros(n) if grads[0] is None else grads[0].numpy().astype(np.float64)
        gy = np.zeros(n) if grads[1] is None else grads[1].numpy().astype(np.float64)
    else:
        gx, gy = np.zeros(n), np.zeros(n)
    return value.detach().numpy().astype(np.float64), gx, gy


def _display_lengths(magnitude: FloatArray, length: float) -> FloatArray:
    """Arrow lengths: log-compressed |grad f|, the largest equal to length."""
    positive = magnitude[magnitude > 0.0]
    if positive.size == 0:
        return np.zeros_like(magnitude)
    reference = float(np.median(positive))
    # Plain floats overflow only past 1e308; log1p of the ratio stays small.
    top = math.log1p(float(positive.max()) / reference)
    return np.asarray(length * np.log1p(magnitude / reference) / top, dtype=np.float64)


@dataclass(frozen=True, eq=False)
class StepDecrease:
    """For each step k = 1..n of a trajectory: the decrease of f predicted from the gradient
    and the decrease that happened (NaN or inf where the path diverged)."""

    steps: NDArray[np.int64]
    predicted: FloatArray
    actual: FloatArray


def step_decrease(trajectory: Trajectory, *, ascent: bool = False) -> StepDecrease:
    """Predicted decrease lr * |grad f_k|^2 against the actual f_k - f_{k+1}, step by step.

    The prediction is first-order (f along the step is taken as linear) for plain SGD, whose
    step is -lr * grad f; for any other optimiser it is still the plain-SGD prediction, which
    shows how far momentum or adaptive steps depart from it. With ascent the step climbs, so
    the predicted "decrease" is -lr * |grad f|^2 (an increase) and so is the actual one.
    """
    f = np.asarray(trajectory.f, dtype=np.float64)
    gx = np.asarray(trajectory.grad_x, dtype=np.float64)
    gy = np.asarray(trajectory.grad_y, dtype=np.float64)
    n = max(len(f) - 1, 0)
    with np.errstate(all="ignore"):
        predicted = trajectory.lr * (gx[:n] ** 2 + gy[:n] ** 2)
        actual = f[:n] - f[1 : n + 1]
    if ascent:
        predicted = -predicted
    return StepDecrease(
        steps=np.arange(1, n + 1, dtype=np.int64),
        predicted=np.asarray(predicted, dtype=np.float64),
        actual=np.asarray(actual, dtype=np.float64),
    )
