"""The compiled tree that evaluation and sympy walk: plain frozen data, so it pickles."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias


@dataclass(frozen=True, slots=True)
class Num:
    """A number as written, in float64."""

    value: float


@dataclass(frozen=True, slots=True)
class Var:
    """x or y."""

    name: str


@dataclass(frozen=True, slots=True)
class Const:
    """pi or e."""

    name: str


@dataclass(frozen=True, slots=True)
class Neg:
    """A unary minus."""

    operand: Node


@dataclass(frozen=True, slots=True)
class Chain:
    """first, then (op, operand) pairs applied left to right: all of + and -, or all of * and /."""

    first: Node
    rest: tuple[tuple[str, Node], ...]


@dataclass(frozen=True, slots=True)
class Pow:
    """base ** exponent (the user may write ^)."""

    base: Node
    exponent: Node


@dataclass(frozen=True, slots=True)
class Call:
    """One of the language's functions, applied to its arguments."""

    name: str
    args: tuple[Node, ...]


Node: TypeAlias = Num | Var | Const | Neg | Chain | Pow | Call
