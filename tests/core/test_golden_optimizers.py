"""Golden trajectories: NAdam and RAdam against their update rules written separately in numpy.

The update rules are transcribed from the algorithm boxes of torch's documentation, in float64,
and the gradient of each preset is worked by hand: nothing here comes from the code under test.
A run must follow them for 200 steps to 1e-11, which it can only do if the optimiser keeps
every piece of its state (step counts, NAdam's running product of momentum factors) in float64.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch

from explorer.core.descent import run_descent, step_loop
from explorer.core.expression import parse
from explorer.core.optimizers import REGISTRY, make_optimizer
from explorer.core.precision import float64_defaults
from explorer.core.presets import get_preset
from explorer.core.trajectory import RunSettings

STEPS = 200
TOLERANCE = 1e-11
Vector = np.ndarray[Any, np.dtype[np.float64]]
Gradient = Callable[[Vector], Vector]


def himmelblau_gradient(p: Vector) -> Vector:
    """d/dx and d/dy of (x^2 + y - 11)^2 + (x + y^2 - 7)^2, by hand."""
    x, y = p
    a, b = x * x + y - 11.0, x + y * y - 7.0
    return np.array([4.0 * x * a + 2.0 * b, 2.0 * a + 4.0 * y * b])


def rosenbrock_gradient(p: Vector) -> Vector:
    """d/dx and d/dy of (1 - x)^2 + 100 (y - x^2)^2, by hand."""
    x, y = p
    return np.array([-2.0 * (1.0 - x) - 400.0 * x * (y - x * x), 200.0 * (y - x * x)])


PRESETS: dict[str, tuple[Gradient, tuple[float, float]]] = {
    "himmelblau": (himmelblau_gradient, (-1.0, 0.5)),
    "rosenbrock": (rosenbrock_gradient, (-1.5, 2.0)),
}


def nadam_reference(
    gradient: Gradient,
    start: tuple[float, float],
    lr: float,
    *,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    momentum_decay: float = 4e-3,
    decoupled: bool = False,
) -> Vector:
    """NAdam's points theta_0..theta_STEPS, from the algorithm box of torch.optim.NAdam."""
    beta1, beta2 = betas
    theta = np.array(start, dtype=np.float64)
    m = np.zeros(2)
    v = np.zeros(2)
    product = 1.0  # prod_{i <= t} mu_i
    points = [theta.copy()]
    for t in range(1, STEPS + 1):
        g = gradient(theta)
        if weight_decay:
            if decoupled:
                theta = theta - lr * weight_decay * theta
            else:
                g = g + weight_decay * theta
        mu_t = beta1 * (1.0 - 0.5 * 0.96 ** (t * momentum_decay))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * momentum_decay))
        product *= mu_t
        m = beta1 * m + (1.0 - beta1) * g
        v = beta2 * v + (1.0 - beta2) * g * g
        m_hat = mu_next * m / (1.0 - product * mu_next) + (1.0 - mu_t) * g / (1.0 - product)
        v_hat = v / (1.0 - beta2**t)
        theta = theta - lr * m_hat / (np.sqrt(v_hat) + eps)
        points.append(theta.copy())
    return np.array(points)


def radam_reference(
    gradient: Gradient,
    start: tuple[float, float],
    lr: float,
    *,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    decoupled: bool = False,
) -> Vector:
    """RAdam's points theta_0..theta_STEPS, from the algorithm box of torch.optim.RAdam."""
    beta1, beta2 = betas
    theta = np.array(start, dtype=np.float64)
    m = np.zeros(2)
    v = np.zeros(2)
    rho_inf = 2.0 / (1.0 - beta2) - 1.0
    points = [theta.copy()]
    for t in range(1, STEPS + 1):
        g = gradient(theta)
        if weight_decay:
            if decoupled:
                theta = theta - lr * weight_decay * theta
            else:
                g = g + weight_decay * theta
        m = beta1 * m + (1.0 - beta1) * g
        v = beta2 * v + (1.0 - beta2) * g * g
        m_hat = m / (1.0 - beta1**t)
        rho_t = rho_inf - 2.0 * t * beta2**t / (1.0 - beta2**t)
        if rho_t > 5.0:
            adaptive = np.sqrt(1.0 - beta2**t) / (np.sqrt(v) + eps)
            rect = np.sqrt(
                (rho_t - 4.0) * (rho_t - 2.0) * rho_inf
                / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t)
            )
            theta = theta - lr * m_hat * rect * adaptive
        else:
            theta = theta - lr * m_hat
        points.append(theta.copy())
    return np.array(points)


