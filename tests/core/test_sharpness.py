"""core.sharpness: the top Hessian eigenvalue from Hessian-vector products (issue 17)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer.core.network import NetProblem, NetSpec, build_net, loss_of
from explorer.core.sharpness import KEEP, RTOL, Sharpness, hessian_operator, top_eigenvalue


def _symmetric(eigenvalues: list[float], seed: int) -> torch.Tensor:
    """Q diag(eigenvalues) Q^T for a random orthogonal Q: a Hessian whose spectrum we chose."""
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.normal(size=(len(eigenvalues), len(eigenvalues))))
    return torch.from_numpy(q @ np.diag(eigenvalues) @ q.T)


def _quadratic_sharpness(h: torch.Tensor, seed: int = 0) -> float:
    """The tracker's answer for the loss 0.5 w^T H w, measured through autograd."""
    w = torch.ones(len(h), dtype=torch.float64, requires_grad=True)
    tracker = Sharpness(len(h), seed)
    return tracker.measure(lambda: 0.5 * w @ h @ w, [w])


def test_a_quadratic_model_gives_its_top_eigenvalue() -> None:
    eigenvalues = [7.0, 3.0, 1.0, -2.0, 0.5]
    value = _quadratic_sharpness(_symmetric(eigenvalues, 1))
    assert value == pytest.approx(7.0, rel=RTOL)


def test_a_dominant_negative_eigenvalue_is_not_the_answer() -> None:
    # |-9| is the largest magnitude: plain power iteration would say -9.
    eigenvalues = [-9.0, 2.0, 1.0, 0.3]
    value = _quadratic_sharpness(_symmetric(eigenvalues, 2))
    assert value == pytest.approx(2.0, rel=RTOL)


def test_every_eigenvalue_negative_gives_the_least_negative() -> None:
    eigenvalues = [-9.0, -1.0, -4.0]
    value = _quadratic_sharpness(_symmetric(eigenvalues, 3))
    assert value == pytest.approx(-1.0, rel=RTOL)


@settings(max_examples=40, deadline=None)
@given(
    eigenvalues=st.lists(
        st.floats(min_value=-50, max_value=50, allow_nan=False), min_size=2, max_size=8
    ),
    seed=st.integers(0, 1000),
)
def test_random_spectra_with_a_clear_top(eigenvalues: list[float], seed: int) -> None:
    top = max(eigenvalues)
    others = [v for v in eigenvalues if v != top]
    # A clear gap above the next eigenvalue and to the most negative one (power iteration's
    # speed depends on those ratios; 500 iterations cover a 10% gap).
    gap = 0.1 * max(1.0, abs(top), *(abs(v) for v in eigenvalues))
    spectrum = [top, *(v if v < top - gap else top - gap for v in others)]
    h = _symmetric(spectrum, seed)
    value = _quadratic_sharpness(h, seed)
    reference = float(np.linalg.eigvalsh(h.numpy())[-1])
    assert value == pytest.approx(reference, rel=5 * RTOL, abs=1e-9 * gap)


def test_a_tiny_net_matches_eigvalsh_of_its_full_hessian() -> None:
    rng = np.random.default_rng(5)
    x = rng.normal(size=(20, 2))
    y = np.sign(rng.normal(size=20))
    problem = NetProblem(NetSpec(2, (4,), "tanh", "mse"), x, y, 3)
    params = list(problem.net.parameters())
    value = Sharpness(sum(p.numel() for p in params), 0).measure(problem.loss, params)

    # The full Hessian by torch.autograd.functional.hessian on the flat vector, independently.
    net = build_net(problem.spec, 3)
    shapes = [p.shape for p in net.parameters()]
    flat = torch.cat([p.detach().reshape(-1) for p in net.parameters()])

    def loss(theta: torch.Tensor) -> torch.Tensor:
        out = problem.x
        pieces = torch.split(theta, [int(np.prod(s)) for s in shapes])
        w1, b1, w2, b2 = (piece.reshape(s) for piece, s in zip(pieces, shapes, strict=True))
        out = torch.tanh(out @ w1.T + b1) @ w2.T + b2
        return loss_of("mse", out.squeeze(-1), problem.y)

    hessian = torch.autograd.functional.hessian(loss, flat).numpy()
    reference = float(np.linalg.eigvalsh(hessian)[-1])
    assert value == pytest.approx(reference, rel=RTOL)


def test_the_warm_start_needs_fewer_products() -> None:
    h = _symmetric([5.0, 4.0, *np.linspace(-3.0, 3.0, 58)], 7)
    w = torch.ones(60, dtype=torch.float64, requires_grad=True)
    tracker = Sharpness(60, 0)
    tracker.measure(lambda: 0.5 * w @ h @ w, [w])
    cold = tracker.products
    tracker.measure(lambda: 0.5 * w @ h @ w, [w])
    assert tracker.products - cold < cold


