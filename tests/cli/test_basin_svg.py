"""basin --svg: the map as an SVG figure (valid XML; the --png pixels embedded; axes, title,
legend with every minimum's share); bad paths refused before any work."""

from __future__ import annotations

import base64
import json
import math
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer.io.svg_figure import LegendEntry, image_figure_svg, nice_ticks
from tests.cli.test_cli import cli

SVG = "{http://www.w3.org/2000/svg}"
BASIN = ("basin", "--preset", "himmelblau", "--grid", "16", "--steps", "200", "--lr", "0.01")


def test_basin_svg_embeds_the_png_and_names_every_minimum(tmp_path: Path) -> None:
    svg, png = tmp_path / "map.svg", tmp_path / "map.png"
    code, out, _ = cli(*BASIN, "--svg", str(svg), "--png", str(png))
    assert code == 0 and f"wrote {svg}" in out
    root = ET.parse(svg).getroot()
    images = list(root.iter(f"{SVG}image"))
    assert len(images) == 1
    href = images[0].get("href", "")
    assert href.startswith("data:image/png;base64,")
    assert base64.b64decode(href.split(",", 1)[1]) == png.read_bytes()  # the same pixels
    texts = [(e.text or "") for e in root.iter(f"{SVG}text")]
    assert "x" in texts and "y" in texts and any("Basins of f(x, y)" in t for t in texts)
    code, out, _ = cli(*BASIN, "--json")
    minima = json.loads(out)["minima"]
    assert len(minima) == 4
    for m in minima:  # each minimum's share, as --json gives it, is in the legend
        assert any(f"{m['share']:.1%}" in t and f"{m['x']:.4g}" in t for t in texts)


@pytest.mark.parametrize("where", ["missing/map.svg", "", "/dev/full", "."])
def test_an_unwritable_svg_path_is_refused_before_the_map_is_computed(
    tmp_path: Path, where: str
) -> None:
    target = where if where.startswith("/") or where in ("", ".") else str(tmp_path / where)
    code, out, err = cli(*BASIN, "--svg", target)
    assert code == 2 and err.startswith("error:") and err.count("\n") == 1
    assert out == ""


@settings(max_examples=60, deadline=None)
@given(low=st.floats(-1e6, 1e6), span=st.floats(1e-6, 1e9))
def test_ticks_are_round_evenly_spaced_and_inside_the_range(low: float, span: float) -> None:
    high = low + span
    ticks = nice_ticks(low, high)
    assert 1 <= len(ticks) <= 20
    tolerance = span * 1e-6
    assert all(low - tolerance <= t <= high + tolerance for t in ticks)
    gaps = np.diff(ticks)
    if len(gaps):
        # Evenly spaced by a round step (1, 2 or 5 times a power of ten), up to the rounding of
        # numbers of this size.
        slack = 8 * float(np.spacing(max(abs(low), abs(high))))
        power = 10.0 ** math.floor(math.log10(float(np.median(gaps)) * (1 + 1e-6)))
        step = min((m * power for m in (1, 2, 5, 10)), key=lambda c: abs(c - np.median(gaps)))
        assert np.all(np.abs(gaps - step) <= slack + step * 1e-9), (gaps, step)


@pytest.mark.parametrize("low,high", [(0, 0), (1, -1), (math.nan, 1), (0, math.inf),
                                      (1e300, 1.0000001e300), (-5e-324, 5e-324)])
def test_ticks_of_degenerate_ranges_do_not_hang(low: float, high: float) -> None:
    assert len(nice_ticks(low, high)) <= 20


def test_text_in_titles_and_legends_is_escaped() -> None:
    image = np.zeros((4, 4, 3), dtype=np.uint8)
    document = image_figure_svg(image, (0, 1, 0, 1), title="f = x < y & \"z\"",
                                legend=[LegendEntry((1, 2, 3), "<script>alert(1)</script>")])
    root = ET.fromstring(document.encode())  # still XML
    texts = [(e.text or "") for e in root.iter(f"{SVG}text")]
    assert "<script>alert(1)</script>" in texts and "f = x < y & \"z\"" in texts
    assert not list(root.iter(f"{SVG}script"))
