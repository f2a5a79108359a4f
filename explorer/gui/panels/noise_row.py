"""The gradient-noise row of the controls: a noise scale (0 = off) and its seed."""

from __future__ import annotations

import math

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSpinBox, QWidget

from explorer.gui.panels.number_fields import SciSpinBox


class NoiseRow(QWidget):
    """Noise scale (0 = off) and seed: a stand-in for the jitter of minibatch gradients."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        tip = (
            "Adds seeded Gaussian noise of this standard deviation to every gradient before the "
            "step,\nthe way a minibatch gradient scatters around the full gradient. 0 = off."
        )
        self._noise = SciSpinBox(0.0, 1e3, log=False)
        self._noise.setSingleStep(0.1)
        self._noise.setValue(0.0)
        self._noise.setSpecialValueText("off")
        self._noise.setToolTip(tip)
        self._noise.valueChanged.connect(self._on_noise_changed)
        self._seed = QSpinBox()
        self._seed.setRange(0, 2**31 - 1)
        self._seed.setToolTip(
            "Seed of the noise: the same seed gives exactly the same noisy run again"
        )
        self._seed.valueChanged.connect(self.changed)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._noise, 1)
        self._seed_label = QLabel("seed")
        self._seed_label.setToolTip(self._seed.toolTip())
        layout.addWidget(self._seed_label)
        layout.addWidget(self._seed)
        self.setToolTip(tip)
        self._show_seed()

    def scale(self) -> float:
        """The noise's standard deviation; 0: off."""
        return float(self._noise.value())

    def seed(self) -> int:
        """The noise's seed."""
        return int(self._seed.value())

    def set_noise(self, scale: float, seed: int) -> None:
        """Set the noise scale (0 = off; a non-finite one is ignored) and its seed."""
        if math.isfinite(scale):
            self._noise.setValue(max(float(scale), 0.0))
        self._seed.setValue(int(seed))

    def _on_noise_changed(self) -> None:
        self._show_seed()
        self.changed.emit()

    def _show_seed(self) -> None:
        """The seed matters only while there is noise."""
        on = self._noise.value() > 0
        self._seed.setEnabled(on)
        self._seed_label.setEnabled(on)
