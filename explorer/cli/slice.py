"""`slice`: train a small network on a data CSV, track its sharpness, slice its loss (issue 17).

Training is core.network's rule, the sharpness core.sharpness's, the slice and the projected
path core.loss_slice's (README, "Neural network slices"). --animation and --svg draw the path on
the slice through cli.animate, as `run` and `fit` draw theirs.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from explorer.cli import animate, common
from explorer.core.loss_slice import DIRECTIONS, MAX_GRID
from explorer.core.network import ACTIVATIONS, LOSSES
from explorer.core.toy_data import MAX_SEED

if TYPE_CHECKING:
    from explorer.core.loss_slice import LossSlice
    from explorer.core.network import NetProblem, NetRun, NetSpec, TrainSettings

NAME = "slice"
# From this many steps the command announces itself on stderr, with what Ctrl+C does.
_LONG_STEPS = 20_000


def hidden(text: str) -> tuple[int, ...]:
    """--hidden 32,32: the hidden layers' widths."""
    from explorer.core.network import NetError, parse_hidden

    try:
        return parse_hidden(text)
    except NetError as error:
        message = str(error).replace(repr(text[:40]), common.shown(text))
        raise argparse.ArgumentTypeError(message) from None


def grid(text: str) -> int:
    """--grid N: an odd whole number from 3 to MAX_GRID."""
    value = common.whole(text)
    if not 3 <= value <= MAX_GRID or value % 2 == 0:
        raise argparse.ArgumentTypeError(
            f"expected an odd whole number from 3 to {MAX_GRID} (its middle point is the final "
            f"parameters), got {common.shown(text)}"
        )
    return value


def add_parser(sub: Any) -> None:
    """Register the `slice` subcommand."""
    parser = sub.add_parser(
        NAME, help="train a small network on a data CSV; its sharpness and a 2-D loss slice")
    parser.add_argument("--data", required=True, metavar="FILE",
                        help="a CSV with a 'label' column, every other column a feature, or a "
                        "bundled set's name (spirals, moons, circles, xor) where no such file is")
    parser.add_argument("--hidden", type=hidden, default=(32, 32), metavar="W1,W2,...",
                        help="hidden layers' widths (default 32,32)")
    parser.add_argument("--activation", choices=ACTIVATIONS, default="tanh",
                        help="default tanh")
    parser.add_argument("--loss", choices=LOSSES, default="mse",
                        help="mse: mean (output - label)^2; bce: logistic loss, labels +1/-1 or "
                        "0/1 (default mse)")
    common.add_optimizer_option(parser)
    common.add_lr_option(parser)
    common.add_param_option(parser)
    common.add_schedule_option(parser)
    parser.add_argument("--steps", type=common.steps, default=1000, help="optimiser steps")
    parser.add_argument("--seed", type=common.whole_from(0, MAX_SEED), default=0,
                        help="seeds the initialisation (torch.manual_seed), the minibatches "
                        "(numpy.random.default_rng) and the random directions")
    parser.add_argument("--batch-size", type=common.positive_whole, metavar="B",
                        help="rows per step, by fit's minibatch rule (default: every row)")
    parser.add_argument("--sharpness-every", type=common.non_negative_whole, default=25,
                        metavar="K",
                        help="measure the top Hessian eigenvalue at step 0 and every K steps, "
                        "before that step's update (0: never; default 25)")
    parser.add_argument("--directions", choices=DIRECTIONS, default="filter",
                        help="filter (Li et al.'s filter-normalised random directions), pca (the "
                        "path's principal directions) or fixed (random, from --seed alone)")
    parser.add_argument("--grid", type=grid, default=41, metavar="N",
                        help=f"the slice's N x N points, N odd, 3 to {MAX_GRID} (default 41)")
    parser.add_argument("--json", action="store_true", help="print one JSON object only")
    parser.add_argument("--save", metavar="OUT.npz",
                        help="write the grid, its losses, the projected path and the sharpness")
    parser.add_argument("--csv", metavar="PATH", help="write every step: step,loss,sharpness")
    animate.add_options(parser)
    common.add_threads_option(parser)


