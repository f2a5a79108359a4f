"""The session's 'network' block (issue 17): written and read back field for field, its data
file found (bundled by name, a CSV by path, a relative path from the session's folder) and
checked, and every hostile field one SessionError naming it."""

from __future__ import annotations

import hashlib
import json
import shlex
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from explorer.core.loss_slice import DIRECTIONS, MAX_GRID
from explorer.core.network import ACTIVATIONS, LOSSES, MAX_LAYERS, MAX_WIDTH, NetSpec, TrainSettings
from explorer.core.optimizers import LR_RANGE, REGISTRY
from explorer.io.dataset_csv import network_datasets
from explorer.io.session import (
    MAX_SEED,
    Session,
    SessionError,
    load_session,
    save_session,
    session_from_json,
    session_to_json,
)
from explorer.io.session_network import (
    MAX_SHARPNESS_EVERY,
    NetworkSource,
    slice_command,
)

SPIRALS = network_datasets()["spirals"]
SPEC = NetSpec(2, (32, 32), "tanh", "mse")


def source(**changes: Any) -> NetworkSource:
    """The headline network: spirals, 2-32-32-1 tanh, mse, SGD lr 0.1, sharpness every 25."""
    fields: dict[str, Any] = {
        "data": "spirals",
        "sha256": hashlib.sha256(SPIRALS.read_bytes()).hexdigest(),
        "spec": SPEC,
        "settings": TrainSettings("sgd", 0.1, (), 400, 3, None, 25, ""),
        "directions": "filter",
        "grid": 21,
    }
    fields.update(changes)
    return NetworkSource(**fields)


def session(network: NetworkSource | None) -> Session:
    return Session("x**2 + y**2", (-2.0, 2.0, -2.0, 2.0), network=network)


def block(**changes: object) -> dict[str, Any]:
    """The session's JSON with the network block changed (a key set to ... is removed)."""
    data = session_to_json(session(source()))
    data["network"].update(changes)
    data["network"] = {k: v for k, v in data["network"].items() if v is not ...}
    return data


def assert_same(a: NetworkSource, b: NetworkSource) -> None:
    assert (a.data, a.sha256, a.spec, a.settings, a.directions, a.grid) == (
        b.data, b.sha256, b.spec, b.settings, b.directions, b.grid)
    assert (a.start is None) == (b.start is None)
    if a.start is not None and b.start is not None:
        assert a.start.tobytes() == b.start.tobytes()  # bit for bit


@pytest.mark.parametrize("changes", [
    {},
    {"settings": TrainSettings("adam", 0.003, (("betas", (0.8, 0.99)), ("eps", 1e-7)), 250,
                               MAX_SEED, None, 0, "cosine")},
    {"settings": TrainSettings("momentum", 0.05, (("momentum", 0.9),), 0, 0, None,
                               MAX_SHARPNESS_EVERY, "")},
    {"spec": NetSpec(2, (3,), "gelu", "bce"), "directions": "pca", "grid": MAX_GRID},
    {"spec": NetSpec(2, (4, 2), "relu", "mse"),
     # A start with the awkward floats JSON must carry exactly (and one that diverges).
     "start": np.array([0.1, 1 / 3, -2.5e-300, 1e300, np.pi, np.nextafter(1.0, 2.0), -0.0,
                        7.0, 1e-5, -8.25, 123456.789, 2.0**-1074, float("nan"), 0.5, -1.5,
                        3.0, 4.0, 5.0, 6.0, 7.5, 8.5, -9.0, 0.25, float("inf"), 1.0])},
])
def test_the_block_comes_back_field_for_field(tmp_path: Path, changes: dict[str, Any]) -> None:
    original = source(**changes)
    path = tmp_path / "net.json"
    save_session(path, session(original))
    back = load_session(path).network
    assert back is not None
    assert_same(back, original)
    # Read and written again, the file is the same text.
    again = tmp_path / "again.json"
    save_session(again, session(back))
    assert again.read_text() == path.read_text()


