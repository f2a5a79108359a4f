"""A small fully connected network on a data set (issue 17): its build, loss and training loop.

The network is nn.Sequential(Linear(d, h1), act, ..., Linear(hk, 1)), built with PyTorch's
default initialisation after torch.manual_seed(seed) (in a forked RNG, so the process's own
stream is left alone) with float64 as the default dtype. Its parameter vector is parameters()
flattened in order. The loss is mse (mean of (output - label)^2, labels as they are) or bce (the
logistic loss mean(log(1 + exp(-label * output))) with labels +1/-1; 0/1 labels become -1/+1).

Training: full batch (every row, in file order, every step) or minibatches by core.fitting's
rule (one numpy.random.default_rng(seed) per run, each epoch perm = rng.permutation(n), batches
perm[i:i+B]), one optimiser step per batch, then one scheduler step where a learning-rate
schedule (core.schedules) is given. The sharpness (core.sharpness) of the full-batch
loss is measured at step 0 and every k steps, before that step's update. A run ends early when
the full-batch loss or the parameters stop being finite (diverged) or should_stop() says so.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from explorer.core.budget import MAX_ROW_BYTES, BudgetError, check_steps, size_text
from explorer.core.fitting import minibatches
from explorer.core.optimizers import Value, make_optimizer, validate
from explorer.core.precision import float64_defaults
from explorer.core.schedules import check_schedule, make_scheduler
from explorer.core.sharpness import HessianOperator, Sharpness
from explorer.core.trajectory import FloatArray

if TYPE_CHECKING:
    import torch

ACTIVATIONS = ("tanh", "relu", "elu", "gelu")
LOSSES = ("mse", "bce")
# Limits (README, "Neural network slices"): hidden layers, units per layer, parameters in all.
MAX_LAYERS = 8
MAX_WIDTH = 4096
MAX_PARAMETERS = 1_000_000
MAX_FEATURES = 1000
# The most row-parameter products over a run's steps (about an hour of CPU at worst).
MAX_WORK = 1 << 42


class NetError(ValueError):
    """Network settings that cannot run (a bad layer list, activation, loss, labels or seed)."""


@dataclass(frozen=True)
class NetSpec:
    """The network's shape: inputs, hidden widths, activation and loss."""

    inputs: int
    hidden: tuple[int, ...] = (32, 32)
    activation: str = "tanh"
    loss: str = "mse"

    @property
    def widths(self) -> tuple[int, ...]:
        """Units per layer, inputs first and the one output last."""
        return (self.inputs, *self.hidden, 1)

    @property
    def parameter_count(self) -> int:
        """Weights and biases of every layer."""
        w = self.widths
        return sum((w[i] + 1) * w[i + 1] for i in range(len(w) - 1))

    def text(self) -> str:
        """'2-32-32-1 tanh, mse'."""
        return "-".join(map(str, self.widths)) + f" {self.activation}, {self.loss}"


@dataclass(frozen=True)
class TrainSettings:
    """Everything besides the network and the data that decides a run's numbers."""

    optimizer: str = "sgd"
    lr: float = 0.1
    params: tuple[tuple[str, Value], ...] = ()
    steps: int = 1000
    seed: int = 0
    batch_size: int | None = None  # None: every row, every step
    sharpness_every: int = 0  # 0: never measured
    # A learning-rate schedule (core.schedules' canonical text; '' = constant): one
    # scheduler.step() after each optimizer step, its defaults from the run's steps.
    schedule: str = ""


@dataclass(frozen=True, eq=False)
class NetRun:
    """A run: the parameter vector and full-batch loss per row, the sharpness, the outcome."""

    path: FloatArray  # (steps + 1, parameters): row 0 the start, row k after step k
    loss: FloatArray  # (steps + 1,): the full-batch loss at each row
    sharpness: FloatArray  # (m, 2): step, top Hessian eigenvalue there
    status: str  # "done" | "diverged" | "stopped"

    @property
    def steps(self) -> int:
        """The optimiser steps taken."""
        return len(self.path) - 1


