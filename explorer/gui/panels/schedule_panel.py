"""The learning-rate schedule picker under the learning rate: a name, its keys, and a small plot
of the rate against the step whose marker follows the selected path's animated head (issue 16)."""

from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from numpy.typing import NDArray
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from explorer.core.optimizers import Value
from explorer.core.schedules import (
    DEFAULTS_TEXT,
    SCHEDULES,
    ScheduleError,
    check_schedule,
    parse_schedule,
    schedule_rates,
)
from explorer.core.trajectory import RunSettings

# The plot computes the rates of at most this many steps (a torch loop, ~20 us a step): a longer
# run shows its first PLOT_STEPS steps, and says so.
PLOT_STEPS = 5000
PLOT_HEIGHT = 80
_BACKGROUND = (25, 25, 25)
# While torch loads (in its thread, at start-up) the plot waits: it looks again this often.
_WAIT_MS = 300
_ERROR = "color: #e06c5a;"
# An example of each name's keys, shown in the empty key field.
_EXAMPLES = {
    "step": "step_size=30,gamma=0.5",
    "multistep": "milestones=30/60/90,gamma=0.1",
    "exponential": "gamma=0.99",
    "cosine": "T_max=100,eta_min=0",
    "cosine-restarts": "T_0=10,T_mult=2",
    "linear": "start_factor=0.1,total_iters=50",
    "onecycle": "max_lr=0.1,pct_start=0.3",
}


def torch_ready() -> bool:
    """Whether torch is imported and done importing (the window loads it in a thread)."""
    module = sys.modules.get("torch")
    spec = getattr(module, "__spec__", None)
    return module is not None and not getattr(spec, "_initializing", False)


@dataclass(frozen=True)
class _RunKey:
    """What the rates depend on besides the schedule text."""

    steps: int
    lr: float
    optimizer: str
    params: tuple[tuple[str, Value], ...]


