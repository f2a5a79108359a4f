"""slice --animation and --svg (issue 18): the path projected on the slice growing frame by frame
beside its loss, the frame rule, the last frame's map as SVG, MP4, and hostile flags and paths
refused as `run` refuses them, before any training."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from explorer.io.animation import frame_count
from tests.cli.helpers import app, assert_usage_error
from tests.cli.test_animation_cli import _HOSTILE_NUMBERS, refused_paths

SLICE = ["slice", "--data", "xor", "--hidden", "6", "--lr", "0.3", "--sharpness-every", "0",
         "--grid", "7", "--directions", "pca"]
RUN = ["run", "--preset", "himmelblau", "--start", "0,0", "--steps", "5"]
SVG = "{http://www.w3.org/2000/svg}"


def _saved(path: Path) -> dict[str, NDArray[np.float64]]:
    with np.load(path) as saved:
        return {name: saved[name] for name in saved.files}


def _no_training(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if the network starts training."""

    def train(*_args: object, **_kwargs: object) -> None:
        pytest.fail("trained before refusing")

    monkeypatch.setattr("explorer.core.network.train", train)


@pytest.mark.parametrize(("steps", "every"), [(1, 1), (9, 1), (30, 10), (31, 10), (40, 7)])
def test_slice_writes_one_frame_per_rule(qapp: object, tmp_path: Path, steps: int,
                                         every: int) -> None:
    path = tmp_path / "a.gif"
    code, out, err = app(*SLICE, "--steps", str(steps), "--every", str(every), "--fps", "10",
                         "--size", "240x160", "--animation", str(path))
    assert code == 0, err
    frames = iio.imread(path, index=None)
    expected = frame_count(steps, every)
    assert frames.shape == (expected, 160, 240, 3)
    assert f"wrote {path} ({expected} frames, {expected / 10:.3g} s at 10 fps)" in out


def test_a_diverged_run_animates_the_rows_it_sliced(qapp: object, tmp_path: Path) -> None:
    """The slice (and so the path drawn) ends at the last finite row: the frames follow it."""
    path, saved = tmp_path / "a.gif", tmp_path / "s.npz"
    code, out, err = app("slice", "--data", "xor", "--hidden", "6", "--lr", "1e6",
                         "--steps", "40", "--grid", "3", "--sharpness-every", "0", "--json",
                         "--save", str(saved), "--animation", str(path), "--size", "160x120")
    assert code == 0, err
    assert json.loads(out)["status"] == "diverged"
    rows = len(_saved(saved)["path_ab"])
    assert rows < 41
    assert len(iio.imread(path, index=None)) == frame_count(rows - 1, 1)


