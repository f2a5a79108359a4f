"""core.network: the network's build, loss and training rule, and the headline (issue 17)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer.core.budget import BudgetError
from explorer.core.fitting import minibatches
from explorer.core.network import (
    MAX_LAYERS,
    MAX_PARAMETERS,
    MAX_WIDTH,
    NetError,
    NetProblem,
    NetSpec,
    TrainSettings,
    build_net,
    check_training,
    flat_parameters,
    loss_labels,
    parse_hidden,
    train,
)
from explorer.core.optimizers import OptimizerError
from explorer.io.dataset_csv import MAX_FEATURES, load_features, network_data_path

RNG = np.random.default_rng(11)
X = RNG.normal(size=(40, 3))
Y = np.sign(RNG.normal(size=40))


def test_the_network_is_torchs_sequential_after_manual_seed() -> None:
    net = build_net(NetSpec(3, (5, 4), "relu", "mse"), 9)
    torch.manual_seed(9)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(9)
        reference = torch.nn.Sequential(
            torch.nn.Linear(3, 5, dtype=torch.float64), torch.nn.ReLU(),
            torch.nn.Linear(5, 4, dtype=torch.float64), torch.nn.ReLU(),
            torch.nn.Linear(4, 1, dtype=torch.float64))
    assert [type(m) for m in net] == [type(m) for m in reference]
    for mine, theirs in zip(net.parameters(), reference.parameters(), strict=True):
        assert mine.dtype == torch.float64
        assert torch.equal(mine, theirs)
    count = 3 * 5 + 5 + 5 * 4 + 4 + 4 + 1  # weights and biases, layer by layer
    assert len(flat_parameters(net)) == NetSpec(3, (5, 4)).parameter_count == count


def test_building_leaves_the_global_rng_and_dtype_alone() -> None:
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    build_net(NetSpec(2, (8,)), 0)
    assert torch.equal(torch.rand(3), expected)
    assert torch.get_default_dtype() == torch.float32


def test_the_losses_by_their_formulas() -> None:
    problem = NetProblem(NetSpec(3, (4,), "tanh", "mse"), X, Y, 0)
    out = problem.net(problem.x).squeeze(-1).detach().numpy()
    assert float(problem.loss().detach()) == pytest.approx(np.mean((out - Y) ** 2), rel=1e-14)
    labels01 = (Y > 0).astype(float)
    bce = NetProblem(NetSpec(3, (4,), "tanh", "bce"), X, labels01, 0)
    expected = np.mean(np.log1p(np.exp(-Y * out)))
    assert float(bce.loss().detach()) == pytest.approx(expected, rel=1e-12)


def test_bce_refuses_other_labels_and_mse_takes_them() -> None:
    with pytest.raises(NetError, match=r"0\.5"):
        loss_labels("bce", np.array([1.0, 0.5, -1.0]))
    with pytest.raises(NetError):
        loss_labels("bce", np.array([1.0, 0.0, -1.0]))  # two conventions at once
    np.testing.assert_array_equal(loss_labels("mse", np.array([0.5, 3.0])), [0.5, 3.0])


def test_full_batch_sgd_is_the_plain_update_rule() -> None:
    problem = NetProblem(NetSpec(3, (4,), "tanh", "mse"), X, Y, 2)
    run = train(problem, TrainSettings("sgd", 0.05, steps=5))
    # Replayed by hand: theta <- theta - lr * grad of the full-batch loss.
    net = build_net(problem.spec, 2)
    x, y = torch.from_numpy(X), torch.from_numpy(Y)
    for k in range(5):
        np.testing.assert_allclose(run.path[k], flat_parameters(net).numpy(), rtol=0, atol=1e-14)
        loss = ((net(x).squeeze(-1) - y) ** 2).mean()
        assert run.loss[k] == pytest.approx(float(loss.detach()), rel=1e-14)
        grads = torch.autograd.grad(loss, list(net.parameters()))
        with torch.no_grad():
            for p, g in zip(net.parameters(), grads, strict=True):
                p -= 0.05 * g
    np.testing.assert_allclose(run.path[5], flat_parameters(net).numpy(), rtol=0, atol=1e-14)
    assert run.status == "done" and run.steps == 5


def test_minibatches_follow_fits_rule() -> None:
    problem = NetProblem(NetSpec(3, (4,), "tanh", "mse"), X, Y, 2)
    run = train(problem, TrainSettings("sgd", 0.05, steps=7, seed=3, batch_size=16))
    rng = np.random.default_rng(3)
    batches = minibatches(rng, 40, 16) + minibatches(rng, 40, 16) + minibatches(rng, 40, 16)
    net = build_net(problem.spec, 2)
    x, y = torch.from_numpy(X), torch.from_numpy(Y)
    for k in range(7):
        rows = torch.from_numpy(batches[k])
        loss = ((net(x[rows]).squeeze(-1) - y[rows]) ** 2).mean()
        grads = torch.autograd.grad(loss, list(net.parameters()))
        with torch.no_grad():
            for p, g in zip(net.parameters(), grads, strict=True):
                p -= 0.05 * g
        np.testing.assert_allclose(run.path[k + 1], flat_parameters(net).numpy(), atol=1e-14)
    with torch.no_grad():
        full = float(((net(x).squeeze(-1) - y) ** 2).mean())
    assert run.loss[-1] == pytest.approx(full, rel=1e-14)


def test_sharpness_is_measured_at_zero_and_every_k_before_the_update() -> None:
    problem = NetProblem(NetSpec(3, (4,), "tanh", "mse"), X, Y, 2)
    run = train(problem, TrainSettings("sgd", 0.05, steps=10, sharpness_every=4))
    assert run.sharpness[:, 0].tolist() == [0.0, 4.0, 8.0]
    # At step 4 it is the Hessian at row 4 (before step 4's update): measure it there.
    other = NetProblem(problem.spec, X, Y, 2)
    other.set_parameters(torch.from_numpy(run.path[4]))
    params = list(other.net.parameters())
    hessian = torch.autograd.functional.hessian(
        lambda theta: _loss_at(other, theta), torch.from_numpy(run.path[4]))
    assert run.sharpness[1, 1] == pytest.approx(np.linalg.eigvalsh(hessian.numpy())[-1], rel=1e-3)
    assert params  # the network the Hessian came from


def _loss_at(problem: NetProblem, theta: torch.Tensor) -> torch.Tensor:
    """The problem's loss as a function of the flat parameter vector."""
    from torch.func import functional_call

    names = [n for n, _ in problem.net.named_parameters()]
    shapes = [p.shape for p in problem.net.parameters()]
    pieces = torch.split(theta, [int(np.prod(s)) for s in shapes])
    params = {n: p.reshape(s) for n, p, s in zip(names, pieces, shapes, strict=True)}
    out = functional_call(problem.net, params, (problem.x,)).squeeze(-1)
    return ((out - problem.y) ** 2).mean()


