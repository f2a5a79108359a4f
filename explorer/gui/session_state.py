"""The window's state as a session file holds it, and a session shown again."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtGui import QAction

from explorer.core.net_slice import NetSlice
from explorer.core.trajectory import Trajectory
from explorer.gui.model.document import quiet_landscape
from explorer.gui.model.shown import ShownTrajectory
from explorer.gui.model_mode import ModelMode
from explorer.gui.network_session import NetworkSession
from explorer.gui.panels.runs_panel import RunsPanel
from explorer.gui.parts import Parts
from explorer.gui.tools.lab_tools import LabTools
from explorer.io.session import Session, SessionRun, ViewSettings

if TYPE_CHECKING:
    from explorer.core.trajectory import RunSettings
    from explorer.gui.network_mode import NetworkMode


class SessionState:
    """Reads and writes what a session file stores; the file dialogs are SessionActions'."""

    def __init__(self, parts: Parts, runs: RunsPanel, log_action: QAction, lab: LabTools,
                 name_changed: Callable[[str], object], model: ModelMode | None = None,
                 network: NetworkMode | None = None) -> None:
        self._parts = parts
        self._model = model
        self._network = (NetworkSession(network, self._set_controls, network)
                         if network is not None else None)
        self._runs = runs
        self._log_action = log_action
        self._lab = lab
        self._name_changed = name_changed  # called with the file's name

    def set_document_name(self, name: str) -> None:
        """Show the session file's name in the title bar."""
        self._name_changed(name)

    def trajectories(self, *, selected_only: bool = False) -> list[ShownTrajectory]:
        """The shown trajectories (or the selected ones), in table order."""
        paths = self._parts.runner.store.paths
        ids = self._runs.selected_ids() if selected_only else self._runs.path_ids()
        return [paths[i] for i in ids if i in paths]

    def state(self, *, with_trajectories: bool = True) -> Session:
        """Function, view, settings, starts in their batches and (when asked, for batches that
        finished) the computed paths."""
        parts = self._parts
        applied = parts.function.applied()
        text, domain = applied if applied is not None else ("", parts.document.domain)
        batches: dict[int, list[ShownTrajectory]] = {}
        # A network's paths lie on its slice: the session keeps the network (trained again on
        # open), not its paths; stored as runs on the function, they would be run there.
        network = isinstance(parts.document.landscape, NetSlice)
        source = self._network.source() if self._network is not None else None
        for shown in self.trajectories():
            if not shown.imported and not network:
                batches.setdefault(shown.run_id, []).append(shown)
        runs = []
        for paths in batches.values():
            paths.sort(key=lambda shown: shown.column)
            # A minibatch path is always stored: the descent cannot compute it again.
            done = (with_trajectories or self._is_fit(paths)) and all(
                shown.ended and not shown.stopped and not shown.failure
                and shown.shown == shown.received for shown in paths)
            runs.append(SessionRun(
                paths[0].settings,
                tuple(shown.start for shown in paths),
                tuple(shown.trajectory() for shown in paths) if done else None,
                tuple(shown.path_id for shown in paths),
            ))
        controls = parts.controls.run_settings()
        return Session(
            function=text,
            domain=domain,
            controls=controls,
            view=ViewSettings(self._log_action.isChecked(),
                              parts.loss.log_check_box().isChecked(),
                              parts.controls.path_time_s()),
            pending=tuple(parts.runner.pending_starts()),
            runs=tuple(runs),
            race=tuple(entry.settings(controls) for entry in self._lab.race_entries()),
            race_colors=tuple(self._lab.race_colors()),
            # A network's path takes the next id when it is trained again: not kept with it.
            next_id=parts.runner.store.next_path_id if source is None else None,
            race_evaluations=self._lab.race_budget(),
            model=self._model.source() if self._model is not None else None,
            network=source,
        )

    def _is_fit(self, paths: list[ShownTrajectory]) -> bool:
        model = self._model
        return model is not None and any(model.fit_path(s.path_id) is not None for s in paths)

    def check(self, session: Session) -> str:
        """Why this session cannot be shown ('' if it can): its data file is gone or changed."""
        if session.model is None or self._model is None:
            return ""
        return self._model.check_source(session.model)

    def restore(self, session: Session) -> bool:
        """Show a session: its function, settings and starts; its paths, computed or run again.

        False (and nothing changed) when its function cannot be drawn over its domain.
        """
        from explorer.core.expression import parse

        parts = self._parts
        expression = parse(session.function)
        if parts.runner.worker.is_ready and quiet_landscape(
                expression, session.domain).finite_fraction == 0.0:
            return False
        # Clear all: the session's runs get their own ids, and the count goes on from its.
        parts.runner.clear()
        parts.function.set_function(session.function, session.domain)
        parts.function.apply()
        if session.model is not None and self._model is not None:
            self._model.restore_source(session.model)  # before the runs: it clears the paths
        if self._network is not None:
            if session.network is None:
                self._network.leave()
            else:  # trains with the controls set to its optimiser, then shows it when done
                self._network.restore(session.network)
        self._set_controls(session.controls)
        if session.view.log_scale is not None:
            self._log_action.setChecked(session.view.log_scale)
        parts.loss.log_check_box().setChecked(session.view.loss_log)
        if session.view.path_time is not None:
            parts.controls.set_path_time(session.view.path_time)
        for run in session.runs:
            ids = list(run.ids) if run.ids is not None else None
            if run.trajectories is None:
                parts.runner.start_runs(list(run.starts), run.settings, path_ids=ids)
            else:
                parts.runner.add_finished(list(run.trajectories), run.settings, imported=False,
                                          path_ids=ids)
        if session.next_id is not None:
            parts.runner.set_next_path_id(session.next_id)
        parts.runner.set_pending(list(session.pending))
        if session.race:
            from explorer.core.race import RaceEntry

            self._lab.set_race_entries(
                [RaceEntry(entry.optimizer, entry.lr, entry.params) for entry in session.race],
                list(session.race_colors) or None)
            self._lab.set_race_budget(session.race_evaluations)
        return True

    def network_training(self) -> bool:
        """True while the session just opened trains its network again."""
        return self._network is not None and self._network.training

    def _set_controls(self, controls: RunSettings) -> None:
        """Show these settings in the controls."""
        parts = self._parts
        parts.controls.set_optimizer(controls.optimizer)
        parts.controls.set_params(controls.optimizer, controls.param_dict)
        parts.controls.set_lr(controls.lr)
        parts.controls.set_limits(controls.steps, controls.tol, controls.ascent)
        parts.controls.set_noise(controls.noise, controls.seed)
        parts.controls.set_schedule(controls.schedule)

    def add_imported(self, trajectories: list[Trajectory], source: str) -> int:
        """Overlay trajectories read from a file, read-only (never run again); how many."""
        self._parts.runner.add_finished(trajectories, None, imported=True, source=source)
        return len(trajectories)
