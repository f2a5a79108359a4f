"""What every subcommand shares: option types and options, function loading, JSON and tables."""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import signal
import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from types import FrameType, TracebackType
from typing import TYPE_CHECKING, NoReturn, TextIO, TypeVar

from explorer.core.budget import MAX_STEPS, BudgetError, check_steps
from explorer.core.expression import Expression, parse
from explorer.core.optimizers import REGISTRY
from explorer.core.presets import get_preset, presets
from explorer.core.trajectory import Outcome, Run, RunSettings, Status
from explorer.io.atomic import ExportError, target_folder

if TYPE_CHECKING:
    from explorer.core.descent import Chunk

# Options whose value is a coordinate list and may start with '-' (argparse would take
# "-1.5,2" for an option, because it only recognises plain negative numbers).
_COORDINATE_OPTIONS = ("--start", "--at", "--domain")
_NUMBER_LIST = re.compile(r"^-[\d.]")

_T = TypeVar("_T", int, float)


class UsageError(Exception):
    """A bad option or value: printed as one line, exit code 2."""


class Parser(argparse.ArgumentParser):
    """An argument parser that raises UsageError instead of printing usage and exiting."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


# -- option types ------------------------------------------------------------------------------

_SHOWN_CHARACTERS = 60


def shown(text: str) -> str:
    """An argument as an error message quotes it: on one line (control characters escaped)
    and cut short, so that no argument can make a message long or break it in two."""
    quoted = repr(text) if not text.isprintable() else f"'{text}'"
    if len(quoted) > _SHOWN_CHARACTERS:
        quoted = quoted[: _SHOWN_CHARACTERS - 1] + "…"
    return quoted



def _convert(text: str, kind: Callable[[str], _T], expected: str) -> _T:
    """text as an int or float, or the argparse error 'expected <expected>, got ...'."""
    try:
        return kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {expected}, got {shown(text)}") from None


def numbers(text: str, count: int, expected: str) -> tuple[float, ...]:
    """count finite comma-separated numbers, or the argparse error 'expected <expected>'."""
    parts = text.split(",")
    try:
        if len(parts) != count:
            raise ValueError
        values = tuple(float(part) for part in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {expected}, got {shown(text)}") from None
    if not all(math.isfinite(v) for v in values):
        raise argparse.ArgumentTypeError(f"expected finite numbers, got {shown(text)}")
    return values


def pair(text: str) -> tuple[float, float]:
    """X,Y: two finite numbers."""
    x, y = numbers(text, 2, "X,Y (two numbers)")
    return x, y


def positive_float(text: str) -> float:
    """A finite number above zero."""
    value = _convert(text, float, "a number")
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {shown(text)}")
    return value


def non_negative_float(text: str) -> float:
    """A number at least zero."""
    value = _convert(text, float, "a number")
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {shown(text)}")
    return value


def whole(text: str) -> int:
    """A whole number."""
    return _convert(text, int, "a whole number")


def whole_from(low: int, high: int | None = None) -> Callable[[str], int]:
    """The option type of a whole number of at least low (and at most high, if given)."""

    def convert(text: str) -> int:
        value = whole(text)
        if high is not None and not low <= value <= high:
            raise argparse.ArgumentTypeError(
                f"expected a whole number from {low} to {high}, got {shown(text)}")
        if value < low:
            raise argparse.ArgumentTypeError(
                f"expected a whole number >= {low}, got {shown(text)}")
        return value

    return convert


positive_whole = whole_from(1)
non_negative_whole = whole_from(0)


def steps(text: str) -> int:
    """A number of steps, from zero to the budget's limit per path."""
    value = _convert(text, int, f"a whole number of steps from 0 to {MAX_STEPS}")
    if value < 0:
        raise argparse.ArgumentTypeError(
            f"expected a number of steps from 0 to {MAX_STEPS}, got {shown(text)}"
        )
    try:
        check_steps(value)
    except BudgetError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return value


