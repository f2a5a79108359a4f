"""Diagnosing a SyntaxError: a small scanner that names the problem in plain words."""

from __future__ import annotations

import keyword
from dataclasses import dataclass

from explorer.core.expression.errors import ParseError
from explorer.core.expression.language import (
    ARITY,
    DECIMAL,
    FOUND,
    LEADING_ZERO,
    NUMBER_TAIL,
    WORD,
)
from explorer.core.expression.messages import (
    MSG_ASSIGN,
    MSG_COMMA,
    MSG_DECIMAL,
    MSG_DECIMAL_COMMA,
    MSG_EMPTY_PARENS,
    MSG_FLOOR_DIV,
    MSG_STRING,
    MSG_TOO_DEEP,
    MSG_UNCLOSED,
    MSG_UNMATCHED,
    MSG_WALRUS,
    attribute_message,
    char_message,
    compare_message,
    implicit_message,
    keyword_message,
    name_message,
    short,
)
from explorer.core.expression.source import Source


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
            match = DECIMAL.match(text, i)
            assert match is not None
            j = match.end()
            number = text[i:j]
            tail_match = NUMBER_TAIL.match(text, j)
            tail = tail_match.group() if tail_match else ""
            if tail[:1] == "." or tail[:1].isdigit():
                whole = text[i : j + len(tail)]
                tokens.append(_Token("bad", whole, i, f"'{short(whole)}' is not a number"))
                break
            if _non_decimal(number, tail):
                tokens.append(_Token("bad", number, i, MSG_DECIMAL))
                break
            if LEADING_ZERO.fullmatch(number):
                # Python refuses 007 (it looks like C's octal); 0.7 and 00 are fine.
                message = (
                    f"write {number.lstrip('0')}, not {number}: a whole number can't start with 0"
                )
                tokens.append(_Token("bad", number, i, message))
                break
            tokens.append(_Token("num", number, i))
            i = j
            continue
        word_match = WORD.match(text, i)
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
            messages = {"//": MSG_FLOOR_DIV, ":=": MSG_WALRUS}
            default = f"'{two}' is not supported" if two in ("<<", ">>") else compare_message(two)
            tokens.append(_Token("bad", two, i, messages.get(two, default)))
            break
        if ch in "+-*/^":
            tokens.append(_Token("op", ch, i))
        elif ch in "(),=":
            tokens.append(_Token(ch, ch, i))
        elif ch in "<>":
            tokens.append(_Token("bad", ch, i, compare_message(ch)))
            break
        elif ch == ".":
            after = WORD.match(text, i + 1)
            message = "unexpected '.'"
            if after is not None and tokens and tokens[-1].kind in ("name", ")", "num"):
                message = attribute_message(after.group())
            tokens.append(_Token("bad", ch, i, message))
            break
        else:
            tokens.append(_Token("bad", ch, i, char_message(ch)))
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
    elif tok.kind == "name" and tok.text in ARITY and k + 1 < len(tokens):
        opening = k + 1  # a call: "2sin(x)" suggests 2*sin(x)
    else:
        return tok.text
    close = _group_end(tokens, opening)
    if close is None:
        return "(...)" if tok.kind == "(" else f"{tok.text}(...)"
    return text[tok.start : tokens[close].end]


def diagnose(text: str) -> ParseError | None:
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
                return ParseError(keyword_message(prev.text), prev.start + 1)
            return ParseError(MSG_ASSIGN, column)
        if not expect_value and tok.kind in ("num", "name", "("):
            assert prev is not None
            left = text[group_start : prev.end] if prev.kind == ")" else prev.text
            return ParseError(implicit_message(left, _right_factor(text, tokens, k)), column)
        if tok.kind == "num":
            expect_value = False
        elif tok.kind == "name":
            name = tok.text
            message = name_message(name, called=nxt is not None and nxt.kind == "(")
            if message is not None:
                return ParseError(message, column)
            if name in ARITY:
                pending_call = tok
            else:
                expect_value = False
        elif tok.kind == "(":
            operand_start = pending_call.start if pending_call is not None else tok.start
            stack.append(_Open(tok.start, operand_start, pending_call is not None))
            pending_call = None
        elif tok.kind == ")":
            if not stack:
                return ParseError(MSG_UNMATCHED, column)
            if expect_value:
                assert prev is not None
                if prev.kind != "(":
                    return ParseError(f"missing a value after '{prev.text}'", column)
                if not stack[-1].is_call:
                    return ParseError(MSG_EMPTY_PARENS, prev.start + 1)
            group_start = stack.pop().operand_start
            expect_value = False
        elif tok.kind == ",":
            if expect_value:
                return ParseError("missing a value before ','", column)
            if not stack or not stack[-1].is_call:
                message = MSG_COMMA
                if prev is not None and prev.kind == "num" and prev.end == tok.start:
                    message += MSG_DECIMAL_COMMA
                return ParseError(message, column)
            expect_value = True
        elif expect_value and tok.text not in "+-":
            where = f"after '{prev.text}'" if prev is not None else f"before '{tok.text}'"
            return ParseError(f"missing a value {where}", column)
        else:
            expect_value = True  # a binary operator, or a unary + or -
        prev = tok
    if prev is not None and prev.kind == "(":
        return ParseError(MSG_UNCLOSED, prev.start + 1)
    if expect_value and prev is not None:
        return ParseError(f"missing a value after '{prev.text}'", len(text) + 1)
    if stack:
        # The innermost unclosed bracket: the first ')' missing at the end is its partner.
        return ParseError(MSG_UNCLOSED, stack[-1].start + 1)
    return None


def from_syntax_error(source: Source, exc: SyntaxError) -> ParseError:
    """Python's own SyntaxError in plain words (when the scanner found nothing it knows)."""
    # Python 3.10+ gives SyntaxError offsets in characters of the parsed text (1-based).
    index = min(max((exc.offset or 1) - 1, 0), len(source.src))
    column = source.column(index)
    reason = exc.msg or ""
    if "nested parentheses" in reason:
        return ParseError(MSG_TOO_DEEP, column)
    if "never closed" in reason:
        return ParseError(MSG_UNCLOSED, column)
    if "unmatched" in reason:
        return ParseError(MSG_UNMATCHED, column)
    if "string" in reason:
        return ParseError(MSG_STRING, column)
    if index >= len(source.src):
        return ParseError("the function is incomplete", column)
    match = FOUND.match(source.text, column - 1)
    found = match.group() if match else source.text[column - 1 : column]
    return ParseError(f"unexpected '{short(found)}'", column)
