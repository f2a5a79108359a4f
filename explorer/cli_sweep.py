"""`sweep`: one start, log-spaced learning rates, one batched run; a table or JSON."""

from __future__ import annotations

import argparse
import json
from typing import Any, TextIO

from explorer.core.optimizers import REGISTRY, parse_params, validate
from explorer.core.trajectory import RunSettings


def add_parser(sub: Any) -> None:
    """Register the `sweep` subcommand."""
    from explorer.cli import _add_function_options, _pair, _positive_float, _steps

    sweep = sub.add_parser(
        "sweep", help="run one start with many learning rates: final f against the lr"
    )
    _add_function_options(sweep)
    sweep.add_argument("--start", metavar="X,Y", type=_pair, required=True)
    sweep.add_argument(
        "--optimizer",
        required=True,
        choices=list(REGISTRY),
        metavar="NAME",
        help="one of: " + ", ".join(REGISTRY),
    )
    sweep.add_argument("--lr-min", type=_positive_float, required=True, metavar="A")
    sweep.add_argument("--lr-max", type=_positive_float, required=True, metavar="B")
    sweep.add_argument(
        "--count", type=_count, required=True, metavar="K", help="learning rates, log-spaced"
    )
    sweep.add_argument("--steps", type=_steps, required=True, metavar="N", help="maximum steps")
    sweep.add_argument(
        "--param",
        metavar="KEY=VALUE",
        action="append",
        default=[],
        help="any keyword of the torch optimiser, e.g. momentum=0.9",
    )
    sweep.add_argument("--json", action="store_true", help="print one JSON list only")


def _count(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got '{text}'") from None


def command_sweep(args: argparse.Namespace, out: TextIO) -> int:
    """Run the sweep and print one row (or JSON entry) per learning rate, lr increasing."""
    from explorer.cli import UsageError, _finite, _fmt, _load_function, _set_threads
    from explorer.core.stability import stable_lr
    from explorer.core.sweep import SweepError, log_spaced, lr_sweep

    expression = _load_function(args)
    try:
        lrs = log_spaced(args.lr_min, args.lr_max, args.count)
    except SweepError as error:
        raise UsageError(str(error)) from None
    params = parse_params(args.optimizer, args.param)
    for lr in (lrs[0], lrs[-1]):
        validate(args.optimizer, float(lr), params)
    settings = RunSettings.create(params, optimizer=args.optimizer, steps=args.steps)
    _set_threads(len(lrs))
    entries = lr_sweep(expression.evaluate, args.start, settings, lrs, function=expression.text)
    if args.json:
        payload = [
            {"lr": e.lr, "f": _finite(e.f), "steps": e.steps, "status": e.status.label}
            for e in entries
        ]
        json.dump(payload, out, allow_nan=False)
        out.write("\n")
        return 0
    lr_max = stable_lr(expression, *args.start)
    x, y = args.start
    out.write(f"f(x, y) = {expression.text}\n")
    out.write(
        f"optimizer {args.optimizer} from ({x:g}, {y:g}), {len(lrs)} learning rates, "
        f"at most {args.steps} steps\n"
    )
    if lr_max is not None:
        out.write(f"2 / lambda_max at the start = {_fmt(lr_max)}\n")
    out.write("\n")
    rows = [("lr", "final f", "steps", "status")]
    for e in entries:
        note = ""
        if lr_max is not None and e.lr > lr_max:
            note = "lr is above 2 / lambda_max"
        rows.append((_fmt(e.lr), _fmt(e.f), str(e.steps), e.outcome.status_text(1e6, note)))
    widths = [max(len(row[c]) for row in rows) for c in range(len(rows[0]))]
    for row in rows:
        out.write("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
        out.write("\n")
    return 0
