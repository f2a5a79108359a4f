"""fit --animation and slice --animation draw the data view beside the map (issue 18): the fit's
curve and the network's decision regions move between the first frame and the last; the frame
rule is unchanged; a network on data it cannot shade over a plane animates without the pane."""

from __future__ import annotations

import json
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest
from numpy.typing import NDArray

from explorer.core.network import NetSpec, build_net, flat_parameters
from explorer.gui.tools.animation_export import AnimationScene
from explorer.gui.tools.animation_panes import FitPane, RegionsPane
from explorer.io.animation import frame_count
from tests.cli.helpers import app

WIDTH, HEIGHT = 400, 300


@pytest.fixture
def scenes(monkeypatch: pytest.MonkeyPatch) -> list[AnimationScene]:
    """The scenes the command draws, as it hands them to the renderer."""
    from explorer.gui.tools import animation_export

    drawn: list[AnimationScene] = []

    class Recording(animation_export.FrameRenderer):
        def __init__(self, scene: AnimationScene, width: int, height: int) -> None:
            drawn.append(scene)
            super().__init__(scene, width, height)

    monkeypatch.setattr(animation_export, "FrameRenderer", Recording)
    return drawn


def _pane(frames: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """Where the data view is: the right two fifths, lower half (a margin left out)."""
    return frames[:, HEIGHT // 2 + 10:, WIDTH * 3 // 5 + 10:]


def _loss(frames: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """Where the loss plot is: the right two fifths, upper half."""
    return frames[:, : HEIGHT // 2 - 10, WIDTH * 3 // 5 + 10:]


def test_fit_draws_its_curve_moving_beside_the_map(qapp: object, tmp_path: Path) -> None:
    path = tmp_path / "fit.gif"
    code, out, err = app("fit", "--model", "linear", "--data", "regression", "--epochs", "20",
                         "--lr", "0.05", "--animation", str(path), "--every", "4",
                         "--size", f"{WIDTH}x{HEIGHT}", "--json")
    assert code == 0, err
    steps = json.loads(out)["steps"]
    frames = iio.imread(path, index=None)
    assert frames.shape == (frame_count(steps, 4), HEIGHT, WIDTH, 3)
    pane = _pane(frames)
    assert (pane[0] != pane[-1]).any(-1).sum() > 50
    assert (pane[1] != pane[2]).any(-1).sum() > 0  # a step at a time, not only at the end


def test_a_minibatch_fit_shows_each_steps_batch(qapp: object, tmp_path: Path,
                                                scenes: list[AnimationScene]) -> None:
    from explorer.core.models import get_model
    from explorer.io.dataset_csv import bundled_datasets, load_dataset

    path = tmp_path / "batches.gif"
    code, out, err = app("fit", "--model", "linear", "--data", "regression", "--epochs", "2",
                         "--batch-size", "64", "--seed", "4", "--animation", str(path),
                         "--size", f"{WIDTH}x{HEIGHT}", "--json")
    assert code == 0, err
    n = load_dataset(bundled_datasets()["regression"], get_model("linear")).n
    (scene,) = scenes
    assert isinstance(scene.data, FitPane)
    # fit's rule (README): each epoch one permutation of the rows from default_rng(seed),
    # cut into batches of B in order.
    rng = np.random.default_rng(4)
    expected = [perm[i: i + 64] for perm in (rng.permutation(n), rng.permutation(n))
                for i in range(0, n, 64)]
    assert json.loads(out)["steps"] == len(expected) == len(scene.data.batches)
    for ours, rule in zip(scene.data.batches, expected, strict=True):
        np.testing.assert_array_equal(ours, rule)


def test_a_full_batch_fit_highlights_no_batch(qapp: object, tmp_path: Path,
                                              scenes: list[AnimationScene]) -> None:
    code, _, err = app("fit", "--model", "linear", "--data", "regression", "--epochs", "3",
                       "--animation", str(tmp_path / "full.gif"), "--size", "200x150")
    assert code == 0, err
    (scene,) = scenes
    assert isinstance(scene.data, FitPane) and len(scene.data.batches) == 0


def test_slice_draws_the_regions_moving_beside_the_map(qapp: object, tmp_path: Path,
                                                       scenes: list[AnimationScene]) -> None:
    path = tmp_path / "net.gif"
    code, _, err = app("slice", "--data", "xor", "--hidden", "6", "--lr", "0.5",
                       "--sharpness-every", "0", "--grid", "5", "--directions", "pca",
                       "--steps", "60", "--every", "20", "--size", f"{WIDTH}x{HEIGHT}",
                       "--animation", str(path))
    assert code == 0, err
    frames = iio.imread(path, index=None)
    assert frames.shape == (frame_count(60, 20), HEIGHT, WIDTH, 3)
    pane, loss = _pane(frames), _loss(frames)
    assert (pane[0] != pane[-1]).any(-1).sum() > 50
    assert (loss[0] != loss[-1]).any(-1).sum() > 50  # the loss plot above it still grows
    # The regions follow every step's parameters, from the seed's initialisation on.
    (scene,) = scenes
    pane = scene.data
    assert isinstance(pane, RegionsPane)
    spec = NetSpec(2, (6,), "tanh", "mse")
    assert pane.parameters.shape == (61, spec.parameter_count)
    np.testing.assert_array_equal(pane.parameters[0], flat_parameters(build_net(spec, 0)))
    assert len(np.unique(pane.parameters, axis=0)) == 61  # a row a step, each its own


def test_data_of_three_features_animates_without_the_pane(
        qapp: object, tmp_path: Path, scenes: list[AnimationScene]) -> None:
    rng = np.random.default_rng(0)
    features = rng.normal(size=(40, 3))
    labels = np.where(features[:, 0] + features[:, 2] > 0, 1, -1)
    data = tmp_path / "three.csv"
    np.savetxt(data, np.column_stack((features, labels)), delimiter=",",
               header="a,b,c,label", comments="", fmt="%.17g")
    path = tmp_path / "three.gif"
    code, _, err = app("slice", "--data", str(data), "--hidden", "4", "--lr", "0.3",
                       "--sharpness-every", "0", "--grid", "3", "--steps", "10",
                       "--size", f"{WIDTH}x{HEIGHT}", "--animation", str(path))
    assert code == 0, err
    frames = iio.imread(path, index=None)
    assert frames.shape == (frame_count(10, 1), HEIGHT, WIDTH, 3)
    (scene,) = scenes
    assert scene.data is None  # three features: no plane to shade, no pane