def test_a_divergent_run_ends_where_the_loss_stops_being_finite() -> None:
    problem = NetProblem(NetSpec(3, (16,), "relu", "mse"), X * 100, Y, 0)
    run = train(problem, TrainSettings("sgd", 10.0, steps=200))
    assert run.status == "diverged" and run.steps < 200
    assert np.isfinite(run.path[:-1]).all()


def test_stop_keeps_the_rows_so_far() -> None:
    problem = NetProblem(NetSpec(3, (4,), "tanh", "mse"), X, Y, 0)
    calls = iter(range(100))
    run = train(problem, TrainSettings("adam", 0.01, steps=50),
                should_stop=lambda: next(calls) >= 6)
    assert run.status == "stopped" and run.steps == 6 and np.isfinite(run.loss).all()


def test_every_optimiser_trains(  # lbfgs needs its closure, adam its float64 state
) -> None:
    from explorer.core.optimizers import REGISTRY

    for name in REGISTRY:
        problem = NetProblem(NetSpec(3, (4,), "tanh", "bce"), X, Y, 0)
        run = train(problem, TrainSettings(name, 0.01, steps=3))
        assert run.steps == 3 and np.isfinite(run.loss).all(), name


def test_the_limits() -> None:
    assert MAX_FEATURES == 1000  # the reader's and the network's (core.network.check_spec)
    with pytest.raises(BudgetError, match="parameters"):
        check_training(NetSpec(2, (MAX_WIDTH, MAX_WIDTH)), 10, TrainSettings())
    assert NetSpec(2, (MAX_WIDTH, MAX_WIDTH)).parameter_count > MAX_PARAMETERS
    with pytest.raises(BudgetError, match="path"):
        check_training(NetSpec(2, (256, 256)), 10, TrainSettings(steps=1_000_000))
    with pytest.raises(BudgetError, match="row-parameter"):
        check_training(NetSpec(2, (32, 32)), 1_000_000, TrainSettings(steps=100_000))
    with pytest.raises(OptimizerError):
        check_training(NetSpec(2, (4,)), 10, TrainSettings(lr=-1.0))


