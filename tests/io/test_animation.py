"""io.animation: the frame rule, the GIF and MP4 writer, and the paths it refuses."""

from __future__ import annotations

import math
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import imageio.v3 as iio
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from explorer.io.animation import (
    MAX_FPS,
    MAX_FRAME_PIXELS,
    AnimationSettings,
    AnimationWriter,
    check_animation_path,
    frame_count,
    frame_steps,
)
from explorer.io.atomic import ExportError


def _counted(steps: int, every: int) -> int:
    """The frame rule counted by hand: the steps 0, every, 2*every, ... up to steps, and steps."""
    shown = set()
    step = 0
    while step <= steps:
        shown.add(step)
        step += every
    shown.add(steps)
    return len(shown)


@given(st.integers(0, 3000), st.integers(1, 400))
def test_frame_count_is_the_start_every_kth_step_and_the_last(steps: int, every: int) -> None:
    shown = frame_steps(steps, every)
    assert frame_count(steps, every) == len(shown) == _counted(steps, every)
    assert shown[0] == 0 and shown[-1] == steps
    gaps = np.diff(shown)
    assert (gaps[:-1] == every).all() and (0 < gaps[-1:]).all() and (gaps[-1:] <= every).all()


@given(st.integers(0, 10**15), st.integers(1, 10**12))
def test_frame_count_of_huge_runs_is_exact(steps: int, every: int) -> None:
    assert frame_count(steps, every) == math.ceil(steps / every) + 1


def test_the_issues_example() -> None:
    assert frame_count(100, 10) == len(range(0, 101, 10))
    assert frame_steps(7, 3).tolist() == [0, 3, 6, 7]


@pytest.mark.parametrize(("steps", "every"), [(-1, 1), (5, 0), (5, -2)])
def test_frame_rule_refuses_negative_steps_and_no_stride(steps: int, every: int) -> None:
    with pytest.raises(ValueError):
        frame_count(steps, every)


# -- settings ----------------------------------------------------------------------------------

_BAD = st.one_of(
    st.floats(allow_nan=True), st.text(max_size=5), st.booleans(), st.none(),
    st.integers(max_value=0), st.integers(min_value=10**13),
)


@given(st.sampled_from(["fps", "every", "width", "height"]), _BAD)
def test_settings_refuse_hostile_values(name: str, value: object) -> None:
    with pytest.raises(ValueError):
        AnimationSettings(**{name: value})  # type: ignore[arg-type]


@given(st.integers(MAX_FPS + 1, 10**6))
def test_settings_refuse_frame_rates_gifs_cannot_play(fps: int) -> None:
    with pytest.raises(ValueError):
        AnimationSettings(fps=fps)


def test_the_frame_budget_names_what_to_change() -> None:
    small = AnimationSettings(width=100, height=100)
    most = MAX_FRAME_PIXELS // (100 * 100)
    small.check_budget(most - 1)  # most frames: the start and most - 1 steps
    with pytest.raises(ExportError, match="steps per frame"):
        small.check_budget(most)
    AnimationSettings(width=100, height=100, every=2).check_budget(most)


# -- writing -----------------------------------------------------------------------------------


def _frames(count: int, height: int = 48, width: int = 64) -> list[NDArray[np.uint8]]:
    """Frames with a white square that moves one column a frame over a fixed gradient."""
    base = np.zeros((height, width, 3), dtype=np.uint8)
    base[..., 0] = np.linspace(0, 200, width, dtype=np.uint8)[None, :]
    base[..., 2] = 80
    frames = []
    for k in range(count):
        frame = base.copy()
        frame[10:20, k % (width - 8): k % (width - 8) + 8] = 255
        frames.append(frame)
    return frames


@pytest.mark.parametrize("count", [1, 2, 7, 31])
def test_a_gif_has_every_frame_exactly_and_plays_at_the_frame_rate(tmp_path: Path,
                                                                   count: int) -> None:
    frames = _frames(count)
    path = tmp_path / "out.gif"
    with AnimationWriter(path, 25, palette_frame=frames[-1]) as writer:
        for frame in frames:
            writer.add(frame)
    back = iio.imread(path, index=None)
    assert back.shape == (count, *frames[0].shape)
    sent = np.stack(frames)
    # Pillow maps colours to the palette through a coarse cache: near, not always exact...
    assert np.abs(back.astype(int) - sent).max() <= 8
    # ...and the white square is exactly where it was in every frame.
    assert ((back == 255).all(axis=-1) == (sent == 255).all(axis=-1)).all()
    durations = [iio.immeta(path, index=i)["duration"] for i in range(count)]
    assert durations == [1000 / 25] * count


def test_an_mp4_is_readable_with_its_frame_count_and_rate(tmp_path: Path) -> None:
    frames = _frames(12, height=47, width=63)  # odd sizes: padded to even for x264
    path = tmp_path / "out.mp4"
    with AnimationWriter(path, 10) as writer:
        for frame in frames:
            writer.add(frame)
    back, meta = _read_mp4(path)
    assert back.shape[0] == len(frames) and back.shape[1:3] == (48, 64)
    assert meta["fps"] == 10 and meta["codec"].startswith("h264")
    # Lossy, but the white square is where it was in the first and the last frame.
    for index in (0, -1):
        assert np.abs(back[index, :47, :63].astype(int) - frames[index]).mean() < 12