def test_a_session_without_a_network_writes_no_block_and_an_old_file_reads() -> None:
    data = session_to_json(session(None))
    assert "network" not in data  # older readers see no change
    assert session_from_json(data).network is None
    assert session_from_json({**data, "network": None}).network is None


def test_a_bundled_name_is_the_bundled_set_even_beside_a_file_of_that_name(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "spirals").write_text("label,a\n1,2\n")
    monkeypatch.chdir(tmp_path)
    back = session_from_json(block(), "s", folder=tmp_path).network
    assert back is not None and back.data == "spirals" and back.path == SPIRALS


def test_a_csv_path_is_kept_absolute_and_a_relative_one_is_read_from_the_sessions_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "course"
    folder.mkdir()
    csv = folder / "mine.csv"
    csv.write_bytes(SPIRALS.read_bytes())
    path = folder / "s.json"
    path.write_text(json.dumps(block(data="mine.csv", sha256=...)))
    monkeypatch.chdir(tmp_path)  # not the session's folder
    back = load_session(path).network
    assert back is not None
    assert back.data == str(csv.resolve()) and back.path == csv.resolve()
    assert back.sha256 == hashlib.sha256(csv.read_bytes()).hexdigest()
    assert session_to_json(session(back))["network"]["data"] == str(csv.resolve())


def test_a_missing_data_file_names_the_file_and_the_field(tmp_path: Path) -> None:
    gone = tmp_path / "gone.csv"
    path = tmp_path / "s.json"
    path.write_text(json.dumps(block(data=str(gone))))
    with pytest.raises(SessionError) as caught:
        load_session(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: field 'network.data': ")
    assert str(gone) in message and "No such file" in message


def test_a_changed_data_file_is_refused(tmp_path: Path) -> None:
    csv = tmp_path / "d.csv"
    csv.write_bytes(SPIRALS.read_bytes())
    data = block(data=str(csv))
    assert session_from_json(data).network is not None
    csv.write_bytes(SPIRALS.read_bytes().replace(b"\n", b"\r\n", 1))
    with pytest.raises(SessionError, match=r"field 'network.sha256': the data file .*d\.csv "
                                           "has changed since the session was saved"):
        session_from_json(data)


def test_a_file_with_a_label_the_loss_cannot_use_names_the_loss(tmp_path: Path) -> None:
    csv = tmp_path / "three.csv"
    csv.write_text("a,b,label\n0,1,2\n1,0,-1\n")
    with pytest.raises(SessionError, match=r"field 'network\.loss': .*three\.csv: the bce loss"):
        session_from_json(block(data=str(csv), sha256=..., loss="bce", hidden=[2]))


@pytest.mark.parametrize(("key", "value"), [
    ("data", ""), ("data", 3), ("data", None), ("data", "a\0b"), ("data", "x" * 5000),
    ("data", "/"), ("data", "moon"),
    ("sha256", "ABC"), ("sha256", 12), ("sha256", "0" * 64),
    ("hidden", []), ("hidden", [0]), ("hidden", [MAX_WIDTH + 1]), ("hidden", "32,32"),
    ("hidden", [1] * (MAX_LAYERS + 1)), ("hidden", [2.0]), ("hidden", [True]),
    ("hidden", [MAX_WIDTH] * 2), ("hidden", [10**400]),
    ("activation", "sigmoid"), ("activation", None), ("activation", ["tanh"]),
    ("loss", "hinge"), ("loss", 1),
    ("optimizer", "bfgs"), ("optimizer", "nelder-mead"), ("optimizer", 7), ("optimizer", None),
    ("lr", 0), ("lr", -0.1), ("lr", "0.1"), ("lr", "inf"), ("lr", True), ("lr", 1e400),
    ("lr", LR_RANGE[1] * 1.5), ("lr", LR_RANGE[0] / 2), ("data", "/dev/zero"),
    ("params", {"momentum": 5}), ("params", []), ("params", {"nope": 1}),
    ("schedule", "warp"), ("schedule", 3), ("schedule", "x" * 2000),
    ("steps", -1), ("steps", 1.5), ("steps", 10**7), ("steps", 10**400), ("steps", "10"),
    ("seed", -1), ("seed", MAX_SEED + 1), ("seed", 0.5),
    ("sharpness_every", -1), ("sharpness_every", MAX_SHARPNESS_EVERY + 1),
    ("sharpness_every", False), ("sharpness_every", "25"),
    ("directions", "random"), ("directions", None),
    ("grid", 2), ("grid", 4), ("grid", MAX_GRID + 2), ("grid", 41.0), ("grid", True),
    ("start", [1.0, 2.0]), ("start", "0"), ("start", {}), ("start", [0.0] * 1184 + ["x"]),
    ("start", [0.0] * 10_000),
    ("batch_size", 10), ("tol", 0.1),
])
def test_a_hostile_field_is_one_error_naming_it(key: str, value: object) -> None:
    with pytest.raises(SessionError) as caught:
        session_from_json(block(**{key: value}))
    named = str(caught.value).split("field '", 1)[1].split("'", 1)[0]
    assert named.startswith(f"network.{key}"), caught.value


def test_a_missing_field_is_named() -> None:
    for key in ("data", "hidden", "activation", "loss", "optimizer", "lr", "steps"):
        with pytest.raises(SessionError, match=f"field 'network.{key}': missing"):
            session_from_json(block(**{key: ...}))


def test_steps_a_network_this_size_cannot_keep_are_refused_in_words() -> None:
    # 1185 parameters x 1,000,000 steps would keep a path of gigabytes: the steps' error.
    with pytest.raises(SessionError, match=r"field 'network\.steps': .* would keep a path of"):
        session_from_json(block(steps=1_000_000))


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**30), 10**30)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner,
                                                                max_size=3),
    max_leaves=8,
)
KEYS = ("data", "sha256", "hidden", "activation", "loss", "optimizer", "lr", "params",
        "schedule", "steps", "seed", "sharpness_every", "directions", "grid", "start")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(key=st.sampled_from(KEYS), value=JSON | st.sampled_from(
    [*ACTIVATIONS, *LOSSES, *DIRECTIONS, *REGISTRY, "spirals", "xor", [8], [2, 2], 3, 5, 41]))
