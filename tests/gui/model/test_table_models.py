"""The table models: Qt's model contract, and changes reported cell by cell."""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from explorer.core.basin import DIVERGED, UNFINISHED, BasinMap, BasinMinimum, label_colour
from explorer.core.race import Lap, RaceEntry, Standing
from explorer.core.trajectory import RunSettings, Status
from explorer.gui.model.leaderboard_table import LeaderboardTableModel
from explorer.gui.model.minima_table import SHARE_HEADER, MinimaTableModel
from explorer.gui.model.run_table import COLUMNS, RunTableModel
from explorer.gui.model.shown import ShownTrajectory
from explorer.gui.model.text_table import TableRow, TextTableModel
from explorer.gui.panels.runs_panel import RunsPanel

USER = Qt.ItemDataRole.UserRole
TIP = Qt.ItemDataRole.ToolTipRole
ICON = Qt.ItemDataRole.DecorationRole


def shown(path_id: int, optimizer: str = "momentum") -> ShownTrajectory:
    """A trajectory with no rows yet."""
    return ShownTrajectory(path_id, run_id=1, column=path_id, color=(230, 159, 0),
                           start=(0.5, -1.0), settings=RunSettings(optimizer=optimizer, lr=0.01),
                           function="x^2 + y^2", start_f=1.25)


def reveal(record: ShownTrajectory, f: float) -> None:
    """Receive and show one more row, at f."""
    record.append(np.array([[0.25, -0.5]]), np.array([f]), np.array([[0.3, 0.4]]))
    record.shown = record.received


class Recorder:
    """The model's change signals, in order, as (name, first, last) tuples."""

    def __init__(self, model: TextTableModel) -> None:
        self.seen: list[tuple[str, tuple[int, int], tuple[int, int]]] = []
        model.dataChanged.connect(lambda a, b, _roles=(): self.seen.append(
            ("changed", (a.row(), a.column()), (b.row(), b.column()))))
        model.rowsInserted.connect(lambda _p, a, b: self.seen.append(("inserted", (a, 0), (b, 0))))
        model.rowsRemoved.connect(lambda _p, a, b: self.seen.append(("removed", (a, 0), (b, 0))))
        model.modelReset.connect(lambda: self.seen.append(("reset", (0, 0), (0, 0))))


def test_text_table_keeps_the_model_contract_through_every_change(
    qapp: QApplication, qtmodeltester: ModelTester,
) -> None:
    model = TextTableModel(("a", "b"), header_tips=("the a",), right_aligned=(1,), text_tips=(1,))
    qtmodeltester.check(model)
    model.set_rows([TableRow(("1", "x"), key=7, color=(1, 2, 3), tip="one"),
                    TableRow(("2", "y"), key=8)])
    assert model.data(model.index(0, 0), USER) == 7
    assert model.data(model.index(0, 0), TIP) == "one"
    assert model.data(model.index(0, 1), TIP) == "x"
    assert model.data(model.index(1, 0), TIP) is None
    assert model.data(model.index(0, 0), ICON) is not None
    assert model.data(model.index(1, 0), ICON) is None
    assert model.headerData(0, Qt.Orientation.Horizontal, TIP) == "the a"
    assert model.headerData(1, Qt.Orientation.Horizontal, TIP) is None
    qtmodeltester.check(model)
    recorder = Recorder(model)
    model.set_rows([TableRow(("1", "z"), key=7, color=(1, 2, 3), tip="one")])
    assert recorder.seen == [("removed", (1, 0), (1, 0)), ("changed", (0, 1), (0, 1))]
    qtmodeltester.check(model)
    model.clear()
    assert model.rowCount() == 0
    qtmodeltester.check(model)


