"""The sharpness: the largest eigenvalue of a loss's Hessian, from Hessian-vector products.

Rayleigh-Ritz on a growing basis (Lanczos with full reorthogonalisation, keeping each product):
the basis starts from one vector or a few, every step adds the top Ritz vector's residual
(orthogonalised) and its Hessian-vector product, and the answer is the largest eigenvalue of
the basis's projected matrix, the largest algebraic eigenvalue, so a negative eigenvalue of
larger magnitude (a saddle) is never the answer, as it would be for plain power iteration. From
one start vector the basis is Lanczos's Krylov basis.

It stops when the top Ritz value is within rtol (1e-3) of an eigenvalue: its residual
r = ||H y - theta y|| is (some eigenvalue lies that close), or, for a warm start, the gap
theorem's bound r^2 / gap is within GAP_MARGIN (0.3) of it (Parlett, The Symmetric Eigenvalue
Problem, 11.7; gap: the distance to the rest of the spectrum, estimated by the next Ritz value,
which can make it too wide: hence the margin, and no trust from a cold start). The residuals
come from the small matrices T = Q H Q^T and G = (HQ)(HQ)^T, kept as the basis grows, so an
iteration costs a few products of short rows besides its Hessian-vector product.

On the bundled spirals (160 measurements, each checked against numpy's eigvalsh of the full
Hessian) the largest error was 8e-5 of the value, at 3.8 products a measurement; the residual
test alone took 4.6 and erred by 5e-6 at most, its last product buying accuracy nobody asked
for. The price: where two eigenvalues lie within a few percent and the start is blurred (up to
27 degrees), the estimate passes a mixture of the two more often than the residual test (in
4000 random draws, 76 ended more than rtol below the top against 15), every one within a gap
under 2%; from starts blurred up to 45 degrees it also missed a top clear by 2% (4 in 4000,
the residual test none), hence no trust from a cold start (tests/core/test_sharpness.py).

A tracker keeps the top two Ritz vectors of the last measurement and starts the next one from
both (a block warm start). At the edge of stability several eigenvalues sit near 2/lr and take
turns at the top; from the last top vector alone the test passes on the one that was on top
before (on the bundled spirals, 5 of 160 measurements said the second eigenvalue, up to 4%
below the first), while the block holds the one that overtook it."""

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
# Basis vectors before giving up on convergence and returning the estimate so far.
MAX_ITERATIONS = 80
# The most memory the basis and its products may take (a million-parameter network keeps 32).
MAX_BASIS_BYTES = 1 << 29
# Basis vectors at least: a single start that is nearly an eigenvector other than the top one
# has a tiny residual at once.
MIN_ITERATIONS = 3
# Ritz vectors a tracker keeps for the next measurement's start (3 took 4.5 products a
# measurement on the spirals, 2 took 3.8, both within 1e-4 of eigvalsh).
KEEP = 2
# Squares below this lose precision among the subnormals (the smallest normal float is 2e-308).
_SQUARE_FLOOR = 1e-250
# The share of rtol the gap theorem's estimate r^2 / gap must be within (see above).
GAP_MARGIN = 0.3

FloatArray = NDArray[np.float64]
Operator = Callable[["torch.Tensor"], "torch.Tensor"]


@dataclass(frozen=True, eq=False)
class Eigen:
    """A top eigenvalue estimate, its unit vector, the top Ritz vectors (rows, best first, the
    first being vector) and the Hessian-vector products it took."""

    value: float
    vector: torch.Tensor
    products: int
    converged: bool
    block: torch.Tensor


