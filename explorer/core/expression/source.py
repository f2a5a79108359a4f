"""The text as Python's parser sees it, and the map from its offsets back to the user's columns."""

from __future__ import annotations

import ast


class Source:
    """The text given to ast.parse ('^' made '**', leading blanks cut) and a map back to columns."""

    # ast reports columns in UTF-8 bytes of that text; the user needs characters of their own.

    def __init__(self, text: str) -> None:
        self.text = text
        pieces: list[str] = []
        origin: list[int] = []
        for i, ch in enumerate(text):
            # Python's ^ is xor with the wrong precedence, so it becomes ** before parsing;
            # both characters of the ** map back to the ^.
            if ch == "^":
                pieces.append("**")
                origin.extend((i, i))
            else:
                pieces.append(ch)
                origin.append(i)
        translated = "".join(pieces)
        # Statement mode (which gives good messages for "x = 1" and "import os") rejects
        # indentation, so leading blanks are cut and the map keeps the offset.
        lead = len(translated) - len(translated.lstrip(" \t"))
        self.src = translated[lead:]
        self._origin = [*origin[lead:], len(text)]
        self._byte_to_char: list[int] | None = None
        if not self.src.isascii():
            table: list[int] = []
            for index, ch in enumerate(self.src):
                table.extend([index] * len(ch.encode("utf-8")))
            table.append(len(self.src))
            self._byte_to_char = table

    def char(self, byte_offset: int | None) -> int:
        """The character index in src of a UTF-8 byte offset from ast."""
        offset = max(byte_offset or 0, 0)
        if self._byte_to_char is None:
            return min(offset, len(self.src))
        return self._byte_to_char[min(offset, len(self._byte_to_char) - 1)]

    def column(self, index: int) -> int:
        """The 1-based column in the user's text of a character index in src."""
        return self._origin[min(max(index, 0), len(self.src))] + 1

    def start(self, node: ast.expr | ast.stmt | ast.keyword) -> int:
        """The character index in src where a node starts."""
        return self.char(node.col_offset)

    def end(self, node: ast.expr | ast.stmt | ast.keyword) -> int:
        """The character index in src just past a node."""
        return self.char(node.end_col_offset)

    def skip(self, index: int, chars: str = " \t)") -> int:
        """The first index at or after index whose character is not in chars."""
        while index < len(self.src) and self.src[index] in chars:
            index += 1
        return index

    def user_text(self, begin: int, end: int) -> str:
        """The user's own text between two character indexes of src."""
        last = len(self.src)
        return self.text[self._origin[min(max(begin, 0), last)] : self._origin[min(end, last)]]

    def segment(self, node: ast.expr | ast.stmt) -> str:
        """The user's own text of a node."""
        return self.user_text(self.start(node), self.end(node))
