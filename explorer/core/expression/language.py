"""The language's vocabulary: its functions, names, limits and the shape of its numbers."""

from __future__ import annotations

import ast
import math
import re
from typing import Final

MAX_LENGTH: Final = 1000  # characters
MAX_DEPTH: Final = 100  # levels of nesting

FUNCTIONS: dict[str, int] = {
    "sin": 1,
    "cos": 1,
    "tan": 1,
    "asin": 1,
    "acos": 1,
    "atan": 1,
    "sinh": 1,
    "cosh": 1,
    "tanh": 1,
    "exp": 1,
    "log": 1,
    "log2": 1,
    "log10": 1,
    "sqrt": 1,
    "abs": 1,
    "sign": 1,
    "floor": 1,
    "ceil": 1,
    "min": 2,
    "max": 2,
    "atan2": 2,
    "sigmoid": 1,
    "relu": 1,
    "softplus": 1,
}

# The parser's own copy: FUNCTIONS is a public dict the GUI reads, and a caller mutating it must
# not change what the parser accepts.
ARITY: Final[dict[str, int]] = dict(FUNCTIONS)
VARIABLES: Final = frozenset({"x", "y"})
CONSTANTS: Final[dict[str, float]] = {"pi": math.pi, "e": math.e}


# Plain decimal numbers only: Python also reads 0x1F, 1_000 and 2j, which the language leaves out.
DECIMAL: Final = re.compile(r"(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
NUMBER_TAIL: Final = re.compile(r"[\w.]*")
WORD: Final = re.compile(r"\w+")
FOUND: Final = re.compile(r"\w+|\*\*|\S")
LEADING_ZERO: Final = re.compile(r"0+[1-9][0-9]*")
# Characters that end a line for Python's tokenizer (and so would start a second statement).
LINE_BREAKS: Final = frozenset("\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")


BINOP_SYMBOLS: Final[dict[type[ast.operator], str]] = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.Pow: "^",
}


def chain_kind(op: ast.operator) -> str | None:
    """'+' for + and -, '*' for * and /: the operators that chain left to right into one node."""
    if isinstance(op, (ast.Add, ast.Sub)):
        return "+"
    if isinstance(op, (ast.Mult, ast.Div)):
        return "*"
    return None