def top_eigenvalue(
    hvp: Operator, start: torch.Tensor, *, rtol: float = RTOL,
    max_iterations: int = MAX_ITERATIONS, resolve: int = 1, gap_margin: float = 0.0
) -> Eigen:
    """The largest (algebraic) eigenvalue of the symmetric operator hvp, from start: one vector,
    or rows of vectors to start the basis from (a warm start's block, best first). resolve:
    how many of the top Ritz pairs must pass the accuracy test (more than one for a block
    worth starting the next measurement from). gap_margin: 0, the residual test alone; else
    the gap theorem's estimate may pass a pair too, within that share of rtol (GAP_MARGIN, for
    a warm start)."""
    import torch

    # The basis's arithmetic is numpy's: on vectors of a few thousand numbers each torch call's
    # overhead was most of it (a third of a measurement, beside its products).
    starts = start.reshape(-1, start.shape[-1]).numpy()
    size = starts.shape[1]
    limit = max(MIN_ITERATIONS, MAX_BASIS_BYTES // (16 * size))
    basis = _Basis(hvp, size, min(max_iterations, size, limit))
    for row in starts:  # a row that is zero, not finite or in the others' span adds nothing
        basis.add(row)
    if not basis.count:  # every start zero: nothing to start from
        return top_eigenvalue(hvp, torch.ones(size, dtype=torch.float64), rtol=rtol,
                              max_iterations=max_iterations, resolve=resolve)
    while True:
        count = basis.count
        t, g = basis.projections()
        if not np.isfinite(t).all():
            block = torch.from_numpy(starts.copy())
            return Eigen(math.nan, block[0].clone(), count, False, block)
        values, vectors = np.linalg.eigh(t)  # reads T's lower triangle
        theta = float(values[-1])
        norms = _residual_norms(values, vectors, g, basis)
        failing = next((i for i in range(count - 1, count - 1 - min(resolve, count), -1)
                        if not _accurate(values, norms, i, rtol * abs(theta), gap_margin)),
                       None)
        residual = None
        if failing is not None and count < size:
            q, hq = basis.kept()
            w = vectors[:, failing]
            residual = w @ hq - float(values[failing]) * (w @ q)
        done = failing is None
        if count == size or (done and count >= min(MIN_ITERATIONS, size)) or (
                residual is None or not basis.add(residual)):
            ritz = torch.from_numpy(vectors[:, ::-1][:, :KEEP].T @ basis.kept()[0])
            return Eigen(theta, ritz[0] / torch.linalg.vector_norm(ritz[0]), count,
                         done or count == size, ritz)


def _residual_norms(
    values: FloatArray, vectors: FloatArray, g: FloatArray, basis: _Basis
) -> FloatArray:
    """Every Ritz pair's residual norm ||H y - value y||. From the small matrices alone where
    they hold full precision: for y = Q^T w, w a unit eigenvector of T, it is w^T G w - value^2
    (Q's rows are orthonormal). Products too large or too small to square (G overflowed, or
    fell among the subnormals): from the residuals themselves, scaled."""
    largest = float(np.max(np.diagonal(g)))  # G's diagonal: ||H q_i||^2, its largest entries
    if _SQUARE_FLOOR < largest < math.inf and np.isfinite(g).all():
        with np.errstate(over="ignore", invalid="ignore"):
            squares: FloatArray = np.einsum("ij,ik,kj->j", vectors, g, vectors) - values**2
        if np.isfinite(squares).all():
            norms: FloatArray = np.sqrt(np.maximum(squares, 0.0))
            return norms
    q, hq = basis.kept()
    with np.errstate(over="ignore", invalid="ignore"):
        residuals = vectors.T @ hq - values[:, None] * (vectors.T @ q)
    return np.array([_norm(r) for r in residuals])


def _norm(v: FloatArray) -> float:
    """||v||, without overflowing or underflowing where v's entries are near float's limits."""
    with np.errstate(over="ignore", invalid="ignore"):
        square = float(v @ v)
    if _SQUARE_FLOOR < square < math.inf:
        return math.sqrt(square)
    scale = float(np.max(np.abs(v), initial=0.0))
    if not 0.0 < scale < math.inf:  # zero, or not finite
        return scale
    return scale * math.sqrt(float((v / scale) @ (v / scale)))


def _accurate(
    values: FloatArray, norms: FloatArray, i: int, tolerance: float, margin: float
) -> bool:
    """Whether Ritz value values[i] (values ascending, norms their residuals) is within
    tolerance of its eigenvalue: its residual r is, or (margin > 0) r^2 / gap is within margin
    of it (the gap theorem), the gap being how far the neighbouring Ritz values are."""
    r = float(norms[i])
    if r <= tolerance:
        return True
    if not margin > 0.0:
        return False
    below = values[i] - values[i - 1] if i > 0 else math.inf
    above = values[i + 1] - values[i] if i + 1 < len(values) else math.inf
    gap = float(min(below, above))
    return math.isfinite(gap) and gap > 0.0 and r * r / gap <= margin * tolerance


class _Basis:
    """Orthonormal rows q, their products hvp(q), and the small matrices T = Q (HQ)^T and
    G = (HQ) (HQ)^T kept as rows are added (numpy float64)."""

    def __init__(self, hvp: Operator, size: int, capacity: int) -> None:
        self.hvp = hvp
        self.capacity = capacity
        # Rows [0] and their products [1]; room for a few, doubled when full (a warm measurement
        # takes three to five).
        self.rows = np.empty((2, min(capacity, 8), size))
        self.small = np.zeros((2, min(capacity, 8), min(capacity, 8)))  # T [0], G [1]
        self.count = 0

    def kept(self) -> tuple[FloatArray, FloatArray]:
        """The basis rows and their products so far."""
        return self.rows[0, : self.count], self.rows[1, : self.count]

    def projections(self) -> tuple[FloatArray, FloatArray]:
        """T (its lower triangle: q_i . H q_j for i >= j) and G, count x count."""
        c = self.count
        return self.small[0, :c, :c], self.small[1, :c, :c]

    def add(self, v: FloatArray) -> bool:
        """Orthogonalise v against the basis and add it with its product; False (and nothing
        added) where v is zero or in the basis's span already, to round-off, or no row is
        left."""
        import torch

        if self.count == self.capacity:
            return False
        before = _norm(v)
        if not before > 0.0 or not math.isfinite(before):
            return False
        q = self.rows[0, : self.count]
        after = before
        # A second pass where the first removed most of v: its round-off would bring
        # converged directions back ("twice is enough").
        for _ in range(2 if self.count else 0):
            v = v - (q @ v) @ q
            removed, after = after, _norm(v)
            if after >= 0.7 * removed:
                break
        if not after > 1e-10 * before:
            return False
        row = v / after
        c = self.count
        if c == self.rows.shape[1]:
            room = min(self.capacity, 2 * c)
            rows, small = np.empty((2, room, self.rows.shape[2])), np.zeros((2, room, room))
            rows[:, :c], small[:, :c, :c] = self.rows, self.small[:, :c, :c]
            self.rows, self.small = rows, small
        self.rows[0, c] = row
        self.rows[1, c] = product = self.hvp(torch.from_numpy(row)).numpy()
        products = self.rows[1, : c + 1]
        self.small[0, c, : c + 1] = products @ row  # q_c . H q_i
        with np.errstate(over="ignore", invalid="ignore"):  # huge products: see the norms
            self.small[1, c, : c + 1] = self.small[1, : c + 1, c] = products @ product
        self.count = c + 1
        return True


def hessian_operator(
    loss: Callable[[], torch.Tensor], params: Sequence[torch.Tensor]
) -> Operator:
    """v (flat) -> H v (flat) for the loss at the parameters now, by double backward."""
    return HessianOperator(loss, params)


class HessianOperator:
    """H v for the loss at the parameters now; also the loss there and its gradient.

    The loss and its gradient graph are built once, the gradient joined into one flat output;
    every product is one backward from it, with v (flat) as its grad_output.
    """

    def __init__(self, loss: Callable[[], torch.Tensor], params: Sequence[torch.Tensor]) -> None:
        import torch

        value = loss()
        self.params = list(params)
        self.grads = torch.autograd.grad(value, self.params, create_graph=True)
        self.value = float(value.detach())
        sizes = [p.numel() for p in params]
        # A gradient that does not depend on the parameters (a loss linear in them) has no
        # graph: its rows of the Hessian are zero, and the flat output leaves it out.
        curved = [i for i, g in enumerate(self.grads) if g.requires_grad]
        self.flat: torch.Tensor | None = None
        self.pick: torch.Tensor | None = None  # v's entries the flat output has (None: all)
        if curved:
            self.flat = torch.cat([self.grads[i].reshape(-1) for i in curved])
        if len(curved) < len(sizes):
            ends = np.cumsum([0, *sizes])
            pieces = [np.arange(ends[i], ends[i + 1], dtype=np.int64) for i in curved]
            self.pick = torch.from_numpy(
                np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.int64))

    def gradient(self) -> list[torch.Tensor]:
        """The loss's gradient, detached."""
        return [g.detach() for g in self.grads]

    def __call__(self, v: torch.Tensor) -> torch.Tensor:
        """H v, flat."""
        import torch

        if self.flat is None:
            return torch.zeros_like(v)
        hv = torch.autograd.grad(
            self.flat,
            self.params,
            grad_outputs=v if self.pick is None else v[self.pick],
            retain_graph=True,
            allow_unused=True,
            materialize_grads=True,
        )
        return torch.cat([h.reshape(-1) for h in hv])


