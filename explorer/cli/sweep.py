"""`sweep`: one start, log-spaced learning rates, one batched run; a table or JSON."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from explorer.cli import common
from explorer.core.budget import check_work
from explorer.core.optimizers import parse_params, validate
from explorer.core.scipy_methods import is_scipy_method
from explorer.core.trajectory import RunSettings

NAME = "sweep"


def add_parser(sub: Any) -> None:
    """Register the `sweep` subcommand."""
    sweep = sub.add_parser(
        NAME, help="run one start with many learning rates: final f against the lr"
    )
    common.add_function_options(sweep)
    sweep.add_argument("--start", metavar="X,Y", type=common.pair, required=True)
    # scipy's names are accepted only to be refused in words: they have no learning rate.
    common.add_optimizer_option(sweep, required=True, scipy=True)
    sweep.add_argument("--lr-min", type=common.positive_float, required=True, metavar="A")
    sweep.add_argument("--lr-max", type=common.positive_float, required=True, metavar="B")
    sweep.add_argument(
        "--count", type=common.whole, required=True, metavar="K", help="learning rates, log-spaced"
    )
    sweep.add_argument(
        "--steps", type=common.steps, required=True, metavar="N", help="maximum steps"
    )
    common.add_param_option(sweep)
    common.add_schedule_option(sweep)
    sweep.add_argument("--json", action="store_true", help="print one JSON list only")
    common.add_threads_option(sweep)


def command(args: argparse.Namespace, out: TextIO) -> int:
    """Run the sweep and print one row (or JSON entry) per learning rate, lr increasing."""
    from explorer.core.gradient import start_note
    from explorer.core.stability import stable_lr
    from explorer.core.sweep import SweepError, log_spaced, lr_sweep

    if is_scipy_method(args.optimizer):
        raise common.UsageError(
            f"sweep varies the learning rate; {args.optimizer} is a scipy.optimize method and "
            "has none (run it with `run --optimizer`)"
        )
    expression = common.load_function(args)
    try:
        lrs = log_spaced(args.lr_min, args.lr_max, args.count)
    except SweepError as error:
        raise common.UsageError(str(error)) from None
    # One path per learning rate; only their outcomes are kept.
    check_work(len(lrs), args.steps, keep_rows=False, what=f"{len(lrs)} learning rates")
    common.set_threads(args.threads, len(lrs))
    params = parse_params(args.optimizer, args.param)
    for lr in (lrs[0], lrs[-1]):
        validate(args.optimizer, float(lr), params)
    # Each rate is its own parameter group: the schedule scales each (onecycle's max_lr
    # defaults to each group's rate).
    schedule = common.schedule_of(args, args.steps, float(lrs[0]))
    settings = RunSettings.create(
        params, optimizer=args.optimizer, steps=args.steps, schedule=schedule
    )
    entries = lr_sweep(expression.evaluate, args.start, settings, lrs, function=expression.text)
    if args.json:
        payload = [
            {
                "lr": e.lr,
                "f": common.finite(e.f),
                "steps": e.steps,
                "status": e.status.label,
                "schedule": settings.schedule,
            }
            for e in entries
        ]
        common.write_json(payload, out)
        return 0
    lr_max = stable_lr(expression, *args.start)
    # Where f is undefined (or overflows) at the start, every rate diverges at once: say why.
    at_start = start_note(expression, args.start)
    x, y = args.start
    out.write(f"f(x, y) = {expression.text}\n")
    out.write(
        f"optimizer {args.optimizer} from ({x:g}, {y:g}), {len(lrs)} learning rates, "
        f"at most {args.steps} steps"
        + (f", schedule {settings.schedule}" if settings.schedule else "")
        + "\n"
    )
    if lr_max is not None:
        out.write(f"2 / lambda_max at the start = {common.fmt(lr_max)}\n")
    out.write("\n")
    rows = [("lr", "final f", "steps", "status")]
    for e in entries:
        note = at_start
        if not note and lr_max is not None and e.lr > lr_max:
            note = "lr is above 2 / lambda_max"
        rows.append(
            (common.fmt(e.lr), common.fmt(e.f), str(e.steps), e.outcome.status_text(1e6, note))
        )
    common.write_table(rows, out)
    return 0
