"""`race`: several optimisers from the same starts with the same budget, and their leaderboard.

The race of Tools > Optimiser race, headless: each entry runs from every start with the same
steps (or f evaluations, core.race.entry_settings), and core.race.leaderboard ranks them. The
entries come from repeated --entry OPTIMIZER[:lr=LR,KEY=VALUE,...] or from a saved session's race.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from explorer.cli import animate, common
from explorer.core.budget import check_rows, check_work
from explorer.core.expression import Expression, parse
from explorer.core.landscape import Domain
from explorer.core.optimizers import REGISTRY, OptimizerError, Value, parse_params, validate
from explorer.core.presets import Minimum
from explorer.core.race import (
    MAX_ENTRIES,
    MAX_EVALUATIONS,
    RaceEntry,
    Standing,
    known_minima,
    lap,
    leaderboard,
    outcome_of,
    standing_texts,
)
from explorer.core.scipy_methods import METHODS, is_scipy_method, parse_options
from explorer.core.trajectory import RunSettings, Status, Trajectory

NAME = "race"
# run's defaults, shared by the race (a race by steps without --steps takes as many as run).
_DEFAULT_STEPS = 100
_DEFAULT_TOL = 1e-8
_DEFAULT_BOUND = 1e6
# From this many steps per path a race announces itself on stderr, with what Ctrl+C does.
_LONG_RACE_STEPS = 100_000
# What a session gives, so that these are refused with --session (not silently ignored).
_SESSION_REPLACES = {
    "function": "--function", "preset": "--preset", "start": "--start", "entry": "--entry",
    "steps": "--steps", "evaluations": "--evaluations", "schedule": "--schedule",
}
_SESSION_DEFAULTS = {"tol": ("--tol", _DEFAULT_TOL), "bound": ("--bound", _DEFAULT_BOUND)}
_ENTRY_METAVAR = "OPTIMIZER[:lr=LR,KEY=VALUE,...]"


@dataclass(frozen=True)
class Race:
    """A race to run: the function, the starts, the entries and the settings they share."""

    expression: Expression
    starts: tuple[tuple[float, float], ...]
    entries: tuple[RaceEntry, ...]
    base: RunSettings  # steps, tolerance, bound, schedule (entries replace optimiser and lr)
    evaluations: int | None = None  # f evaluations per start and entry; None: by steps
    domain: Domain | None = None  # a session's map, for --animation and --svg

    def settings(self) -> list[RunSettings]:
        """Each entry's settings, held to the budget (OptimizerError where one cannot be)."""
        return [entry.settings(self.base, self.evaluations) for entry in self.entries]


def add_parser(sub: Any) -> None:
    """Register the `race` subcommand."""
    race = sub.add_parser(NAME, help="race several optimisers from the same starts, with a "
                          "leaderboard")
    # Required unless --session gives them (checked in command).
    common.add_function_options(race, required=False)
    race.add_argument("--start", metavar="X,Y", type=common.pair, action="append",
                      help="a start point, repeat for more: every entry runs from each")
    race.add_argument(
        "--entry", metavar=_ENTRY_METAVAR, action="append", default=[],
        help=f"an entry, repeat for more (1 to {MAX_ENTRIES}): an optimiser ("
        + ", ".join([*REGISTRY, *METHODS])
        + "), its learning rate (default the optimiser's) and the hyperparameters `run "
        "--param` takes, e.g. adam:lr=0.1,betas=0.9,0.99 or nelder-mead:xatol=1e-6")
    race.add_argument("--session", metavar="FILE",
                      help="race a saved session's entries (Tools > Optimiser race) from its "
                      "starts: the waiting ones, else its paths' starts")
    race.add_argument("--steps", type=common.steps, default=None,
                      help=f"most optimiser steps per path (default {_DEFAULT_STEPS})")
    race.add_argument("--evaluations", metavar="N", type=common.whole_from(1, MAX_EVALUATIONS),
                      help="race by f evaluations instead of steps: N per start and entry")
    race.add_argument("--tol", type=common.non_negative_float, default=_DEFAULT_TOL,
                      help="converged when the gradient norm is at most this; the leaderboard "
                      "counts the steps to it")
    race.add_argument("--bound", type=common.positive_float, default=_DEFAULT_BOUND,
                      help="diverged when |x| or |y| exceeds this")
    common.add_schedule_option(race)
    race.add_argument("--csv", metavar="PATH",
                      help="write every step of every path, as `run --csv` does: trajectory k "
                      "is entry k // starts from start k %% starts")
    race.add_argument("--json", action="store_true", help="print one JSON object only")
    animate.add_options(race)
    common.add_threads_option(race)


