"""core.net_hessian: a network's Hessian-vector products in closed form equal autograd's double
backward (and the full Hessian's), for every activation and loss, at ordinary and hostile
scales; its gradient and loss are autograd's; the sharpness from it is eigvalsh's top."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer.core.net_hessian import NetHessian
from explorer.core.network import ACTIVATIONS, LOSSES, NetProblem, NetSpec
from explorer.core.sharpness import RTOL, HessianOperator, Sharpness


def _problem(activation: str, loss: str, hidden: tuple[int, ...], seed: int,
             scale: float = 1.0, rows: int = 13, inputs: int = 3) -> NetProblem:
    rng = np.random.default_rng(seed)
    x = scale * rng.normal(size=(rows, inputs))
    y = np.sign(rng.normal(size=rows))
    return NetProblem(NetSpec(inputs, hidden, activation, loss), x, y, seed)


def _autograd(problem: NetProblem) -> HessianOperator:
    return HessianOperator(problem.loss, list(problem.net.parameters()))


@settings(max_examples=60, deadline=None)
@given(activation=st.sampled_from(ACTIVATIONS), loss=st.sampled_from(LOSSES),
       hidden=st.lists(st.integers(1, 6), min_size=1, max_size=3).map(tuple),
       seed=st.integers(0, 10_000))
def test_products_gradient_and_loss_are_autograds(activation: str, loss: str,
                                                  hidden: tuple[int, ...], seed: int) -> None:
    problem = _problem(activation, loss, hidden, seed)
    ours, theirs = NetHessian(problem), _autograd(problem)
    v = torch.from_numpy(np.random.default_rng(seed + 1).normal(size=sum(theirs.sizes)))
    expected = theirs(v)
    scale = max(float(expected.abs().max()), 1e-300)
    np.testing.assert_allclose(ours(v).numpy(), expected.numpy(), rtol=0, atol=1e-12 * scale)
    for mine, reference in zip(ours.gradient(), theirs.gradient(), strict=True):
        assert mine.shape == reference.shape
        np.testing.assert_allclose(mine.numpy(), reference.numpy(), rtol=1e-12, atol=1e-15)
    assert ours.value == pytest.approx(theirs.value, rel=1e-13)


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("loss", LOSSES)
def test_it_is_the_full_hessian_times_v(activation: str, loss: str) -> None:
    problem = _problem(activation, loss, (4, 3), 7)
    ours = NetHessian(problem)
    size = sum(p.numel() for p in problem.net.parameters())
    columns = torch.stack([ours(e) for e in torch.eye(size, dtype=torch.float64)], dim=1)
    # The full Hessian by torch.autograd.functional.hessian on the flat vector, independently.
    flat = torch.cat([p.detach().reshape(-1) for p in problem.net.parameters()])
    names = [n for n, _ in problem.net.named_parameters()]
    shapes = [p.shape for p in problem.net.parameters()]

    def loss_at(theta: torch.Tensor) -> torch.Tensor:
        pieces = torch.split(theta, [int(np.prod(s)) for s in shapes])
        params = {n: q.reshape(s) for n, q, s in zip(names, pieces, shapes, strict=True)}
        return _loss_with(problem, params)

    hessian = torch.autograd.functional.hessian(loss_at, flat)
    np.testing.assert_allclose(columns.numpy(), hessian.numpy(), rtol=1e-10, atol=1e-12)
    value = Sharpness(size, 0).measure_operator(ours)
    assert value == pytest.approx(float(np.linalg.eigvalsh(hessian.numpy())[-1]), rel=RTOL)


def _loss_with(problem: NetProblem, params: dict[str, torch.Tensor]) -> torch.Tensor:
    from explorer.core.network import loss_of

    out = torch.func.functional_call(problem.net, params, (problem.x,)).squeeze(-1)
    return loss_of(problem.spec.loss, out, problem.y)


@settings(max_examples=60, deadline=None)
@given(activation=st.sampled_from(ACTIVATIONS), loss=st.sampled_from(LOSSES),
       exponent=st.integers(-300, 300), seed=st.integers(0, 1000))
def test_hostile_scales_agree_with_autograd_where_it_is_finite(activation: str, loss: str,
                                                               exponent: int, seed: int) -> None:
    # Features from 1e-300 to 1e300: saturated, overflowing and vanishing layers.
    problem = _problem(activation, loss, (3, 2), seed, scale=10.0 ** exponent)
    v = torch.from_numpy(np.random.default_rng(seed).normal(size=sum(
        p.numel() for p in problem.net.parameters())))
    with np.errstate(all="ignore"):
        expected = _autograd(problem)(v).numpy()
        mine = NetHessian(problem)(v).numpy()
    finite = np.isfinite(expected)
    if finite.all():
        scale = max(float(np.abs(expected).max()), 1e-300)
        np.testing.assert_allclose(mine, expected, rtol=0, atol=1e-9 * scale)


def test_a_network_of_another_shape_is_refused() -> None:
    problem = _problem("tanh", "mse", (4,), 0)
    problem.net.append(torch.nn.Linear(1, 1, dtype=torch.float64))
    with pytest.raises(ValueError, match="Linear layers"):
        NetHessian(problem)


def test_an_unknown_activation_is_refused() -> None:
    problem = _problem("tanh", "mse", (4,), 0)
    problem.spec = NetSpec(3, (4,), "swish", "mse")
    with pytest.raises(ValueError, match="swish"):
        NetHessian(problem)