def available_cores() -> int:
    """The cores this process may run on (its affinity), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # no affinity outside Linux
        return max(1, os.cpu_count() or 1)


def threads(text: str) -> int:
    """A torch thread count: 1 to the cores this process may use."""
    value = whole(text)
    cores = available_cores()
    if not 1 <= value <= cores:
        raise argparse.ArgumentTypeError(
            f"expected a number of threads from 1 to {cores} (the cores this process may use), "
            f"got {shown(text)}"
        )
    return value


# -- options shared by several subcommands -----------------------------------------------------


def add_function_options(parser: argparse.ArgumentParser, required: bool = True) -> None:
    """--function EXPR or --preset NAME, one of them."""
    group = parser.add_mutually_exclusive_group(required=required)
    group.add_argument("--function", metavar="EXPR", help="f(x, y), e.g. 'x*y + sin(pi*x)'")
    group.add_argument(
        "--preset", metavar="NAME", help="one of: " + ", ".join(p.name for p in presets())
    )


def add_optimizer_option(
    parser: argparse.ArgumentParser,
    *,
    required: bool = False,
    shown: Iterable[str] = REGISTRY,
    scipy: bool = False,
) -> None:
    """--optimizer NAME (default sgd unless required); the help lists the names shown.

    scipy=True also accepts the scipy.optimize methods (core.scipy_methods): a command that
    runs them lists them in shown; one that refuses them does so in its own words.
    """
    from explorer.core.scipy_methods import METHODS

    extra = list(METHODS) if scipy else []
    parser.add_argument(
        "--optimizer",
        required=required,
        default=None if required else "sgd",
        choices=[*REGISTRY, *extra],
        metavar="NAME",
        help="one of: " + ", ".join(shown),
    )


def add_lr_option(parser: argparse.ArgumentParser) -> None:
    """--lr, positive, default 0.01."""
    parser.add_argument("--lr", type=positive_float, default=0.01, help="learning rate")


def add_param_option(parser: argparse.ArgumentParser) -> None:
    """--param KEY=VALUE, repeatable: a hyperparameter the optimiser's registry entry lists."""
    parser.add_argument(
        "--param",
        metavar="KEY=VALUE",
        action="append",
        default=[],
        help="a hyperparameter of the optimiser, within its range, e.g. momentum=0.9",
    )


def add_schedule_option(parser: argparse.ArgumentParser) -> None:
    """--schedule NAME[:KEY=VALUE,...]: a torch learning-rate scheduler (core.schedules)."""
    from explorer.core.schedules import DEFAULTS_TEXT, SCHEDULES

    parser.add_argument(
        "--schedule",
        metavar="NAME[:KEY=VALUE,...]",
        default="",
        help="a learning-rate schedule, one scheduler.step() after each optimizer step: "
        + ", ".join(SCHEDULES)
        + " with torch's keyword names, e.g. cosine-restarts:T_0=1,T_mult=2 or "
        "multistep:milestones=30/60; "
        + DEFAULTS_TEXT,
    )


def schedule_of(args: argparse.Namespace, steps: int, lr: float = 0.01) -> str:
    """The --schedule text in canonical form, checked against the optimiser and the steps."""
    from explorer.core.schedules import check_schedule

    return check_schedule(args.schedule, steps, args.optimizer, lr)


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


def argv_function_text(argv: Sequence[str]) -> str | None:
    """The --function text as given, for the caret line (or the preset's formula)."""
    args = normalise_argv(argv)
    for i, arg in enumerate(args):
        if arg == "--function" and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith("--function="):
            return arg.split("=", 1)[1]
    return None


# -- running -----------------------------------------------------------------------------------


def load_function(args: argparse.Namespace) -> Expression:
    """The parsed --function, or the --preset's formula."""
    text = args.function if args.function is not None else get_preset(args.preset).formula
    return parse(text)


def add_threads_option(parser: argparse.ArgumentParser) -> None:
    """--threads N: torch's thread count (default: chosen from the batch and the free cores)."""
    parser.add_argument(
        "--threads",
        metavar="N",
        type=threads,
        help="torch threads (default: 1, or the cores the machine's load leaves free for "
        f"batches of {LARGE_BATCH} points or more, at most {MAX_DEFAULT_THREADS})",
    )


# Below this many points a step's tensors are small: several threads cost more in
# synchronisation than they save, and they slow down when another process is busy.
LARGE_BATCH = 65536
MAX_DEFAULT_THREADS = 4


def default_threads(points: int) -> int:
    """1 for small batches; for large ones the free cores: cores - load, rounded, where the
    load is what wants a CPU right now (or, where that cannot be read, the 1-minute average)."""
    if points < LARGE_BATCH:
        return 1
    load = busy_now()
    if load is None:
        try:
            load = os.getloadavg()[0]
        except OSError:  # not available either: assume a quiet machine
            load = 0.0
    free = math.floor(available_cores() - load + 0.5)
    return max(1, min(MAX_DEFAULT_THREADS, free))


def busy_now(samples: int = 5, path: str = "/proc/loadavg") -> float | None:
    """Threads other than this one that want a CPU now: the median of a few readings 2 ms
    apart (one reading can catch a busy process between time slices); None where unknown.

    Not the 1-minute load average: it lags both ways, still counting a test run that ended
    a minute ago and not yet counting a process that started a second ago.
    """
    readings = []
    for index in range(samples):
        if index:
            time.sleep(0.002)
        count = runnable_others(path)
        if count is None:
            return None
        readings.append(count)
    return float(statistics.median(readings))


def runnable_others(path: str = "/proc/loadavg") -> int | None:
    """Threads other than this one running or ready to run (Linux's /proc/loadavg); None
    where that file cannot be read or parsed."""
    try:
        with open(path, encoding="ascii") as file:
            running = file.read().split()[3].split("/")[0]
        return max(0, int(running) - 1)  # the count includes the thread reading it
    except (OSError, IndexError, ValueError):
        return None


