"""`slice` and `data` (issue 17): the JSON, the files, Ctrl+C, and hostile input."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from explorer.core.loss_slice import MAX_GRID
from explorer.core.network import MAX_LAYERS, MAX_WIDTH, NetProblem, NetSpec, TrainSettings, train
from explorer.core.toy_data import BUNDLED_NOISE, MAX_POINTS, toy_data
from explorer.io.dataset_csv import load_features, network_data_path
from tests.cli.helpers import app, assert_usage_error

SMALL = ["slice", "--data", "xor", "--hidden", "6", "--steps", "30", "--lr", "0.1",
         "--sharpness-every", "10", "--grid", "5"]


def test_json_has_exactly_the_issues_keys_and_the_centre_is_the_loss() -> None:
    code, out, err = app(*SMALL, "--json")
    assert code == 0, err
    payload = json.loads(out)
    assert set(payload) == {"loss", "steps", "parameters", "two_over_lr", "sharpness", "slice"}
    assert set(payload["slice"]) == {"directions", "grid", "center_loss", "max_path_gap"}
    assert payload["steps"] == 30 and payload["parameters"] == 2 * 6 + 6 + 6 + 1
    assert payload["two_over_lr"] == pytest.approx(20.0)
    assert [k for k, _ in payload["sharpness"]] == [0, 10, 20]
    assert payload["slice"]["center_loss"] == pytest.approx(payload["loss"], abs=1e-10)
    # The same numbers from the core, called directly.
    data = load_features(network_data_path("xor"))
    problem = NetProblem(NetSpec(2, (6,), "tanh", "mse"), data.features, data.labels, 0)
    run = train(problem, TrainSettings("sgd", 0.1, steps=30, sharpness_every=10))
    assert payload["loss"] == float(run.loss[-1])
    assert [v for _, v in payload["sharpness"]] == run.sharpness[:, 1].tolist()


def test_csv_and_npz_hold_the_steps_the_slice_and_the_path(tmp_path: Path) -> None:
    csv_path, npz_path = tmp_path / "steps.csv", tmp_path / "slice.npz"
    code, out, err = app(*SMALL, "--json", "--csv", str(csv_path), "--save", str(npz_path))
    assert code == 0, err
    payload = json.loads(out)
    lines = csv_path.read_text().splitlines()
    assert lines[0] == "step,loss,sharpness" and len(lines) == 32
    rows = [line.split(",") for line in lines[1:]]
    measured = {int(r[0]): float(r[2]) for r in rows if r[2]}
    assert measured == {int(k): v for k, v in payload["sharpness"]}
    assert float(rows[-1][1]) == payload["loss"]
    with np.load(npz_path) as saved:
        assert saved["losses"].shape == (5, 5) and saved["alphas"].shape == (5,)
        assert saved["losses"][2, 2] == pytest.approx(payload["loss"], abs=1e-10)
        assert saved["path_ab"].shape == (31, 2)
        gap = np.max(np.abs(saved["path_loss"] - saved["path_slice_loss"]))
        assert gap == pytest.approx(payload["slice"]["max_path_gap"])
        np.testing.assert_array_equal(saved["sharpness"][:, 0], [0, 10, 20])
        assert float(saved["two_over_lr"]) == pytest.approx(20.0)


def test_the_summary_names_the_network_and_the_files(tmp_path: Path) -> None:
    target = tmp_path / "s.csv"
    code, out, err = app(*SMALL, "--csv", str(target), "--directions", "pca")
    assert code == 0, err
    assert "2-6-1 tanh, mse (25 parameters)" in out and f"wrote {target}" in out
    assert "pca directions, 5 x 5" in out


def test_data_writes_the_generators_set_exactly(tmp_path: Path) -> None:
    target = tmp_path / "moons.csv"
    code, out, err = app("data", "moons", "--n", "41", "--noise", "0.2", "--seed", "3",
                         "--out", str(target))
    assert code == 0 and err == "" and str(target) in out
    data = load_features(target)
    features, labels = toy_data("moons", 41, 0.2, 3)
    np.testing.assert_array_equal(data.features, features)
    np.testing.assert_array_equal(data.labels, labels)


@pytest.mark.parametrize("name", sorted(BUNDLED_NOISE))
def test_the_bundled_files_are_what_data_writes(name: str, tmp_path: Path) -> None:
    target = tmp_path / f"{name}.csv"
    app("data", name, "--n", "300", "--noise", str(BUNDLED_NOISE[name]), "--seed", "0",
        "--out", str(target))
    assert target.read_bytes() == network_data_path(name).read_bytes()


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("x1,x2\n1,2\n", "no column 'label'"),
        ("x1,label\n1,a\n", "'a' is not a number"),
        ("x1,label\n1,0.5\n", None),  # fine for mse; bce is refused below
    ],
)
def test_bad_data_is_one_line(content: str, words: str | None, tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text(content)
    code, out, err = app("slice", "--data", str(path), "--steps", "1", "--grid", "3",
                         "--loss", "bce")
    assert_usage_error(code, out, err)
    assert (words or "bce loss needs labels") in err


def test_a_missing_file_and_unwritable_outputs_are_one_line(tmp_path: Path) -> None:
    assert_usage_error(*app("slice", "--data", str(tmp_path / "none.csv")))
    assert_usage_error(*app(*SMALL, "--save", str(tmp_path / "no" / "x.npz")))
    assert_usage_error(*app("data", "xor", "--out", str(tmp_path)))


def test_limits_are_one_line_saying_what_they_would_need() -> None:
    code, out, err = app("slice", "--data", "spirals", "--hidden", "4096,4096", "--steps", "1")
    assert_usage_error(code, out, err)
    assert "parameters, above the limit" in err
    code, out, err = app("slice", "--data", "spirals", "--hidden", "512,512",
                         "--steps", "1000000")
    assert_usage_error(code, out, err)
    assert "GiB" in err


def _whole(text: str) -> bool:
    """Whether int() takes the text."""
    try:
        int(text)
    except ValueError:
        return False
    return True


def _flag_values() -> st.SearchStrategy[str]:
    return st.one_of(
        st.text(max_size=12),
        st.integers(-(10**30), 10**30).map(str),
        st.floats().map(repr),
        st.sampled_from(["", "-1", "0", "1e400", "nan", "inf", "3,", ",", "2,2,2,2,2,2,2,2,2"]),
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    flag=st.sampled_from(["--hidden", "--activation", "--loss", "--optimizer", "--lr",
                          "--steps", "--seed", "--batch-size", "--sharpness-every",
                          "--directions", "--grid", "--threads", "--param", "--schedule"]),
    value=_flag_values(),
)
def test_hostile_slice_flags_run_or_fail_in_one_line(flag: str, value: str) -> None:
    # A valid but long run is not hostile, only slow: keep the steps few.
    assume(flag != "--steps" or not _whole(value) or int(value) <= 20)
    base = ["slice", "--data", "xor", "--hidden", "3", "--steps", "2", "--grid", "3",
            "--sharpness-every", "1"]
    code, out, err = app(*base, flag, value, "--json")
    if code == 0:
        payload = json.loads(out)
        assert payload["steps"] == (int(value) if flag == "--steps" else 2)
        assert payload["slice"]["grid"] <= MAX_GRID
        return
    assert_usage_error(code, out, err)


@settings(max_examples=40, deadline=None)
@given(
    flag=st.sampled_from(["--n", "--noise", "--seed"]),
    value=_flag_values(),
    name=st.sampled_from(["spirals", "moons", "circles", "xor", "blobs", ""]),
)
def test_hostile_data_flags_write_or_fail_in_one_line(flag: str, value: str, name: str,
                                                       tmp_path_factory: pytest.TempPathFactory,
                                                       ) -> None:
    # A valid large n is not hostile, only a large file.
    assume(flag != "--n" or not _whole(value) or not 10_000 < int(value) <= MAX_POINTS)
    target = tmp_path_factory.mktemp("d") / "out.csv"
    code, out, err = app("data", name, flag, value, "--out", str(target))
    if code == 0:
        assert target.exists() and str(target) in out
        return
    assert_usage_error(code, out, err)
    assert not target.exists()


def test_grid_and_hidden_ranges_in_the_messages() -> None:
    code, out, err = app(*SMALL, "--grid", "4")
    assert_usage_error(code, out, err)
    assert "odd" in err and str(MAX_GRID) in err
    code, out, err = app(*SMALL, "--hidden", ",".join(["2"] * (MAX_LAYERS + 1)))
    assert_usage_error(code, out, err)
    assert str(MAX_WIDTH) in err


def test_a_diverged_run_slices_its_last_finite_row() -> None:
    code, out, err = app("slice", "--data", "xor", "--hidden", "8", "--activation", "relu",
                         "--lr", "10", "--steps", "300", "--grid", "3", "--json")
    assert code == 0, err
    payload = json.loads(out)
    assert payload.get("status") == "diverged"
    assert payload["steps"] < 300
    assert payload["slice"]["center_loss"] is None or math.isfinite(
        payload["slice"]["center_loss"])


def test_ctrl_c_stops_training_and_keeps_the_steps_so_far(tmp_path: Path) -> None:
    from tests.cli.test_interrupt import interrupt_when_started

    target = tmp_path / "steps.csv"
    code, out, err = interrupt_when_started(
        ["slice", "--data", "xor", "--hidden", "3", "--steps", "1000000", "--csv", str(target)],
        tmp_path,
    )
    assert code == 130 and out == "" and "Traceback" not in err
    last = err.splitlines()[-1]
    assert last.startswith("interrupted at step ") and str(target) in last, err
    step = int(last.split()[3].rstrip(";"))
    lines = target.read_text().splitlines()
    assert len(lines) == step + 2 and lines[0] == "step,loss,sharpness"
    assert all(math.isfinite(float(line.split(",")[1])) for line in lines[1:])
