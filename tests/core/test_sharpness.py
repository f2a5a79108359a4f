"""core.sharpness: the top Hessian eigenvalue from Hessian-vector products (issue 17)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer.core.network import NetProblem, NetSpec, build_net, loss_of
from explorer.core.sharpness import (
    GAP_MARGIN,
    KEEP,
    RTOL,
    Sharpness,
    hessian_operator,
    top_eigenvalue,
)


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


@settings(max_examples=60, deadline=None)
@given(
    size=st.integers(6, 60),
    gap=st.floats(min_value=1e-5, max_value=0.5),
    noise=st.floats(min_value=0.0, max_value=0.5),
    swapped=st.booleans(),
    seed=st.integers(0, 10_000),
)
def test_the_gap_estimate_stops_within_rtol_of_the_top(
    size: int, gap: float, noise: float, swapped: bool, seed: int
) -> None:
    # The warm start's stopping rule trusts r^2 / gap, the gap read off the next Ritz value.
    # Attack it where that matters: a second eigenvalue close under the top (down to 1e-5 of
    # it), a warm block of the top two eigenvectors blurred by noise (up to about 27 degrees),
    # in either order (the second having overtaken the first, as at the edge of stability). A
    # top clear by 2% is found to rtol. Within a tighter cluster the blurred start may leave
    # the answer on a mixture of the two (the residual test alone does too, less often: in 4000
    # such draws 15 ended more than rtol below the top, against 76), but never above the top
    # and never below the cluster. (Starts blurred up to 45 degrees broke that 4 times in 4000,
    # the residual test never: hence no trust in the gap from a cold start.)
    rng = np.random.default_rng(seed)
    second = 20.0 * (1.0 - gap)
    spectrum = [20.0, second, *rng.uniform(-5.0, second, size - 2)]
    q, _ = np.linalg.qr(rng.normal(size=(size, size)))
    h = torch.from_numpy(q @ np.diag(spectrum) @ q.T)
    block = q[:, [1, 0] if swapped else [0, 1]].T + noise * rng.normal(size=(2, size)) / size**0.5
    eigen = top_eigenvalue(lambda v: h @ v, torch.from_numpy(block), gap_margin=GAP_MARGIN)
    assert eigen.converged
    assert eigen.value <= 20.0 + 1e-9  # a Ritz value never passes the top
    if gap >= 0.02:
        assert eigen.value == pytest.approx(20.0, rel=RTOL)
    else:
        assert eigen.value >= second - RTOL * 20.0


@settings(max_examples=60, deadline=None)
@given(
    exponent=st.integers(-300, 300),
    eigenvalues=st.lists(st.floats(min_value=-1.0, max_value=1.0), min_size=2, max_size=8),
    gap_margin=st.sampled_from([0.0, GAP_MARGIN]),
    seed=st.integers(0, 1000),
)
def test_huge_and_tiny_hessians_neither_overflow_nor_lose_the_top(
    exponent: int, eigenvalues: list[float], gap_margin: float, seed: int
) -> None:
    # Curvatures from 1e-300 to 1e300: the small matrices square the products (G), which
    # overflows past 1e154; the residuals then come from the vectors, scaled. No warning (an
    # error under this suite's settings), and the top within rtol of its scale.
    scale = 10.0**exponent
    spectrum = [1.0, *(min(v, 0.5) for v in eigenvalues)]  # a clear top
    h = _symmetric([scale * v for v in spectrum], seed)
    eigen = top_eigenvalue(lambda v: h @ v, torch.ones(len(spectrum), dtype=torch.float64),
                           gap_margin=gap_margin)
    assert eigen.converged
    assert eigen.value == pytest.approx(scale, rel=RTOL)


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
    # The vector returned is the eigenvector's estimate: within the angle the stopping rule
    # allows, residual / gap (the gap theorem's other half), of the eigenvector for 50.
    top = torch.from_numpy(np.linalg.eigh(h.numpy())[1][:, -1])
    residual = float(torch.linalg.vector_norm(h @ eigen.vector - eigen.value * eigen.vector))
    cosine = abs(float(top @ eigen.vector))
    assert np.sqrt(max(0.0, 1.0 - cosine**2)) <= residual / (50.0 - 1.0) + 1e-12  # Davis-Kahan
    assert float(eigen.vector @ h @ eigen.vector) == pytest.approx(50.0, rel=RTOL)


def test_the_operator_is_the_hessian_times_the_vector() -> None:
    h = _symmetric([3.0, -1.0, 2.0], 9)
    w = torch.tensor([0.3, -0.2, 1.0], dtype=torch.float64, requires_grad=True)
    product = hessian_operator(lambda: 0.5 * w @ h @ w + torch.sin(w).sum(), [w])
    v = torch.tensor([1.0, 2.0, -1.0], dtype=torch.float64)
    expected = h @ v - torch.sin(w.detach()) * v  # the Hessian of sum(sin w) is diag(-sin w)
    assert torch.allclose(product(v), expected, atol=1e-12)


def test_a_parameter_the_loss_is_linear_in_has_zero_rows() -> None:
    # b's gradient is constant (no graph): the flat output leaves it out, and H v is zero on
    # b's entries while a's and c's are their own diagonal Hessians times v.
    a = torch.tensor([0.4, -1.1], dtype=torch.float64, requires_grad=True)
    b = torch.tensor([[2.0, 3.0], [1.0, -1.0]], dtype=torch.float64, requires_grad=True)
    c = torch.tensor([0.5, 2.0, -0.3], dtype=torch.float64, requires_grad=True)
    k = torch.tensor([[1.0, -2.0], [0.5, 4.0]], dtype=torch.float64)
    product = hessian_operator(
        lambda: torch.sin(a).sum() + (k * b).sum() + (c**3).sum(), [a, b, c])
    v = torch.arange(1.0, 10.0, dtype=torch.float64)
    expected = torch.cat([-torch.sin(a.detach()) * v[:2], torch.zeros(4, dtype=torch.float64),
                          6.0 * c.detach() * v[6:]])
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
