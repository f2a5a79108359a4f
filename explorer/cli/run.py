"""`run`: an optimiser from one or more starts, or every run of a saved session (`--session`)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from explorer.cli import common
from explorer.core.expression import Expression, parse
from explorer.core.optimizers import parse_params, validate
from explorer.core.trajectory import Outcome, RunSettings, Status

NAME = "run"

# Options that a session file replaces; giving them with --session is an error, not ignored.
_SESSION_REPLACES = {
    "function": "--function",
    "preset": "--preset",
    "start": "--start",
    "param": "--param",
    "ascent": "--ascent",
}
_SESSION_DEFAULTS = {"optimizer": "sgd", "lr": 0.01, "steps": 100, "tol": 1e-8, "bound": 1e6}


def add_parser(sub: Any) -> None:
    """Register the `run` subcommand."""
    run = sub.add_parser(NAME, help="run an optimiser from one or more start points")
    # Required unless --session gives them (checked in command).
    common.add_function_options(run, required=False)
    run.add_argument("--start", metavar="X,Y", type=common.pair, action="append")
    run.add_argument(
        "--session",
        metavar="FILE",
        help="run a saved session (its function, starts and settings) instead",
    )
    common.add_optimizer_option(run)
    common.add_lr_option(run)
    common.add_param_option(run)
    run.add_argument("--steps", type=common.steps, default=100, help="maximum optimiser steps")
    run.add_argument(
        "--tol",
        type=common.non_negative_float,
        default=1e-8,
        help="converged when the gradient norm is at most this",
    )
    run.add_argument(
        "--bound",
        type=common.positive_float,
        default=1e6,
        help="diverged when |x| or |y| exceeds this",
    )
    run.add_argument("--ascent", action="store_true", help="climb: add the gradient instead")
    run.add_argument("--csv", metavar="PATH", help="write every step of every trajectory")
    run.add_argument("--json", action="store_true", help="print one JSON object only")


def command(args: argparse.Namespace, out: TextIO) -> int:
    """`run`: descend from each start, print a table or JSON, optionally write the CSV."""
    from explorer.core.descent import run_descent
    from explorer.io.trajectory_csv import write_trajectories

    if args.session is not None:
        return _command_session(args, out)
    if args.function is None and args.preset is None:
        raise common.UsageError("one of the arguments --function --preset --session is required")
    if not args.start:
        raise common.UsageError("the following arguments are required: --start")
    expression = common.load_function(args)
    params = parse_params(args.optimizer, args.param)
    validate(args.optimizer, args.lr, params)
    if args.csv is not None:
        common.check_writable(Path(args.csv))
    settings = RunSettings.create(
        params,
        optimizer=args.optimizer,
        lr=args.lr,
        steps=args.steps,
        tol=args.tol,
        bound=args.bound,
        ascent=args.ascent,
    )
    common.set_threads(len(args.start))
    # Without --csv only the outcomes are needed: the engine then keeps a bounded ring of rows.
    run = run_descent(
        expression.evaluate,
        args.start,
        settings,
        function=expression.text,
        history=args.csv is not None,
    )
    if args.csv is not None:
        write_trajectories(args.csv, run.trajectories())
    outcomes = [run.outcome(i) for i in range(run.size)]
    if args.json:
        payload = {
            "function": expression.text,
            "optimizer": settings.optimizer,
            "lr": settings.lr,
            "trajectories": [common.outcome_json(t) for t in outcomes],
        }
        common.write_json(payload, out)
    else:
        _print_table(expression, settings, outcomes, out)
        if args.csv is not None:
            out.write(f"wrote {args.csv}\n")
    return 0


def _command_session(args: argparse.Namespace, out: TextIO) -> int:
    """`run --session FILE`: every run of a saved session, batch by batch, as the window ran it."""
    from explorer.core.race import outcome_of
    from explorer.io.session import SessionError, compute_session, load_session
    from explorer.io.trajectory_csv import write_trajectories

    given = [flag for key, flag in _SESSION_REPLACES.items() if getattr(args, key)]
    given += [f"--{key}" for key, value in _SESSION_DEFAULTS.items() if getattr(args, key) != value]
    if given:
        raise common.UsageError(
            f"--session gives the function, starts and settings: drop {given[0]}"
        )
    try:
        session = load_session(args.session)
    except SessionError as error:
        raise common.UsageError(str(error)) from None
    if not session.runs:
        raise common.UsageError(f"{args.session}: the session has no runs to run")
    if args.csv is not None:
        common.check_writable(Path(args.csv))
    expression = parse(session.function)
    common.set_threads(max(len(run.starts) for run in session.runs))
    computed = compute_session(session)
    trajectories = [t for run in computed.runs for t in run.trajectories or ()]
    if args.csv is not None:
        write_trajectories(args.csv, trajectories)
    if args.json:
        entries = [(run.settings, t) for run in computed.runs for t in run.trajectories or ()]
        optimizers = {s.optimizer for s, _ in entries}
        lrs = {s.lr for s, _ in entries}
        payload = {
            "function": expression.text,
            "optimizer": optimizers.pop() if len(optimizers) == 1 else None,
            "lr": lrs.pop() if len(lrs) == 1 else None,
            "trajectories": [
                {**common.outcome_json(outcome_of(t)), "optimizer": s.optimizer, "lr": s.lr}
                for s, t in entries
            ],
        }
        common.write_json(payload, out)
        return 0
    out.write(f"session {args.session}\n")
    for index, run in enumerate(computed.runs):
        if index:
            out.write("\n")
        outcomes = [outcome_of(t) for t in run.trajectories or ()]
        _print_table(expression, run.settings, outcomes, out)
    if args.csv is not None:
        out.write(f"wrote {args.csv}\n")
    return 0


def _print_table(
    expression: Expression,
    settings: RunSettings,
    outcomes: Sequence[Outcome],
    out: TextIO,
) -> None:
    from explorer.core.stability import stability_note

    out.write(f"f(x, y) = {expression.text}\n")
    out.write(
        common.settings_text(settings)
        + f", at most {settings.steps} steps"
        + (", ascent" if settings.ascent else "")
        + "\n\n"
    )
    rows = [("#", "start", "end", "final f", "steps", "status")]
    for i, t in enumerate(outcomes):
        note = ""
        if t.status is Status.DIVERGED and not settings.ascent:
            note = stability_note(expression, t.start, settings.lr)
        rows.append(
            (
                str(i),
                f"({common.fmt(t.start[0])}, {common.fmt(t.start[1])})",
                f"({common.fmt(t.end[0])}, {common.fmt(t.end[1])})",
                common.fmt(t.f),
                str(t.steps),
                t.status_text(settings.bound, note),
            )
        )
    common.write_table(rows, out)
