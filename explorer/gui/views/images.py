"""Saving a widget as a PNG, shared by the 2-D views."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget


def save_widget_png(widget: QWidget, path: str) -> None:
    """Save the widget as it looks now; raise OSError when the file cannot be written."""
    pixmap = widget.grab()
    if pixmap.isNull() or not pixmap.save(str(path), "PNG"):
        raise OSError(f"could not write the picture to {path}: check the folder and its rights")
