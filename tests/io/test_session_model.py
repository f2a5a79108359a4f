"""Sessions of a model on data: the 'model' field round-trips and every bad value is refused
in one line that names the field."""

from __future__ import annotations

import copy
import hashlib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer.core.models import MODELS
from explorer.io.session import (
    MAX_BATCH_SIZE,
    MAX_EPOCHS,
    MAX_SEED,
    ModelSource,
    Session,
    SessionError,
    session_from_json,
    session_to_json,
)

DIGEST = hashlib.sha256(b"x,y\n1,2\n").hexdigest()


def _session(source: ModelSource | None) -> Session:
    return Session(function="x**2 + y**2", domain=(-1.0, 1.0, -1.0, 1.0), model=source)


def _json(**model: Any) -> dict[str, Any]:
    data = session_to_json(_session(ModelSource("linear", "/data/a.csv", DIGEST, 16, 5, 3)))
    data = copy.deepcopy(data)
    data["model"].update(model)
    return data


@pytest.mark.parametrize("source", [
    None,
    ModelSource("linear", "/data/a.csv", DIGEST, 16, 5, 3),
    ModelSource("deeplinear", "rel/b.csv", DIGEST, None, 1, 0),
    ModelSource("logistic", "c.csv", DIGEST, MAX_BATCH_SIZE, MAX_EPOCHS, MAX_SEED),
])
def test_model_round_trips(source: ModelSource | None) -> None:
    assert session_from_json(session_to_json(_session(source))).model == source


def test_old_sessions_have_no_model() -> None:
    data = session_to_json(_session(None))
    del data["model"]
    assert session_from_json(data).model is None


@pytest.mark.parametrize(("field", "value"), [
    ("name", "quadratic"), ("name", 3), ("name", None),
    ("data", ""), ("data", 7), ("data", "a" * 5000), ("data", "a\0b"),
    ("sha256", "abc"), ("sha256", DIGEST.upper()), ("sha256", DIGEST + "0"), ("sha256", 1),
    ("batch_size", 0), ("batch_size", -1), ("batch_size", 2.5), ("batch_size", True),
    ("batch_size", MAX_BATCH_SIZE + 1), ("batch_size", "16"), ("batch_size", 10**400),
    ("epochs", 0), ("epochs", MAX_EPOCHS + 1), ("epochs", 1e3), ("epochs", None),
    ("seed", -1), ("seed", MAX_SEED + 1), ("seed", False), ("seed", [1]),
])
def test_bad_model_fields_are_refused_by_name(field: str, value: object) -> None:
    with pytest.raises(SessionError, match=rf"field 'model\.{field}'") as caught:
        session_from_json(_json(**{field: value}))
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("value", [[], "linear", 5, True])
def test_model_must_be_an_object(value: object) -> None:
    data = _json()
    data["model"] = value
    with pytest.raises(SessionError, match="field 'model'"):
        session_from_json(data)


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.sampled_from(["name", "data", "sha256", "batch_size", "epochs",
                                        "seed"]),
                       st.none() | st.booleans() | st.integers() | st.floats() | st.text()
                       | st.lists(st.integers(), max_size=3)))
def test_any_model_object_is_read_or_refused_in_one_line(model: dict[str, Any]) -> None:
    data = _json()
    data["model"] = model
    try:
        source = session_from_json(data).model
    except SessionError as error:
        assert "\n" not in str(error)
    else:
        assert source is not None and source.model in MODELS
