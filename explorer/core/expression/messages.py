"""The plain-language messages for what the language does not accept."""

from __future__ import annotations

import ast
from typing import Final

from explorer.core.expression.language import ARITY, CONSTANTS, MAX_DEPTH, VARIABLES

MSG_EMPTY: Final = "enter a function of x and y"
MSG_TOO_DEEP: Final = f"the function is nested too deeply (more than {MAX_DEPTH} levels)"
MSG_UNCLOSED: Final = "missing closing parenthesis for this '('"
MSG_UNMATCHED: Final = "unmatched ')'"
MSG_STRING: Final = "text in quotes is not allowed"
MSG_COMMENT: Final = "comments ('#') are not allowed"
MSG_SEMICOLON: Final = "enter a single function: ';' is not allowed"
MSG_ASSIGN: Final = "'=' is not allowed: enter just the function, e.g. x**2 + y**2"
MSG_DECIMAL: Final = "write numbers in decimal, like 2.5 or 1e-3"
MSG_COMPLEX: Final = "complex numbers are not allowed"
MSG_SQUARE: Final = "square brackets are not allowed: use parentheses"
MSG_CURLY: Final = "curly braces are not allowed: use parentheses"
MSG_COMMA: Final = "a comma is only allowed between the arguments of a function"
# Added to MSG_COMMA when "1,5" was typed with a decimal comma: both sides touch the comma.
MSG_DECIMAL_COMMA: Final = " (write decimals with a point, like 1.5)"
MSG_EMPTY_PARENS: Final = "empty parentheses '()' are not allowed"
MSG_WALRUS: Final = "assignments (':=') are not allowed"
# Python reads "*x" as unpacking; to the user it is a '*' with nothing before it.
MSG_STAR: Final = "missing a value before '*'"
MSG_DOUBLE_STAR: Final = "missing a value before '**'"
MSG_FLOOR_DIV: Final = "'//' (integer division) is not supported: use floor(a/b)"

CHAR_MESSAGES: Final[dict[str, str]] = {
    "[": MSG_SQUARE,
    "]": MSG_SQUARE,
    "{": MSG_CURLY,
    "}": MSG_CURLY,
    "'": MSG_STRING,
    '"': MSG_STRING,
    "#": MSG_COMMENT,
    ";": MSG_SEMICOLON,
    ":": "':' is not allowed",
    "%": "'%' (remainder) is not supported",
    "@": "'@' is not allowed",
    "&": "'&' is not supported",
    "|": "'|' is not supported",
    "~": "'~' is not supported",
    "!": "'!' is not allowed (factorials are not supported)",
    "\\": "'\\' is not allowed",
}
# Look-alikes pasted from documents or typed on phones, with the ASCII to write instead.
_CHAR_HINTS: Final[dict[str, str]] = {
    "\N{MULTIPLICATION SIGN}": "use * to multiply",
    "\N{MIDDLE DOT}": "use * to multiply",
    "\N{DOT OPERATOR}": "use * to multiply",
    "\N{BULLET OPERATOR}": "use * to multiply",
    "\N{ASTERISK OPERATOR}": "use * to multiply",
    "\N{DIVISION SIGN}": "use / to divide",
    "\N{DIVISION SLASH}": "use / to divide",
    "\N{MINUS SIGN}": "use - (the ASCII minus)",
    "\N{EN DASH}": "use - (the ASCII minus)",
    "\N{EM DASH}": "use - (the ASCII minus)",
    "\N{SUPERSCRIPT TWO}": "write **2 for a square",
    "\N{SUPERSCRIPT THREE}": "write **3 for a cube",
    "\N{SQUARE ROOT}": "use sqrt(...)",
}
_NAME_HINTS: Final[dict[str, str]] = {
    "\N{GREEK SMALL LETTER PI}": "write pi",
    "\N{SCRIPT SMALL E}": "write e",
}
_FUNCTION_HINTS: Final[dict[str, str]] = {
    "ln": "use log",
    "arcsin": "use asin",
    "arccos": "use acos",
    "arctan": "use atan",
    "arctan2": "use atan2",
    "sgn": "use sign",
    "ceiling": "use ceil",
    "minimum": "use min",
    "maximum": "use max",
    "pow": "write a**b or a^b",
    "root": "use sqrt",
}
COMPARE_TEXT: Final[dict[type[ast.cmpop], str]] = {
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.Is: "is",
    ast.IsNot: "is not",
    ast.In: "in",
    ast.NotIn: "not in",
}
BINOP_MESSAGES: Final[dict[type[ast.operator], str]] = {
    ast.FloorDiv: MSG_FLOOR_DIV,
    ast.Mod: CHAR_MESSAGES["%"],
    ast.MatMult: CHAR_MESSAGES["@"],
    ast.BitAnd: CHAR_MESSAGES["&"],
    ast.BitOr: CHAR_MESSAGES["|"],
    ast.BitXor: "'^' is not supported",
    ast.LShift: "'<<' is not supported",
    ast.RShift: "'>>' is not supported",
}


