"""Seeded Gaussian gradient noise: a stand-in for minibatch gradients in every descent path."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

    from explorer.core.trajectory import RunSettings


class GradientNoise:
    """Seeded Gaussian gradient noise (settings.noise, settings.seed); a no-op at scale 0.

    The draws depend only on the seed, the step, the number of starts and the device, so the
    same seed gives the same run.
    """

    def __init__(self, settings: RunSettings, device: torch.device | None = None) -> None:
        self.scale = settings.noise
        self.generator: torch.Generator | None = None
        if self.scale > 0:
            import torch

            self.generator = torch.Generator(device=device or "cpu").manual_seed(settings.seed)

    def add(self, p: torch.Tensor) -> None:
        """Add noise to p.grad in place."""
        if self.generator is not None and p.grad is not None:
            self.add_to(p.grad)

    def add_to(self, grad: torch.Tensor) -> None:
        """Add noise to a (N, 2) gradient tensor in place."""
        if self.generator is None:
            return
        import torch

        draw = torch.randn(
            grad.shape, generator=self.generator, dtype=grad.dtype, device=grad.device
        )
        grad.add_(draw, alpha=self.scale)
