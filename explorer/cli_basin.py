"""`basin`: (placeholder until implemented)."""

from __future__ import annotations

import argparse
from typing import Any, TextIO


def add_parser(sub: Any) -> None:
    """Register the `basin` subcommand."""
    sub.add_parser("basin", help="(not implemented yet)")


def command_basin(args: argparse.Namespace, out: TextIO) -> int:
    """Run `basin`."""
    from explorer.cli import UsageError

    raise UsageError("basin is not implemented yet")