class SchedulePanel(QWidget):
    """Constant or one of core.schedules' names with its keys; the rate plotted against the step.

    schedule_for() gives the canonical text a run of the given settings can use: the keys typed
    when torch takes them for that run, else the name alone (its defaults always fit a run),
    with the reason shown under the fields.
    """

    schedule_changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        row = QHBoxLayout()
        self._name = QComboBox()
        self._name.addItem("Constant", "")
        for spec in SCHEDULES.values():
            self._name.addItem(spec.label, spec.name)
            tip = f"torch.optim.lr_scheduler.{spec.torch_class}: " + ", ".join(
                p.name for p in spec.parameters
            )
            self._name.setItemData(self._name.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
        self._name.setToolTip(
            "How the learning rate changes from step to step: one scheduler.step() after "
            "each optimiser step"
        )
        self._keys = QLineEdit()
        self._keys.setToolTip(
            "The scheduler's keywords as key=value,... (torch's names; milestones as 30/60/90). "
            "Press Enter to apply. Empty: " + DEFAULTS_TEXT
        )
        # The field takes the row's width left over, and asks for no more: Qt's default width of a
        # line edit (17 characters) made the whole setup column 21 px wider than its fields.
        self._keys.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self._keys.setMinimumWidth(self._keys.fontMetrics().horizontalAdvance("x" * 10))
        row.addWidget(self._name)
        row.addWidget(self._keys, 1)
        layout.addLayout(row)
        self._message = QLabel()
        self._message.setWordWrap(True)
        self._message.setStyleSheet(_ERROR)
        self._message.setVisible(False)
        layout.addWidget(self._message)
        layout.addWidget(self._build_plot())
        # The keys last accepted (canonical, without the name) and what they were checked for.
        self._text = ""
        self._checked: dict[tuple[str, _RunKey], str | None] = {}
        self._key: _RunKey | None = None
        self._plotted: tuple[str, _RunKey] | None = None
        self._rates: NDArray[np.float64] = np.empty(0)
        self._waiting = False  # a look for torch is due
        self._name.currentIndexChanged.connect(self._on_name_changed)
        self._keys.editingFinished.connect(self._on_keys_edited)
        self._on_name_changed()

    def _build_plot(self) -> pg.PlotWidget:
        plot = pg.PlotWidget(background=_BACKGROUND)
        plot.setFixedHeight(PLOT_HEIGHT)
        plot.setToolTip("The learning rate each step uses; the dot is the selected path's step")
        item = plot.getPlotItem()
        item.setMenuEnabled(False)
        item.hideButtons()
        item.showGrid(x=True, y=True, alpha=0.15)
        item.getViewBox().setMouseEnabled(False, False)
        for name in ("bottom", "left"):
            axis = item.getAxis(name)
            axis.setTextPen((220, 220, 220))
            axis.enableAutoSIPrefix(False)
        item.getAxis("left").setWidth(44)
        self._curve = pg.PlotDataItem(pen=pg.mkPen((120, 190, 255), width=1.5))
        self._marker = pg.ScatterPlotItem(size=8, brush=pg.mkBrush(255, 200, 60), pen=None)
        item.addItem(self._curve)
        item.addItem(self._marker)
        self._plot = plot
        return plot

    # ----- slots ----------------------------------------------------------------------------

    def _on_name_changed(self) -> None:
        name = self.name()
        self._keys.setEnabled(bool(name))
        self._keys.setPlaceholderText(f"e.g. {_EXAMPLES[name]}" if name else "")
        self._keys.clear()
        self._text = name
        self._plot.setVisible(bool(name))
        self._refresh()
        self.schedule_changed.emit()

    def _on_keys_edited(self) -> None:
        name = self.name()
        typed = self._keys.text().strip()
        text = f"{name}:{typed}" if typed else name
        try:
            schedule = parse_schedule(text)
        except ScheduleError as error:
            self._show_message(f"{error} (the schedule keeps {self._text or 'constant'})")
            return
        canonical = "" if schedule is None else schedule.text()
        if canonical == self._text:
            self._refresh()
            return
        self._text = canonical
        self._refresh()
        self.schedule_changed.emit()

    # ----- public API -----------------------------------------------------------------------

    def name(self) -> str:
        """The chosen name ('' for a constant rate)."""
        return str(self._name.currentData() or "")

    def text(self) -> str:
        """The schedule as typed and accepted, in canonical form ('' = constant)."""
        return self._text

    def set_schedule(self, text: str) -> None:
        """Show a schedule (a setting or a session's); text that does not parse is constant."""
        try:
            schedule = parse_schedule(text)
        except ScheduleError:
            schedule = None
        name = "" if schedule is None else schedule.name
        self._name.blockSignals(True)
        self._name.setCurrentIndex(max(0, self._name.findData(name)))
        self._name.blockSignals(False)
        keys = "" if schedule is None else schedule.text().partition(":")[2]
        self._keys.setEnabled(bool(name))
        self._keys.setPlaceholderText(f"e.g. {_EXAMPLES[name]}" if name else "")
        self._keys.setText(keys)
        self._text = "" if schedule is None else schedule.text()
        self._plot.setVisible(bool(name))
        self._refresh()
        self.schedule_changed.emit()

    def set_run(self, settings: RunSettings) -> None:
        """The run the schedule is for (steps, lr, optimiser): check it and redraw the plot."""
        self._key = _RunKey(settings.steps, settings.lr, settings.optimizer, settings.params)
        self._refresh()

    def schedule_for(self, settings: RunSettings) -> str:
        """The schedule a run of these settings uses: the typed keys if torch takes them for
        it, else the name alone."""
        key = _RunKey(settings.steps, settings.lr, settings.optimizer, settings.params)
        problem = self._problem(self._text, key)
        return self._text if problem is None else self.name()

    def show_step(self, settings: RunSettings | None, k: int) -> None:
        """Put the dot at row k of a path with these settings; hide it when the plot shows
        another schedule or run (or settings is None)."""
        plotted = self._plotted
        same = (
            settings is not None
            and plotted is not None
            and settings.schedule == plotted[0]
            and _RunKey(settings.steps, settings.lr, settings.optimizer, settings.params)
            == plotted[1]
        )
        if not same or not 0 <= k < len(self._rates):
            self._marker.setData([], [])
            return
        self._marker.setData([k], [float(self._rates[k])])

    def marker_position(self) -> tuple[float, float] | None:
        """Where the dot is (for tests); None when hidden."""
        xs, ys = self._marker.getData()
        return None if xs is None or len(xs) == 0 else (float(xs[0]), float(ys[0]))

    def plotted_rates(self) -> NDArray[np.float64]:
        """The rates drawn, row 0 first (for tests)."""
        return self._rates.copy()

    def message(self) -> str:
        """The problem shown under the fields ('' when none)."""
        return self._message.text() if self._message.isVisibleTo(self) else ""

    def name_combo(self) -> QComboBox:
        """The names' combo (for tests)."""
        return self._name

    def keys_field(self) -> QLineEdit:
        """The keys' field (for tests)."""
        return self._keys

    def plot_widget(self) -> pg.PlotWidget:
        """The rate plot (for tests and exports)."""
        return self._plot

    # ----- helpers --------------------------------------------------------------------------

    def _problem(self, text: str, key: _RunKey) -> str | None:
        """Why torch refuses text for this run (None: it takes it); checked once per pair."""
        if not text or ":" not in text:
            return None  # constant, or a name alone: its defaults fit every run
        if not torch_ready():
            return None  # a remembered schedule, checked when it was kept: trust it till then
        cached = (text, key)
        if cached not in self._checked:
            try:
                check_schedule(text, key.steps, key.optimizer, key.lr)
                self._checked[cached] = None
            except ScheduleError as error:
                self._checked[cached] = str(error)
        return self._checked[cached]

    def _on_wait_ended(self) -> None:
        self._waiting = False
        self._refresh()

    def _show_message(self, text: str) -> None:
        self._message.setText(text)
        self._message.setVisible(bool(text))

    def _refresh(self) -> None:
        """The message and the plot for the current text and run."""
        key = self._key
        if key is None:
            return
        problem = self._problem(self._text, key)
        used = self._text if problem is None else self.name()
        self._show_message("" if problem is None else f"{problem}: this run uses {used} alone")
        if not used:
            self._plotted, self._rates = None, np.empty(0)
            self._curve.setData([], [])
            self._marker.setData([], [])
            return
        if self._plotted == (used, key):
            return
        if not torch_ready():
            # Importing torch here would hold the window until it loads: look again soon.
            if not self._waiting:
                self._waiting = True
                QTimer.singleShot(_WAIT_MS, self, self._on_wait_ended)
            return
        steps = min(key.steps, PLOT_STEPS)
        rates = schedule_rates(
            used, steps, key.lr, key.optimizer, dict(key.params), steps_for_defaults=key.steps
        )
        self._plotted, self._rates = (used, key), rates
        self._curve.setData(np.arange(len(rates), dtype=np.float64), rates)
        self._marker.setData([], [])
        shown = "" if key.steps <= PLOT_STEPS else f" (its first {PLOT_STEPS} steps)"
        self._plot.setToolTip(
            f"The learning rate each step uses{shown}; the dot is the selected path's step"
        )
