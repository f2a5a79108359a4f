"""scipy.optimize.minimize's methods on f(x, y), with derivatives from torch autograd."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from explorer.core.optimizers import OptimizerError
from explorer.core.scipy_record import ScipyRecord
from explorer.core.trajectory import FloatArray, Reason, Status, Trajectory

if TYPE_CHECKING:
    import torch

Objective = Callable[["torch.Tensor", "torch.Tensor"], "torch.Tensor"]
Option = float | int | bool


@dataclass(frozen=True)
class OptionSpec:
    """One documented scipy option that --param may set: its type and allowed range."""

    kind: type[float] | type[int] | type[bool]
    low: float = 0.0
    high: float = math.inf
    # Whether low itself is allowed (tolerances must be > 0, eta may be 0).
    low_inclusive: bool = False


_TOL = OptionSpec(float)
_COUNT = OptionSpec(int, 1, 10**9, low_inclusive=True)
# The gradient norm's order (scipy's default is inf, the max norm; --param takes finite ones).
_NORM = OptionSpec(float, 1.0, low_inclusive=True)


@dataclass(frozen=True)
class ScipyMethod:
    """A minimize method: scipy's name, which derivatives it takes, which options --param sets."""

    scipy_name: str
    jac: bool
    hess: bool
    options: Mapping[str, OptionSpec]


# Only options that change the numbers and take plain values; maxiter is --steps, and options
# for finite differences (eps) are left out: the derivatives are exact.
METHODS: dict[str, ScipyMethod] = {
    "cg": ScipyMethod("CG", True, False, {"gtol": _TOL, "norm": _NORM}),
    "bfgs": ScipyMethod(
        "BFGS",
        True,
        False,
        {"gtol": _TOL, "norm": _NORM, "xrtol": OptionSpec(float, 0, 1, low_inclusive=True)},
    ),
    "l-bfgs-b": ScipyMethod(
        "L-BFGS-B",
        True,
        False,
        {"ftol": _TOL, "gtol": _TOL, "maxcor": _COUNT, "maxfun": _COUNT, "maxls": _COUNT},
    ),
    "newton-cg": ScipyMethod("Newton-CG", True, True, {"xtol": _TOL}),
    "trust-ncg": ScipyMethod(
        "trust-ncg",
        True,
        True,
        {
            "initial_trust_radius": _TOL,
            "max_trust_radius": _TOL,
            "eta": OptionSpec(float, 0.0, 0.25, low_inclusive=True),
            "gtol": _TOL,
        },
    ),
    "nelder-mead": ScipyMethod(
        "Nelder-Mead",
        False,
        False,
        {"xatol": _TOL, "fatol": _TOL, "maxfev": _COUNT, "adaptive": OptionSpec(bool)},
    ),
    "powell": ScipyMethod("Powell", False, False, {"xtol": _TOL, "ftol": _TOL, "maxfev": _COUNT}),
}


# A key core.race.entry_settings adds to a method's options for an evaluation budget: ours, not
# scipy's; minimize stops the run at the first iterate that finds this many f evaluations made.
EVALUATION_LIMIT = "max_evaluations"


def is_scipy_method(name: str) -> bool:
    """Whether name is one of the scipy.optimize methods (not a torch optimiser)."""
    return name in METHODS


@dataclass(frozen=True)
class ScipyResult:
    """One minimize run: its path, scipy's counts and message, and steps = nit."""

    trajectory: Trajectory
    evaluations: dict[str, int]
    steps: int
    message: str

    @property
    def evaluated(self) -> FloatArray:
        """Every point where f was evaluated, in order: (nfev, 2)."""
        assert self.trajectory.scipy is not None  # minimize always records them
        return self.trajectory.scipy.points


def parse_options(name: str, items: Iterable[str]) -> dict[str, Option]:
    """KEY=VALUE texts into checked options for this method; bad ones raise OptimizerError."""
    specs = METHODS[name].options
    values: dict[str, Option] = {}
    for item in items:
        key, sep, text = item.partition("=")
        key, text = key.strip(), text.strip()
        if not sep or not key:
            raise OptimizerError(f"--param needs KEY=VALUE, not {item[:40]!r}")
        spec = specs.get(key)
        if spec is None:
            known = ", ".join(specs)
            raise OptimizerError(f"{name} has no option {key[:40]!r}; it takes: {known}")
        values[key] = _option_value(name, key, text, spec)
    return values


