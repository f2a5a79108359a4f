"""A small PNG encoder (zlib and struct only), so headless commands can write images without Qt."""

from __future__ import annotations

import os
import struct
import zlib

import numpy as np
from numpy.typing import NDArray

from explorer.io.atomic import atomic_text_writer

SIGNATURE = b"\x89PNG\r\n\x1a\n"
_COLOUR_TYPES = {3: 2, 4: 6}  # channels -> PNG colour type (truecolour, truecolour with alpha)


def encode_png(pixels: NDArray[np.uint8]) -> bytes:
    """PNG bytes of an (height, width, 3) RGB or (height, width, 4) RGBA uint8 array."""
    image = np.asarray(pixels)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] not in _COLOUR_TYPES:
        raise ValueError("expected a (height, width, 3 or 4) uint8 array")
    height, width, channels = image.shape
    if height == 0 or width == 0:
        raise ValueError("a PNG image needs at least one pixel")
    header = struct.pack(">IIBBBBB", width, height, 8, _COLOUR_TYPES[channels], 0, 0, 0)
    # Each scanline starts with its filter type; 0 (none) keeps the encoder trivial, and zlib
    # still compresses a basin map's large flat areas well.
    rows = np.zeros((height, 1 + width * channels), dtype=np.uint8)
    rows[:, 1:] = image.reshape(height, width * channels)
    data = zlib.compress(rows.tobytes(), 6)
    return SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", data) + _chunk(b"IEND", b"")


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def write_png(path: str | os.PathLike[str], pixels: NDArray[np.uint8]) -> None:
    """Write the image atomically: path is replaced whole, or left untouched (ExportError)."""
    data = encode_png(pixels)
    with atomic_text_writer(path) as stream:
        # The atomic writer hands out a text stream over the temporary file; PNG bytes go to
        # its binary buffer underneath (nothing is pending in the text layer).
        stream.flush()
        stream.buffer.write(data)
