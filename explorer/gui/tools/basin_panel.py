"""The basins-of-attraction tool: a grid of starts, each coloured by the minimum it reached."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSlider,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from explorer.core.basin import BasinMap, basin_image
from explorer.core.methods import label
from explorer.core.optimizers import get_spec
from explorer.core.presets import Minimum, presets
from explorer.core.race import landscape_minima
from explorer.core.scipy_methods import is_scipy_method
from explorer.core.trajectory import RunSettings
from explorer.gui.engine.basin_job import BasinJob, BasinRequest
from explorer.gui.model.minima_table import MinimaTableModel, value_text
from explorer.gui.panels.forms import ends_row, fitted_table, push_button
from explorer.gui.tools.basin_form import TIMES, BasinSettingsForm
from explorer.gui.tools.full_batch import full_batch_note
from explorer.gui.views.basin_overlay import DEFAULT_OPACITY, BasinOverlay

if TYPE_CHECKING:
    from explorer.core.expression import Expression
    from explorer.gui.model.document import Document
    from explorer.gui.parts import Parts

INTRO = (
    f"Every point of an N {TIMES} N grid over the domain is a start point. Each one is "
    "descended with the optimiser below, all together as one batch in the background. The "
    "map colours each start point by the minimum it ended in: one colour per minimum "
    "(numbered on the map), black where the descent diverged, grey where it ran out of steps "
    "before reaching a minimum, lavender where it ended on a plateau (f flat around the end "
    "point: no isolated minimum there)."
)


class BasinPanel(QWidget):
    """A docked tool: compute the basin map off the GUI thread, draw it on the map."""

    def __init__(self, parts: Parts) -> None:
        super().__init__(parts.host)
        self.setWindowTitle("Basins of attraction")
        self._parts = parts
        self._job = BasinJob(self)
        self._job.progressed.connect(self._on_progressed)
        self._job.finished.connect(self._on_job_finished)
        self._job.failed.connect(self._on_job_failed)
        self._job.cancelled.connect(self._on_job_cancelled)
        self._overlay = BasinOverlay(parts.contour.plot_widget().getPlotItem())
        self._result: BasinMap | None = None
        self._request: BasinRequest | None = None
        self._shown: object = None  # what the request's map belongs to (_showing)
        self._started = 0.0

        layout = QVBoxLayout(self)
        intro = QLabel(INTRO)
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self._form = BasinSettingsForm(parts.controls)
        layout.addWidget(self._form)
        layout.addLayout(self._build_buttons())
        self._status = QLabel("Press Compute to draw the map.")
        self._status.setWordWrap(True)
        layout.addWidget(self._status)
        layout.addWidget(self._build_display())
        self._table = self._build_table()
        layout.addWidget(self._table, 1)
        self._summary = QLabel()
        self._summary.setWordWrap(True)
        self._summary.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(self._summary)

        parts.function.function_applied.connect(self._on_function_applied)
        app = QCoreApplication.instance()
        if app is not None:  # the threads must end before Qt tears the objects down
            app.aboutToQuit.connect(self._job.shutdown)
        self._show_result()

    # ----- building -------------------------------------------------------------------------

    def _build_buttons(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self._compute_button = push_button(
            "Compute",
            "Descend from every start point of the grid "
            "(in the background: the window stays usable)",
            self.compute,
            default=True,
        )
        self._cancel_button = QPushButton("Cancel")
        self._cancel_button.setToolTip("Stop the computation")
        self._cancel_button.setEnabled(False)
        self._cancel_button.clicked.connect(self.cancel)
        self._progress = QProgressBar()
        self._progress.setRange(0, 1000)
        self._progress.setFormat("%p%")
        self._progress.setVisible(False)
        row.addWidget(self._compute_button)
        row.addWidget(self._cancel_button)
        row.addWidget(self._progress, 1)
        return row

    def _build_display(self) -> QGroupBox:
        box = QGroupBox("On the contour map")
        self._show_check = QCheckBox("Show the basin map")
        self._show_check.setChecked(True)
        self._show_check.setToolTip("Colour the contour map by basin (the contour lines stay)")
        self._show_check.toggled.connect(self._overlay.set_visible)
        self._opacity = QSlider(Qt.Orientation.Horizontal)
        self._opacity.setRange(0, 100)
        self._opacity.setValue(round(100 * DEFAULT_OPACITY))
        self._opacity.setToolTip("How strongly the basin colours cover the landscape's colours")
        self._opacity.valueChanged.connect(self._on_opacity_changed)
        self._save_button = push_button(
            "Save map as PNG…",
            "Write the basin map (without the landscape) as an image",
            self._on_save_clicked,
        )
        layout = QVBoxLayout(box)
        layout.addLayout(ends_row(self._show_check, self._save_button))
        opacity = QHBoxLayout()
        opacity.addWidget(QLabel("Opacity"))
        opacity.addWidget(self._opacity, 1)
        layout.addLayout(opacity)
        return box

    def _build_table(self) -> QTableView:
        self._minima = MinimaTableModel(self)
        table = fitted_table(self._minima)
        table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        table.setToolTip("Each minimum the descents ended in, where it is, f there, and the "
                         "share of all start points that ended in it")
        return table

    # ----- public API -----------------------------------------------------------------------

    def compute(self) -> bool:
        """Start computing the map with these settings; False (and a message) if it cannot."""
        parts = self._parts
        target, grid = parts.document.target(), parts.document.grid
        if target is None or grid is None or not parts.runner.worker.is_ready:
            self._say("The engine (torch) is still loading: try again in a moment.")
            return False
        settings = self.run_settings()
        scipy = is_scipy_method(settings.optimizer)
        spec = None if scipy else get_spec(settings.optimizer)
        if spec is not None and not spec.elementwise:
            self._say(f"{spec.label} cannot run a grid of starts as one batch (its steps couple "
                      "all coordinates): choose another optimiser in the controls.")
            return False
        known = _known_of(parts.document)
        request = BasinRequest(
            expression=target,  # f, or a model's full-data loss (its objective is batched)
            domain=grid.domain,
            settings=settings,
            n=self._form.grid_size(),
            known_minima=known[1] if known is not None else None,
        )
        self._request, self._shown = request, _showing(parts.document)
        self._started = time.perf_counter()
        self._job.start(request)
        self._set_busy(True)
        n = request.n
        each = (f"one {label(settings.optimizer)} minimize each (at most {settings.steps} "
                "iterations), one start at a time" if scipy
                else f"at most {settings.steps} steps each")
        self._say(f"Descending from {n} {TIMES} {n} = {n * n} start points, {each}…"
                  f"{full_batch_note(parts.document)}")
        return True

    def cancel(self) -> None:
        """Stop a map that is computing (returns at once; the thread ends within moments)."""
        if self._job.cancel():
            self._say("Cancelled. The map shown (if any) is the previous one.")
        self._request = None
        self._set_busy(False)

    def shutdown(self) -> None:
        """Cancel and wait for the computing threads (the window is closing)."""
        self._job.shutdown()
        self._request = None
        self._set_busy(False)

    def is_running(self) -> bool:
        """True while a map computes."""
        return self._job.running

    def job(self) -> BasinJob:
        """The background job (for tests)."""
        return self._job

    def shown_map(self) -> BasinMap | None:
        """The map shown now (None before the first one, or after the function changed)."""
        return self._result

    def overlay(self) -> BasinOverlay:
        """The layer on the contour map."""
        return self._overlay

    def opacity_slider(self) -> QSlider:
        """The layer's opacity slider, 0 to 100."""
        return self._opacity

    def show_check_box(self) -> QCheckBox:
        """'Show the basin map'."""
        return self._show_check

    def table(self) -> QTableView:
        """The table of minima, diverged and unfinished starts."""
        return self._table

    def status_text(self) -> str:
        """The line under the buttons."""
        return self._status.text()

    def summary_text(self) -> str:
        """The summary under the table, as plain text."""
        return _plain(self._summary.text())

    def set_grid_size(self, n: int) -> None:
        """Start points per side of the next map."""
        self._form.set_grid_size(n)

    def set_lr(self, lr: float) -> None:
        """The learning rate of the next map (it no longer follows the controls)."""
        self._form.set_lr(lr)

    def set_steps(self, steps: int) -> None:
        """The max steps of the next map (they no longer follow the controls)."""
        self._form.set_steps(steps)

    def run_settings(self) -> RunSettings:
        """The controls' optimiser settings with this tool's learning rate and max steps."""
        return self._form.run_settings()

    def save_png(self, path: str) -> bool:
        """Write the map as a PNG (as `basin --png` does); on failure show a dialog."""
        from explorer.io.atomic import ExportError
        from explorer.io.png import write_png

        if self._result is None:
            self._parts.notifier.error("Save basin map", "There is no basin map yet: press "
                                    "Compute first.")
            return False
        try:
            write_png(path, basin_image(self._result))
        except (ExportError, OSError) as error:
            self._parts.notifier.error("Save basin map failed",
                                    f"{error}\n\nNothing was written: choose another folder.")
            return False
        self._say(f"Saved the basin map to {path}.")
        self._parts.notifier.status(f"Saved the basin map to {path}", 8000)
        return True

    # ----- slots ----------------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:  # Qt's name
        """Refresh the optimiser line when the tool opens."""
        self._form.update_optimizer_label()
        super().showEvent(event)

    def _on_progressed(self, fraction: float, phase: str) -> None:
        self._progress.setValue(round(1000 * fraction))
        if phase == "minima":
            self._say("Grouping the end points into minima (refining each one)…")

    def _on_job_finished(self, result: BasinMap) -> None:
        request, self._request = self._request, None
        self._set_busy(False)
        grid = self._parts.document.grid
        if (request is None or _showing(self._parts.document) is not self._shown or grid is None
                or tuple(grid.domain) != tuple(request.domain)):
            return  # the function changed meanwhile: this map belongs to the old one
        self._result = result
        self._overlay.set_map(result)
        self._show_result()
        seconds = time.perf_counter() - self._started
        self._say(f"Done: {result.n} {TIMES} {result.n} start points, {result.steps_run} steps, in "
                  f"{seconds:.1f} s.")

    def _on_job_failed(self, message: str) -> None:
        self._request = None
        self._set_busy(False)
        self._say(f"The map could not be computed: {message}")

    def _on_job_cancelled(self) -> None:
        self._request = None
        self._set_busy(False)
        self._say("Cancelled.")

    def _on_function_applied(self, _expression: Expression, _domain: object) -> None:
        self.landscape_changed()

    def landscape_changed(self) -> None:
        """A new function, domain or model: its map (or the one computing) is the old one's."""
        was_running = self._job.cancel()
        self._request = None
        self._set_busy(False)
        if self._result is None and not was_running:
            return
        self._result = None
        self._overlay.set_map(None)
        self._show_result()
        self._say("The function or domain changed" + (
            ": the map being computed was cancelled." if was_running else
            ": the old map was removed.") + " Press Compute for a new one.")

    def _on_opacity_changed(self, value: int) -> None:
        self._overlay.set_opacity(value / 100.0)

    def _on_save_clicked(self) -> None:
        if self._result is None:
            self._say("There is no basin map yet: press Compute first.")
            return
        start = str(Path.home() / "basins.png")
        path, _ = QFileDialog.getSaveFileName(self, "Save basin map", start,
                                              "PNG images (*.png)")
        if path:
            self.save_png(path)

    # ----- helpers --------------------------------------------------------------------------

    def _set_busy(self, busy: bool) -> None:
        self._compute_button.setEnabled(not busy)
        self._cancel_button.setEnabled(busy)
        self._progress.setVisible(busy)
        self._progress.setValue(0)

    def _say(self, text: str) -> None:
        self._status.setText(text)

    def _show_result(self) -> None:
        """Fill the table and the summary from the map shown (empty without one)."""
        result = self._result
        self._minima.show_map(result)
        self._save_button.setEnabled(result is not None)
        if result is None:
            self._summary.setText(
                "<i>No map yet.</i> The table will list each minimum found: its number and "
                "colour on the map, where it is, f there, and the share of start points that "
                "ended there.")
            return
        self._summary.setText(_summary_html(result, _known_of(self._parts.document)))


