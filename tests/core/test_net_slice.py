"""core.net_slice: a plane through a network's parameters is a Landscape (issue 17)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from explorer.core.landscape import Landscape
from explorer.core.loss_slice import loss_slice
from explorer.core.net_slice import NetSlice
from explorer.core.network import NetProblem, NetSpec, TrainSettings, train

RNG = np.random.default_rng(8)
X = RNG.normal(size=(50, 2))
Y = np.sign(X[:, 0] + X[:, 1] ** 2 - 1.0)


def _slice() -> tuple[NetProblem, NetSlice]:
    problem = NetProblem(NetSpec(2, (6, 5), "tanh", "mse"), X, Y, 2)
    run = train(problem, TrainSettings("sgd", 0.1, steps=40))
    return problem, NetSlice(problem, loss_slice(problem, run.path, run.loss, grid=7))


def test_it_is_a_landscape_whose_grid_is_the_slices() -> None:
    _, plane = _slice()
    assert isinstance(plane, Landscape)
    grid = plane.sample(7)
    np.testing.assert_allclose(grid.z, plane.view.losses, rtol=1e-13)
    assert grid.domain == plane.domain == (-1.0, 1.0, -1.0, 1.0)
    assert plane.known_minima == () and "2-6-5-1 tanh, mse: filter slice" == plane.name


def test_its_gradient_is_the_networks_along_the_plane() -> None:
    problem, plane = _slice()
    point = torch.tensor([[0.3, -0.2]], dtype=torch.float64, requires_grad=True)
    value = plane.loss(point)
    (grad,) = torch.autograd.grad(value.sum(), point)
    # Independently: the network's own gradient at those parameters, along d1 and d2.
    theta = plane.parameters_at(0.3, -0.2)
    problem.set_parameters(torch.from_numpy(theta))
    loss = problem.loss()
    full = torch.autograd.grad(loss, list(problem.net.parameters()))
    flat = torch.cat([g.reshape(-1) for g in full]).numpy()
    assert float(value[0].detach()) == pytest.approx(float(loss.detach()), rel=1e-13)
    np.testing.assert_allclose(grad[0].numpy(), [flat @ plane.view.d1, flat @ plane.view.d2],
                               rtol=1e-10)


def test_the_objective_takes_matching_shapes() -> None:
    _, plane = _slice()
    a = torch.zeros(3, 2, dtype=torch.float64)
    out = plane.objective(a, torch.tensor(0.0, dtype=torch.float64))
    assert out.shape == (3, 2)
    assert float(out[0, 0].detach()) == pytest.approx(plane.view.center_loss, abs=1e-12)