def set_threads(requested: int | None, points: int) -> int:
    """Set torch's thread count: the --threads value, or default_threads(points); return it."""
    import torch

    count = requested if requested is not None else default_threads(points)
    torch.set_num_threads(count)
    return count


# Rows between two looks at Ctrl+C: a look costs a generator step, a chunk of steps far more.
_CHUNK_STEPS = 256


def descend_rows(
    expression: Expression,
    starts: Sequence[tuple[float, float]],
    settings: RunSettings,
    keep_rows: bool,
    stop: StopOnInterrupt,
    state: bool = False,
) -> tuple[Run, Chunk]:
    """Run chunk by chunk until the end or Ctrl+C; the run and its last chunk."""
    from explorer.core.descent import descend

    # Without rows to keep the engine holds a small ring of recent rows and each outcome.
    chunks = descend(
        expression.evaluate,
        starts,
        settings,
        function=expression.text,
        chunk_steps=_CHUNK_STEPS,
        history=keep_rows,
        state=state,
    )
    last = None
    for chunk in chunks:
        last = chunk
        if stop.requested:
            break
    assert last is not None  # at least one start, so at least row 0
    return last.run, last


def stop_paths(run: Run, last: Chunk) -> int:
    """After Ctrl+C: the paths still running stop at the last chunk's last row; that step."""
    step = last.end_row - 1
    columns = range(run.size)[last.columns if last.columns is not None else slice(None)]
    for i in columns:
        if run.status[i] == Status.RUNNING:
            # Its rows 0..step are complete: it is a path stopped there, as the window stops one.
            run.status[i], run.last_row[i] = Status.STOPPED, step
    return int(step)


# -- interruption ------------------------------------------------------------------------------


class Interrupted(Exception):
    """Ctrl+C stopped the command: its message is printed as one line, exit code 130."""


class StopOnInterrupt:
    """While active, a first Ctrl+C (SIGINT) sets `requested`; a second one interrupts at once."""

    # A loop that checks `requested` between rows stops at a row boundary and keeps its rows,
    # where a KeyboardInterrupt could land half-way through recording a row.

    def __init__(self) -> None:
        self.requested = False
        self._previous: Callable[[int, FrameType | None], object] | int | None = None

    def __enter__(self) -> StopOnInterrupt:
        # Python delivers signals to the main thread only: elsewhere this is a no-op.
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._on_sigint)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None

    def _on_sigint(self, signum: int, frame: FrameType | None) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True


def notice(text: str) -> None:
    """One line on stderr for a long command (stdout stays the table or the JSON)."""
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def check_writable(path: Path) -> None:
    """Refuse an output path before the work, so a bad path costs no computing."""
    folder = target_folder(path)
    if not os.access(folder, os.W_OK):
        raise ExportError(f"cannot write {path}: the folder {folder} is not writable")


# -- printing ----------------------------------------------------------------------------------


def finite(value: float) -> float | None:
    """JSON has no NaN or infinity: those become null."""
    return value if math.isfinite(value) else None


def fmt(value: float) -> str:
    """A number with 6 significant digits, as every table shows them."""
    return f"{value:.6g}"


def write_json(payload: object, out: TextIO) -> None:
    """One line of strict JSON (NaN and infinity refused: callers map them to null)."""
    json.dump(payload, out, allow_nan=False)
    out.write("\n")


def write_table(rows: Sequence[Sequence[str]], out: TextIO) -> None:
    """Left-aligned columns two spaces apart, trailing spaces trimmed."""
    widths = [max(len(row[c]) for row in rows) for c in range(len(rows[0]))]
    for row in rows:
        out.write("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
        out.write("\n")


def settings_text(settings: RunSettings) -> str:
    """'optimizer NAME, lr LR' and the hyperparameters, as the tables' second line begins."""
    params = settings.params_text()
    schedule = f", schedule {settings.schedule}" if settings.schedule else ""
    return (
        f"optimizer {settings.optimizer}, lr {settings.lr:g}"
        + (f", {params}" if params else "")
        + schedule
    )


def outcome_json(outcome: Outcome) -> dict[str, object]:
    """Where one trajectory started and ended, its final f, steps, status and evaluations."""
    payload: dict[str, object] = {
        "start": [finite(v) for v in outcome.start],
        "end": [finite(v) for v in outcome.end],
        "f": finite(outcome.f),
        "steps": outcome.steps,
        "status": outcome.status.label,
    }
    if outcome.evaluations is not None:
        payload["evaluations"] = evaluations_json(outcome.evaluations)
    return payload


def evaluations_json(evaluations: tuple[int, int, int]) -> dict[str, int]:
    """(f, gradient, Hessian) evaluation counts as {"f", "grad", "hess"}."""
    return dict(zip(("f", "grad", "hess"), evaluations, strict=True))
