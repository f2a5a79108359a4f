"""An objective that counts its calls: evaluation counts are checked against it, not pasted."""

from __future__ import annotations

import torch


def rosenbrock(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The scipy lecture's Rosenbrock, 0.5(1 - x)^2 + (y - x^2)^2."""
    return 0.5 * (1 - x) ** 2 + (y - x**2) ** 2


class Counting:
    """Rosenbrock that counts its calls (each call evaluates every row it is given; one start:
    one call per evaluation of f)."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        return rosenbrock(x, y)
