"""Lesson files: the course's own lesson reads; every hostile field gets a clear one-line error."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer.core.expression import parse
from explorer.core.network import NetSpec
from explorer.io.dataset_csv import network_datasets
from explorer.io.lesson import (
    FORMAT,
    MAX_LESSON_BYTES,
    MAX_STEPS,
    MAX_TEXT,
    TOOLS,
    TUTORIAL_PATH,
    LessonError,
    lesson_from_json,
    load_lesson,
)


def _tutorial_data() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(TUTORIAL_PATH.read_text(encoding="utf-8"))
    return data


def test_the_course_lesson_asks_the_tutorials_questions_in_order() -> None:
    lesson = load_lesson(TUTORIAL_PATH)
    titles = [step.title for step in lesson.steps]
    assert titles[:5] == ["What is the gradient?", "Why do we subtract it?",
                          "How does the step size matter?", "Does the start point matter?",
                          "Do we always find the global minimum?"]
    first = lesson.steps[0]
    assert first.setup is not None and first.inspect == (2.0, 3.0)
    # The worked example: f = x*y + sin(pi*x), whose gradient at (2, 3) is (3 + pi, 2).
    assert parse(first.setup.function).evaluate is not None
    assert first.setup.function.replace(" ", "") == "x*y+sin(pi*x)"
    ascents = [run.settings.ascent for run in lesson.steps[1].setup.runs]  # type: ignore[union-attr]
    assert ascents == [False, True]
    # Step 3's rates sit below, at and above 2 / lambda_max of x**2 + 10*y**2 (lambda_max 20).
    rates = [run.settings.lr for run in lesson.steps[2].setup.runs]  # type: ignore[union-attr]
    limit = 2 / 20
    assert rates[0] < limit and rates[1] == pytest.approx(limit) and rates[2] > limit
    assert [step.tool for step in lesson.steps] == [None, None, "sweep", "basin", "race",
                                                   "sharpness"]
    # Step 6 sets up the headline network, scaled to train in seconds: spirals, 2-32-32-1 tanh,
    # mse, plain SGD at lr 0.1, the sharpness every 25 steps.
    network = lesson.steps[5].setup.network  # type: ignore[union-attr]
    assert network is not None and network.path == network_datasets()["spirals"]
    assert network.spec == NetSpec(2, (32, 32), "tanh", "mse")
    train = network.settings
    assert (train.optimizer, train.lr, train.params, train.schedule) == ("sgd", 0.1, (), "")
    assert train.sharpness_every == 25 and train.batch_size is None and network.start is None
    assert 400 <= train.steps <= 2000  # long enough to reach 2/lr, short enough for a class


def test_every_step_of_the_course_lesson_says_something() -> None:
    for step in load_lesson(TUTORIAL_PATH).steps:
        assert 40 < len(step.text) <= MAX_TEXT
        assert step.tool is None or step.tool in TOOLS


@pytest.mark.parametrize(("change", "field"), [
    (lambda d: d.update(format="gradient-descent-explorer-session"), "format"),
    (lambda d: d.update(version=True), "version"),
    (lambda d: d.update(version=2), "version"),
    (lambda d: d.update(title=""), "title"),
    (lambda d: d.update(title=7), "title"),
    (lambda d: d.update(steps=[]), "steps"),
    (lambda d: d.update(steps={"a": 1}), "steps"),
    (lambda d: d["steps"][0].update(text=None), "steps[0].text"),
    (lambda d: d["steps"][0].update(text="x" * (MAX_TEXT + 1)), "steps[0].text"),
    (lambda d: d["steps"][0].update(inspect=[2]), "steps[0].inspect"),
    (lambda d: d["steps"][0].update(inspect=[2, "3"]), "steps[0].inspect"),
    (lambda d: d["steps"][0].update(inspect=[2, True]), "steps[0].inspect"),
    (lambda d: d["steps"][0].update(inspect=[2, 1e400]), "steps[0].inspect"),
    (lambda d: d["steps"][0].update(tool="terminal"), "steps[0].tool"),
    (lambda d: d["steps"][0].update(tool=["sweep"]), "steps[0].tool"),
    (lambda d: d["steps"][0].update(tool_start={"x": 1}), "steps[0].tool_start"),
    (lambda d: d["steps"][0].update(tolls="sweep"), "steps[0].tolls"),
    (lambda d: d["steps"][0].update(setup=[]), "steps[0].setup"),
    (lambda d: d["steps"][0]["setup"].update(format=FORMAT), "steps[0].setup"),
    (lambda d: d["steps"][0]["setup"].update(function="x +* y"), "function"),
    (lambda d: d["steps"][0]["setup"].update(domain=[1, 0, 0, 1]), "domain"),
    (lambda d: d["steps"][1]["setup"]["runs"][0]["settings"].update(lr=-1), "lr"),
    (lambda d: d["steps"][1]["setup"]["runs"][0]["settings"].update(steps=10**12), "steps"),
    (lambda d: d["steps"][1]["setup"]["runs"][0]["settings"].update(optimizer="os.system"),
     "optimizer"),
    (lambda d: d["steps"][1]["setup"]["runs"][0].update(starts=[[0, 0]] * 10**5), "starts"),
    # A tutor's network step is checked as a session's network block is.
    (lambda d: _net(d).update(activation="sigmoid"), "network.activation"),
    (lambda d: _net(d).update(data="nowhere.csv"), "network.data"),
    (lambda d: _net(d).update(data=["spirals"]), "network.data"),
    (lambda d: _net(d).update(hidden=[4096] * 8), "network.hidden"),
    (lambda d: _net(d).update(hidden=[10**40]), "network.hidden"),
    (lambda d: _net(d).update(lr=-1), "network.lr"),
    (lambda d: _net(d).update(optimizer="bfgs"), "network.optimizer"),
    (lambda d: _net(d).update(steps=10**12), "network.steps"),
    (lambda d: _net(d).update(sharpness_every=-25), "network.sharpness_every"),
    (lambda d: _net(d).update(directions="random"), "network.directions"),
    (lambda d: _net(d).update(grid=10**6), "network.grid"),
    (lambda d: _net(d).update(start=[0.0, 1.0]), "network.start"),
    (lambda d: _net(d).update(sha256="f" * 64), "network.sha256"),
    (lambda d: _net(d).update(epochs=3), "network.epochs"),
    (lambda d: _net(d).pop("loss"), "network.loss"),
    (lambda d: d["steps"][5]["setup"].update(network=[1]), "network"),
])
def test_a_bad_field_is_named_in_one_line(change: Any, field: str) -> None:
    data = _tutorial_data()
    change(data)
    with pytest.raises(LessonError) as caught:
        lesson_from_json(data, "mine.json")
    message = str(caught.value)
    assert message.startswith("mine.json") and "\n" not in message
    assert field in message


def _net(data: dict[str, Any]) -> dict[str, Any]:
    """Step 6's network block."""
    block: dict[str, Any] = data["steps"][5]["setup"]["network"]
    return block


