"""core.loss_slice: directions, the batched grid, the projected path (issue 17)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from explorer.core.budget import BudgetError
from explorer.core.loss_slice import (
    SliceError,
    check_slice,
    filter_directions,
    fixed_directions,
    loss_slice,
    pca_directions,
    project,
    run_slice,
)
from explorer.core.network import NetProblem, NetRun, NetSpec, TrainSettings, train

RNG = np.random.default_rng(3)
X = RNG.normal(size=(60, 2))
Y = np.sign(X[:, 0] * X[:, 1])


def _trained(steps: int = 60, spec: NetSpec | None = None) -> tuple[NetProblem, NetRun]:
    problem = NetProblem(spec or NetSpec(2, (8, 6), "tanh", "mse"), X, Y, 1)
    return problem, train(problem, TrainSettings("sgd", 0.1, steps=steps))


@pytest.mark.parametrize("directions", ["filter", "pca", "fixed"])
def test_the_centre_is_the_final_loss(directions: str) -> None:
    problem, run = _trained()
    view = loss_slice(problem, run.path, run.loss, directions=directions, grid=9)
    assert view.center_loss == pytest.approx(float(run.loss[-1]), abs=1e-10)
    assert view.losses.shape == (9, 9) and view.alphas[4] == 0.0 == view.betas[4]


def test_the_grid_is_the_loss_at_each_point_of_the_plane() -> None:
    problem, run = _trained()
    view = loss_slice(problem, run.path, run.loss, directions="filter", grid=5)
    other = NetProblem(problem.spec, X, Y, 1)
    for i, j in ((0, 0), (1, 3), (4, 2)):
        theta = view.center + view.alphas[i] * view.d1 + view.betas[j] * view.d2
        other.set_parameters(torch.from_numpy(theta))
        with torch.no_grad():
            assert view.losses[i, j] == pytest.approx(float(other.loss()), rel=1e-12)


def test_filter_normalisation_gives_each_row_its_weights_row_norm() -> None:
    problem, run = _trained()
    weights = torch.from_numpy(run.path[-1])
    d = filter_directions(problem, weights, 5)
    offset = 0
    for p in problem.net.parameters():
        size = p.numel()
        for k in range(2):
            piece = d[k, offset : offset + size].reshape(p.shape)
            w = weights[offset : offset + size].reshape(p.shape)
            if p.dim() == 1:
                assert torch.count_nonzero(piece) == 0  # bias directions are zero
            else:
                torch.testing.assert_close(piece.norm(dim=1), w.norm(dim=1), rtol=1e-12, atol=0)
        offset += size
    assert not torch.equal(d[0], d[1])


def test_pca_of_a_straight_line_path_gives_that_line() -> None:
    rng = np.random.default_rng(0)
    end = rng.normal(size=30)
    line = rng.normal(size=30)
    t = np.linspace(1.0, 0.0, 50) ** 2  # uneven steps along one line
    path = end + t[:, None] * line
    d = pca_directions(path, end).numpy()
    unit = line / np.linalg.norm(line)
    assert abs(float(d[0] @ unit)) == pytest.approx(1.0, abs=1e-12)
    assert abs(float(d[1] @ unit)) < 1e-12 and np.linalg.norm(d[1]) == pytest.approx(1.0)


def test_pca_of_a_plane_path_recovers_the_plane_and_the_path_exactly() -> None:
    problem, run = _trained()
    view = loss_slice(problem, run.path, run.loss, directions="pca", grid=5)
    ab = view.path_ab
    assert np.max(np.abs(ab)) <= max(abs(view.alphas[0]), abs(view.betas[0]))
    # The start, on a plane that holds the path's main directions, is at least covered.
    rebuilt = view.center + ab[:, :1] * view.d1 + ab[:, 1:] * view.d2
    residual = np.linalg.norm(run.path - rebuilt, axis=1)
    assert residual[-1] == pytest.approx(0.0, abs=1e-12)


def test_the_projection_is_least_squares() -> None:
    rng = np.random.default_rng(2)
    d = rng.normal(size=(2, 12))
    center = rng.normal(size=12)
    ab = rng.normal(size=(7, 2))
    off_plane = rng.normal(size=(7, 12))
    # Remove the plane's part from the noise, so the projection must return ab exactly.
    q, _ = np.linalg.qr(d.T)
    off_plane -= off_plane @ q @ q.T
    path = center + ab @ d + off_plane
    np.testing.assert_allclose(project(path, center, d), ab, atol=1e-12)


def test_the_path_gap_is_true_loss_against_the_slice_at_its_projection() -> None:
    problem, run = _trained()
    view = loss_slice(problem, run.path, run.loss, directions="fixed", grid=5)
    np.testing.assert_array_equal(view.path_loss, run.loss)
    other = NetProblem(problem.spec, X, Y, 1)
    k = 0
    theta = view.center + view.path_ab[k, 0] * view.d1 + view.path_ab[k, 1] * view.d2
    other.set_parameters(torch.from_numpy(theta))
    with torch.no_grad():
        assert view.path_slice_loss[k] == pytest.approx(float(other.loss()), rel=1e-12)
    assert view.max_path_gap == pytest.approx(
        float(np.max(np.abs(view.path_loss - view.path_slice_loss))))
    assert view.path_slice_loss[-1] == pytest.approx(float(run.loss[-1]), abs=1e-10)


def test_fixed_directions_depend_on_the_seed_only() -> None:
    a = fixed_directions(100, 3.0, 4)
    b = fixed_directions(100, 3.0, 4)
    assert torch.equal(a, b) and not torch.equal(a, fixed_directions(100, 3.0, 5))
    torch.testing.assert_close(a.norm(dim=1), torch.full((2,), 3.0, dtype=torch.float64))


@pytest.mark.parametrize("grid", [0, 1, 2, 4, 403, 10**9, True, 4.0])
def test_bad_grids_are_refused(grid: object) -> None:
    problem, _ = _trained(steps=1)
    with pytest.raises(SliceError, match="odd"):
        check_slice(problem, "filter", grid)  # type: ignore[arg-type]


def test_unknown_directions_are_refused() -> None:
    problem, _ = _trained(steps=1)
    with pytest.raises(SliceError, match="filter"):
        check_slice(problem, "random", 41)


def test_a_slice_too_big_for_memory_says_how_much_it_needs(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import explorer.core.loss_slice as module

    problem, _ = _trained(steps=1)
    monkeypatch.setattr(module, "available_memory", lambda: 1 << 20)
    with pytest.raises(BudgetError, match=r"needs .*MiB.*1\.0 MiB available"):
        check_slice(problem, "filter", 41)


def test_a_zero_step_path_still_has_a_plane() -> None:
    problem, run = _trained(steps=0)
    view = loss_slice(problem, run.path, run.loss, directions="pca", grid=3)
    assert np.linalg.norm(view.d1) == pytest.approx(1.0) and abs(view.d1 @ view.d2) < 1e-12
    assert view.max_path_gap == pytest.approx(0.0, abs=1e-12)


def test_a_diverged_run_is_sliced_around_its_last_finite_row() -> None:
    problem, run = _trained(steps=20)
    path, loss = run.path.copy(), run.loss.copy()
    path[15:, 3] = np.inf  # the parameters blew up after row 14
    loss[15:] = np.nan
    view = run_slice(problem, path, loss, directions="fixed", grid=5)
    np.testing.assert_array_equal(view.center, run.path[14])
    assert len(view.path_ab) == 15
    assert view.center_loss == pytest.approx(float(run.loss[14]), abs=1e-10)


def test_a_run_not_finite_at_its_start_is_refused() -> None:
    problem, run = _trained(steps=3)
    loss = run.loss.copy()
    loss[0] = np.nan
    with pytest.raises(SliceError, match="start"):
        run_slice(problem, run.path, loss, grid=5)
