"""`basin`: which minimum each start of a grid reaches, as a table, JSON or a PNG map; no Qt."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, TextIO

from explorer.cli import common
from explorer.core.budget import check_work
from explorer.core.optimizers import REGISTRY, parse_params, validate
from explorer.core.presets import get_preset
from explorer.core.scipy_methods import METHODS, is_scipy_method, parse_options
from explorer.core.trajectory import RunSettings

NAME = "basin"

# The grid limits of explorer.core.basin, repeated here so that building the parser does not
# import the core module (and torch with it) for commands that never use it.
_MIN_GRID, _MAX_GRID, _DEFAULT_GRID = 2, 512, 64
# From this much work (starts x steps) a map announces itself on stderr, with what Ctrl+C does.
_LONG_MAP_POINT_STEPS = 1 << 28
# From this many starts a scipy map (one minimize each, milliseconds apiece) announces itself.
_SCIPY_NOTICE_STARTS = 1024
_DEFAULT_LR = 0.01


def _domain(text: str) -> tuple[float, float, float, float]:
    xmin, xmax, ymin, ymax = common.numbers(text, 4, "XMIN,XMAX,YMIN,YMAX (four numbers)")
    if not (xmin < xmax and ymin < ymax):
        raise argparse.ArgumentTypeError(
            f"expected XMIN < XMAX and YMIN < YMAX, got {common.shown(text)}")
    return xmin, xmax, ymin, ymax


def _grid(text: str) -> int:
    value = common.whole(text)
    if not _MIN_GRID <= value <= _MAX_GRID:
        raise argparse.ArgumentTypeError(
            f"expected a grid size from {_MIN_GRID} to {_MAX_GRID}, got {common.shown(text)}"
        )
    return value


def add_parser(sub: Any) -> None:
    """Register the `basin` subcommand."""
    basin = sub.add_parser(
        NAME, help="basins of attraction: which minimum each start of a grid reaches"
    )
    common.add_function_options(basin)
    basin.add_argument(
        "--domain",
        metavar="XMIN,XMAX,YMIN,YMAX",
        type=_domain,
        help="the rectangle of starts (default: the preset's domain)",
    )
    basin.add_argument(
        "--grid",
        metavar="N",
        type=_grid,
        default=_DEFAULT_GRID,
        help=f"N x N starts, N from {_MIN_GRID} to {_MAX_GRID}",
    )
    shown = [*(name for name in REGISTRY if name != "lbfgs"), *METHODS]
    common.add_optimizer_option(basin, shown=shown, scipy=True)
    common.add_lr_option(basin)
    common.add_schedule_option(basin)
    basin.add_argument("--steps", type=common.steps, default=100, help="optimiser steps per start")
    common.add_param_option(basin)
    basin.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    basin.add_argument("--png", metavar="PATH", help="write the map as a PNG image")
    basin.add_argument("--svg", metavar="PATH",
                       help="write the map as an SVG figure with axes, title and legend")
    basin.add_argument("--json", action="store_true", help="print one JSON object only")
    common.add_threads_option(basin)


def command(args: argparse.Namespace, out: TextIO) -> int:
    """Run `basin`: the map, then a table or JSON, and optionally the PNG."""
    from explorer.core.basin import BasinCancelled, BasinError, basin_image, basin_map
    from explorer.io.png import write_png

    expression = common.load_function(args)
    preset = get_preset(args.preset) if args.preset is not None else None
    domain = args.domain if args.domain is not None else preset.domain if preset else None
    if domain is None:
        raise common.UsageError("--domain XMIN,XMAX,YMIN,YMAX is required with --function")
    # The map keeps only where each start ends: its limit is the work, not memory.
    grid = f"{args.grid} x {args.grid} starts"
    check_work(args.grid * args.grid, args.steps, keep_rows=False, what=grid)
    common.set_threads(args.threads, args.grid * args.grid)
    settings = _settings(args)
    for path in (args.png, args.svg):
        if path is not None:
            common.check_writable(Path(path))
    scipy = is_scipy_method(args.optimizer)
    done = 0

    def progress(step: int, total: int) -> bool:
        nonlocal done
        done = step
        return not stop.requested

    with common.StopOnInterrupt() as stop:
        if args.grid * args.grid * args.steps >= _LONG_MAP_POINT_STEPS:
            common.notice(f"computing {grid} x {args.steps} steps; Ctrl+C stops")
        elif scipy and args.grid * args.grid >= _SCIPY_NOTICE_STARTS:
            common.notice(f"{grid}, one scipy minimize each; Ctrl+C stops")
        try:
            result = basin_map(
                expression.evaluate,
                domain,
                settings,
                n=args.grid,
                device=args.device,
                known_minima=preset.minima if preset and preset.minima else None,
                progress=progress,
            )
        except BasinError as error:
            raise common.UsageError(str(error)) from None
        except BasinCancelled:
            where = (
                f"after {done} of {args.grid * args.grid} starts"
                if scipy
                else f"at step {done} of {args.steps}"
            )
            raise common.Interrupted(f"interrupted {where}: no map") from None
    if args.png is not None:
        write_png(args.png, basin_image(result))
    if args.svg is not None:
        from explorer.io.svg_figure import write_svg

        write_svg(args.svg, basin_svg(result, expression.text))
    if args.json:
        payload = {
            "minima": [
                {
                    "x": common.finite(m.x),
                    "y": common.finite(m.y),
                    "f": common.finite(m.f),
                    "share": m.share,
                }
                for m in result.minima
            ],
            "global_share": result.global_share,
            "diverged_share": result.diverged_share,
            "unfinished_share": result.unfinished_share,
            "plateau_share": result.plateau_share,
            "schedule": settings.schedule,
        }
        common.write_json(payload, out)
        return 0
    _print_table(expression.text, result, out)
    for path in (args.png, args.svg):
        if path is not None:
            out.write(f"wrote {path}\n")
    return 0


def basin_svg(result: Any, function: str) -> str:
    """The map as an SVG figure: the --png image on x and y axes, titled, with a legend of the
    minima (colour, position, f and share) and of the starts that reached none."""
    from explorer.core.basin import (
        DIVERGED,
        PLATEAU,
        UNFINISHED,
        basin_image,
        label_colour,
        minimum_colour,
    )
    from explorer.io.svg_figure import LegendEntry, image_figure_svg

    legend = [
        LegendEntry(minimum_colour(i), f"({m.x:.4g}, {m.y:.4g}), f = {m.f:.4g}: {m.share:.1%}"
                    + (" (global)" if m.is_global else ""))
        for i, m in enumerate(result.minima)
    ]
    for label, name, share in ((DIVERGED, "diverged", result.diverged_share),
                               (UNFINISHED, "no minimum within the steps",
                                result.unfinished_share),
                               (PLATEAU, "flat: no isolated minimum", result.plateau_share)):
        if share > 0:
            legend.append(LegendEntry(label_colour(label), f"{name}: {share:.1%}"))
    title = f"Basins of f(x, y) = {function}"
    # Each start's cell is centred on it, so the image reaches half a cell past the domain.
    xmin, xmax, ymin, ymax = result.domain
    hx, hy = (xmax - xmin) / (2 * (result.n - 1)), (ymax - ymin) / (2 * (result.n - 1))
    cells = (xmin - hx, xmax + hx, ymin - hy, ymax + hy)
    return image_figure_svg(basin_image(result), cells, title=title, legend=legend)


def _settings(args: argparse.Namespace) -> RunSettings:
    """The run settings; a scipy method takes its own options and neither --lr nor --schedule."""
    if is_scipy_method(args.optimizer):
        name = args.optimizer
        if args.lr != _DEFAULT_LR:
            raise common.UsageError(f"--lr is for torch optimisers; {name} is scipy's")
        if args.schedule:
            raise common.UsageError(f"--schedule changes a learning rate; {name} has none")
        if args.device != "cpu":
            raise common.UsageError(f"{name} is a scipy method: it runs on the CPU only")
        options = parse_options(name, args.param)
        return RunSettings.create(options, optimizer=name, lr=0.0, steps=args.steps)
    params = parse_params(args.optimizer, args.param)
    validate(args.optimizer, args.lr, params)
    schedule = common.schedule_of(args, args.steps, args.lr)
    return RunSettings.create(
        params, optimizer=args.optimizer, lr=args.lr, steps=args.steps, schedule=schedule
    )


def _print_table(function: str, result: Any, out: TextIO) -> None:
    xmin, xmax, ymin, ymax = result.domain
    out.write(f"f(x, y) = {function}\n")
    settings = result.settings
    head = common.settings_text(settings)
    if is_scipy_method(settings.optimizer):  # no learning rate: scipy's name and options
        head = f"scipy.optimize.minimize {settings.optimizer}{settings.params_label()}"
    out.write(
        head
        + f", {result.settings.steps} steps; {result.n} x {result.n} starts over "
        + f"x in [{xmin:g}, {xmax:g}], y in [{ymin:g}, {ymax:g}] on {result.device}\n\n"
    )
    if not result.minima:
        out.write("no isolated minimum reached\n")
    else:
        rows = [("#", "x", "y", "f", "share", "")]
        for i, m in enumerate(result.minima):
            mark = "global" if m.is_global else ""
            rows.append(
                (str(i), f"{m.x:.10g}", f"{m.y:.10g}", common.fmt(m.f), f"{m.share:.2%}", mark)
            )
        common.write_table(rows, out)
    out.write("\n")
    known = {
        None: "",
        True: " (the preset's known global minimum)",
        False: " (NOT the preset's known global minimum: it was not reached)",
    }[result.matches_known]
    if result.minima:
        out.write(f"reached the lowest minimum found{known}: {result.global_share:.2%}\n")
    out.write(
        f"diverged: {result.diverged_share:.2%}, "
        f"unfinished (ended near no minimum): {result.unfinished_share:.2%}\n"
    )
    if result.plateau_count:
        out.write(
            "on a plateau (f is flat where they ended: no isolated minimum): "
            f"{result.plateau_share:.2%}\n"
        )
