"""The optimiser race: several optimisers from the same starts, side by side, with a leaderboard."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from explorer.core.methods import label as method_label
from explorer.core.optimizers import LR_RANGE, OptimizerError
from explorer.core.race import (
    MAX_ENTRIES,
    TUNE_COUNT,
    TUNE_RANGE,
    RaceEntry,
    Standing,
    combined_entries,
    landscape_minima,
    leaderboard,
    outcome_of,
)
from explorer.core.sweep import best_entry, log_spaced
from explorer.core.trajectory import RunSettings, Trajectory, number_text
from explorer.gui.engine.descent_worker import RunResult
from explorer.gui.engine.sweep_job import SweepJob
from explorer.gui.model.colors import RGB, trajectory_color
from explorer.gui.model.leaderboard_table import LeaderboardTableModel
from explorer.gui.model.text_table import swatch
from explorer.gui.panels.controls_panel import SciSpinBox
from explorer.gui.panels.forms import fitted_table, optimizer_combo, push_button
from explorer.gui.tools.full_batch import full_batch_note
from explorer.gui.tools.race_budget import RaceBudgetRow

if TYPE_CHECKING:
    from explorer.core.presets import Minimum
    from explorer.gui.parts import Parts

DEFAULT_ENTRIES = ("sgd", "momentum", "adam")
WAIT_MS = 100


class _EntryRow:
    """The widgets of one race entry: colour, optimiser, learning rate, Tune, Remove."""

    def __init__(self, entry: RaceEntry, color: RGB) -> None:
        self.color = color
        self.swatch = QLabel()
        self.swatch.setPixmap(swatch(color, 16).pixmap(16, 16))
        self.optimizer = optimizer_combo(scipy=True)
        self.optimizer.setCurrentIndex(max(0, self.optimizer.findData(entry.optimizer)))
        # Settings other than the lr (from a session) stay while the optimiser stays.
        self._params = entry.params
        self._params_for = entry.optimizer
        settings = ", ".join(f"{key}={value}" for key, value in entry.params)
        self._tip = ("The optimiser of this entry (its own settings "
                     + (f"{settings}, the others at their defaults)" if settings
                        else "at their defaults)"))
        self._show_tip()
        self.lr = SciSpinBox(*LR_RANGE, log=True)
        self.lr.setValue(entry.lr)
        self.lr.setToolTip("This entry's learning rate (the arrows multiply or divide it by 10)")
        # Small tool buttons: the row fits a narrow column with the entry's full label.
        self.tune = QToolButton()
        self.tune.setText("Tune")
        self.tune.setToolTip(
            f"Try {TUNE_COUNT} learning rates from {number_text(TUNE_RANGE[0])} to "
            f"{number_text(TUNE_RANGE[1])} from the race's starts and keep the best "
            "(lowest mean final f, never one that diverged): a fair race"
        )
        self.remove = QToolButton()
        self.remove.setText("\u2715")  # a multiplication x: the usual "remove this row"
        self.remove.setToolTip("Remove: take this entry out of the race")
        self.job: SweepJob | None = None
        self._enable_lr()
        self.optimizer.currentIndexChanged.connect(self._on_optimizer_changed)

    def widgets(self) -> tuple[QWidget, ...]:
        return (self.swatch, self.optimizer, self.lr, self.tune, self.remove)

    def entry(self) -> RaceEntry:
        name = str(self.optimizer.currentData())
        params = self._params if name == self._params_for else ()
        return RaceEntry(name, float(self.lr.value()), params)

    def _on_optimizer_changed(self) -> None:
        self.lr.setValue(RaceEntry.default(str(self.optimizer.currentData())).lr)
        self._enable_lr()
        self._show_tip()

    def _enable_lr(self) -> None:
        """A scipy method has no learning rate: its lr and Tune are off."""
        torch = not RaceEntry(str(self.optimizer.currentData()), 1.0).is_scipy
        self.lr.setEnabled(torch)
        self.tune.setEnabled(torch)

    def _show_tip(self) -> None:
        label = method_label(str(self.optimizer.currentData()))
        self.optimizer.setToolTip(f"{label}\n\n{self._tip}")


@dataclass(eq=False)
class _Race:
    """A race in progress: its entries, their run ids and the results so far."""

    entries: list[RaceEntry]
    colors: list[RGB]
    run_ids: list[int]
    tol: float
    minima: tuple[Minimum, ...]  # of the landscape raced on: a model's best fit, a preset's
    note: str  # on a model on data: ' Full batch: …'
    evaluations: int | None = None  # the evaluation budget per start; None: steps
    results: dict[int, tuple[Trajectory, ...]] = field(default_factory=dict)
    failed: dict[int, str] = field(default_factory=dict)

    @property
    def computed(self) -> bool:
        return len(self.results) + len(self.failed) == len(self.run_ids)


class RacePanel(QWidget):
    """A tool docked beside the map: entries, Start race, and the leaderboard."""

    leaderboard_ready = Signal()
    # Animation…: the last race's paths (their path ids) to write as a GIF or MP4.
    animation_requested = Signal(list)

    def __init__(self, parts: Parts) -> None:
        super().__init__(parts.host)
        self.setWindowTitle("Optimiser race")
        self._parts = parts
        self._rows: list[_EntryRow] = []
        self._race: _Race | None = None
        self._standings: list[Standing] = []
        self._tol: float | None = None
        self._tuning: dict[SweepJob, tuple[_EntryRow, list[float], int]] = {}
        self._wait = QTimer(self)
        self._wait.setInterval(WAIT_MS)
        self._wait.timeout.connect(self._on_wait)
        parts.runner.worker.finished.connect(self._on_run_finished)
        parts.runner.worker.failed.connect(self._on_run_failed)
        parts.runner.paths_removed.connect(self._on_paths_removed)
        self._race_paths: list[int] = []  # the last race's paths on screen, by path id

        layout = QVBoxLayout(self)
        intro = QLabel(
            "Each entry runs from the same starts with the same budget, all at once: watch "
            "them side by side in the views and the loss plot."
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self._budget = RaceBudgetRow()
        layout.addWidget(self._budget)
        self._grid_box = QWidget()
        self._grid = QGridLayout(self._grid_box)
        self._grid.setContentsMargins(0, 0, 0, 0)
        for column, title in ((1, "Optimiser"), (2, "Learning rate")):
            header = QLabel(f"<b>{title}</b>")
            header.setWordWrap(True)  # two lines rather than a wider column
            self._grid.addWidget(header, 0, column)
        self._grid.setColumnStretch(1, 1)
        layout.addWidget(self._grid_box)

        buttons = QHBoxLayout()
        self._add_button = push_button(
            "Add entry",
            f"Add an optimiser to the race (up to {MAX_ENTRIES})",
            lambda: self.add_entry(RaceEntry.default("rmsprop")),
        )
        self._start_button = push_button(
            "Start race",
            "Run every entry from the waiting Shift-click starts (or else from the starts of "
            "the paths on screen, which are replaced)",
            self.start_race,
            default=True,
        )
        buttons.addWidget(self._add_button)
        buttons.addStretch(1)
        buttons.addWidget(self._start_button)
        layout.addLayout(buttons)

        self._message = QLabel("Shift-click one or more start points on the map, then press "
                               "Start race.")
        self._message.setWordWrap(True)
        layout.addWidget(self._message)
        layout.addWidget(QLabel("<b>Leaderboard</b>"))
        self._board_model = LeaderboardTableModel(self)
        self._board = fitted_table(self._board_model)
        layout.addWidget(self._board, 1)
        caption = QLabel(
            "Ranked by mean final f; values within 1e-10 of each other tie (paths that reached "
            "the same minimum differ only in rounding), and the fewer steps wins (in a race by "
            "f evaluations, the fewer evaluations)."
        )
        caption.setWordWrap(True)
        caption.setStyleSheet("color: palette(placeholder-text);")
        layout.addWidget(caption)
        self._animation_button = push_button(
            "Animation…",
            "Write the race's paths growing step by step as a GIF or MP4, with the loss plot "
            "(File > Export animation… for the race alone)",
            lambda: self.animation_requested.emit(list(self._race_paths)),
        )
        self._animation_button.setEnabled(False)  # until a race has computed paths
        export = QHBoxLayout()
        export.addStretch(1)
        export.addWidget(self._animation_button)
        layout.addLayout(export)

        for name in DEFAULT_ENTRIES:
            self.add_entry(RaceEntry.default(name))

    def budget(self) -> int | None:
        """The evaluation budget per start, or None for a race by steps."""
        return self._budget.budget()

    def set_budget(self, evaluations: int | None) -> None:
        """Race by steps (None) or by this many f evaluations per start (clamped to the range)."""
        self._budget.set_budget(evaluations)

    # ----- entries --------------------------------------------------------------------------

    def add_entry(self, entry: RaceEntry, color: RGB | None = None) -> bool:
        """Add an entry, in this colour or the first one unused (False when the race is full)."""
        if len(self._rows) >= MAX_ENTRIES:
            return False
        if color is None:
            used = {row.color for row in self._rows}
            color = next(trajectory_color(i) for i in range(MAX_ENTRIES)
                         if trajectory_color(i) not in used)
        row = _EntryRow(entry, color)
        row.tune.clicked.connect(lambda: self.tune(self._rows.index(row)))
        row.remove.clicked.connect(lambda: self.remove_entry(self._rows.index(row)))
        self._rows.append(row)
        self._layout_rows()
        return True

    def remove_entry(self, index: int) -> None:
        """Take entry index out of the race."""
        row = self._rows.pop(index)
        if row.job is not None:
            row.job.cancel()
        for widget in row.widgets():
            self._grid.removeWidget(widget)
            widget.deleteLater()
        self._layout_rows()

    def set_entries(self, entries: list[RaceEntry], colors: list[RGB] | None = None) -> None:
        """Replace every entry (colors: each one's, as a session kept them)."""
        while self._rows:
            self.remove_entry(0)
        for index, entry in enumerate(entries):
            self.add_entry(entry, colors[index] if colors and index < len(colors) else None)

    def entries(self) -> list[RaceEntry]:
        """The entries as set now."""
        return [row.entry() for row in self._rows]

    def entry_colors(self) -> list[RGB]:
        """Each entry's colour (its paths and its swatch)."""
        return [row.color for row in self._rows]

    def tune_button(self, index: int) -> QToolButton:
        """Entry index's Tune button."""
        return self._rows[index].tune

    def _layout_rows(self) -> None:
        for index, row in enumerate(self._rows):
            for column, widget in enumerate(row.widgets()):
                self._grid.addWidget(widget, index + 1, column)
            row.remove.setEnabled(len(self._rows) > 1)
        self._add_button.setEnabled(len(self._rows) < MAX_ENTRIES)

    # ----- racing ---------------------------------------------------------------------------

    def race_starts(self, *, take: bool = False) -> list[tuple[float, float]]:
        """The waiting Shift-click starts, else the starts of the paths on screen (in order)."""
        parts = self._parts
        if parts.runner.pending_starts():
            return parts.runner.take_pending_starts() if take else parts.runner.pending_starts()
        starts: list[tuple[float, float]] = []
        for shown in parts.runner.shown_trajectories():
            if shown.start not in starts:
                starts.append(shown.start)
        return starts

    def start_race(self) -> bool:
        """Run every entry from the same starts; False (and a message) if it cannot start."""
        parts = self._parts
        if parts.document.target() is None or not parts.runner.worker.is_ready:
            self._say("The engine (torch) is still loading: try again in a moment.")
            return False
        if not self._rows:
            self._say("Add at least one entry.")
            return False
        base = parts.controls.run_settings()
        entries = self.entries()
        colors = self.entry_colors()
        budget = self.budget()
        try:
            settings = [entry.settings(base, budget) for entry in entries]
        except OptimizerError as error:  # L-BFGS with a line search under an f budget
            self._say(str(error))
            return False
        starts = self.race_starts(take=True)
        if not starts:
            self._say("Shift-click one or more start points on the map first (white crosses), "
                      "then press Start race.")
            return False
        parts.runner.remove_paths([shown.path_id for shown in parts.runner.shown_trajectories()])
        self._set_race_paths([])
        run_ids = []
        for entry_settings, color in zip(settings, colors, strict=True):
            run_id = parts.runner.start_runs(starts, entry_settings, color=color)
            if run_id is not None:
                run_ids.append(run_id)
        self._race = _Race(entries, colors, run_ids, base.tol,
                           landscape_minima(parts.document.landscape),
                           full_batch_note(parts.document), budget)
        self._standings = []
        self._fill_board()
        noise = f", gradient noise {base.noise:g} (seed {base.seed})" if base.noise > 0 else ""
        parts.notifier.status(
            f"Race: {len(entries)} optimisers from the same {len(starts)} start"
            f"{'s' if len(starts) > 1 else ''}.", 8000)
        self._say(
            f"Racing {len(entries)} optimisers from {len(starts)} start"
            f"{'s' if len(starts) > 1 else ''}, at most "
            f"{base.steps if budget is None else budget} "
            f"{'steps' if budget is None else 'f evaluations'} each{noise}."
            f"{self._race.note}"
        )
        return True

    def is_running(self) -> bool:
        """True from Start race until the leaderboard is final."""
        return self._race is not None

    def standings(self) -> list[Standing]:
        """The last race's leaderboard, best first."""
        return list(self._standings)

    def leaderboard_table(self) -> QTableView:
        """The leaderboard widget."""
        return self._board

    def race_paths(self) -> list[int]:
        """The path ids of the last finished race's paths still on screen."""
        return list(self._race_paths)

    def animation_button(self) -> QPushButton:
        """Animation…: on while a finished race's paths are on screen."""
        return self._animation_button

    def message_text(self) -> str:
        """What the race says now: racing, the winner, or why it cannot start."""
        return self._message.text()

    def cancel(self) -> None:
        """Stop tuning and forget the race (its runs belong to the window and stop with it)."""
        self._race = None
        for job in list(self._tuning):
            job.cancel()
        self._tuning.clear()
        for row in self._rows:
            row.tune.setEnabled(not row.entry().is_scipy)
            row.tune.setText("Tune")

    def _on_run_finished(self, run_id: int, result: RunResult) -> None:
        race = self._race
        if race is None or run_id not in race.run_ids:
            return
        race.results[run_id] = result.trajectories
        if race.computed:
            self._wait.start()  # the leaderboard comes when the paths have been drawn

    def _on_run_failed(self, run_id: int, message: str) -> None:
        race = self._race
        if race is None or run_id not in race.run_ids:
            return
        race.failed[run_id] = message
        if race.computed:
            self._wait.start()

    def _on_wait(self) -> None:
        race = self._race
        if race is None:
            self._wait.stop()
            return
        ids = set(race.run_ids)
        if any(shown.animating for shown in self._parts.runner.shown_trajectories()
               if shown.run_id in ids):
            return
        self._wait.stop()
        self._race = None
        done = [(entry, race.results[run_id])
                for entry, run_id in zip(race.entries, race.run_ids, strict=False)
                if run_id in race.results]
        minima = race.minima
        self._tol = race.tol
        self._standings = leaderboard([e for e, _ in done], [t for _, t in done], race.tol,
                                      minima, by_evaluations=race.evaluations is not None)
        self._board_model.set_budget(race.evaluations)
        # Standings keep the very entry objects given: identity tells equal entries apart.
        colors = {id(entry): color for entry, color in zip(race.entries, race.colors,
                                                           strict=False)}
        self._fill_board(colors, has_minima=bool(minima))
        failed = f" {len(race.failed)} entries failed: {next(iter(race.failed.values()))}" if (
            race.failed) else ""
        if self._standings:
            winner = self._standings[0]
            self._say(f"Winner: {winner.entry.label}, lr {number_text(winner.entry.lr, 3)}."
                      f"{failed}{race.note}")
        else:
            self._say(f"No entry finished.{failed}")
        self._set_race_paths([shown.path_id for shown in self._parts.runner.shown_trajectories()
                              if shown.run_id in ids])
        self.leaderboard_ready.emit()

    def _set_race_paths(self, path_ids: list[int]) -> None:
        self._race_paths = path_ids
        self._animation_button.setEnabled(bool(path_ids))

    def _on_paths_removed(self, path_ids: list[int]) -> None:
        gone = set(path_ids)
        self._set_race_paths([path_id for path_id in self._race_paths if path_id not in gone])

    def _fill_board(self, colors: dict[int, RGB] | None = None, *,
                    has_minima: bool = True) -> None:
        race = self._race
        if race is not None:  # running: the entries, waiting for their results
            self._board_model.show_racing(race.entries, race.colors)
            return
        if self._tol is not None:
            self._board_model.set_tolerance(self._tol)
        self._board_model.show_standings(self._standings, colors or {}, has_minima=has_minima)

    # ----- tuning ---------------------------------------------------------------------------

    def tune(self, index: int) -> bool:
        """Set entry index's lr to the best of a small sweep from the race's starts (async)."""
        parts = self._parts
        target = parts.document.target()  # f, or a model's full-data loss
        if target is None or not parts.runner.worker.is_ready:
            self._say("The engine (torch) is still loading: try again in a moment.")
            return False
        starts = self.race_starts()
        if not starts:
            self._say("Tuning runs from the race's starts: Shift-click start points on the map "
                      "first.")
            return False
        row = self._rows[index]
        if row.entry().is_scipy:
            self._say(f"{row.entry().label} is a scipy.optimize method: it has no learning rate "
                      "to tune.")
            return False
        if row.job is None:
            row.job = SweepJob(parts.runner.worker, parts.runner.new_run_id, self)
            row.job.finished.connect(lambda trajectories, r=row: self._on_tuned(r, trajectories))
            row.job.failed.connect(lambda message: self._say(f"Tuning failed: {message}"))
        lrs = log_spaced(*TUNE_RANGE, TUNE_COUNT)
        base: RunSettings = parts.controls.run_settings()
        self._tuning[row.job] = (row, lrs.tolist(), len(starts))
        row.job.start(target, starts, lrs, row.entry().settings(base))
        row.tune.setEnabled(False)
        row.tune.setText("Tuning…")
        return True

    def is_tuning(self) -> bool:
        """True while some entry is being tuned."""
        return any(job.running for job in self._tuning)

    def _on_tuned(self, row: _EntryRow, trajectories: list[Trajectory]) -> None:
        assert row.job is not None
        _, lrs, starts = self._tuning.pop(row.job)
        row.tune.setEnabled(True)
        row.tune.setText("Tune")
        if row not in self._rows:
            return
        entries = combined_entries(lrs, [outcome_of(t) for t in trajectories], starts)
        best = best_entry(entries)
        label = row.entry().label
        if best is None:
            self._say(f"{label}: every learning rate tried diverged; the lr stays as it was.")
            return
        row.lr.setValue(best.lr)
        self._say(f"{label}: the best of {len(lrs)} learning rates from {starts} start"
                  f"{'s' if starts > 1 else ''} is {number_text(best.lr, 3)} (mean final f "
                  f"{number_text(best.f, 3)}).")

    def _say(self, text: str) -> None:
        self._message.setText(text)
