"""--animation, --fps, --every and --size on `run` (and `fit`): hostile values, refused paths,
frames read back, and a GIF written with no display at all."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from explorer.io.animation import frame_count
from tests.cli.helpers import app, assert_usage_error

ROOT = Path(__file__).resolve().parents[2]
RUN = ["run", "--preset", "himmelblau", "--start", "0,0", "--steps", "5"]
# Every step taken (no tolerance reached), far enough apart to move on the map every frame.
MOVING = ["run", "--preset", "himmelblau", "--start", "0,0", "--start", "-1,-4", "--lr", "0.01",
          "--tol", "0", "--size", "320x240"]

_HOSTILE_NUMBERS = st.one_of(
    st.sampled_from(["0", "-1", "-20", "nan", "inf", "1e3", "1.5", "", "ten", "10**9", "٣",
                     "9" * 40, " ", "\n", "0x10"]),
    st.integers(max_value=0).map(str),
    st.integers(min_value=10**13).map(str),
    st.text(max_size=6),
)


def _as_int(text: str) -> int | None:
    """The whole number int() reads in text (any script's digits, '_' between them), or None:
    '¹' is a digit to str.isdigit() but not to int()."""
    try:
        return int(text)
    except ValueError:
        return None


@example(flag="--fps", value="¹")
@example(flag="--every", value="1_0")
@settings(max_examples=60, deadline=None)
@given(st.sampled_from(["--fps", "--every"]), _HOSTILE_NUMBERS)
def test_hostile_frame_options_are_one_line_usage_errors(tmp_path_factory: pytest.TempPathFactory,
                                                         flag: str, value: str) -> None:
    number = _as_int(value)
    if number is not None and 1 <= number <= (10**12 if flag == "--every" else 50):
        return  # a fine stride or rate (as Python reads a whole number): nothing hostile
    folder = tmp_path_factory.mktemp("out")
    code, out, err = app(*RUN, "--animation", str(folder / "a.gif"), f"{flag}={value}")
    assert_usage_error(code, out, err)
    assert flag in err
    assert list(folder.iterdir()) == []


@settings(max_examples=60, deadline=None)
@given(st.one_of(
    st.sampled_from(["0x0", "-800x600", "800x-600", "800", "800x", "x600", "nanxnan", "800x600x3",
                     "63x600", "800x47", "3841x600", "800x2161", "99999999x99999999", "8e2x6e2",
                     "800 600", "800\u00d7600", ""]),
    st.text(max_size=12),
))
def test_hostile_sizes_are_one_line_usage_errors(tmp_path_factory: pytest.TempPathFactory,
                                                 value: str) -> None:
    parts = value.lower().split("x")
    if (len(parts) == 2 and all(p.strip().isascii() and p.strip().isdigit() for p in parts)
            and 64 <= int(parts[0]) <= 3840 and 48 <= int(parts[1]) <= 2160):
        return  # a real size
    folder = tmp_path_factory.mktemp("out")
    code, out, err = app(*RUN, "--animation", str(folder / "a.gif"), f"--size={value}")
    assert_usage_error(code, out, err)
    assert "--size" in err
    assert list(folder.iterdir()) == []


@pytest.mark.parametrize("option", [["--fps", "10"], ["--every", "3"], ["--size", "320x240"]])
def test_frame_options_without_an_animation_are_refused(option: list[str]) -> None:
    code, out, err = app(*RUN, *option)
    assert_usage_error(code, out, err)
    assert option[0] in err and "--animation" in err


def refused_paths(folder: Path) -> dict[str, str]:
    """Animation paths every command refuses (a folder named folder.gif made for one), and the
    words that say why."""
    (folder / "folder.gif").mkdir()
    return {
        str(folder / "a.avi"): ".gif or an .mp4",
        str(folder / "a"): ".gif or an .mp4",
        str(folder / "missing" / "a.gif"): "does not exist",
        str(folder / "folder.gif"): "is a folder",
    }


def test_refused_paths_exit_2_before_any_work(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    for path, why in refused_paths(tmp_path).items():
        code, out, err = app(*RUN, "--animation", path)
        assert_usage_error(code, out, err)
        assert why in err
    monkeypatch.setenv("IMAGEIO_FFMPEG_EXE", str(tmp_path / "no-ffmpeg"))
    code, out, err = app(*RUN, "--animation", str(tmp_path / "a.mp4"))
    assert_usage_error(code, out, err)
    assert "ffmpeg is missing" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder.gif"]


def test_too_many_frames_are_refused_with_what_to_change(tmp_path: Path) -> None:
    code, out, err = app("run", "--preset", "himmelblau", "--start", "0,0", "--steps", "100000",
                         "--animation", str(tmp_path / "a.gif"), "--size", "3840x2160")
    assert_usage_error(code, out, err)
    assert "steps per frame" in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("steps", "every"), [(0, 1), (9, 1), (30, 10), (31, 10), (40, 7)])
def test_run_writes_one_frame_per_rule(qapp: object, tmp_path: Path, steps: int,
                                       every: int) -> None:
    path = tmp_path / "a.gif"
    code, out, err = app(*MOVING, "--steps", str(steps), "--every", str(every),
                         "--fps", "10", "--animation", str(path))
    assert code == 0, err
    frames = iio.imread(path, index=None)
    expected = frame_count(steps, every)
    assert frames.shape == (expected, 240, 320, 3)
    assert f"wrote {path} ({expected} frames" in out
    if steps:
        # The first frame has the start markers only, the last the whole paths: they differ.
        assert (frames[0] != frames[-1]).any(axis=-1).sum() > 50


def test_run_writes_an_mp4_and_json_stays_one_object(qapp: object, tmp_path: Path) -> None:
    path = tmp_path / "a.mp4"
    code, out, err = app(*MOVING, "--steps", "12", "--every", "4", "--animation", str(path),
                         "--json")
    assert code == 0, err
    assert json.loads(out)["trajectories"][0]["steps"] == 12
    from tests.io.test_animation import _read_mp4

    frames, meta = _read_mp4(path)
    assert frames.shape == (frame_count(12, 4), 240, 320, 3)
    assert meta["fps"] == 20


def test_a_scipy_run_animates_its_iterates(qapp: object, tmp_path: Path) -> None:
    path = tmp_path / "bfgs.gif"
    csv = tmp_path / "bfgs.csv"
    code, _, err = app("run", "--function", "(x - 1)**2 + 10*(y + 2)**2", "--start", "3,3",
                         "--optimizer", "bfgs", "--animation", str(path), "--size", "200x150",
                         "--csv", str(csv))
    assert code == 0, err
    rows = len(csv.read_text().splitlines()) - 1  # the CSV: one row per point of the path
    assert iio.imread(path, index=None).shape[0] == frame_count(rows - 1, 1)


def test_a_gif_without_any_display(tmp_path: Path) -> None:
    """The command in a fresh interpreter with no DISPLAY and no Qt platform set."""
    path = tmp_path / "a.gif"
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    result = subprocess.run(
        [sys.executable, "main.py", *MOVING, "--steps", "20", "--every", "5",
         "--animation", str(path)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # Qt's platform notes stay out of the command's output
    frames = iio.imread(path, index=None)
    assert frames.shape == (frame_count(20, 5), 240, 320, 3)
    assert np.ptp(frames[-1].astype(int)) > 100  # a map, not a blank frame


def test_fit_animates_its_parameters_over_the_loss(qapp: object, tmp_path: Path) -> None:
    path = tmp_path / "fit.gif"
    code, out, err = app("fit", "--model", "linear", "--data", "regression", "--epochs", "2",
                         "--batch-size", "50", "--animation", str(path), "--every", "3",
                         "--size", "240x180", "--json")
    assert code == 0, err
    steps = json.loads(out)["steps"]
    frames = iio.imread(path, index=None)
    assert frames.shape == (frame_count(steps, 3), 180, 240, 3)
    assert (frames[0] != frames[-1]).any(axis=-1).sum() > 50


@pytest.mark.parametrize("option", [["--every", "0"], ["--fps", "nan"], ["--size", "1x1"]])
def test_fit_refuses_hostile_frame_options(tmp_path: Path, option: list[str]) -> None:
    code, out, err = app("fit", "--model", "linear", "--data", "regression",
                         "--animation", str(tmp_path / "a.gif"), *option)
    assert_usage_error(code, out, err)
    assert option[0] in err
    assert list(tmp_path.iterdir()) == []


def test_a_session_animates_every_run_on_its_domain(qapp: object, tmp_path: Path) -> None:
    """The README's race: four optimisers from one start, one frame every 50 steps."""
    path = tmp_path / "race.gif"
    code, out, err = app("run", "--session", str(ROOT / "resources" / "race_session.json"),
                         "--animation", str(path), "--every", "50", "--size", "200x150",
                         "--json")
    assert code == 0, err
    trajectories = json.loads(out)["trajectories"]
    assert len({t["optimizer"] for t in trajectories}) == 4
    longest = max(t["steps"] for t in trajectories)
    assert iio.imread(path, index=None).shape == (frame_count(longest, 50), 150, 200, 3)


def test_the_readme_race_gif_is_small_and_from_the_session() -> None:
    gif = ROOT / "resources" / "race.gif"
    assert gif.stat().st_size < 5 * 1024 * 1024
    frames = iio.imread(gif, index=None)
    session = json.loads((ROOT / "resources" / "race_session.json").read_text())
    steps = max(run["settings"]["steps"] for run in session["runs"])
    assert len(frames) == frame_count(steps, 4)  # --every 4, as the README says
    assert "resources/race.gif --every 4" in (ROOT / "README.md").read_text()


_COORD = st.floats(allow_nan=True, allow_infinity=True, width=64)


@given(st.lists(st.lists(st.tuples(_COORD, _COORD), min_size=1, max_size=6), min_size=1,
                max_size=4))
def test_the_drawn_box_holds_every_finite_start_and_is_a_real_domain(
        paths: list[list[tuple[float, float]]]) -> None:
    from explorer.cli.animate import domain_around
    from explorer.core.landscape import validate_domain

    arrays = [np.array(path, dtype=np.float64) for path in paths]
    xmin, xmax, ymin, ymax = domain_around(arrays)
    assert all(np.isfinite([xmin, xmax, ymin, ymax])) and xmin < xmax and ymin < ymax
    for path in arrays:
        x, y = path[0]
        if np.isfinite(x) and np.isfinite(y) and max(abs(x), abs(y)) <= 1e150:
            assert xmin < x < xmax and ymin < y < ymax
    assert validate_domain((xmin, xmax, ymin, ymax)) == (xmin, xmax, ymin, ymax)
