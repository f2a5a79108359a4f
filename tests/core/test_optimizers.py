"""The optimiser registry and the first steps of sgd, momentum and adam, worked by hand."""

from __future__ import annotations

import inspect
import math
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer.core.descent import run_descent
from explorer.core.optimizers import (
    REGISTRY,
    HyperParameter,
    OptimizerError,
    check_value,
    make_optimizer,
    optimizer_class,
    parse_params,
    validate,
)
from explorer.core.trajectory import RunSettings

NAMES = [
    "sgd",
    "momentum",
    "nesterov",
    "adagrad",
    "rmsprop",
    "adam",
    "adamw",
    "adamax",
    "nadam",
    "radam",
    "adadelta",
    "lbfgs",
]


def bowl(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """f = x^2 + 3 y^2, gradient (2x, 6y): easy to step by hand."""
    return x**2 + 3 * y**2


def test_registry_has_the_named_optimisers() -> None:
    assert list(REGISTRY) == NAMES
    # L-BFGS alone couples the coordinates of its tensor (one line search, one history).
    assert [name for name, spec in REGISTRY.items() if not spec.elementwise] == ["lbfgs"]


def test_each_optimiser_is_described_once_the_window_way() -> None:
    # The window's labels are the canonical texts; tables and leaderboards use the short ones.
    labels = {name: spec.label for name, spec in REGISTRY.items()}
    assert labels["sgd"] == "SGD (plain gradient descent)"
    assert labels["momentum"] == "SGD with momentum"
    short = [spec.short_label for spec in REGISTRY.values()]
    assert short[:3] == ["SGD", "SGD with momentum", "Nesterov momentum"]
    assert len(set(short)) == len(short) and not any("(" in text for text in short)
    for spec in REGISTRY.values():
        assert spec.help and "\n" not in spec.help, spec.name  # one line
        for param in spec.hyperparameters:
            if param.kind == "float" and param.low is not None and param.high is not None:
                assert isinstance(param.default, float | int), (spec.name, param.name)
                assert param.low <= param.default <= param.high, (spec.name, param.name)


@pytest.mark.parametrize("name", NAMES)
def test_hyperparameter_defaults_are_torch_defaults_or_documented(name: str) -> None:
    spec = REGISTRY[name]
    signature = inspect.signature(optimizer_class(name)).parameters
    for hp in spec.hyperparameters:
        assert hp.name in signature, f"{name}: {hp.name} is not a keyword of {spec.torch_class}"
        assert hp.label and hp.kind in ("float", "int", "bool", "pair", "choice")
        if hp.kind in ("float", "int"):
            assert hp.low is not None and hp.high is not None
            assert hp.low <= hp.default <= hp.high  # type: ignore[operator]
    # The variants differ from torch only where their name says so.
    overrides = {"momentum": {"momentum": 0.9}, "nesterov": {"momentum": 0.9, "nesterov": True}}
    for key, value in spec.defaults().items():
        expected = overrides.get(name, {}).get(key, signature[key].default)
        assert value == expected or (name == "adamw" and key == "weight_decay")


@pytest.mark.parametrize("name", NAMES)
def test_every_optimiser_builds_and_steps(name: str) -> None:
    p = torch.tensor([[1.0, 1.0]], dtype=torch.float64, requires_grad=True)
    opt = make_optimizer(name, [p], REGISTRY[name].default_lr)

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = bowl(p[:, 0], p[:, 1]).sum()
        loss.backward()
        return loss

    before = float(closure().detach())
    opt.step(closure)
    assert float(bowl(p[:, 0], p[:, 1]).sum().detach()) < before


def test_sgd_first_steps_by_hand() -> None:
    lr = 0.1
    run = run_descent(bowl, [[1.0, 1.0]], RunSettings(optimizer="sgd", lr=lr, steps=2, tol=0))
    t = run.trajectory(0)
    # x <- x - lr * 2x, y <- y - lr * 6y
    x, y = 1.0, 1.0
    for k in range(3):
        assert t.x[k] == pytest.approx(x, rel=1e-15)
        assert t.y[k] == pytest.approx(y, rel=1e-15)
        assert t.grad_x[k] == pytest.approx(2 * x, rel=1e-15)
        assert t.grad_y[k] == pytest.approx(6 * y, rel=1e-15)
        x, y = x - lr * 2 * x, y - lr * 6 * y


def test_momentum_first_steps_by_hand() -> None:
    # torch.optim.SGD docs: b_1 = g_1, b_t = mu * b_{t-1} + g_t, x <- x - lr * b_t.
    lr, mu = 0.1, 0.9
    run = run_descent(bowl, [[1.0, -2.0]], RunSettings(optimizer="momentum", lr=lr, steps=3, tol=0))
    t = run.trajectory(0)
    x, y, bx, by = 1.0, -2.0, 0.0, 0.0
    for k in range(4):
        assert (t.x[k], t.y[k]) == pytest.approx((x, y), rel=1e-14)
        gx, gy = 2 * x, 6 * y
        bx, by = (gx, gy) if k == 0 else (mu * bx + gx, mu * by + gy)
        x, y = x - lr * bx, y - lr * by


def test_adam_first_steps_by_hand() -> None:
    # torch.optim.Adam docs: m = b1 m + (1-b1) g, v = b2 v + (1-b2) g^2,
    # x <- x - lr * (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps).
    lr, b1, b2, eps = 0.05, 0.9, 0.999, 1e-8
    run = run_descent(bowl, [[1.5, 0.5]], RunSettings(optimizer="adam", lr=lr, steps=4, tol=0))
    t = run.trajectory(0)
    p = np.array([1.5, 0.5])
    m = np.zeros(2)
    v = np.zeros(2)
    for k in range(5):
        assert (t.x[k], t.y[k]) == pytest.approx(tuple(p), rel=1e-13)
        g = np.array([2 * p[0], 6 * p[1]])
        step = k + 1
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat = m / (1 - b1**step)
        v_hat = v / (1 - b2**step)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
    # The first Adam step moves each coordinate by about lr, whatever the gradient's size.
    assert t.x[0] - t.x[1] == pytest.approx(lr, rel=1e-6)


def test_ascent_adds_the_gradient() -> None:
    run = run_descent(
        bowl, [[1.0, 1.0]], RunSettings(optimizer="sgd", lr=0.1, steps=1, tol=0, ascent=True)
    )
    t = run.trajectory(0)
    assert (t.x[1], t.y[1]) == pytest.approx((1.2, 1.6), rel=1e-15)
    assert t.f[1] > t.f[0]


def test_lbfgs_ascent_climbs_too() -> None:
    def cap(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return -(x**2) - y**2

    run = run_descent(
        cap, [[1.0, 1.0]], RunSettings(optimizer="lbfgs", lr=1.0, steps=5, ascent=True)
    )
    t = run.trajectory(0)
    assert t.status.label == "converged"
    assert math.hypot(*t.end) < 1e-6


@pytest.mark.parametrize(
    ("name", "items", "expected"),
    [
        ("sgd", ["momentum=0.9"], {"momentum": 0.9}),
        ("sgd", ["nesterov=true", "momentum=0.5"], {"nesterov": True, "momentum": 0.5}),
        ("adam", ["betas=0.9,0.99"], {"betas": (0.9, 0.99)}),
        ("adam", ["amsgrad=true", "weight_decay=0.01"], {"amsgrad": True, "weight_decay": 0.01}),
        ("rmsprop", ["centered=true"], {"centered": True}),
        ("lbfgs", ["max_iter=1"], {"max_iter": 1}),
        ("lbfgs", ["line_search_fn=strong_wolfe"], {"line_search_fn": "strong_wolfe"}),
    ],
)
def test_parse_params(name: str, items: list[str], expected: dict[str, object]) -> None:
    assert parse_params(name, items) == expected


@pytest.mark.parametrize(
    ("name", "items", "fragment"),
    [
        ("sgd", ["betas=0.9,0.99"], "has no keyword 'betas'"),
        ("adam", ["betas=0.9"], "2 comma-separated numbers"),
        ("adam", ["amsgrad=maybe"], "true or false"),
        ("sgd", ["momentum=fast"], "must be a number"),
        ("sgd", ["momentum=-1"], "momentum"),
        ("sgd", ["lr=0.1"], "use --lr"),
        ("sgd", ["maximize=true"], "use --ascent"),
        ("sgd", ["momentum"], "KEY=VALUE"),
        ("lbfgs", ["line_search_fn=wolfe"], "line_search_fn"),
    ],
)
def test_bad_params_are_clear_errors(name: str, items: list[str], fragment: str) -> None:
    with pytest.raises(OptimizerError, match=fragment):
        parse_params(name, items)


def test_unknown_optimizer() -> None:
    with pytest.raises(OptimizerError, match="unknown optimizer 'sdg'"):
        make_optimizer("sdg", [torch.zeros(2, requires_grad=True)], 0.1)


# --- hostile keywords and values (issue 14, item 9) -------------------------------------------

# Every keyword torch's classes take, whichever optimiser: flags of one class are unknown
# keys for another.
ALL_TORCH_KEYS = sorted(
    {key for name in NAMES for key in inspect.signature(optimizer_class(name)).parameters}
)


def listed(name: str) -> dict[str, HyperParameter]:
    """The registry's hyperparameters of name, by keyword."""
    return {p.name: p for p in REGISTRY[name].hyperparameters}


def assert_one_line(error: OptimizerError) -> None:
    message = str(error)
    assert message and "\n" not in message and "\r" not in message and len(message) < 300


def assert_in_registry_range(name: str, values: dict[str, object]) -> None:
    """Each accepted value is of its registry kind and inside its registry range."""
    params = listed(name)
    for key, value in values.items():
        param = params[key]
        if param.kind == "bool":
            assert isinstance(value, bool)
        elif param.kind == "choice":
            assert value is None or value in param.choices
        else:
            parts = value if param.kind == "pair" else (value,)
            assert isinstance(parts, tuple)
            for part in parts:
                assert isinstance(part, float | int) and not isinstance(part, bool)
                if param.kind == "int":
                    assert isinstance(part, int)
                assert param.low is not None and param.high is not None
                assert param.low <= part <= param.high, (name, key, value)


@pytest.mark.parametrize("name", NAMES)
def test_torch_flags_are_refused_naming_what_is_accepted(name: str) -> None:
    names = listed(name)
    for key in ALL_TORCH_KEYS:
        if key in names or key == "params":
            continue
        with pytest.raises(OptimizerError) as info:
            parse_params(name, [f"{key}=true"])
        assert_one_line(info.value)
        if key not in ("lr", "maximize"):  # those two point to --lr and --ascent instead
            assert all(listed_key in str(info.value) for listed_key in names), str(info.value)


@pytest.mark.parametrize(
    ("name", "item"),
    [
        ("adam", "capturable=true"),
        ("adam", "differentiable=true"),
        ("adam", "fused=true"),
        ("sgd", "foreach=true"),
        ("lbfgs", "history_size=1000000000"),
        ("lbfgs", "max_iter=0"),
        ("lbfgs", "max_iter=" + "9" * 5000),  # more digits than int() takes
        ("lbfgs", "tolerance_grad=0"),
        ("sgd", "momentum=nan"),
        ("sgd", "momentum=inf"),
        ("adam", "eps=0"),
        ("adam", "betas=0.9,1"),
        ("adam", "betas=nan,0.9"),
        ("nesterov", "nesterov=false"),
    ],
)
def test_reported_hostile_params_are_one_line_errors(name: str, item: str) -> None:
    with pytest.raises(OptimizerError) as info:
        parse_params(name, [item])
    assert_one_line(info.value)


# Texts a user (or a fuzzer) might type as a value: numbers in and out of range, non-finite
# spellings, huge integers, words and junk.
VALUE_TEXTS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.sampled_from(["true", "false", "none", "strong_wolfe", "0.9,0.99", "1e999", "-0", ""]),
    st.lists(st.floats(-2, 2), min_size=1, max_size=3).map(lambda v: ",".join(map(repr, v))),
    st.text(max_size=30),
)
KEYS = st.one_of(st.sampled_from(ALL_TORCH_KEYS), st.text(max_size=20))


@settings(max_examples=400, deadline=None)
@given(name=st.sampled_from(NAMES), key=KEYS, text=VALUE_TEXTS)
def test_any_param_text_is_in_range_or_a_one_line_error(name: str, key: str, text: str) -> None:
    try:
        values = parse_params(name, [f"{key}={text}"])
    except OptimizerError as error:
        assert_one_line(error)
        return
    assert_in_registry_range(name, values)


@settings(max_examples=400, deadline=None)
@given(
    name=st.sampled_from(NAMES),
    key=KEYS,
    value=st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(10**40), max_value=10**40),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=10),
        st.lists(st.one_of(st.floats(), st.text(max_size=3)), max_size=3),
    ),
)
def test_any_typed_value_is_validated_or_a_one_line_error(
    name: str, key: str, value: object
) -> None:
    # The session loader hands parsed JSON to validate(): types are not to be trusted either.
    try:
        validate(name, 0.01, {key: value})  # type: ignore[dict-item]
    except OptimizerError as error:
        assert_one_line(error)
        return
    spec = REGISTRY[name]
    if key in listed(name):
        assert_in_registry_range(name, {key: check_value(name, key, value)})
    else:
        assert spec.fixed.get(key) == value  # only what the entry fixes anyway


