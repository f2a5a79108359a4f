"""Hostile command lines (issue 14): every bad option is one `error:` line, exit 2, no traceback."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer.cli import common
from explorer.cli.common import LARGE_BATCH, MAX_DEFAULT_THREADS, available_cores, default_threads
from explorer.core.budget import MAX_POINT_STEPS, MAX_ROW_BYTES, MAX_STEPS, ROW_BYTES, size_text
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


# --- bounded requests (item 12) ---------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        [*BOWL[:-2], "--steps", "100000000000"],
        [*BOWL[:-2], "--steps", str(MAX_STEPS + 1)],
        [*BOWL[:-2], "--steps", "-1"],
        [*BOWL[:-2], "--steps", "1e6"],
        ["sweep", "--preset", "bowl", "--start", "1,1", "--optimizer", "sgd", "--lr-min",
         "0.01", "--lr-max", "0.1", "--count", "3", "--steps", str(10 * MAX_STEPS)],
        ["basin", "--preset", "bowl", "--grid", "4", "--steps", str(MAX_STEPS + 1)],
    ],
)
def test_steps_over_the_limit_are_refused_with_the_limit(argv: list[str]) -> None:
    code, out, err = app(*argv)
    assert_usage_error(code, out, err)
    assert str(MAX_STEPS) in err


def test_rows_for_a_csv_over_the_memory_limit_are_refused_with_the_memory(
    tmp_path: Path,
) -> None:
    starts = MAX_ROW_BYTES // (ROW_BYTES * MAX_STEPS) + 1
    argv = ["run", "--preset", "bowl", "--steps", str(MAX_STEPS), "--csv", str(tmp_path / "a.csv")]
    for i in range(starts):
        argv += ["--start", f"{i},0"]
    code, out, err = app(*argv)
    assert_usage_error(code, out, err)
    assert size_text(starts * (MAX_STEPS + 1) * ROW_BYTES) in err
    assert not (tmp_path / "a.csv").exists()


def test_a_basin_map_over_the_work_limit_gives_the_steps_it_may_have() -> None:
    most = MAX_POINT_STEPS // (512 * 512)
    code, out, err = app("basin", "--preset", "bowl", "--grid", "512", "--steps", str(most + 1))
    assert_usage_error(code, out, err)
    assert f"at most {most} steps" in err


# --- --threads (item 19) ----------------------------------------------------------------------

THREAD_COMMANDS = {
    "run": ["run", "--preset", "bowl", "--start", "1,1", "--steps", "3"],
    "sweep": ["sweep", "--preset", "bowl", "--start", "1,1", "--optimizer", "sgd", "--lr-min",
              "0.01", "--lr-max", "0.1", "--count", "2", "--steps", "3"],
    "basin": ["basin", "--preset", "bowl", "--grid", "2", "--steps", "3"],
}


@settings(max_examples=40, deadline=None)
@given(
    command=st.sampled_from(sorted(THREAD_COMMANDS)),
    text=st.one_of(
        st.integers().filter(lambda n: not 1 <= n <= available_cores()).map(str),
        st.sampled_from(["", "two", "1.5", "nan", "1e3", "0x2", str(10**30)]),
    ),
)
def test_bad_thread_counts_are_usage_errors(command: str, text: str) -> None:
    code, out, err = app(*THREAD_COMMANDS[command], f"--threads={text}")
    assert_usage_error(code, out, err)


@pytest.mark.parametrize("command", sorted(THREAD_COMMANDS))
def test_threads_sets_torch_threads(command: str) -> None:
    import torch

    before = torch.get_num_threads()
    try:
        code, _, err = app(*THREAD_COMMANDS[command], "--threads", "1", "--json")
        assert code == 0, err
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


@pytest.mark.parametrize(
    ("cores", "load", "points", "expected"),
    [
        (2, 0.0, LARGE_BATCH, 2),  # quiet: both cores
        (2, 1.0, LARGE_BATCH, 1),  # another process busy: the one core left
        (2, 7.5, LARGE_BATCH, 1),  # overloaded: still one
        (16, 0.2, LARGE_BATCH, MAX_DEFAULT_THREADS),
        (16, 0.0, LARGE_BATCH - 1, 1),  # small batches always run on one thread
    ],
)
@pytest.mark.parametrize("source", ["now", "average"])
def test_default_threads_are_the_free_cores(
    monkeypatch: pytest.MonkeyPatch, cores: int, load: float, points: int, expected: int,
    source: str,
) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: set(range(cores)), raising=False)
    if source == "now":  # what wants a CPU now counts; the lagging average does not
        monkeypatch.setattr(os, "getloadavg", lambda: (9.0, 9.0, 9.0))
        monkeypatch.setattr(common, "busy_now", lambda: load)
    else:  # no /proc/loadavg (not Linux): the 1-minute average
        monkeypatch.setattr(os, "getloadavg", lambda: (load, load, load))
        monkeypatch.setattr(common, "busy_now", lambda: None)
    assert default_threads(points) == expected


def test_the_load_now_is_read_from_proc_loadavg(tmp_path: Path) -> None:
    proc = tmp_path / "loadavg"
    proc.write_text("0.00 0.01 0.05 2/312 4242\n")  # this thread and one other running
    assert common.runnable_others(str(proc)) == 1
    assert common.busy_now(samples=3, path=str(proc)) == 1.0
    proc.write_text("3.00 2.01 1.05 1/312 4242\n")  # a busy minute, but nobody else now
    assert common.busy_now(samples=3, path=str(proc)) == 0.0
    for broken in ("", "0.1 0.2", "a b c x/y 1", "0.1 0.2 0.3 0/10 1", "\x00" * 64):
        proc.write_text(broken)
        assert common.runnable_others(str(proc)) in (None, 0)
        assert common.busy_now(samples=2, path=str(proc)) in (None, 0.0)
    assert common.busy_now(path=str(tmp_path / "missing")) is None
    assert common.busy_now(path=str(tmp_path)) is None  # a folder
