"""Where f is undefined: the first operation whose value is not finite while its inputs are.

The compiled tree is walked once over a batch of points with numpy float64 (the same IEEE
results as torch's kernels for every question asked here: is this value finite?). numpy, not
torch: the parser asks this at (NaN, NaN) to refuse constant parts such as 1/0, and parsing must
not load torch (the window parses while torch is still loading).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from explorer.core.expression.language import CONSTANTS
from explorer.core.expression.tree import Call, Chain, Const, Neg, Node, Num, Pow, Var

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import ArrayLike, NDArray

    Array = NDArray[np.float64]
    Mask = NDArray[np.bool_]

_CHAIN_WORDS: Final = {"+": "a sum", "-": "a difference", "*": "a product", "/": "a division"}


@dataclass(frozen=True)
class Undefined:
    """Why f is not a finite number somewhere: the operation that failed first, in words."""

    reason: str  # "log of a negative number", "division by zero", "exp overflows"
    overflow: bool  # the value is too large for float64, rather than undefined
    node: Node = field(compare=False, repr=False)
    step: int = field(default=0, compare=False, repr=False)  # which operation of a Chain

    def where(self, place: str) -> str:
        """'f is undefined <place>: <reason>', or 'f is too large for float64 <place>: ...'."""
        state = "is too large for float64" if self.overflow else "is undefined"
        return f"f {state} {place}: {self.reason}"

    def at(self, x: float, y: float) -> str:
        """The message for the point (x, y)."""
        return self.where(f"at ({x:.6g}, {y:.6g})")


def first_failures(
    tree: Node, x: ArrayLike, y: ArrayLike
) -> tuple[Array, list[Undefined | None]]:
    """f at every point (flattened), and at each the first operation that failed (or None).

    A failure is reported even where a later operation heals it (exp(log(0)) is 0): callers that
    only care about a non-finite f check the value.
    """
    import numpy as np

    xa, ya = np.broadcast_arrays(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))
    walk = _Walk(xa.reshape(-1), ya.reshape(-1))
    with np.errstate(all="ignore"):
        value = np.broadcast_to(walk.value(tree), walk.first.shape).astype(np.float64)
    return value, [None if i < 0 else walk.found[i] for i in map(int, walk.first)]


def explain(tree: Node, x: ArrayLike, y: ArrayLike) -> list[Undefined | None]:
    """At each point: why f is not finite there; None where it is finite."""
    import numpy as np

    value, failures = first_failures(tree, x, y)
    fallback = Undefined("an intermediate value is not a finite number", False, tree)
    return [
        None if finite else (failure or fallback)
        for finite, failure in zip(np.isfinite(value).tolist(), failures, strict=True)
    ]


def _functions() -> dict[str, Callable[..., Array]]:
    """The language's functions in numpy, as torch computes them (softplus's threshold too)."""
    import numpy as np

    def sigmoid(a: Array) -> Array:
        return np.asarray(1.0 / (1.0 + np.exp(-a)))

    def softplus(a: Array) -> Array:
        return np.asarray(np.where(a > 20.0, a, np.log1p(np.exp(np.minimum(a, 20.0)))))

    table: dict[str, Callable[..., Array]] = {
        name: getattr(np, name)
        for name in "sin cos tan sinh cosh tanh exp log log2 log10 sqrt abs sign floor ceil".split()
    }
    table.update(
        asin=np.arcsin,
        acos=np.arccos,
        atan=np.arctan,
        atan2=np.arctan2,
        min=np.minimum,
        max=np.maximum,
        sigmoid=sigmoid,
        relu=lambda a: np.maximum(a, 0.0),
        softplus=softplus,
    )
    return table


def _reasons(name: str, args: Sequence[Array]) -> list[tuple[Mask | bool, str, bool]]:
    """What went wrong in operation `name` given its arguments: (where, reason, overflow)."""
    import numpy as np

    a = args[0]
    if name in ("log", "log2", "log10"):
        return [(a < 0, f"{name} of a negative number", False), (a == 0, f"{name} of zero", False)]
    if name == "sqrt":
        return [(a < 0, "sqrt of a negative number", False)]
    if name in ("asin", "acos"):
        return [(np.abs(a) > 1, f"{name} of a number outside [-1, 1]", False)]
    if name == "/":
        return [(args[1] == 0, "division by zero", False), (True, "a division overflows", True)]
    if name == "**":
        b = args[1]
        return [
            ((a == 0) & (b < 0), "zero to a negative power", False),
            ((a < 0) & (b != np.floor(b)), "a negative number to a non-integer power", False),
            (True, "a power overflows", True),
        ]
    if name in _CHAIN_WORDS:
        return [(True, f"{_CHAIN_WORDS[name]} overflows", True)]
    if name in ("exp", "sinh", "cosh"):
        return [(True, f"{name} overflows", True)]
    return [(True, f"{name} gives no finite value", False)]


class _Walk:
    """One pass over the tree that remembers, row by row, the first operation that failed."""

    def __init__(self, x: Array, y: Array) -> None:
        import numpy as np

        self.x, self.y = x, y
        self.first = np.full(x.shape, -1, dtype=np.int64)  # index into found
        self.found: list[Undefined] = []
        self.functions = _functions()

    def value(self, node: Node) -> Array:
        """node's value at every row (recursion is bounded by MAX_DEPTH)."""
        import numpy as np

        if isinstance(node, Var):
            return self.x if node.name == "x" else self.y
        if isinstance(node, (Num, Const)):
            number = node.value if isinstance(node, Num) else CONSTANTS[node.name]
            out = np.full(self.x.shape, number)
            self._check(node, 0, "number", (), out)
            return out
        if isinstance(node, Neg):
            return np.asarray(-self.value(node.operand))
        if isinstance(node, Pow):
            base, exponent = self.value(node.base), self.value(node.exponent)
            return self._check(node, 0, "**", (base, exponent), np.power(base, exponent))
        if isinstance(node, Chain):
            acc = self.value(node.first)
            for step, (op, operand) in enumerate(node.rest):
                term = self.value(operand)
                out = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide}[op](
                    acc, term
                )
                acc = self._check(node, step, op, (acc, term), out)
            return acc
        assert isinstance(node, Call)
        args = [self.value(arg) for arg in node.args]
        return self._check(node, 0, node.name, args, self.functions[node.name](*args))

    def _check(self, node: Node, step: int, name: str, args: Sequence[Array], out: Array) -> Array:
        """Record rows where out is not finite but every argument is (and none failed before)."""
        import numpy as np

        out = np.broadcast_to(np.asarray(out, dtype=np.float64), self.x.shape)
        bad = ~np.isfinite(out) & (self.first < 0)
        if name == "/":
            # A division by zero is one whatever the dividend: x/0 is undefined everywhere.
            bad &= np.isfinite(args[1]) & (np.isfinite(args[0]) | (args[1] == 0))
        else:
            for arg in args:
                bad &= np.isfinite(arg)
        if not bad.any():
            return out
        if name == "number":
            reasons: list[tuple[Mask | bool, str, bool]] = [(True, "too large for float64", True)]
        else:
            reasons = _reasons(name, args)
        for where, reason, overflow in reasons:
            hit = bad & where
            if hit.any():
                self.first[hit] = len(self.found)
                self.found.append(Undefined(reason, overflow, node, step))
                bad &= ~hit
        return out
