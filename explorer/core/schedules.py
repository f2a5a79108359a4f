"""Learning-rate schedules: `NAME[:key=value,...]` text over torch.optim.lr_scheduler (issue 16).

Each name maps to one torch scheduler class and takes that class's own keyword names:

    step             StepLR                       step_size, gamma
    multistep        MultiStepLR                  milestones, gamma
    exponential      ExponentialLR                gamma
    cosine           CosineAnnealingLR            T_max, eta_min
    cosine-restarts  CosineAnnealingWarmRestarts  T_0, T_mult, eta_min
    linear           LinearLR                     start_factor, end_factor, total_iters
    onecycle         OneCycleLR                   max_lr, total_steps, pct_start, anneal_strategy,
                                                  cycle_momentum, base_momentum, max_momentum,
                                                  div_factor, final_div_factor, three_phase

Where torch requires an argument this module supplies one from the run (see _DEFAULTS_TEXT):
step_size is a quarter of the run's steps, milestones are at a half and three quarters of
them, exponential's gamma is 0.99, cosine's T_max is the run's steps, cosine-restarts' T_0 a
quarter of them, onecycle's max_lr is each parameter group's learning rate and its total_steps
the run's steps (cycle_momentum is torch's True where the optimiser has a momentum or betas,
False where it has neither). Every other default is torch's. A multistep milestones list is
written with slashes, `milestones=30/60/90`, so that it survives the comma-separated list.

The canonical text (canonical()) is what settings, sessions and JSON keep: '' for a constant
learning rate, otherwise the name and the keys given, in the class's order, values written
one way. One scheduler.step() follows every optimizer.step() (core.descent.step_loop).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from numpy.typing import NDArray

from explorer.core.budget import MAX_STEPS
from explorer.core.optimizers import OptimizerError
from explorer.core.trajectory import number_text

if TYPE_CHECKING:
    import torch

ScheduleValue = float | int | bool | str | tuple[int, ...]
_Kind = Literal["int", "float", "bool", "choice", "ints"]

# Most milestones one multistep schedule takes (each is a separate step of the rate).
MAX_MILESTONES = 100
# The name that means no schedule (canonical text '').
CONSTANT = "constant"


class ScheduleError(OptimizerError):
    """A bad schedule name, key or value, as one line fit for the user.

    An OptimizerError: it is part of the optimiser's settings, and every place that reports a
    bad optimiser setting (the command line's exit 2, the window, session files) reports it.
    """


@dataclass(frozen=True)
class ScheduleParameter:
    """One keyword of a torch scheduler: its kind and the range it must lie in."""

    name: str
    kind: _Kind
    low: float = 0.0
    high: float = 0.0
    low_open: bool = False  # low itself refused (e.g. gamma > 0)
    high_open: bool = False
    choices: tuple[str, ...] = ()


def _int(name: str, low: int = 1, high: int = MAX_STEPS) -> ScheduleParameter:
    return ScheduleParameter(name, "int", low, high)


def _float(
    name: str, low: float, high: float, *, low_open: bool = False, high_open: bool = False
) -> ScheduleParameter:
    return ScheduleParameter(name, "float", low, high, low_open, high_open)


_GAMMA = _float("gamma", 0.0, 1.0, low_open=True)
_ETA_MIN = _float("eta_min", 0.0, 10.0)
_MOMENTUM = (0.0, 1.0)


@dataclass(frozen=True)
class ScheduleSpec:
    """A schedule name: its torch class and the keywords it accepts, in the class's order."""

    name: str
    torch_class: str
    parameters: tuple[ScheduleParameter, ...]
    label: str

    def parameter(self, key: str) -> ScheduleParameter:
        """The keyword called key, or a ScheduleError listing the accepted ones."""
        for parameter in self.parameters:
            if parameter.name == key:
                return parameter
        accepted = ", ".join(p.name for p in self.parameters)
        raise ScheduleError(f"{self.name} has no key {_show(key)}: it takes {accepted}")


SCHEDULES: dict[str, ScheduleSpec] = {
    spec.name: spec
    for spec in (
        ScheduleSpec("step", "StepLR", (_int("step_size"), _GAMMA), "Step"),
        ScheduleSpec(
            "multistep",
            "MultiStepLR",
            (ScheduleParameter("milestones", "ints", 1, MAX_STEPS), _GAMMA),
            "Multi-step",
        ),
        ScheduleSpec("exponential", "ExponentialLR", (_GAMMA,), "Exponential"),
        ScheduleSpec("cosine", "CosineAnnealingLR", (_int("T_max"), _ETA_MIN), "Cosine"),
        ScheduleSpec(
            "cosine-restarts",
            "CosineAnnealingWarmRestarts",
            (_int("T_0"), _int("T_mult", 1, 1000), _ETA_MIN),
            "Cosine with restarts",
        ),
        ScheduleSpec(
            "linear",
            "LinearLR",
            (
                _float("start_factor", 0.0, 1.0, low_open=True),
                _float("end_factor", 0.0, 1.0),
                _int("total_iters"),
            ),
            "Linear",
        ),
        ScheduleSpec(
            "onecycle",
            "OneCycleLR",
            (
                _float("max_lr", 0.0, 1e6, low_open=True),
                _int("total_steps"),
                _float("pct_start", 0.0, 1.0, low_open=True, high_open=True),
                ScheduleParameter("anneal_strategy", "choice", choices=("cos", "linear")),
                ScheduleParameter("cycle_momentum", "bool"),
                _float("base_momentum", *_MOMENTUM, high_open=True),
                _float("max_momentum", *_MOMENTUM, high_open=True),
                _float("div_factor", 1.0, 1e6),
                _float("final_div_factor", 1.0, 1e9),
                ScheduleParameter("three_phase", "bool"),
            ),
            "One cycle",
        ),
    )
}

# What the module docstring says about the defaults, for --help and the window's tooltip.
DEFAULTS_TEXT = (
    "defaults: step_size = steps/4, milestones = steps/2/3*steps/4, exponential gamma = 0.99, "
    "T_max = steps, T_0 = steps/4, onecycle max_lr = lr and total_steps = steps"
)


@dataclass(frozen=True)
class Schedule:
    """A parsed schedule: the name and the keys given (in the class's order)."""

    name: str
    values: tuple[tuple[str, ScheduleValue], ...] = ()

    @property
    def spec(self) -> ScheduleSpec:
        """The name's registry entry."""
        return SCHEDULES[self.name]

    def text(self) -> str:
        """The canonical text: 'name' or 'name:key=value,...'."""
        if not self.values:
            return self.name
        return self.name + ":" + ",".join(f"{k}={_value_text(v)}" for k, v in self.values)


def _show(text: object) -> str:
    """A value quoted for a message, on one line and cut short."""
    shown = str(text)
    shown = shown if len(shown) <= 40 else shown[:37] + "..."
    return repr(shown)


def _value_text(value: ScheduleValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return "/".join(str(v) for v in value)
    return repr(value) if isinstance(value, float) else str(value)


def parse_schedule(text: str) -> Schedule | None:
    """`NAME[:key=value,...]` as a Schedule; None for '' or 'constant'; else ScheduleError."""
    if not isinstance(text, str):
        raise ScheduleError(f"a schedule is text like 'cosine:T_max=50', not {_show(text)}")
    stripped = text.strip()
    if stripped in ("", CONSTANT):
        return None
    name, colon, rest = stripped.partition(":")
    name = name.strip()
    spec = SCHEDULES.get(name)
    if spec is None:
        raise ScheduleError(
            f"unknown schedule {_show(name)}: use one of {', '.join(SCHEDULES)} (or constant)"
        )
    given: dict[str, ScheduleValue] = {}
    if colon:
        if not rest.strip():
            raise ScheduleError(f"{name}: nothing after ':' (give key=value,... or drop the ':')")
        for item in rest.split(","):
            key, equals, value = item.partition("=")
            key = key.strip()
            if not equals or not key:
                raise ScheduleError(f"{name}: expected key=value, not {_show(item)}")
            parameter = spec.parameter(key)
            if key in given:
                raise ScheduleError(f"{name}: {key} is given twice")
            given[key] = _parse_value(name, parameter, value.strip())
    order = [p.name for p in spec.parameters]
    return Schedule(name, tuple(sorted(given.items(), key=lambda item: order.index(item[0]))))


def canonical(text: str) -> str:
    """The canonical form of a schedule text ('' for a constant rate); ScheduleError if bad."""
    schedule = parse_schedule(text)
    return "" if schedule is None else schedule.text()


def _range_text(p: ScheduleParameter) -> str:
    low, high = number_text(p.low), number_text(p.high)
    low = f"{low} (excluded)" if p.low_open else low
    high = f"{high} (excluded)" if p.high_open else high
    return f"from {low} to {high}"


def _parse_value(name: str, p: ScheduleParameter, text: str) -> ScheduleValue:
    """One key's text as its kind, within its range, or a ScheduleError naming the key."""
    where = f"{name}: {p.name}"
    if p.kind == "bool":
        if text.lower() in ("true", "1", "yes"):
            return True
        if text.lower() in ("false", "0", "no"):
            return False
        raise ScheduleError(f"{where} must be true or false, not {_show(text)}")
    if p.kind == "choice":
        if text not in p.choices:
            raise ScheduleError(f"{where} must be one of {', '.join(p.choices)}, not {_show(text)}")
        return text
    if p.kind == "ints":
        parts = text.split("/")
        if len(parts) > MAX_MILESTONES:
            raise ScheduleError(f"{where} takes at most {MAX_MILESTONES} steps")
        values = tuple(_whole(where, p, part.strip()) for part in parts)
        if any(b <= a for a, b in itertools.pairwise(values)):
            raise ScheduleError(
                f"{where} must be increasing steps like 30/60/90, not {_show(text)}"
            )
        return values
    if p.kind == "int":
        return _whole(where, p, text)
    try:
        value = float(text)
    except ValueError:
        raise ScheduleError(
            f"{where} must be a number {_range_text(p)}, not {_show(text)}"
        ) from None
    if not _within(p, value):
        raise ScheduleError(f"{where} must be {_range_text(p)}, not {_show(text)}")
    return value


def _whole(where: str, p: ScheduleParameter, text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ScheduleError(
            f"{where} must be a whole number {_range_text(p)}, not {_show(text)}"
        ) from None
    if not p.low <= value <= p.high:
        raise ScheduleError(f"{where} must be a whole number {_range_text(p)}, not {_show(text)}")
    return value


def _within(p: ScheduleParameter, value: float) -> bool:
    if not math.isfinite(value):
        return False
    above = value > p.low if p.low_open else value >= p.low
    below = value < p.high if p.high_open else value <= p.high
    return above and below


def scheduler_kwargs(
    schedule: Schedule,
    steps: int,
    group_lrs: Sequence[float],
    optimizer_defaults: Mapping[str, Any],
) -> dict[str, Any]:
    """The torch class's keyword arguments: the keys given, then this module's defaults."""
    quarter = max(1, steps // 4)
    kwargs: dict[str, Any] = {}
    if schedule.name == "step":
        kwargs["step_size"] = quarter
    elif schedule.name == "multistep":
        kwargs["milestones"] = sorted({max(1, steps // 2), max(1, 3 * steps // 4)})
    elif schedule.name == "exponential":
        kwargs["gamma"] = 0.99
    elif schedule.name == "cosine":
        kwargs["T_max"] = max(1, steps)
    elif schedule.name == "cosine-restarts":
        kwargs["T_0"] = quarter
    elif schedule.name == "onecycle":
        kwargs["max_lr"] = list(group_lrs)
        kwargs["total_steps"] = max(1, steps)
        kwargs["cycle_momentum"] = "momentum" in optimizer_defaults or "betas" in optimizer_defaults
    kwargs.update({k: list(v) if isinstance(v, tuple) else v for k, v in schedule.values})
    if schedule.name == "onecycle" and kwargs["total_steps"] < steps:
        # OneCycleLR refuses to step past total_steps: the run would stop half-way with an error.
        raise ScheduleError(
            f"onecycle: total_steps must be at least the run's steps ({steps}), "
            f"not {kwargs['total_steps']}"
        )
    return kwargs


def make_scheduler(
    optimizer: torch.optim.Optimizer, text: str, steps: int
) -> torch.optim.lr_scheduler.LRScheduler | None:
    """The torch scheduler the text names for this optimiser and a run of steps; None: constant.

    Its defaults come from the run: see the module docstring. Bad text raises ScheduleError.
    """
    import torch

    schedule = parse_schedule(text)
    if schedule is None:
        return None
    group_lrs = [float(group["lr"]) for group in optimizer.param_groups]
    kwargs = scheduler_kwargs(schedule, steps, group_lrs, optimizer.defaults)
    cls = getattr(torch.optim.lr_scheduler, schedule.spec.torch_class)
    try:
        scheduler: torch.optim.lr_scheduler.LRScheduler = cls(optimizer, **kwargs)
    except (ValueError, TypeError, KeyError) as err:
        raise ScheduleError(f"{schedule.name}: {_one_line(err)}") from None
    return scheduler


def _one_line(err: BaseException) -> str:
    text = " ".join(str(err).split())
    return text if len(text) <= 160 else text[:157] + "..."


def check_schedule(text: str, steps: int, optimizer: str = "sgd", lr: float = 0.01) -> str:
    """The canonical text, once torch has taken the schedule for this optimiser and run."""
    schedule_rates(text, min(steps, 1), lr, optimizer, steps_for_defaults=steps)
    return canonical(text)


def schedule_rates(
    text: str,
    steps: int,
    lr: float | Sequence[float],
    optimizer: str = "sgd",
    overrides: Mapping[str, Any] | None = None,
    *,
    steps_for_defaults: int | None = None,
) -> NDArray[np.float64]:
    """The learning rate of rows 0..steps: row k the rate step k used, row 0 the initial one.

    Computed by stepping a real torch scheduler on a dummy optimiser of that kind (an optimiser
    step with no gradient, then a scheduler step), so it is the rate the run's steps use. A
    sequence of rates gives one column per rate (a sweep's parameter groups): shape
    (steps + 1, len(lr)); a single rate gives shape (steps + 1,).
    """
    import torch

    from explorer.core.optimizers import make_optimizer
    many = not isinstance(lr, int | float)
    rates_in = [float(v) for v in (lr if isinstance(lr, Sequence) else [lr])]
    leaves = [torch.zeros(1, dtype=torch.float64, requires_grad=True) for _ in rates_in]
    groups: list[torch.Tensor] | list[dict[str, Any]] = leaves
    if many:
        groups = [
            {"params": [leaf], "lr": rate} for leaf, rate in zip(leaves, rates_in, strict=True)
        ]
    dummy = make_optimizer(optimizer, groups, rates_in[0], overrides or {})
    scheduler = make_scheduler(
        dummy, text, steps if steps_for_defaults is None else steps_for_defaults
    )
    out = np.empty((steps + 1, len(rates_in)))
    out[0] = [group["lr"] for group in dummy.param_groups]

    def closure() -> float:
        return 0.0  # L-BFGS asks for the loss; with no gradient it takes no step

    for k in range(1, steps + 1):
        out[k] = [group["lr"] for group in dummy.param_groups]
        dummy.step(closure)  # no gradients: the parameters stay, the scheduler sees a step
        if scheduler is not None:
            scheduler.step()
    return out if many else out[:, 0]
