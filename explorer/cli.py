"""The headless subcommands (run, grad): the same core and io calls the window makes, no Qt."""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn, TextIO

from explorer.core.expression import Expression, ParseError, parse
from explorer.core.optimizers import REGISTRY, OptimizerError, parse_params, validate
from explorer.core.presets import PresetError, get_preset, presets
from explorer.core.trajectory import Outcome, RunSettings, Status, Trajectory
from explorer.io.atomic import ExportError

SUBCOMMANDS = ("run", "grad", "sweep", "basin")
# Options whose value is a coordinate list and may start with '-' (argparse would take
# "-1.5,2" for an option, because it only recognises plain negative numbers).
_COORDINATE_OPTIONS = ("--start", "--at", "--domain")
_NUMBER_LIST = re.compile(r"^-[\d.]")


class UsageError(Exception):
    """A bad option or value: printed as one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def _pair(text: str) -> tuple[float, float]:
    parts = text.split(",")
    try:
        if len(parts) != 2:
            raise ValueError
        x, y = (float(part) for part in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected X,Y (two numbers), got '{text}'") from None
    if not (math.isfinite(x) and math.isfinite(y)):
        raise argparse.ArgumentTypeError(f"expected finite numbers, got '{text}'")
    return x, y


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got '{text}'") from None
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"expected a positive number, got '{text}'")
    return value


def _non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got '{text}'") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got '{text}'")
    return value


def _steps(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got '{text}'") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number of steps >= 0, got '{text}'")
    return value


def _add_function_options(parser: argparse.ArgumentParser, required: bool = True) -> None:
    group = parser.add_mutually_exclusive_group(required=required)
    group.add_argument("--function", metavar="EXPR", help="f(x, y), e.g. 'x*y + sin(pi*x)'")
    group.add_argument(
        "--preset", metavar="NAME", help="one of: " + ", ".join(p.name for p in presets())
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for the subcommands."""
    parser = _Parser(prog="python main.py", description="Gradient Descent Explorer, headless.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    run = sub.add_parser("run", help="run an optimiser from one or more start points")
    # Required unless --session gives them (checked in command_run).
    _add_function_options(run, required=False)
    run.add_argument("--start", metavar="X,Y", type=_pair, action="append")
    run.add_argument(
        "--session",
        metavar="FILE",
        help="run a saved session (its function, starts and settings) instead",
    )
    run.add_argument(
        "--optimizer",
        default="sgd",
        choices=list(REGISTRY),
        metavar="NAME",
        help="one of: " + ", ".join(REGISTRY),
    )
    run.add_argument("--lr", type=_positive_float, default=0.01, help="learning rate")
    run.add_argument(
        "--param",
        metavar="KEY=VALUE",
        action="append",
        default=[],
        help="any keyword of the torch optimiser, e.g. momentum=0.9",
    )
    run.add_argument("--steps", type=_steps, default=100, help="maximum optimiser steps")
    run.add_argument(
        "--tol",
        type=_non_negative_float,
        default=1e-8,
        help="converged when the gradient norm is at most this",
    )
    run.add_argument(
        "--bound", type=_positive_float, default=1e6, help="diverged when |x| or |y| exceeds this"
    )
    run.add_argument("--ascent", action="store_true", help="climb: add the gradient instead")
    run.add_argument("--csv", metavar="PATH", help="write every step of every trajectory")
    run.add_argument("--json", action="store_true", help="print one JSON object only")

    grad = sub.add_parser("grad", help="the gradient at a point, symbolically and by autograd")
    _add_function_options(grad)
    grad.add_argument("--at", metavar="X,Y", type=_pair, required=True)
    grad.add_argument("--json", action="store_true", help="print one JSON object only")

    # The teaching-lab commands live in their own modules (they import this one for the shared
    # option types, hence the late import).
    from explorer import cli_basin, cli_sweep

    cli_sweep.add_parser(sub)
    cli_basin.add_parser(sub)
    return parser


def normalise_argv(argv: Sequence[str]) -> list[str]:
    """Glue '--start -1.5,2' into '--start=-1.5,2' so negative coordinates parse as typed.

    A --function value is always glued, so '--function "-x**2"' is not taken for an option.
    """
    out: list[str] = []
    args = list(argv)
    i = 0
    while i < len(args):
        arg = args[i]
        glue = arg == "--function" or (
            arg in _COORDINATE_OPTIONS and i + 1 < len(args) and _NUMBER_LIST.match(args[i + 1])
        )
        if glue and i + 1 < len(args):
            out.append(f"{arg}={args[i + 1]}")
            i += 2
            continue
        out.append(arg)
        i += 1
    return out


def _load_function(args: argparse.Namespace) -> Expression:
    text = args.function if args.function is not None else get_preset(args.preset).formula
    return parse(text)


def _finite(value: float) -> float | None:
    """JSON has no NaN or infinity: those become null."""
    return value if math.isfinite(value) else None


def _fmt(value: float) -> str:
    return f"{value:.6g}"


def _set_threads(points: int) -> None:
    import torch

    # Small tensors run far slower on several threads than on one (sync overhead, shared cores).
    torch.set_num_threads(1 if points < 65536 else max(1, min(4, os.cpu_count() or 1)))


def command_run(args: argparse.Namespace, out: TextIO) -> int:
    """`run`: descend from each start, print a table or JSON, optionally write the CSV."""
    from explorer.core.descent import run_descent
    from explorer.io.trajectory_csv import write_trajectories

    if args.session is not None:
        return command_run_session(args, out)
    if args.function is None and args.preset is None:
        raise UsageError("one of the arguments --function --preset --session is required")
    if not args.start:
        raise UsageError("the following arguments are required: --start")
    expression = _load_function(args)
    params = parse_params(args.optimizer, args.param)
    validate(args.optimizer, args.lr, params)
    if args.csv is not None:
        _check_writable(Path(args.csv))
    settings = RunSettings.create(
        params,
        optimizer=args.optimizer,
        lr=args.lr,
        steps=args.steps,
        tol=args.tol,
        bound=args.bound,
        ascent=args.ascent,
    )
    _set_threads(len(args.start))
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
        json.dump(_run_json(expression, settings, outcomes), out, allow_nan=False)
        out.write("\n")
    else:
        _print_run_table(expression, settings, outcomes, out)
        if args.csv is not None:
            out.write(f"wrote {args.csv}\n")
    return 0


# Options that a session file replaces; giving them with --session is an error, not ignored.
_SESSION_REPLACES = {
    "function": "--function",
    "preset": "--preset",
    "start": "--start",
    "param": "--param",
    "ascent": "--ascent",
}
_SESSION_DEFAULTS = {"optimizer": "sgd", "lr": 0.01, "steps": 100, "tol": 1e-8, "bound": 1e6}


def command_run_session(args: argparse.Namespace, out: TextIO) -> int:
    """`run --session FILE`: every run of a saved session, batch by batch, as the window ran it."""
    from explorer.io.session import SessionError, compute_session, load_session
    from explorer.io.trajectory_csv import write_trajectories

    given = [flag for key, flag in _SESSION_REPLACES.items() if getattr(args, key)]
    given += [f"--{key}" for key, value in _SESSION_DEFAULTS.items()
              if getattr(args, key) != value]
    if given:
        raise UsageError(f"--session gives the function, starts and settings: drop {given[0]}")
    try:
        session = load_session(args.session)
    except SessionError as error:
        raise UsageError(str(error)) from None
    if not session.runs:
        raise UsageError(f"{args.session}: the session has no runs to run")
    if args.csv is not None:
        _check_writable(Path(args.csv))
    expression = parse(session.function)
    _set_threads(max(len(run.starts) for run in session.runs))
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
                {
                    "start": [_finite(v) for v in t.start],
                    "end": [_finite(v) for v in t.end],
                    "f": _finite(float(t.f[-1])),
                    "steps": t.steps,
                    "status": t.status.label,
                    "optimizer": s.optimizer,
                    "lr": s.lr,
                }
                for s, t in entries
            ],
        }
        json.dump(payload, out, allow_nan=False)
        out.write("\n")
        return 0
    out.write(f"session {args.session}\n")
    for index, run in enumerate(computed.runs):
        if index:
            out.write("\n")
        outcomes = [_outcome(t) for t in run.trajectories or ()]
        _print_run_table(expression, run.settings, outcomes, out)
    if args.csv is not None:
        out.write(f"wrote {args.csv}\n")
    return 0


