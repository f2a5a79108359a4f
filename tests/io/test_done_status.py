"""A minibatch fit that ran every epoch is 'done' (issue 15): core.fitting says so as a Status,
session files and trajectory CSVs keep the word, old files still read, and unknown status
words are refused in one line."""

from __future__ import annotations

import copy
import csv
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from explorer.core.fitting import FitSettings, fit
from explorer.core.model_landscape import ModelLandscape
from explorer.core.models import get_model
from explorer.core.trajectory import RunSettings, Status, Trajectory
from explorer.io.dataset_csv import Dataset
from explorer.io.session import (
    Session,
    SessionError,
    SessionRun,
    session_from_json,
    session_to_json,
)
from explorer.io.trajectory_csv import CsvFormatError, read_trajectories, write_trajectories


def _minibatch_path() -> Trajectory:
    """A finished minibatch fit of linear on a small line, as the window records it."""
    rng = np.random.default_rng(4)
    x = rng.uniform(-1.0, 1.0, 12)
    landscape = ModelLandscape(get_model("linear"), Dataset(x, 3.0 * x - 1.0, "line", None, ""))
    result = fit(landscape, (0.5, 0.5), FitSettings("sgd", 0.1, batch_size=5, epochs=2, seed=1))
    assert result.status == "done"  # every epoch ran, no convergence at tol 1e-8
    params = torch.tensor(result.params, requires_grad=True)
    (grad,) = torch.autograd.grad(landscape.loss(params).sum(), params)
    return Trajectory(result.params[:, 0].copy(), result.params[:, 1].copy(),
                      np.asarray(result.loss), grad[:, 0].numpy().copy(),
                      grad[:, 1].numpy().copy(), status=Status.from_label(result.status),
                      function=landscape.name)


def test_done_is_its_own_status_word() -> None:
    assert Status.DONE.label == "done" and Status.from_label(" done ") is Status.DONE
    assert Status.DONE is not Status.MAX_STEPS
    assert len({s.label for s in Status}) == len(Status)  # every word names one status


def test_a_minibatch_path_keeps_done_through_a_session() -> None:
    path = _minibatch_path()
    run = SessionRun(RunSettings(steps=path.steps), (path.start,), (path,))
    session = Session(function="x**2", domain=(-1.0, 1.0, -1.0, 1.0), runs=(run,))
    data = session_to_json(session)
    assert data["runs"][0]["trajectories"][0]["status"] == "done"
    (loaded,) = session_from_json(data).runs
    assert loaded.trajectories is not None
    assert loaded.trajectories[0].status is Status.DONE
    np.testing.assert_array_equal(loaded.trajectories[0].x, path.x)


def test_a_minibatch_path_keeps_done_through_a_csv(tmp_path: Path) -> None:
    path = _minibatch_path()
    out = tmp_path / "paths.csv"
    write_trajectories(out, [path])
    with out.open(newline="", encoding="utf-8") as stream:
        rows = list(csv.DictReader(stream))
    assert {row["status"] for row in rows} == {"done"}
    (loaded,) = read_trajectories(out)
    assert loaded.status is Status.DONE
    np.testing.assert_array_equal(loaded.f, path.f)


def test_old_files_without_done_still_read(tmp_path: Path) -> None:
    # Files written before 'done' existed say max_steps (or nothing): still max_steps.
    path = _minibatch_path()
    old = Trajectory(path.x, path.y, path.f, path.grad_x, path.grad_y, status=Status.MAX_STEPS)
    out = tmp_path / "old.csv"
    write_trajectories(out, [old])
    assert read_trajectories(out)[0].status is Status.MAX_STEPS
    run = SessionRun(RunSettings(steps=path.steps), (path.start,), (old,))
    data = session_to_json(Session(function="x", domain=(-1.0, 1.0, -1.0, 1.0), runs=(run,)))
    del data["runs"][0]["trajectories"][0]["status"]
    (loaded,) = session_from_json(data).runs
    assert loaded.trajectories is not None
    assert loaded.trajectories[0].status is Status.MAX_STEPS


HOSTILE_WORDS = st.one_of(
    st.sampled_from(["dOne!", "done\nx", "finished", "label", "__class__", "5", "DONE_", "",
                     "d" * 5000, "\x00", "max steps", "é"]),
    st.text(max_size=30),
)


def _is_status(word: str) -> bool:
    return word.strip().upper() in Status.__members__


@settings(max_examples=80, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(word=HOSTILE_WORDS)
def test_unknown_status_words_are_refused_in_one_line(tmp_path: Path, word: str) -> None:
    path = _minibatch_path()
    run = SessionRun(RunSettings(steps=path.steps), (path.start,), (path,))
    data: dict[str, Any] = copy.deepcopy(
        session_to_json(Session(function="x", domain=(-1.0, 1.0, -1.0, 1.0), runs=(run,))))
    data["runs"][0]["trajectories"][0]["status"] = word
    if _is_status(word):
        (loaded,) = session_from_json(data).runs
        assert loaded.trajectories is not None
        assert loaded.trajectories[0].status.label == word.strip().lower()
    else:
        with pytest.raises(SessionError, match="status") as caught:
            session_from_json(data)
        assert "\n" not in str(caught.value)
    # The same word in a trajectory CSV's status column.
    out = tmp_path / "paths.csv"
    write_trajectories(out, [path])
    with out.open(newline="", encoding="utf-8") as stream:
        rows = list(csv.reader(stream))
    column = rows[0].index("status")
    for row in rows[1:]:
        row[column] = word
    with out.open("w", newline="", encoding="utf-8") as stream:
        csv.writer(stream, lineterminator="\n").writerows(rows)
    try:
        (loaded_csv,) = read_trajectories(out)
    except CsvFormatError as err:
        assert "\n" not in str(err) and len(str(err)) < 500
        return
    # Read: a known word (or empty: max_steps, as old files mean it).
    assert loaded_csv.status.label == (word.strip().lower() or "max_steps")
