"""ParseError: a problem in the user's text, its column, and the caret that points at it."""

from __future__ import annotations

import unicodedata
from typing import Any


class ParseError(ValueError):
    """A problem in the user's text, with the 1-based column (in characters) where it starts."""

    def __init__(self, message: str, column: int) -> None:
        super().__init__(message)
        self.message = message
        self.column = column

    def __reduce__(self) -> tuple[Any, ...]:
        # The default reduce replays only args (the message) and would lose the column.
        return (type(self), (self.message, self.column))

    def caret(self, text: str) -> str:
        """The text, then a line with a '^' under the error's column."""
        shown = "".join(ch if ch == "\t" or ch.isprintable() else "?" for ch in text)
        pad: list[str] = []
        for ch in shown[: max(self.column - 1, 0)]:
            # Tabs stay tabs and wide characters take two cells, so the caret lines up in a
            # monospaced font.
            if ch == "\t":
                pad.append("\t")
            elif unicodedata.combining(ch):
                continue
            elif unicodedata.east_asian_width(ch) in ("W", "F"):
                pad.append("  ")
            else:
                pad.append(" ")
        pad.append(" " * max(self.column - 1 - len(shown), 0))
        return f"{shown}\n{''.join(pad)}^"
