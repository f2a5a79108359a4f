"""Training a small network off the GUI thread (issue 17): core.network.train, then the slice.

The network is built on the job's thread (core.network.build_net forks torch's RNG, which is
not thread-safe), trained with progress reports (the step, the full-batch loss, the decision
regions and the sharpness measured since the last report; the first measurement at once) at
most EMIT_INTERVAL_S apart and wherever it is paused, then sliced around where it
ended (core.loss_slice.run_slice) and handed back as a NetSlice with its grid. Pause holds it before
its next step, Step lets it take one, Stop ends it there and still slices what was trained;
cancel drops the job's results.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject, Signal

from explorer.core.trajectory import FloatArray
from explorer.gui.engine.fit_job import EMIT_INTERVAL_S, ThreadJob

if TYPE_CHECKING:
    from explorer.core.landscape import LandscapeGrid
    from explorer.core.loss_slice import LossSlice
    from explorer.core.net_slice import NetSlice
    from explorer.core.network import NetProblem, NetRun, NetSpec, TrainSettings
    from explorer.io.dataset_csv import FeatureData

# The decision regions are the network's output on this many points a side over the data.
REGION_GRID = 80
# The regions' box around the data: this fraction of its span added on each side.
REGION_PAD = 0.1


@dataclass(frozen=True, eq=False)
class NetworkRequest:
    """One training run: data, network, settings, the slice asked for and where it starts."""

    token: int
    data: FeatureData
    spec: NetSpec
    settings: TrainSettings
    directions: str
    grid: int
    start: FloatArray | None = None  # flat parameters; None: the seed's initialisation


@dataclass(frozen=True, eq=False)
class Regions:
    """The network's output on a grid over two features: values[i, j] at (xs[i], ys[j]), in
    -1..1 (mse: the output clipped; bce: 2 * sigmoid(output) - 1, the probability stretched)."""

    xs: FloatArray
    ys: FloatArray
    values: FloatArray


@dataclass(frozen=True, eq=False)
class NetworkProgress:
    """What a run reports on its way: the step reached, its full-batch loss, the regions, and
    the sharpness measured since the last report ((m, 2) rows of step, value; m may be 0)."""

    step: int
    loss: float
    regions: Regions | None
    sharpness: FloatArray = field(default_factory=lambda: np.empty((0, 2)))


@dataclass(frozen=True, eq=False)
class NetworkResult:
    """A finished (or stopped) run, its slice as a landscape and grid, and the final regions.

    path_grad: the slice's gradient (d/da, d/db) at each projected row of the path.
    """

    request: NetworkRequest
    problem: NetProblem
    run: NetRun
    view: LossSlice
    landscape: NetSlice
    grid: LandscapeGrid
    path_grad: FloatArray
    regions: Regions | None


class Gate:
    """Stop, pause and single steps of one training, set from the GUI thread and read on the
    job's: while paused, the training waits before its next step until resumed, stopped or
    given a step."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._paused = False
        self._steps = 0  # single steps granted while paused
        self._halted = False
        self._wake = threading.Event()
        # The step the training waits before (set on the job's thread), None while it runs.
        self.held_at: int | None = None

    def halted(self) -> bool:
        """True once the training should end here."""
        return self._halted

    def halt(self) -> None:
        """End the training at its next step (a paused one at once)."""
        self._halted = True
        self._wake.set()

    def pause(self, paused: bool) -> None:
        """Hold the training before its next step, or let it run on."""
        with self._lock:
            self._paused, self._steps = paused, 0
        self._wake.set()

    def step(self) -> None:
        """Let a paused training take one step."""
        with self._lock:
            self._steps += 1
        self._wake.set()

    def holds(self) -> bool:
        """True while the next step must wait (taking a granted single step if any)."""
        with self._lock:
            if not self._paused or self._halted:
                return False
            if self._steps:
                self._steps -= 1
                return False
            return True

    def wait(self) -> None:
        """Sleep until the GUI changes something (or a tenth of a second has passed)."""
        self._wake.wait(0.1)
        self._wake.clear()


