"""Help > Lesson: each step sets up the state it promises; Back, Next and Set up again; bad files;
the strip above the maps fits at both sizes."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from PySide6.QtCore import QSize
from PySide6.QtWidgets import QDockWidget, QTabBar, QWidget
from pytestqt.qtbot import QtBot

from explorer.core.expression import parse
from explorer.core.presets import get_preset
from explorer.core.trajectory import Status
from explorer.gui.main_window import MainWindow
from explorer.gui.panels.network_panel import NetworkFields
from explorer.gui.tools.basin_panel import BasinPanel
from explorer.gui.tools.race_panel import RacePanel
from explorer.gui.tools.sweep_panel import SweepPanel
from explorer.io.dataset_csv import network_datasets
from explorer.io.lesson import TUTORIAL_PATH, load_lesson
from tests.gui.elision import elided_texts
from tests.gui.helpers import wait_idle

pytestmark = pytest.mark.window(surface=False)


def _in_front(widget: QWidget | None) -> bool:
    return widget is not None and not widget.visibleRegion().isEmpty()


def _front_dock(window: MainWindow) -> str:
    """The title of the left docks' tab in front (Setup or Inspector)."""
    for bar in window.findChildren(QTabBar):
        titles = [bar.tabText(i) for i in range(bar.count())]
        if "Setup" in titles and "Inspector" in titles:
            return bar.tabText(bar.currentIndex())
    return ""


def _ends(window: MainWindow) -> list[tuple[float, float, float, Status]]:
    out = []
    for shown in window.session.trajectories():
        t = shown.trajectory()
        out.append((float(t.x[-1]), float(t.y[-1]), float(t.f[-1]), t.status))
    return out


def _f(formula: str, x: float, y: float) -> float:
    value = parse(formula).evaluate(torch.tensor(x, dtype=torch.float64),
                                    torch.tensor(y, dtype=torch.float64))
    return float(value)


def _open(qtbot: QtBot, window: MainWindow) -> None:
    window.menus.help.actions()[0].trigger()  # Help > Lesson…, the menu's first entry
    assert window.lesson.lesson is not None and window.lesson.index == 0
    wait_idle(qtbot, window)


def test_step_one_shows_the_tutorials_gradient_by_hand_and_by_autograd(
    qtbot: QtBot, window: MainWindow
) -> None:
    _open(qtbot, window)
    assert window.function.text() == "x*y + sin(pi*x)"
    dock = window.findChild(QDockWidget, "inspector_dock")
    qtbot.waitUntil(lambda: _in_front(dock))
    texts = window.inspector.texts()
    want = (3 + math.pi, 2.0)  # df/dx = y + pi*cos(pi*x), df/dy = x at (2, 3)
    for key, value in zip(("dfdx", "dfdy"), want, strict=True):
        assert float(texts[f"{key}_hand"]) == pytest.approx(value, rel=1e-5)
        assert float(texts[f"{key}_autograd"]) == pytest.approx(value, rel=1e-5)
    panel = window.lesson.panel
    assert panel is not None
    assert "step 1 of 6" in panel.title_text() and "(3 + pi, 2)" in panel.step_text()
    assert not panel.back_button.isEnabled() and panel.next_button.isEnabled()


def test_step_two_descends_and_climbs_from_one_start(qtbot: QtBot, window: MainWindow) -> None:
    _open(qtbot, window)
    assert window.lesson.go_to(1)
    wait_idle(qtbot, window)
    formula = load_lesson(TUTORIAL_PATH).steps[1].setup.function  # type: ignore[union-attr]
    (dx, dy, df, ds), (ax, ay, af, as_) = _ends(window)
    assert ds == as_ == Status.CONVERGED
    assert (dx, dy) == pytest.approx((3.0, 2.0), abs=1e-3) and df < 1e-6
    start = _f(formula, 1.0, 0.0)
    assert af > start > df  # the climb ends higher than it began, the descent lower
    # Where the climb stopped is a hill top: higher than every point around it.
    around = [_f(formula, ax + 0.01 * math.cos(t), ay + 0.01 * math.sin(t))
              for t in np.linspace(0, 2 * math.pi, 16, endpoint=False)]
    assert max(around) < af