REFERENCES = {"nadam": nadam_reference, "radam": radam_reference}

# (optimiser, preset, lr, hyperparameters): defaults, then non-default ones the registry lists.
CASES = [
    ("nadam", "himmelblau", 0.05, {}),
    ("nadam", "rosenbrock", 0.01, {}),
    ("nadam", "himmelblau", 0.05, {"momentum_decay": 0.05, "betas": (0.8, 0.99)}),
    ("nadam", "rosenbrock", 0.02, {"weight_decay": 0.1, "eps": 1e-6}),
    ("radam", "himmelblau", 0.05, {}),
    ("radam", "rosenbrock", 0.01, {}),
    ("radam", "himmelblau", 0.05, {"betas": (0.85, 0.95), "weight_decay": 0.05}),
]


def _descent_points(
    optimizer: str, preset: str, lr: float, params: dict[str, Any]
) -> Vector:
    expression = parse(get_preset(preset).formula)
    settings = RunSettings.create(params, optimizer=optimizer, lr=lr, steps=STEPS, tol=0.0)
    run = run_descent(expression.evaluate, [PRESETS[preset][1]], settings)
    (trajectory,) = run.trajectories()
    return np.column_stack([trajectory.x, trajectory.y])


@pytest.mark.parametrize(("optimizer", "preset", "lr", "params"), CASES)
def test_run_follows_the_update_rule(
    optimizer: str, preset: str, lr: float, params: dict[str, Any]
) -> None:
    """The engine's 200 steps agree with the numpy update rule to 1e-11."""
    gradient, start = PRESETS[preset]
    expected = REFERENCES[optimizer](gradient, start, lr, **params)
    got = _descent_points(optimizer, preset, lr, params)
    assert got.shape == expected.shape
    # The steps must move the point a long way, or agreement would prove little.
    assert np.abs(expected[-1] - expected[0]).max() > 0.1
    np.testing.assert_allclose(got, expected, rtol=0, atol=TOLERANCE)


@pytest.mark.parametrize("optimizer", ["nadam", "radam"])
def test_decoupled_weight_decay_follows_the_update_rule(optimizer: str) -> None:
    """Decoupled weight decay (a torch keyword the registry does not list), through step_loop."""
    gradient, start = PRESETS["himmelblau"]
    expected = REFERENCES[optimizer](gradient, start, 0.05, weight_decay=0.1, decoupled=True)
    expression = parse(get_preset("himmelblau").formula)
    p = torch.tensor([start], dtype=torch.float64, requires_grad=True)
    cls = getattr(torch.optim, REGISTRY[optimizer].torch_class)
    with float64_defaults():
        opt = cls([p], lr=0.05, weight_decay=0.1, decoupled_weight_decay=True)
    points = []

    def evaluate() -> None:
        f = expression.evaluate(*p.unbind(1))
        torch.autograd.backward(f.sum())
        points.append(p.detach().numpy()[0].copy())

    for _ in step_loop(opt, evaluate, STEPS):
        pass
    np.testing.assert_allclose(np.array(points), expected, rtol=0, atol=TOLERANCE)


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_optimiser_keeps_its_state_in_float64(name: str) -> None:
    """After a few steps, every floating-point tensor in the state (step counts too) is float64."""
    assert torch.get_default_dtype() == torch.float32  # the app never changes it for good
    p = torch.tensor([[0.3, -0.7]], dtype=torch.float64, requires_grad=True)
    # Plain SGD keeps no state unless it has momentum.
    overrides = {"momentum": 0.5} if name == "sgd" else {}
    optimizer = make_optimizer(name, [p], REGISTRY[name].default_lr, overrides)

    def closure() -> float:
        optimizer.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return float(loss.detach())

    def evaluate() -> None:
        (p * p).sum().backward()

    for _ in step_loop(optimizer, evaluate, 3, closure):
        pass
    state = optimizer.state[p]
    floating = {
        f"{key}[{i}]": tensor.dtype
        for key, value in state.items()
        for i, tensor in enumerate(value if isinstance(value, list) else [value])
        if isinstance(tensor, torch.Tensor) and tensor.is_floating_point()
    }
    assert floating, f"{name} kept no floating-point state"
    assert set(floating.values()) == {torch.float64}, floating
    assert torch.get_default_dtype() == torch.float32  # restored after every step
