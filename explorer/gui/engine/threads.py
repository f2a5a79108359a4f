"""What every job thread does last: hand its worker object back to the GUI thread."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QObject


def return_to_gui_thread(worker: QObject, *, quit_thread: bool = True) -> None:
    """Move worker back to the application's thread, which owns it and will delete it, and
    (quit_thread) end the thread it ran on."""
    thread = worker.thread()
    app = QCoreApplication.instance()
    if app is not None:
        worker.moveToThread(app.thread())
    if quit_thread:
        thread.quit()