class NetworkJob(ThreadJob):
    """Trains networks off the GUI thread: progressed(token, NetworkProgress), then finished
    (token, NetworkResult) or failed(token, why)."""

    progressed = Signal(int, object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._gates: dict[int, Gate] = {}
        self.reported.connect(self._on_progress_reported)
        self.finished.connect(self._on_done)
        self.failed.connect(self._on_done)

    def start(self, request: NetworkRequest, *, paused: bool = False) -> None:
        """Train, then slice, on a new thread (paused: held before its first step)."""
        gate = Gate()
        gate.pause(paused)
        self._gates[request.token] = gate
        self.start_work(request.token,
                        lambda stop, report: train_and_slice(request, stop, gate, report),
                        f"NetworkJob-{request.token}")

    def stop(self) -> None:
        """End every training at its next step; what was trained is still sliced and shown."""
        for gate in self._gates.values():
            gate.halt()

    def pause(self, paused: bool) -> None:
        """Hold every training before its next step, or let them run on."""
        for gate in self._gates.values():
            gate.pause(paused)

    def step(self) -> None:
        """Let every paused training take one step."""
        for gate in self._gates.values():
            gate.step()

    def cancel(self, token: int | None = None) -> None:
        """Stop one piece of work (or all), paused or not; nothing more is reported for it."""
        super().cancel(token)
        for key, gate in self._gates.items():
            if token is None or key == token:
                gate.halt()

    def held_at(self) -> int | None:
        """The step a paused training waits before (None: none is held)."""
        held = [gate.held_at for gate in self._gates.values() if gate.held_at is not None]
        return held[-1] if held else None

    def _on_progress_reported(self, token: int, value: object) -> None:
        if isinstance(value, NetworkProgress):
            self.progressed.emit(token, value)

    def _on_done(self, token: int, _value: object) -> None:
        self._gates.pop(token, None)


def train_and_slice(request: NetworkRequest, cancelled: Callable[[], bool], gate: Gate,
                    report: Callable[[object], None]) -> NetworkResult:
    """Build the network, train it (from request.start where given) until done, halted or
    cancelled, held while the gate is paused, and slice it (not once cancelled: nobody will
    see it)."""
    import torch

    from explorer.core.landscape import grid_of_values
    from explorer.core.loss_slice import check_slice, run_slice
    from explorer.core.net_slice import NetSlice
    from explorer.core.network import NetProblem, train

    data = request.data
    problem = NetProblem(request.spec, data.features, data.labels, request.settings.seed)
    check_slice(problem, request.directions, request.grid)  # before the training, not after
    if request.start is not None:
        # A copy: vector_to_parameters makes the parameters views of the vector it is given,
        # and training would then write over the request's start.
        problem.set_parameters(torch.from_numpy(np.array(request.start, dtype=np.float64)))
    box = region_box(data.features)
    last = [time.perf_counter()]
    measured: list[tuple[float, float]] = []  # sharpness rows not reported yet
    reported_any = [False]

    def snapshot(step: int) -> None:
        with torch.no_grad():
            loss = float(problem.loss())
        rows = np.array(measured, dtype=np.float64).reshape(-1, 2)
        measured.clear()
        report(NetworkProgress(step, loss, regions_of(problem, box), rows))

    def progress(step: int) -> None:
        now = time.perf_counter()
        if now - last[0] >= EMIT_INTERVAL_S:
            last[0] = now
            snapshot(step)

    steps_done = [0]  # train asks should_stop once before each step

    def should_stop() -> bool:
        step, shown = steps_done[0], False
        steps_done[0] += 1
        while gate.holds() and not cancelled():
            if not shown:  # where it stands, once per pause
                gate.held_at = step
                snapshot(step)
                shown = True
            gate.wait()
        gate.held_at = None
        return cancelled() or gate.halted()

    def sharpness(step: int, value: float) -> None:
        measured.append((float(step), value))
        if not reported_any[0]:  # the first point at once: it brings the Sharpness tab up
            reported_any[0] = True
            last[0] = time.perf_counter()
            snapshot(step)
        else:
            progress(step)

    run = train(problem, request.settings, should_stop=should_stop, on_progress=progress,
                on_sharpness=sharpness)
    if cancelled():
        raise RuntimeError("cancelled")  # reported by nobody: the job was cancelled
    view = run_slice(problem, run.path, run.loss, directions=request.directions,
                     grid=request.grid, seed=request.settings.seed)
    landscape = NetSlice(problem, view)
    grid = grid_of_values(landscape.domain, view.alphas, view.betas, view.losses.copy())
    points = torch.from_numpy(np.ascontiguousarray(view.path_ab)).requires_grad_(True)
    (gradient,) = torch.autograd.grad(landscape.loss(points).sum(), points)
    problem.set_parameters(torch.from_numpy(view.center.copy()))
    return NetworkResult(request, problem, run, view, landscape, grid,
                         gradient.detach().numpy().copy(), regions_of(problem, box))


def region_box(features: FloatArray) -> tuple[float, float, float, float] | None:
    """The box the regions cover: the first two features' range, padded; None unless the data
    has exactly two features (the regions are a picture over a plane) and the box is finite."""
    if features.ndim != 2 or features.shape[1] != 2 or len(features) == 0:
        return None
    with np.errstate(all="ignore"):  # a span past float's range: no picture, not a warning
        low, high = features.min(axis=0), features.max(axis=0)
        span = np.where(high > low, high - low, 1.0)
        low, high = low - REGION_PAD * span, high + REGION_PAD * span
    box = (float(low[0]), float(high[0]), float(low[1]), float(high[1]))
    return box if all(np.isfinite(box)) else None


def regions_of(problem: NetProblem, box: tuple[float, float, float, float] | None,
               n: int = REGION_GRID) -> Regions | None:
    """The network's output, at its current parameters, on an n x n grid over the box."""
    if box is None:
        return None
    import torch

    xs, ys = np.linspace(box[0], box[1], n), np.linspace(box[2], box[3], n)
    a, b = np.meshgrid(xs, ys, indexing="ij")
    points = torch.from_numpy(np.column_stack((a.ravel(), b.ravel())))
    with torch.no_grad():
        output = problem.net(points).squeeze(-1)
    values = shade(problem.spec.loss, output.numpy())
    return Regions(xs, ys, values.reshape(n, n))


def shade(loss: str, output: FloatArray) -> FloatArray:
    """Outputs as -1..1 shades: bce 2 * sigmoid(output) - 1 (= tanh(output / 2)); mse clipped."""
    with np.errstate(all="ignore"):
        values = np.tanh(output / 2.0) if loss == "bce" else np.clip(output, -1.0, 1.0)
    return np.asarray(np.where(np.isfinite(values), values, np.nan), dtype=np.float64)
