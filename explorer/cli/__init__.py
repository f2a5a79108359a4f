"""The headless command line: one module per subcommand, no Qt; main() is the entry point."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TextIO

from explorer.cli import basin, data, fit, grad, presets, race, run, slice, sweep
from explorer.cli.common import (
    Interrupted,
    Parser,
    UsageError,
    argv_function_text,
    normalise_argv,
)
from explorer.core.budget import BudgetError
from explorer.core.expression import ParseError
from explorer.core.optimizers import OptimizerError
from explorer.core.presets import PresetError
from explorer.io.atomic import ExportError

__all__ = ["SUBCOMMANDS", "build_parser", "main", "normalise_argv"]

# In the order `--help` lists them.
_COMMANDS = {module.NAME: module
             for module in (run, race, grad, sweep, basin, fit, slice, data, presets)}
SUBCOMMANDS = tuple(_COMMANDS)
# The shell's code for a command stopped by SIGINT (128 + 2).
INTERRUPTED = 130


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for the subcommands."""
    parser = Parser(prog="python main.py", description="Gradient Descent Explorer, headless.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for module in _COMMANDS.values():
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str], out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Run one subcommand; errors print one clear line to stderr and return 2 (130: Ctrl+C)."""
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        args = build_parser().parse_args(normalise_argv(argv))
        code: int = _COMMANDS[args.command].command(args, out)
        return code
    except ParseError as error:
        text = argv_function_text(argv)
        err.write(f"error: {error.message} (column {error.column})\n")
        if text is not None:
            err.write(error.caret(text) + "\n")
        return 2
    except (UsageError, OptimizerError, PresetError, ExportError, BudgetError) as error:
        err.write(f"error: {error}\n")
        return 2
    except Interrupted as error:
        err.write(f"{error}\n")
        return INTERRUPTED
    except KeyboardInterrupt:
        # Ctrl+C where a command has no place to stop cleanly: nothing half-written is kept.
        err.write("interrupted\n")
        return INTERRUPTED
