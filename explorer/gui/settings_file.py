"""Where the window's settings live: light enough to import before anything is drawn."""

from __future__ import annotations

import os

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtWidgets import QWidget

__all__ = ["APPLICATION", "ORGANIZATION", "SETTINGS_ENV", "open_settings", "restore_geometry"]

ORGANIZATION = "GradientDescentExplorer"
APPLICATION = "Gradient Descent Explorer"
# A settings file to use instead of the user's (tests, benchmarks, a portable install).
SETTINGS_ENV = "GDX_SETTINGS_FILE"


def open_settings() -> QSettings:
    """The user's settings, or the ini file named by GDX_SETTINGS_FILE."""
    path = os.environ.get(SETTINGS_ENV)
    if path:
        return QSettings(path, QSettings.Format.IniFormat)
    return QSettings(ORGANIZATION, APPLICATION)


def restore_geometry(s: QSettings, window: QWidget) -> None:
    """Put the window where and as large as it was (its docks come back with the rest)."""
    geometry = s.value("window/geometry")
    if isinstance(geometry, QByteArray | bytes):
        window.restoreGeometry(QByteArray(geometry))
