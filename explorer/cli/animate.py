"""--animation OUT.gif|OUT.mp4 with --fps, --every and --size, for the commands that descend.

The one command-line module that draws: render() imports the window's views (PySide6) only when
an animation is asked for, on Qt's offscreen platform unless another is chosen, so every command
still starts without Qt and runs without a display. A command adds the options (add_options),
checks them before its work (settings_of) and hands its paths over at the end (render): `run`,
`fit` and `slice` do, through render_trajectories, render_fit and render_slice. A fit's and a
network's animations have the data view beside the map: the model's curve, the network's
decision regions, at each frame's parameters.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from explorer.cli import common
from explorer.core.landscape import Domain, LandscapeGrid
from explorer.core.trajectory import Trajectory

if TYPE_CHECKING:
    from explorer.core.loss_slice import LossSlice
    from explorer.core.models import ModelSpec
    from explorer.core.network import NetSpec
    from explorer.gui.tools.animation_export import AnimationScene, DataPane
    from explorer.io.dataset_csv import Dataset, FeatureData
from explorer.io.animation import (
    DEFAULT_FPS,
    DEFAULT_SIZE,
    MAX_EVERY,
    MAX_FPS,
    MAX_SIZE,
    MIN_SIZE,
    AnimationSettings,
    check_animation_path,
)

FloatArray = NDArray[np.float64]

__all__ = [
    "Frames", "add_options", "domain_around", "draws", "render", "render_fit", "render_slice",
    "render_trajectories", "settings_of",
]

_SIZE = re.compile(r"^\s*(\d{1,6})\s*[xX]\s*(\d{1,6})\s*$")
# A path point farther out than this many times the starts' reach is left out of the drawn box:
# a diverging path would make the map a dot.
_REACH = 20.0
# ...and so is one beyond this: a map that wide has no use, and its arithmetic would overflow.
_FARTHEST = 1e150


def _whole_in(low: int, high: int, what: str) -> Callable[[str], int]:
    """The option type of a whole number from low to high."""

    def convert(text: str) -> int:
        value = common.whole(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(
                f"expected {what} from {low} to {high}, got {common.shown(text)}")
        return value

    return convert


def size(text: str) -> tuple[int, int]:
    """WxH: a frame size in pixels within MIN_SIZE and MAX_SIZE."""
    found = _SIZE.match(text)
    width, height = (int(found[1]), int(found[2])) if found else (0, 0)
    if not (MIN_SIZE[0] <= width <= MAX_SIZE[0] and MIN_SIZE[1] <= height <= MAX_SIZE[1]):
        raise argparse.ArgumentTypeError(
            f"expected WIDTHxHEIGHT from {MIN_SIZE[0]}x{MIN_SIZE[1]} to "
            f"{MAX_SIZE[0]}x{MAX_SIZE[1]} pixels, got {common.shown(text)}")
    return width, height


def add_options(parser: argparse.ArgumentParser) -> None:
    """--animation, --fps, --every and --size."""
    parser.add_argument(
        "--animation", metavar="OUT.gif|OUT.mp4",
        help="write the contour map and the loss plot with the paths growing step by step "
        "(and the data view at each frame's parameters where there is data), as a GIF or an "
        "MP4 (no display needed)")
    parser.add_argument(
        "--fps", type=_whole_in(1, MAX_FPS, "frames a second"), default=DEFAULT_FPS,
        help=f"with --animation: frames a second (default {DEFAULT_FPS}, at most {MAX_FPS})")
    parser.add_argument(
        "--every", type=_whole_in(1, MAX_EVERY, "steps per frame"), default=1, metavar="K",
        help="with --animation: a frame for the start, every K-th step and the last step "
        "(default 1)")
    parser.add_argument(
        "--svg", metavar="OUT.svg",
        help="write the contour map with the whole paths as an SVG figure (no display needed)")
    parser.add_argument(
        "--size", type=size, default=DEFAULT_SIZE, metavar="WxH",
        help=f"with --animation or --svg: the picture's size in pixels (default "
        f"{DEFAULT_SIZE[0]}x{DEFAULT_SIZE[1]})")


def settings_of(args: argparse.Namespace) -> AnimationSettings | None:
    """The animation asked for (None: none), its path checked before any work (ExportError);
    --fps, --every or --size without --animation is a usage error. Checks --svg's path too."""
    svg = getattr(args, "svg", None)
    if svg is not None:
        if Path(svg).suffix.lower() != ".svg":
            raise common.UsageError(f"--svg writes SVG: give a file name ending in .svg, not "
                                    f"{common.shown(svg)}")
        common.check_writable(Path(svg))
    if args.animation is None:
        frame_options = _FRAME_OPTIONS if svg is None else _FRAME_OPTIONS[:2]
        given = [flag for flag, key, default in frame_options if getattr(args, key) != default]
        if given:
            raise common.UsageError(f"{given[0]} is for --animation: give --animation OUT.gif too")
        return None
    check_animation_path(args.animation)
    width, height = args.size
    return AnimationSettings(fps=args.fps, every=args.every, width=width, height=height)