def test_step_three_runs_below_at_and_above_two_over_lambda(qtbot: QtBot,
                                                            window: MainWindow) -> None:
    _open(qtbot, window)
    window.lesson.go_to(2)
    wait_idle(qtbot, window)
    statuses = [status for *_, status in _ends(window)]
    assert statuses == [Status.CONVERGED, Status.MAX_STEPS, Status.DIVERGED]
    sweep = window.findChild(SweepPanel)
    qtbot.waitUntil(lambda: _in_front(sweep))
    assert sweep is not None and sweep.start() == (-4.0, 2.0)


def test_step_four_ends_in_four_different_minima(qtbot: QtBot, window: MainWindow) -> None:
    _open(qtbot, window)
    window.lesson.go_to(3)
    wait_idle(qtbot, window)
    minima = [(m.x, m.y) for m in get_preset("himmelblau").minima]
    reached = set()
    for x, y, _, status in _ends(window):
        assert status == Status.CONVERGED
        distances = [math.hypot(x - mx, y - my) for mx, my in minima]
        assert min(distances) < 1e-3
        reached.add(int(np.argmin(distances)))
    assert reached == {0, 1, 2, 3}
    qtbot.waitUntil(lambda: _in_front(window.findChild(BasinPanel)))


def test_step_five_finds_the_global_minimum_only_from_the_middle(
    qtbot: QtBot, window: MainWindow
) -> None:
    _open(qtbot, window)
    window.lesson.go_to(4)
    wait_idle(qtbot, window)
    finals = [f for _, _, f, _ in _ends(window)]
    assert sum(f < 1e-6 for f in finals) == 1 and sorted(finals)[1] > 1.0
    qtbot.waitUntil(lambda: _in_front(window.findChild(RacePanel)))


def test_step_six_trains_the_network_to_the_edge_of_stability(qtbot: QtBot,
                                                              window: MainWindow) -> None:
    window.resize(1024, 700)  # the network's panel, last in the Setup column, is below the fold
    qtbot.waitUntil(lambda: window.size() == QSize(1024, 700))
    _open(qtbot, window)
    network = load_lesson(TUTORIAL_PATH).steps[5].setup.network  # type: ignore[union-attr]
    assert network is not None
    mode = window.network_mode
    assert _front_dock(window) == "Inspector"  # as step 1 left it
    with qtbot.waitSignal(mode.shown, timeout=300_000):
        assert window.lesson.go_to(5)
        # It trains at once, the panel and the controls set as the step says: the headline
        # network (spirals, 2-32-32-1 tanh, mse, SGD at lr 0.1, the sharpness every 25 steps).
        assert mode.running
        assert mode.panel.fields() == NetworkFields(
            str(network_datasets()["spirals"]), "32,32", "tanh", "mse",
            str(network.settings.steps), 25, network.directions, network.grid, 0)
        settings = window.controls.run_settings()
        assert (settings.optimizer, settings.lr, settings.params) == ("sgd", 0.1, ())
        # The Sharpness tab is in front from the start, filling as the network trains.
        assert mode.sharpness_view.isVisible()  # the current page of its tabs
        # The Setup dock in front of the Inspector step 1 raised: the network's panel, with
        # its progress, Pause and Step.
        assert _front_dock(window) == "Setup" and mode.panel.isVisible()
        qtbot.waitUntil(lambda: not mode.panel.train_button().visibleRegion().isEmpty())
    wait_idle(qtbot, window)
    result = mode.result
    assert result is not None and mode.active
    assert window.document.landscape is mode.landscape
    assert result.request.settings.lr == 0.1 and result.run.status == "done"
    assert result.run.steps == network.settings.steps
    # The Sharpness tab: the series measured, and the dashed line at 2/lr.
    two_over_lr = 2.0 / result.request.settings.lr
    assert mode.sharpness_view.edge_heights() == [two_over_lr]
    assert mode.sharpness_view.isVisible()  # still in front once trained: the student watched it
    steps, values = mode.sharpness_view.series()
    np.testing.assert_array_equal(steps, result.run.sharpness[:, 0])
    np.testing.assert_array_equal(values, result.run.sharpness[:, 1])
    np.testing.assert_array_equal(steps, np.arange(0, network.settings.steps, 25))
    # What the text promises: it starts well below 2/lr, reaches it, and hovers there in the
    # last quarter of the training.
    assert values[0] < 0.5 * two_over_lr and values.max() >= two_over_lr
    last = values[steps >= 0.75 * network.settings.steps]
    assert abs(float(np.median(last)) - two_over_lr) <= 0.1 * two_over_lr
    # The data over the network's decision regions.
    assert mode.decision_view.point_count() == result.request.data.n


