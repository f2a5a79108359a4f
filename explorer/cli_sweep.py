"""`sweep`: (placeholder until implemented)."""

from __future__ import annotations

import argparse
from typing import Any, TextIO


def add_parser(sub: Any) -> None:
    """Register the `sweep` subcommand."""
    sub.add_parser("sweep", help="(not implemented yet)")


def command_sweep(args: argparse.Namespace, out: TextIO) -> int:
    """Run `sweep`."""
    from explorer.cli import UsageError

    raise UsageError("sweep is not implemented yet")