def test_run_table_reports_only_the_cells_that_changed(
    qapp: QApplication, qtmodeltester: ModelTester,
) -> None:
    model = RunTableModel()
    qtmodeltester.check(model)
    records = [shown(i) for i in range(10, 16)]
    recorder = Recorder(model)
    model.add(records)
    assert recorder.seen == [("inserted", (0, 0), (5, 0))]
    assert model.path_ids() == [10, 11, 12, 13, 14, 15]
    # Evals stays empty for a torch run until its path is shown whole.
    assert model.texts_of(12) == ("12", "(0.5, -1)", "SGD with momentum, lr 0.01", "0", "1.25",
                                  "", "", "waiting for the engine", "")
    assert model.data(model.index(0, 0), USER) == 10
    assert model.data(model.index(0, 2), TIP) == "SGD with momentum, lr 0.01"
    assert model.data(model.index(0, 1), TIP) is None
    qtmodeltester.check(model)

    recorder.seen.clear()
    assert not model.refresh(records[2])  # nothing new: no signal
    reveal(records[2], 0.5)
    assert model.refresh(records[2])
    # Steps stays 0 (one row is the start): f, |grad f| and the status change (one span).
    assert recorder.seen == [("changed", (2, 4), (2, 7))]
    assert model.texts_of(12)[4:] == ("0.5", "0.5", "", "running", "")
    assert not model.refresh(shown(99))  # no row: nothing happens

    recorder.seen.clear()
    model.remove([11, 12, 14, 77])
    # Bottom up, a run of adjacent rows in one removal.
    assert recorder.seen == [("removed", (4, 0), (4, 0)), ("removed", (1, 0), (2, 0))]
    assert model.path_ids() == [10, 13, 15]
    assert model.row_of(15) == 2 and model.row_of(12) is None
    reveal(records[5], 2.0)
    model.refresh(records[5])
    assert model.texts_of(15)[4] == "2"
    qtmodeltester.check(model)
    model.clear()
    assert model.path_ids() == [] and model.row_of(10) is None


def test_thousands_of_runs_come_in_one_insertion_and_go_in_one_removal() -> None:
    model = RunTableModel()
    recorder = Recorder(model)
    model.add([shown(i) for i in range(3000)])
    model.remove(list(range(1000, 2500)))
    assert recorder.seen == [("inserted", (0, 0), (2999, 0)), ("removed", (1000, 0), (2499, 0))]
    assert model.rowCount() == 1500 and model.row_of(2500) == 1000


def test_runs_panel_selects_highlights_and_fits_its_columns(qtbot: QtBot) -> None:
    panel = RunsPanel()
    qtbot.addWidget(panel)
    panel.resize(900, 300)
    panel.show()
    records = [shown(1), shown(2, "sgd"), shown(3)]
    panel.add_trajectories(records)
    table = panel.table()
    header = table.horizontalHeader()
    assert [header.model().headerData(c, Qt.Orientation.Horizontal)
            for c in range(len(COLUMNS))] == list(COLUMNS)

    def fits(row: int, column: int) -> bool:
        return header.sectionSize(column) >= table.sizeHintForIndex(
            panel.model().index(row, column)).width()

    # "SGD with momentum, lr 0.01" is not cut, nor the swatch beside the id (the columns fit
    # once per event-loop turn).
    qtbot.waitUntil(lambda: all(fits(0, column) for column in range(len(COLUMNS) - 1)))
    reveal(records[1], -1.2345e-300)
    panel.update_trajectory(records[1])
    assert panel.row_texts(2)[4] == "-1.23e-300"
    qtbot.waitUntil(lambda: fits(1, 4))  # the column grew with its text

    with qtbot.waitSignal(panel.highlight_requested) as blocker:
        panel.select(2)
    assert blocker.args == [2] and panel.selected_ids() == [2]
    with qtbot.waitSignal(panel.highlight_requested) as blocker:
        panel.remove_trajectories([2])
    assert blocker.args == [None] and panel.path_ids() == [1, 3]
    panel.select(1)
    with qtbot.waitSignal(panel.highlight_requested) as blocker:
        panel.select(None)
    assert blocker.args == [None]
    with qtbot.assertNotEmitted(panel.highlight_requested):
        panel.select(None)  # nothing was selected: nothing changes
    panel.select(3)
    with qtbot.waitSignal(panel.highlight_requested) as blocker:
        panel.clear()
    assert blocker.args == [None] and panel.path_ids() == [] and panel.selected_ids() == []


def test_runs_panel_fits_rows_scrolled_into_view(qtbot: QtBot) -> None:
    panel = RunsPanel()
    qtbot.addWidget(panel)
    panel.resize(600, 200)
    panel.show()
    # Short ids on screen, a long one far below: it is measured once it scrolls into view.
    panel.add_trajectories([shown(i) for i in range(300)] + [shown(123_456_789_012)])
    table, model = panel.table(), panel.model()
    last = model.index(300, 0)
    qtbot.waitUntil(lambda: table.columnWidth(0) >= table.sizeHintForIndex(model.index(0, 0))
                    .width())
    assert table.columnWidth(0) < table.sizeHintForIndex(last).width()
    table.scrollToBottom()
    qtbot.waitUntil(lambda: table.columnWidth(0) >= table.sizeHintForIndex(last).width())