def parse_hidden(text: str) -> tuple[int, ...]:
    """'32,32' -> (32, 32); NetError for anything but 1 to MAX_LAYERS widths of 1 to MAX_WIDTH."""
    parts = text.split(",")
    try:
        widths = tuple(int(part) for part in parts)
    except ValueError:
        raise NetError(f"hidden layers must be widths like 32,32, not {text[:40]!r}") from None
    if not 1 <= len(widths) <= MAX_LAYERS or not all(1 <= w <= MAX_WIDTH for w in widths):
        raise NetError(
            f"hidden layers must be 1 to {MAX_LAYERS} widths from 1 to {MAX_WIDTH}, "
            f"not {text[:40]!r}"
        )
    return widths


def check_spec(spec: NetSpec) -> None:
    """Raise NetError or BudgetError unless the network can be built within the limits."""
    if not 1 <= spec.inputs <= MAX_FEATURES:
        raise BudgetError(f"{spec.inputs} features is outside 1 to {MAX_FEATURES} (the limit)")
    if not 1 <= len(spec.hidden) <= MAX_LAYERS or not all(
        isinstance(w, int) and 1 <= w <= MAX_WIDTH for w in spec.hidden
    ):
        raise NetError(f"hidden layers must be 1 to {MAX_LAYERS} widths from 1 to {MAX_WIDTH}")
    if spec.activation not in ACTIVATIONS:
        raise NetError(f"activation must be one of {', '.join(ACTIVATIONS)}")
    if spec.loss not in LOSSES:
        raise NetError(f"loss must be one of {', '.join(LOSSES)}")
    count = spec.parameter_count
    if count > MAX_PARAMETERS:
        raise BudgetError(
            f"a {'-'.join(map(str, spec.widths))} network has {count} parameters, above the "
            f"limit of {MAX_PARAMETERS}"
        )


