"""Help > Lesson: the tutorial's questions as a guided sequence of steps.

The lesson sits in a strip above the maps (never over them, never hidden behind another tab):
a step's title and text, Back and Next. Each step sets the app up as its file says (a session
without runs of its own) and brings a tab to the front; the student may then explore freely
and press "Set up again" to come back to the step as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from explorer.gui.inspection import Inspection
from explorer.gui.menus import make_action
from explorer.gui.parts import Parts
from explorer.gui.session_state import SessionState
from explorer.gui.tools.lab_tools import LabTools
from explorer.io.lesson import TUTORIAL_PATH, Lesson, LessonError, LessonStep, load_lesson

if TYPE_CHECKING:
    from explorer.gui.network_mode import NetworkMode

LESSON_SHORTCUT = "Ctrl+Shift+L"


class LessonPanel(QWidget):
    """A step's title and text with Back, Set up again, Next and Open lesson…"""

    back_requested = Signal()
    next_requested = Signal()
    again_requested = Signal()
    open_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._title = QLabel()
        self._title.setTextFormat(Qt.TextFormat.RichText)
        self._title.setWordWrap(True)
        # Five lines tall, scrolling beyond: a strip across the window, not a column, so that
        # the maps keep their height; a tutor's longer text scrolls instead of being cut.
        self._text = QTextBrowser()
        self._text.setFrameShape(QFrame.Shape.NoFrame)
        self._text.setFixedHeight(5 * self._text.fontMetrics().lineSpacing() + 10)
        self._text.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self._title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.back_button = QPushButton("◀ Back")
        self.back_button.setToolTip("The previous step (Alt+Left)")
        self.back_button.setShortcut(QKeySequence("Alt+Left"))
        self.next_button = QPushButton("Next ▶")
        self.next_button.setToolTip("The next step (Alt+Right)")
        self.next_button.setShortcut(QKeySequence("Alt+Right"))
        self.again_button = QPushButton("Set up again")
        self.again_button.setToolTip("Put this step's function, runs and tab back as they were")
        self.open_button = QPushButton("Open lesson…")
        self.open_button.setToolTip("Read another lesson file (a tutor's own)")
        self.back_button.clicked.connect(self.back_requested)
        self.next_button.clicked.connect(self.next_requested)
        self.again_button.clicked.connect(self.again_requested)
        self.open_button.clicked.connect(self.open_requested)

        words = QVBoxLayout()
        words.setContentsMargins(0, 0, 0, 0)
        words.addWidget(self._title)
        words.addWidget(self._text)
        buttons = QVBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        row.addWidget(self.back_button)
        row.addWidget(self.next_button)
        buttons.addLayout(row)
        row = QHBoxLayout()
        row.addWidget(self.again_button)
        row.addWidget(self.open_button)
        buttons.addLayout(row)
        buttons.addStretch(1)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.addLayout(words, 1)
        layout.addLayout(buttons)
        # As tall as its title and five lines, however much room the window has: the rest is
        # the maps'.
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.setMaximumHeight(self._text.height() + 2 * self._title.fontMetrics().lineSpacing()
                              + 24)

    def show_step(self, lesson: Lesson, index: int) -> None:
        """Show step index of the lesson and enable the buttons that lead somewhere."""
        step = lesson.steps[index]
        self._title.setText(f"<b>{escape(lesson.title)}</b> &nbsp;·&nbsp; step {index + 1} of "
                            f"{len(lesson.steps)}: <b>{escape(step.title)}</b>")
        self._text.setPlainText(step.text)  # a tutor's file: shown as text, never as HTML
        self.back_button.setEnabled(index > 0)
        self.next_button.setEnabled(index < len(lesson.steps) - 1)
        self.again_button.setEnabled(step.setup is not None or step.inspect is not None
                                     or step.tool is not None)

    def title_text(self) -> str:
        """The title line as shown (rich text)."""
        return self._title.text()

    def step_text(self) -> str:
        """The step's text as shown."""
        return self._text.toPlainText()


