"""SVG figures without Qt, for headless commands: an image on data axes, with ticks, axis labels,
a title and a legend (basin --svg). The image is embedded as PNG, pixel for pixel, so the SVG
shows exactly the map that --png writes, and the text stays text (selectable, scalable)."""

from __future__ import annotations

import base64
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

import numpy as np
from numpy.typing import NDArray

from explorer.io.atomic import atomic_text_writer
from explorer.io.png import encode_png

RGB = tuple[int, int, int]
# Layout, in SVG user units (pixels).
_LEFT, _TOP, _GAP, _LEGEND_ROW, _FONT = 64, 40, 48, 20, 13


@dataclass(frozen=True)
class LegendEntry:
    """One line of the legend: a colour swatch and its text."""

    rgb: RGB
    text: str


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values (1, 2 or 5 times a power of ten apart) covering [low, high]."""
    if not (math.isfinite(low) and math.isfinite(high)) or high <= low:
        return [low] if math.isfinite(low) else []
    raw = (high - low) / max(1, count)
    if not math.isfinite(raw) or raw < 1e-300:  # a range of denormals or past float's reach
        return [low, high]
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.ceil(low / step - 1e-9)
    last = math.floor(high / step + 1e-9)
    if not 0 <= last - first <= 4 * max(1, count):  # float rounding at extreme magnitudes
        return [low, high]
    # k * step rounded to the step's own decimals: 0.30000000000000004 is shown as 0.3, and
    # -0.0 as 0.
    decimals = 1 - math.floor(math.log10(step))
    return [round(k * step, decimals) + 0.0 for k in range(first, last + 1)]


def _rgb(colour: RGB) -> str:
    return f"rgb({colour[0]},{colour[1]},{colour[2]})"


def image_figure_svg(pixels: NDArray[np.uint8], domain: Sequence[float], *, title: str,
                     x_label: str = "x", y_label: str = "y",
                     legend: Sequence[LegendEntry] = ()) -> str:
    """An SVG document: the (rows top = y high) RGB image over domain, axes, title, legend."""
    image = np.asarray(pixels)
    height, width = int(image.shape[0]), int(image.shape[1])
    xmin, xmax, ymin, ymax = (float(v) for v in domain)
    legend_left = _LEFT + width + _GAP
    legend_width = max((len(entry.text) for entry in legend), default=0) * 7 + 40
    total_width = legend_left + legend_width
    total_height = max(_TOP + height + 56, _TOP + len(legend) * _LEGEND_ROW + 20)

    def x_at(x: float) -> float:
        return _LEFT + (x - xmin) / (xmax - xmin) * width

    def y_at(y: float) -> float:
        return _TOP + (ymax - y) / (ymax - ymin) * height

    png = base64.b64encode(encode_png(np.ascontiguousarray(image))).decode("ascii")
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{total_width}" '
        f'height="{total_height}" viewBox="0 0 {total_width} {total_height}" '
        f'font-family="sans-serif" font-size="{_FONT}">',
        f"<title>{escape(title)}</title>",
        f'<rect width="{total_width}" height="{total_height}" fill="white"/>',
        f'<text x="{_LEFT}" y="{_TOP - 14}" font-weight="bold">{escape(title)}</text>',
        # pixelated: a 64 x 64 map stays cells, not a blur, however far it is zoomed.
        f'<image x="{_LEFT}" y="{_TOP}" width="{width}" height="{height}" '
        f'style="image-rendering:pixelated" preserveAspectRatio="none" '
        f'href="data:image/png;base64,{png}"/>',
        f'<rect x="{_LEFT}" y="{_TOP}" width="{width}" height="{height}" fill="none" '
        'stroke="black"/>',
    ]
    for tick in nice_ticks(xmin, xmax):
        px = x_at(tick)
        parts.append(f'<line x1="{px:.2f}" y1="{_TOP + height}" x2="{px:.2f}" '
                     f'y2="{_TOP + height + 5}" stroke="black"/>')
        parts.append(f'<text x="{px:.2f}" y="{_TOP + height + 19}" text-anchor="middle">'
                     f"{tick:g}</text>")
    for tick in nice_ticks(ymin, ymax):
        py = y_at(tick)
        parts.append(f'<line x1="{_LEFT - 5}" y1="{py:.2f}" x2="{_LEFT}" y2="{py:.2f}" '
                     'stroke="black"/>')
        parts.append(f'<text x="{_LEFT - 8}" y="{py + 4:.2f}" text-anchor="end">{tick:g}</text>')
    parts.append(f'<text x="{_LEFT + width / 2:.1f}" y="{_TOP + height + 40}" '
                 f'text-anchor="middle">{escape(x_label)}</text>')
    parts.append(f'<text x="16" y="{_TOP + height / 2:.1f}" text-anchor="middle" '
                 f'transform="rotate(-90 16 {_TOP + height / 2:.1f})">{escape(y_label)}</text>')
    for i, entry in enumerate(legend):
        y = _TOP + i * _LEGEND_ROW
        parts.append(f'<rect x="{legend_left}" y="{y}" width="14" height="14" '
                     f'fill="{_rgb(entry.rgb)}" stroke="black"/>')
        parts.append(f"<text x={quoteattr(str(legend_left + 22))} y={quoteattr(str(y + 12))}>"
                     f"{escape(entry.text)}</text>")
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def write_svg(path: str | os.PathLike[str], document: str) -> None:
    """Write the document atomically: path is replaced whole, or left untouched (ExportError)."""
    with atomic_text_writer(path) as stream:
        stream.write(document)
