"""The user's function of x and y: parsed with a whitelist over Python's ast, never executed."""

from __future__ import annotations

import ast
import functools
import keyword
import math
import re
import sys
import threading
import unicodedata
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, NamedTuple, TypeAlias

# torch, sympy and numpy are imported inside the functions that need them: the GUI parses text
# while torch is still loading in the background, so importing this module must stay cheap.
if TYPE_CHECKING:
    import numpy as np
    import sympy
    import torch
    from numpy.typing import ArrayLike, NDArray

__all__ = ["FUNCTIONS", "MAX_DEPTH", "MAX_LENGTH", "Expression", "ParseError", "parse"]

MAX_LENGTH: Final = 1000
MAX_DEPTH: Final = 100

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

# A private copy: FUNCTIONS is a public dict the GUI reads, and a caller mutating it must not
# change what the parser accepts.
_ARITY: Final[dict[str, int]] = dict(FUNCTIONS)
_VARIABLES: Final = frozenset({"x", "y"})
_CONSTANTS: Final[dict[str, float]] = {"pi": math.pi, "e": math.e}

# Integer-valued numbers become exact sympy Integers (so derivatives print as `2*x`, not `2.0*x`)
# only below this size. Every exact rational in a sympy expression is kept below it as well:
# sympy raises exact numbers to exact powers eagerly (exp(n*log(c)) -> c**n, (c*x)**n -> c**n*x**n),
# and 9999**9999 takes milliseconds where 999999**999999 takes seconds.
_EXACT_LIMIT: Final = 10_000