_FRAME_OPTIONS = (("--fps", "fps", DEFAULT_FPS), ("--every", "every", 1),
                  ("--size", "size", DEFAULT_SIZE))


@dataclass(frozen=True)
class Frames:
    """What a command animates: its paths (points (n, 2) and values (n,)) on a landscape, for
    each path, optionally, other values (n,) dotted beside its own (beside, by index), and the
    data pane beside the map (None: none)."""

    xy: Sequence[FloatArray]
    f: Sequence[FloatArray]
    labels: Sequence[str]
    names: tuple[str, str, str] = ("x", "y", "f(x, y)")
    caption: str = ""
    beside: Sequence[tuple[FloatArray, str] | None] = ()
    data: DataPane | None = None
    # Each path's colour as the window's colour of a run of this index (default: the path's
    # own index); a race gives every path of one entry its entry's colour, as the window does.
    color_of: Sequence[int] = ()


def domain_around(paths: Sequence[FloatArray], at_least: Domain | None = None) -> Domain:
    """A box around the paths' points, a tenth wider on each side (and around at_least): the
    starts always (up to 1e150), a diverging path's far points not."""
    starts = np.array([path[0] for path in paths if len(path)], dtype=np.float64).reshape(-1, 2)
    points = np.concatenate([np.asarray(path, dtype=np.float64).reshape(-1, 2)
                             for path in paths] + [starts])
    points = points[np.isfinite(points).all(axis=1)]
    finite_starts = starts[np.isfinite(starts).all(axis=1)]
    reach = _REACH * (1.0 + float(np.abs(finite_starts).max(initial=0.0)))
    points = points[(np.abs(points) <= min(reach, _FARTHEST)).all(axis=1)]
    if at_least is not None:
        corners = np.array([[at_least[0], at_least[2]], [at_least[1], at_least[3]]])
        points = np.concatenate([points, corners])
    if not len(points):
        return (-1.0, 1.0, -1.0, 1.0)
    low, high = points.min(axis=0), points.max(axis=0)
    # A tenth of the span, but at least half a unit, or a millionth of the values' size where
    # they are large (half a unit would vanish in their rounding).
    pad = np.maximum(0.1 * (high - low), np.maximum(0.5, 1e-6 * np.maximum(-low, high)))
    low, high = low - pad, high + pad
    return (float(low[0]), float(high[0]), float(low[1]), float(high[1]))


def draws(args: argparse.Namespace) -> bool:
    """Whether the command was asked for a picture: --animation or --svg."""
    return args.animation is not None or getattr(args, "svg", None) is not None


def _scene(grid: LandscapeGrid, frames: Frames) -> AnimationScene:
    from explorer.gui.tools.animation_export import (
        AnimatedPath,
        AnimationScene,
        trajectory_color,
    )

    beside = list(frames.beside) + [None] * (len(frames.xy) - len(frames.beside))
    color_of = list(frames.color_of) or list(range(len(frames.xy)))
    paths = [AnimatedPath(np.asarray(xy, dtype=np.float64).reshape(-1, 2),
                          np.asarray(f, dtype=np.float64).reshape(-1), label=label,
                          color=trajectory_color(index),
                          beside=None if other is None else np.asarray(other[0], np.float64),
                          beside_label="" if other is None else other[1])
             for xy, f, label, other, index in zip(frames.xy, frames.f, frames.labels, beside,
                                                   color_of, strict=True)]
    return AnimationScene(grid, paths, names=frames.names, log=grid.suggest_log,
                          caption=frames.caption, data=frames.data)


