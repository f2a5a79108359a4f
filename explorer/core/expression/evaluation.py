"""The compiled tree evaluated with torch, in float64."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING

from explorer.core.expression.language import CONSTANTS
from explorer.core.expression.tree import Chain, Const, Neg, Node, Num, Pow, Var

# torch is imported inside the functions that need it: importing this module must stay cheap.
if TYPE_CHECKING:
    import torch


@functools.cache
def torch_functions() -> dict[str, Callable[..., torch.Tensor]]:
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


def float64_tensor(value: torch.Tensor) -> torch.Tensor:
    """value as a float64 tensor, keeping its autograd graph."""
    import torch

    if isinstance(value, torch.Tensor):
        return value if value.dtype == torch.float64 else value.to(torch.float64)
    # torch.tensor copies (as_tensor would warn about read-only numpy arrays).
    return torch.tensor(value, dtype=torch.float64)


def _scalar(node: Num | Const) -> float:
    """A literal's value."""
    return node.value if isinstance(node, Num) else CONSTANTS[node.name]


def evaluate_tree(
    node: Node, x: torch.Tensor, y: torch.Tensor, functions: dict[str, Callable[..., torch.Tensor]]
) -> torch.Tensor:
    """One node on tensors; recursion depth is bounded by MAX_DEPTH."""
    import torch

    if isinstance(node, Var):
        return x if node.name == "x" else y
    if isinstance(node, (Num, Const)):
        # Constants are float64 tensors, never Python floats: 9**9**9**9 must be inf at once,
        # not an OverflowError (or a hang with ints).
        return torch.tensor(_scalar(node), dtype=torch.float64, device=x.device)
    if isinstance(node, Neg):
        return -evaluate_tree(node.operand, x, y, functions)
    if isinstance(node, Pow):
        base = evaluate_tree(node.base, x, y, functions)
        if isinstance(node.exponent, (Num, Const)):
            # A literal exponent as a Python float: torch's scalar pow (x**2 is a square) is
            # several times cheaper, forward and backward, than a tensor exponent. The base is
            # a tensor, so no Python float arithmetic can overflow or hang here.
            return torch.pow(base, _scalar(node.exponent))
        return torch.pow(base, evaluate_tree(node.exponent, x, y, functions))
    if isinstance(node, Chain):
        acc = evaluate_tree(node.first, x, y, functions)
        for op, operand in node.rest:
            # Literal operands as Python floats (acc is always a tensor): no tensor to build.
            term: torch.Tensor | float = (
                _scalar(operand)
                if isinstance(operand, (Num, Const))
                else evaluate_tree(operand, x, y, functions)
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
    args = [evaluate_tree(arg, x, y, functions) for arg in node.args]
    return functions[node.name](*args)


def constant_value(node: Node) -> float:
    """A node without x or y, worked out by the same float64 kernels as evaluate."""
    import torch

    zero = torch.zeros((), dtype=torch.float64)
    with torch.no_grad():
        return float(evaluate_tree(node, zero, zero, torch_functions()))