class Sharpness:
    """Measures the sharpness again and again, each time from the last top Ritz vectors."""

    def __init__(self, size: int, seed: int) -> None:
        import torch

        generator = torch.Generator().manual_seed(seed)
        v = torch.randn(size, generator=generator, dtype=torch.float64)
        self.block: torch.Tensor = (v / torch.linalg.vector_norm(v)).reshape(1, size)
        self.products = 0
        self.measurements = 0

    @property
    def vector(self) -> torch.Tensor:
        """The last top eigenvector (before any measurement: the random start)."""
        return self.block[0]

    def measure(self, loss: Callable[[], torch.Tensor], params: Sequence[torch.Tensor]) -> float:
        """The largest eigenvalue of the Hessian of loss() with respect to params, now."""
        return self.measure_operator(HessianOperator(loss, params))

    def measure_operator(self, operator: Operator) -> float:
        """The largest eigenvalue of the Hessian the operator multiplies by (a HessianOperator,
        built at the parameters now), now."""
        # The first measurement, from a random vector, resolves the top KEEP pairs: the
        # block it leaves is worth starting from (later ones refine it as they go).
        # Only a warm start (the last measurement's Ritz vectors) trusts the gap estimate: from
        # a random vector the Ritz values below the top say little of where the spectrum is.
        warm = self.measurements > 0
        eigen = top_eigenvalue(operator, self.block, resolve=1 if warm else KEEP,
                               gap_margin=GAP_MARGIN if warm else 0.0)
        if math.isfinite(eigen.value):  # a diverged network's block would poison the next
            self.block = eigen.block
        self.products += eigen.products
        self.measurements += 1
        return eigen.value