def test_a_zero_hessian_has_sharpness_zero() -> None:
    w = torch.ones(3, dtype=torch.float64, requires_grad=True)
    # A linear loss: its gradient is constant, its Hessian zero.
    value = Sharpness(3, 0).measure(lambda: (w * torch.tensor([1.0, 2.0, 3.0])).sum(), [w])
    assert value == 0.0


def test_the_largest_eigenvalue_of_two_equal_magnitudes() -> None:
    # +50 and -50: power iteration's quotient would stand still between them.
    h = _symmetric([50.0, -50.0, 0.0, 1.0], 297)
    eigen = top_eigenvalue(lambda v: h @ v, torch.ones(4, dtype=torch.float64))
    assert eigen.value == pytest.approx(50.0, rel=RTOL)
    assert eigen.converged
    # The vector returned is the eigenvector: H v = 50 v.
    assert torch.allclose(h @ eigen.vector, 50.0 * eigen.vector, atol=1e-6)


def test_the_operator_is_the_hessian_times_the_vector() -> None:
    h = _symmetric([3.0, -1.0, 2.0], 9)
    w = torch.tensor([0.3, -0.2, 1.0], dtype=torch.float64, requires_grad=True)
    product = hessian_operator(lambda: 0.5 * w @ h @ w + torch.sin(w).sum(), [w])
    v = torch.tensor([1.0, 2.0, -1.0], dtype=torch.float64)
    expected = h @ v - torch.sin(w.detach()) * v  # the Hessian of sum(sin w) is diag(-sin w)
    assert torch.allclose(product(v), expected, atol=1e-12)


def test_the_warm_block_sees_an_eigenvalue_overtake_the_top_one() -> None:
    # At the edge of stability eigenvalues near 2/lr take turns at the top. The last top
    # vector e0 is an exact eigenvector of the new Hessian (eigenvalue 10), whose top is now
    # 10.05 along e1: from e0 alone the residual test passes at 10; the block's second vector,
    # the last measurement's second Ritz vector (near e1), lets the Rayleigh-Ritz step see it.
    q, _ = np.linalg.qr(np.random.default_rng(11).normal(size=(40, 40)))
    h = torch.from_numpy(q @ np.diag([10.0, 10.05, *np.linspace(-2.0, 9.0, 38)]) @ q.T)
    e0, e1 = torch.from_numpy(q[:, 0].copy()), torch.from_numpy(q[:, 1].copy())
    noise = torch.from_numpy(np.random.default_rng(3).normal(size=40))
    second = e1 + 0.02 * noise / torch.linalg.vector_norm(noise)
    eigen = top_eigenvalue(lambda v: h @ v, torch.stack([e0, second]))
    assert eigen.value == pytest.approx(10.05, rel=RTOL)
    assert eigen.block.shape == (KEEP, 40)
    np.testing.assert_allclose(eigen.block @ eigen.block.T, np.eye(KEEP), atol=1e-10)
    tracker = Sharpness(40, 0)
    tracker.measure_operator(lambda v: h @ v)
    assert tracker.block.shape == (KEEP, 40)  # the next measurement starts from them all


def test_the_basis_stays_within_its_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    import explorer.core.sharpness as sharpness

    # Room for 5 rows (and their products) of 200 numbers: a slow spectrum stops there.
    monkeypatch.setattr(sharpness, "MAX_BASIS_BYTES", 16 * 200 * 5)
    h = _symmetric(list(np.linspace(0.0, 1.0, 200)), 4)
    eigen = top_eigenvalue(lambda v: h @ v, torch.ones(200, dtype=torch.float64))
    assert eigen.products == 5 and not eigen.converged
    assert eigen.value <= 1.0 + 1e-12  # a Ritz value: never above the top


@pytest.mark.parametrize("bad", ["zero", "nan", "repeated"])
def test_hostile_start_rows_add_nothing(bad: str) -> None:
    h = _symmetric([6.0, 2.0, -1.0, 0.5, 3.0], 8)
    good = torch.tensor([1.0, 0.5, -0.2, 0.3, 0.1], dtype=torch.float64)
    other = {"zero": torch.zeros(5, dtype=torch.float64),
             "nan": torch.full((5,), float("nan"), dtype=torch.float64),
             "repeated": 3.0 * good}[bad]
    for rows in (torch.stack([other, good]), torch.stack([good, other]), other[None]):
        eigen = top_eigenvalue(lambda v: h @ v, rows)
        assert eigen.value == pytest.approx(6.0, rel=RTOL)
        assert torch.isfinite(eigen.block).all()


def test_a_non_finite_hessian_gives_nan_and_keeps_the_block() -> None:
    w = torch.ones(3, dtype=torch.float64, requires_grad=True)
    tracker = Sharpness(3, 0)
    tracker.measure(lambda: (w**2).sum(), [w])
    block = tracker.block.clone()
    value = tracker.measure(lambda: (w**2).sum() * float("inf"), [w])
    assert not np.isfinite(value)
    assert torch.equal(tracker.block, block)
