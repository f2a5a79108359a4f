"""What a session keeps of the Neural network mode, and a session's network trained again.

A session stores the network on screen as its settings (io.session_network): opening it fills
the panel, sets the controls' optimiser to the one it trained with, trains it again from the
same seed (or stored start) and puts the controls back as the session had them. While that
training runs, the session's network is the one the window holds (so the file does not count
as changed when the result arrives).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject

from explorer.core.trajectory import RunSettings
from explorer.gui.panels.network_panel import NetworkFields
from explorer.io.session_network import NetworkSource, data_text

if TYPE_CHECKING:
    from explorer.gui.engine.network_job import NetworkResult
    from explorer.gui.network_mode import NetworkMode


def source_of(result: NetworkResult) -> NetworkSource | None:
    """What a session stores of a trained network (None: its data came from no file).

    A stopped training is stored as the steps it took: the same run to that many steps gives
    the same numbers. With a schedule, whose defaults follow the steps asked for, it keeps the
    steps asked for (opening it trains them all).
    """
    request = result.request
    if request.data.path is None:
        return None
    settings = request.settings
    if result.run.status == "stopped" and not settings.schedule:
        settings = replace(settings, steps=result.run.steps)
    return NetworkSource(data_text(request.data.path), request.data.sha256, request.spec,
                         settings, request.directions, request.grid, request.start)


def fields_of(source: NetworkSource) -> NetworkFields:
    """The panel's fields for a session's network."""
    settings = source.settings
    return NetworkFields(str(source.path), ",".join(map(str, source.spec.hidden)),
                         source.spec.activation, source.spec.loss, str(settings.steps),
                         settings.sharpness_every, source.directions, source.grid,
                         settings.seed)


def optimiser_of(source: NetworkSource) -> RunSettings:
    """The controls the network trains with: its optimiser, lr, keywords and schedule (and its
    steps, which the schedule picker checks the schedule against)."""
    settings = source.settings
    return RunSettings(optimizer=settings.optimizer, lr=settings.lr, params=settings.params,
                       steps=settings.steps, schedule=settings.schedule)


class NetworkSession(QObject):
    """The network part of SessionState: the source to save, and a session's to restore."""

    def __init__(self, mode: NetworkMode, set_controls: Callable[[RunSettings], None],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._mode = mode
        self._set_controls = set_controls
        # The session's network while it trains again (None once shown or replaced).
        self._pending: NetworkSource | None = None
        mode.shown.connect(self._on_shown)
        mode.panel.train_requested.connect(self._on_shown)  # the user's own training now

    def source(self) -> NetworkSource | None:
        """The network a session saved now keeps (None: no network is on screen)."""
        mode = self._mode
        if self._pending is not None and mode.running:
            return self._pending
        if not mode.active or mode.result is None:
            return None
        return source_of(mode.result)

    @property
    def training(self) -> bool:
        """True while a session's network trains again (before it is shown)."""
        return self._pending is not None and self._mode.running

    def restore(self, source: NetworkSource) -> bool:
        """Fill the panel, set the controls to the network's optimiser and train it (the caller
        sets the controls as its session has them next). False when it cannot start (the panel
        says why in red)."""
        mode = self._mode
        mode.panel.set_fields(fields_of(source))
        self._set_controls(optimiser_of(source))
        token = mode.train(source.start)
        self._pending = source if token is not None else None
        return token is not None

    def leave(self) -> None:
        """A session without a network opens: a network still training is dropped."""
        self._pending = None
        if self._mode.running:
            self._mode.job.cancel()
            self._mode.panel.set_running(False)

    def _on_shown(self) -> None:
        self._pending = None
