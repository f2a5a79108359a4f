"""Animations: which steps become frames, and a GIF or MP4 writer fed one frame at a time."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
from numpy.typing import NDArray

from explorer.io.atomic import ExportError, atomic_binary_writer, target_folder
from explorer.io.gif_stream import GifStream

__all__ = [
    "DEFAULT_FPS",
    "FORMATS",
    "AnimationSettings",
    "AnimationWriter",
    "animation_format",
    "check_animation_path",
    "ffmpeg_exe",
    "frame_count",
    "frame_steps",
]

FORMATS = (".gif", ".mp4")
# 20 frames a second: a 100-step run with every step a frame lasts 5 s. GIF delays are whole
# hundredths of a second, so 20 fps (5 cs) is exact; 10, 25 and 50 are too.
DEFAULT_FPS = 20
# Browsers show GIF delays under 2 cs as 10 cs: above 50 fps a GIF would play slower, not faster.
MAX_FPS = 50
MIN_SIZE = (64, 48)
MAX_SIZE = (3840, 2160)
DEFAULT_SIZE = (800, 600)
# Frames x pixels an animation may have: a GIF keeps every frame (one byte a pixel) until it is
# written, and each costs a render. 625 frames at 800x600.
MAX_FRAME_PIXELS = 300_000_000
# Above this a step count is not a number of steps anyone animates (and frame_count's arithmetic
# stays in int64 range for numpy).
MAX_EVERY = 10**12


@dataclass(frozen=True)
class AnimationSettings:
    """How an animation is made: frames per second, steps per frame, and the frame size."""

    fps: int = DEFAULT_FPS
    every: int = 1
    width: int = DEFAULT_SIZE[0]
    height: int = DEFAULT_SIZE[1]

    def __post_init__(self) -> None:
        for name, low, high in (("fps", 1, MAX_FPS), ("every", 1, MAX_EVERY),
                                ("width", MIN_SIZE[0], MAX_SIZE[0]),
                                ("height", MIN_SIZE[1], MAX_SIZE[1])):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise ValueError(f"{name} must be a whole number from {low} to {high}, "
                                 f"got {value!r}")

    def check_budget(self, steps: int) -> None:
        """Refuse (ExportError) an animation of steps steps with too many frames for its size."""
        frames = frame_count(steps, self.every)
        if frames * self.width * self.height > MAX_FRAME_PIXELS:
            most = MAX_FRAME_PIXELS // (self.width * self.height)
            raise ExportError(
                f"{frames} frames of {self.width}x{self.height} is too many (at most {most} at "
                f"that size): show more steps per frame or make the frames smaller")


def frame_count(steps: int, every: int) -> int:
    """How many frames a path of steps steps makes, one every `every` steps (frame_steps)."""
    if steps < 0 or every < 1:
        raise ValueError(f"expected steps >= 0 and every >= 1, got {steps} and {every}")
    return steps // every + 1 + (1 if steps % every else 0)


def frame_steps(steps: int, every: int) -> NDArray[np.int64]:
    """The step each frame shows: the start (0), every `every`-th step after it, and the last
    step (steps) when it falls between. 100 steps, every 10: 0, 10, ..., 100 (11 frames)."""
    count = frame_count(steps, every)
    shown = np.arange(count, dtype=np.int64) * every
    shown[-1] = steps  # the last step, whether or not every divides steps
    return shown


def animation_format(path: str | os.PathLike[str]) -> str:
    """'.gif' or '.mp4' from the file name; ExportError for any other extension."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise ExportError(f"cannot write {Path(path)}: an animation is a .gif or an .mp4 file, "
                          f"not {suffix or 'a file without an extension'}")
    return suffix


def ffmpeg_exe() -> str:
    """The ffmpeg that imageio-ffmpeg finds (its own binary, or IMAGEIO_FFMPEG_EXE); ExportError
    when there is none that can run."""
    try:
        import imageio_ffmpeg

        exe = str(imageio_ffmpeg.get_ffmpeg_exe())
    except (ImportError, RuntimeError) as error:
        raise ExportError(f"cannot write MP4: ffmpeg is missing ({error}); "
                          "pip install imageio-ffmpeg, or write a .gif") from None
    # IMAGEIO_FFMPEG_EXE is taken as given by imageio-ffmpeg: check it can run before the work.
    if not (os.path.isfile(exe) and os.access(exe, os.X_OK)):
        raise ExportError(f"cannot write MP4: ffmpeg is missing ({exe} is not a program); "
                          "pip install imageio-ffmpeg, or write a .gif")
    return exe


def check_animation_path(path: str | os.PathLike[str]) -> str:
    """Refuse an animation path before the work (ExportError): an unknown extension, a missing
    or read-only folder, a folder or device in its place, no ffmpeg for MP4. Its format."""
    target = Path(path)
    suffix = animation_format(target)
    folder = target_folder(target)
    if target.exists() and not target.is_file():
        raise ExportError(f"cannot write {target}: it is not a regular file")
    try:
        # Make (and drop) a file where the animation will go: permissions, a read-only disk or
        # a special folder (/proc) all answer here, before any frame is drawn.
        with tempfile.TemporaryFile(dir=folder, prefix=f".{target.name}."):
            pass
    except OSError as error:
        raise ExportError(f"cannot write {target}: the folder {folder} is not writable "
                          f"({error.strerror or error})") from None
    if suffix == ".mp4":
        ffmpeg_exe()
    return suffix


