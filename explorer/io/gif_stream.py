"""A GIF written frame by frame: one palette for all, each frame only the rectangle that changed.

Pillow's own multi-frame GIF writer keeps every frame until the end (a 500-frame 800x600
animation held about 1 GB); this one keeps only the previous frame. Pillow still does the
colour mapping and the LZW coding of each frame (GifImagePlugin.getdata).
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING, BinaryIO

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from PIL import Image

__all__ = ["GifStream"]

# The palette's colours: one index stays free to mark a pixel that did not change.
COLOURS = 255
TRANSPARENT = 255
_DISPOSAL_KEEP = 1  # a frame stays under the next one: unchanged pixels show through


class GifStream:
    """Writes a looping GIF89a to a binary stream: add(frame) for each frame, then close()."""

    def __init__(self, stream: BinaryIO, palette_source: NDArray[np.uint8],
                 delay_ms: int) -> None:
        self._stream = stream
        self._palette, self._count = _palette_of(np.ascontiguousarray(palette_source))
        self._delay_ms = delay_ms
        self._previous: NDArray[np.uint8] | None = None

    def add(self, image: NDArray[np.uint8]) -> None:
        """Append one (height, width, 3) uint8 RGB frame."""
        from PIL import Image

        frame = Image.fromarray(image, "RGB").quantize(palette=self._palette,
                                                        dither=Image.Dither.NONE)
        indices = np.asarray(frame, dtype=np.uint8).copy()
        # The palette's spare entries repeat colour 0 (see _palette_of): they are colour 0.
        indices[indices >= self._count] = 0
        if self._previous is None:
            self._write_header(indices.shape[1], indices.shape[0])
            self._write_frame(indices, (0, 0))
        else:
            changed = indices != self._previous
            if not changed.any():
                # Nothing moved: one transparent pixel keeps the frame (and its delay).
                self._write_frame(np.full((1, 1), TRANSPARENT, dtype=np.uint8), (0, 0))
            else:
                rows = np.flatnonzero(changed.any(axis=1))
                cols = np.flatnonzero(changed.any(axis=0))
                top, bottom, left, right = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
                patch = indices[top:bottom, left:right].copy()
                patch[~changed[top:bottom, left:right]] = TRANSPARENT
                self._write_frame(patch, (int(left), int(top)))
        self._previous = indices

    def close(self) -> None:
        """End the file (the trailer); the stream stays open."""
        self._stream.write(b";")

    def _write_header(self, width: int, height: int) -> None:
        colours = np.asarray(self._palette.getpalette() or [], dtype=np.uint8)[: 256 * 3]
        table = np.zeros(256 * 3, dtype=np.uint8)
        table[: len(colours)] = colours
        self._stream.write(
            b"GIF89a" + struct.pack("<HHBBB", width, height, 0xF7, 0, 0)  # 256-colour table
            + table.tobytes()
            # NETSCAPE2.0: loop for ever.
            + b"!\xff\x0bNETSCAPE2.0\x03\x01" + struct.pack("<H", 0) + b"\x00")

    def _write_frame(self, indices: NDArray[np.uint8], offset: tuple[int, int]) -> None:
        from PIL import GifImagePlugin, Image

        patch = Image.fromarray(np.ascontiguousarray(indices), "P")
        for chunk in GifImagePlugin.getdata(patch, offset, duration=self._delay_ms,
                                            transparency=TRANSPARENT,
                                            disposal=_DISPOSAL_KEEP):
            self._stream.write(chunk)


def _palette_of(image: NDArray[np.uint8]) -> tuple[Image.Image, int]:
    """A palette image for the frames and its number of real colours (at most COLOURS): the
    image's own colours when it has so few, else a median cut. Its spare entries up to 256
    repeat colour 0, so that no frame pixel maps to an undefined colour."""
    from PIL import Image

    colours = np.unique(image.reshape(-1, 3), axis=0)
    if len(colours) > COLOURS:
        cut = Image.fromarray(image, "RGB").quantize(colors=COLOURS,
                                                     method=Image.Quantize.MEDIANCUT)
        colours = np.asarray(cut.getpalette() or [0, 0, 0], dtype=np.uint8).reshape(-1, 3)
        colours = colours[:COLOURS]
    count = len(colours)
    table = np.repeat(colours[:1], 256, axis=0)
    table[:count] = colours
    palette = Image.new("P", (1, 1))
    palette.putpalette(table.astype(np.uint8).reshape(-1).tolist())
    return palette, count
