"""Ctrl+C (SIGINT): exit 130 with one line, no traceback; `run --csv` keeps the steps done."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from explorer.core.budget import MAX_POINT_STEPS, MAX_STEPS
from explorer.core.trajectory import Status
from explorer.io.trajectory_csv import read_trajectories
from tests.cli.helpers import app

ROOT = Path(__file__).resolve().parents[2]
# f = x + y never converges and, at lr 0.01, leaves |x| <= 1e6 for 10^8 steps: it runs its
# whole budget, which takes far longer than it takes to interrupt it.
ENDLESS = ["--function", "x + y", "--lr", "0.01"]


def interrupt_when_started(argv: list[str], cwd: Path) -> tuple[int, str, str]:
    """Start main.py, wait for its one-line notice on stderr, send SIGINT, collect the rest."""
    process = subprocess.Popen(
        [sys.executable, "main.py", *argv],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert process.stderr is not None
        first = process.stderr.readline()  # printed once Ctrl+C stops cleanly
        assert "Ctrl+C" in first, first
        process.send_signal(signal.SIGINT)
        out, rest = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return process.returncode, out, first + rest


@pytest.mark.parametrize("optimizer", ["adam", "lbfgs"])
def test_run_csv_keeps_the_steps_done_when_interrupted(tmp_path: Path, optimizer: str) -> None:
    csv = tmp_path / "out.csv"
    code, out, err = interrupt_when_started(
        ["run", *ENDLESS, "--optimizer", optimizer, "--start", "0,0", "--start", "1,-1",
         "--steps", str(MAX_STEPS), "--csv", str(csv)],
        tmp_path,
    )
    assert code == 130 and out == "" and "Traceback" not in err
    match = re.search(r"^interrupted at step (\d+)", err.splitlines()[-1])
    assert match, err
    step = int(match.group(1))
    trajectories = read_trajectories(csv)
    assert trajectories and all(len(t.x) > 0 for t in trajectories)
    # The path part-way when Ctrl+C came has rows 0..step, consecutive, and is marked stopped.
    last = trajectories[-1]
    assert last.status is Status.STOPPED and len(last.x) == step + 1
    for t in trajectories:
        assert np.all(np.isfinite(t.x)) and np.all(np.isfinite(t.f))
        # x + y has gradient (1, 1) everywhere: every recorded row says so.
        assert np.all(t.grad_x == 1.0) and np.all(t.grad_y == 1.0)
    assert not list(tmp_path.glob(".*.tmp"))  # the atomic writer left no temporary file


def test_basin_is_interrupted_with_one_line(tmp_path: Path) -> None:
    steps = MAX_POINT_STEPS // (512 * 512)
    code, out, err = interrupt_when_started(
        ["basin", *ENDLESS, "--domain=-1,1,-1,1", "--grid", "512", "--steps", str(steps)],
        tmp_path,
    )
    assert code == 130 and out == "" and "Traceback" not in err
    assert re.fullmatch(r"interrupted at step \d+ of \d+: no map", err.splitlines()[-1]), err
    assert len(err.splitlines()) == 2  # the notice, then the message


@pytest.mark.parametrize(
    ("target", "argv"),
    [
        ("explorer.core.sweep.lr_sweep",
         ["sweep", "--preset", "bowl", "--start", "1,1", "--optimizer", "sgd", "--lr-min",
          "0.01", "--lr-max", "0.1", "--count", "3", "--steps", "10"]),
        ("explorer.core.gradient.gradient_report", ["grad", "--preset", "bowl", "--at", "1,1"]),
        ("explorer.core.basin.basin_map", ["basin", "--preset", "bowl", "--grid", "4"]),
        ("explorer.core.descent.descend", ["run", "--preset", "bowl", "--start", "1,1"]),
    ],
)
def test_ctrl_c_anywhere_in_a_command_is_one_line_and_130(
    monkeypatch: pytest.MonkeyPatch, target: str, argv: list[str]
) -> None:
    def interrupted(*_args: object, **_kwargs: object) -> object:
        raise KeyboardInterrupt

    monkeypatch.setattr(target, interrupted)
    code, out, err = app(*argv)
    assert code == 130 and out == ""
    assert err == "interrupted\n"


class _InterruptImport:
    """A finder that raises KeyboardInterrupt when explorer.cli is imported (Ctrl+C then)."""

    def find_spec(self, name: str, *args: object) -> None:
        if name == "explorer.cli":
            raise KeyboardInterrupt
        return None


def test_ctrl_c_while_python_imports_the_command_is_one_line_and_130(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import explorer
    from explorer.app import main

    for name in [n for n in sys.modules if n == "explorer.cli" or n.startswith("explorer.cli.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.delattr(explorer, "cli", raising=False)
    monkeypatch.setattr(sys, "meta_path", [_InterruptImport(), *sys.meta_path])
    assert main(["run", "--preset", "himmelblau", "--start=0,0"]) == 130
    assert capsys.readouterr().err == "interrupted\n"
