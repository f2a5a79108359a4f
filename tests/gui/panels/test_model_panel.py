"""The model panel starts each model on the bundled data made for it; a user's CSV stays."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QComboBox
from pytestqt.qtbot import QtBot

from explorer.core.models import MODELS
from explorer.gui.panels.model_panel import SUITED_DATA, ModelPanel
from explorer.io.dataset_csv import bundled_datasets


def test_each_model_gets_its_bundled_set_and_an_opened_csv_stays(
    qtbot: QtBot, tmp_path: Path
) -> None:
    bundled = bundled_datasets()
    assert set(SUITED_DATA) == set(MODELS) and set(SUITED_DATA.values()) <= set(bundled)
    panel = ModelPanel(bundled)
    qtbot.addWidget(panel)
    # A fresh panel: the first model on its own set (was: the first set by name).
    assert panel.data_path() == str(bundled[SUITED_DATA[panel.model_name()]])
    models = next(c for c in panel.findChildren(QComboBox) if c.findData("logistic") >= 0)
    for name in [*MODELS, *reversed(MODELS)]:
        models.setCurrentIndex(models.findData(name))  # the user picks only the model
        assert panel.model_name() == name
        assert panel.data_path() == str(bundled[SUITED_DATA[name]])
    own = tmp_path / "mine.csv"
    own.write_text("x,y\n1,2\n2,4\n")
    panel.select("linear", str(own))
    models.setCurrentIndex(models.findData("logistic"))
    assert panel.data_path() == str(own)  # the user's file is never swapped for a bundled one
