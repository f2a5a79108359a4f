"""Entry point: no arguments opens the window; a subcommand runs headless without importing Qt."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Dispatch to the window or to a headless subcommand; return the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        return _dispatch(args)
    except KeyboardInterrupt:
        # Ctrl+C before a command took charge of it (while Python imports): one line, as
        # the commands themselves say it.
        sys.stderr.write("interrupted\n")
        return 130


def _dispatch(args: list[str]) -> int:
    if args and args[0] not in ("--gui",):
        from explorer import cli

        if args[0] in cli.SUBCOMMANDS or args[0].startswith("-"):
            try:
                return cli.main(args)
            except BrokenPipeError:
                # The reader went away (`... | head`): stop quietly, as Unix tools do.
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, sys.stdout.fileno())
                return 1
        sys.stderr.write(
            f"error: unknown command '{args[0]}': use one of {', '.join(cli.SUBCOMMANDS)}, "
            "or no argument to open the window\n"
        )
        return 2
    from explorer.gui.platform_check import problem

    why = problem()
    if why is not None:
        sys.stderr.write(f"error: {why}\n")
        return 1
    from explorer.gui.launch import run_app

    return run_app()


def run() -> None:
    """Console-script entry point (`gdx`)."""
    sys.exit(main())