def test_any_value_of_any_field_is_read_as_written_or_named(key: str, value: object) -> None:
    """Whatever a field holds, the block is either read (and means what it says) or refused
    with one SessionError naming that field; nothing else escapes."""
    # Another data set is another file: its SHA-256 is not the one written for spirals.
    data = block(**{key: value, **({"sha256": ...} if key == "data" else {})})
    try:
        back = session_from_json(data).network
    except SessionError as error:
        named = str(error).split("field '", 1)[1].split("'", 1)[0]
        assert named.startswith(f"network.{key}"), error
        return
    assert back is not None
    written = session_to_json(session(back))["network"]
    if value is None:  # an optional field left empty: the file's own hash, the seed's start
        assert key in ("sha256", "start") and "start" not in written
    elif key == "params":  # the registry's values, written canonically
        assert set(written["params"]) == set(value)  # type: ignore[arg-type]
    elif key == "schedule":
        assert isinstance(value, str)
    else:
        assert written[key] == value


def test_slice_command_is_the_cli_line_that_trains_it() -> None:
    adam = source(settings=TrainSettings("adam", 0.003, (("betas", (0.8, 0.99)),), 250, 7,
                                         None, 10, "step:step_size=50"))
    words = shlex.split(slice_command(adam))
    assert words[:3] == ["python", "main.py", "slice"]
    pairs = dict(zip(words[3::2], words[4::2], strict=True))
    assert pairs == {"--data": "spirals", "--hidden": "32,32", "--activation": "tanh",
                     "--loss": "mse", "--optimizer": "adam", "--lr": "0.003",
                     "--param": "betas=0.8,0.99", "--schedule": "step:step_size=50",
                     "--steps": "250", "--seed": "7", "--sharpness-every": "10",
                     "--directions": "filter", "--grid": "21"}

