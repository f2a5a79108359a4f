"""`run --session` on a session that holds the window's neural network (issue 17): one line,
exit 2, naming the `slice` command that trains it, and that command trains that network."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import numpy as np
import pytest

from explorer.core.network import NetProblem, NetSpec, TrainSettings, train
from explorer.io.dataset_csv import load_features, network_datasets
from explorer.io.session import Session, load_session, save_session
from explorer.io.session_network import NetworkSource
from tests.cli.helpers import app, assert_usage_error

XOR = network_datasets()["xor"]


def _network(start: np.ndarray | None = None) -> NetworkSource:
    data = load_features(XOR)
    settings = TrainSettings("sgd", 0.2, (("momentum", 0.3),), 30, 4, None, 10, "")
    return NetworkSource("xor", data.sha256, NetSpec(2, (4,), "tanh", "mse"), settings,
                         "fixed", 5, start)


def _session(tmp_path: Path, network: NetworkSource) -> Path:
    path = tmp_path / "net.json"
    save_session(path, Session("x**2 + y**2", (-1.0, 1.0, -1.0, 1.0), network=network))
    return path


def test_run_points_to_the_slice_command_that_trains_the_network(tmp_path: Path) -> None:
    path = _session(tmp_path, _network())
    code, out, err = app("run", "--session", str(path))
    assert_usage_error(code, out, err)
    assert f"{path}: the session holds a neural network" in err
    line = err.split(": ", 3)[-1].strip()
    words = shlex.split(line[line.index("python main.py slice"):])
    assert words[:3] == ["python", "main.py", "slice"]
    code, out, err = app(*words[2:], "--json")
    assert code == 0, err
    # That command trains the session's network: its loss is the core's for those settings.
    network = load_session(path).network
    assert network is not None
    data = load_features(XOR)
    problem = NetProblem(network.spec, data.features, data.labels, network.settings.seed)
    run = train(problem, network.settings)
    assert json.loads(out)["loss"] == float(run.loss[-1])
    assert json.loads(out)["slice"]["directions"] == "fixed"


def test_a_start_clicked_on_a_slice_is_said_to_be_the_windows(tmp_path: Path) -> None:
    start = np.linspace(-1.0, 1.0, NetSpec(2, (4,)).parameter_count)
    code, out, err = app("run", "--session", str(_session(tmp_path, _network(start))))
    assert_usage_error(code, out, err)
    assert "clicked on a slice, which only the window can" in err


@pytest.mark.parametrize("flag", ["--csv", "--json"])
def test_the_refusal_comes_before_any_output_is_written(tmp_path: Path, flag: str) -> None:
    out_file = tmp_path / "o.csv"
    extra = [flag, str(out_file)] if flag == "--csv" else [flag]
    code, out, err = app("run", "--session", str(_session(tmp_path, _network())), *extra)
    assert_usage_error(code, out, err)
    assert not out_file.exists()
