"""The sharpness: the largest eigenvalue of a loss's Hessian, from Hessian-vector products.

Lanczos with full reorthogonalisation builds a Krylov basis from a start vector, one
Hessian-vector product per step, and takes the largest eigenvalue of its tridiagonal matrix:
the largest algebraic eigenvalue, so a negative eigenvalue of larger magnitude (a saddle) is
never the answer, as it would be for plain power iteration. It stops when the top Ritz value's
error bound is within rtol (1e-3) of it. A tracker keeps the last top vector and starts the next
measurement from it (the warm start): while training moves slowly, that vector is nearly an
eigenvector already and a measurement takes a few products.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    import torch

# The relative accuracy the issue asks for.
RTOL = 1e-3
# Lanczos steps before giving up on convergence and returning the estimate so far (each keeps
# one vector of the parameters' size).
MAX_ITERATIONS = 80
# Lanczos steps at least: a start that is nearly an eigenvector other than the top one (a
# warm start after the top direction changed) has a tiny residual at once.
MIN_ITERATIONS = 3
# The share of a fresh random direction mixed into each warm start, for the same reason.
WARM_NOISE = 0.05

FloatArray = NDArray[np.float64]
Operator = Callable[["torch.Tensor"], "torch.Tensor"]


@dataclass(frozen=True)
class Eigen:
    """A top eigenvalue estimate, its unit vector and the Hessian-vector products it took."""

    value: float
    vector: torch.Tensor
    products: int
    converged: bool


def top_eigenvalue(
    hvp: Operator, start: torch.Tensor, *, rtol: float = RTOL, max_iterations: int = MAX_ITERATIONS
) -> Eigen:
    """The largest (algebraic) eigenvalue of the symmetric operator hvp, by Lanczos from start."""
    import torch

    size = start.numel()
    steps = min(max_iterations, size)
    basis = torch.empty(steps, size, dtype=start.dtype)
    alphas: list[float] = []
    betas: list[float] = []
    basis[0] = start / torch.linalg.vector_norm(start)
    for k in range(steps):
        q, kept = basis[k], basis[: k + 1]
        w = hvp(q)
        alphas.append(float(torch.dot(q, w)))
        # Full reorthogonalisation against the short basis: without it round-off brings
        # converged directions back as copies of the top eigenvalue. A second pass only where
        # the first removed most of w ("twice is enough").
        before = torch.linalg.vector_norm(w)
        w = w - kept.T @ (kept @ w)
        beta = float(torch.linalg.vector_norm(w))
        if beta < 0.7 * float(before):
            w = w - kept.T @ (kept @ w)
            beta = float(torch.linalg.vector_norm(w))
        value, vector, done = _ritz(alphas, betas, beta, rtol)
        done = done and (k + 1 >= MIN_ITERATIONS or beta == 0.0)
        if not math.isfinite(value):
            return Eigen(value, q.clone(), k + 1, False)
        if done or k + 1 == steps:
            top = torch.from_numpy(vector) @ kept
            top = top / torch.linalg.vector_norm(top)
            return Eigen(value, top, k + 1, done or k + 1 == size)
        betas.append(beta)
        basis[k + 1] = w / beta
    raise AssertionError("unreachable: the loop returns at its last step")


def _ritz(
    alphas: list[float], betas: list[float], beta: float, rtol: float
) -> tuple[float, FloatArray, bool]:
    """The top Ritz value of the tridiagonal matrix, its vector, and whether it is accurate.

    ||H y - theta y|| = beta * |s_last| (the Lanczos residual), and some eigenvalue of H lies
    within it of theta. Accurate: that residual is at most rtol * |theta| (the error itself is
    about residual^2 / gap, smaller still); an exhausted space (beta zero to round-off) is
    exact. (An error estimate residual^2 / (gap to the next Ritz value) stops too early from a
    start nearly orthogonal to the top vector: the Ritz gap then overstates the true one.)
    """
    t = np.diag(alphas)
    if betas:
        t += np.diag(betas, 1) + np.diag(betas, -1)
    if not np.isfinite(t).all() or not math.isfinite(beta):
        return math.nan, np.zeros(len(alphas)), False
    values, vectors = np.linalg.eigh(t)
    theta = float(values[-1])
    residual = beta * abs(float(vectors[-1, -1]))
    spread = float(np.max(np.abs(values)))
    scale = rtol * max(abs(theta), 1e-9 * spread)
    if beta <= 1e-12 * max(spread, 1e-300):
        return theta, vectors[:, -1], True
    return theta, vectors[:, -1], residual <= scale


def hessian_operator(
    loss: Callable[[], torch.Tensor], params: Sequence[torch.Tensor]
) -> Operator:
    """v (flat) -> H v (flat) for the loss at the parameters now, by double backward."""
    return HessianOperator(loss, params)


class HessianOperator:
    """H v for the loss at the parameters now; also the loss there and its gradient.

    The loss and its gradient graph are built once; every product is one backward through it.
    """

    def __init__(self, loss: Callable[[], torch.Tensor], params: Sequence[torch.Tensor]) -> None:
        import torch

        value = loss()
        self.params = list(params)
        self.grads = torch.autograd.grad(value, self.params, create_graph=True)
        self.value = float(value.detach())
        self.shapes = [p.shape for p in params]
        self.sizes = [p.numel() for p in params]
        # A gradient that does not depend on the parameters (a loss linear in them) has no
        # graph: its rows of the Hessian are zero.
        self.curved = [i for i, g in enumerate(self.grads) if g.requires_grad]

    def gradient(self) -> list[torch.Tensor]:
        """The loss's gradient, detached: what a training step at these parameters needs."""
        return [g.detach() for g in self.grads]

    def __call__(self, v: torch.Tensor) -> torch.Tensor:
        """H v, flat."""
        import torch

        curved, shapes = self.curved, self.shapes
        if not curved:
            return torch.zeros_like(v)
        pieces = torch.split(v, self.sizes)
        hv = torch.autograd.grad(
            [self.grads[i] for i in curved],
            self.params,
            grad_outputs=[pieces[i].reshape(shapes[i]) for i in curved],
            retain_graph=True,
            allow_unused=True,
            materialize_grads=True,
        )
        return torch.cat([h.reshape(-1) for h in hv]).detach()


class Sharpness:
    """Measures the sharpness again and again, each time from the last top vector."""

    def __init__(self, size: int, seed: int) -> None:
        import torch

        self.generator = torch.Generator().manual_seed(seed)
        self.vector = self._random(size)
        self.products = 0
        self.measurements = 0
        # The loss and its gradient where the last measurement was taken (a full-batch
        # training step there needs no pass of its own).
        self.loss = math.nan
        self.gradient: list[torch.Tensor] = []

    def measure(self, loss: Callable[[], torch.Tensor], params: Sequence[torch.Tensor]) -> float:
        """The largest eigenvalue of the Hessian of loss() with respect to params, now."""
        start = self.vector
        if self.measurements:
            start = start + WARM_NOISE * self._random(len(start))
        operator = HessianOperator(loss, params)
        eigen = top_eigenvalue(operator, start)
        self.loss, self.gradient = operator.value, operator.gradient()
        self.vector = eigen.vector
        self.products += eigen.products
        self.measurements += 1
        return eigen.value

    def _random(self, size: int) -> torch.Tensor:
        """A random unit vector from the tracker's own generator."""
        import torch

        v = torch.randn(size, generator=self.generator, dtype=torch.float64)
        norm: torch.Tensor = torch.linalg.vector_norm(v)
        return v / norm