def parse_entry(text: str) -> RaceEntry:
    """OPTIMIZER[:lr=LR,KEY=VALUE,...] as a race entry, every value checked (UsageError).

    Items are split at commas; a piece without '=' continues the value before it, so a pair
    reads as `run --param` writes it: betas=0.9,0.99.
    """
    name, colon, rest = text.partition(":")
    name = name.strip().lower()
    where = f"--entry {common.shown(text)}"
    if name not in REGISTRY and not is_scipy_method(name):
        raise common.UsageError(f"{where}: unknown optimiser {common.shown(name)}; one of: "
                                + ", ".join([*REGISTRY, *METHODS]))
    items = _items(where, rest) if colon else {}
    try:
        lr_given = items.pop("lr", None)
        if is_scipy_method(name):
            if lr_given is not None:
                raise OptimizerError(f"{name} is a scipy.optimize method: it has no learning rate")
            params: dict[str, Value] = dict(
                parse_options(name, [f"{k}={v}" for k, v in items.items()]))
            return RaceEntry(name, RunSettings().lr, tuple(sorted(params.items())))
        lr = RaceEntry.default(name).lr if lr_given is None else _lr(lr_given)
        params = parse_params(name, [f"{k}={v}" for k, v in items.items()])
        validate(name, lr, params)
    except OptimizerError as error:
        raise common.UsageError(f"{where}: {error}") from None
    return RaceEntry(name, lr, tuple(sorted(params.items())))


def _items(where: str, rest: str) -> dict[str, str]:
    """KEY=VALUE items after the colon, in order; a key given twice or no key is refused."""
    items: dict[str, str] = {}
    last: str | None = None
    for piece in rest.split(","):
        key, equals, value = piece.partition("=")
        if not equals:
            if last is None or not piece.strip():
                raise common.UsageError(f"{where}: expected KEY=VALUE after the optimiser, not "
                                        f"{common.shown(piece)}")
            items[last] += "," + piece  # a pair's second number
            continue
        key = key.strip()
        if not key:
            raise common.UsageError(f"{where}: no key before '=' in {common.shown(piece)}")
        if key in items:
            raise common.UsageError(f"{where}: {common.shown(key)} is given twice")
        items[key] = value.strip()
        last = key
    return items


def _lr(text: str) -> float:
    """An entry's lr=: a finite positive number (OptimizerError)."""
    try:
        return common.positive_float(text)
    except argparse.ArgumentTypeError as error:
        raise OptimizerError(f"lr: {error}") from None


def command(args: argparse.Namespace, out: TextIO) -> int:
    """`race`: run every entry from every start, print the leaderboard (or JSON), write files."""
    race = _from_session(args) if args.session is not None else _from_options(args)
    try:
        settings = race.settings()
    except OptimizerError as error:  # L-BFGS with a line search under an f budget
        raise common.UsageError(str(error)) from None
    animation = animate.settings_of(args)  # the pictures' paths, before any work
    steps = max(s.steps for s in settings)
    if animation is not None:
        animation.check_budget(steps)
    # Every row of every path is kept: the leaderboard reads each path's gradients.
    for entry_settings in settings:
        check_work(len(race.starts), entry_settings.steps, keep_rows=True,
                   what=f"{len(race.starts)} starts")
    rows = sum(len(race.starts) * (s.steps + 1) for s in settings)
    check_rows(rows, f"{len(settings)} entries x {len(race.starts)} starts")
    if args.csv is not None:
        common.check_writable(Path(args.csv))
    common.set_threads(args.threads, len(race.starts))
    paths = _race(race, settings, args.csv, steps)
    standings = leaderboard(race.entries, paths, race.base.tol, _minima(race),
                            by_evaluations=race.evaluations is not None)
    if args.csv is not None:
        from explorer.io.trajectory_csv import write_trajectories

        write_trajectories(args.csv, [t for group in paths for t in group])
    # One colour per entry, as the window's race draws it (entry k: the colour of run k).
    wrote = animate.render_trajectories(
        args, race.expression.text, [t for group in paths for t in group],
        caption=f"race: {', '.join(e.label for e in race.entries)}", domain=race.domain,
        color_of=[k for k, group in enumerate(paths) for _ in group])
    if args.json:
        common.write_json(race_json(race, paths, standings), out)
        return 0
    _print_board(race, standings, out)
    if args.csv is not None:
        out.write(f"wrote {args.csv}\n")
    out.write(wrote)
    return 0


