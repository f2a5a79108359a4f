"""The user's function of x and y: parsed with a whitelist over Python's ast, never executed."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from explorer.core.expression.errors import ParseError
from explorer.core.expression.evaluation import evaluate_tree, float64_tensor, torch_functions
from explorer.core.expression.language import FUNCTIONS, MAX_DEPTH, MAX_LENGTH
from explorer.core.expression.parser import compile_text
from explorer.core.expression.symbolic import partial_derivatives, to_sympy
from explorer.core.expression.tree import Node
from explorer.core.expression.undefined import Undefined, explain

# torch, sympy and numpy are imported inside the functions that need them: the GUI parses text
# while torch is still loading in the background, so importing this package must stay cheap.
if TYPE_CHECKING:
    import numpy as np
    import sympy
    import torch
    from numpy.typing import ArrayLike, NDArray

__all__ = [
    "FUNCTIONS",
    "MAX_DEPTH",
    "MAX_LENGTH",
    "Expression",
    "ParseError",
    "Undefined",
    "parse",
]


@dataclass(frozen=True)
class Expression:
    """A validated function of x and y; build it with parse()."""

    text: str
    uses_x: bool
    uses_y: bool
    _tree: Node = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        tree, uses_x, uses_y = compile_text(self.text)  # cached: parse() has just compiled it
        if (uses_x, uses_y) != (self.uses_x, self.uses_y):
            raise ValueError(f"uses_x/uses_y do not match the text {self.text!r}")
        object.__setattr__(self, "_tree", tree)

    def evaluate(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """f(x, y) in float64, broadcasting x and y; differentiable with autograd."""
        import torch

        xt, yt = float64_tensor(x), float64_tensor(y)
        shape = torch.broadcast_shapes(  # type: ignore[no-untyped-call]  # torch: untyped
            xt.shape, yt.shape
        )
        out = evaluate_tree(self._tree, xt, yt, torch_functions())
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

    def undefined(self, x: ArrayLike, y: ArrayLike) -> list[Undefined | None]:
        """At each point (flattened): why f is not a finite number there; None where it is."""
        return explain(self._tree, x, y)

    def undefined_at(self, x: float, y: float) -> Undefined | None:
        """Why f is not a finite number at (x, y); None where it is."""
        return self.undefined(x, y)[0]

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
    _, uses_x, uses_y = compile_text(text)
    return Expression(text, uses_x, uses_y)


@functools.lru_cache(maxsize=128)
def _sympy_of(expression: Expression) -> sympy.Expr:
    """Expression.sympy_expr, cached per expression."""
    return to_sympy(expression._tree)


@functools.lru_cache(maxsize=128)
def _derivatives_of(expression: Expression) -> tuple[sympy.Expr, sympy.Expr]:
    """Expression.derivatives, cached per expression."""
    return partial_derivatives(_sympy_of(expression))