def check_training(spec: NetSpec, rows: int, settings: TrainSettings) -> None:
    """Raise NetError, BudgetError or OptimizerError unless the run fits the limits."""
    check_spec(spec)
    for label, value, low in (("seed", settings.seed, 0), ("steps", settings.steps, 0),
                              ("sharpness every", settings.sharpness_every, 0)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise NetError(f"{label} must be a whole number >= {low}, not {str(value)[:40]!r}")
    if settings.seed > 2**63 - 1:
        raise NetError("the seed must be at most 2**63 - 1")
    batch = settings.batch_size
    if batch is not None and (isinstance(batch, bool) or not isinstance(batch, int) or batch < 1):
        raise NetError(f"the batch size must be a whole number >= 1, not {str(batch)[:40]!r}")
    validate(settings.optimizer, settings.lr, dict(settings.params))
    check_steps(settings.steps)
    check_schedule(settings.schedule, settings.steps, settings.optimizer, settings.lr)
    count = spec.parameter_count
    need = (settings.steps + 1) * count * 8
    if need > MAX_ROW_BYTES:
        raise BudgetError(
            f"{settings.steps} steps of {count} parameters would keep a path of "
            f"{size_text(need)}, above the limit of {size_text(MAX_ROW_BYTES)}"
        )
    work = (settings.steps + 1) * rows * count
    if work > MAX_WORK:
        raise BudgetError(
            f"{settings.steps} steps on {rows} rows with {count} parameters is {work:.3g} "
            f"row-parameter products, above the limit of {MAX_WORK:.3g}"
        )


def build_net(spec: NetSpec, seed: int) -> torch.nn.Sequential:
    """The network with PyTorch's default initialisation after torch.manual_seed(seed)."""
    import torch
    from torch import nn

    check_spec(spec)
    activation: dict[str, type[nn.Module]] = {
        "tanh": nn.Tanh, "relu": nn.ReLU, "elu": nn.ELU, "gelu": nn.GELU}
    widths = spec.widths
    layers: list[nn.Module] = []
    with float64_defaults(), torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for i in range(len(widths) - 1):
            if i:
                layers.append(activation[spec.activation]())
            layers.append(nn.Linear(widths[i], widths[i + 1]))
    return nn.Sequential(*layers)


def loss_labels(loss: str, labels: FloatArray) -> FloatArray:
    """The labels the loss uses: mse as they are; bce +1/-1 (0/1 mapped), NetError otherwise."""
    if loss == "mse":
        return labels
    values = set(np.unique(labels).tolist())
    if values <= {-1.0, 1.0}:
        return labels
    if values <= {0.0, 1.0}:
        return 2.0 * labels - 1.0
    bad = sorted(values - {-1.0, 0.0, 1.0}) or [0.0]
    raise NetError(
        f"the bce loss needs labels +1/-1 or 0/1, not {bad[0]:g} (with "
        f"{', '.join(f'{v:g}' for v in sorted(values)[:4])})"
    )


def loss_of(loss: str, output: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """The mean loss of outputs (..., n) against labels (n,) (bce: labels +1/-1)."""
    import torch

    if loss == "mse":
        return ((output - labels) ** 2).mean(-1)
    return torch.nn.functional.softplus(-labels * output).mean(-1)


def flat_parameters(net: torch.nn.Module) -> torch.Tensor:
    """parameters() flattened in order, detached, as one float64 vector."""
    import torch

    return torch.cat([p.detach().reshape(-1) for p in net.parameters()])


class NetProblem:
    """A network, its data as tensors and its loss: what training and slicing share."""

    def __init__(self, spec: NetSpec, features: FloatArray, labels: FloatArray, seed: int) -> None:
        import torch

        if features.ndim != 2 or features.shape[1] != spec.inputs or len(labels) != len(features):
            raise NetError(f"the data must have {spec.inputs} feature columns and one label each")
        self.spec = spec
        self.x = torch.from_numpy(np.ascontiguousarray(features, dtype=np.float64))
        self.y = torch.from_numpy(loss_labels(spec.loss, np.asarray(labels, dtype=np.float64)))
        self.net = build_net(spec, seed)
        self.start = flat_parameters(self.net)

    @property
    def rows(self) -> int:
        """The number of data rows."""
        return len(self.y)

    def loss(self, x: torch.Tensor | None = None, y: torch.Tensor | None = None) -> torch.Tensor:
        """The network's mean loss on rows x, y (default every row), differentiable."""
        x = self.x if x is None else x
        y = self.y if y is None else y
        return loss_of(self.spec.loss, self.net(x).squeeze(-1), y)

    def set_parameters(self, flat: torch.Tensor) -> None:
        """Copy a flat parameter vector into the network."""
        import torch

        with torch.no_grad():
            torch.nn.utils.vector_to_parameters(flat.to(torch.float64), self.net.parameters())


def train(
    problem: NetProblem,
    settings: TrainSettings,
    *,
    should_stop: Callable[[], bool] | None = None,
    on_progress: Callable[[int], None] | None = None,
    on_sharpness: Callable[[int, float], None] | None = None,
) -> NetRun:
    """Train from the problem's current parameters by the module's rule.

    on_progress(step) every few hundred steps; on_sharpness(step, value) after each sharpness
    measurement (before that step's update), so a caller can show the series as it grows.
    """
    check_training(problem.spec, problem.rows, settings)
    with float64_defaults():  # optimiser state (NAdam's product, step counts) in float64
        return _Trainer(problem, settings).run(should_stop, on_progress, on_sharpness)


# Steps between two progress reports.
_PROGRESS_EVERY = 256


class _Trainer:
    """One run's state: the optimiser, the rows recorded so far, the sharpness tracker."""

    def __init__(self, problem: NetProblem, settings: TrainSettings) -> None:
        self.problem = problem
        self.settings = settings
        self.params: list[torch.Tensor] = list(problem.net.parameters())
        self.optimizer = make_optimizer(
            settings.optimizer, self.params, settings.lr, dict(settings.params))
        self.scheduler = make_scheduler(self.optimizer, settings.schedule, settings.steps)
        count = problem.spec.parameter_count
        self.path = np.empty((settings.steps + 1, count))
        self.loss = np.full(settings.steps + 1, np.nan)
        self.sharpness: list[tuple[float, float]] = []
        self.tracker = Sharpness(count, settings.seed)

    def run(
        self,
        should_stop: Callable[[], bool] | None,
        on_progress: Callable[[int], None] | None,
        on_sharpness: Callable[[int, float], None] | None = None,
    ) -> NetRun:
        """Every step, until the last, a divergence or a stop."""
        settings, problem = self.settings, self.problem
        batches = _BatchStream(problem.rows, settings.batch_size, settings.seed)
        status = "done"
        k = 0
        self.path[0] = flat_parameters(problem.net).numpy()
        while True:
            if not np.isfinite(self.path[k]).all():
                status = "diverged"
                break
            if k == settings.steps or (should_stop is not None and should_stop()):
                self.loss[k] = self._full_loss()
                status = "done" if k == settings.steps else "stopped"
                break
            rows = next(batches)
            every = settings.sharpness_every
            measured: HessianOperator | None = None
            if every and k % every == 0:
                measured = HessianOperator(problem.loss, self.params)
                value = self.tracker.measure_operator(measured)
                self.sharpness.append((float(k), value))
                if on_sharpness is not None:
                    on_sharpness(k, value)
            if rows is not None:  # a minibatch step's loss is not the full-batch loss
                self.loss[k] = self._full_loss()
            # The loss before the step (L-BFGS: its first closure).
            step_loss = self._step(rows, measured if rows is None else None)
            if rows is None:
                self.loss[k] = step_loss
            if not math.isfinite(self.loss[k]):
                status = "diverged"
                break
            k += 1
            self.path[k] = flat_parameters(problem.net).numpy()
            if on_progress is not None and k % _PROGRESS_EVERY == 0:
                on_progress(k)
        return NetRun(self.path[: k + 1].copy(), self.loss[: k + 1].copy(),
                      np.array(self.sharpness, dtype=np.float64).reshape(-1, 2), status)

    def _full_loss(self) -> float:
        """The full-batch loss at the network's current parameters."""
        import torch

        with torch.no_grad():
            return float(self.problem.loss())

    def _step(self, rows: torch.Tensor | None, measured: HessianOperator | None = None) -> float:
        """One optimiser step on the batch (None: every row); the batch loss before it.
        measured: the full-batch loss's Hessian operator just built at these parameters: the
        closure's first call (L-BFGS calls it again, elsewhere) takes its loss and gradient
        instead of computing them again. They are autograd's, from the same graph, so
        measuring the sharpness leaves the path as it is, bit for bit (a test checks it).
        """
        import torch

        problem, optimizer = self.problem, self.optimizer
        x = problem.x if rows is None else problem.x[rows]
        y = problem.y if rows is None else problem.y[rows]
        given = measured

        def closure() -> float:
            nonlocal given
            optimizer.zero_grad()
            if given is not None:
                for param, grad in zip(self.params, given.gradient(), strict=True):
                    param.grad = grad.clone()  # an optimiser may change it in place
                value, given = given.value, None
                return value
            loss = problem.loss(x, y)
            torch.autograd.backward(loss)
            return float(loss.detach())

        loss = float(optimizer.step(closure))
        if self.scheduler is not None:
            self.scheduler.step()
        return loss


class _BatchStream:
    """Each step's rows: None (every row) for full batch, else core.fitting's minibatches."""

    def __init__(self, rows: int, batch_size: int | None, seed: int) -> None:
        self.rows = rows
        self.batch_size = batch_size
        self.rng = np.random.default_rng(seed)
        self.queue: list[torch.Tensor] = []

    def __iter__(self) -> _BatchStream:
        return self

    def __next__(self) -> torch.Tensor | None:
        import torch

        if self.batch_size is None:
            return None
        if not self.queue:
            self.queue = [torch.from_numpy(b) for b in
                          reversed(minibatches(self.rng, self.rows, self.batch_size))]
        return self.queue.pop()