def basin_result() -> BasinMap:
    """A 4 x 4 map by hand: two minima, two diverged starts, one unfinished."""
    labels = np.array([[0, 0, 0, 1], [0, 0, 1, 1], [0, 1, 1, DIVERGED],
                       [0, 1, DIVERGED, UNFINISHED]], dtype=np.int64)
    xs = np.linspace(-1.0, 1.0, 4)
    minima = (BasinMinimum(0.0, 0.0, 1e-15, 8, 0.5, True),
              BasinMinimum(1.5, -0.25, 2.5, 5, 5 / 16, False))
    return BasinMap(xs=xs, ys=xs, labels=labels, ends=np.zeros((4, 4, 2)), minima=minima,
                    global_share=0.5, diverged_share=2 / 16, unfinished_share=1 / 16,
                    matches_known=None, domain=(-1.0, 1.0, -1.0, 1.0),
                    settings=RunSettings(steps=50), steps_run=50, device="cpu")


def test_minima_table_lists_minima_then_diverged_and_unfinished(
    qapp: QApplication, qtmodeltester: ModelTester,
) -> None:
    model = MinimaTableModel()
    qtmodeltester.check(model)
    model.show_map(basin_result())
    assert model.headerData(4, Qt.Orientation.Horizontal) == SHARE_HEADER
    assert "global minimum" in model.headerData(0, Qt.Orientation.Horizontal, TIP)
    rows = [[model.text(row, c) for c in range(5)] for row in range(model.rowCount())]
    assert rows == [
        ["1 ★", "0.000000", "0.000000", "0", "50.0%  (8 of 16)"],
        ["2", "1.500000", "-0.250000", "2.500000", "31.2%  (5 of 16)"],
        ["diverged", "", "", "", "12.5%  (2 of 16)"],
        ["unfinished", "", "", "", "6.2%  (1 of 16)"],
    ]
    assert [model.data(model.index(r, 0), USER) for r in range(4)] == [0, 1, DIVERGED, UNFINISHED]
    assert [model.row(r).color for r in range(4)] == [label_colour(x)
                                                       for x in (0, 1, DIVERGED, UNFINISHED)]
    assert model.data(model.index(2, 0), TIP).startswith("Black on the map")
    assert model.data(model.index(1, 0), TIP) == (
        "Minimum 2, a local minimum: 5 start points ended here")
    assert model.data(model.index(1, 3), Qt.ItemDataRole.TextAlignmentRole) == (
        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    qtmodeltester.check(model)
    model.show_map(None)
    assert model.rowCount() == 0


def standing(optimizer: str, f: float, steps: int | None) -> Standing:
    """An entry with two laps that both ended at f."""
    laps = tuple(Lap((0.0, 0.0), (1.0, 1.0), f, 40, steps, None,
                     Status.CONVERGED if math.isfinite(f) else Status.DIVERGED)
                 for _ in range(2))
    return Standing(RaceEntry(optimizer, 0.1), laps)


def test_leaderboard_shows_the_race_then_the_standings(
    qtmodeltester: ModelTester, qtbot: QtBot,
) -> None:
    model = LeaderboardTableModel()
    qtmodeltester.check(model)
    entries = [RaceEntry("sgd", 0.1), RaceEntry("adam", 0.1)]
    model.show_racing(entries, [(1, 2, 3), (4, 5, 6)])
    assert [model.text(r, 1) for r in range(2)] == [e.label for e in entries]
    assert model.text(0, 3) == "racing…"
    assert model.data(model.index(0, 1), ICON) is not None
    assert model.data(model.index(0, 0), ICON) is None
    qtmodeltester.check(model)

    standings = [standing("adam", 0.0, 12), standing("sgd", math.inf, None)]
    with qtbot.waitSignal(model.headerDataChanged):
        model.set_tolerance(1e-6)
    assert model.headerData(4, Qt.Orientation.Horizontal) == "steps to |∇f| ≤ 1e-6"
    model.show_standings(standings, {id(standings[0].entry): (9, 9, 9)}, has_minima=False)
    # Laps made without counts (evaluations None) show '-' in the evaluations column.
    assert [model.row(r).texts for r in range(2)] == [
        ("1", "Adam", "0.1", "0", "12", "no known minima", "-", "converged"),
        ("2", "SGD", "0.1", "diverged", "not reached", "no known minima", "-", "diverged"),
    ]
    assert [model.row(r).color for r in range(2)] == [(9, 9, 9), (128, 128, 128)]
    assert model.data(model.index(1, 5), TIP) == "no known minima"
    qtmodeltester.check(model)
    model.show_standings([], {}, has_minima=True)
    assert model.rowCount() == 0
