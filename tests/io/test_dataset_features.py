"""io.dataset_csv's network reader: every column but label a feature (issue 17)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer.core.toy_data import BUNDLED_NOISE, toy_data
from explorer.io import dataset_csv
from explorer.io.dataset_csv import (
    MAX_FEATURES,
    DataError,
    load_features,
    network_data_path,
    network_datasets,
    parse_features,
)


def test_every_column_but_label_is_a_feature_in_file_order() -> None:
    raw = b"b,label,a,c\n1,1,2,3\n4,-1,5,6\n\n"
    features, labels, names = parse_features(raw, "f.csv")
    assert names == ("b", "a", "c")
    np.testing.assert_array_equal(features, [[1, 2, 3], [4, 5, 6]])
    np.testing.assert_array_equal(labels, [1, -1])


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        (b"x1,x2\n1,2\n", "no column 'label'"),
        (b"label\n1\n", "no feature columns"),
        (b"x,label,label\n1,1,1\n", "twice"),
        (b"x,label\n1,1\n2\n", "row 2, column label: no value"),
        (b"x,label\n1,one\n", "row 1, column label: 'one' is not a number"),
        (b"x,label\nnan,1\n", "not a finite number"),
        (b"x,label\n", "no data rows"),
        (b"", "empty file"),
        (b"x,label\n\xff,1\n", "not UTF-8"),
    ],
)
def test_bad_files_are_one_line_naming_the_place(raw: bytes, words: str) -> None:
    with pytest.raises(DataError) as caught:
        parse_features(raw, "f.csv")
    message = str(caught.value)
    assert words in message and message.startswith("f.csv: ") and "\n" not in message


def test_too_many_features_or_cells_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    header = ",".join(f"x{i}" for i in range(MAX_FEATURES + 1)) + ",label\n"
    with pytest.raises(DataError, match=f"above the limit of {MAX_FEATURES}"):
        parse_features(header.encode(), "f.csv")
    monkeypatch.setattr(dataset_csv, "MAX_CELLS", 10)
    with pytest.raises(DataError, match="cells"):
        parse_features(b"x,label\n" + b"1,1\n" * 6, "f.csv")


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_hostile_bytes_are_read_or_refused_in_one_line(raw: bytes) -> None:
    try:
        features, labels, names = parse_features(b"x,label\n" + raw, "f.csv")
    except DataError as error:
        assert "\n" not in str(error)
        return
    assert features.shape == (len(labels), len(names)) and np.isfinite(features).all()


@pytest.mark.parametrize("name", sorted(BUNDLED_NOISE))
def test_the_bundled_sets_are_the_generators_output(name: str) -> None:
    path = network_data_path(name)
    assert path == network_datasets()[name]
    data = load_features(path)
    features, labels = toy_data(name, 300, BUNDLED_NOISE[name], 0)
    np.testing.assert_array_equal(data.features, features)  # written with repr: exact
    np.testing.assert_array_equal(data.labels, labels)
    assert data.feature_names == ("x1", "x2")


def test_a_file_named_like_a_bundled_set_is_not_shadowed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("spirals").write_text("x,label\n1,1\n")
    assert network_data_path("spirals") == Path("spirals")
    assert network_data_path("nothing") == Path("nothing")


def test_the_model_panels_sets_do_not_list_the_network_sets() -> None:
    assert not set(network_datasets()) & set(dataset_csv.bundled_datasets())
