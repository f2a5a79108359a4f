"""`python main.py presets`: every preset's name, label, domain and formula (issue 14, item 8)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from explorer.core.presets import default_preset, get_preset, presets
from tests.cli.helpers import app, assert_usage_error

ROOT = Path(__file__).resolve().parents[2]


def test_table_has_one_row_per_preset_in_menu_order() -> None:
    code, out, err = app("presets")
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].split() == ["name", "label", "domain", "formula"]
    rows = lines[1 : 1 + len(presets())]
    for row, preset in zip(rows, presets(), strict=True):
        assert row.startswith(preset.name + " ") and preset.label in row
        assert row.endswith(preset.formula)
        assert get_preset(row.split()[0]) is preset  # the first word is what --preset takes
    assert lines[-1].endswith(default_preset().name)


def test_json_lists_every_preset() -> None:
    code, out, err = app("presets", "--json")
    assert code == 0 and err == ""
    data = json.loads(out)
    assert [entry["name"] for entry in data] == [p.name for p in presets()]
    for entry, preset in zip(data, presets(), strict=True):
        assert entry["label"] == preset.label and entry["formula"] == preset.formula
        assert tuple(entry["domain"]) == preset.domain
        assert [(m["x"], m["y"], m["f"]) for m in entry["minima"]] == [
            (m.x, m.y, m.f) for m in preset.minima
        ]


@pytest.mark.parametrize("argv", [["presets", "--bogus"], ["presets", "bowl"]])
def test_bad_arguments_are_usage_errors(argv: list[str]) -> None:
    assert_usage_error(*app(*argv))


def test_main_py_accepts_presets() -> None:
    result = subprocess.run(
        [sys.executable, "main.py", "presets", "--json"],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert {entry["name"] for entry in json.loads(result.stdout)} == {p.name for p in presets()}
