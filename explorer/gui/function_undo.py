"""Edit > Undo for a change of function: the old function, its domain and its runs come back.

A new function (a preset, a typed expression or another domain) removes the runs of the old
one. Their ShownTrajectory objects are kept, so that Ctrl+Z, Edit > Undo or the status bar's
Undo link shows the old function again with the very same paths, colours and ids. One level,
not a QUndoStack: only the change of function is undoable, and the paths kept for it can hold
hundreds of megabytes. Undoing is itself a change of function, so the runs of the function
left are offered for undo the same way: nothing is ever lost.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QLabel, QMenu, QStatusBar

from explorer.core.expression import Expression
from explorer.core.landscape import Domain
from explorer.gui.model.run_store import Point
from explorer.gui.model.shown import ShownTrajectory
from explorer.gui.parts import Parts

# How long the status bar offers Undo; Ctrl+Z and Edit > Undo work until the next change.
LINK_MS = 15_000


@dataclass(frozen=True, eq=False)
class FunctionState:
    """A function on screen and the runs and starts it had."""

    text: str
    domain: Domain
    paths: tuple[ShownTrajectory, ...]
    pending: tuple[Point, ...]
    next_path_id: int


class FunctionUndo(QObject):
    """One level of undo for the change of function that removed runs."""

    def __init__(self, parts: Parts, menu: QMenu, status_bar: QStatusBar) -> None:
        super().__init__(parts.host)
        self._parts = parts
        self._before: FunctionState | None = None
        self.action = QAction("&Undo", parts.host)
        self.action.setShortcut(QKeySequence(QKeySequence.StandardKey.Undo))
        self.action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.action.setStatusTip("Bring back the function shown before and its runs")
        self.action.triggered.connect(self.undo)
        parts.host.addAction(self.action)
        menu.addAction(self.action)
        # A permanent widget: a temporary status message would hide a normal one.
        self._link = QLabel()
        self._link.setTextFormat(Qt.TextFormat.RichText)
        self._link.setTextInteractionFlags(Qt.TextInteractionFlag.LinksAccessibleByMouse)
        self._link.linkActivated.connect(self._on_link_activated)
        status_bar.addPermanentWidget(self._link)
        self._link_timer = QTimer(self)
        self._link_timer.setSingleShot(True)
        self._link_timer.setInterval(LINK_MS)
        self._link_timer.timeout.connect(self._link.hide)
        self._sync()

    def is_shown(self, expression: Expression, domain: Domain) -> bool:
        """True when this function and domain are the ones on screen (picked again)."""
        document = self._parts.document
        return (document.expression is not None and document.expression.text == expression.text
                and tuple(document.domain) == tuple(domain))

    def current(self) -> FunctionState | None:
        """The function on screen with its runs and starts (None: nothing to bring back)."""
        document, store = self._parts.document, self._parts.runner.store
        if document.expression is None or not (store.paths or store.pending):
            return None
        return FunctionState(document.expression.text, document.domain,
                             tuple(store.paths.values()), tuple(store.pending),
                             store.next_path_id)

    def changed(self, before: FunctionState | None) -> None:
        """The function changed; before: the old one with the runs it removed (or None)."""
        self._before = before
        self._sync()
        if before is not None:
            count = len(before.paths)
            runs = f"{count} run{'s' if count != 1 else ''}" if count else "the starts"
            self._link.setText(f"Removed {runs} of the old function: "
                               "<a href='undo'>Undo</a> (Ctrl+Z)")
            self._link.show()
            self._link_timer.start()

    def can_undo(self) -> bool:
        """True while a change of function can be undone."""
        return self._before is not None

    def link_text(self) -> str:
        """The status bar's offer as shown ('' when hidden; for tests)."""
        return self._link.text() if self._link.isVisible() else ""

    def undo(self) -> bool:
        """Show the function before the last change with its runs; False if there is none."""
        before = self._before
        if before is None:
            self._parts.notifier.status("Nothing to undo.", 4000)
            return False
        function = self._parts.function
        function.set_function(before.text, before.domain)
        # Through the usual path: the runs of the function left become the ones to undo.
        if not function.apply():
            return False
        if self._before is before:
            # The function was on screen already (picked again by hand): its runs now are
            # replaced, so they become the ones to undo.
            self.changed(self.current())
        runner = self._parts.runner
        runner.restore_paths(list(before.paths), before.next_path_id)
        runner.set_pending(list(before.pending))
        count = len(before.paths)
        self._parts.notifier.status(
            f"Back to f(x, y) = {before.text} with its {count} run{'s' if count != 1 else ''}",
            8000)
        return True

    def _on_link_activated(self, _link: str) -> None:
        self.undo()

    def _sync(self) -> None:
        self.action.setEnabled(self._before is not None)
        if self._before is None:
            self._link_timer.stop()
            self._link.hide()