@settings(max_examples=80, deadline=None)
@given(text=st.one_of(
    st.text(max_size=20),
    st.lists(st.integers(-5, 10**6), max_size=12).map(lambda v: ",".join(map(str, v))),
))
def test_hostile_layer_lists(text: str) -> None:
    try:
        widths = parse_hidden(text)
    except NetError as error:
        assert "\n" not in str(error)
        return
    assert 1 <= len(widths) <= MAX_LAYERS and all(1 <= w <= MAX_WIDTH for w in widths)


@settings(max_examples=40, deadline=None)
@given(
    steps=st.one_of(st.integers(-3, 10**8), st.booleans(), st.floats()),
    seed=st.one_of(st.integers(-3, 2**70), st.booleans()),
    batch=st.one_of(st.none(), st.integers(-3, 10**9), st.booleans()),
    every=st.one_of(st.integers(-3, 10**9), st.booleans()),
)
def test_hostile_training_settings(steps: object, seed: object, batch: object,
                                   every: object) -> None:
    settings_ = TrainSettings("sgd", 0.1, (), steps, seed, batch, every)  # type: ignore[arg-type]
    try:
        check_training(NetSpec(2, (4,)), 40, settings_)
    except (NetError, BudgetError) as error:
        assert "\n" not in str(error)


def test_headline_sharpness_rises_to_two_over_lr_and_hovers_there() -> None:
    # Cohen et al. 2021's edge of stability, on the bundled spirals: full-batch SGD, lr 0.1,
    # a 2-32-32-1 tanh net and MSE, 4000 steps, sharpness every 25 steps.
    data = load_features(network_data_path("spirals"))
    problem = NetProblem(NetSpec(2, (32, 32), "tanh", "mse"), data.features, data.labels, 0)
    run = train(problem, TrainSettings("sgd", 0.1, steps=4000, sharpness_every=25))
    steps, sharpness = run.sharpness[:, 0], run.sharpness[:, 1]
    two_over_lr = 2.0 / 0.1
    assert sharpness[0] < 0.5 * two_over_lr  # well below at the start
    last_quarter = sharpness[steps >= 3000]
    assert abs(np.median(last_quarter) - two_over_lr) <= 0.1 * two_over_lr
    # The loss keeps falling, unevenly: lower at the end, with rises on the way.
    loss = run.loss
    assert loss[-1] < 0.5 * loss[1000]
    assert (np.diff(loss[3000:]) > 0).any()


@pytest.mark.parametrize("optimizer", ["sgd", "adam", "lbfgs"])
def test_measuring_the_sharpness_does_not_change_the_path(optimizer: str) -> None:
    # A full-batch step at a measured row takes the measurement's loss and gradient.
    spec = NetSpec(3, (5,), "tanh", "bce")
    plain = train(NetProblem(spec, X, Y, 4), TrainSettings(optimizer, 0.05, steps=9))
    measured = train(NetProblem(spec, X, Y, 4),
                     TrainSettings(optimizer, 0.05, steps=9, sharpness_every=2))
    np.testing.assert_allclose(measured.path, plain.path, rtol=0, atol=1e-14)
    np.testing.assert_allclose(measured.loss, plain.loss, rtol=1e-14)
    assert len(measured.sharpness) == 5 and len(plain.sharpness) == 0
