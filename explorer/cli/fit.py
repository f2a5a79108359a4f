"""`fit`: train a two-parameter model on a data CSV with true minibatches (issue 15).

The rule is core.fitting's, exactly: anyone can replay a run from its seed (README, "fit").
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from explorer.cli import animate, common
from explorer.core.models import MODELS

if TYPE_CHECKING:
    from explorer.core.fitting import FitResult, FitSettings
    from explorer.core.model_landscape import ModelLandscape

NAME = "fit"
# From this many steps a fit announces itself on stderr, with what Ctrl+C does.
_LONG_FIT_STEPS = 100_000
# ModelLandscape chooses a domain to draw (a search for non-linear models): the command draws
# nothing, so it names one and skips the search.
_NO_DRAWING = (-1.0, 1.0, -1.0, 1.0)


def add_parser(sub: Any) -> None:
    """Register the `fit` subcommand."""
    fit = sub.add_parser(NAME, help="train a two-parameter model on a data CSV with minibatches")
    fit.add_argument("--model", required=True, choices=list(MODELS), metavar="NAME",
                     help="one of: " + ", ".join(MODELS))
    fit.add_argument("--data", required=True, metavar="FILE",
                     help="a CSV with a header naming the model's columns, or a bundled set's "
                     "name (regression, classification, plateau) where no such file is here")
    common.add_optimizer_option(fit)
    common.add_lr_option(fit)
    common.add_schedule_option(fit)
    common.add_param_option(fit)
    fit.add_argument("--batch-size", type=common.positive_whole, metavar="B",
                     help="rows per step (default: every row, one step per epoch)")
    fit.add_argument("--epochs", type=common.non_negative_whole, default=20,
                     help="passes over the data")
    fit.add_argument("--seed", type=common.non_negative_whole, default=0,
                     help="seeds numpy.random.default_rng, which draws each epoch's permutation")
    fit.add_argument("--start", type=common.pair, metavar="P1,P2",
                     help="the parameters to start from (default 0,0; deeplinear 0.5,-0.5)")
    fit.add_argument("--tol", type=common.non_negative_float, default=1e-8,
                     help="converged when the full-data gradient norm is at most this at the "
                     "end of an epoch")
    fit.add_argument("--bound", type=common.positive_float, default=1e6,
                     help="diverged when a parameter's magnitude exceeds this")
    fit.add_argument(
        "--csv", metavar="PATH", help="write every step: step,<p1>,<p2>,loss,batch_loss"
    )
    fit.add_argument("--json", action="store_true", help="print one JSON object only")
    animate.add_options(fit)
    common.add_threads_option(fit)


def command(args: argparse.Namespace, out: TextIO) -> int:
    """`fit`: load the data, train, print a summary or JSON, optionally write the CSV."""
    from explorer.core.fitting import FitError, FitSettings, check_fit, fit
    from explorer.core.model_landscape import ModelLandscape
    from explorer.core.models import get_model
    from explorer.core.optimizers import parse_params, validate
    from explorer.core.schedules import canonical
    from explorer.io.dataset_csv import DataError, data_path, load_dataset

    model = get_model(args.model)
    params = parse_params(args.optimizer, args.param)
    validate(args.optimizer, args.lr, params)
    if args.csv is not None:
        common.check_writable(Path(args.csv))
    animation = animate.settings_of(args)  # its path, before any work
    try:
        data = load_dataset(data_path(args.data), model)
    except DataError as error:
        raise common.UsageError(str(error)) from None
    settings = FitSettings(
        args.optimizer, args.lr, tuple(params.items()), args.batch_size, args.epochs, args.seed,
        args.tol, args.bound, canonical(args.schedule),
    )
    start = args.start if args.start is not None else model.default_start
    landscape = ModelLandscape(model, data, _NO_DRAWING)
    common.set_threads(args.threads, args.batch_size or data.n)
    try:
        steps = check_fit(landscape, start, settings)  # before any notice or work
        if animation is not None:
            animation.check_budget(steps)
        with common.StopOnInterrupt() as stop:
            if steps >= _LONG_FIT_STEPS:
                common.notice(
                    f"fitting {steps} steps; Ctrl+C "
                    + ("stops and writes the steps so far" if args.csv else "stops")
                )
            result = fit(landscape, start, settings, should_stop=lambda: stop.requested)
    except FitError as error:
        raise common.UsageError(str(error)) from None
    if args.csv is not None:
        write_fit_csv(args.csv, model.params, result)
    if result.status == "stopped":
        message = f"interrupted at step {result.steps}"
        if args.csv is not None:
            message += f"; wrote the steps so far to {args.csv}"
        raise common.Interrupted(message)
    wrote = animate.render_fit(args, model, data, result.params, result.loss,
                               caption=f"{args.optimizer}, lr {args.lr:g}",
                               batches=result.batches if args.batch_size else ())
    if args.json:
        common.write_json(fit_json(landscape, settings, result), out)
    else:
        _print_summary(landscape, settings, start, result, out)
        if args.csv is not None:
            out.write(f"wrote {args.csv}\n")
        out.write(wrote)
    return 0


def fit_json(
    landscape: ModelLandscape, settings: FitSettings, result: FitResult
) -> dict[str, object]:
    """The --json object (README, "fit"); "reason" only when the fit diverged."""
    n = len(landscape.data.x)
    payload: dict[str, object] = {
        "model": landscape.model.name,
        "params": [common.finite(float(v)) for v in result.params[-1]],
        "loss": common.finite(float(result.loss[-1])),
        "steps": result.steps,
        "epochs": result.epochs_done,
        "batch_size": settings.batch_size if settings.batch_size is not None else n,
        "n": n,
        "status": result.status,
        "schedule": settings.schedule,
    }
    if result.status == "diverged":
        payload["reason"] = result.reason
    return payload


def write_fit_csv(path: str, names: tuple[str, str], result: FitResult) -> None:
    """step,<p1>,<p2>,loss,batch_loss: row 0 the start with an empty batch_loss."""
    from explorer.io.atomic import atomic_text_writer

    with atomic_text_writer(path) as stream:
        stream.write(f"step,{names[0]},{names[1]},loss,batch_loss\n")
        for k in range(result.steps + 1):
            p1, p2 = result.params[k]
            batch = "" if k == 0 else repr(float(result.batch_loss[k]))
            stream.write(f"{k},{float(p1)!r},{float(p2)!r},{float(result.loss[k])!r},{batch}\n")


def _print_summary(
    landscape: ModelLandscape,
    settings: FitSettings,
    start: tuple[float, float],
    result: FitResult,
    out: TextIO,
) -> None:
    model, data = landscape.model, landscape.data
    fmt = common.fmt
    one, two = model.params
    batch = f"batch size {settings.batch_size}" if settings.batch_size else "full batch"
    out.write(f"{model.label}; loss: {model.loss_text}\n")
    out.write(f"data {data.path} ({data.n} rows)\n")
    out.write(
        f"optimizer {settings.optimizer}, lr {settings.lr:g}"
        + "".join(f", {k}={v}" for k, v in settings.params)
        + (f", schedule {settings.schedule}" if settings.schedule else "")
        + f", {batch}, {settings.epochs} epochs, seed {settings.seed}, "
        f"start ({fmt(start[0])}, {fmt(start[1])})\n\n"
    )
    p1, p2 = (float(v) for v in result.params[-1])
    out.write(f"{one} = {fmt(p1)}, {two} = {fmt(p2)}, full-data loss {fmt(result.loss[-1])}\n")
    out.write(f"{result.steps} steps, {result.epochs_done} epochs: {result.status}")
    out.write(f" ({result.reason})\n" if result.reason else "\n")
    best = landscape.best_fit()
    if best is not None and all(math.isfinite(v) for v in best):
        (minimum,) = landscape.known_minima
        out.write(
            f"least squares: {one} = {fmt(best[0])}, {two} = {fmt(best[1])}, "
            f"loss {fmt(minimum.f)}\n"
        )
