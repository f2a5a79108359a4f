"""Text to compiled tree: the checks before Python's parser, the parser, then the checker."""

from __future__ import annotations

import ast
import functools
import threading
import warnings
from typing import Final

from explorer.core.expression.checker import Checker
from explorer.core.expression.diagnose import diagnose, from_syntax_error
from explorer.core.expression.errors import ParseError
from explorer.core.expression.language import LINE_BREAKS, MAX_DEPTH, MAX_LENGTH
from explorer.core.expression.messages import MSG_EMPTY, MSG_TOO_DEEP
from explorer.core.expression.source import Source
from explorer.core.expression.tree import Node

_WARNINGS_LOCK: Final = threading.Lock()


@functools.lru_cache(maxsize=256)
def compile_text(text: str) -> tuple[Node, bool, bool]:
    """The compiled tree and which variables appear; raises ParseError."""
    _precheck(text)
    source = Source(text)
    try:
        # Python's parser warns about some texts ('\d' in a string; "2(x)" in newer versions),
        # which the checker reports in its own words: no warning may escape (the tests make
        # warnings errors). catch_warnings swaps process-wide state, hence the lock.
        with _WARNINGS_LOCK, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            module = ast.parse(source.src, mode="exec")
    except SyntaxError as exc:
        raise (diagnose(text) or from_syntax_error(source, exc)) from None
    except (RecursionError, MemoryError):
        # Python's own parser gives up on very deep nesting (a thousand unary minuses).
        raise ParseError(MSG_TOO_DEEP, _deep_unary_column(text)) from None
    except (ValueError, OverflowError):
        raise ParseError("this is not a function of x and y", 1) from None
    return Checker(source).check_module(module)


def _precheck(text: str) -> None:
    """Length, invisible characters, blank text and bracket depth, before Python sees the text."""
    if len(text) > MAX_LENGTH:
        raise ParseError(
            f"the function is too long: {len(text)} characters (the limit is {MAX_LENGTH})",
            MAX_LENGTH + 1,
        )
    for i, ch in enumerate(text):
        if ch == "\x00":
            raise ParseError("the text contains a null character", i + 1)
        if ch in LINE_BREAKS:
            raise ParseError("write the function on one line", i + 1)
        if ch != "\t" and not ch.isprintable():
            raise ParseError(f"the text contains an invisible character (U+{ord(ch):04X})", i + 1)
    if not text.strip(" \t"):
        raise ParseError(MSG_EMPTY, 1)
    # Brackets count toward the nesting depth even when redundant: Python's parser stops at 200
    # levels on its own, and this check keeps the limit (and its column) ours.
    depth = 0
    for i, ch in enumerate(text):
        if ch in "'\"#":
            break  # quotes and comments are reported by the parser, at their own column
        if ch in "([{":
            depth += 1
            if depth > MAX_DEPTH:
                raise ParseError(MSG_TOO_DEEP, i + 1)
        elif ch in ")]}":
            depth = max(depth - 1, 0)


def _deep_unary_column(text: str) -> int:
    """Where a run of unary operators passes MAX_DEPTH (the usual cause of RecursionError)."""
    run = 0
    after_value = False
    for i, ch in enumerate(text):
        if ch in " \t":
            continue
        if ch in "+-~":
            if after_value:
                run = 0  # this one is binary; the ones after it are unary
            else:
                run += 1
                if run > MAX_DEPTH:
                    return i + 1
            after_value = False
        else:
            run = 0
            after_value = ch.isalnum() or ch in "_.)"
    return 1