def _outcome(t: Trajectory) -> Outcome:
    return Outcome(
        start=t.start,
        end=t.end,
        f=float(t.f[-1]),
        grad=(float(t.grad_x[-1]), float(t.grad_y[-1])),
        steps=t.steps,
        status=t.status,
        reason=t.reason,
    )


def _run_json(
    expression: Expression, settings: RunSettings, outcomes: Sequence[Outcome]
) -> dict[str, object]:
    return {
        "function": expression.text,
        "optimizer": settings.optimizer,
        "lr": settings.lr,
        "trajectories": [
            {
                "start": [_finite(v) for v in t.start],
                "end": [_finite(v) for v in t.end],
                "f": _finite(t.f),
                "steps": t.steps,
                "status": t.status.label,
            }
            for t in outcomes
        ],
    }


def _print_run_table(
    expression: Expression,
    settings: RunSettings,
    outcomes: Sequence[Outcome],
    out: TextIO,
) -> None:
    params = settings.params_text()
    out.write(f"f(x, y) = {expression.text}\n")
    out.write(
        f"optimizer {settings.optimizer}, lr {settings.lr:g}"
        + (f", {params}" if params else "")
        + f", at most {settings.steps} steps"
        + (", ascent" if settings.ascent else "")
        + "\n\n"
    )
    from explorer.core.stability import stability_note

    rows = [("#", "start", "end", "final f", "steps", "status")]
    for i, t in enumerate(outcomes):
        note = ""
        if t.status is Status.DIVERGED and not settings.ascent:
            note = stability_note(expression, t.start, settings.lr)
        rows.append(
            (
                str(i),
                f"({_fmt(t.start[0])}, {_fmt(t.start[1])})",
                f"({_fmt(t.end[0])}, {_fmt(t.end[1])})",
                _fmt(t.f),
                str(t.steps),
                t.status_text(settings.bound, note),
            )
        )
    widths = [max(len(row[c]) for row in rows) for c in range(len(rows[0]))]
    for row in rows:
        out.write("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
        out.write("\n")


def command_grad(args: argparse.Namespace, out: TextIO) -> int:
    """`grad`: f, the symbolic partial derivatives and their values, and the autograd gradient."""
    from explorer.core.gradient import gradient_report

    expression = _load_function(args)
    report = gradient_report(expression, *args.at)
    if args.json:
        payload = {
            "f": _finite(report.f),
            "grad": [_finite(report.grad[0]), _finite(report.grad[1])],
            "symbolic": list(report.symbolic),
        }
        json.dump(payload, out, allow_nan=False)
        out.write("\n")
        return 0
    x, y = args.at
    out.write(f"f(x, y) = {expression.text}\n")
    out.write(f"at (x, y) = ({x:g}, {y:g}):  f = {_fmt(report.f)}\n\n")
    rows = [("", "by hand (symbolic)", "value", "autograd")]
    for name, formula, value, auto in zip(
        ("df/dx", "df/dy"), report.symbolic, report.symbolic_values, report.grad, strict=True
    ):
        rows.append((name, formula, _fmt(value) if value is not None else "undefined", _fmt(auto)))
    widths = [max(len(row[c]) for row in rows) for c in range(4)]
    for row in rows:
        out.write("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
        out.write("\n")
    out.write(f"\ngradient = ({_fmt(report.grad[0])}, {_fmt(report.grad[1])})\n")
    return 0


def _check_writable(path: Path) -> None:
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise ExportError(f"cannot write {path}: the folder {folder} does not exist")
    if path.is_dir():
        raise ExportError(f"cannot write {path}: it is a folder")
    if not os.access(folder, os.W_OK):
        raise ExportError(f"cannot write {path}: the folder {folder} is not writable")


def main(argv: Sequence[str], out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Run one subcommand; errors print a clear message to stderr and return 2."""
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        args = build_parser().parse_args(normalise_argv(argv))
        if args.command == "run":
            return command_run(args, out)
        if args.command == "grad":
            return command_grad(args, out)
        from explorer import cli_basin, cli_sweep

        if args.command == "sweep":
            return cli_sweep.command_sweep(args, out)
        return cli_basin.command_basin(args, out)
    except ParseError as error:
        text = argv_function_text(argv)
        err.write(f"error: {error.message} (column {error.column})\n")
        if text is not None:
            err.write(error.caret(text) + "\n")
        return 2
    except (UsageError, OptimizerError, PresetError, ExportError) as error:
        err.write(f"error: {error}\n")
        return 2


def argv_function_text(argv: Sequence[str]) -> str | None:
    """The --function text as given, for the caret line (or the preset's formula)."""
    args = normalise_argv(argv)
    for i, arg in enumerate(args):
        if arg == "--function" and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith("--function="):
            return arg.split("=", 1)[1]
    return None