def test_a_network_steps_data_file_is_found_beside_the_lesson(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = _tutorial_data()
    _net(data).update(data="course data/spirals copy.csv")
    folder = tmp_path / "lessons"
    (folder / "course data").mkdir(parents=True)
    csv = folder / "course data" / "spirals copy.csv"
    csv.write_bytes(network_datasets()["spirals"].read_bytes())
    path = folder / "mine.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    monkeypatch.chdir(tmp_path)  # not the lesson's folder
    network = load_lesson(path).steps[5].setup.network  # type: ignore[union-attr]
    assert network is not None and network.path == csv.resolve()
    csv.unlink()
    with pytest.raises(LessonError) as caught:
        load_lesson(path)
    message = str(caught.value)
    assert "mine.json: steps[5].setup: field 'network.data'" in message and str(csv) in message


def test_a_number_of_more_digits_than_python_reads_is_refused(tmp_path: Path) -> None:
    data = _tutorial_data()
    path = tmp_path / "digits.json"
    text = json.dumps(data)
    huge = text.replace('"lr": 0.1, "steps": 1000', '"lr": 0.1, "steps": 1' + "0" * 5000)
    assert len(huge) > len(text) + 4000  # step 6's network steps, 5001 digits long
    path.write_text(huge, "utf-8")
    with pytest.raises(LessonError, match=r"digits\.json: not a lesson file .*too many digits"):
        load_lesson(path)


def test_too_many_steps_are_refused() -> None:
    data = _tutorial_data()
    data["steps"] = [data["steps"][5]] * (MAX_STEPS + 1)
    with pytest.raises(LessonError, match="at most"):
        lesson_from_json(data)


_HOSTILE = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-10**30, max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=30),
    st.lists(st.integers(), max_size=4), st.dictionaries(st.text(max_size=5), st.integers(),
                                                          max_size=3),
)


@settings(max_examples=150, deadline=None)
@given(step=st.integers(0, 5), key=st.sampled_from(["title", "text", "setup", "inspect", "tool",
                                                    "tool_start"]), value=_HOSTILE)
def test_any_value_in_any_step_field_reads_or_is_refused_cleanly(step: int, key: str,
                                                                 value: object) -> None:
    data = copy.deepcopy(_TUTORIAL)
    data["steps"][step][key] = value
    try:
        lesson = lesson_from_json(data, "hostile.json")
    except LessonError as err:
        assert str(err).startswith("hostile.json") and "\n" not in str(err)
    else:  # accepted: then it is what the field said
        shown = lesson.steps[step]
        if key in ("inspect", "tool_start") and value is not None:
            assert getattr(shown, key) == tuple(float(v) for v in value)  # type: ignore[attr-defined]
        if key == "tool":
            assert value is None or value in TOOLS


_TUTORIAL = _tutorial_data()


def test_files_that_are_not_lessons(tmp_path: Path) -> None:
    cases = {
        "empty.json": b"",
        "binary.json": bytes(range(256)),
        "list.json": b"[1, 2]",
        "deep.json": b"[" * 100_000 + b"]" * 100_000,
        "session.json": b'{"format": "gradient-descent-explorer-session", "version": 1}',
    }
    for name, raw in cases.items():
        path = tmp_path / name
        path.write_bytes(raw)
        with pytest.raises(LessonError) as caught:
            load_lesson(path)
        assert name in str(caught.value) and "\n" not in str(caught.value)


def test_huge_and_special_files_are_refused_without_reading_them(tmp_path: Path) -> None:
    big = tmp_path / "big.json"
    with big.open("wb") as out:
        out.truncate(MAX_LESSON_BYTES + 1)  # sparse: costs no disk
    for path in (big, tmp_path, Path("/dev/zero"), tmp_path / "missing.json"):
        with pytest.raises(LessonError):
            load_lesson(path)
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    with pytest.raises(LessonError):
        load_lesson(fifo)  # refused from its stat: opening it would wait for a writer
