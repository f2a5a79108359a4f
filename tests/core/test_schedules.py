"""Learning-rate schedules: parsing and its refusals, the rates, and runs under a schedule equal
to a plain torch loop with the same scheduler (issue 16)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st

from explorer.core.descent import descend_to_end, run_descent
from explorer.core.schedules import (
    SCHEDULES,
    ScheduleError,
    canonical,
    check_schedule,
    make_scheduler,
    parse_schedule,
    schedule_rates,
)
from explorer.core.trajectory import RunSettings
from tests.sgdr import sgdr_rates


def ravine(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return 0.5 * (1 - x) ** 2 + 2.0 * (y - 0.5 * x**2) ** 2 + 0.1 * torch.sin(3 * x)


# One text per schedule name, with the torch keywords a plain loop passes for it at 12 steps
# and lr 0.05 (the module's defaults spelled out where the text leaves them).
CASES: dict[str, tuple[str, dict[str, Any]]] = {
    "step": ("step:step_size=3,gamma=0.5", {"step_size": 3, "gamma": 0.5}),
    "multistep": ("multistep:milestones=2/5/9", {"milestones": [2, 5, 9], "gamma": 0.1}),
    "exponential": ("exponential:gamma=0.8", {"gamma": 0.8}),
    "cosine": ("cosine", {"T_max": 12}),
    "cosine-restarts": (
        "cosine-restarts:T_0=2,T_mult=2,eta_min=0.001",
        {"T_0": 2, "T_mult": 2, "eta_min": 0.001},
    ),
    "linear": ("linear:start_factor=0.25,total_iters=6", {"start_factor": 0.25, "total_iters": 6}),
    "onecycle": ("onecycle:pct_start=0.4", {"max_lr": 0.05, "total_steps": 12, "pct_start": 0.4}),
}
TORCH_CLASS = {
    "sgd": (torch.optim.SGD, {}),
    "momentum": (torch.optim.SGD, {"momentum": 0.9}),
    "adam": (torch.optim.Adam, {}),
    "lbfgs": (torch.optim.LBFGS, {}),
}


def test_every_name_has_a_case() -> None:
    assert set(CASES) == set(SCHEDULES)


def _plain_loop(
    name: str, optimizer: str, lr: float, steps: int, start: tuple[float, float]
) -> tuple[np.ndarray, np.ndarray]:
    """The path and each step's lr of torch's own classes, stepped by hand."""
    kwargs = CASES[name][1]
    cls, extra = TORCH_CLASS[optimizer]
    p = torch.tensor([start], dtype=torch.float64, requires_grad=True)
    opt = cls([p], lr=lr, **extra)
    scheduler_cls = getattr(torch.optim.lr_scheduler, SCHEDULES[name].torch_class)
    if name == "onecycle" and optimizer == "lbfgs":
        kwargs = {**kwargs, "cycle_momentum": False}
    scheduler = scheduler_cls(opt, **kwargs)

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = ravine(p[:, 0], p[:, 1]).sum()
        loss.backward()
        return loss

    path, rates = [p.detach().numpy().copy()[0]], [opt.param_groups[0]["lr"]]
    for _ in range(steps):
        rates.append(opt.param_groups[0]["lr"])
        if optimizer == "lbfgs":
            opt.step(closure)
        else:
            closure()
            opt.step()
        scheduler.step()
        path.append(p.detach().numpy().copy()[0])
    return np.array(path), np.array(rates)


@pytest.mark.parametrize("optimizer", list(TORCH_CLASS))
@pytest.mark.parametrize("name", list(CASES))
def test_run_equals_a_plain_torch_loop(name: str, optimizer: str) -> None:
    lr, steps, start = 0.05, 12, (-1.2, 1.4)
    text = CASES[name][0]
    params = {"momentum": 0.9} if optimizer == "momentum" else {}
    settings_ = RunSettings.create(
        params,
        optimizer="sgd" if optimizer == "momentum" else optimizer,
        lr=lr,
        steps=steps,
        tol=0.0,
        schedule=canonical(text),
    )
    t = run_descent(ravine, [start], settings_).trajectory(0)
    path, rates = _plain_loop(name, optimizer, lr, steps, start)
    np.testing.assert_allclose(np.column_stack([t.x, t.y]), path, rtol=0, atol=1e-12)
    assert t.rates is not None
    np.testing.assert_allclose(t.rates, rates, rtol=0, atol=1e-15)
    # The window's plot helper steps its own scheduler on a dummy optimiser: the same rates.
    np.testing.assert_allclose(
        schedule_rates(text, steps, lr, settings_.optimizer, settings_.param_dict),
        rates,
        rtol=0,
        atol=1e-15,
    )


def test_the_issue_example_rates() -> None:
    text = "cosine-restarts:T_0=1,T_mult=2"
    settings_ = RunSettings(optimizer="sgd", lr=0.5, steps=9, tol=0.0, schedule=canonical(text))
    t = run_descent(ravine, [(0.3, 0.2)], settings_).trajectory(0)
    expected = sgdr_rates(0.5, 1, 2, 9)[1:]
    assert t.rates is not None
    np.testing.assert_allclose(t.rates[1:], expected, rtol=0, atol=1e-12)
    assert t.rates[0] == 0.5
    # The issue's four-place figures: 0.5, 0.5, 0.25, 0.5, 0.4268, 0.25, 0.0732, 0.5, 0.4810.
    assert [round(v, 4) for v in expected][4] == round(0.25 * (2 + math.sqrt(2)) / 2, 4)


def test_no_schedule_keeps_no_rates() -> None:
    t = run_descent(ravine, [(0.3, 0.2)], RunSettings(steps=5)).trajectory(0)
    assert t.rates is None and t.rate(3) == t.lr


def test_a_sweep_scales_each_starts_own_rate() -> None:
    lrs = [0.01, 0.02, 0.04]
    starts = [(0.5, 0.5)] * 3
    settings_ = RunSettings(lr=0.01, steps=10, tol=0.0, schedule="step:step_size=3,gamma=0.5")
    run = run_descent(ravine, starts, settings_, lrs=lrs)
    for i, lr in enumerate(lrs):
        t = run.trajectory(i)
        assert t.rates is not None
        np.testing.assert_allclose(t.rates, schedule_rates(settings_.schedule, 10, lr))
        alone = run_descent(
            ravine, [starts[i]], RunSettings(lr=lr, steps=10, tol=0.0, schedule=settings_.schedule)
        ).trajectory(0)
        np.testing.assert_allclose(t.x, alone.x, rtol=0, atol=1e-12)


def test_a_lbfgs_sweep_records_each_column() -> None:
    settings_ = RunSettings(optimizer="lbfgs", lr=0.1, steps=6, tol=0.0, schedule="exponential")
    run = run_descent(ravine, [(0.5, 0.5), (1.0, 0.0)], settings_, lrs=[0.1, 0.3])
    for i, lr in enumerate([0.1, 0.3]):
        rates = run.trajectory(i).rates
        assert rates is not None
        np.testing.assert_allclose(rates, schedule_rates("exponential", 6, lr, "lbfgs"))


def test_the_basin_loop_ends_where_the_recorded_run_ends() -> None:
    settings_ = RunSettings(optimizer="adam", lr=0.1, steps=30, tol=0.0, schedule="cosine")
    starts = np.array([[0.5, 0.5], [-1.0, 2.0]])
    end = descend_to_end(ravine, torch.tensor(starts), settings_)
    run = run_descent(ravine, starts, settings_)
    np.testing.assert_allclose(end.points.numpy(), run.xy[run.rows - 1], rtol=0, atol=1e-12)


def test_rates_of_a_sweep_have_one_column_per_rate() -> None:
    rates = schedule_rates("onecycle", 8, [0.1, 0.4])
    assert rates.shape == (9, 2)
    np.testing.assert_allclose(rates[:, 1], 4 * rates[:, 0])


# -- parsing -----------------------------------------------------------------------------------


def test_canonical_text() -> None:
    assert canonical("") == "" == canonical("constant") == canonical("  ")
    given_text = " multistep : gamma=0.5 , milestones=3/5"
    assert canonical(given_text) == "multistep:milestones=3/5,gamma=0.5"
    assert canonical("onecycle:three_phase=1,anneal_strategy=linear") == (
        "onecycle:anneal_strategy=linear,three_phase=true"
    )
    for text in ("cosine-restarts:T_0=1,T_mult=2", "step:step_size=30,gamma=0.5"):
        assert canonical(text) == text
        assert canonical(canonical(text)) == canonical(text)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (":", "unknown schedule"),
        ("warmup", "unknown schedule"),
        ("Cosine", "unknown schedule"),
        ("cosine:", "nothing after ':'"),
        ("cosine:T_max", "expected key=value"),
        ("cosine:=5", "expected key=value"),
        ("cosine:tmax=5", "no key 'tmax'"),
        ("step:step_size=3,step_size=4", "given twice"),
        ("step:step_size=0", "step_size"),
        ("step:step_size=2.5", "whole number"),
        ("step:step_size=99999999999999999999", "step_size"),
        ("step:gamma=-1", "gamma"),
        ("step:gamma=nan", "gamma"),
        ("step:gamma=inf", "gamma"),
        ("exponential:gamma=1e400", "gamma"),
        ("cosine:eta_min=-0.1", "eta_min"),
        ("multistep:milestones=5/3", "increasing"),
        ("multistep:milestones=3/3", "increasing"),
        ("multistep:milestones=", "milestones"),
        ("multistep:milestones=a/b", "milestones"),
        ("linear:start_factor=0", "start_factor"),
        ("onecycle:anneal_strategy=quadratic", "anneal_strategy"),
        ("onecycle:three_phase=maybe", "three_phase"),
        ("onecycle:pct_start=1", "pct_start"),
        ("cosine-restarts:T_mult=0", "T_mult"),
    ],
)
def test_bad_text_is_refused_on_one_line(text: str, words: str) -> None:
    with pytest.raises(ScheduleError, match=words) as info:
        canonical(text)
    assert "\n" not in str(info.value) and len(str(info.value)) < 200


def test_onecycle_refuses_fewer_total_steps_than_the_run() -> None:
    with pytest.raises(ScheduleError, match="total_steps"):
        check_schedule("onecycle:total_steps=5", 10)
    assert check_schedule("onecycle:total_steps=10", 10) == "onecycle:total_steps=10"


def test_onecycle_without_momentum_cycles_none() -> None:
    # Adagrad has neither momentum nor betas: torch refuses cycle_momentum for it.
    assert len(schedule_rates("onecycle", 4, 0.1, "adagrad")) == 5
    with pytest.raises(ScheduleError, match="onecycle"):
        check_schedule("onecycle:cycle_momentum=true", 10, "adagrad")


def test_make_scheduler_for_a_constant_rate_is_none() -> None:
    p = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    assert make_scheduler(torch.optim.SGD([p], lr=0.1), "", 10) is None


def test_a_non_text_schedule_is_refused() -> None:
    with pytest.raises(ScheduleError, match="text"):
        parse_schedule(5)  # type: ignore[arg-type]


_KEYS = sorted({p.name for spec in SCHEDULES.values() for p in spec.parameters})
_VALUES = st.one_of(
    st.text(max_size=12),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["true", "false", "cos", "1/2/3", "3/2", "", "nan", "-0"]),
)


@settings(max_examples=300, deadline=None)
@given(
    name=st.one_of(st.sampled_from(list(SCHEDULES)), st.text(max_size=10)),
    pairs=st.lists(
        st.tuples(st.one_of(st.sampled_from(_KEYS), st.text(max_size=6)), _VALUES), max_size=4
    ),
)
@example(name="linear", pairs=[("end_factor", "0")])  # torch ends at -7e-19
def test_any_text_is_canonical_or_one_schedule_error(
    name: str, pairs: list[tuple[str, str]]
) -> None:
    text = name + (":" + ",".join(f"{k}={v}" for k, v in pairs) if pairs else "")
    try:
        result = check_schedule(text, 20, "adam", 0.05)
    except ScheduleError as error:
        assert "\n" not in str(error) and len(str(error)) < 250
        return
    # Accepted: the canonical form reads back to itself and torch builds and steps it.
    assert canonical(result) == result
    rates = schedule_rates(result, 20, 0.05, "adam")
    # torch's recursive forms round to a hair below zero where they reach it (LinearLR with
    # end_factor=0 ends at -7e-19): never more than rounding below.
    assert np.all(np.isfinite(rates)) and np.all(rates >= -1e-15 * 0.05)


def test_the_readme_table_lists_every_name_and_key() -> None:
    # The README's table is written by hand: it must name what core.schedules accepts.
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    classes = {spec.torch_class for spec in SCHEDULES.values()}
    rows = {
        line.split("|")[1].strip(" `"): line
        for line in readme.splitlines()
        if line.startswith("| `") and line.split("|")[2].strip() in classes
    }
    for name, spec in SCHEDULES.items():
        assert name in rows, name
        assert spec.torch_class in rows[name]
        for parameter in spec.parameters:
            assert f"`{parameter.name}`" in rows[name], (name, parameter.name)
