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


def test_threads_sharing_one_slice_get_what_each_would_alone() -> None:
    """functional_call swaps the network's tensors while it runs: the slice's evaluations take
    turns, so threads that share it (hover on the GUI thread, a basin map on its own) each get
    the loss at their own points, bit for bit as one thread alone."""
    import threading

    _, plane = _slice()
    rng = np.random.default_rng(3)
    batches = [torch.from_numpy(rng.uniform(-1, 1, size=(64, 2))) for _ in range(4)]
    alone = [plane.loss(points).detach().numpy() for points in batches]
    grid = plane.sample(9).z
    results: dict[int, list[np.ndarray]] = {i: [] for i in range(len(batches))}
    grids: list[np.ndarray] = []

    def evaluate(i: int) -> None:
        for _ in range(30):
            results[i].append(plane.loss(batches[i]).detach().numpy())
            if i == 0:
                grids.append(plane.sample(9).z)

    threads = [threading.Thread(target=evaluate, args=(i,)) for i in range(len(batches))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for i, expected in enumerate(alone):
        assert len(results[i]) == 30
        for got in results[i]:
            np.testing.assert_array_equal(got, expected)
    for got in grids:
        np.testing.assert_array_equal(got, grid)