def _option_value(name: str, key: str, text: str, spec: OptionSpec) -> Option:
    """One option's text as its type, within its range."""
    shown = repr(text[:40])
    if spec.kind is bool:
        if text.lower() not in ("true", "false"):
            raise OptimizerError(f"{name} option {key} is true or false, not {shown}")
        return text.lower() == "true"
    try:
        value = int(text) if spec.kind is int else float(text)
    except ValueError:
        what = "a whole number" if spec.kind is int else "a number"
        raise OptimizerError(f"{name} option {key} must be {what}, not {shown}") from None
    low_ok = value >= spec.low if spec.low_inclusive else value > spec.low
    if not (math.isfinite(value) and low_ok and value <= spec.high):
        low = f"{'>=' if spec.low_inclusive else '>'} {spec.low:g}"
        high = "" if math.isinf(spec.high) else f" and <= {spec.high:g}"
        raise OptimizerError(f"{name} option {key} must be finite, {low}{high}; not {shown}")
    return value


class _Derivatives:
    """f, its gradient and Hessian at a point from torch autograd, in float64."""

    def __init__(self, objective: Objective) -> None:
        self._objective = objective
        # Calls by kind, for when scipy raises before it reports its own counts.
        self.calls = {"f": 0, "grad": 0, "hess": 0}
        self.non_finite = False
        # Every x f was asked for, in order (the evaluation dots).
        self.points: list[tuple[float, float]] = []

    def _seen(self, kind: str, value: float | FloatArray) -> None:
        self.calls[kind] += 1
        self.non_finite |= not bool(np.isfinite(value).all())

    def _point(self, p: FloatArray) -> tuple[torch.Tensor, torch.Tensor]:
        import torch

        xy = torch.tensor(np.asarray(p, dtype=np.float64), dtype=torch.float64)
        return xy[0].clone().requires_grad_(True), xy[1].clone().requires_grad_(True)

    def f(self, p: FloatArray) -> float:
        """f at p."""
        import torch

        with torch.no_grad():
            x, y = self._point(p)
            value = float(self._objective(x, y))
        point = np.asarray(p, dtype=np.float64).reshape(-1)
        self.points.append((float(point[0]), float(point[1])))
        self._seen("f", value)
        return value

    def grad(self, p: FloatArray) -> FloatArray:
        """(df/dx, df/dy) at p."""
        import torch

        x, y = self._point(p)
        gx, gy = torch.autograd.grad(self._objective(x, y), (x, y), allow_unused=True)
        grad = np.array([_item(gx), _item(gy)], dtype=np.float64)
        self._seen("grad", grad)
        return grad

    def hess(self, p: FloatArray) -> FloatArray:
        """The 2x2 Hessian at p (second derivatives by double backward)."""
        import torch

        x, y = self._point(p)
        g = torch.autograd.grad(self._objective(x, y), (x, y), create_graph=True, allow_unused=True)
        rows = []
        for gi in g:
            if gi is None or not gi.requires_grad:
                rows.append([0.0, 0.0])
                continue
            hx, hy = torch.autograd.grad(gi, (x, y), retain_graph=True, allow_unused=True)
            rows.append([_item(hx), _item(hy)])
        hess = np.array(rows, dtype=np.float64)
        self._seen("hess", hess)
        return hess


def _item(value: torch.Tensor | None) -> float:
    """A derivative as a float; torch gives None where f does not depend on that variable."""
    return 0.0 if value is None else float(value)