@pytest.mark.parametrize("name", NAMES)
def test_every_number_hyperparameter_is_bounded(name: str) -> None:
    for param in REGISTRY[name].hyperparameters:
        if param.kind in ("float", "int", "pair"):
            assert param.low is not None and param.high is not None
            assert math.isfinite(param.low) and math.isfinite(param.high)
    sizes = listed("lbfgs")
    assert sizes["history_size"].high is not None and sizes["history_size"].high <= 1000


def test_readme_lists_the_keys_and_ranges_param_takes() -> None:
    # The README's table is written by hand: it must say what the registry enforces.
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    table = readme.split("| optimizer | `--param` keys and ranges |", 1)[1].split("\n\n", 1)[0]
    rows: dict[str, str] = {}
    for line in table.strip().splitlines()[1:]:
        names, keys = (cell.strip() for cell in line.strip("|").split("|"))
        rows.update(dict.fromkeys(names.split(", "), keys))
    assert set(rows) == set(NAMES)
    for name, keys in rows.items():
        described = re.findall(r"`(\w+)`", keys)
        assert described == [p.name for p in REGISTRY[name].hyperparameters], name
        for param in REGISTRY[name].hyperparameters:
            if param.kind in ("float", "int", "pair"):
                assert f"`{param.name}` " in keys
                assert f"{param.low:g}..{param.high:g}" in keys.split(f"`{param.name}`")[1]


