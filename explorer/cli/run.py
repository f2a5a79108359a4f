"""`run`: an optimiser from one or more starts, or every run of a saved session (`--session`)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from explorer.cli import animate, common
from explorer.core.budget import ROW_BYTES, check_rows, check_work
from explorer.core.expression import Expression, parse
from explorer.core.optimizers import REGISTRY, parse_params, validate
from explorer.core.scipy_methods import METHODS, ScipyResult, minimize, parse_options
from explorer.core.trajectory import Outcome, Run, RunSettings, Status

if TYPE_CHECKING:
    from explorer.core.descent import Chunk
    from explorer.io.session_network import NetworkSource

NAME = "run"
# From this many steps per path a run announces itself on stderr, with what Ctrl+C does.
_LONG_RUN_STEPS = 100_000

# Options that a session file replaces; giving them with --session is an error, not ignored.
_SESSION_REPLACES = {
    "function": "--function",
    "preset": "--preset",
    "start": "--start",
    "param": "--param",
    "ascent": "--ascent",
}
_SESSION_DEFAULTS = {
    "optimizer": "sgd", "lr": 0.01, "steps": 100, "tol": 1e-8, "bound": 1e6, "schedule": ""
}
# run's defaults for the options that mean nothing to a scipy method: any other value is refused.
_TORCH_ONLY = {"lr": ("--lr", 0.01), "bound": ("--bound", 1e6), "ascent": ("--ascent", False)}


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
    # Not common.add_optimizer_option: only `run` takes the scipy methods so far (issue 16).
    run.add_argument(
        "--optimizer",
        default="sgd",
        choices=[*REGISTRY, *METHODS],
        metavar="NAME",
        help="one of: " + ", ".join([*REGISTRY, *METHODS]),
    )
    common.add_lr_option(run)
    common.add_schedule_option(run)
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
    run.add_argument(
        "--state",
        action="store_true",
        help="with --csv: add the optimiser's per-coordinate state after each step as columns",
    )
    run.add_argument("--json", action="store_true", help="print one JSON object only")
    animate.add_options(run)
    common.add_threads_option(run)


def command(args: argparse.Namespace, out: TextIO) -> int:
    """`run`: descend from each start, print a table or JSON, optionally write the CSV."""
    from explorer.io.trajectory_csv import write_trajectories

    if args.session is not None:
        return _command_session(args, out)
    if args.function is None and args.preset is None:
        raise common.UsageError("one of the arguments --function --preset --session is required")
    if not args.start:
        raise common.UsageError("the following arguments are required: --start")
    if args.state and args.csv is None:
        raise common.UsageError("--state adds columns to the CSV: give --csv PATH too")
    animation = animate.settings_of(args)  # its path and frame count, before any work
    if animation is not None:
        animation.check_budget(args.steps)
    keep_rows = args.csv is not None or animate.draws(args)
    check_work(len(args.start), args.steps, keep_rows=keep_rows, what=f"{len(args.start)} starts")
    if args.optimizer in METHODS:
        return _command_scipy(args, out)
    common.set_threads(args.threads, len(args.start))
    expression = common.load_function(args)
    params = parse_params(args.optimizer, args.param)
    validate(args.optimizer, args.lr, params)
    schedule = common.schedule_of(args, args.steps, args.lr)
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
        schedule=schedule,
    )
    if args.state:
        _check_state_budget(len(args.start), settings)
    with common.StopOnInterrupt() as stop:
        if settings.steps >= _LONG_RUN_STEPS:
            common.notice(
                f"running at most {settings.steps} steps from {len(args.start)} starts; Ctrl+C "
                + ("stops and writes the steps so far" if keep_rows else "stops")
            )
        run, last = common.descend_rows(expression, args.start, settings, keep_rows, stop,
                                        args.state)
        if stop.requested:
            _interrupted(run, last, args.csv)
        if args.csv is not None:
            write_trajectories(args.csv, run.trajectories())
    wrote = "" if not animate.draws(args) else animate.render_trajectories(
        args, expression.text, run.trajectories(), caption=common.settings_text(settings))
    outcomes = [run.outcome(i) for i in range(run.size)]
    if args.json:
        payload = {
            "function": expression.text,
            "optimizer": settings.optimizer,
            "lr": settings.lr,
            "schedule": settings.schedule,
            "trajectories": [common.outcome_json(t) for t in outcomes],
        }
        common.write_json(payload, out)
    else:
        _print_table(expression, settings, outcomes, out)
        if args.csv is not None:
            out.write(f"wrote {args.csv}\n")
        out.write(wrote)
    return 0


def _check_state_budget(paths: int, settings: RunSettings) -> None:
    """Refuse --state when the rows and the state columns they add pass the row memory limit."""
    from explorer.core.descent import state_names

    # Each state tensor adds two float64 values to every row: count them as whole rows' worth.
    extra = 2 * 8 * len(state_names(settings))
    rows = paths * (settings.steps + 1)
    need = -(-rows * (ROW_BYTES + extra) // ROW_BYTES)
    check_rows(need, f"{paths} starts x {settings.steps} steps with the optimiser's state")


def _interrupted(run: Run, last: Chunk, csv: str | None) -> None:
    """After Ctrl+C: write the rows done so far (if asked) and raise Interrupted."""
    from explorer.io.trajectory_csv import write_trajectories

    step = common.stop_paths(run, last)
    message = f"interrupted at step {step}"
    if csv is not None:
        # Paths L-BFGS had not started yet (it runs them one by one) have no rows to write.
        started = [run.trajectory(i) for i in range(run.size) if run.status[i] != Status.RUNNING]
        write_trajectories(csv, started)
        paths = "1 trajectory" if len(started) == 1 else f"{len(started)} trajectories"
        message += f"; wrote the steps so far of {paths} to {csv}"
    raise common.Interrupted(message)


def _network_refusal(path: str, network: NetworkSource) -> str:
    """Why `run` does not train a session's network, and the `slice` line that does."""
    from explorer.io.session_network import slice_command

    words = (f"{path}: the session holds a neural network, which `slice` trains: "
             f"{slice_command(network)}")
    if network.start is not None:
        words += (" (from the seed's initialisation: the session starts from a point clicked "
                  "on a slice, which only the window can)")
    return words


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
    if args.state:
        raise common.UsageError("--state is for runs from --start points, not with --session")
    try:
        session = load_session(args.session)
    except SessionError as error:
        raise common.UsageError(str(error)) from None
    if session.network is not None:  # the window's network: `slice` is its command
        raise common.UsageError(_network_refusal(args.session, session.network))
    if not session.runs:
        raise common.UsageError(f"{args.session}: the session has no runs to run")
    if args.csv is not None:
        common.check_writable(Path(args.csv))
    animate.settings_of(args)  # the animation's path, before any work
    # The session's runs are computed whole (every row of every path) and held together.
    for run in session.runs:
        check_work(len(run.starts), run.settings.steps, keep_rows=False)
    rows = sum(len(run.starts) * (run.settings.steps + 1) for run in session.runs)
    check_rows(rows, f"{args.session}: {len(session.runs)} runs with {rows} rows in all")
    common.set_threads(args.threads, max(len(run.starts) for run in session.runs))
    expression = parse(session.function)
    computed = compute_session(session)
    trajectories = [t for run in computed.runs for t in run.trajectories or ()]
    if args.csv is not None:
        write_trajectories(args.csv, trajectories)
    wrote = animate.render_trajectories(args, expression.text, trajectories,
                                        domain=session.domain)
    if args.json:
        entries = [(run.settings, t) for run in computed.runs for t in run.trajectories or ()]
        optimizers = {s.optimizer for s, _ in entries}
        lrs = {s.lr for s, _ in entries}
        payload = {
            "function": expression.text,
            "optimizer": optimizers.pop() if len(optimizers) == 1 else None,
            "lr": lrs.pop() if len(lrs) == 1 else None,
            "trajectories": [
                {
                    **common.outcome_json(outcome_of(t)),
                    "optimizer": s.optimizer,
                    "lr": s.lr,
                    "schedule": s.schedule,
                }
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
    out.write(wrote)
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
            note = stability_note(expression, t.start, settings.lr, t.end)
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


def _command_scipy(args: argparse.Namespace, out: TextIO) -> int:
    """`run` with a scipy method: one minimize per start (issue 16); a table or JSON, a CSV."""
    from explorer.io.trajectory_csv import write_trajectories

    name = args.optimizer
    for key, (flag, default) in _TORCH_ONLY.items():
        if getattr(args, key) != default:
            raise common.UsageError(f"{flag} is for torch optimisers; {name} is scipy's")
    if args.state:
        raise common.UsageError(f"--state reads torch's optimizer.state; {name} has none")
    if args.schedule:
        raise common.UsageError(f"--schedule changes a learning rate; {name} has none")
    options = parse_options(name, args.param)
    expression = common.load_function(args)
    if args.csv is not None:
        common.check_writable(Path(args.csv))
    results: list[ScipyResult] = []
    with common.StopOnInterrupt() as stop:
        for start in args.start:
            results.append(
                minimize(
                    expression.evaluate,
                    start,
                    name,
                    steps=args.steps,
                    tol=args.tol,
                    options=options,
                    function=expression.text,
                )
            )
            if stop.requested:
                break
        trajectories = [r.trajectory for r in results]
        if stop.requested:
            # One minimize cannot be cut short: the starts finished so far are whole.
            message = f"interrupted after {len(results)} of {len(args.start)} starts"
            if args.csv is not None:
                write_trajectories(args.csv, trajectories)
                message += f"; wrote them to {args.csv}"
            raise common.Interrupted(message)
        if args.csv is not None:
            write_trajectories(args.csv, trajectories)
    wrote = animate.render_trajectories(args, expression.text, trajectories, caption=name)
    if args.json:
        payload = {
            "function": expression.text,
            "optimizer": name,
            "lr": None,
            "trajectories": [_result_json(r) for r in results],
        }
        common.write_json(payload, out)
        return 0
    _print_scipy_table(expression.text, args, options, results, out)
    if args.csv is not None:
        out.write(f"wrote {args.csv}\n")
    out.write(wrote)
    return 0


def _result_json(result: ScipyResult) -> dict[str, object]:
    """outcome_json's fields with steps = nit, and scipy's evaluation counts and message."""
    from explorer.core.race import outcome_of

    return {
        **common.outcome_json(outcome_of(result.trajectory)),
        "steps": result.steps,
        "message": result.message,
    }


def _print_scipy_table(
    function: str,
    args: argparse.Namespace,
    options: dict[str, float | int | bool],
    results: list[ScipyResult],
    out: TextIO,
) -> None:
    """The table of a scipy method's runs: steps are nit, with scipy's counts and message."""
    from explorer.core.race import outcome_of

    out.write(f"f(x, y) = {function}\n")
    given = "".join(f", {key}={value!r}" for key, value in sorted(options.items()))
    out.write(
        f"scipy.optimize.minimize {args.optimizer}, tol {args.tol:g}{given}, "
        f"at most {args.steps} iterations\n\n"
    )
    rows = [("#", "start", "end", "final f", "steps", "f/grad/hess evals", "status")]
    for i, result in enumerate(results):
        t = outcome_of(result.trajectory)
        counts = result.evaluations
        rows.append(
            (
                str(i),
                f"({common.fmt(t.start[0])}, {common.fmt(t.start[1])})",
                f"({common.fmt(t.end[0])}, {common.fmt(t.end[1])})",
                common.fmt(t.f),
                str(result.steps),
                f"{counts['f']}/{counts['grad']}/{counts['hess']}",
                f"{t.status_text()} ({result.message})",
            )
        )
    common.write_table(rows, out)