def _summary_html(result: BasinMap, known: tuple[str, tuple[Minimum, ...]] | None) -> str:
    """The summary under the table: the global share, the minima, the known one, the rest."""
    minima = result.minima
    parts = []
    if not minima:
        parts.append("<b>No start point reached an isolated minimum.</b>")
    else:
        lowest = min(m.f for m in minima)
        parts.append(
            f"<b>Share of start points that reached a global minimum (the lowest f found, "
            f"f = {value_text(lowest)}): {100 * result.global_share:.1f}%</b>")
        globals_ = [str(i + 1) for i, m in enumerate(minima) if m.is_global]
        count = len(minima)
        found = f"{count} minim{'um' if count == 1 else 'a'} found"
        if count == 1:
            parts.append(f"{found}: minimum 1 (★).")
        elif len(globals_) == 1:
            rest = "s are local minima" if count > 2 else " is a local minimum"
            parts.append(f"{found}: minimum {globals_[0]} (★) has the lowest f; the "
                         f"other{rest}, higher up.")
        else:
            parts.append(f"{found}: minima {', '.join(globals_)} (★) share the lowest f.")
    if result.matches_known is True and known is not None:
        parts.append(f"✔ This is {known[0]}.")
    elif result.matches_known is False and known is not None:
        where = ", ".join(f"({m.x:.4g}, {m.y:.4g})" for m in known[1])
        parts.append(f"✘ The lowest found is <b>not</b> {known[0]}, at {where}: no start "
                     "point reached it with these settings and this domain.")
    parts.append(
        f"Diverged (flew off or became undefined): {100 * result.diverged_share:.1f}%. "
        f"Unfinished (no minimum within {result.settings.steps} steps): "
        f"{100 * result.unfinished_share:.1f}%.")
    if result.plateau_count:
        parts.append(
            "On a plateau (f is flat where they ended: constant around the end point, or along "
            f"a valley floor, so no isolated minimum): {100 * result.plateau_share:.1f}%.")
    if result.diverged_share >= 0.25:
        parts.append("<i>Tip: many start points diverged: the learning rate may be too "
                     "large for the steep parts of f.</i>")
    elif result.unfinished_share >= 0.25:
        parts.append("<i>Tip: many start points did not settle: try more steps, or a smaller "
                     "learning rate if they bounce around a minimum.</i>")
    return "<br>".join(parts)


def _known_of(document: Document) -> tuple[str, tuple[Minimum, ...]] | None:
    """What the map is measured against, in words, and its minima: a preset's known global
    minimum, or a linear model's least-squares fit; None when none is known."""
    minima = landscape_minima(document.landscape)
    if not minima:
        return None
    expression = document.expression
    if expression is None:
        return "the least-squares fit (numpy.linalg.lstsq)", minima
    text = expression.text.strip()
    preset = next((p for p in presets() if p.formula.strip() == text), None)
    label = preset.label if preset is not None else "this"
    return f"the known global minimum of the {label} preset", minima


def _showing(document: Document) -> object:
    """What is on screen, by identity: the function's expression, or the model's landscape."""
    return document.expression if document.expression is not None else document.landscape


def _plain(html: str) -> str:
    from PySide6.QtGui import QTextDocument

    document = QTextDocument()
    document.setHtml(html)
    return document.toPlainText()