@pytest.mark.parametrize("name", ["sgd", "momentum", "adam", "adamw", "adagrad", "rmsprop"])
def test_large_batches_use_the_fused_kernel_with_the_same_steps(name: str) -> None:
    import inspect

    import torch

    from explorer.core.optimizers import (
        FUSED_FROM,
        make_optimizer,
        optimizer_class,
        optimizer_kwargs,
    )

    starts = torch.linspace(-2.0, 2.0, FUSED_FROM, dtype=torch.float64).reshape(-1, 2)
    fused_kernel = "fused" in inspect.signature(optimizer_class(name)).parameters
    paths = []
    for size in (len(starts), 8):  # a basin map's batch, and a small one
        p = starts[:size].clone().requires_grad_(True)
        optimizer = make_optimizer(name, [p], 0.01)
        assert bool(optimizer.defaults.get("fused")) is (fused_kernel and size == len(starts))
        plain = starts[:size].clone().requires_grad_(True)
        reference = optimizer_class(name)([plain], **optimizer_kwargs(name, 0.01, {}))
        for _ in range(5):
            for q, opt in ((p, optimizer), (plain, reference)):
                opt.zero_grad()
                ((q[:, 0] ** 2 - q[:, 1]) ** 2 + q[:, 1] ** 2).sum().backward()
                opt.step()
        paths.append((p.detach(), plain.detach()))
    for got, want in paths:
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12, atol=1e-14)