def minimize(
    objective: Objective,
    start: tuple[float, float],
    name: str,
    *,
    steps: int,
    tol: float,
    options: Mapping[str, Option] | None = None,
    function: str = "",
    whole_path: bool = True,
) -> ScipyResult:
    """One scipy.optimize.minimize run from start; the path is x0 then every callback iterate.

    whole_path=False keeps only the first and last of those rows (a basin map needs where each
    start ended, and f and the gradient recorded at every iterate cost as much as the run).
    """
    # scipy ships no stubs for optimize: what it returns is Any here.
    import scipy.optimize  # type: ignore[import-untyped]

    method = METHODS[name]
    derivatives = _Derivatives(objective)
    given = dict(options or {})
    limit = given.pop(EVALUATION_LIMIT, None)
    points: list[FloatArray] = [np.array(start, dtype=np.float64)]
    upto = [0]

    def callback(xk: FloatArray) -> None:
        points.append(np.array(xk, dtype=np.float64))
        if limit is not None and derivatives.calls["f"] >= limit:
            raise StopIteration  # scipy ends the run with this iterate (status 99)
        upto.append(len(derivatives.points))

    kwargs: dict[str, Any] = {}
    if method.jac:
        kwargs["jac"] = derivatives.grad
    if method.hess:
        kwargs["hess"] = derivatives.hess
    try:
        with np.errstate(all="ignore"):
            # Non-finite values are reported as diverged below, not as numpy warnings.
            result: Any = scipy.optimize.minimize(
                derivatives.f,
                points[0].copy(),
                method=method.scipy_name,
                tol=tol,
                options={"maxiter": steps, **given},
                callback=callback,
                **kwargs,
            )
    except (ValueError, RuntimeError) as error:
        # Some methods raise on NaN or infinity (trust-ncg's norm) or on a failed search
        # (Powell's bracket on an unbounded f); a ValueError on finite values is a bug: re-raise.
        if isinstance(error, ValueError) and not derivatives.non_finite:
            raise
        calls = derivatives.calls
        result = _Raised(
            nit=len(points) - 1,
            message=f"scipy raised: {error}",
            f=calls["f"],
            grad=calls["grad"],
            hess=calls["hess"],
            non_finite=derivatives.non_finite,
        )
    if limit is not None and getattr(result, "status", None) == 99:
        result.message = f"reached the evaluation limit of {limit}"  # _status: max_steps
    if not whole_path and len(points) > 2:
        points[1:-1], upto[1:-1] = [], []
    path = np.array(points)
    # Computed for the record only, after the run: scipy's counts stay its own.
    record = _Derivatives(objective)
    f = np.array([record.f(p) for p in path])
    grads = np.array([record.grad(p) for p in path]).reshape(-1, 2)
    nit = int(getattr(result, "nit", len(points) - 1))
    status, reason = _status(result, nit, steps, f, grads)
    if isinstance(result, _Raised):
        status, reason = (
            (Status.DIVERGED, Reason.NON_FINITE) if result.non_finite else (Status.STOPPED, reason)
        )
    evaluations = {
        key: int(getattr(result, attr, 0) or 0)
        for key, attr in (("f", "nfev"), ("grad", "njev"), ("hess", "nhev"))
    }
    evaluated = np.array(derivatives.points, dtype=np.float64).reshape(-1, 2)
    upto[-1] = len(evaluated)
    scipy_record = ScipyRecord(nit, str(result.message), evaluated, np.array(upto, dtype=np.int64))
    trajectory = Trajectory(
        x=path[:, 0].copy(),
        y=path[:, 1].copy(),
        f=f,
        grad_x=grads[:, 0].copy(),
        grad_y=grads[:, 1].copy(),
        optimizer=name,
        lr=0.0,
        status=status,
        reason=reason,
        function=function,
        params=";".join(f"{k}={v!r}" for k, v in sorted((options or {}).items())),
        evaluations=(evaluations["f"], evaluations["grad"], evaluations["hess"]),
        scipy=scipy_record,
    )
    return ScipyResult(trajectory, evaluations, nit, str(result.message))


@dataclass(frozen=True)
class _Raised:
    """What stands for scipy's result when it raised: our own counts and its error."""

    nit: int
    message: str
    f: int
    grad: int
    hess: int
    non_finite: bool
    fun: float = math.nan
    success: bool = False

    @property
    def nfev(self) -> int:
        """Objective calls."""
        return self.f

    @property
    def njev(self) -> int:
        """Gradient calls."""
        return self.grad

    @property
    def nhev(self) -> int:
        """Hessian calls."""
        return self.hess


def _status(
    result: Any, nit: int, steps: int, f: FloatArray, grads: FloatArray
) -> tuple[Status, Reason]:
    """scipy's outcome as ours: non-finite -> diverged, success -> converged, limit -> max_steps."""
    # Any: scipy's OptimizeResult, a dict with attribute access and no stubs for its fields.
    if not (np.isfinite(f).all() and np.isfinite(grads).all() and np.isfinite(result.fun)):
        return Status.DIVERGED, Reason.NON_FINITE
    if bool(result.success):
        return Status.CONVERGED, Reason.NONE
    message = str(result.message).lower()
    # Each method words its limits its own way (L-BFGS-B: "... REACHED LIMIT").
    if nit >= steps or "maximum number" in message or "limit" in message:
        return Status.MAX_STEPS, Reason.NONE
    # Another stop (e.g. BFGS's precision loss): scipy's message says why.
    return Status.STOPPED, Reason.NONE
