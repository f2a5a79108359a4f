"""`fit`: JSON, CSV, exit codes and one-line errors, Ctrl+C (issue 15)."""

from __future__ import annotations

import csv
import json
import math
import os
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer.io import dataset_csv
from explorer.io.dataset_csv import bundled_datasets
from tests.cli.helpers import app, assert_usage_error
from tests.cli.test_interrupt import interrupt_when_started

REGRESSION = bundled_datasets()["regression"]


def columns(path: Path) -> tuple[np.ndarray, np.ndarray]:
    table = np.loadtxt(path, delimiter=",", skiprows=1)
    return table[:, 0], table[:, 1]


def read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    with open(path, newline="", encoding="utf-8") as file:
        rows = list(csv.reader(file))
    return rows[0], rows[1:]


def sgd_by_hand(x: np.ndarray, y: np.ndarray, lr: float, batch: int, epochs: int, seed: int,
                start: tuple[float, float]) -> list[tuple[float, float, float]]:
    """Plain SGD on the linear model with the gradient worked by hand: (w, b, batch loss)."""
    rng = np.random.default_rng(seed)
    w, b = start
    out = []
    for _ in range(epochs):
        perm = rng.permutation(len(x))
        for i in range(0, len(x), batch):
            rows = perm[i : i + batch]
            r = w * x[rows] + b - y[rows]
            loss = float(np.mean(r * r))
            w, b = w - lr * float(np.mean(2 * r * x[rows])), b - lr * float(np.mean(2 * r))
            out.append((w, b, loss))
    return out


def test_json_and_csv_match_the_rule_by_hand(tmp_path: Path) -> None:
    out_csv = tmp_path / "fit.csv"
    code, out, err = app("fit", "--model", "linear", "--data", str(REGRESSION), "--optimizer",
                         "sgd", "--lr", "0.05", "--batch-size", "16", "--epochs", "3", "--seed",
                         "3", "--start", "-1,2", "--json", "--csv", str(out_csv))
    assert code == 0 and err == "", err
    payload = json.loads(out)
    x, y = columns(REGRESSION)
    expected = sgd_by_hand(x, y, 0.05, 16, 3, 3, (-1.0, 2.0))
    assert set(payload) == {"model", "params", "loss", "steps", "epochs", "batch_size", "n",
                            "status", "schedule"}
    assert payload["model"] == "linear" and payload["status"] == "done"
    assert payload["schedule"] == ""
    assert payload["steps"] == len(expected) == 3 * math.ceil(len(x) / 16)
    assert payload["epochs"] == 3 and payload["batch_size"] == 16 and payload["n"] == len(x)
    np.testing.assert_allclose(payload["params"], expected[-1][:2], rtol=0, atol=1e-10)
    w, b = payload["params"]
    assert payload["loss"] == pytest.approx(np.mean((w * x + b - y) ** 2), rel=1e-10)

    header, rows = read_csv(out_csv)
    assert header == ["step", "w", "b", "loss", "batch_loss"]
    assert len(rows) == payload["steps"] + 1
    assert rows[0][:3] == ["0", "-1.0", "2.0"] and rows[0][4] == ""
    for k, row in enumerate(rows):
        assert int(row[0]) == k
        w, b, loss = (float(v) for v in row[1:4])
        assert loss == pytest.approx(np.mean((w * x + b - y) ** 2), rel=1e-10)
        if k:
            ew, eb, batch_loss = expected[k - 1]
            assert abs(w - ew) <= 1e-10 and abs(b - eb) <= 1e-10
            assert float(row[4]) == pytest.approx(batch_loss, rel=1e-12)


def test_text_summary_bundled_name_and_deeplinear_default_start(tmp_path: Path) -> None:
    code, out, err = app("fit", "--model", "linear", "--data", "regression", "--epochs", "2")
    assert code == 0 and "least squares: w = " in out and "2 steps, 2 epochs: done" in out
    out_csv = tmp_path / "d.csv"
    code, out, err = app("fit", "--model", "deeplinear", "--data", "regression", "--epochs", "1",
                         "--csv", str(out_csv))
    assert code == 0, err
    header, rows = read_csv(out_csv)
    assert header == ["step", "w1", "w2", "loss", "batch_loss"]
    assert [float(v) for v in rows[0][1:3]] == [0.5, -0.5]


def test_full_batch_converges_and_json_says_so() -> None:
    code, out, _ = app("fit", "--model", "linear", "--data", "regression", "--lr", "0.1",
                       "--epochs", "5000", "--tol", "1e-10", "--json")
    payload = json.loads(out)
    x, y = columns(REGRESSION)
    expected = np.linalg.lstsq(np.column_stack((x, np.ones_like(x))), y, rcond=None)[0]
    assert code == 0 and payload["status"] == "converged" and payload["batch_size"] == len(x)
    np.testing.assert_allclose(payload["params"], expected, rtol=0, atol=1e-8)


