"""File > Save / Open session, Import trajectories and Open recent: the document side of the window.

SessionState supplies and restores the window's state; this object owns the file dialogs, the
current file, the recent-files list and the "save changes?" question.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QSettings
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMenu, QMessageBox, QWidget

from explorer.io.atomic import ExportError
from explorer.io.session import SessionError, load_session, save_session, session_to_json
from explorer.io.trajectory_csv import CsvFormatError, read_trajectories

if TYPE_CHECKING:
    from explorer.gui.model.notifier import Notifier
    from explorer.gui.session_state import SessionState

MAX_RECENT = 8
SESSION_FILTER = "Sessions (*.json);;All files (*)"
CSV_FILTER = "Trajectory CSV (*.csv);;All files (*)"


class SessionActions(QObject):
    """The session actions of the File menu, and the bookkeeping of the current session file."""

    def __init__(self, window: QWidget, state: SessionState, notifier: Notifier,
                 settings: QSettings, menu: QMenu, before: QAction,
                 may_go_on: Callable[[], bool] = lambda: True) -> None:
        super().__init__(window)
        self._window = window
        self._state = state
        self._notifier = notifier
        # Asked before a session replaces what is on screen: False (the user cancelled, say
        # while a tool computes) leaves everything as it is.
        self._may_go_on = may_go_on
        self._settings = settings
        self._path: Path | None = None
        self._saved: str | None = None  # the state when last saved or opened, as JSON text
        # Tests replace this: it answers the "save changes?" question without a dialog.
        self.ask_save: Callable[[], QMessageBox.StandardButton] = self._ask_save

        def add(text: str, shortcut: QKeySequence | None, slot: Callable[[], object],
                tip: str) -> QAction:
            action = QAction(text, window)
            if shortcut is not None:
                action.setShortcut(shortcut)
            action.setStatusTip(tip)
            action.triggered.connect(slot)
            window.addAction(action)
            menu.insertAction(before, action)
            return action

        add("&Open session…", QKeySequence(QKeySequence.StandardKey.Open), self._on_open,
            "Open a saved session: its function, starts, settings and paths")
        self._recent_menu = QMenu("Open &recent", window)
        self._recent_menu.aboutToShow.connect(self._fill_recent)
        menu.insertMenu(before, self._recent_menu)
        add("&Save session", QKeySequence(QKeySequence.StandardKey.Save), self._on_save,
            "Save the function, starts, settings and computed paths to a session file")
        add("Save session &as…", QKeySequence("Ctrl+Shift+S"), self._on_save_as,
            "Save the session to a new file")
        self.include_paths = QAction("Include computed paths in session files", window)
        self.include_paths.setCheckable(True)
        self.include_paths.setChecked(True)
        self.include_paths.setStatusTip(
            "Off: save only the settings and starts (smaller files; opening runs them again)")
        menu.insertAction(before, self.include_paths)
        menu.insertSeparator(before)
        add("&Import trajectories…", QKeySequence("Ctrl+I"), self._on_import,
            "Overlay trajectories from a CSV file (ours, or edited in a spreadsheet)")
        menu.insertSeparator(before)

    # ----- state ----------------------------------------------------------------------------

    @property
    def path(self) -> Path | None:
        """The session file being edited, if any."""
        return self._path

    def _snapshot(self) -> str:
        state = self._state.state(with_trajectories=False)
        return json.dumps(session_to_json(state, with_trajectories=False), sort_keys=True)

    def is_modified(self) -> bool:
        """True when the window differs from the session file it was opened from or saved to."""
        return self._path is not None and self._saved is not None and (
            self._snapshot() != self._saved)

    def has_unsaved_changes(self) -> bool:
        """True when closing would lose something: changes since the session file was saved
        or opened, or, with no file, any run or pending start."""
        if self._path is None:
            return bool(self._state.trajectories()) or bool(
                self._state.state(with_trajectories=False).pending)
        return self.is_modified()

    def refresh_modified(self, *_args: object) -> None:
        """Show in the title bar whether there are unsaved changes (the '*' of '[*]')."""
        self._window.setWindowModified(self.has_unsaved_changes())

    def _set_path(self, path: Path) -> None:
        self._path = path
        self._saved = self._snapshot()
        self._state.set_document_name(path.name)
        self._settings.setValue("session/folder", str(path.resolve().parent))
        self._add_recent(path)
        self.refresh_modified()

    def _folder(self) -> str:
        """The folder the session dialogs open in: the last one used (else the home folder)."""
        if self._path is not None:
            return str(self._path.parent)
        value = self._settings.value("session/folder")
        return value if isinstance(value, str) and value else str(Path.home())

    # ----- saving ---------------------------------------------------------------------------

    def save_to(self, path: str | os.PathLike[str]) -> bool:
        """Write the session; on failure say so in a dialog and keep everything."""
        target = Path(path)
        state = self._state.state(with_trajectories=self.include_paths.isChecked())
        try:
            # state() has left out the paths not to store (a minibatch path always stays).
            save_session(target, state, with_trajectories=True)
        except ExportError as error:
            self._notifier.error(
                "Could not save the session",
                f"{error}\n\nNothing was written; any older file is unchanged.")
            return False
        self._set_path(target)
        self._notifier.status(f"Saved the session to {target}", 8000)
        return True

    def _on_save(self) -> bool:
        if self._path is None:
            return self._on_save_as()
        return self.save_to(self._path)

    def _on_save_as(self) -> bool:
        start = str(self._path) if self._path is not None else str(
            Path(self._folder()) / "session.json")
        name, _ = QFileDialog.getSaveFileName(self._window, "Save session", start,
                                              SESSION_FILTER)
        if not name:
            return False
        if not Path(name).suffix:
            name += ".json"
        return self.save_to(name)

    # ----- opening --------------------------------------------------------------------------

    def open_from(self, path: str | os.PathLike[str]) -> bool:
        """Read a session and show it; a bad file gets a message and changes nothing."""
        source = Path(path)
        if not self._may_go_on():
            return False
        try:
            session = load_session(source)
        except SessionError as error:
            self._notifier.error("Could not open the session",
                                    f"{error}\n\nNothing on screen was changed.")
            return False
        problem = self._state.check(session)  # a model's data file gone or changed
        if problem:
            self._notifier.error("Could not open the session",
                                 f"{source}: {problem}\n\nNothing on screen was changed.")
            return False
        if not self._state.restore(session):
            self._notifier.error(
                "Could not open the session",
                f"{source}: its function cannot be drawn over its domain.\n\n"
                "Nothing on screen was changed.")
            return False
        self._set_path(source)
        notes = (f"; its race of {len(session.race)} optimisers is in Tools > Optimiser race"
                 if session.race else "")
        network = session.network if self._state.network_training() else None
        if network is not None:  # the map keeps the session's function until the slice is ready
            notes += (f"; its network ({network.spec.text()}, {network.settings.steps} steps) "
                      "trains again, and its slice replaces the map when done…")
        # Until the next line while a network trains: its result's line replaces it.
        self._notifier.status(f"Opened {source}{notes}", 0 if network is not None else 8000)
        return True

    def _on_open(self) -> None:
        if not self.confirm_discard():
            return
        name, _ = QFileDialog.getOpenFileName(self._window, "Open session", self._folder(),
                                              SESSION_FILTER)
        if name:
            self.open_from(name)

    def import_from(self, path: str | os.PathLike[str]) -> int:
        """Overlay the trajectories of a CSV file, read-only; how many were added (0 on error)."""
        source = Path(path)
        try:
            trajectories = read_trajectories(source)
        except CsvFormatError as error:
            self._notifier.error("Could not import the trajectories",
                                    f"{error}\n\nNothing on screen was changed.")
            return 0
        count = self._state.add_imported(trajectories, source.name)
        self._notifier.status(
            f"Imported {count} trajectories from {source.name} (read-only)", 8000)
        return count

    def _on_import(self) -> None:
        # The CSV dialogs (export and import) share one remembered folder.
        folder = self._settings.value("export/folder")
        name, _ = QFileDialog.getOpenFileName(
            self._window, "Import trajectories",
            folder if isinstance(folder, str) and folder else str(Path.home()), CSV_FILTER)
        if name:
            self._settings.setValue("export/folder", str(Path(name).parent))
            self.import_from(name)

    # ----- recent files ---------------------------------------------------------------------

    def recent(self) -> list[str]:
        """Recently opened or saved sessions, newest first."""
        value = self._settings.value("session/recent", [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, Iterable):
            value = []  # none stored yet (None), or something unreadable
        return [str(v) for v in value][:MAX_RECENT]

    def _add_recent(self, path: Path) -> None:
        name = str(path.resolve())
        files = [name, *(f for f in self.recent() if f != name)][:MAX_RECENT]
        self._settings.setValue("session/recent", files)

    def _fill_recent(self) -> None:
        self._recent_menu.clear()
        files = self.recent()
        if not files:
            self._recent_menu.addAction("(none yet)").setEnabled(False)
            return
        for index, name in enumerate(files, start=1):
            action = self._recent_menu.addAction(f"&{index} {Path(name).name}")
            action.setToolTip(name)
            action.setStatusTip(name)
            action.triggered.connect(lambda _=False, n=name: self._open_recent(n))
        self._recent_menu.addSeparator()
        self._recent_menu.addAction("Clear the list").triggered.connect(
            lambda: self._settings.setValue("session/recent", []))

    def _open_recent(self, name: str) -> None:
        if not self.confirm_discard():
            return
        if not Path(name).is_file():
            self._settings.setValue("session/recent", [f for f in self.recent() if f != name])
            self._notifier.error("Could not open the session",
                                    f"{name} no longer exists; it was removed from the list.")
            return
        self.open_from(name)

    # ----- closing --------------------------------------------------------------------------

    def confirm_discard(self) -> bool:
        """Ask to save unsaved changes to the session file; False means: cancel."""
        if not self.is_modified():
            return True
        answer = self.ask_save()
        if answer == QMessageBox.StandardButton.Save:
            return self._on_save()
        return answer == QMessageBox.StandardButton.Discard

    def _ask_save(self) -> QMessageBox.StandardButton:
        name = self._path.name if self._path is not None else "the session"
        box = QMessageBox(
            QMessageBox.Icon.Question, "Save changes?",
            f"{name} has changes that are not saved.",
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel, self._window)
        box.setInformativeText("Save them before going on?")
        box.setDefaultButton(QMessageBox.StandardButton.Save)
        return QMessageBox.StandardButton(box.exec())
