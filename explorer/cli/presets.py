"""`presets`: the preset functions: the name --preset takes, the window's label, domain, formula."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from explorer.cli import common
from explorer.core.presets import Preset, default_preset, presets

NAME = "presets"


def add_parser(sub: Any) -> None:
    """Register the `presets` subcommand."""
    parser = sub.add_parser(NAME, help="list the preset functions --preset takes")
    parser.add_argument("--json", action="store_true", help="print one JSON list only")


def command(args: argparse.Namespace, out: TextIO) -> int:
    """Print every preset as a table row (or a JSON entry), in the window's menu order."""
    items = presets()
    if args.json:
        common.write_json([_entry(p) for p in items], out)
        return 0
    rows = [("name", "label", "domain", "formula")]
    for p in items:
        xmin, xmax, ymin, ymax = p.domain
        rows.append(
            (
                p.name,
                p.label,
                f"x {xmin:g}..{xmax:g}, y {ymin:g}..{ymax:g}",
                p.formula,
            )
        )
    common.write_table(rows, out)
    out.write(f"\nthe window opens on {default_preset().name}\n")
    return 0


def _entry(preset: Preset) -> dict[str, object]:
    """One preset as JSON: its name, label, domain, formula, description and known minima."""
    return {
        "name": preset.name,
        "label": preset.label,
        "domain": list(preset.domain),
        "formula": preset.formula,
        "description": preset.description,
        "minima": [{"x": m.x, "y": m.y, "f": m.f} for m in preset.minima],
    }
