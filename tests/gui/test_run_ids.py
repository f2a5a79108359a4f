"""One id per run everywhere: the runs table, the CSV, the loss legend, the inspector, sessions."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from explorer.gui.main_window import MainWindow
from explorer.gui.model.colors import trajectory_color
from tests.gui.helpers import wait_idle

STARTS = [(1.0, 1.0), (-2.0, 2.0), (2.5, -1.5)]


def _csv_ids(path: Path) -> list[int]:
    """The `trajectory` column's values, each once, in file order."""
    with open(path, newline="") as stream:
        ids = [int(row["trajectory"]) for row in csv.DictReader(stream)]
    return list(dict.fromkeys(ids))


def _session_ids(path: Path) -> list[int]:
    data = json.loads(path.read_text())
    return [i for run in data["runs"] for i in run["ids"]]


def _start_each(qtbot: QtBot, window: MainWindow, starts: list[tuple[float, float]]) -> None:
    for start in starts:
        window.runner.start_runs([start])
    wait_idle(qtbot, window)


def test_ids_agree_in_table_csv_legend_inspector_and_session(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    _start_each(qtbot, window, STARTS)
    first = window.runs_panel.path_ids()
    assert first == list(range(1, len(STARTS) + 1))  # numbered from 1, in order
    window.runner.remove_paths([first[1]])  # remove #2
    _start_each(qtbot, window, [(0.5, 0.5)])
    ids = window.runs_panel.path_ids()
    # A removed id is never given again: the new run is #4, not #2.
    assert ids == [first[0], first[2], first[-1] + 1]
    for path_id in ids:
        assert window.runs_panel.row_texts(path_id)[0] == str(path_id)
        # The colour follows the id: #n has the n-th colour in every view.
        assert window.runner.store.paths[path_id].color == trajectory_color(path_id - 1)

    exported = tmp_path / "runs.csv"
    assert window.exporter.export_to(exported)
    assert _csv_ids(exported) == ids

    window.loss.flush()
    assert window.loss.legend_names() == [f"#{i}" for i in ids]

    window.runs_panel.select(ids[-1])
    titles = [label.text() for label in window.inspector.findChildren(QLabel)
              if label.text().startswith("Run #")]
    assert titles and titles[0].startswith(f"Run #{ids[-1]}:")

    saved = tmp_path / "ids.json"
    assert window.sessions.save_to(saved)
    assert _session_ids(saved) == ids
    assert json.loads(saved.read_text())["next_id"] == ids[-1] + 1

    # Reopened (after Clear all and a run that took #1 again): the same ids, and the count
    # goes on from the session's.
    window.controls.clear_requested.emit()
    _start_each(qtbot, window, [(0.0, 0.0)])
    assert window.sessions.open_from(saved)
    wait_idle(qtbot, window)
    assert window.runs_panel.path_ids() == ids
    window.loss.flush()
    assert window.loss.legend_names() == [f"#{i}" for i in ids]
    _start_each(qtbot, window, [(-1.0, -1.0)])
    assert window.runs_panel.path_ids() == [*ids, ids[-1] + 1]


def test_reset_keeps_counting_and_clear_all_starts_again_at_1(
    qtbot: QtBot, window: MainWindow
) -> None:
    _start_each(qtbot, window, STARTS[:2])
    before = window.runs_panel.path_ids()
    window.runner.reset()  # the paths go, their starts wait for Run
    window.runner.run_pending()
    wait_idle(qtbot, window)
    assert window.runs_panel.path_ids() == [before[-1] + 1, before[-1] + 2]

    window.controls.clear_requested.emit()  # Clear all
    assert window.runs_panel.path_ids() == []
    _start_each(qtbot, window, STARTS)
    assert window.runs_panel.path_ids() == list(range(1, len(STARTS) + 1))
    assert [p.color for p in window.runner.shown_trajectories()] == [
        trajectory_color(i) for i in range(len(STARTS))]


def test_a_session_without_paths_runs_them_again_under_their_ids(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    _start_each(qtbot, window, STARTS)
    window.runner.remove_paths([1])
    ids = window.runs_panel.path_ids()
    window.sessions.include_paths.setChecked(False)
    saved = tmp_path / "starts.json"
    assert window.sessions.save_to(saved)
    window.controls.clear_requested.emit()
    assert window.sessions.open_from(saved)
    wait_idle(qtbot, window)
    assert window.runs_panel.path_ids() == ids
    assert [p.start for p in window.runner.shown_trajectories()] == STARTS[1:]


def test_the_loss_legend_is_drawn_only_when_it_names_curves(
    qtbot: QtBot, window: MainWindow
) -> None:
    window.loss.flush()
    assert not window.loss.legend_shown()  # no empty box in the plot's corner
    _start_each(qtbot, window, STARTS[:1])
    window.loss.flush()
    assert window.loss.legend_shown() and window.loss.legend_names() == ["#1"]
    window.runner.clear()
    window.loss.flush()
    assert not window.loss.legend_shown()


def test_the_loss_legend_never_covers_more_than_its_share_of_a_narrow_plot(
    qtbot: QtBot, window: MainWindow
) -> None:
    _start_each(qtbot, window, [*STARTS, (0.5, 0.5), (-0.5, 0.5)])
    for width in (1400, 1024, 700):
        window.resize(width, 700)
        qtbot.waitUntil(lambda w=width: window.width() <= w + 1)
        window.loss.flush()

        def fits() -> bool:
            box = window.loss.plot_widget().getPlotItem().getViewBox().boundingRect()
            legend = window.loss.legend_box()
            return not window.loss.legend_shown() or (
                legend.width() <= 0.6 * box.width() + 1
                and legend.height() <= 0.5 * box.height() + 1)

        qtbot.waitUntil(fits)  # the view box's resize reaches the legend on the event loop
    window.resize(1400, 900)
    qtbot.waitUntil(lambda: window.loss.legend_shown())  # room again: it comes back


def test_the_runs_table_shows_why_a_path_diverged_whole(qtbot: QtBot, window: MainWindow) -> None:
    window.controls.set_lr(2.0)
    _start_each(qtbot, window, [(1.0, 1.0)])
    table = window.runs_panel.table()
    why = window.runs_panel.row_texts(1)[-1]
    assert why  # a reason, in the table itself
    column = table.model().columnCount() - 1
    qtbot.waitUntil(lambda: table.columnWidth(column) >= table.sizeHintForColumn(column) - 1)