def test_diverged_json_has_the_reason() -> None:
    code, out, _ = app("fit", "--model", "linear", "--data", "regression", "--lr", "5",
                       "--epochs", "100", "--json")
    payload = json.loads(out)
    assert code == 0 and payload["status"] == "diverged"
    assert re.fullmatch(r"diverged at step \d+: \|[wb]\| > 1e6", payload["reason"])


def test_logistic_and_neuron_run() -> None:
    for model, data in (("logistic", "classification"), ("neuron", "plateau")):
        code, out, err = app("fit", "--model", model, "--data", data, "--optimizer", "adam",
                             "--lr", "0.1", "--batch-size", "32", "--epochs", "2", "--json")
        assert code == 0, err
        assert json.loads(out)["steps"] == 2 * math.ceil(300 / 32)


def _data(tmp_path: Path, text: str) -> str:
    path = tmp_path / "d.csv"
    path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.mark.parametrize(
    ("model", "text", "words"),
    [
        ("linear", "x,z\n1,2\n", "no column 'y'"),
        ("linear", "x,y\n1,2\n2,nan\n", "row 2, column y"),
        ("linear", "x,y\n1,2\n2,two\n", "row 2, column y: 'two' is not a number"),
        ("logistic", "x,label\n1,0\n2,2\n", "not a label 0 or 1"),
        ("linear", "x,y\n", "no data rows"),
    ],
)
def test_bad_data_exit_2_with_one_line(tmp_path: Path, model: str, text: str, words: str) -> None:
    code, out, err = app("fit", "--model", model, "--data", _data(tmp_path, text))
    assert_usage_error(code, out, err)
    assert words in err


def test_missing_device_fifo_and_too_many_rows(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    fifo = tmp_path / "fifo.csv"
    os.mkfifo(fifo)
    for path, words in ((tmp_path / "none.csv", "cannot read"), ("/dev/zero", "device"),
                        (fifo, "pipe")):
        code, out, err = app("fit", "--model", "linear", "--data", str(path))
        assert_usage_error(code, out, err)
        assert words in err
    monkeypatch.setattr(dataset_csv, "MAX_ROWS", 3)
    code, out, err = app("fit", "--model", "linear",
                         "--data", _data(tmp_path, "x,y\n1,1\n2,2\n3,3\n4,4\n"))
    assert_usage_error(code, out, err)
    assert "more than 3 data rows" in err


@pytest.mark.parametrize(
    "argv",
    [
        ["--model", "svm"],
        ["--batch-size", "0"],
        ["--batch-size", "1.5"],
        ["--epochs", "-1"],
        ["--seed", "-3"],
        ["--seed", "x"],
        ["--start", "1"],
        ["--start", "nan,1"],
        ["--lr", "0"],
        ["--param", "momentum=7"],
        ["--param", "betas=0.9"],
        ["--tol", "-1"],
        ["--bound", "inf"],
        ["--batch-size", "1", "--epochs", "1000000"],
        ["--threads", "0"],
        ["--csv", "/nonexistent/folder/x.csv"],
    ],
)
def test_bad_options_exit_2_with_one_line(argv: list[str]) -> None:
    base = ["fit", "--model", "linear", "--data", "regression"]
    code, out, err = app(*base, *argv)
    assert_usage_error(code, out, err)


@settings(max_examples=25, deadline=None)
@given(option=st.sampled_from(["--batch-size", "--epochs", "--seed"]),
       value=st.one_of(st.integers(-10**40, 10**40).map(str), st.text(max_size=6)))
def test_hostile_whole_numbers(option: str, value: str) -> None:
    code, out, err = app("fit", "--model", "linear", "--data", "regression", "--epochs", "1",
                         f"{option}={value}", "--json")
    if code == 0:
        assert int(value) >= (1 if option == "--batch-size" else 0)
        assert json.loads(out)["status"] in ("done", "converged", "diverged")
    else:
        assert_usage_error(code, out, err)


def test_ctrl_c_writes_the_steps_done(tmp_path: Path) -> None:
    out_csv = tmp_path / "out.csv"
    code, out, err = interrupt_when_started(
        ["fit", "--model", "linear", "--data", str(REGRESSION), "--batch-size", "1",
         "--epochs", "3000", "--lr", "0.001", "--csv", str(out_csv)],
        tmp_path,
    )
    assert code == 130 and out == "" and "Traceback" not in err
    last = err.splitlines()[-1]
    match = re.search(r"^interrupted at step (\d+); wrote the steps so far to ", last)
    assert match, err
    header, rows = read_csv(out_csv)
    assert header == ["step", "w", "b", "loss", "batch_loss"]
    assert [int(r[0]) for r in rows] == list(range(int(match.group(1)) + 1))