class LessonGuide(QObject):
    """Help > Lesson: opens the lesson strip and sets the app up for each step."""

    step_shown = Signal(int)

    def __init__(self, parts: Parts, session: SessionState, lab: LabTools,
                 inspection: Inspection, may_discard: Callable[[], bool],
                 menu: QMenu, network: NetworkMode | None = None) -> None:
        super().__init__(parts.host)
        self._parts = parts
        self._session = session
        self._lab = lab
        self._inspection = inspection
        self._network = network
        self._may_discard = may_discard
        self._lesson: Lesson | None = None
        self._index = 0
        self._panel: LessonPanel | None = None
        self._dock: QDockWidget | None = None
        self._pending_inspect: tuple[float, float] | None = None
        self.action: QAction = make_action(
            parts.host, "&Lesson…", LESSON_SHORTCUT, self.open_tutorial,
            "The tutorial's questions, step by step: each step sets up the app and says what to "
            "look at")
        first = menu.actions()
        if first:  # Help > Lesson first, above the reference help
            menu.insertAction(first[0], self.action)
        else:
            menu.addAction(self.action)
        parts.runner.worker.engine_ready.connect(self._on_engine_ready)

    # ----- opening --------------------------------------------------------------------------

    def open_tutorial(self) -> bool:
        """Open the course's own lesson at its first step (or show it again where it was)."""
        if self._lesson is not None and self._dock is not None:
            self._dock.show()
            return True
        return self.open_file(TUTORIAL_PATH)

    def open_file(self, path: str | Path) -> bool:
        """Read a lesson file and show its first step; a bad file is said and changes nothing."""
        try:
            lesson = load_lesson(path)
        except LessonError as err:
            self._parts.notifier.error("Cannot open the lesson", str(err))
            return False
        if not self._may_discard():
            return False
        self._lesson = lesson
        self._ensure_panel()
        return self.go_to(0)

    def _on_open_requested(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self._parts.host, "Open a lesson",
                                              str(TUTORIAL_PATH.parent),
                                              "Lessons (*.json);;All files (*)")
        if name:
            self.open_file(name)

    def _ensure_panel(self) -> None:
        if self._panel is not None:
            assert self._dock is not None
            self._dock.show()
            return
        host = self._parts.host
        self._panel = LessonPanel()
        self._panel.back_requested.connect(lambda: self.go_to(self._index - 1))
        self._panel.next_requested.connect(lambda: self.go_to(self._index + 1))
        self._panel.again_requested.connect(lambda: self.go_to(self._index))
        self._panel.open_requested.connect(self._on_open_requested)
        self._dock = QDockWidget("Lesson", host)
        self._dock.setObjectName("lesson_dock")
        self._dock.setWidget(self._panel)
        self._dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetClosable
                               | QDockWidget.DockWidgetFeature.DockWidgetMovable)
        # Above the maps, across the window: the text stays in view whichever tab is in front.
        self._dock.setAllowedAreas(Qt.DockWidgetArea.TopDockWidgetArea
                                   | Qt.DockWidgetArea.BottomDockWidgetArea)
        host.addDockWidget(Qt.DockWidgetArea.TopDockWidgetArea, self._dock)
        self._dock.show()

    # ----- steps ----------------------------------------------------------------------------

    @property
    def lesson(self) -> Lesson | None:
        """The lesson open now."""
        return self._lesson

    @property
    def index(self) -> int:
        """The step shown (0-based)."""
        return self._index

    @property
    def panel(self) -> LessonPanel | None:
        """The lesson strip, once opened."""
        return self._panel

    def go_to(self, index: int) -> bool:
        """Show step index and set the app up for it; False if there is no such step."""
        lesson = self._lesson
        if lesson is None or not 0 <= index < len(lesson.steps) or self._panel is None:
            return False
        self._index = index
        step = lesson.steps[index]
        self._panel.show_step(lesson, index)
        self._set_up(step)
        self.step_shown.emit(index)
        return True

    def _set_up(self, step: LessonStep) -> None:
        if step.setup is not None and not self._session.restore(step.setup):
            self._parts.notifier.error(
                "Cannot set up this step",
                f"The function {step.setup.function} cannot be drawn over its domain.")
            return
        if step.tool == "sweep":
            sweep = self._lab.show_sweep()
            if step.tool_start is not None:
                sweep.set_start(*step.tool_start)
        elif step.tool == "basin":
            self._lab.show_basin()
        elif step.tool == "race":
            self._lab.show_race()
        elif step.tool == "sharpness" and self._network is not None:
            self._network.show_sharpness()
        if step.setup is not None and step.setup.network is not None:
            self._show_network_panel()
        self._pending_inspect = step.inspect
        if step.inspect is not None or step.tool == "inspector":
            self._show_inspector()

    def _show_inspector(self) -> None:
        point = self._pending_inspect
        if point is None:
            self._raise_dock("inspector_dock")
            return
        if not self._parts.runner.worker.is_ready:
            return  # the engine is loading: _on_engine_ready inspects the point then
        self._pending_inspect = None
        self._inspection.inspect_point(*point)

    def _show_network_panel(self) -> None:
        """The Setup dock in front, scrolled to the network's panel: its progress, Pause and
        Step (it comes last in the column, below the function's and the model's)."""
        self._raise_dock("setup_dock")
        if self._network is None:
            return
        panel = self._network.panel
        area = panel.parentWidget()
        while area is not None and not isinstance(area, QScrollArea):
            area = area.parentWidget()
        if area is not None:
            area.ensureWidgetVisible(panel, 0, 0)

    def _raise_dock(self, name: str) -> None:
        dock = self._parts.host.findChild(QDockWidget, name)
        if dock is not None:
            dock.raise_()

    def _on_engine_ready(self) -> None:
        if self._pending_inspect is not None:
            self._show_inspector()
