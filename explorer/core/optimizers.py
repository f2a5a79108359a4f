"""The optimiser registry: the one description of each optimiser, read by the window and the CLI.

Each entry gives its name (the CLI's and session files'), label (the window's), short label
(tables and leaderboards), one-line explanation (help), default learning rate and tunable
hyperparameters with defaults and ranges, over a torch.optim class.

The registry itself is plain data, so the window can build its controls before torch has loaded;
torch is imported only when an optimiser is actually built or a keyword is checked.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from explorer.core.precision import float64_defaults

if TYPE_CHECKING:
    import torch

Value = float | int | bool | str | tuple[float, ...] | None
Kind = Literal["float", "int", "bool", "pair", "choice"]

# Keywords the registry sets itself: the learning rate has its own option, ascent is a flag.
_RESERVED = {"params": "", "lr": "use --lr", "maximize": "use --ascent"}


class OptimizerError(ValueError):
    """A bad optimiser name, keyword or value, with a message fit for the user."""


@dataclass(frozen=True)
class HyperParameter:
    """One tunable keyword of a torch optimiser, with what a control for it needs to know."""

    name: str
    label: str
    default: Value
    low: float | None = None
    high: float | None = None
    log: bool = False
    kind: Kind = "float"
    choices: tuple[str, ...] = ()
    help: str = ""


@dataclass(frozen=True)
class OptimizerSpec:
    """A registry entry: a torch.optim class, fixed keywords, and the keywords worth tuning."""

    name: str
    label: str
    torch_class: str
    hyperparameters: tuple[HyperParameter, ...]
    fixed: Mapping[str, Value] = field(default_factory=dict)
    default_lr: float = 0.01
    elementwise: bool = True
    supports_maximize: bool = True
    help: str = ""

    @property
    def short_label(self) -> str:
        """The label without its explanation in brackets, for tables: 'SGD', 'Adam'."""
        return self.label.split(" (")[0]

    def defaults(self) -> dict[str, Value]:
        """The keyword arguments this entry passes when the user changes nothing."""
        values: dict[str, Value] = {p.name: p.default for p in self.hyperparameters}
        values.update(self.fixed)
        return values


LR_RANGE = (1e-5, 10.0)

_WD = HyperParameter(
    "weight_decay",
    "Weight decay",
    0.0,
    0.0,
    1.0,
    help="Adds weight_decay * parameter to the gradient",
)


def _eps(default: float, help: str = "Keeps divisions finite") -> HyperParameter:
    return HyperParameter("eps", "Epsilon", default, 1e-12, 1e-2, log=True, help=help)


_EPS = _eps(1e-8)


def _momentum(default: float) -> HyperParameter:
    return HyperParameter(
        "momentum", "Momentum", default, 0.0, 0.999, help="Fraction of the last step carried over"
    )


def _betas(default: tuple[float, float] = (0.9, 0.999)) -> HyperParameter:
    return HyperParameter(
        "betas",
        "Betas (beta1, beta2)",
        default,
        0.0,
        0.99999,
        kind="pair",
        help="Decay rates of the running mean of gradients and of squared gradients",
    )


_NESTEROV = HyperParameter("nesterov", "Nesterov", False, kind="bool", help="Look-ahead momentum")
_AMSGRAD = HyperParameter("amsgrad", "AMSGrad", False, kind="bool", help="Never let the step grow")


def _spec(
    torch_class: str, default_lr: float, help: str, *hyperparameters: HyperParameter
) -> OptimizerSpec:
    """An entry named and labelled after its torch class: 'Adagrad' is adagrad."""
    name = torch_class.lower()
    return OptimizerSpec(
        name, torch_class, torch_class, hyperparameters, default_lr=default_lr, help=help
    )


def _adam_family(
    torch_class: str, help: str, *extra: HyperParameter, weight_decay: HyperParameter = _WD
) -> OptimizerSpec:
    """An Adam variant: betas, epsilon, its own keywords, then weight decay; lr 0.05."""
    return _spec(torch_class, 0.05, help, _betas(), _EPS, *extra, weight_decay)


REGISTRY: dict[str, OptimizerSpec] = {
    spec.name: spec
    for spec in (
        OptimizerSpec(
            "sgd",
            "SGD (plain gradient descent)",
            "SGD",
            (_momentum(0.0), _NESTEROV, _WD),
            help="x <- x - lr * grad f(x)",
        ),
        OptimizerSpec(
            "momentum",
            "SGD with momentum",
            "SGD",
            (_momentum(0.9), _WD),
            help="A velocity that remembers past gradients (momentum 0.9)",
        ),
        OptimizerSpec(
            "nesterov",
            "Nesterov momentum",
            "SGD",
            (_momentum(0.9), _WD),
            fixed={"nesterov": True},
            help="Momentum that looks ahead before it steps",
        ),
        _spec(
            "Adagrad",
            0.5,
            "Divides each coordinate's step by its accumulated squared gradients",
            HyperParameter("lr_decay", "LR decay", 0.0, 0.0, 1.0),
            HyperParameter("initial_accumulator_value", "Initial accumulator", 0.0, 0.0, 10.0),
            _eps(1e-10, help=""),
            _WD,
        ),
        _spec(
            "RMSprop",
            0.01,
            "Divides each coordinate's step by a running RMS of its gradients",
            HyperParameter("alpha", "Alpha (smoothing)", 0.99, 0.0, 0.9999),
            _EPS,
            _momentum(0.0),
            HyperParameter("centered", "Centered", False, kind="bool"),
            _WD,
        ),
        _adam_family("Adam", "Momentum plus per-coordinate step sizes", _AMSGRAD),
        _adam_family(
            "AdamW",
            "Adam with decoupled weight decay",
            _AMSGRAD,
            weight_decay=HyperParameter("weight_decay", "Weight decay", 0.01, 0.0, 1.0),
        ),
        _adam_family("Adamax", "Adam with an infinity-norm step size"),
        _adam_family(
            "NAdam",
            "Adam with Nesterov momentum",
            HyperParameter("momentum_decay", "Momentum decay", 4e-3, 0.0, 0.1),
        ),
        _adam_family("RAdam", "Adam with a rectified, warmed-up step size"),
        _spec(
            "Adadelta",
            # Not torch's 1.0: at 1.0 its eps keeps it circling a minimum (|∇f| ~ 0.1 to 3 on
            # Himmelblau after 3000 steps from (0, 0)); at 10 it settles (|∇f| < 1e-6 by 123).
            10.0,
            "Step sizes from running averages of steps and gradients; needs no tuning of lr",
            HyperParameter("rho", "Rho", 0.9, 0.0, 0.9999),
            _eps(1e-6, help=""),
            _WD,
        ),
        OptimizerSpec(
            "lbfgs",
            "L-BFGS",
            "LBFGS",
            (
                HyperParameter("max_iter", "Iterations per step", 20, 1, 100, kind="int"),
                HyperParameter("history_size", "History size", 100, 1, 1000, kind="int"),
                HyperParameter(
                    "line_search_fn",
                    "Line search",
                    None,
                    kind="choice",
                    choices=("none", "strong_wolfe"),
                ),
            ),
            default_lr=1.0,
            elementwise=False,
            supports_maximize=False,
            help="Quasi-Newton: builds a curvature model from recent gradients",
        ),
    )
}


def get_spec(name: str) -> OptimizerSpec:
    """The registry entry for name, or an OptimizerError listing the valid names."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise OptimizerError(
            f"unknown optimizer '{name}': choose one of {', '.join(REGISTRY)}"
        ) from None