def command(args: argparse.Namespace, out: TextIO) -> int:
    """`slice`: load the data, train, slice, print a summary or JSON, write the files asked."""
    from explorer.core.loss_slice import SliceError, check_slice
    from explorer.core.network import (
        NetError,
        NetProblem,
        NetSpec,
        TrainSettings,
        check_training,
        train,
    )
    from explorer.core.optimizers import parse_params, validate
    from explorer.io.dataset_csv import DataError, load_features, network_data_path

    params = parse_params(args.optimizer, args.param)
    validate(args.optimizer, args.lr, params)
    schedule = common.schedule_of(args, args.steps, args.lr)
    for path in (args.save, args.csv):
        if path is not None:
            common.check_writable(Path(path))
    animation = animate.settings_of(args)  # its path, before any work
    if animation is not None:
        animation.check_budget(args.steps)
    try:
        data = load_features(network_data_path(args.data))
        spec = NetSpec(data.features.shape[1], args.hidden, args.activation, args.loss)
        settings = TrainSettings(args.optimizer, args.lr, tuple(params.items()), args.steps,
                                 args.seed, args.batch_size, args.sharpness_every, schedule)
        check_training(spec, data.n, settings)
        problem = NetProblem(spec, data.features, data.labels, args.seed)
        check_slice(problem, args.directions, args.grid)
    except (DataError, NetError, SliceError) as error:
        raise common.UsageError(str(error)) from None
    common.set_threads(args.threads, data.n)
    with common.StopOnInterrupt() as stop:
        if settings.steps >= _LONG_STEPS:
            common.notice(
                f"training {settings.steps} steps; Ctrl+C "
                + ("stops and writes the steps so far" if args.csv else "stops")
            )
        run = train(problem, settings, should_stop=lambda: stop.requested)
    if run.status == "stopped":
        message = f"interrupted at step {run.steps}"
        if args.csv is not None:
            write_slice_csv(args.csv, run)
            message += f"; wrote the steps so far to {args.csv}"
        raise common.Interrupted(message)
    view = _slice_of(problem, run, args.directions, args.grid, args.seed)
    if args.csv is not None:
        write_slice_csv(args.csv, run)
    if args.save is not None:
        write_slice_npz(args.save, run, view, settings)
    wrote = animate.render_slice(args, view, label=f"{settings.optimizer} (true loss)",
                                 caption=f"{spec.text()}, {settings.optimizer}, lr "
                                 f"{settings.lr:g}", network=(data, spec, run.path))
    if args.json:
        common.write_json(slice_json(spec, settings, run, view), out)
    else:
        _print_summary(data.path, spec, settings, run, view, out)
        for path in (args.csv, args.save):
            if path is not None:
                out.write(f"wrote {path}\n")
        out.write(wrote)
    return 0


def _slice_of(problem: NetProblem, run: NetRun, directions: str, size: int, seed: int) -> LossSlice:
    """The slice around the last row where the parameters and the loss are finite (the last
    row, unless the run diverged)."""
    from explorer.core.loss_slice import SliceError, run_slice

    try:
        return run_slice(problem, run.path, run.loss, directions=directions, grid=size,
                         seed=seed)
    except SliceError as error:
        raise common.UsageError(str(error)) from None


def slice_json(
    spec: NetSpec, settings: TrainSettings, run: NetRun, view: LossSlice
) -> dict[str, object]:
    """The --json object (README, "Neural network slices")."""
    finite = common.finite
    payload: dict[str, object] = {
        "loss": finite(float(run.loss[-1])),
        "steps": run.steps,
        "parameters": spec.parameter_count,
        "two_over_lr": 2.0 / settings.lr,
        "sharpness": [[int(k), finite(float(v))] for k, v in run.sharpness],
        "slice": {
            "directions": view.directions,
            "grid": len(view.alphas),
            "center_loss": finite(view.center_loss),
            "max_path_gap": finite(view.max_path_gap),
        },
    }
    if run.status == "diverged":  # the slice is around the last finite row, not the end
        payload["status"] = run.status
    return payload


def write_slice_csv(path: str, run: NetRun) -> None:
    """step,loss,sharpness: the sharpness only on the steps where it was measured."""
    from explorer.io.atomic import atomic_text_writer

    measured = {int(k): float(v) for k, v in run.sharpness}
    with atomic_text_writer(path) as stream:
        stream.write("step,loss,sharpness\n")
        for k in range(run.steps + 1):
            sharp = repr(measured[k]) if k in measured else ""
            stream.write(f"{k},{float(run.loss[k])!r},{sharp}\n")


def write_slice_npz(path: str, run: NetRun, view: LossSlice, settings: TrainSettings) -> None:
    """The slice, the projected path with both its losses and the sharpness, as numpy .npz."""
    import numpy as np

    from explorer.io.atomic import atomic_binary_writer

    with atomic_binary_writer(path) as stream:
        np.savez(
            stream,
            alphas=view.alphas,
            betas=view.betas,
            losses=view.losses,
            path_ab=view.path_ab,
            path_loss=view.path_loss,
            path_slice_loss=view.path_slice_loss,
            sharpness=run.sharpness,
            two_over_lr=np.float64(2.0 / settings.lr),
        )


def _print_summary(
    source: Path | None,
    spec: NetSpec,
    settings: TrainSettings,
    run: NetRun,
    view: LossSlice,
    out: TextIO,
) -> None:
    fmt = common.fmt
    batch = f"batch size {settings.batch_size}" if settings.batch_size else "full batch"
    out.write(f"network {spec.text()} ({spec.parameter_count} parameters) on {source}\n")
    out.write(
        f"optimizer {settings.optimizer}, lr {settings.lr:g}"
        + "".join(f", {k}={v}" for k, v in settings.params)
        + (f", schedule {settings.schedule}" if settings.schedule else "")
        + f", {batch}, seed {settings.seed}\n\n"
    )
    out.write(f"{run.steps} steps: {run.status}; final loss {fmt(run.loss[-1])}\n")
    if len(run.sharpness):
        last = run.sharpness[-1]
        out.write(
            f"sharpness {fmt(run.sharpness[0, 1])} at step 0, {fmt(last[1])} at step "
            f"{int(last[0])} (2/lr = {fmt(2.0 / settings.lr)})\n"
        )
    size = len(view.alphas)
    out.write(
        f"slice: {view.directions} directions, {size} x {size}, centre loss "
        f"{fmt(view.center_loss)}, largest |path loss - slice loss| {fmt(view.max_path_gap)}\n"
    )