# Plain decimal numbers only: Python also reads 0x1F, 1_000 and 2j, which the language leaves out.
_DECIMAL: Final = re.compile(r"(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_NUMBER_TAIL: Final = re.compile(r"[\w.]*")
_WORD: Final = re.compile(r"\w+")
_FOUND: Final = re.compile(r"\w+|\*\*|\S")
_LEADING_ZERO: Final = re.compile(r"0+[1-9][0-9]*")
# Characters that end a line for Python's tokenizer (and so would start a second statement).
_LINE_BREAKS: Final = frozenset("\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")

_MSG_EMPTY: Final = "enter a function of x and y"
_MSG_TOO_DEEP: Final = f"the function is nested too deeply (more than {MAX_DEPTH} levels)"
_MSG_UNCLOSED: Final = "missing closing parenthesis for this '('"
_MSG_UNMATCHED: Final = "unmatched ')'"
_MSG_STRING: Final = "text in quotes is not allowed"
_MSG_COMMENT: Final = "comments ('#') are not allowed"
_MSG_SEMICOLON: Final = "enter a single function: ';' is not allowed"
_MSG_ASSIGN: Final = "'=' is not allowed: enter just the function, e.g. x**2 + y**2"
_MSG_DECIMAL: Final = "write numbers in decimal, like 2.5 or 1e-3"
_MSG_COMPLEX: Final = "complex numbers are not allowed"
_MSG_SQUARE: Final = "square brackets are not allowed: use parentheses"
_MSG_CURLY: Final = "curly braces are not allowed: use parentheses"
_MSG_COMMA: Final = "a comma is only allowed between the arguments of a function"
# Python reads "*x" as unpacking; to the user it is a '*' with nothing before it.
_MSG_STAR: Final = "missing a value before '*'"
_MSG_DOUBLE_STAR: Final = "missing a value before '**'"
_MSG_FLOOR_DIV: Final = "'//' (integer division) is not supported: use floor(a/b)"

_CHAR_MESSAGES: Final[dict[str, str]] = {
    "[": _MSG_SQUARE,
    "]": _MSG_SQUARE,
    "{": _MSG_CURLY,
    "}": _MSG_CURLY,
    "'": _MSG_STRING,
    '"': _MSG_STRING,
    "#": _MSG_COMMENT,
    ";": _MSG_SEMICOLON,
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
_COMPARE_TEXT: Final[dict[type[ast.cmpop], str]] = {
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
_BINOP_MESSAGES: Final[dict[type[ast.operator], str]] = {
    ast.FloorDiv: _MSG_FLOOR_DIV,
    ast.Mod: "'%' (remainder) is not supported",
    ast.MatMult: "'@' is not allowed",
    ast.BitAnd: "'&' is not supported",
    ast.BitOr: "'|' is not supported",
    ast.BitXor: "'^' is not supported",
    ast.LShift: "'<<' is not supported",
    ast.RShift: "'>>' is not supported",
}
_BINOP_SYMBOLS: Final[dict[type[ast.operator], str]] = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.Pow: "^",
}


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


# --- The compiled tree: what evaluate and sympy_expr walk. Plain frozen data, so it pickles. ---


@dataclass(frozen=True, slots=True)
class _Num:
    value: float


@dataclass(frozen=True, slots=True)
class _Var:
    name: str


@dataclass(frozen=True, slots=True)
class _Const:
    name: str


@dataclass(frozen=True, slots=True)
class _Neg:
    operand: _Node


@dataclass(frozen=True, slots=True)
class _Chain:
    """first, then (op, operand) pairs applied left to right: all of + and -, or all of * and /."""

    first: _Node
    rest: tuple[tuple[str, _Node], ...]


@dataclass(frozen=True, slots=True)
class _Pow:
    base: _Node
    exponent: _Node


@dataclass(frozen=True, slots=True)
class _Call:
    name: str
    args: tuple[_Node, ...]


_Node: TypeAlias = _Num | _Var | _Const | _Neg | _Chain | _Pow | _Call


@dataclass(frozen=True)
class Expression:
    """A validated function of x and y; build it with parse()."""

    text: str
    uses_x: bool
    uses_y: bool
    _tree: _Node = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        tree, uses_x, uses_y = _compile(self.text)  # cached: parse() has just compiled it
        if (uses_x, uses_y) != (self.uses_x, self.uses_y):
            raise ValueError(f"uses_x/uses_y do not match the text {self.text!r}")
        object.__setattr__(self, "_tree", tree)

    def evaluate(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """f(x, y) in float64, broadcasting x and y; differentiable with autograd."""
        import torch

        xt, yt = _float64_tensor(x), _float64_tensor(y)
        shape = torch.broadcast_shapes(xt.shape, yt.shape)  # type: ignore[no-untyped-call]
        out = _evaluate(self._tree, xt, yt, _torch_functions())
        if out.shape != shape:
            # A constant, or a function of only one variable: give it the full shape, as a real
            # tensor rather than a stride-0 view that callers could not write into.
            out = out.expand(shape).contiguous()
        elif out is xt or out is yt:
            out = out.clone()  # "x" alone must not hand the caller's own tensor back
        return out

    def evaluate_numpy(self, x: ArrayLike, y: ArrayLike) -> NDArray[np.float64]:
        """f(x, y) as a float64 ndarray, without autograd."""
        import numpy as np
        import torch

        # Copies: torch.from_numpy warns on read-only arrays, and warnings are errors in tests.
        xa = np.array(x, dtype=np.float64)
        ya = np.array(y, dtype=np.float64)
        with torch.no_grad():
            out = self.evaluate(torch.from_numpy(xa), torch.from_numpy(ya))
        return np.asarray(out.numpy(), dtype=np.float64)

    def sympy_expr(self) -> sympy.Expr:
        """The function as a sympy expression in real symbols x and y (cached)."""
        return _sympy_of(self)

    def derivatives(self) -> tuple[sympy.Expr, sympy.Expr]:
        """(df/dx, df/dy) as sympy expressions (cached)."""
        return _derivatives_of(self)


def parse(text: str) -> Expression:
    """Check the text and compile it; raises ParseError (only) with a message and a column."""
    if not isinstance(text, str):
        raise ParseError("the function must be text", 1)
    _, uses_x, uses_y = _compile(text)
    return Expression(text, uses_x, uses_y)


# --- Parsing -------------------------------------------------------------------------------


_WARNINGS_LOCK: Final = threading.Lock()


@functools.lru_cache(maxsize=256)
def _compile(text: str) -> tuple[_Node, bool, bool]:
    """The compiled tree and which variables appear; raises ParseError."""
    _precheck(text)
    source = _Source(text)
    try:
        # Python's parser warns about some texts ('\d' in a string; "2(x)" in newer versions),
        # which the checker reports in its own words: no warning may escape (the tests make
        # warnings errors). catch_warnings swaps process-wide state, hence the lock.
        with _WARNINGS_LOCK, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            module = ast.parse(source.src, mode="exec")
    except SyntaxError as exc:
        raise (_diagnose(text) or _from_syntax_error(source, exc)) from None
    except (RecursionError, MemoryError):
        # Python's own parser gives up on very deep nesting (a thousand unary minuses).
        raise ParseError(_MSG_TOO_DEEP, _deep_unary_column(text)) from None
    except (ValueError, OverflowError):
        raise ParseError("this is not a function of x and y", 1) from None
    return _Checker(source).check_module(module)


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
        if ch in _LINE_BREAKS:
            raise ParseError("write the function on one line", i + 1)
        if ch != "\t" and not ch.isprintable():
            raise ParseError(f"the text contains an invisible character (U+{ord(ch):04X})", i + 1)
    if not text.strip(" \t"):
        raise ParseError(_MSG_EMPTY, 1)
    # Brackets count toward the nesting depth even when redundant: Python's parser stops at 200
    # levels on its own, and this check keeps the limit (and its column) ours.
    depth = 0
    for i, ch in enumerate(text):
        if ch in "'\"#":
            break  # quotes and comments are reported by the parser, at their own column
        if ch in "([{":
            depth += 1
            if depth > MAX_DEPTH:
                raise ParseError(_MSG_TOO_DEEP, i + 1)
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


class _Source:
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


def _short(text: str, limit: int = 24) -> str:
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
    return _short(text, 20)


def _implicit_message(left: str, right: str) -> str:
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


def _unknown_name(name: str) -> str:
    """The message for a name that is not x, y, pi or e."""
    lower = name.lower()
    if name in _NAME_HINTS:
        hint = _NAME_HINTS[name]
    elif lower != name and (lower in _VARIABLES or lower in _CONSTANTS):
        hint = f"did you mean '{lower}'?"
    elif lower in _ARITY:
        hint = f"{lower} is a function: write {lower}(...)"
    elif (parts := _split_factors(name)) is not None:
        hint = "write " + "*".join(parts)
    else:
        hint = "use x and y"
    return f"unknown name '{name}': {hint}"


def _unknown_function(name: str) -> str:
    """The message for a call of something not on the list of functions."""
    lower = name.lower()
    if lower != name and lower in _ARITY:
        return f"unknown function '{name}': did you mean {lower}?"
    if name in _FUNCTION_HINTS:
        return f"unknown function '{name}': {_FUNCTION_HINTS[name]}"
    return f"unknown function '{name}'"


def _not_called(name: str) -> str:
    """The message for a function name used without parentheses."""
    return f"'{name}' is a function: write {name}(...)"


def _arity_message(name: str, given: int) -> str:
    """The message for a call with the wrong number of arguments."""
    wanted = _ARITY[name]
    plural = "argument" if wanted == 1 else "arguments"
    return f"{name} takes {wanted} {plural} (you gave {given})"


def _char_message(ch: str) -> str:
    """The message for a character that has no place in the language."""
    if ch in _CHAR_MESSAGES:
        return _CHAR_MESSAGES[ch]
    if ch in _CHAR_HINTS:
        return f"unexpected character '{ch}': {_CHAR_HINTS[ch]}"
    code = "" if ch.isascii() else f" (U+{ord(ch):04X})"
    return f"unexpected character '{ch}'{code}"


def _chain_kind(op: ast.operator) -> str | None:
    """'+' for + and -, '*' for * and /: the operators that chain left to right into one node."""
    if isinstance(op, (ast.Add, ast.Sub)):
        return "+"
    if isinstance(op, (ast.Mult, ast.Div)):
        return "*"
    return None


class _Checker:
    """Walks a parsed module: collects every problem (the leftmost is raised), then compiles."""

    def __init__(self, source: _Source) -> None:
        self.s = source
        self.errors: list[tuple[int, int, str]] = []
        self.uses_x = False
        self.uses_y = False

    def fail(self, column: int, message: str) -> None:
        """Record a problem; the leftmost one is reported, the first found breaking ties."""
        self.errors.append((column, len(self.errors), message))

    def col(self, node: ast.expr | ast.stmt | ast.keyword) -> int:
        """The user's column where a node starts."""
        return self.s.column(self.s.start(node))

    def col_after(self, node: ast.expr | ast.stmt) -> int:
        """The user's column of the operator or bracket that follows a node."""
        return self.s.column(self.s.skip(self.s.end(node)))

    def check_module(self, module: ast.Module) -> tuple[_Node, bool, bool]:
        """Validate the one expression statement and compile it."""
        if not module.body:
            # Only a comment survives as an empty module (blank text was caught earlier).
            raise ParseError(_MSG_COMMENT, self.s.column(max(self.s.src.find("#"), 0)))
        first = module.body[0]
        if isinstance(first, ast.Expr):
            self.walk(first.value)
        else:
            self.statement(first)
        rest = self.s.skip(self.s.end(first), " \t")
        if rest < len(self.s.src):
            found = self.s.src[rest]
            message = {";": _MSG_SEMICOLON, "#": _MSG_COMMENT}.get(found, f"unexpected '{found}'")
            self.fail(self.s.column(rest), message)
        if self.errors:
            column, _, message = min(self.errors)
            raise ParseError(message, column)
        assert isinstance(first, ast.Expr)
        return self.compile(first.value), self.uses_x, self.uses_y

    def statement(self, stmt: ast.stmt) -> None:
        """Report a statement that is not an expression (assignment, import, ...)."""
        if isinstance(stmt, ast.Assign):
            self.fail(self.col_after(stmt.targets[0]), _MSG_ASSIGN)
        elif isinstance(stmt, ast.AugAssign):
            at = self.s.skip(self.s.end(stmt.target))
            op = self.s.user_text(at, self.s.src.find("=", at) + 1)
            self.fail(self.s.column(at), f"'{op}' is not allowed: enter just the function")
        elif isinstance(stmt, ast.AnnAssign):
            self.fail(self.col_after(stmt.target), "':' is not allowed")
        else:
            match = _WORD.match(self.s.src, self.s.start(stmt))
            word = match.group() if match else self.s.segment(stmt)
            self.fail(self.col(stmt), f"'{_short(word)}' is not allowed")

    def walk(self, root: ast.expr) -> None:
        """Check every node without recursion, measuring the depth as it goes."""
        stack: list[tuple[ast.expr, int]] = [(root, 1)]
        while stack:
            node, depth = stack.pop()
            if depth > MAX_DEPTH:
                self.fail(self.col(node), _MSG_TOO_DEEP)
                continue
            children = self.check(node)
            for child, same_level in reversed(children):
                stack.append((child, depth if same_level else depth + 1))

    def check(self, node: ast.expr) -> list[tuple[ast.expr, bool]]:
        """Check one node; return the children to check, each flagged if it adds no depth."""
        if isinstance(node, ast.Constant):
            self.check_constant(node)
            return []
        if isinstance(node, ast.Name):
            self.check_name(node)
            return []
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.Not):
                self.fail(self.col(node), "'not' is not allowed")
                return []
            if isinstance(node.op, ast.Invert):
                self.fail(self.col(node), _CHAR_MESSAGES["~"])
                return []
            return [(node.operand, False)]
        if isinstance(node, ast.BinOp):
            if type(node.op) not in _BINOP_SYMBOLS:
                self.fail(self.col_after(node.left), _BINOP_MESSAGES.get(type(node.op), "?"))
            # a + b - c is one flat sum (and a*b/c one product) to the user: a long sum is
            # long, not deep, so the left operand of a chain stays on the same level.
            kind = _chain_kind(node.op)
            left = node.left
            same = isinstance(left, ast.BinOp) and kind is not None and _chain_kind(left.op) == kind
            return [(left, same), (node.right, False)]
        if isinstance(node, ast.Call):
            return self.check_call(node)
        self.check_other(node)
        return []

    def check_constant(self, node: ast.Constant) -> None:
        """Numbers in plain decimal only; no strings, True, None or ..."""
        value = node.value
        text = self.s.segment(node)
        if isinstance(value, bool) or value is None:
            self.fail(self.col(node), f"'{text}' is not allowed")
        elif isinstance(value, (str, bytes)):
            self.fail(self.col(node), _MSG_STRING)
        elif isinstance(value, complex):
            self.fail(self.col(node), _MSG_COMPLEX)
        elif isinstance(value, (int, float)):
            if not _DECIMAL.fullmatch(text):
                self.fail(self.col(node), _MSG_DECIMAL)
        else:
            self.fail(self.col(node), f"'{_short(text)}' is not allowed")

    def check_name(self, node: ast.Name) -> None:
        """x, y, pi and e; a function name must be called."""
        text = self.s.segment(node)
        # Python folds look-alike letters (NFKC): a fullwidth x arrives as 'x'. Only x is x.
        if text != node.id:
            self.fail(self.col(node), _unknown_name(text))
        elif node.id == "x":
            self.uses_x = True
        elif node.id == "y":
            self.uses_y = True
        elif node.id in _CONSTANTS:
            pass
        elif node.id in _ARITY:
            self.fail(self.col(node), _not_called(node.id))
        else:
            self.fail(self.col(node), _unknown_name(node.id))

    def check_call(self, node: ast.Call) -> list[tuple[ast.expr, bool]]:
        """A listed function with the right number of plain arguments, or implicit '*'."""
        func = node.func
        args = [(arg, False) for arg in node.args if not isinstance(arg, ast.Starred)]
        paren = self.s.skip(self.s.end(func))  # the '(' of the call
        name = self.s.segment(func) if isinstance(func, ast.Name) else ""
        if isinstance(func, ast.Name) and name == func.id and name in _ARITY:
            starred = [arg for arg in node.args if isinstance(arg, ast.Starred)]
            for arg in starred:
                self.fail(self.col(arg), _MSG_STAR)
            for kw in node.keywords:
                message = (
                    _MSG_DOUBLE_STAR
                    if kw.arg is None
                    else (f"keyword arguments ('{kw.arg}=') are not allowed")
                )
                self.fail(self.col(kw), message)
            # With unpacking or keywords the count means nothing; those are reported instead.
            if not starred and not node.keywords and len(node.args) != _ARITY[name]:
                self.fail(self.col(func), _arity_message(name, len(node.args)))
            return args
        if isinstance(func, ast.Name) and not (name in _VARIABLES or name in _CONSTANTS):
            self.fail(self.col(func), _unknown_function(name))
            return args
        number = isinstance(func, ast.Constant) and type(func.value) in (int, float)
        if number or isinstance(func, (ast.Name, ast.BinOp, ast.UnaryOp, ast.Call)):
            # "2(x+1)", "x(y)", "(x)(y)", "sin(x)(y)": a factor, then a bracket. The column is
            # that of the bracket: the second factor, where the '*' is missing.
            left = self.s.user_text(self.s.start(node), paren)
            right = self.s.user_text(paren, self.s.end(node))
            self.fail(self.s.column(paren), _implicit_message(left, right))
            return [(func, False), *args]
        # A string, attribute, lambda, ... called: the check of func reports what it is.
        self.fail(self.s.column(paren), f"'{_short(self.s.segment(func))}' is not a function")
        return [(func, False)]

    def check_other(self, node: ast.expr) -> None:
        """Name, in plain words, a construct that the language does not have."""
        column = self.col(node)
        if isinstance(node, ast.Attribute):
            message = f"attribute access ('.{node.attr}') is not allowed"
            column = self.col_after(node.value)
        elif isinstance(node, ast.Subscript):
            message = _MSG_SQUARE
            column = self.col_after(node.value)
        elif isinstance(node, (ast.List, ast.ListComp)):
            message = _MSG_SQUARE
        elif isinstance(node, (ast.Dict, ast.Set, ast.DictComp, ast.SetComp)):
            message = _MSG_CURLY
        elif isinstance(node, ast.Tuple):
            if node.elts:
                column = self.col_after(node.elts[0])
                message = _MSG_COMMA
                touching = len(node.elts) > 1 and (
                    self.s.end(node.elts[0]) + 1 == self.s.start(node.elts[1])
                )
                if touching:
                    # "1,5" typed with a decimal comma: both sides touch the comma.
                    message += " (write decimals with a point, like 1.5)"
            else:
                message = "empty parentheses '()' are not allowed"
        elif isinstance(node, ast.JoinedStr):
            message = _MSG_STRING
        elif isinstance(node, ast.GeneratorExp):
            message = "comprehensions ('for ... in') are not allowed"
        elif isinstance(node, ast.Lambda):
            message = "'lambda' is not allowed"
        elif isinstance(node, ast.IfExp):
            message = "conditional expressions ('if ... else') are not allowed"
            column = self.col_after(node.body)
        elif isinstance(node, ast.BoolOp):
            word = "and" if isinstance(node.op, ast.And) else "or"
            message = f"'{word}' is not allowed"
            column = self.col_after(node.values[0])
        elif isinstance(node, ast.Compare):
            message = f"comparisons ('{_COMPARE_TEXT.get(type(node.ops[0]), '?')}') are not allowed"
            column = self.col_after(node.left)
        elif isinstance(node, ast.NamedExpr):
            message = "assignments (':=') are not allowed"
            column = self.col_after(node.target)
        elif isinstance(node, ast.Await):
            message = "'await' is not allowed"
        elif isinstance(node, (ast.Yield, ast.YieldFrom)):
            message = "'yield' is not allowed"
        elif isinstance(node, ast.Starred):
            message = _MSG_STAR
        else:
            message = f"'{_short(self.s.segment(node))}' is not allowed here"
        self.fail(column, message)

    def compile(self, node: ast.expr) -> _Node:
        """The validated tree as plain nodes; recursion is bounded by the depth check."""
        if isinstance(node, ast.Constant):
            # From the text, never from the Python value: float("9"*400) is inf, where
            # float(int) of that literal would raise OverflowError.
            return _Num(float(self.s.segment(node)))
        if isinstance(node, ast.Name):
            return _Var(node.id) if node.id in _VARIABLES else _Const(node.id)
        if isinstance(node, ast.UnaryOp):
            operand = self.compile(node.operand)
            return _Neg(operand) if isinstance(node.op, ast.USub) else operand
        if isinstance(node, ast.BinOp):
            kind = _chain_kind(node.op)
            if kind is None:
                return _Pow(self.compile(node.left), self.compile(node.right))
            # Gather the left spine with a loop so a 500-term sum costs no recursion.
            pending: list[tuple[str, ast.expr]] = []
            current: ast.expr = node
            while isinstance(current, ast.BinOp) and _chain_kind(current.op) == kind:
                pending.append((_BINOP_SYMBOLS[type(current.op)], current.right))
                current = current.left
            first = self.compile(current)
            rest = tuple((op, self.compile(operand)) for op, operand in reversed(pending))
            return _Chain(first, rest)
        if isinstance(node, ast.Call):
            assert isinstance(node.func, ast.Name)
            return _Call(node.func.id, tuple(self.compile(arg) for arg in node.args))
        raise AssertionError(f"unchecked node {type(node).__name__}")


# --- Diagnosing a SyntaxError: a small scanner that names the problem in plain words. -------


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # "num", "name", "op", "(", ")", ",", "=", or "bad" (with its message)
    text: str
    start: int  # character index in the user's text
    message: str = ""

    @property
    def end(self) -> int:
        return self.start + len(self.text)


@dataclass(slots=True)
class _Open:
    start: int  # the '('
    operand_start: int  # the function name for a call, else the '('
    is_call: bool


def _non_decimal(number: str, tail: str) -> bool:
    """Whether a number runs on into Python-only syntax: 1_000, 0x1F, 0b101, 2j."""
    if not tail:
        return False
    if tail[0] == "_":
        return True
    if number == "0" and tail[0] in "xXoObB" and len(tail) > 1 and tail[1].isalnum():
        return True
    return tail in ("j", "J")


def _is_digit(text: str) -> bool:
    """Whether text is one ASCII digit (str.isdigit also takes '²' and other scripts' digits)."""
    return len(text) == 1 and "0" <= text <= "9"


def _lex(text: str) -> list[_Token]:
    """The user's text as tokens, ending at the first character that has no place in it."""
    tokens: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in " \t":
            i += 1
            continue
        if _is_digit(ch) or (ch == "." and _is_digit(text[i + 1 : i + 2])):
            match = _DECIMAL.match(text, i)
            assert match is not None
            j = match.end()
            number = text[i:j]
            tail_match = _NUMBER_TAIL.match(text, j)
            tail = tail_match.group() if tail_match else ""
            if tail[:1] == "." or tail[:1].isdigit():
                whole = text[i : j + len(tail)]
                tokens.append(_Token("bad", whole, i, f"'{_short(whole)}' is not a number"))
                break
            if _non_decimal(number, tail):
                tokens.append(_Token("bad", number, i, _MSG_DECIMAL))
                break
            if _LEADING_ZERO.fullmatch(number):
                # Python refuses 007 (it looks like C's octal); 0.7 and 00 are fine.
                message = (
                    f"write {number.lstrip('0')}, not {number}: a whole number can't start with 0"
                )
                tokens.append(_Token("bad", number, i, message))
                break
            tokens.append(_Token("num", number, i))
            i = j
            continue
        word_match = _WORD.match(text, i)
        if word_match is not None:
            word = word_match.group()
            # \w is wider than Python's identifiers ('x²' is one \w run): keep the valid part.
            k = len(word)
            while k and not word[:k].isidentifier():
                k -= 1
            if k:
                tokens.append(_Token("name", word[:k], i))
                i += k
                continue
        two = text[i : i + 2]
        if two == "**":
            tokens.append(_Token("op", two, i))
            i += 2
            continue
        if two in ("//", "==", "!=", "<=", ">=", "<<", ">>", ":="):
            messages = {"//": _MSG_FLOOR_DIV, ":=": "assignments (':=') are not allowed"}
            default = (
                f"'{two}' is not supported"
                if two in ("<<", ">>")
                else f"comparisons ('{two}') are not allowed"
            )
            tokens.append(_Token("bad", two, i, messages.get(two, default)))
            break
        if ch in "+-*/^":
            tokens.append(_Token("op", ch, i))
        elif ch in "(),=":
            tokens.append(_Token(ch, ch, i))
        elif ch in "<>":
            tokens.append(_Token("bad", ch, i, f"comparisons ('{ch}') are not allowed"))
            break
        elif ch == ".":
            after = _WORD.match(text, i + 1)
            message = "unexpected '.'"
            if after is not None and tokens and tokens[-1].kind in ("name", ")", "num"):
                message = f"attribute access ('.{after.group()}') is not allowed"
            tokens.append(_Token("bad", ch, i, message))
            break
        else:
            tokens.append(_Token("bad", ch, i, _char_message(ch)))
            break
        i += 1
    return tokens


def _group_end(tokens: list[_Token], k: int) -> int | None:
    """The index of the ')' that closes the '(' at tokens[k], if any."""
    depth = 0
    for m in range(k, len(tokens)):
        if tokens[m].kind == "(":
            depth += 1
        elif tokens[m].kind == ")":
            depth -= 1
            if depth == 0:
                return m
    return None


def _right_factor(text: str, tokens: list[_Token], k: int) -> str:
    """The factor that starts at tokens[k], for the implicit-multiplication suggestion."""
    tok = tokens[k]
    if tok.kind == "(":
        opening = k
    elif tok.kind == "name" and tok.text in _ARITY and k + 1 < len(tokens):
        opening = k + 1  # a call: "2sin(x)" suggests 2*sin(x)
    else:
        return tok.text
    close = _group_end(tokens, opening)
    if close is None:
        return "(...)" if tok.kind == "(" else f"{tok.text}(...)"
    return text[tok.start : tokens[close].end]


def _diagnose(text: str) -> ParseError | None:
    """The first problem in the text, scanning left to right, or None if none is recognised."""
    tokens = _lex(text)
    expect_value = True  # at the start, after an operator, '(' or ','
    stack: list[_Open] = []
    prev: _Token | None = None
    pending_call: _Token | None = None  # a function name waiting for its '('
    group_start = 0  # where the last closed bracket group began (with its function name)
    for k, tok in enumerate(tokens):
        nxt = tokens[k + 1] if k + 1 < len(tokens) else None
        column = tok.start + 1
        if tok.kind == "bad":
            return ParseError(tok.message, column)
        if tok.kind == "name" and keyword.iskeyword(tok.text):
            return ParseError(f"'{tok.text}' is not allowed", column)
        if tok.kind == "=":
            if stack and stack[-1].is_call and prev is not None and prev.kind == "name":
                return ParseError(
                    f"keyword arguments ('{prev.text}=') are not allowed", prev.start + 1
                )
            return ParseError(_MSG_ASSIGN, column)
        if not expect_value and tok.kind in ("num", "name", "("):
            assert prev is not None
            left = text[group_start : prev.end] if prev.kind == ")" else prev.text
            return ParseError(_implicit_message(left, _right_factor(text, tokens, k)), column)
        if tok.kind == "num":
            expect_value = False
        elif tok.kind == "name":
            name = tok.text
            called = nxt is not None and nxt.kind == "("
            if name in _ARITY:
                if not called:
                    return ParseError(_not_called(name), column)
                pending_call = tok
            elif name in _VARIABLES or name in _CONSTANTS:
                expect_value = False
            elif called:
                return ParseError(_unknown_function(name), column)
            else:
                return ParseError(_unknown_name(name), column)
        elif tok.kind == "(":
            operand_start = pending_call.start if pending_call is not None else tok.start
            stack.append(_Open(tok.start, operand_start, pending_call is not None))
            pending_call = None
        elif tok.kind == ")":
            if not stack:
                return ParseError(_MSG_UNMATCHED, column)
            if expect_value:
                assert prev is not None
                if prev.kind != "(":
                    return ParseError(f"missing a value after '{prev.text}'", column)
                if not stack[-1].is_call:
                    return ParseError("empty parentheses '()' are not allowed", prev.start + 1)
            group_start = stack.pop().operand_start
            expect_value = False
        elif tok.kind == ",":
            if expect_value:
                return ParseError("missing a value before ','", column)
            if not stack or not stack[-1].is_call:
                message = _MSG_COMMA
                if prev is not None and prev.kind == "num" and prev.end == tok.start:
                    message += " (write decimals with a point, like 1.5)"
                return ParseError(message, column)
            expect_value = True
        elif expect_value and tok.text not in "+-":
            where = f"after '{prev.text}'" if prev is not None else f"before '{tok.text}'"
            return ParseError(f"missing a value {where}", column)
        else:
            expect_value = True  # a binary operator, or a unary + or -
        prev = tok
    if prev is not None and prev.kind == "(":
        return ParseError(_MSG_UNCLOSED, prev.start + 1)
    if expect_value and prev is not None:
        return ParseError(f"missing a value after '{prev.text}'", len(text) + 1)
    if stack:
        # The innermost unclosed bracket: the first ')' missing at the end is its partner.
        return ParseError(_MSG_UNCLOSED, stack[-1].start + 1)
    return None


def _from_syntax_error(source: _Source, exc: SyntaxError) -> ParseError:
    """Python's own SyntaxError in plain words (when the scanner found nothing it knows)."""
    # Python 3.10+ gives SyntaxError offsets in characters of the parsed text (1-based).
    index = min(max((exc.offset or 1) - 1, 0), len(source.src))
    column = source.column(index)
    reason = exc.msg or ""
    if "nested parentheses" in reason:
        return ParseError(_MSG_TOO_DEEP, column)
    if "never closed" in reason:
        return ParseError(_MSG_UNCLOSED, column)
    if "unmatched" in reason:
        return ParseError(_MSG_UNMATCHED, column)
    if "string" in reason:
        return ParseError(_MSG_STRING, column)
    if index >= len(source.src):
        return ParseError("the function is incomplete", column)
    match = _FOUND.match(source.text, column - 1)
    found = match.group() if match else source.text[column - 1 : column]
    return ParseError(f"unexpected '{_short(found)}'", column)


# --- Evaluation with torch -------------------------------------------------------------------


@functools.cache
def _torch_functions() -> dict[str, Callable[..., torch.Tensor]]:
    """The language's functions as torch callables (float64 in, float64 out)."""
    import torch
    import torch.nn.functional

    table: dict[str, Callable[..., torch.Tensor]] = {
        name: getattr(torch, name)
        for name in (
            "sin cos tan asin acos atan sinh cosh tanh exp log log2 log10 sqrt abs sign "
            "floor ceil sigmoid relu"
        ).split()
    }
    table.update(
        min=torch.minimum,
        max=torch.maximum,
        atan2=torch.atan2,
        softplus=torch.nn.functional.softplus,
    )
    return table


def _float64_tensor(value: torch.Tensor) -> torch.Tensor:
    """value as a float64 tensor, keeping its autograd graph."""
    import torch

    if isinstance(value, torch.Tensor):
        return value if value.dtype == torch.float64 else value.to(torch.float64)
    # torch.tensor copies (as_tensor would warn about read-only numpy arrays).
    return torch.tensor(value, dtype=torch.float64)


def _scalar(node: _Num | _Const) -> float:
    """A literal's value."""
    return node.value if isinstance(node, _Num) else _CONSTANTS[node.name]


def _evaluate(
    node: _Node, x: torch.Tensor, y: torch.Tensor, functions: dict[str, Callable[..., torch.Tensor]]
) -> torch.Tensor:
    """One node on tensors; recursion depth is bounded by MAX_DEPTH."""
    import torch

    if isinstance(node, _Var):
        return x if node.name == "x" else y
    if isinstance(node, (_Num, _Const)):
        # Constants are float64 tensors, never Python floats: 9**9**9**9 must be inf at once,
        # not an OverflowError (or a hang with ints).
        value = node.value if isinstance(node, _Num) else _CONSTANTS[node.name]
        return torch.tensor(value, dtype=torch.float64, device=x.device)
    if isinstance(node, _Neg):
        return -_evaluate(node.operand, x, y, functions)
    if isinstance(node, _Pow):
        base = _evaluate(node.base, x, y, functions)
        if isinstance(node.exponent, (_Num, _Const)):
            # A literal exponent as a Python float: torch's scalar pow (x**2 is a square) is
            # several times cheaper, forward and backward, than a tensor exponent. The base is
            # a tensor, so no Python float arithmetic can overflow or hang here.
            return torch.pow(base, _scalar(node.exponent))
        return torch.pow(base, _evaluate(node.exponent, x, y, functions))
    if isinstance(node, _Chain):
        acc = _evaluate(node.first, x, y, functions)
        for op, operand in node.rest:
            # Literal operands as Python floats (acc is always a tensor): no tensor to build.
            term: torch.Tensor | float = (
                _scalar(operand)
                if isinstance(operand, (_Num, _Const))
                else _evaluate(operand, x, y, functions)
            )
            if op == "+":
                acc = acc + term
            elif op == "-":
                acc = acc - term
            elif op == "*":
                acc = acc * term
            else:
                acc = acc / term
        return acc
    args = [_evaluate(arg, x, y, functions) for arg in node.args]
    return functions[node.name](*args)


# --- sympy -----------------------------------------------------------------------------------


@functools.cache
def _symbols() -> tuple[sympy.Symbol, sympy.Symbol]:
    """The real symbols x and y."""
    import sympy

    return sympy.Symbol("x", real=True), sympy.Symbol("y", real=True)


@functools.cache
def _sympy_functions() -> dict[str, Callable[..., sympy.Expr]]:
    """The language's functions as sympy callables taking an `evaluate` flag."""
    # evaluate=False (used when an argument has x or y) keeps a function as written: sympy's own
    # simplification of nested abs(), max(), sigmoid(), ... asks for signs through every level
    # and costs seconds to minutes. But exp of anything holding a log is always evaluated: sympy
    # rewrites exp(k*log(u)) as u**k, and that must happen here, where the numbers are kept
    # small, not later inside diff(), where exp(k*log(exp(k*log(c*x)))) would become an exact
    # c**(k*k). sqrt, a power, is always evaluated too.
    import sympy

    def plain(function: Any) -> Callable[..., sympy.Expr]:
        def build(*args: sympy.Expr, evaluate: bool) -> sympy.Expr:
            return function(*args, evaluate=evaluate)

        return build

    def always(function: Any) -> Callable[..., sympy.Expr]:
        def build(*args: sympy.Expr, evaluate: bool) -> sympy.Expr:
            return function(*args)

        return build

    one = sympy.Integer(1)

    def exp(a: sympy.Expr, evaluate: bool = True) -> sympy.Expr:
        return sympy.exp(a, evaluate=evaluate or _has_log(a))

    def log_base(base: int) -> Callable[..., sympy.Expr]:
        def build(a: sympy.Expr, evaluate: bool) -> sympy.Expr:
            log_a = sympy.log(a, evaluate=evaluate)
            return sympy.Mul(log_a, sympy.Pow(sympy.log(base), -1), evaluate=evaluate)

        return build

    def sigmoid(a: sympy.Expr, evaluate: bool) -> sympy.Expr:
        # Pow(1 + exp(-a), -1) evaluated asks for the sign of its base, level after level.
        minus_a = sympy.Mul(-one, a, evaluate=evaluate)  # -a would distribute into a's terms
        one_plus = sympy.Add(one, exp(minus_a, evaluate), evaluate=evaluate)
        return sympy.Pow(one_plus, -one, evaluate=evaluate)

    def relu(a: sympy.Expr, evaluate: bool) -> sympy.Expr:
        return sympy.Max(sympy.Integer(0), a, evaluate=evaluate)

    def softplus(a: sympy.Expr, evaluate: bool) -> sympy.Expr:
        return sympy.log(sympy.Add(one, exp(a, evaluate), evaluate=evaluate), evaluate=evaluate)

    names = "sin cos tan asin acos atan sinh cosh tanh log sign floor atan2"
    table = {name: plain(getattr(sympy, name)) for name in names.split()}
    table.update(
        exp=exp,
        sqrt=always(sympy.sqrt),
        log2=log_base(2),
        log10=log_base(10),
        abs=plain(sympy.Abs),
        ceil=plain(sympy.ceiling),
        # Unevaluated Min/Max stay binary (evaluated ones compare every pair of flattened
        # arguments: 100 nested max() take minutes) and still differentiate.
        min=plain(sympy.Min),
        max=plain(sympy.Max),
        sigmoid=sigmoid,
        relu=relu,
        softplus=softplus,
    )
    return table


def _sympy_number(value: float) -> sympy.Expr:
    """A float64 value as sympy: small integers exact, others Float, inf as oo, nan as nan."""
    import sympy

    if math.isnan(value):
        return sympy.nan
    if math.isinf(value):
        return sympy.oo if value > 0 else -sympy.oo
    if value.is_integer() and abs(value) < _EXACT_LIMIT:
        return sympy.Integer(int(value))
    return sympy.Float(value)


def _float_of(value: sympy.Expr) -> float | None:
    """A variable-free sympy value as float64 (nan if not real), or None if sympy cannot say."""
    try:
        number = complex(value)
    except (ArithmeticError, TypeError, ValueError, NotImplementedError):
        # sympy's evalf gives up on some exact values (PrecisionExhausted for floor(exp(700))).
        return None
    return number.real if number.imag == 0 else math.nan


def _constant_value(node: _Node) -> float:
    """A node without x or y, worked out by the same float64 kernels as evaluate."""
    import torch

    zero = torch.zeros((), dtype=torch.float64)
    with torch.no_grad():
        return float(_evaluate(node, zero, zero, _torch_functions()))


def _numeric(node: _Node, value: sympy.Expr, constant: bool) -> float:
    """The float64 value of a variable-free sympy value built from node."""
    if constant:
        return _constant_value(node)
    # x and y were written but cancelled (x - x): only sympy knows the value.
    number = _float_of(value)
    return math.nan if number is None else number


class _Sym(NamedTuple):
    """A node converted to sympy."""

    expr: sympy.Expr
    constant: bool  # written without x and y
    symbolic: bool  # still has x or y after sympy's evaluation (x - x has not)


def _parts(value: sympy.Expr) -> Iterator[sympy.Expr]:
    """Every distinct subexpression of value, value included."""
    # An explicit stack: sympy's own traversals nest generators, O(depth) per item.
    seen = {value}
    stack = [value]
    while stack:
        item = stack.pop()
        yield item
        for arg in item.args:
            if arg not in seen:
                seen.add(arg)
                stack.append(arg)


def _big_rationals(value: sympy.Expr) -> dict[sympy.Expr, sympy.Expr]:
    """Exact numbers at or past _EXACT_LIMIT in value, each mapped to its Float."""
    # evalf, not Float(item): Float goes through str(), which refuses integers of 4300+ digits.
    return {
        item: item.evalf()
        for item in _parts(value)
        if item.is_Rational and (abs(item.p) >= _EXACT_LIMIT or item.q >= _EXACT_LIMIT)
    }


def _has_log(value: sympy.Expr) -> bool:
    """Whether value contains a logarithm."""
    import sympy

    return any(isinstance(item, sympy.log) for item in _parts(value))


def _finish(value: sympy.Expr, node: _Node, constant: bool, symbolic: bool) -> _Sym:
    """Tame what sympy evaluated: small exact numbers, and real finite values without x or y."""
    import sympy

    if symbolic and value.free_symbols:
        big = _big_rationals(value)
        return _Sym(value.xreplace(big) if big else value, constant, True)
    exact = _float_of(value)
    usable = exact is not None and math.isfinite(exact) and not _big_rationals(value)
    if not constant:
        # x and y were written but cancelled (x - x): only sympy knows the value.
        if usable or value in (sympy.oo, -sympy.oo, sympy.zoo, sympy.nan):
            return _Sym(value, constant, False)
        return _Sym(_sympy_number(math.nan), constant, False)
    # Written without x and y: keep the exact form (pi/4, sqrt(2)) only where it agrees with
    # the float64 value that evaluate computes. Elsewhere float64 wins: atan2(0, 0) is 0, not
    # nan; 1/0 is inf, not zoo; atan2(inf, inf) is pi/4; 2**10000 is inf.
    number = _constant_value(node)
    if usable and exact is not None and math.isclose(exact, number, rel_tol=1e-9, abs_tol=1e-12):
        return _Sym(value, constant, False)
    return _Sym(_sympy_number(number), constant, False)


def _to_sympy(node: _Node) -> _Sym:
    """One node as sympy (recursion is bounded by MAX_DEPTH)."""
    import sympy

    if isinstance(node, _Num):
        return _Sym(_sympy_number(node.value), True, False)
    if isinstance(node, _Var):
        x, y = _symbols()
        return _Sym(x if node.name == "x" else y, False, True)
    if isinstance(node, _Const):
        return _Sym(sympy.pi if node.name == "pi" else sympy.E, True, False)
    if isinstance(node, _Neg):
        inner = _to_sympy(node.operand)
        return _finish(-inner.expr, node, inner.constant, inner.symbolic)
    if isinstance(node, _Pow):
        base, exponent = _to_sympy(node.base), _to_sympy(node.exponent)
        constant = base.constant and exponent.constant
        if base.symbolic or exponent.symbolic:
            return _finish(sympy.Pow(base.expr, exponent.expr), node, constant, True)
        # Both sides are numbers: fold in float64 (inf allowed), so 9**9**9**9 never becomes
        # a gigantic exact integer.
        import torch

        folded = torch.pow(
            torch.tensor(_numeric(node.base, base.expr, base.constant), dtype=torch.float64),
            torch.tensor(
                _numeric(node.exponent, exponent.expr, exponent.constant), dtype=torch.float64
            ),
        )
        return _Sym(_sympy_number(float(folded)), constant, False)
    if isinstance(node, _Chain):
        parts = [_to_sympy(node.first)]
        terms = [parts[0].expr]
        for op, operand in node.rest:
            part = _to_sympy(operand)
            parts.append(part)
            term = -part.expr if op == "-" else part.expr
            terms.append(sympy.Pow(term, -1) if op == "/" else term)
        # One n-ary Add or Mul: sympy flattens nested binary ones in quadratic time.
        result = sympy.Add(*terms) if node.rest[0][0] in "+-" else sympy.Mul(*terms)
        constant = all(part.constant for part in parts)
        return _finish(result, node, constant, any(part.symbolic for part in parts))
    converted = [_to_sympy(arg) for arg in node.args]
    constant = all(arg.constant for arg in converted)
    function = _sympy_functions()[node.name]
    symbolic = any(arg.symbolic for arg in converted)
    try:
        result = function(*(arg.expr for arg in converted), evaluate=not symbolic)
    except (ValueError, TypeError, ArithmeticError, NotImplementedError):
        # sympy refuses some numbers (min(pi, nan): "nan is not comparable"); use float64.
        number = _constant_value(node) if constant else math.nan
        return _Sym(_sympy_number(number), constant, False)
    return _finish(result, node, constant, symbolic)


class _RecursionRoom:
    """Raises the recursion limit while sympy works, and restores it when the last user leaves."""

    # sympy recurses once per level of an expression, several frames each: a 100-deep sigmoid()
    # nest needs more than Python's default 1000 frames. Threads share the limit, hence the count.

    LIMIT: Final = 10_000

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._users = 0
        self._saved = 0

    def __enter__(self) -> None:
        with self._lock:
            if self._users == 0:
                self._saved = sys.getrecursionlimit()
                sys.setrecursionlimit(max(self._saved, self.LIMIT))
            self._users += 1

    def __exit__(self, *exc_info: object) -> None:
        with self._lock:
            self._users -= 1
            if self._users == 0:
                sys.setrecursionlimit(self._saved)


_RECURSION_ROOM: Final = _RecursionRoom()


@functools.lru_cache(maxsize=128)
def _sympy_of(expression: Expression) -> sympy.Expr:
    """Expression.sympy_expr, cached per expression."""
    with _RECURSION_ROOM:
        return _to_sympy(expression._tree).expr


@functools.lru_cache(maxsize=128)
def _derivatives_of(expression: Expression) -> tuple[sympy.Expr, sympy.Expr]:
    """Expression.derivatives, cached per expression."""
    import sympy

    f = _sympy_of(expression)
    x, y = _symbols()
    with _RECURSION_ROOM:
        dfdx, dfdy = sympy.diff(f, x), sympy.diff(f, y)
        # diff multiplies exact numbers (the chain rule brings exponents down): keep them small.
        return dfdx.xreplace(_big_rationals(dfdx)), dfdy.xreplace(_big_rationals(dfdy))
