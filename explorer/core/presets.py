"""The preset functions, read from resources/presets.json."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

PRESETS_PATH = Path(__file__).resolve().parents[2] / "resources" / "presets.json"


@dataclass(frozen=True)
class Minimum:
    """A known global minimum."""

    x: float
    y: float
    f: float


@dataclass(frozen=True)
class Preset:
    """A named function with its plot domain and known global minima."""

    name: str
    label: str
    formula: str
    domain: tuple[float, float, float, float]
    minima: tuple[Minimum, ...]
    description: str = ""
    nonsmooth_minima: bool = False


class PresetError(KeyError):
    """An unknown preset name."""

    def __str__(self) -> str:
        return str(self.args[0])


@cache
def _load(path: Path = PRESETS_PATH) -> tuple[str, tuple[Preset, ...]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    presets = tuple(
        Preset(
            name=item["name"],
            label=item["label"],
            formula=item["formula"],
            domain=(
                float(item["domain"][0]),
                float(item["domain"][1]),
                float(item["domain"][2]),
                float(item["domain"][3]),
            ),
            minima=tuple(
                Minimum(float(m["x"]), float(m["y"]), float(m["f"])) for m in item["minima"]
            ),
            description=item.get("description", ""),
            nonsmooth_minima=bool(item.get("nonsmooth_minima", False)),
        )
        for item in data["presets"]
    )
    return str(data["default"]), presets


def presets() -> tuple[Preset, ...]:
    """All presets, in menu order."""
    return _load()[1]


def default_preset() -> Preset:
    """The preset the window opens on (Himmelblau)."""
    return get_preset(_load()[0])


def get_preset(name: str) -> Preset:
    """A preset by name (case and spaces ignored), or PresetError listing the names."""
    key = name.strip().lower().replace(" ", "_").replace("-", "_")
    for preset in presets():
        if preset.name == key:
            return preset
    names = ", ".join(p.name for p in presets())
    raise PresetError(f"unknown preset '{name}': choose one of {names}")
