"""Huge numbers in the window: f overflowing, domains near the float64 limit; no warning leaks."""

from __future__ import annotations

import math

import pytest
from pytestqt.qtbot import QtBot

from explorer.gui.main_window import MainWindow

# Warnings are errors and Qt warnings fail the tests: drawing these must raise neither.
CASES = [
    ("exp(x)", (-1000.0, 1000.0, -1.0, 1.0), "f overflows"),
    ("x**300", (-20.0, 20.0, -1.0, 1.0), "f overflows"),
    ("x**40 * y**40", (-1e6, 1e6, -1e6, 1e6), "f overflows"),
    ("x*1.7e302", (-1e6, 1e6, -1.0, 1.0), ""),  # finite, but f's range overflows float64
    ("log(x) + exp(y)", (-1.0, 1.0, -1000.0, 1000.0), "f overflows (infinite or too large for "
     "float64) or is undefined"),
]


@pytest.mark.window(surface=False)
@pytest.mark.parametrize(("text", "domain", "gaps"), CASES)
def test_huge_values_are_drawn_and_the_gaps_named(
    qtbot: QtBot, window: MainWindow, text: str, domain: tuple[float, float, float, float],
    gaps: str
) -> None:
    window.function.set_function(text, domain)
    assert window.function.apply()
    grid = window.document.grid
    assert grid is not None and grid.domain == domain
    message = window.statusBar().currentMessage()
    assert message.startswith(f"Drawn f(x, y) = {text}")
    if gaps:
        assert f"grey marks where {gaps}" in message
    else:
        assert "grey marks" not in message
    window.menus.log_scale.toggle()  # the other colour scale, too
    qtbot.wait(50)


@pytest.mark.window(surface=False)
def test_the_widest_domain_the_fields_take_draws(qtbot: QtBot, window: MainWindow) -> None:
    # The fields hold the domain to what can be drawn: +-1e308 is clamped, never a warning.
    window.function.set_function("x + y", (-1e308, 1e308, -1e308, 1e308))
    assert window.function.apply()
    xmin, xmax, ymin, ymax = window.document.domain
    assert math.isfinite(xmax - xmin) and math.isfinite(ymax - ymin)


@pytest.mark.window(surface=False)
def test_f_overflowing_everywhere_keeps_the_old_landscape_and_says_so(
    qtbot: QtBot, window: MainWindow
) -> None:
    before = window.document.expression
    window.function.set_function("x**300", (1e5, 2e5, -1.0, 1.0))
    window.function.apply()
    assert window.document.expression is before
    assert window.function.error_text() == (
        "f has no finite value anywhere in this domain (it overflows float64): try another "
        "function or domain."
    )


@pytest.mark.window(surface=True)
@pytest.mark.parametrize("text", ["x*1.7e302", "x**40 * y**40"])
def test_the_3d_surface_draws_huge_values_too(qtbot: QtBot, window: MainWindow, text: str) -> None:
    window.function.set_function(text, (-1e6, 1e6, -1e6, 1e6))
    assert window.function.apply()
    assert window.surface is not None
    qtbot.wait(100)
    window.menus.log_scale.toggle()
    qtbot.wait(100)