def short(text: str, limit: int = 24) -> str:
    """The text, cut in the middle when long, for quoting in a message."""
    text = text.strip()
    return text if len(text) <= limit else f"{text[: limit // 2 - 2]}...{text[-(limit // 2) + 1 :]}"


def _factor_text(text: str) -> str:
    """One side of a missing '*', shortened so the suggestion stays readable."""
    text = text.strip()
    if len(text) <= 20:
        return text
    if text.endswith(")") and "(" in text:
        head = text[: text.index("(")]
        return f"{head}(...)" if len(head) <= 12 else "(...)"
    return short(text, 20)


def implicit_message(left: str, right: str) -> str:
    """The message for two factors written side by side."""
    return f"missing '*': write {_factor_text(left)}*{_factor_text(right)}"


def _split_factors(name: str) -> list[str] | None:
    """'xy' -> ['x', 'y'] when a name is just variables and constants run together."""
    if len(name) < 2:
        return None
    parts: list[str] = []
    i = 0
    while i < len(name):
        for token in ("pi", "x", "y", "e"):
            if name.startswith(token, i):
                parts.append(token)
                i += len(token)
                break
        else:
            return None
    return parts


def unknown_name(name: str) -> str:
    """The message for a name that is not x, y, pi or e."""
    lower = name.lower()
    if name in _NAME_HINTS:
        hint = _NAME_HINTS[name]
    elif lower != name and (lower in VARIABLES or lower in CONSTANTS):
        hint = f"did you mean '{lower}'?"
    elif lower in ARITY:
        hint = f"{lower} is a function: write {lower}(...)"
    elif (parts := _split_factors(name)) is not None:
        hint = "write " + "*".join(parts)
    else:
        hint = "use x and y"
    return f"unknown name '{name}': {hint}"


def unknown_function(name: str) -> str:
    """The message for a call of something not on the list of functions."""
    lower = name.lower()
    if lower != name and lower in ARITY:
        return f"unknown function '{name}': did you mean {lower}?"
    if name in _FUNCTION_HINTS:
        return f"unknown function '{name}': {_FUNCTION_HINTS[name]}"
    return f"unknown function '{name}'"


def not_called(name: str) -> str:
    """The message for a function name used without parentheses."""
    return f"'{name}' is a function: write {name}(...)"


def name_message(name: str, called: bool) -> str | None:
    """What is wrong with a name, called or not; None for x, y, pi, e and a called function."""
    if name in VARIABLES or name in CONSTANTS:
        return None
    if name in ARITY:
        return None if called else not_called(name)
    return unknown_function(name) if called else unknown_name(name)


def arity_message(name: str, given: int) -> str:
    """The message for a call with the wrong number of arguments."""
    wanted = ARITY[name]
    plural = "argument" if wanted == 1 else "arguments"
    return f"{name} takes {wanted} {plural} (you gave {given})"


def keyword_message(name: str) -> str:
    """The message for a keyword argument given to a function."""
    return f"keyword arguments ('{name}=') are not allowed"


def compare_message(op: str) -> str:
    """The message for a comparison operator."""
    return f"comparisons ('{op}') are not allowed"


def attribute_message(attr: str) -> str:
    """The message for an attribute access."""
    return f"attribute access ('.{attr}') is not allowed"


def char_message(ch: str) -> str:
    """The message for a character that has no place in the language."""
    if ch in CHAR_MESSAGES:
        return CHAR_MESSAGES[ch]
    if ch in _CHAR_HINTS:
        return f"unexpected character '{ch}': {_CHAR_HINTS[ch]}"
    code = "" if ch.isascii() else f" (U+{ord(ch):04X})"
    return f"unexpected character '{ch}'{code}"
