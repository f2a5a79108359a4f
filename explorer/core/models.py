"""Two-parameter models fitted to data (issue 15): their loss over the rows, and their curve.

Each model has exactly two parameters, so its loss over them is a landscape (model_landscape).
Losses are means over the rows given, in float64, differentiable by torch autograd.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from torch import Tensor

FloatArray = NDArray[np.float64]
# The loss of each row: (p1, p2, x, y) broadcast together; p1, p2 carry a trailing axis.
RowLoss = Callable[["Tensor", "Tensor", "Tensor", "Tensor"], "Tensor"]
Curve = Callable[[float, float, FloatArray], FloatArray]


class ModelError(ValueError):
    """An unknown model name; the message lists the names there are."""


def _sigmoid(z: FloatArray) -> FloatArray:
    """The logistic function in a form that never overflows (tanh saturates instead)."""
    return np.asarray(0.5 * (1.0 + np.tanh(0.5 * z)), dtype=np.float64)


def _linear_rows(w: Tensor, b: Tensor, x: Tensor, y: Tensor) -> Tensor:
    return (w * x + b - y) ** 2


def _logistic_rows(w: Tensor, b: Tensor, x: Tensor, label: Tensor) -> Tensor:
    from torch.nn.functional import softplus

    z = w * x + b
    # softplus(z) = log(1 + e^z), which torch takes to be z above the threshold: at its
    # default 20 that is off by e^-20 (2e-9); above 40 the difference, e^-40, is below
    # float64's resolution of z itself. Its gradient is sigmoid(z): exactly 0.5 at z = 0.
    return softplus(z, beta=1.0, threshold=40.0) - label * z


def _neuron_rows(w: Tensor, b: Tensor, x: Tensor, y: Tensor) -> Tensor:
    import torch

    return (torch.sigmoid(w * x + b) - y) ** 2


def _deeplinear_rows(w1: Tensor, w2: Tensor, x: Tensor, y: Tensor) -> Tensor:
    return (w2 * w1 * x - y) ** 2


@dataclass(frozen=True)
class ModelSpec:
    """A model of two parameters on two data columns: its loss, its curve, and its words."""

    name: str
    label: str
    params: tuple[str, str]
    columns: tuple[str, str]
    default_start: tuple[float, float]
    loss_text: str
    row_loss: RowLoss
    curve: Curve

    def loss(self, p1: Tensor, p2: Tensor, x: Tensor, y: Tensor) -> Tensor:
        """The mean loss over the rows (x, y) at each parameter point: (N,) -> (N,), () -> ()."""
        import torch

        if isinstance(p1, torch.Tensor) and isinstance(p2, torch.Tensor) and p1.dim() == 0:
            # One point (a training step): no axis to add, two graph nodes fewer per step.
            return self.row_loss(p1, p2, x, y).mean()
        # A trailing axis on the parameters meets the rows' axis: (N, 1) x (n,) -> (N, n).
        one = torch.as_tensor(p1, dtype=torch.float64).unsqueeze(-1)
        two = torch.as_tensor(p2, dtype=torch.float64).unsqueeze(-1)
        return self.row_loss(one, two, x, y).mean(dim=-1)

    def predict(self, p1: float, p2: float, x: FloatArray) -> FloatArray:
        """The fitted curve at x (logistic: the probability sigmoid(w*x + b))."""
        # A diverged path's parameters overflow the curve: inf or NaN there, and no warning.
        with np.errstate(over="ignore", invalid="ignore"):
            return self.curve(float(p1), float(p2), np.asarray(x, dtype=np.float64))


MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            "linear",
            "Linear regression: y = w*x + b",
            ("w", "b"),
            ("x", "y"),
            (0.0, 0.0),
            "mean of (w*x + b - y)^2",
            _linear_rows,
            lambda w, b, x: w * x + b,
        ),
        ModelSpec(
            "logistic",
            "Logistic regression: P(label = 1) = sigmoid(w*x + b)",
            ("w", "b"),
            ("x", "label"),
            (0.0, 0.0),
            "mean of softplus(w*x + b) - label*(w*x + b) (binary cross-entropy)",
            _logistic_rows,
            lambda w, b, x: _sigmoid(w * x + b),
        ),
        ModelSpec(
            "neuron",
            "One sigmoid neuron: y = sigmoid(w*x + b)",
            ("w", "b"),
            ("x", "y"),
            (0.0, 0.0),
            "mean of (sigmoid(w*x + b) - y)^2",
            _neuron_rows,
            lambda w, b, x: _sigmoid(w * x + b),
        ),
        ModelSpec(
            "deeplinear",
            "Two-layer linear network: y = w2*w1*x",
            ("w1", "w2"),
            ("x", "y"),
            (0.5, -0.5),
            "mean of (w2*w1*x - y)^2",
            _deeplinear_rows,
            lambda w1, w2, x: w2 * w1 * x,
        ),
    )
}


def get_model(name: str) -> ModelSpec:
    """The model called name, or a ModelError listing the names."""
    try:
        return MODELS[name]
    except (KeyError, TypeError):
        raise ModelError(
            f"unknown model {str(name)[:40]!r}: choose one of {', '.join(MODELS)}"
        ) from None