class AnimationWriter:
    """Writes frames ((height, width, 3) uint8 RGB, all one size) as a GIF or an MP4.

    Use it as a context manager: the file appears whole when the block ends without an
    exception and is untouched otherwise (a cancelled export leaves nothing behind).
    """

    def __init__(self, path: str | os.PathLike[str], fps: int, *,
                 palette_frame: NDArray[np.uint8] | None = None) -> None:
        self.path = Path(path)
        self.format = check_animation_path(self.path)
        if isinstance(fps, bool) or not isinstance(fps, int) or not 1 <= fps <= MAX_FPS:
            raise ValueError(f"fps must be a whole number from 1 to {MAX_FPS}, got {fps!r}")
        self.fps = fps
        self.frames = 0
        self._size: tuple[int, int] | None = None  # (height, width)
        self._palette_frame = palette_frame
        self._gif: GifStream | None = None
        self._target = contextlib.ExitStack()  # the GIF's atomic writer, while it is open
        self._stack = contextlib.ExitStack()  # ffmpeg's private folder
        self._video: Generator[None, Any, None] | None = None
        self._video_path: Path | None = None

    def __enter__(self) -> AnimationWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if kind is None:
            self._finish()
        else:
            self._abort()

    def add(self, frame: NDArray[np.uint8]) -> None:
        """Append one frame."""
        image = np.ascontiguousarray(frame)
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            raise ValueError("a frame is a (height, width, 3) uint8 array")
        size = (int(image.shape[0]), int(image.shape[1]))
        if self._size is None:
            self._size = size
        elif size != self._size:
            raise ValueError(f"frames differ in size: {size} after {self._size}")
        if self.format == ".gif":
            self._add_gif(image)
        else:
            self._add_mp4(image)
        self.frames += 1

    # -- GIF ---------------------------------------------------------------------------------

    def _add_gif(self, image: NDArray[np.uint8]) -> None:
        if self._gif is None:
            # Straight into the target's temporary file, a frame at a time. One palette for
            # every frame, from the frame that shows the most (the caller's last frame: the map
            # and every path); each frame stores only the rectangle that changed.
            stream = self._target.enter_context(atomic_binary_writer(self.path))
            source = self._palette_frame if self._palette_frame is not None else image
            # GIF delays are whole hundredths of a second.
            self._gif = GifStream(stream, source, 10 * round(100 / self.fps))
        self._gif.add(image)

    # -- MP4 ---------------------------------------------------------------------------------

    def _add_mp4(self, image: NDArray[np.uint8]) -> None:
        # x264's 4:2:0 video needs an even width and height: repeat the last row or column.
        pad_rows, pad_cols = image.shape[0] % 2, image.shape[1] % 2
        if pad_rows or pad_cols:
            image = np.ascontiguousarray(
                np.pad(image, ((0, pad_rows), (0, pad_cols), (0, 0)), mode="edge"))
        try:
            if self._video is None:
                self._video = self._start_ffmpeg(image.shape[1], image.shape[0])
            self._video.send(image)
        except (OSError, RuntimeError) as error:
            raise ExportError(f"cannot write {self.path}: ffmpeg failed ({error})") from None

    def _start_ffmpeg(self, width: int, height: int) -> Generator[None, Any, None]:
        """ffmpeg, started, writing an MP4 of width x height frames to a private folder."""
        import imageio_ffmpeg

        # ffmpeg seeks back in an MP4 it writes: it writes a real file (in a private folder),
        # which is copied into the target atomically at the end.
        folder = Path(self._stack.enter_context(tempfile.TemporaryDirectory()))
        self._video_path = folder / "animation.mp4"
        video: Generator[None, Any, None] = imageio_ffmpeg.write_frames(
            str(self._video_path), (width, height), fps=self.fps, codec="libx264",
            pix_fmt_out="yuv420p", macro_block_size=1, quality=7, ffmpeg_log_level="error")
        video.send(None)  # the first send starts ffmpeg
        return video

    def _write_mp4(self) -> None:
        assert self._video is not None and self._video_path is not None
        try:
            self._video.close()  # ffmpeg finishes the file
        except (OSError, RuntimeError) as error:
            raise ExportError(f"cannot write {self.path}: ffmpeg failed ({error})") from None
        with atomic_binary_writer(self.path) as stream, self._video_path.open("rb") as video:
            shutil.copyfileobj(video, stream)

    # -- the end -----------------------------------------------------------------------------

    def _finish(self) -> None:
        try:
            if not self.frames:
                raise ExportError(f"cannot write {self.path}: an animation needs a frame")
            if self._gif is not None:
                self._gif.close()
                self._target.close()  # the temporary file becomes the target
            else:
                self._write_mp4()
        except BaseException:
            self._abort()
            raise
        self._close()

    def _abort(self) -> None:
        """Stop ffmpeg and drop everything written so far; the target stays as it was."""
        if self._video is not None:
            with contextlib.suppress(Exception):
                self._video.close()
        # The atomic writer sees an exception: it removes its temporary file.
        self._target.__exit__(_Aborted, _Aborted(), None)
        self._close()

    def _close(self) -> None:
        self._video = None
        self._gif = None
        self._target.close()
        self._stack.close()


class _Aborted(Exception):
    """What the atomic writer is told when an animation is dropped."""

