"""Hostile command lines (issue 14): every bad option is one `error:` line, exit 2, no traceback."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer.core.optimizers import REGISTRY
from tests.cli.helpers import app, assert_usage_error

LISTED_KEYS = sorted({p.name for spec in REGISTRY.values() for p in spec.hyperparameters})
TORCH_ONLY_KEYS = ["capturable", "differentiable", "foreach", "fused", "dampening", "max_eval"]
BOWL = ["run", "--preset", "bowl", "--start", "0,0", "--steps", "2"]


@pytest.mark.parametrize(
    "param",
    ["capturable=true", "differentiable=true", "foreach=true", "fused=true", "maximize=true"],
)
def test_torch_flags_are_refused_in_one_line(param: str) -> None:
    code, out, err = app(*BOWL, "--optimizer", "adam", "--param", param)
    assert_usage_error(code, out, err)
    if param != "maximize=true":  # that one points to --ascent
        assert all(p.name in err for p in REGISTRY["adam"].hyperparameters), err


def test_a_huge_lbfgs_history_is_refused_with_its_range() -> None:
    code, out, err = app(*BOWL, "--optimizer", "lbfgs", "--param", "history_size=1000000000")
    assert_usage_error(code, out, err)
    high = next(p.high for p in REGISTRY["lbfgs"].hyperparameters if p.name == "history_size")
    assert f"{high:g}" in err


@settings(max_examples=80, deadline=None)
@given(
    name=st.sampled_from(list(REGISTRY)),
    key=st.one_of(
        st.sampled_from([*LISTED_KEYS, *TORCH_ONLY_KEYS]),
        st.text(alphabet=st.characters(blacklist_characters="=\x00"), max_size=12),
    ),
    value=st.one_of(
        st.floats(allow_nan=True, allow_infinity=True).map(repr),
        st.integers(min_value=-(10**25), max_value=10**25).map(str),
        st.sampled_from(["true", "no", "none", "strong_wolfe", "0.5,0.5", "0.9,1", "x"]),
    ),
)
def test_any_param_runs_or_is_a_usage_error(name: str, key: str, value: str) -> None:
    code, out, err = app(*BOWL, "--optimizer", name, "--param", f"{key}={value}", "--json")
    if code == 0:
        assert err == "" and out.startswith("{")
    else:
        assert_usage_error(code, out, err)