def _from_options(args: argparse.Namespace) -> Race:
    """The race the options describe (UsageError for a missing or bad one)."""
    from explorer.core.schedules import canonical

    if args.function is None and args.preset is None:
        raise common.UsageError("one of the arguments --function --preset --session is required")
    if not args.start:
        raise common.UsageError("the following arguments are required: --start")
    if not args.entry:
        raise common.UsageError(f"give the entries: --entry {_ENTRY_METAVAR}, once for each "
                                f"optimiser (1 to {MAX_ENTRIES})")
    if len(args.entry) > MAX_ENTRIES:
        raise common.UsageError(f"a race holds at most {MAX_ENTRIES} entries, not "
                                f"{len(args.entry)}")
    if args.steps is not None and args.evaluations is not None:
        raise common.UsageError("--steps and --evaluations are two budgets: give one")
    entries = tuple(parse_entry(text) for text in args.entry)
    for index, entry in enumerate(entries):
        if entry in entries[:index]:
            first = entries.index(entry)
            raise common.UsageError(
                f"--entry {common.shown(args.entry[index])} is entry {first + 1} again "
                f"({common.shown(args.entry[first])}): give each entry once")
    expression = common.load_function(args)
    base = RunSettings(
        steps=_DEFAULT_STEPS if args.steps is None else args.steps, tol=args.tol,
        bound=args.bound, schedule=canonical(args.schedule))
    race = Race(expression, tuple(args.start), entries, base, args.evaluations)
    if base.schedule:
        _check_schedule(race)
    return race


def _check_schedule(race: Race) -> None:
    """The schedule against every torch entry (onecycle's max_lr is each entry's lr)."""
    from explorer.core.schedules import check_schedule

    for settings in race.settings():
        if settings.schedule:
            check_schedule(settings.schedule, settings.steps, settings.optimizer, settings.lr)


def _from_session(args: argparse.Namespace) -> Race:
    """A saved session's race: its entries, budget and controls, from its starts."""
    from explorer.io.session import SessionError, load_session

    given = [flag for key, flag in _SESSION_REPLACES.items() if getattr(args, key)]
    given += [flag for key, (flag, default) in _SESSION_DEFAULTS.items()
              if getattr(args, key) != default]
    if given:
        raise common.UsageError(f"--session gives the function, starts, entries and settings: "
                                f"drop {given[0]}")
    try:
        session = load_session(args.session)
    except SessionError as error:
        raise common.UsageError(str(error)) from None
    name = common.shown(args.session)
    if session.model is not None or session.network is not None:
        shows = "a model on data" if session.model is not None else "a neural network"
        raise common.UsageError(f"{name}: the session shows {shows}; `race` races on a "
                                "function")
    if not session.race:
        raise common.UsageError(f"{name}: the session has no race entries (Tools > Optimiser "
                                "race keeps them)")
    starts = session.pending or tuple(dict.fromkeys(
        start for run in session.runs for start in run.starts))
    if not starts:
        raise common.UsageError(f"{name}: the session has no starts to race from (no waiting "
                                "starts and no paths)")
    entries = tuple(RaceEntry(s.optimizer, s.lr, s.params) for s in session.race)
    return Race(parse(session.function), tuple(starts), entries, session.controls,
                session.race_evaluations, session.domain)


def _minima(race: Race) -> tuple[Minimum, ...]:
    """The known minima the leaderboard measures against: the function's preset's, if any."""
    return tuple(known_minima(race.expression.text))


def _race(race: Race, settings: Sequence[RunSettings], csv: str | None,
          steps: int) -> list[list[Trajectory]]:
    """Each entry's paths, entry after entry; Ctrl+C stops (with --csv: the steps done so far
    written first) and raises Interrupted."""
    with common.StopOnInterrupt() as stop:
        if steps >= _LONG_RACE_STEPS:
            common.notice(
                f"racing {len(settings)} entries for at most {steps} steps from "
                f"{len(race.starts)} starts; Ctrl+C "
                + ("stops and writes the steps so far" if csv is not None else "stops"))
        done: list[list[Trajectory]] = []
        for index, entry_settings in enumerate(settings):
            paths, where = _entry_paths(race, entry_settings, stop)
            done.append(paths)
            if stop.requested:
                _interrupted(race, done, index, where, csv)
        return done


def _entry_paths(race: Race, settings: RunSettings, stop: common.StopOnInterrupt
                 ) -> tuple[list[Trajectory], str]:
    """One entry's paths from every start (those done when Ctrl+C came), and where it stopped."""
    expression = race.expression
    if is_scipy_method(settings.optimizer):
        from explorer.core.scipy_descent import descend_scipy

        paths: list[Trajectory] = []
        for _ in descend_scipy(expression.evaluate, race.starts, settings,
                               function=expression.text, finished=paths):
            if stop.requested:
                break
        # One minimize cannot be cut short: the starts finished so far are whole.
        return paths, f"after {len(paths)} of {len(race.starts)} starts"
    run, last = common.descend_rows(expression, race.starts, settings, True, stop)
    if not stop.requested:
        return run.trajectories(), ""
    step = common.stop_paths(run, last)
    # Paths L-BFGS had not started yet (it runs them one by one) have no rows.
    started = [run.trajectory(i) for i in range(run.size) if run.status[i] != Status.RUNNING]
    return started, f"at step {step}"


