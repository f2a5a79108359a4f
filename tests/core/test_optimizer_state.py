"""core.optimizer_state: what the recorded state means, checked against the steps torch took.

The oracle is the path itself: the arrow of Adam (and of SGD's momentum) is the whole step from
row k - 1 to row k, and the adaptive methods' per-axis step times what it multiplies (the
gradient, or Adam's m-hat) is that step too. The moments' formulas are written out here.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer.core.descent import descend
from explorer.core.optimizer_state import StateReading, no_state_note, read_state
from explorer.core.optimizers import Value
from explorer.core.trajectory import RunSettings, Trajectory


def _ravine(x: Any, y: Any) -> Any:
    return x**2 + 10 * y**2


def _path(optimizer: str, lr: float, steps: int = 30, start: tuple[float, float] = (-4.0, 2.0),
          params: dict[str, Value] | None = None, **more: Value) -> tuple[RunSettings, Trajectory]:
    """A descent on the ravine with its state recorded."""
    s = RunSettings.create({**(params or {}), **more}, optimizer=optimizer, lr=lr, steps=steps,
                           tol=0.0)
    run = None
    for chunk in descend(_ravine, [start], s, state=True):
        run = chunk.run
    assert run is not None
    return s, run.trajectory(0)


def _step(t: Trajectory, k: int) -> np.ndarray:
    return np.array([t.x[k] - t.x[k - 1], t.y[k] - t.y[k - 1]])


def _grad(t: Trajectory, k: int) -> np.ndarray:
    """The gradient step k used (found at row k - 1)."""
    return np.array([t.grad_x[k - 1], t.grad_y[k - 1]])


@pytest.mark.parametrize(("optimizer", "params"), [
    ("adam", {}), ("adam", {"amsgrad": True}), ("adamax", {}), ("radam", {}),
    ("momentum", {}), ("rmsprop", {"momentum": 0.5}), ("sgd", {"momentum": 0.3}),
])
def test_arrow_is_the_step_taken(optimizer: str, params: dict[str, Value]) -> None:
    s, t = _path(optimizer, 0.03, params=params)
    for k in range(1, t.steps + 1):
        reading = read_state(s, t.state, k)
        assert reading.arrow is not None
        assert np.allclose(reading.arrow, _step(t, k), rtol=1e-9, atol=1e-300)


def test_adam_cross_is_lr_over_root_v_hat() -> None:
    lr, beta1, beta2, eps = 0.1, 0.8, 0.99, 1e-6
    s, t = _path("adam", lr, betas=(beta1, beta2), eps=eps)
    g = np.array([_grad(t, k) for k in range(1, t.steps + 1)])
    m, v = np.zeros(2), np.zeros(2)
    for k in range(1, t.steps + 1):
        m = beta1 * m + (1 - beta1) * g[k - 1]  # the moments written out
        v = beta2 * v + (1 - beta2) * g[k - 1] ** 2
        reading = read_state(s, t.state, k)
        half = lr / (np.sqrt(v / (1 - beta2**k)) + eps)
        assert reading.spread == pytest.approx(tuple(half), rel=1e-9)
        assert np.allclose(-(m / (1 - beta1**k)) * half, _step(t, k), rtol=1e-9)
        names = [name for name, _, _ in reading.values]
        assert names == ["exp_avg", "exp_avg_sq"]


@pytest.mark.parametrize(("optimizer", "params"), [
    ("rmsprop", {}), ("rmsprop", {"centered": True}), ("adagrad", {}),
    ("adagrad", {"lr_decay": 0.1}), ("adadelta", {}),
])
def test_cross_times_gradient_is_the_step(optimizer: str, params: dict[str, Value]) -> None:
    s, t = _path(optimizer, 0.05 if optimizer != "adadelta" else 10.0, params=params)
    for k in range(1, t.steps + 1):
        reading = read_state(s, t.state, k)
        assert reading.arrow is None and reading.spread is not None
        assert np.allclose(-np.array(reading.spread) * _grad(t, k), _step(t, k), rtol=1e-8)


def test_nadam_arrow_plus_gradient_part_is_the_step() -> None:
    lr, beta1, decay = 0.05, 0.9, 4e-3
    s, t = _path("nadam", lr)
    product = 1.0
    for k in range(1, t.steps + 1):
        mu = beta1 * (1 - 0.5 * 0.96 ** (k * decay))
        product *= mu
        reading = read_state(s, t.state, k)
        assert reading.arrow is not None and reading.spread is not None
        gradient_part = -(1 - mu) / (1 - product) * _grad(t, k) * np.array(reading.spread)
        assert np.allclose(np.array(reading.arrow) + gradient_part, _step(t, k), rtol=1e-8)


def test_radam_warm_up_has_no_cross() -> None:
    s, t = _path("radam", 0.05, steps=8)
    early = read_state(s, t.state, 1)
    assert early.spread is None and "warm-up" in early.note
    assert early.arrow is not None


@given(lr=st.floats(1e-4, 1.0), beta1=st.floats(0.0, 0.99), beta2=st.floats(0.5, 0.9999),
       x=st.floats(-5, 5), y=st.floats(-5, 5))
@settings(max_examples=25, deadline=None)
def test_adam_arrow_any_hyperparameters(lr: float, beta1: float, beta2: float, x: float,
                                        y: float) -> None:
    s, t = _path("adam", lr, steps=6, start=(x, y), betas=(beta1, beta2))
    for k in range(1, t.steps + 1):
        arrow = read_state(s, t.state, k).arrow
        step = _step(t, k)
        if arrow is None:  # a zero gradient from the start: 0/0 in Adam is NaN, never drawn
            assert not np.isfinite(t.state["exp_avg"][k]).all() or not np.isfinite(step).all() \
                or np.allclose(step, 0.0)
            continue
        assert np.allclose(arrow, step, rtol=1e-7, atol=1e-12)


@pytest.mark.parametrize(("optimizer", "params"), [("sgd", {}), ("lbfgs", {})])
def test_no_state_says_so(optimizer: str, params: dict[str, Value]) -> None:
    s, t = _path(optimizer, 0.01, steps=3, params=params)
    assert t.state == {}
    reading = read_state(s, t.state, 2)
    assert not reading.drawn and reading.values == ()
    assert "nothing to draw" in reading.note
    assert no_state_note("momentum") == "" and no_state_note("adam") == ""
    assert "nothing to draw" in no_state_note("bfgs")  # not a torch.optim optimiser


def test_hostile_state_draws_nothing() -> None:
    s, t = _path("adam", 0.05, steps=5)
    for k in (-1, 0, 6, 10**9, -(10**9)):
        reading = read_state(s, t.state, k)
        assert isinstance(reading, StateReading) and not reading.drawn and reading.note
    assert not read_state(s, {}, 3).drawn  # a path without its state (read from a file)
    nan = {name: np.full_like(values, np.nan) for name, values in t.state.items()}
    assert not read_state(s, nan, 3).drawn
    huge = {"exp_avg": np.full((6, 2), 1e308), "exp_avg_sq": np.full((6, 2), np.inf)}
    reading = read_state(s, huge, 3)
    assert reading.spread == (0.0, 0.0) or reading.spread is None
    assert reading.arrow is None or all(math.isfinite(v) for v in reading.arrow)
    overflow = {"momentum_buffer": np.full((4, 2), 1e308)}
    momentum = RunSettings(optimizer="momentum", lr=10.0, steps=3)
    assert read_state(momentum, overflow, 2).arrow is None  # -lr * buf overflows: not drawn
    with pytest.raises(ValueError):
        read_state(s, {"exp_avg": np.zeros(5), "exp_avg_sq": np.zeros(5)}, 1)


@pytest.mark.parametrize("optimizer", ["adam", "momentum", "adamax"])
def test_ascent_arrow_is_the_step_taken(optimizer: str) -> None:
    """maximize=True: torch's buffers hold the negated gradient, the formula is unchanged."""
    s = RunSettings(optimizer=optimizer, lr=0.01, steps=15, tol=0.0, ascent=True)
    run = None
    for chunk in descend(_ravine, [(1.0, -0.5)], s, state=True):
        run = chunk.run
    assert run is not None
    t = run.trajectory(0)
    for k in range(1, t.steps + 1):
        arrow = read_state(s, t.state, k).arrow
        assert arrow is not None and np.allclose(arrow, _step(t, k), rtol=1e-9)
