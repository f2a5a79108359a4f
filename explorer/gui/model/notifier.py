"""How parts without a window tell the user something: a status line or an error message."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal


class Notifier(QObject):
    """Tools, sessions and the runner say things here; the window shows them."""

    # text, and how long it stays in the status bar (ms)
    status_requested = Signal(str, int)
    # title, text: a window-modal message that does not block the event loop
    error_requested = Signal(str, str)

    def status(self, text: str, timeout_ms: int = 8000) -> None:
        """Show a line in the status bar."""
        self.status_requested.emit(text, timeout_ms)

    def error(self, title: str, text: str) -> None:
        """Show a problem the user must see."""
        self.error_requested.emit(title, text)
