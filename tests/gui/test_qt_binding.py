"""Guard against a Qt binding that corrupts Python's reference counts (PySide6 6.12.0)."""

from __future__ import annotations

import sys

from PySide6 import QtCore, QtGui


def test_calls_returning_none_keep_none_alive() -> None:
    pen = QtGui.QPen()
    before = sys.getrefcount(None)
    for _ in range(20_000):
        pen.setWidthF(2.0)
    # PySide6 6.12.0 loses one reference per call: 20,000 here, and Python aborts at zero.
    assert abs(sys.getrefcount(None) - before) < 100


def test_signal_emit_keeps_booleans_alive() -> None:
    class Emitter(QtCore.QObject):
        toggled = QtCore.Signal(bool)

    emitter = Emitter()
    before = sys.getrefcount(True)
    for _ in range(20_000):
        emitter.toggled.emit(True)
    assert abs(sys.getrefcount(True) - before) < 100
