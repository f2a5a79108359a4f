"""Presets: every listed minimum is a stationary point with the listed value."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch

from explorer.core.expression import parse
from explorer.core.gradient import autograd_gradient
from explorer.core.presets import PresetError, default_preset, get_preset, presets

REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "reference" / "test_functions.json"
REQUIRED = {
    "tutorial", "himmelblau", "rosenbrock", "beale", "booth", "matyas", "three_hump_camel",
    "six_hump_camel", "rastrigin", "ackley", "bowl", "saddle",
}


def test_at_least_twelve_presets_with_the_required_ones() -> None:
    names = [p.name for p in presets()]
    assert len(names) >= 12 and len(set(names)) == len(names)
    assert REQUIRED <= set(names)
    assert default_preset().name == "himmelblau"
    assert len(default_preset().minima) == 4


@pytest.mark.parametrize("preset", presets(), ids=lambda p: p.name)
def test_formula_parses_and_domain_is_sane(preset: object) -> None:
    from explorer.core.presets import Preset

    assert isinstance(preset, Preset)
    parse(preset.formula)
    xmin, xmax, ymin, ymax = preset.domain
    assert xmin < xmax and ymin < ymax
    for m in preset.minima:
        assert xmin <= m.x <= xmax and ymin <= m.y <= ymax


@pytest.mark.parametrize(
    "preset", [p for p in presets() if p.minima], ids=lambda p: p.name
)
def test_listed_minima_are_stationary_with_the_listed_value(preset: object) -> None:
    from explorer.core.presets import Preset

    assert isinstance(preset, Preset)
    expression = parse(preset.formula)
    for m in preset.minima:
        f, gx, gy = autograd_gradient(expression, m.x, m.y)
        assert f == pytest.approx(m.f, abs=1e-12)
        if preset.nonsmooth_minima:
            # A cone tip (Ackley): no gradient there, so check it is the lowest point nearby
            # and that the slope all around points away from it.
            for angle in range(0, 360, 30):
                dx, dy = math.cos(math.radians(angle)), math.sin(math.radians(angle))
                _, gx, gy = autograd_gradient(expression, m.x + 1e-6 * dx, m.y + 1e-6 * dy)
                assert gx * dx + gy * dy > 0
        else:
            assert math.hypot(gx, gy) < 1e-9, (m, gx, gy)


def test_presets_agree_with_the_course_reference() -> None:
    if not REFERENCE.exists():
        pytest.fail(f"reference file missing: {REFERENCE}")
    reference = {f["formula"]: f for f in json.loads(REFERENCE.read_text())["functions"]}
    matched = 0
    for preset in presets():
        entry = reference.get(preset.formula)
        if entry is None:
            continue
        matched += 1
        listed = sorted((m.x, m.y) for m in preset.minima)
        expected = sorted(tuple(m["point"]) for m in entry["global_minima_precise"])
        assert listed == expected
    assert matched >= 11


def test_tutorial_gradient_through_the_preset() -> None:
    f, gx, gy = autograd_gradient(parse(get_preset("tutorial").formula), 2.0, 3.0)
    assert (gx, gy) == pytest.approx((3 + math.pi, 2.0), rel=1e-12)
    assert f == pytest.approx(6.0, abs=1e-12)


def test_lookup_is_forgiving_and_errors_are_clear() -> None:
    assert get_preset("Six-hump camel").name == "six_hump_camel"
    with pytest.raises(PresetError, match="unknown preset 'nope': choose one of tutorial"):
        get_preset("nope")


def test_saddle_has_no_minimum() -> None:
    saddle = get_preset("saddle")
    assert saddle.minima == ()
    f = parse(saddle.formula).evaluate(torch.tensor(0.0), torch.tensor(2.0))
    assert float(f) == -4.0


def test_every_label_is_its_name_in_words() -> None:
    # The window shows labels, the CLI takes names: they must be the same words (issue 14, 8).
    names = [p.name for p in presets()]
    labels = [p.label for p in presets()]
    assert len(set(names)) == len(names) and len(set(labels)) == len(labels)
    for preset in presets():
        assert get_preset(preset.label) is preset, preset.label
        assert preset.description and "\n" not in preset.label