def render(args: argparse.Namespace, settings: AnimationSettings | None, grid: LandscapeGrid,
           frames: Frames) -> str:
    """Draw the paths over the landscape grid into --animation and --svg, those given (log
    colours where the grid suggests them, as the window does); the lines that say so."""
    from explorer.gui.tools.animation_export import render_animation, save_scene_svg

    scene = _scene(grid, frames)
    lines = ""
    if settings is not None:
        count = render_animation(scene, settings, Path(args.animation))
        lines += f"wrote {args.animation} ({count} frames, {count / settings.fps:.3g} s at " \
            f"{settings.fps} fps)\n"
    svg = getattr(args, "svg", None)
    if svg is not None:
        save_scene_svg(scene, Path(svg), *args.size)
        lines += f"wrote {svg}\n"
    return lines


def render_trajectories(args: argparse.Namespace, function: str,
                        trajectories: Sequence[Trajectory], *, caption: str = "",
                        domain: Domain | None = None, color_of: Sequence[int] = ()) -> str:
    """--animation for paths on f(x, y) (nothing without it): over the domain given, the
    --preset's, or a box around the paths; each named by its number and optimiser, coloured
    as the window colours a run of index color_of[i] (default i). The line for the table."""
    from explorer.core.expression import parse
    from explorer.core.landscape import sample_landscape
    from explorer.core.presets import get_preset

    settings = settings_of(args)
    if not draws(args) or not trajectories:
        return ""
    xy = [np.column_stack((t.x, t.y)) for t in trajectories]
    preset = getattr(args, "preset", None)
    if domain is None:
        domain = get_preset(preset).domain if preset else domain_around(xy)
    grid = sample_landscape(parse(function), domain)
    labels = [f"#{i} {t.optimizer}" for i, t in enumerate(trajectories)]
    frames = Frames(xy, [t.f for t in trajectories], labels, caption=caption,
                    color_of=color_of)
    return render(args, settings, grid, frames)


def render_fit(args: argparse.Namespace, model: ModelSpec, data: Dataset, params: FloatArray,
               loss: FloatArray, *, caption: str = "",
               batches: Sequence[NDArray[np.int64]] = ()) -> str:
    """--animation for a fit (nothing without it): its parameters' path over the full-data loss,
    on the window's box for the model widened to the path, the data with the model's curve at
    each frame's parameters beside it (and the step's batch, given a minibatch fit's batches).
    The line for the summary."""
    from explorer.core.model_landscape import ModelLandscape
    from explorer.gui.tools.animation_export import model_grid

    settings = settings_of(args)
    if not draws(args):
        return ""
    from explorer.gui.tools.animation_export import FitPane

    path = np.asarray(params, dtype=np.float64).reshape(-1, 2)
    domain = domain_around([path], at_least=ModelLandscape(model, data).domain)
    grid = model_grid(ModelLandscape(model, data, domain))
    names = (model.params[0], model.params[1], "loss")
    frames = Frames([path], [loss], [f"{model.name} {args.optimizer}"], names=names,
                    caption=caption, data=FitPane(data.x, data.y, model.predict, *model.columns,
                                                  batches=batches))
    return render(args, settings, grid, frames)


def render_slice(args: argparse.Namespace, view: LossSlice, *, label: str,
                 caption: str = "",
                 network: tuple[FeatureData, NetSpec, FloatArray] | None = None) -> str:
    """--animation and --svg for `slice` (nothing without them): the training path projected on
    the slice over the slice's loss, its true loss and the slice's loss at the projection (dotted)
    growing beside it, and given the network (its data, shape and parameters after each step),
    the data over its decision regions at each frame's step where the data has two features.
    The lines for the summary."""
    from explorer.core.landscape import grid_of_values

    settings = settings_of(args)
    if not draws(args):
        return ""
    from explorer.gui.tools.animation_export import regions_pane

    a, b = view.alphas, view.betas
    domain = (float(a[0]), float(a[-1]), float(b[0]), float(b[-1]))
    grid = grid_of_values(domain, a, b, view.losses.copy())
    pane = None
    if network is not None:
        data, spec, parameters = network
        pane = regions_pane(data.features, data.labels, data.feature_names, spec, parameters,
                            len(view.path_ab))
    frames = Frames([view.path_ab], [view.path_loss], [label], names=("a", "b", "loss"),
                    caption=caption, beside=[(view.path_slice_loss, "on the slice")], data=pane)
    return render(args, settings, grid, frames)
