"""run --svg and fit --svg: the contour map with the whole paths as an SVG figure (pyqtgraph's
exporter, as the window's File > Export figure), written without a display; bad paths refused
before any work."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.cli.helpers import app, assert_usage_error

ROOT = Path(__file__).resolve().parents[2]
SVG = "{http://www.w3.org/2000/svg}"
RUN = ["run", "--preset", "himmelblau", "--start", "0,0", "--start", "-1,-4", "--lr", "0.01",
       "--steps", "40", "--tol", "0"]


def _vertex_counts(path: Path) -> list[int]:
    """How many vertices each straight-line SVG path has (marker circles left out)."""
    root = ET.parse(path).getroot()
    return [len(re.findall(r"[ML]", e.get("d", ""))) for e in root.iter(f"{SVG}path")
            if "C" not in e.get("d", "")]


def _texts(path: Path) -> set[str]:
    return {(e.text or "").strip() for e in ET.parse(path).getroot().iter(f"{SVG}text")}


def test_run_svg_draws_each_whole_path_on_the_labelled_map(qapp: object, tmp_path: Path) -> None:
    target = tmp_path / "run.svg"
    code, out, err = app(*RUN, "--svg", str(target), "--json")
    assert code == 0, err
    payload = json.loads(out)  # --json stays one JSON object
    rows = [t["steps"] + 1 for t in payload["trajectories"]]
    counts = _vertex_counts(target)
    for n in rows:  # each trajectory is one path with one vertex per row
        assert n in counts
    assert {"x", "y", "f(x, y)"} <= _texts(target)


def test_fit_svg_draws_the_parameters_path_over_the_loss(qapp: object, tmp_path: Path) -> None:
    target = tmp_path / "fit.svg"
    code, out, err = app("fit", "--model", "linear", "--data", "regression", "--epochs", "2",
                         "--svg", str(target))
    assert code == 0, err
    assert f"wrote {target}" in out
    texts = _texts(target)
    assert "loss" in texts and "w" in texts and "b" in texts


@pytest.mark.parametrize("name", ["map.png", "map", "map.svg/x.svg"])
def test_a_name_that_is_not_svg_or_cannot_be_written_is_refused_first(
    tmp_path: Path, name: str
) -> None:
    code, out, err = app(*RUN, "--steps", "100000", "--svg", str(tmp_path / name))
    assert_usage_error(code, out, err)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("device", ["/dev/null", "/dev/full"])
def test_a_device_is_refused_and_stays_a_device(device: str) -> None:
    code, out, err = app(*RUN, "--svg", device)
    assert_usage_error(code, out, err)
    assert stat.S_ISCHR(os.stat(device).st_mode)


def test_a_pipe_named_svg_is_refused(tmp_path: Path) -> None:
    pipe = tmp_path / "pipe.svg"
    os.mkfifo(pipe)
    code, out, err = app(*RUN, "--svg", str(pipe))
    assert_usage_error(code, out, err)
    assert "not a regular file" in err and stat.S_ISFIFO(os.stat(pipe).st_mode)


def test_frame_options_still_need_an_animation(tmp_path: Path) -> None:
    code, out, err = app(*RUN, "--svg", str(tmp_path / "a.svg"), "--every", "2")
    assert_usage_error(code, out, err)
    assert "--every" in err
    code, out, err = app(*RUN, "--svg", str(tmp_path / "a.svg"), "--size", "320x240")
    assert code == 0, err  # --size is the picture's size for --svg too
    root = ET.parse(tmp_path / "a.svg").getroot()
    assert float(root.get("width", "0").rstrip("px")) <= 320


def test_svg_without_any_display(tmp_path: Path) -> None:
    target = tmp_path / "a.svg"
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    result = subprocess.run([sys.executable, "main.py", *RUN, "--svg", str(target)], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    ET.parse(target)
