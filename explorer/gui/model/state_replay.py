"""The optimiser state of paths shown whole (a session's, saved with its paths), recomputed.

Session files keep the paths but not the optimiser's state. A batch that ran together is run
again with the same starts and settings (the engine is deterministic), and its state is kept
only where the replay reproduces every stored point: a path that would not come out the same
(a batch missing some of its noisy starts, an edited file) simply gets no state.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from explorer.core.optimizers import REGISTRY
from explorer.core.trajectory import RunSettings
from explorer.gui.model.document import Descendable
from explorer.gui.model.shown import ShownTrajectory

# The replay runs on the GUI thread when a path is selected: bounded to a moment's work.
MAX_REPLAY_STEPS = 10_000
MAX_REPLAY_ROWS = 400_000


def keeps_state(settings: RunSettings) -> bool:
    """Whether a run's optimiser can keep per-coordinate state: every elementwise torch
    optimiser (those that keep none, like plain SGD, simply record nothing)."""
    spec = REGISTRY.get(settings.optimizer)
    return spec is not None and spec.elementwise


def can_replay(batch: Sequence[ShownTrajectory]) -> bool:
    """Whether these paths (one batch, in column order) are worth running again for state."""
    if not batch:
        return False
    first = batch[0]
    rows = sum(shown.received for shown in batch)
    # Imported paths and minibatch fits (their outcome in their own words) are not runs of
    # the descent engine: running them again would not give the same points.
    return (keeps_state(first.settings)
            and not any(shown.imported or shown.outcome for shown in batch)
            and all(shown.ended and not shown.stopped and not shown.failure
                    and shown.settings == first.settings for shown in batch)
            and max(shown.received for shown in batch) - 1 <= MAX_REPLAY_STEPS
            and rows <= MAX_REPLAY_ROWS)


def replay_state(target: Descendable, batch: Sequence[ShownTrajectory]) -> bool:
    """Run the batch again with its state kept and give each path its state; False (nothing
    changed) unless every path comes out as stored."""
    if not can_replay(batch):
        return False
    from explorer.core.descent import descend

    settings = batch[0].settings
    run = None
    for chunk in descend(target.evaluate, [shown.start for shown in batch], settings,
                         function=target.text, chunk_steps=1 << 30, state=True):
        run = chunk.run
    if run is None:
        return False
    replayed = run.trajectories()
    for shown, again in zip(batch, replayed, strict=True):
        xy = np.column_stack([again.x, again.y])
        # Equal up to rounding: numpy's and torch's vector kernels may differ in the last bit
        # between batch sizes; a different path differs by far more.
        if len(xy) != shown.received or not np.allclose(
                xy, shown.xy[: shown.received], rtol=1e-9, atol=1e-12, equal_nan=True):
            return False
    for shown, again in zip(batch, replayed, strict=True):
        shown.state = {name: np.array(values, dtype=np.float64)
                       for name, values in again.state.items()}
    return True
