"""Basins of attraction: the core map (minima, shares, statuses, cancel) and the `basin` command.

Golden values come from outside the code: Himmelblau's published minima (the preset's), and
maps whose outcome can be worked out by hand (a double well split at x = 0, a saddle).
"""

from __future__ import annotations

import io
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer.core.basin import (
    DIVERGED,
    PLATEAU,
    PLATEAU_RGB,
    UNFINISHED,
    BasinCancelled,
    BasinError,
    BasinMap,
    basin_image,
    basin_map,
    label_colour,
    minimum_colour,
)
from explorer.core.expression import parse
from explorer.core.optimizers import OptimizerError
from explorer.core.presets import Minimum, get_preset
from explorer.core.trajectory import RunSettings

ROOT = Path(__file__).resolve().parents[2]
HIMMELBLAU = get_preset("himmelblau")
ADAM = RunSettings(optimizer="adam", lr=0.1, steps=200)


def double_well(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Minima (-1, 0) and (1, 0), f = 0 at both."""
    return (x**2 - 1) ** 2 + y**2


def saddle(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return x**2 - y**2


def total_share(result: BasinMap) -> float:
    shares = result.diverged_share + result.unfinished_share + result.plateau_share
    return sum(m.share for m in result.minima) + shares


@pytest.fixture(scope="module")
def himmelblau_map() -> BasinMap:
    return basin_map(
        parse(HIMMELBLAU.formula).evaluate,
        HIMMELBLAU.domain,
        ADAM,
        known_minima=HIMMELBLAU.minima,
    )


def test_himmelblau_finds_exactly_the_four_known_minima(himmelblau_map: BasinMap) -> None:
    result = himmelblau_map
    assert len(HIMMELBLAU.minima) == 4 and len(result.minima) == 4
    for known in HIMMELBLAU.minima:
        near = [m for m in result.minima if math.hypot(m.x - known.x, m.y - known.y) <= 1e-6]
        assert len(near) == 1, known
        assert abs(near[0].f - known.f) <= 1e-12
    # All four have f = 0: all are global, and every start that reached one reached a global one.
    assert all(m.is_global for m in result.minima)
    assert result.matches_known is True
    assert result.global_share == pytest.approx(sum(m.share for m in result.minima), abs=1e-12)
    assert abs(total_share(result) - 1.0) <= 1e-12


def test_himmelblau_labels_are_indexed_ix_iy(himmelblau_map: BasinMap) -> None:
    result = himmelblau_map
    n = 64
    assert result.labels.shape == (n, n) and result.ends.shape == (n, n, 2)
    assert result.xs[0] == -5 and result.xs[-1] == 5 and result.ys[0] == -5 and result.ys[-1] == 5
    counts = [int(np.count_nonzero(result.labels == i)) for i in range(4)]
    assert counts == [m.count for m in result.minima]
    assert [m.share for m in result.minima] == [c / n**2 for c in counts]
    assert set(np.unique(result.labels)) <= {UNFINISHED, DIVERGED, 0, 1, 2, 3}
    # The start next to each minimum (less than a grid step away) stays in its basin.
    for index, m in enumerate(result.minima):
        ix, iy = np.abs(result.xs - m.x).argmin(), np.abs(result.ys - m.y).argmin()
        assert result.labels[ix, iy] == index
        assert np.hypot(*(result.ends[ix, iy] - (m.x, m.y))) < 0.01 * 10
    with pytest.raises(ValueError):
        result.labels[0, 0] = 3  # read-only


def test_double_well_splits_at_x_zero_by_hand() -> None:
    # SGD with lr 0.05: x <- x (1 - 0.2 (x^2 - 1)) keeps x's sign and stays in (0, 2] for
    # 0 < x <= 2, contracting to 1 (factor 0.6 there); y <- 0.9 y. So the 8 x 8 grid over
    # [-2, 2] x [-1, 1] (no start on x = 0) splits in halves at x = 0.
    result = basin_map(double_well, (-2, 2, -1, 1), RunSettings(lr=0.05, steps=200), n=8)
    assert len(result.minima) == 2
    left = next(i for i, m in enumerate(result.minima) if m.x < 0)
    right = 1 - left
    for index, x in ((left, -1.0), (right, 1.0)):
        m = result.minima[index]
        assert math.hypot(m.x - x, m.y) <= 1e-6 and abs(m.f) <= 1e-12
        assert m.share == 0.5 and m.count == 32 and m.is_global
    assert (result.labels[:4] == left).all() and (result.labels[4:] == right).all()
    assert result.global_share == 1.0 and result.diverged_share == result.unfinished_share == 0
    assert result.matches_known is None


def test_saddle_is_never_a_minimum_by_hand() -> None:
    # SGD lr 0.1 on x^2 - y^2: x <- 0.8 x, y <- 1.2 y. Over [-1, 1]^2 with a 5 x 5 grid, the
    # 20 starts with y != 0 leave the bound 1e6; the 5 on y = 0 settle on the saddle (0, 0),
    # which is not a minimum: they are unfinished.
    result = basin_map(saddle, (-1, 1, -1, 1), RunSettings(lr=0.1, steps=200), n=5)
    assert result.minima == ()
    assert result.diverged_share == 20 / 25 and result.unfinished_share == 5 / 25
    assert (result.labels[:, 2] == UNFINISHED).all()
    assert (np.delete(result.labels, 2, axis=1) == DIVERGED).all()
    assert np.isnan(result.ends[0, 0]).all() and np.isfinite(result.ends[:, 2]).all()
    assert result.global_share == 0.0


def test_saddle_with_adam_reports_no_minimum() -> None:
    result = basin_map(saddle, (-1, 1, -1, 1), ADAM, n=16)
    assert result.minima == ()
    assert result.diverged_share + result.unfinished_share == 1.0


def test_huge_learning_rate_diverges() -> None:
    # lr 1 is far above 2 / lambda_max at each of Himmelblau's minima (lambda_max > 30), so no
    # start can settle anywhere; they leave the bound or become NaN.
    result = basin_map(
        parse(HIMMELBLAU.formula).evaluate, HIMMELBLAU.domain, RunSettings(lr=1.0, steps=50), n=16
    )
    assert result.diverged_share > 0.5
    assert abs(total_share(result) - 1.0) <= 1e-12
    assert np.isnan(result.ends[result.labels == DIVERGED]).all()


def test_shares_of_every_kind_sum_to_one() -> None:
    # Over [-4, 4]: |x| above about 3.3 grows under SGD lr 0.05 (diverged); 10 steps shrink
    # y only by 0.9^10 = 0.35, so starts with |y| near 1 end far from a minimum (unfinished).
    result = basin_map(double_well, (-4, 4, -1, 1), RunSettings(lr=0.05, steps=10), n=9)
    assert result.diverged_share > 0 and result.unfinished_share > 0 and result.minima
    assert abs(total_share(result) - 1.0) <= 1e-12
    counts = sum(m.count for m in result.minima) + result.diverged_count
    assert counts + result.unfinished_count == 81


def test_progress_is_reported_and_can_cancel() -> None:
    calls: list[tuple[int, int]] = []

    def progress(done: int, total: int) -> bool:
        calls.append((done, total))
        return done < 20

    with pytest.raises(BasinCancelled):
        basin_map(double_well, (-2, 2, -1, 1), RunSettings(lr=1e-3, steps=100), n=4,
                  progress=progress)
    assert calls == [(0, 100), (10, 100), (20, 100)]

    calls.clear()
    result = basin_map(double_well, (-2, 2, -1, 1), RunSettings(lr=1e-3, steps=25), n=4,
                       progress=lambda d, t: calls.append((d, t)) is None)
    assert calls == [(0, 25), (10, 25), (20, 25), (25, 25)]
    assert result.steps_run == 25


def test_stops_early_once_every_start_converged() -> None:
    # f = x^2 + y^2 with SGD lr 0.5 lands on (0, 0) in one step: gradient exactly 0.
    result = basin_map(
        parse("x**2 + y**2").evaluate, (-1, 1, -1, 1), RunSettings(lr=0.5, steps=500), n=4
    )
    assert result.steps_run == 10  # the first check after the landing
    assert len(result.minima) == 1 and result.minima[0].share == 1.0


def test_non_smooth_minimum_is_found() -> None:
    # Adam's steps shrink only with its learning rate: lr 0.05 ends most starts within the
    # assignment radius (0.02 here) of the kink at (0, 0.3).
    adam = RunSettings(optimizer="adam", lr=0.05, steps=200)
    result = basin_map(parse("abs(x) + abs(y - 0.3)").evaluate, (-1, 1, -1, 1), adam, n=8)
    assert len(result.minima) == 1
    m = result.minima[0]
    assert math.hypot(m.x, m.y - 0.3) <= 1e-6 and m.share > 0.5


def test_known_minima_that_were_not_reached() -> None:
    result = basin_map(
        double_well, (-2, 2, -1, 1), RunSettings(lr=0.05, steps=200), n=4,
        known_minima=(Minimum(5.0, 5.0, -1.0),),
    )
    assert result.matches_known is False


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"domain": (1, -1, -1, 1)}, BasinError),
        ({"domain": (-1, 1, 0, 0)}, BasinError),
        ({"domain": (-1, 1, -1, math.inf)}, BasinError),
        ({"n": 1}, BasinError),
        ({"n": 513}, BasinError),
        ({"device": "tpu"}, BasinError),
        ({"settings": RunSettings(optimizer="lbfgs")}, OptimizerError),
        ({"settings": RunSettings(ascent=True)}, BasinError),
        ({"settings": RunSettings(optimizer="nope")}, OptimizerError),
    ],
)
def test_bad_arguments_are_refused(kwargs: dict[str, object], error: type[Exception]) -> None:
    arguments: dict[str, object] = {"domain": (-1, 1, -1, 1), "settings": RunSettings(), "n": 4}
    arguments.update(kwargs)
    with pytest.raises(error):
        basin_map(double_well, **arguments)  # type: ignore[arg-type]


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_without_cuda_is_a_clear_error() -> None:
    with pytest.raises(BasinError, match="CUDA is not available"):
        basin_map(double_well, (-1, 1, -1, 1), RunSettings(), n=4, device="cuda")


def test_image_puts_high_y_at_the_top_and_marks_minima() -> None:
    from explorer.core.basin import BasinMinimum

    labels = np.array([[0, DIVERGED], [UNFINISHED, 1]], dtype=np.int64)  # [ix, iy]
    minima = (
        BasinMinimum(0.5, 0.5, 0.0, 1, 0.25, True),  # drawn as a cross at the centre
        BasinMinimum(9.0, 9.0, 1.0, 1, 0.25, False),  # outside the domain: not drawn
    )
    result = BasinMap(
        xs=np.array([0.0, 1.0]),
        ys=np.array([0.0, 1.0]),
        labels=labels,
        ends=np.zeros((2, 2, 2)),
        minima=minima,
        global_share=0.25,
        diverged_share=0.25,
        unfinished_share=0.25,
        matches_known=None,
        domain=(0.0, 1.0, 0.0, 1.0),
        settings=RunSettings(),
        steps_run=0,
        device="cpu",
    )
    image = basin_image(result, scale=20)
    assert image.shape == (40, 40, 3) and image.dtype == np.uint8
    # Top-left block is (x=0, y=1): labels[0, 1]; bottom-right is (x=1, y=0): labels[1, 0].
    assert tuple(image[0, 0]) == label_colour(DIVERGED) == (0, 0, 0)
    assert tuple(image[39, 0]) == minimum_colour(0)
    assert tuple(image[0, 39]) == minimum_colour(1)
    assert tuple(image[39, 39]) == label_colour(UNFINISHED)
    assert tuple(image[20, 20]) == (255, 255, 255)  # the marker of the minimum at (0.5, 0.5)
    colours = {label_colour(DIVERGED), label_colour(UNFINISHED)}
    colours |= {minimum_colour(i) for i in range(40)}
    assert len(colours) == 42  # every label its own colour


def test_noise_is_seeded() -> None:
    def run(noise: float, seed: int) -> BasinMap:
        settings = RunSettings(lr=0.05, steps=30, noise=noise, seed=seed)
        return basin_map(double_well, (-2, 2, -1, 1), settings, n=6)

    quiet, first, again, other = run(0.0, 0), run(0.5, 1), run(0.5, 1), run(0.5, 2)
    assert np.array_equal(first.ends, again.ends)
    assert not np.array_equal(first.ends, quiet.ends)
    assert not np.array_equal(first.ends, other.ends)


# --- flat functions and flat regions: a plateau, never minima -----------------------------------


@pytest.mark.parametrize("text", ["1 + 0*x", "0*x*y", "2.5", "floor(0.1*x) + 3"])
def test_a_flat_function_is_one_plateau_not_minima(text: str) -> None:
    # f is the same everywhere in the domain (floor(0.1*x) is 0 on [1, 9]): no start can be said
    # to reach a minimum of its own, so every start ends on the plateau.
    settings = RunSettings(lr=0.01, steps=10)
    result = basin_map(parse(text).evaluate, (1, 9, -1, 1), settings, n=8)
    assert result.minima == ()
    assert (result.labels == PLATEAU).all()
    assert result.plateau_share == 1.0 and result.plateau_count == 64
    assert result.global_share == 0.0 and total_share(result) == pytest.approx(1.0, abs=1e-12)


@settings(max_examples=25, deadline=None)
@given(
    st.floats(min_value=-1e300, max_value=1e300, allow_nan=False),
    st.floats(min_value=-4e5, max_value=4e5, allow_nan=False),
    st.floats(min_value=1e-3, max_value=5e5),  # inside the bound 1e6, past which starts diverge
    st.integers(min_value=2, max_value=12),
)
def test_any_constant_on_any_domain_is_all_plateau(
    value: float, low: float, width: float, n: int
) -> None:
    def constant(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return torch.full_like(x, value) + 0 * y

    domain = (low, low + width, low, low + width)
    result = basin_map(constant, domain, RunSettings(steps=3), n=n)
    assert result.minima == () and result.plateau_share == 1.0


def test_a_flat_region_is_a_plateau_and_the_slope_beside_it_ends_on_its_edge() -> None:
    # (x + |x|)**2 is 0 for x <= 0 (flat: every such point is a minimum, none isolated) and
    # 4x**2 for x > 0, whose descent runs to the edge x = 0 of the flat region.
    result = basin_map(
        parse("(x + abs(x))**2").evaluate, (-1, 1, -1, 1), RunSettings(lr=0.05, steps=400), n=8
    )
    assert result.minima == ()
    left = result.xs < 0
    assert (result.labels[left] == PLATEAU).all()
    assert set(np.unique(result.labels[~left])) <= {PLATEAU, UNFINISHED}
    assert result.plateau_share > 0.5


def test_a_valley_floor_of_minima_is_flat_too() -> None:
    # x**2 is least on the whole line x = 0: each start ends at its own (0, y), and listing 64
    # minima (or 8) would be wrong: the line is flat along y.
    result = basin_map(parse("x**2").evaluate, (-1, 1, -1, 1), RunSettings(lr=0.25, steps=200), n=8)
    assert result.minima == () and result.plateau_share == 1.0


def test_isolated_minima_stay_minima_beside_a_plateau() -> None:
    # A bowl at (0.5, 0) for x > 0, flat (f = 1) for x < -0.5: both kinds in one map.
    text = "min((x - 0.5)**2 + y**2, 1)"
    result = basin_map(parse(text).evaluate, (-2, 2, -1, 1), RunSettings(lr=0.1, steps=300), n=16)
    assert len(result.minima) == 1
    m = result.minima[0]
    assert math.hypot(m.x - 0.5, m.y) <= 1e-6 and m.f == pytest.approx(0.0, abs=1e-12)
    assert result.plateau_share > 0
    # Starts where f is already 1 (outside the unit disc around the bowl) stay on the plateau.
    far = (result.xs[:, None] - 0.5) ** 2 + result.ys[None, :] ** 2 > 1.01
    assert (result.labels[far] == PLATEAU).all()


def test_plateau_has_its_own_colour_in_the_image() -> None:
    result = basin_map(parse("1 + 0*x").evaluate, (-1, 1, -1, 1), RunSettings(steps=3), n=4)
    image = basin_image(result, scale=2)
    assert label_colour(PLATEAU) == PLATEAU_RGB
    assert (image.reshape(-1, 3) == PLATEAU_RGB).all()
    assert PLATEAU_RGB not in {minimum_colour(i) for i in range(64)}


# --- the command line --------------------------------------------------------------------------


def cli(*argv: str) -> tuple[int, str, str]:
    from explorer import cli as module

    out, err = io.StringIO(), io.StringIO()
    code = module.main(list(argv), out, err)
    return code, out.getvalue(), err.getvalue()


def test_cli_json_structure() -> None:
    code, out, err = cli(
        "basin", "--preset", "himmelblau", "--domain", "-5,5,-5,5", "--grid", "32",
        "--optimizer", "adam", "--lr", "0.1", "--steps", "200", "--json",
    )
    assert code == 0 and err == ""
    data = json.loads(out)
    assert set(data) == {
        "minima", "global_share", "diverged_share", "unfinished_share", "plateau_share",
        "schedule",
    }
    assert data["plateau_share"] == 0.0 and data["schedule"] == ""
    assert len(data["minima"]) == 4
    for m in data["minima"]:
        assert set(m) == {"x", "y", "f", "share"}
        assert min(math.hypot(m["x"] - k.x, m["y"] - k.y) for k in HIMMELBLAU.minima) <= 1e-6
    total = sum(m["share"] for m in data["minima"]) + data["diverged_share"]
    assert abs(total + data["unfinished_share"] - 1) <= 1e-12


def test_cli_negative_domain_as_typed() -> None:
    from explorer.cli import normalise_argv

    argv = ["basin", "--function", "(x**2 - 1)**2 + y**2", "--domain", "-2,2,-1,1",
            "--grid", "8", "--lr", "0.05", "--steps", "200", "--json"]
    assert "--domain=-2,2,-1,1" in normalise_argv(argv)
    code, out, err = cli(*argv)
    assert code == 0, err
    data = json.loads(out)
    assert sorted(round(m["x"], 9) for m in data["minima"]) == [-1.0, 1.0]
    assert [m["share"] for m in data["minima"]] == [0.5, 0.5]
    assert data["global_share"] == 1.0


def test_cli_table() -> None:
    code, out, err = cli("basin", "--function", "(x**2 - 1)**2 + y**2", "--domain=-2,2,-1,1",
                         "--grid", "4", "--lr", "0.05", "--steps", "200")
    assert code == 0 and err == ""
    assert "50.00%" in out and "diverged: 0.00%" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--function", "2x", "--domain", "-1,1,-1,1"], "write 2*x"),
        (["--function", "x", "--domain", "1,-1,-1,1"], "XMIN < XMAX"),
        (["--function", "x", "--domain", "-1,1,-1"], "four numbers"),
        (["--function", "x"], "--domain"),
        (["--preset", "himmelblau", "--grid", "513"], "grid size"),
        (["--preset", "himmelblau", "--grid", "1"], "grid size"),
        (["--preset", "himmelblau", "--optimizer", "lbfgs"], "not elementwise"),
        (["--preset", "himmelblau", "--param", "bogus=1"], "bogus"),
        (["--preset", "nope"], "unknown preset"),
        (["--preset", "himmelblau", "--png", "/no/such/folder/map.png"], "does not exist"),
    ],
)
def test_cli_errors_are_one_line_and_exit_2(argv: list[str], message: str) -> None:
    code, out, err = cli("basin", *argv)
    assert code == 2 and out == ""
    assert err.startswith("error: ") and message in err
    assert "Traceback" not in err


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cli_cuda_without_cuda() -> None:
    code, out, err = cli("basin", "--preset", "himmelblau", "--grid", "4", "--device", "cuda")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("error: CUDA is not available")


def test_cli_basin_imports_no_qt(tmp_path: Path) -> None:
    png = tmp_path / "map.png"
    argv = ["basin", "--preset", "bowl", "--grid", "4", "--png", str(png)]
    probe = (
        "import sys, io, contextlib, json\n"
        "from explorer.app import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    assert main({argv!r}) == 0\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    modules = json.loads(out.strip().splitlines()[-1])
    assert [m for m in modules if m.split(".")[0] in ("PySide6", "shiboken6", "pyqtgraph")] == []
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


@pytest.mark.parametrize("json_flag", [False, True])
def test_cli_constant_function_is_a_plateau(json_flag: bool) -> None:
    argv = ["basin", "--function", "1+0*x", "--domain=-1,1,-1,1", "--grid", "8", "--steps", "10"]
    code, out, err = cli(*argv, *(["--json"] if json_flag else []))
    assert code == 0 and err == ""
    if json_flag:
        data = json.loads(out)
        assert data["minima"] == [] and data["plateau_share"] == 1.0
        assert data["global_share"] == 0.0
    else:
        assert "no isolated minimum reached" in out
        assert "on a plateau (f is flat where they ended: no isolated minimum): 100.00%" in out
        assert "global" not in out