def _read_mp4(path: Path) -> tuple[NDArray[np.uint8], dict[str, Any]]:
    """An MP4's frames, codec, size and frame rate, as imageio-ffmpeg's own ffmpeg decodes it
    (its read_frames leaves pipes open, which warnings-as-errors turns into failures)."""
    import imageio_ffmpeg

    result = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(path),
         "-f", "rawvideo", "-pix_fmt", "rgb24", "-"], capture_output=True, check=True)
    found = re.search(r"Video: (\w+).*?, (\d+)x(\d+)[ ,].*?([\d.]+) fps",
                      result.stderr.decode())
    assert found is not None, result.stderr.decode()
    codec, width, height, fps = found.groups()
    frames = np.frombuffer(result.stdout, dtype=np.uint8).reshape(-1, int(height), int(width), 3)
    return frames, {"codec": codec, "fps": float(fps)}


@pytest.mark.parametrize("name", ["out.gif", "out.mp4"])
def test_an_aborted_export_leaves_nothing_and_keeps_the_old_file(tmp_path: Path,
                                                                 name: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"old")
    with pytest.raises(KeyboardInterrupt), AnimationWriter(path, 10) as writer:
        for frame in _frames(5):
            writer.add(frame)
        raise KeyboardInterrupt  # a cancel: the caller stops between frames
    assert path.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


def test_no_frames_is_an_error_and_no_file(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="needs a frame"), AnimationWriter(tmp_path / "a.gif", 5):
        pass
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("bad", [
    np.zeros((4, 4), dtype=np.uint8),
    np.zeros((4, 4, 4), dtype=np.uint8),
    np.zeros((4, 4, 3), dtype=np.float64),
])
def test_frames_that_are_not_rgb_bytes_are_refused(tmp_path: Path, bad: NDArray[np.uint8]) -> None:
    with pytest.raises(ValueError), AnimationWriter(tmp_path / "a.gif", 5) as writer:
        writer.add(bad)
    assert list(tmp_path.iterdir()) == []


def test_frames_of_two_sizes_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="differ"), AnimationWriter(tmp_path / "a.gif", 5) as w:
        w.add(_frames(1)[0])
        w.add(_frames(1, height=40)[0])
    assert list(tmp_path.iterdir()) == []


# -- paths refused before the work -------------------------------------------------------------


@given(st.text(min_size=1, max_size=8).filter(lambda s: "/" not in s and "\0" not in s))
def test_unknown_extensions_are_refused(suffix: str) -> None:
    path = Path(f"/nonexistent-folder/animation.{suffix}")
    if path.suffix.lower() in (".gif", ".mp4"):
        return  # hypothesis found a real one: the folder error is another test's
    with pytest.raises(ExportError, match=r"\.gif or an \.mp4"):
        check_animation_path(path)


@pytest.mark.parametrize("name", ["a.GIF", "a.Mp4"])
def test_extensions_are_read_in_any_case(tmp_path: Path, name: str) -> None:
    assert check_animation_path(tmp_path / name) == Path(name).suffix.lower()


def test_paths_that_cannot_be_written_are_refused_and_left_alone(tmp_path: Path) -> None:
    (tmp_path / "folder.gif").mkdir()
    (tmp_path / "file").write_text("x")
    os.mkfifo(tmp_path / "pipe.gif")
    cases = {
        tmp_path / "folder.gif": "is a folder",
        tmp_path / "missing" / "a.gif": "does not exist",
        tmp_path / "file" / "a.gif": "does not exist",
        tmp_path / "pipe.gif": "not a regular file",
        tmp_path / "none": "without an extension",
    }
    for path, why in cases.items():
        with pytest.raises(ExportError, match=why):
            check_animation_path(path)
        with pytest.raises(ExportError, match=why):
            AnimationWriter(path, 10)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "folder.gif", "pipe.gif"]


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc")
def test_a_folder_no_file_can_be_made_in_is_refused() -> None:
    # Even root cannot make a file in /proc: os.access would say yes.
    with pytest.raises(ExportError, match="not writable"):
        check_animation_path("/proc/animation.gif")


def test_a_missing_ffmpeg_refuses_mp4_but_not_gif(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IMAGEIO_FFMPEG_EXE", str(tmp_path / "no-ffmpeg"))
    with pytest.raises(ExportError, match="ffmpeg is missing"):
        check_animation_path(tmp_path / "a.mp4")
    assert check_animation_path(tmp_path / "a.gif") == ".gif"
    assert list(tmp_path.iterdir()) == []


@settings(max_examples=20)
@given(st.integers(1, MAX_FPS))
def test_any_allowed_frame_rate_writes(fps: int) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "a.gif"
        with AnimationWriter(path, fps) as writer:
            for frame in _frames(2):
                writer.add(frame)
        assert iio.imread(path, index=None).shape[0] == 2


def test_a_gif_keeps_frames_that_did_not_change(tmp_path: Path) -> None:
    """A path that has ended draws the same picture again: each still counts as a frame."""
    moving = _frames(3)
    frames = [moving[0], moving[0], moving[1], moving[2], moving[2], moving[2]]
    path = tmp_path / "still.gif"
    with AnimationWriter(path, 10) as writer:
        for frame in frames:
            writer.add(frame)
    back = iio.imread(path, index=None)
    assert len(back) == len(frames)
    assert ((back == 255).all(axis=-1) == (np.stack(frames) == 255).all(axis=-1)).all()
    assert [iio.immeta(path, index=i)["duration"] for i in range(len(frames))] == [100] * 6