def _interrupted(race: Race, done: list[list[Trajectory]], index: int, where: str,
                 csv: str | None) -> None:
    """After Ctrl+C in entry index: write the paths so far (if asked), raise Interrupted."""
    entry = race.entries[index]
    message = (f"interrupted {where} of entry {index + 1} of {len(race.entries)} "
               f"({entry.label}): no leaderboard")
    if csv is not None:
        from explorer.io.trajectory_csv import write_trajectories

        paths = [t for group in done for t in group]
        write_trajectories(csv, paths)
        count = "1 path" if len(paths) == 1 else f"{len(paths)} paths"
        message += f"; wrote the steps so far of {count} to {csv}"
    raise common.Interrupted(message)


# -- output ----------------------------------------------------------------------------------

_BOARD_COLUMNS = ("#", "entry", "optimiser", "lr", "settings", "final f (mean)", "steps to tol",
                  "to nearest min", "f/grad/hess evals", "status")


def _print_board(race: Race, standings: Sequence[Standing], out: TextIO) -> None:
    """The function, the race's terms and the leaderboard, best first."""
    budget = (f"at most {race.base.steps} steps" if race.evaluations is None
              else f"at most {race.evaluations} f evaluations")
    schedule = f", schedule {race.base.schedule}" if race.base.schedule else ""
    count = len(race.starts)
    out.write(f"f(x, y) = {race.expression.text}\n")
    out.write(f"race of {len(race.entries)} entries from {count} start{'s' if count > 1 else ''}"
              f", {budget} each, tol {race.base.tol:g}{schedule}\n\n")
    has_minima = bool(_minima(race))
    rows: list[tuple[str, ...]] = [_BOARD_COLUMNS]
    for place, standing in enumerate(standings, start=1):
        cells = standing_texts(place, standing, has_minima=has_minima, digits=6)
        # As --entry takes them (RunSettings writes them for the CSV's params column).
        params = RunSettings(params=standing.entry.params).params_text().replace(";", ", ")
        rows.append((cells[0], str(_number(race, standing)), *cells[1:3], params or "-",
                     *cells[3:]))
    common.write_table(rows, out)


def _number(race: Race, standing: Standing) -> int:
    """Which entry (from 1, in the order given) a standing is: the very entry object it keeps."""
    return next(i for i, entry in enumerate(race.entries, 1) if entry is standing.entry)


def race_json(race: Race, paths: Sequence[Sequence[Trajectory]],
              standings: Sequence[Standing]) -> dict[str, object]:
    """The race as one JSON object: its terms, each entry's paths' outcomes, the leaderboard."""
    minima = _minima(race)
    entries = []
    for index, (entry, group) in enumerate(zip(race.entries, paths, strict=True), 1):
        laps = [lap(t, race.base.tol, minima) for t in group]
        entries.append({
            "entry": index,
            "optimizer": entry.optimizer,
            "lr": None if entry.is_scipy else entry.lr,
            "params": {key: list(v) if isinstance(v, tuple) else v for key, v in entry.params},
            "trajectories": [
                {**common.outcome_json(outcome_of(t)), "steps_to_tol": one.steps_to_tol,
                 "distance": None if one.distance is None else common.finite(one.distance)}
                for t, one in zip(group, laps, strict=True)],
        })
    board = []
    for place, standing in enumerate(standings, 1):
        counts = standing.evaluations
        board.append({
            "place": place,
            "entry": _number(race, standing),
            "optimizer": standing.entry.optimizer,
            "lr": None if standing.entry.is_scipy else standing.entry.lr,
            "final_f": common.finite(standing.final_f),
            "steps_to_tol": standing.steps_to_tol,
            "reached": standing.reached,
            "distance": None if standing.distance is None else common.finite(standing.distance),
            "evaluations": None if counts is None else dict(zip(("f", "grad", "hess"), counts,
                                                                strict=True)),
            "diverged": standing.diverged,
            "status": standing.status,
        })
    return {
        "function": race.expression.text,
        "starts": [list(start) for start in race.starts],
        "steps": None if race.evaluations is not None else race.base.steps,
        "evaluations": race.evaluations,
        "tol": race.base.tol,
        "bound": race.base.bound,
        "schedule": race.base.schedule,
        "entries": entries,
        "leaderboard": board,
    }
