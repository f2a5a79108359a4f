"""Hessian-vector products of a network's full-batch loss in closed form (issue 17).

Pearlmutter's R-operator written out for core.network's nets: Linear layers with one activation
between them, one output, the mean mse or bce loss. One forward and backward pass keeps, per
layer, its input, the activation's first and second derivatives and the loss's derivative with
respect to its output; each product H v is then the direction's own forward pass (Rz, the
change of every layer's pre-activation) and backward pass (R delta), a few matrix products a
layer and no autograd graph. The numbers are autograd's double backward's to round-off (tested
against it and against the full Hessian); the work is about half, which is most of what the
sharpness costs a training (tests/bench/bench_sharpness.py).

With z_l = a_{l-1} W_l^T + b_l, a_l = act(z_l), the output f = z_L and delta_l = dL/dz_l:
    Rz_l = Ra_{l-1} W_l^T + a_{l-1} V_l^T + c_l,          Ra_l = act'(z_l) Rz_l
    R delta_L = L''(f) Rz_L
    R delta_l = (R delta_{l+1} W_{l+1} + delta_{l+1} V_{l+1}) act'(z_l)
                + (delta_{l+1} W_{l+1}) act''(z_l) Rz_l
    (H v)_{W_l} = R delta_l^T a_{l-1} + delta_l^T Ra_{l-1},   (H v)_{b_l} = sum of R delta_l
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import torch


class _Spec(Protocol):
    """What is read of core.network.NetSpec (not imported: network imports this module)."""

    @property
    def activation(self) -> str: ...

    @property
    def loss(self) -> str: ...


class NetProblem(Protocol):
    """What is read of core.network.NetProblem: the network, its data and its spec."""

    net: torch.nn.Sequential
    x: torch.Tensor
    y: torch.Tensor

    @property
    def spec(self) -> _Spec: ...


class NetHessian:
    """H v for a network's full-batch loss at its parameters now; also that loss and its
    gradient (the backward pass the products build on, checked against autograd's; a training
    step takes autograd's own, whose last bits L-BFGS would magnify)."""

    def __init__(self, problem: NetProblem) -> None:
        import torch

        modules = list(problem.net)
        layers = [m for m in modules[0::2] if isinstance(m, torch.nn.Linear)]
        # Linear, activation, Linear, ..., Linear: core.network.build_net's shape.
        if not len(modules) % 2 or len(layers) != len(modules[0::2]) or any(
                isinstance(m, torch.nn.Linear) for m in modules[1::2]):
            raise ValueError("the network is not core.network's: Linear layers and activations")
        with torch.no_grad():
            self.weights = [layer.weight.detach() for layer in layers]
            biases = [layer.bias.detach() for layer in layers]
            self.sizes = [n for w, b in zip(self.weights, biases, strict=True)
                          for n in (w.numel(), b.numel())]
            self._forward_and_back(problem, biases)

    def _forward_and_back(self, problem: NetProblem, biases: list[torch.Tensor]) -> None:
        import torch

        last = len(self.weights) - 1
        a = problem.x
        self.inputs: list[torch.Tensor] = []  # a_{l-1}: each layer's input
        self.slopes: list[torch.Tensor] = []  # act'(z_l) of the hidden layers
        self.bends: list[torch.Tensor | None] = []  # act''(z_l) (None: zero, as for relu)
        for i, (w, b) in enumerate(zip(self.weights, biases, strict=True)):
            self.inputs.append(a)
            z = torch.addmm(b, a, w.T)
            if i == last:
                break
            a, slope, bend = _activation(problem.spec.activation, z)
            self.slopes.append(slope)
            self.bends.append(bend)
        f, y, n = z.squeeze(-1), problem.y, len(problem.y)
        if problem.spec.loss == "mse":
            r = f - y
            self.value = float((r * r).mean())
            delta = (2.0 / n) * r
            self.curvature: torch.Tensor | float = 2.0 / n  # d2 L / df2, per row
        else:
            m = -y * f
            self.value = float(torch.nn.functional.softplus(m).mean())
            delta = -y * torch.sigmoid(m) / n
            self.curvature = (y * y * torch.sigmoid(m) * torch.sigmoid(-m) / n).unsqueeze(-1)
        # delta_l = dL/dz_l and the backward signal dL/da_l = delta_{l+1} W_{l+1} before it.
        self.deltas: list[torch.Tensor] = [delta.unsqueeze(-1)]
        signals: list[torch.Tensor] = []
        for i in range(last, 0, -1):
            signal = self.deltas[0] @ self.weights[i]
            signals.insert(0, signal)
            self.deltas.insert(0, signal * self.slopes[i - 1])
        # (dL/da_l) act''(z_l): what R delta_l gains per unit of Rz_l besides the slope's term.
        self.curls: list[torch.Tensor | None] = [
            None if bend is None else signal * bend
            for signal, bend in zip(signals, self.bends, strict=True)]

    def gradient(self) -> list[torch.Tensor]:
        """The loss's gradient, one tensor per parameter in parameters() order."""
        grads: list[torch.Tensor] = []
        for delta, a in zip(self.deltas, self.inputs, strict=True):
            grads += [delta.T @ a, delta.sum(0)]
        return grads

    def __call__(self, v: torch.Tensor) -> torch.Tensor:
        """H v, flat, in parameters() order."""
        import torch

        weights, last = self.weights, len(self.weights) - 1
        pieces = torch.split(v, self.sizes)
        dw = [pieces[2 * i].view(w.shape) for i, w in enumerate(weights)]
        db = pieces[1::2]
        # The direction's forward pass: Rz per layer, Ra per hidden layer (Ra_0 = 0).
        rz: list[torch.Tensor] = []
        ra: list[torch.Tensor | None] = [None]
        for i in range(last + 1):
            z = torch.addmm(db[i], self.inputs[i], dw[i].T)
            above = ra[i]
            if above is not None:
                z = z.addmm_(above, weights[i].T)
            rz.append(z)
            if i < last:
                ra.append(self.slopes[i] * z)
        # Its backward pass, from the output's R delta down.
        rdelta = self.curvature * rz[last]
        backwards: list[torch.Tensor] = []  # the last layer's bias first
        for i in range(last, -1, -1):
            gw = rdelta.T @ self.inputs[i]
            below = ra[i]
            if below is not None:
                gw = gw.addmm_(self.deltas[i].T, below)
            backwards += [rdelta.sum(0), gw.reshape(-1)]
            if i:
                back = torch.addmm(self.deltas[i] @ dw[i], rdelta, weights[i])
                rdelta = back.mul_(self.slopes[i - 1])
                curl = self.curls[i - 1]
                if curl is not None:
                    rdelta = rdelta.addcmul_(curl, rz[i - 1])
        return torch.cat(backwards[::-1])


def _activation(name: str, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor,
                                                       torch.Tensor | None]:
    """act(z), act'(z) and act''(z) (None where it is zero) for core.network's activations, as
    torch's modules define them (relu's slope 0 at 0; elu with alpha 1; gelu exact, by erf)."""
    import torch

    if name == "tanh":
        t = torch.tanh(z)
        slope = 1.0 - t * t
        return t, slope, -2.0 * t * slope
    if name == "relu":
        positive = z > 0
        return torch.relu(z), positive.to(z.dtype), None
    if name == "elu":
        positive = z > 0
        e = torch.exp(torch.clamp(z, max=0.0))
        return (torch.nn.functional.elu(z), torch.where(positive, 1.0, e),
                torch.where(positive, 0.0, e))
    if name == "gelu":
        cdf = 0.5 * (1.0 + torch.erf(z * (1.0 / math.sqrt(2.0))))
        pdf = torch.exp(-0.5 * z * z) * (1.0 / math.sqrt(2.0 * math.pi))
        return torch.nn.functional.gelu(z), cdf + z * pdf, pdf * (2.0 - z * z)
    raise ValueError(f"no closed-form Hessian for the activation {name!r}")