def optimizer_class(name: str) -> type[torch.optim.Optimizer]:
    """The torch.optim class behind a registry name."""
    import torch.optim

    cls: type[torch.optim.Optimizer] = getattr(torch.optim, get_spec(name).torch_class)
    return cls


def hyperparameter(optimizer: str, key: str) -> HyperParameter:
    """The registry's entry for key, or an OptimizerError naming the keywords it takes."""
    # Only the registry's keywords: torch's own flags (foreach, capturable, differentiable,
    # fused) change how it computes, not what, and some of them fail on a CPU tensor.
    spec = get_spec(optimizer)
    if key in _RESERVED:
        hint = _RESERVED[key]
        raise OptimizerError(f"'{key}' cannot be set with --param" + (f": {hint}" if hint else ""))
    for param in spec.hyperparameters:
        if param.name == key:
            return param
    accepted = ", ".join(p.name for p in spec.hyperparameters)
    if key in spec.fixed:
        raise OptimizerError(
            f"{spec.name} fixes {key}={_text(spec.fixed[key])}: it takes {accepted}"
        )
    raise OptimizerError(f"{spec.name} has no keyword {_show(key)}: it takes {accepted}")


def _text(value: Value) -> str:
    """A value as --param would take it: true, 0.9, 0.9,0.999, none."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, tuple):
        return ",".join(_text(v) for v in value)
    return str(value)


def _show(text: object) -> str:
    """A value quoted for a message, cut short so that the message stays one readable line."""
    shown = str(text).replace("\n", " ")
    return repr(shown if len(shown) <= 40 else shown[:37] + "...")


def _range(param: HyperParameter) -> str:
    return f"from {param.low:g} to {param.high:g}"


def _check_number(param: HyperParameter, value: object) -> float | int:
    """value as the number param takes, within its range, or an OptimizerError."""
    whole = param.kind == "int"
    expected = "a whole number" if whole else "a number"
    if isinstance(value, bool) or not isinstance(value, int | float) or (
        whole and not isinstance(value, int)
    ):
        raise OptimizerError(f"{param.name} must be {expected} {_range(param)}, not {_show(value)}")
    assert param.low is not None and param.high is not None  # every number has its range
    # NaN fails both comparisons, so it is refused here too.
    if not param.low <= value <= param.high:
        raise OptimizerError(f"{param.name} must be {_range(param)}, not {_show(value)}")
    return value


def check_value(optimizer: str, key: str, value: object) -> Value:
    """value checked against key's kind and range; returned as torch takes it (tuple, None)."""
    spec = get_spec(optimizer)
    if key in spec.fixed and key not in {p.name for p in spec.hyperparameters}:
        if value == spec.fixed[key] and type(value) is type(spec.fixed[key]):
            return spec.fixed[key]  # what the entry sets anyway: harmless
    param = hyperparameter(optimizer, key)
    if param.kind == "bool":
        if not isinstance(value, bool):
            raise OptimizerError(f"{key} must be true or false, not {_show(value)}")
        return value
    if param.kind == "choice":
        word = "none" if value is None else value
        if not isinstance(word, str) or word not in param.choices:
            choices = ", ".join(param.choices)
            raise OptimizerError(f"{key} must be one of {choices}, not {_show(value)}")
        return None if word == "none" else word
    if param.kind == "pair":
        size = len(param.default) if isinstance(param.default, tuple) else 2
        if not isinstance(value, tuple | list) or len(value) != size:
            raise OptimizerError(
                f"{key} takes {size} comma-separated numbers {_range(param)}, "
                f"like {_text(param.default)}, not {_show(value)}"
            )
        return tuple(float(_check_number(param, v)) for v in value)
    return _check_number(param, value)