def test_leave_to_explore_and_come_back(qtbot: QtBot, window: MainWindow) -> None:
    _open(qtbot, window)
    window.lesson.go_to(2)
    wait_idle(qtbot, window)
    before = [(x, y) for x, y, *_ in _ends(window)]
    window.function.set_function("x**2 + y**2", (-1.0, 1.0, -1.0, 1.0))
    assert window.function.apply()
    assert window.session.trajectories() == []
    panel = window.lesson.panel
    assert panel is not None
    panel.again_button.click()  # Set up again
    wait_idle(qtbot, window)
    assert window.function.text() == "x**2 + 10*y**2"
    assert [(x, y) for x, y, *_ in _ends(window)] == before
    panel.next_button.click()
    panel.next_button.click()
    panel.next_button.click()  # the last step: a network trains
    assert window.lesson.index == 5 and not panel.next_button.isEnabled()
    assert panel.again_button.isEnabled() and window.network_mode.running
    panel.back_button.click()
    assert window.lesson.index == 4
    # Step 5's function and runs: the network still training is dropped.
    qtbot.waitUntil(lambda: not window.network_mode.running, timeout=60_000)
    wait_idle(qtbot, window)
    assert window.network_mode.result is None and len(_ends(window)) == 4


def test_a_bad_lesson_file_is_said_and_the_open_lesson_stays(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    _open(qtbot, window)
    data = json.loads(TUTORIAL_PATH.read_text(encoding="utf-8"))
    data["steps"][1]["setup"]["runs"][0]["settings"]["lr"] = "fast"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data), encoding="utf-8")
    assert not window.lesson.open_file(bad)
    qtbot.waitUntil(lambda: window.error_box() is not None)
    text = window.error_box().text()  # type: ignore[union-attr]
    assert "bad.json" in text and "steps[1].setup" in text and "lr" in text
    assert window.lesson.index == 0 and window.function.text() == "x*y + sin(pi*x)"


def test_a_tutors_own_lesson_opens(qtbot: QtBot, window: MainWindow, tmp_path: Path) -> None:
    own = {"format": "gradient-descent-explorer-lesson", "version": 1, "title": "Saddles",
           "steps": [{"title": "A saddle", "text": "Gradient descent slows near a saddle.",
                      "setup": {"function": "x**2 - y**2", "domain": [-2, 2, -2, 2],
                                "pending": [[1.5, 0.01]]}}]}
    path = tmp_path / "saddle.json"
    path.write_text(json.dumps(own), encoding="utf-8")
    assert window.lesson.open_file(path)
    assert window.function.text() == "x**2 - y**2"
    assert window.runner.store.pending == [(1.5, 0.01)]


@pytest.mark.parametrize("size", [(1400, 900), (1024, 700)])
def test_the_lesson_strip_fits_above_the_map(qtbot: QtBot, window: MainWindow,
                                             size: tuple[int, int]) -> None:
    window.resize(*size)
    qtbot.waitUntil(lambda: window.size() == QSize(*size))
    _open(qtbot, window)
    for index in range(6):
        window.lesson.go_to(index)
        wait_idle(qtbot, window)
        dock = window.findChild(QDockWidget, "lesson_dock")
        assert dock is not None and dock.isVisible()
        contour = window.contour.plot_widget()
        # The strip is above the map, not over it.
        strip = dock.mapTo(window, dock.rect().bottomLeft()).y()
        assert strip <= contour.mapTo(window, contour.rect().topLeft()).y()
        assert contour.height() > size[1] // 3
        # The runs table sizes its columns once the rows' numbers are final: give the layout
        # its turn, then nothing may be cut.
        qtbot.waitUntil(lambda: elided_texts(window) == [], timeout=5_000)
