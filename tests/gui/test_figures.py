"""Figures: every named plot saves as SVG (valid XML with the path, the axis labels and the colour
bar) and PNG, from File > Export figure… and from its right-click menu; bad paths are said."""

from __future__ import annotations

import os
import re
import stat
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF
from PySide6.QtGui import QImage
from pytestqt.qtbot import QtBot

from explorer.gui.figures import figure_bytes, save_figure
from explorer.gui.main_window import MainWindow
from explorer.gui.views.figure_names import figure_name
from explorer.io.atomic import ExportError
from tests.gui.helpers import wait_idle

pytestmark = pytest.mark.window(surface=False)
SVG = "{http://www.w3.org/2000/svg}"


def _paths(root: ET.Element) -> list[np.ndarray]:
    """Every SVG path's vertices (M and L commands only) as (k, 2) arrays."""
    out = []
    for element in root.iter(f"{SVG}path"):
        d = element.get("d", "")
        if "C" in d:
            continue  # a marker's circle
        pairs = re.findall(r"[ML]\s*([-0-9.e]+),([-0-9.e]+)", d)
        if pairs:
            out.append(np.array(pairs, dtype=float))
    return out


def test_the_contour_map_as_svg_holds_the_path_the_labels_and_the_colour_bar(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    window.runner.start_runs([(0.0, 0.0)])
    wait_idle(qtbot, window)
    trajectory = window.session.trajectories()[0].trajectory()
    plot = window.contour.plot_widget()
    target = tmp_path / "map.svg"
    save_figure(plot, target)
    root = ET.parse(target).getroot()  # parses as XML
    texts = {(e.text or "").strip() for e in root.iter(f"{SVG}text")}
    assert {"x", "y", "f(x, y)"} <= texts  # both axis labels and the colour bar's
    assert len(list(root.iter(f"{SVG}image"))) >= 2  # the map and the colour bar's gradient
    # The path's vertices are the trajectory's points, where the plot draws them.
    box = plot.getPlotItem().getViewBox()
    want = np.array([[p.x(), p.y()] for p in (box.mapViewToScene(QPointF(x, y))
                                              for x, y in zip(trajectory.x, trajectory.y,
                                                              strict=True))])
    matches = [p for p in _paths(root) if p.shape == want.shape
               and np.allclose(p, want, atol=0.01)]
    assert matches, "no SVG path follows the trajectory"


def test_png_is_the_plot_at_its_size(window: MainWindow, tmp_path: Path) -> None:
    plot = window.loss.plot_widget()
    target = tmp_path / "loss.PNG"
    save_figure(plot, target)
    image = QImage(str(target))
    assert not image.isNull()
    assert abs(image.width() - plot.viewport().width()) <= 2
    assert abs(image.height() - plot.viewport().height()) <= 2


@pytest.mark.parametrize("name", ["plot.jpg", "plot", "plot.svg.txt"])
def test_unknown_extensions_are_refused_and_nothing_is_written(
    window: MainWindow, tmp_path: Path, name: str
) -> None:
    with pytest.raises(ExportError, match=r"\.svg or \.png"):
        save_figure(window.contour.plot_widget(), tmp_path / name)
    assert list(tmp_path.iterdir()) == []


def test_an_unwritable_place_is_said_in_the_window(qtbot: QtBot, window: MainWindow,
                                                   tmp_path: Path) -> None:
    window.figures.ask_path = lambda plot, suggested: str(tmp_path / "missing" / "map.svg")
    assert not window.figures.export_interactively(window.contour.plot_widget())
    qtbot.waitUntil(lambda: window.error_box() is not None)
    assert "missing" in window.error_box().text()  # type: ignore[union-attr]
    for device in ("/dev/full", "/dev/null"):
        window.figures.ask_path = lambda plot, suggested, d=device: d  # type: ignore[misc]
        assert not window.figures.export_interactively(window.contour.plot_widget())
        assert stat.S_ISCHR(os.stat(device).st_mode)  # the device is still a device


def test_file_export_figure_lists_the_plots_on_screen_and_saves_the_chosen_one(
    window: MainWindow, tmp_path: Path
) -> None:
    names = [name for name, _ in window.figures.available()]
    assert "Contour map" in names and "Loss" in names
    assert "Data" not in names  # the data tab is not in front
    sweep = window.lab.show_sweep()
    names = [name for name, _ in window.figures.available()]
    assert {figure_name(p) for p in sweep.plots()} <= set(names)
    asked: list[str] = []

    def answer(plot: object, suggested: str) -> str:
        asked.append(suggested)
        return str(tmp_path / "chosen.svg")

    window.figures.ask_path = answer
    assert window.figures.export_interactively(window.loss.plot_widget())
    assert asked and asked[0].endswith("loss.svg")
    ET.parse(tmp_path / "chosen.svg")
    # The next dialog opens in the folder used last.
    window.figures.export_interactively(window.loss.plot_widget())
    assert Path(asked[1]).parent == tmp_path


def test_a_right_click_on_a_plot_offers_to_export_it(qtbot: QtBot, window: MainWindow) -> None:
    plot = window.contour.plot_widget()
    plot.viewport().customContextMenuRequested.emit(QPoint(20, 20))
    menu = window.figures.last_menu
    assert [a.text() for a in menu.actions()] == ["Export Contour map as SVG or PNG…"]
    menu.close()


def test_every_plot_of_the_window_is_named(window: MainWindow) -> None:
    for plot in (window.contour.plot_widget(), window.loss.plot_widget(),
                 window.model_mode.data_view.plot_widget(), *window.lab.show_sweep().plots()):
        assert figure_name(plot)
        assert figure_bytes(plot, ".svg").startswith(b"<?xml")
