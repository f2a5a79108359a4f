"""What the window remembers between launches: function, domain, optimiser, speed and layout."""

from __future__ import annotations

import contextlib
import json
import math

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtWidgets import QMainWindow, QSplitter

from explorer.core.landscape import Domain
from explorer.core.presets import default_preset
from explorer.gui.panels.controls_panel import DEFAULT_PATH_TIME, ControlsPanel
from explorer.gui.panels.function_panel import FunctionPanel
from explorer.gui.settings_file import (
    APPLICATION,
    ORGANIZATION,
    SETTINGS_ENV,
    open_settings,
    restore_geometry,
)

__all__ = [
    "APPLICATION",
    "ORGANIZATION",
    "SETTINGS_ENV",
    "open_settings",
    "restore_layout",
    "restore_panels",
    "save_all",
    "text_value",
]


def restore_panels(s: QSettings, function: FunctionPanel, controls: ControlsPanel) -> None:
    """Put the remembered function and optimiser settings into the panels (defaults if none)."""
    preset = default_preset()
    function.set_function(text_value(s.value("function/text"), preset.formula),
                          _domain(s.value("function/domain"), preset.domain))
    if not function.apply():
        function.set_function(preset.formula, preset.domain)
        function.apply()

    controls.set_optimizer(text_value(s.value("optimizer/name"), "sgd"))
    try:
        params = json.loads(text_value(s.value("optimizer/params"), "{}"))
    except ValueError:
        params = {}
    if isinstance(params, dict):
        for name, values in params.items():
            if isinstance(values, dict):
                with contextlib.suppress(KeyError, ValueError):
                    controls.set_params(str(name), values)
    lr = _float(s.value("optimizer/lr"), math.nan)
    if math.isfinite(lr):
        controls.set_lr(lr)
    defaults = controls.run_settings()
    controls.set_limits(
        int(_float(s.value("run/steps"), defaults.steps)),
        _float(s.value("run/tol"), defaults.tol),
        text_value(s.value("run/ascent"), "false") == "true",
    )
    controls.set_noise(_float(s.value("run/noise"), 0.0), int(_float(s.value("run/seed"), 0)))
    controls.set_schedule(text_value(s.value("run/schedule"), ""))
    # Seconds per path (older settings kept steps per second: those are left unread).
    path_time = _float(s.value("animation/path_time"), math.nan)
    controls.set_path_time(path_time if math.isfinite(path_time) else DEFAULT_PATH_TIME)


def restore_layout(s: QSettings, window: QMainWindow, splitters: list[QSplitter]) -> None:
    """The window's geometry, docks and splitter positions as they were."""
    restore_geometry(s, window)
    state = s.value("window/state")
    if isinstance(state, QByteArray | bytes):
        window.restoreState(QByteArray(state))
    for splitter in splitters:
        value = s.value(f"window/{splitter.objectName()}")
        if isinstance(value, QByteArray | bytes):
            splitter.restoreState(QByteArray(value))


def save_all(s: QSettings, function: FunctionPanel, controls: ControlsPanel,
             window: QMainWindow, splitters: list[QSplitter]) -> None:
    """Remember the function, domain, optimiser settings and window layout."""
    applied = function.applied()
    if applied is not None:
        s.setValue("function/text", applied[0])
        s.setValue("function/domain", ",".join(repr(float(v)) for v in applied[1]))
    s.setValue("optimizer/name", controls.optimizer_name())
    s.setValue("optimizer/lr", repr(controls.lr()))
    s.setValue("optimizer/params", json.dumps(controls.all_params()))
    settings = controls.run_settings()
    s.setValue("run/steps", str(settings.steps))
    s.setValue("run/tol", repr(settings.tol))
    s.setValue("run/ascent", "true" if settings.ascent else "false")
    s.setValue("run/noise", repr(settings.noise))
    s.setValue("run/seed", str(settings.seed))
    # As runs get it, checked for this run; a scipy method's runs have none, so the picker's
    # schedule is kept for when a torch optimiser is chosen again.
    s.setValue("run/schedule",
               controls.schedule.text() if controls.is_scipy() else settings.schedule)
    s.setValue("animation/path_time", repr(controls.path_time_s()))
    s.setValue("window/geometry", window.saveGeometry())
    s.setValue("window/state", window.saveState())
    for splitter in splitters:
        s.setValue(f"window/{splitter.objectName()}", splitter.saveState())
    s.sync()


def text_value(value: object, default: str) -> str:
    """A setting's text, or default when it is missing or not text."""
    return value if isinstance(value, str) and value else default


def _float(value: object, default: float) -> float:
    if not isinstance(value, str | int | float):
        return default
    try:
        return float(value)
    except ValueError:
        return default


def _domain(value: object, default: Domain) -> Domain:
    parts = value.split(",") if isinstance(value, str) else value
    if not isinstance(parts, list | tuple):
        return default
    try:
        numbers = [float(v) for v in parts]
    except (TypeError, ValueError):
        return default
    if len(numbers) != 4 or not all(math.isfinite(v) for v in numbers):
        return default
    return numbers[0], numbers[1], numbers[2], numbers[3]
