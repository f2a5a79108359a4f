"""NetSlice: a plane through a network's parameters, as a Landscape (issue 17).

The third kind of landscape beside FunctionLandscape and ModelLandscape: its two coordinates
(a, b) are the plane's, its value the network's full-data loss at theta_c + a*d1 + b*d2 (the
plane of a core.loss_slice.LossSlice), differentiable, so views draw it and optimisers descend
it like any other. parameters_at(a, b) gives the network's parameters at a point of the plane,
where training can start.

Threads may share one: torch.func.functional_call swaps the network's tensors in and out while
it runs, so evaluations take turns under one lock (the map's hover read-out on the GUI thread
and a basin map on its own thread would otherwise mix them). The backward pass needs no lock.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import numpy as np

from explorer.core.landscape import Domain, LandscapeGrid, grid_of_values
from explorer.core.loss_slice import batched_loss, batched_losses
from explorer.core.presets import Minimum
from explorer.core.trajectory import FloatArray

if TYPE_CHECKING:
    import torch

    from explorer.core.loss_slice import LossSlice
    from explorer.core.network import NetProblem


class NetSlice:
    """The network's loss on a plane: f(a, b) = loss(center + a*d1 + b*d2)."""

    def __init__(self, problem: NetProblem, view: LossSlice) -> None:
        import torch

        self.problem = problem
        self.view = view
        self.center = torch.from_numpy(np.ascontiguousarray(view.center))
        self.directions = torch.from_numpy(np.stack((view.d1, view.d2)))
        self._loss = batched_loss(problem)
        self._lock = threading.RLock()

    @property
    def name(self) -> str:
        """'2-32-32-1 tanh, mse: filter slice'."""
        return f"{self.problem.spec.text()}: {self.view.directions} slice"

    @property
    def domain(self) -> Domain:
        """The slice's grid: a and b from its first to its last value."""
        a, b = self.view.alphas, self.view.betas
        return float(a[0]), float(a[-1]), float(b[0]), float(b[-1])

    @property
    def known_minima(self) -> tuple[Minimum, ...]:
        """None are known for a network."""
        return ()

    def objective(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """The loss at each (a, b), differentiable, any matching shapes."""
        import torch

        a, b = torch.broadcast_tensors(a, b)  # type: ignore[no-untyped-call]
        coefficients = torch.stack((a.reshape(-1), b.reshape(-1)), dim=1)
        thetas = self.center + coefficients @ self.directions
        with self._lock:
            return self._loss(thetas).reshape(a.shape)

    def loss(self, points: torch.Tensor) -> torch.Tensor:
        """The loss at every row of an (N, 2) tensor, shaped (N,), differentiable."""
        return self.objective(*points.unbind(1))

    def sample(self, n: int = 256) -> LandscapeGrid:
        """The loss on an n x n grid over the domain (z[i, j] at a = xs[i], b = ys[j])."""
        import torch

        xmin, xmax, ymin, ymax = self.domain
        xs, ys = np.linspace(xmin, xmax, n), np.linspace(ymin, ymax, n)
        a, b = np.meshgrid(xs, ys, indexing="ij")
        coefficients = torch.from_numpy(np.column_stack((a.ravel(), b.ravel())))
        with self._lock:
            z = batched_losses(self.problem, self.center, coefficients, self.directions).numpy()
        return grid_of_values(self.domain, xs, ys, z.reshape(n, n).copy())

    def parameters_at(self, a: float, b: float) -> FloatArray:
        """The network's flat parameter vector at the point (a, b) of the plane."""
        return np.asarray(self.view.center + a * self.view.d1 + b * self.view.d2)