def test_the_last_frame_shows_the_path_where_the_first_has_none(qapp: object,
                                                                tmp_path: Path) -> None:
    from explorer.core.landscape import grid_of_values
    from explorer.gui.tools.animation_export import AnimatedPath, AnimationScene, FrameRenderer
    from tests.gui.tools.test_animation_export import _near, _pixel

    gif, npz = tmp_path / "a.gif", tmp_path / "s.npz"
    code, _, err = app(*SLICE, "--steps", "60", "--every", "20", "--size", "400x300",
                       "--animation", str(gif), "--save", str(npz))
    assert code == 0, err
    frames = iio.imread(gif, index=None)
    saved = _saved(npz)
    # Where the path's points land in a frame: the same scene drawn here, at the same size.
    a, b = saved["alphas"], saved["betas"]
    grid = grid_of_values((a[0], a[-1], b[0], b[-1]), a, b, saved["losses"])
    scene = AnimationScene(grid, [AnimatedPath(saved["path_ab"], saved["path_loss"],
                                               beside=saved["path_slice_loss"])],
                           names=("a", "b", "loss"), log=grid.suggest_log)
    renderer = FrameRenderer(scene, 400, 300)
    try:
        start = saved["path_ab"][0]
        moved = [p for p in saved["path_ab"][30:] if np.hypot(*(p - start)) > 0.3 * np.ptp(a)]
        assert moved, "the path should move away from its start"
        for x, y in moved[:: max(len(moved) // 4, 1)]:
            row, col = _pixel(renderer, float(x), float(y))
            assert (_near(frames[0], row, col) != _near(frames[-1], row, col)).any()
    finally:
        renderer.close()
    # The loss plot beside the map (its right two fifths) grows too.
    assert (frames[0][:, 260:] != frames[-1][:, 260:]).any(axis=-1).sum() > 50


def _svg_polylines(path: Path) -> list[NDArray[np.float64]]:
    """The vertices of every straight-line SVG path (marker circles left out)."""
    out = []
    for element in ET.parse(path).getroot().iter(f"{SVG}path"):
        d = element.get("d", "")
        if "C" in d:
            continue
        numbers = [float(v) for v in re.findall(r"[-+]?[\d.]+(?:e[-+]?\d+)?", d)]
        out.append(np.array(numbers, dtype=np.float64).reshape(-1, 2))
    return out


def test_svg_draws_the_projected_path_on_the_labelled_map(qapp: object,
                                                          tmp_path: Path) -> None:
    svg, npz = tmp_path / "s.svg", tmp_path / "s.npz"
    code, out, err = app(*SLICE, "--steps", "30", "--svg", str(svg), "--save", str(npz))
    assert code == 0, err
    assert f"wrote {svg}\n" in out
    path_ab = _saved(npz)["path_ab"]
    # One polyline is the path: a vertex per row, each the row mapped to the scene by the map's
    # own scaling (one scale and offset per axis, b upwards), to within rounding.
    matches = []
    for vertices in _svg_polylines(svg):
        if len(vertices) != len(path_ab):
            continue
        fits = [np.polyfit(path_ab[:, k], vertices[:, k], 1, full=True) for k in (0, 1)]
        scales = [float(fit[0][0]) for fit in fits]
        worst = max(float(np.max(np.abs(np.polyval(fit[0], path_ab[:, k]) - vertices[:, k])))
                    for k, fit in enumerate(fits))
        if worst < 1e-3 and scales[0] > 0 > scales[1]:
            matches.append(vertices)
    assert matches
    texts = {(e.text or "").strip() for e in ET.parse(svg).getroot().iter(f"{SVG}text")}
    assert {"a", "b", "loss"} <= texts  # the axes and the colour bar
    assert len(list(ET.parse(svg).getroot().iter(f"{SVG}image"))) >= 2  # map and colour bar


def test_slice_writes_an_mp4_and_json_stays_one_object(qapp: object, tmp_path: Path) -> None:
    from tests.io.test_animation import _read_mp4

    path = tmp_path / "a.mp4"
    code, out, err = app(*SLICE, "--steps", "12", "--every", "5", "--size", "200x150",
                         "--animation", str(path), "--json")
    assert code == 0, err
    assert json.loads(out)["steps"] == 12
    frames, meta = _read_mp4(path)
    assert frames.shape == (frame_count(12, 5), 150, 200, 3)
    assert meta["fps"] == 20


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(["--fps", "--every", "--size"]),
       st.one_of(_HOSTILE_NUMBERS, st.sampled_from(["0x0", "63x600", "3841x2160", "800",
                                                    "99999999x99999999"])))
def test_hostile_frame_options_are_refused_as_run_refuses_them(
        tmp_path_factory: pytest.TempPathFactory, flag: str, value: str) -> None:
    folder = tmp_path_factory.mktemp("out")
    ran = app(*RUN, "--animation", str(folder / "a.gif"), f"{flag}={value}")
    sliced = app(*SLICE, "--steps", "5", "--animation", str(folder / "a.gif"), f"{flag}={value}")
    if ran[0] == 0:  # a fine value after all: both drew
        assert sliced[0] == 0, sliced
        return
    assert sliced == ran  # the same options, the same checks, the same words
    assert_usage_error(*sliced)
    assert flag in sliced[2]
    assert list(folder.iterdir()) == []


def test_refused_paths_exit_2_before_any_training(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    _no_training(monkeypatch)
    for path, why in refused_paths(tmp_path).items():
        code, out, err = app(*SLICE, "--animation", path)
        assert_usage_error(code, out, err)
        assert why in err
    for name in ("map.png", "map", "missing/map.svg"):
        code, out, err = app(*SLICE, "--svg", str(tmp_path / name))
        assert_usage_error(code, out, err)
    monkeypatch.setenv("IMAGEIO_FFMPEG_EXE", str(tmp_path / "no-ffmpeg"))
    code, out, err = app(*SLICE, "--animation", str(tmp_path / "a.mp4"))
    assert_usage_error(code, out, err)
    assert "ffmpeg is missing" in err
    code, out, err = app(*SLICE, "--steps", "100000", "--size", "3840x2160",
                         "--animation", str(tmp_path / "b.gif"))
    assert_usage_error(code, out, err)
    assert "steps per frame" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder.gif"]


@pytest.mark.parametrize("option", [["--fps", "10"], ["--every", "3"], ["--size", "320x240"]])
def test_frame_options_without_an_animation_are_refused(monkeypatch: pytest.MonkeyPatch,
                                                        option: list[str]) -> None:
    _no_training(monkeypatch)
    code, out, err = app(*SLICE, *option)
    assert_usage_error(code, out, err)
    assert option[0] in err and "--animation" in err