def parse_param(optimizer: str, key: str, text: str) -> Value:
    """Turn KEY=VALUE text into a keyword for this optimiser: one the registry lists, in range."""
    param = hyperparameter(optimizer, key)
    value: object
    if param.kind == "bool":
        value = _parse_bool(key, text)
    elif param.kind == "choice":
        value = text.strip().lower()
    elif param.kind == "pair":
        value = [_parse_float(key, part) for part in text.split(",") if part.strip()]
    elif param.kind == "int":
        try:
            value = int(text.strip())
        except ValueError:
            raise OptimizerError(
                f"{key} must be a whole number {_range(param)}, not {_show(text)}"
            ) from None
    else:
        value = _parse_float(key, text)
    return check_value(optimizer, key, value)


def _parse_bool(key: str, text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("true", "1", "yes", "on"):
        return True
    if lowered in ("false", "0", "no", "off"):
        return False
    raise OptimizerError(f"{key} must be true or false, not {_show(text)}")


def _parse_float(key: str, text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise OptimizerError(f"{key} must be a number, not {_show(text)}") from None


def parse_params(optimizer: str, items: Iterable[str]) -> dict[str, Value]:
    """Parse KEY=VALUE strings into checked keywords for this optimiser."""
    values: dict[str, Value] = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise OptimizerError(f"--param needs KEY=VALUE, not {_show(item)}")
        values[key.strip()] = parse_param(optimizer, key.strip(), text)
    validate(optimizer, 0.01, values)
    return values


def optimizer_kwargs(
    optimizer: str, lr: float, overrides: Mapping[str, Value], *, ascent: bool = False
) -> dict[str, Any]:
    """The keyword arguments for the torch class: registry defaults, then the user's overrides."""
    spec = get_spec(optimizer)
    kwargs: dict[str, Any] = {"lr": float(lr)}
    kwargs.update(spec.defaults())
    kwargs.update(overrides)
    if spec.supports_maximize:
        kwargs["maximize"] = bool(ascent)
    return kwargs


def make_optimizer(
    optimizer: str,
    params: list[torch.Tensor] | list[dict[str, Any]],
    lr: float,
    overrides: Mapping[str, Value] | None = None,
    *,
    ascent: bool = False,
) -> torch.optim.Optimizer:
    """Build the torch optimiser for these parameters; bad values raise OptimizerError.

    params may also be torch's parameter groups (dicts), e.g. one learning rate per group.
    """
    cls = optimizer_class(optimizer)
    kwargs = optimizer_kwargs(optimizer, lr, overrides or {}, ascent=ascent)
    if _fuses(cls, params):
        kwargs["fused"] = True
    try:
        # Some optimisers (Adagrad) create their state here: float64, as every step's.
        with float64_defaults():
            return cls(params, **kwargs)
    except (ValueError, TypeError, RuntimeError) as err:
        raise OptimizerError(f"{optimizer}: {err}") from None


# From this many parameters on (a basin map's 256 x 256 starts, 2 each), the optimisers that
# have one use torch's fused kernel: one pass over the tensors instead of one per operation
# (Adam about 15% faster per step on one CPU thread). Smaller batches keep the default, whose
# results the golden tests pin to the last bit.
FUSED_FROM = 2 * 65536


def _fuses(cls: type[torch.optim.Optimizer], params: list[torch.Tensor] | list[dict[str, Any]],
           ) -> bool:
    """Whether to build this optimiser with fused=True: one large float64 tensor on the CPU
    and a torch class that takes the keyword."""
    import torch

    if len(params) != 1 or not isinstance(params[0], torch.Tensor):
        return False
    tensor = params[0]
    if tensor.numel() < FUSED_FROM or tensor.device.type != "cpu":
        return False
    return "fused" in inspect.signature(cls).parameters


def validate(optimizer: str, lr: float, overrides: Mapping[str, Value]) -> None:
    """Raise OptimizerError unless every keyword is one the registry lists, of its kind and in
    its range, and torch takes the settings."""
    import torch

    if isinstance(lr, bool) or not isinstance(lr, int | float) or not 0 < lr < float("inf"):
        raise OptimizerError(f"the learning rate must be a positive number, not {_show(lr)}")
    for key, value in overrides.items():
        check_value(optimizer, key, value)
    make_optimizer(
        optimizer, [torch.zeros(2, dtype=torch.float64, requires_grad=True)], lr, overrides
    )
