"""The PNG encoder, checked by a decoder written here (zlib, struct), and `basin --png`."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest

from explorer.io.atomic import ExportError
from explorer.io.png import encode_png, write_png

SIGNATURE = b"\x89PNG\r\n\x1a\n"


def decode(data: bytes) -> tuple[dict[str, int], np.ndarray]:
    """A minimal PNG reader for 8-bit RGB/RGBA images with filter type 0 (what the encoder uses)."""
    assert data[:8] == SIGNATURE
    pos, chunks = 8, []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(kind + body) & 0xFFFFFFFF, kind
        chunks.append((kind, body))
        pos += 12 + length
    assert pos == len(data)
    assert chunks[0][0] == b"IHDR" and chunks[-1] == (b"IEND", b"")
    width, height, depth, colour, compression, filtering, interlace = struct.unpack(
        ">IIBBBBB", chunks[0][1]
    )
    assert (depth, compression, filtering, interlace) == (8, 0, 0, 0)
    channels = {2: 3, 6: 4}[colour]
    raw = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    rows = np.frombuffer(raw, dtype=np.uint8).reshape(height, 1 + width * channels)
    assert (rows[:, 0] == 0).all()  # filter type none on every scanline
    header = {"width": width, "height": height, "colour": colour}
    return header, rows[:, 1:].reshape(height, width, channels)


@pytest.mark.parametrize("channels", [3, 4])
def test_round_trip(channels: int) -> None:
    rng = np.random.default_rng(1)
    pixels = rng.integers(0, 256, (7, 13, channels), dtype=np.uint8)
    header, decoded = decode(encode_png(pixels))
    assert header == {"width": 13, "height": 7, "colour": 2 if channels == 3 else 6}
    assert np.array_equal(decoded, pixels)


@pytest.mark.parametrize(
    "pixels",
    [np.zeros((2, 2, 3), dtype=np.float64), np.zeros((2, 2), dtype=np.uint8),
     np.zeros((0, 2, 3), dtype=np.uint8), np.zeros((2, 2, 2), dtype=np.uint8)],
)
def test_bad_arrays_are_refused(pixels: np.ndarray) -> None:
    with pytest.raises(ValueError):
        encode_png(pixels)


def test_write_is_atomic(tmp_path: Path) -> None:
    target = tmp_path / "map.png"
    pixels = np.full((3, 4, 3), 200, dtype=np.uint8)
    write_png(target, pixels)
    assert np.array_equal(decode(target.read_bytes())[1], pixels)
    with pytest.raises(ExportError):
        write_png(tmp_path / "missing" / "map.png", pixels)
    with pytest.raises(ValueError):
        write_png(target, pixels.astype(np.int16))  # type: ignore[arg-type]
    assert np.array_equal(decode(target.read_bytes())[1], pixels)  # the old file is intact
    assert sorted(p.name for p in tmp_path.iterdir()) == ["map.png"]  # no temporary left


def test_basin_png_colours_the_two_wells(tmp_path: Path) -> None:
    from explorer import cli
    from explorer.core.basin import label_colour, minimum_colour

    # By hand (see tests/core/test_basin.py): SGD lr 0.05 on (x^2 - 1)^2 + y^2 keeps the sign
    # of x, so over [-2, 2] x [-1, 1] the left half of the 8 x 8 grid reaches (-1, 0) and the
    # right half (1, 0); minima are listed by position when their f ties, so (-1, 0) is 0.
    target = tmp_path / "wells.png"
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(
        ["basin", "--function", "(x**2 - 1)**2 + y**2", "--domain", "-2,2,-1,1", "--grid", "8",
         "--lr", "0.05", "--steps", "200", "--png", str(target)],
        out,
        err,
    )
    assert code == 0, err.getvalue()
    assert f"wrote {target}" in out.getvalue()
    header, image = decode(target.read_bytes())
    assert header["width"] == header["height"] == 8 * 64  # 64 pixels per start
    left, right = minimum_colour(0), minimum_colour(1)
    assert left != right and label_colour(-1) not in (left, right)
    assert tuple(image[0, 0]) == left and tuple(image[-1, 0]) == left
    assert tuple(image[0, -1]) == right and tuple(image[-1, -1]) == right
    assert tuple(image[256, 255]) == left and tuple(image[256, 256]) == right
    # The minima are marked with white crosses at their positions: x = -1 is 1.75 grid
    # steps right of x = -2 (step 4/7), so the centre column is (1.75 + 0.5) * 64 = 144.
    assert tuple(image[256, 144]) == (255, 255, 255)
    assert tuple(image[256, 512 - 145]) == (255, 255, 255)


def test_basin_png_shows_diverged_and_unfinished(tmp_path: Path) -> None:
    from explorer import cli
    from explorer.core.basin import DIVERGED_RGB, UNFINISHED_RGB

    # SGD lr 0.1 on x^2 - y^2 (see tests/core/test_basin.py): the middle row y = 0 of a 5 x 5
    # grid stalls on the saddle (unfinished), every other start diverges.
    target = tmp_path / "saddle.png"
    code = cli.main(
        ["basin", "--function", "x**2 - y**2", "--domain", "-1,1,-1,1", "--grid", "5",
         "--lr", "0.1", "--steps", "200", "--png", str(target), "--json"],
        io.StringIO(),
        io.StringIO(),
    )
    assert code == 0
    header, image = decode(target.read_bytes())
    size = 5 * (512 // 5)
    assert header["width"] == header["height"] == size
    middle = size // 2
    assert tuple(image[middle, 0]) == UNFINISHED_RGB and tuple(image[middle, -1]) == UNFINISHED_RGB
    assert tuple(image[0, 0]) == DIVERGED_RGB and tuple(image[-1, middle]) == DIVERGED_RGB


def test_unwritable_png_leaves_the_old_file(tmp_path: Path) -> None:
    from explorer import cli

    folder = tmp_path / "a folder.png"
    folder.mkdir()
    err = io.StringIO()
    code = cli.main(["basin", "--preset", "bowl", "--grid", "4", "--png", str(folder)],
                    io.StringIO(), err)
    assert code == 2 and err.getvalue().startswith("error: cannot write")
    assert folder.is_dir()
