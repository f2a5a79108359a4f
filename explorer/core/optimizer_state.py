"""What an optimiser's per-coordinate state means at one step: the step its momentum carries
and the effective step per axis of the adaptive methods, read from torch's recorded state.

descend(..., state=True) keeps torch's own state tensors after every step (row k: after step k).
This module turns row k into what the window draws and the inspector lists, with the formulas
of torch's update rules (torch.optim's single-tensor implementations), never a re-run.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from explorer.core.optimizers import REGISTRY, optimizer_kwargs
from explorer.core.trajectory import RunSettings

FloatArray = NDArray[np.float64]
Pair = tuple[float, float]

MINUS = "\N{MINUS SIGN}"
MOMENTUM_ARROW = f"{MINUS}lr·buf: the step the momentum buffer made (the velocity it carries)"
# M and V: Adam's bias-corrected moments m/(1 - beta1^k) and v/(1 - beta2^k) (m-hat, v-hat).
MOMENT_ARROW = (f"{MINUS}lr·M/(√V+ε), M = m/(1{MINUS}β₁ᵏ): the step Adam's first moment "
                "made")
ADAM_SPREAD = f"lr/(√V+ε) per axis, V = v/(1{MINUS}β₂ᵏ): Adam's step for a unit gradient"


@dataclass(frozen=True)
class StateReading:
    """The state after step k: its numbers, the arrow and the per-axis step (None: not drawn)."""

    step: int
    values: tuple[tuple[str, float, float], ...] = ()
    # The step the remembered direction carries, in the coordinates' units.
    arrow: Pair | None = None
    arrow_text: str = ""
    # The effective step per unit gradient along x and along y (adaptive methods).
    spread: Pair | None = None
    spread_text: str = ""
    note: str = ""

    @property
    def drawn(self) -> bool:
        """True when there is an arrow or a per-axis step to draw."""
        return self.arrow is not None or self.spread is not None


def no_state_note(optimizer: str, params: Mapping[str, object] | None = None) -> str:
    """Why an optimiser has nothing to draw ('' when it keeps per-coordinate state)."""
    spec = REGISTRY.get(optimizer)
    if spec is None:
        return f"{optimizer} keeps no torch.optim state: nothing to draw."
    if not spec.elementwise:
        return (f"{spec.short_label} remembers past steps and gradients as a history of whole "
                "vectors, not one value per coordinate: nothing to draw.")
    momentum = dict(params or {}).get("momentum", spec.defaults().get("momentum", 0.0))
    if spec.torch_class == "SGD" and not momentum:
        return (f"Plain SGD remembers nothing between steps: each step is {MINUS}lr·∇f alone, "
                "so there is nothing to draw.")
    return ""


def read_state(settings: RunSettings, state: Mapping[str, FloatArray], k: int,
               lr: float | None = None) -> StateReading:
    """The state after step k (rows of state: (rows, 2) per name) with its arrow and spread.

    lr: the learning rate step k used (settings.lr unless given, e.g. by a schedule).
    """
    note = no_state_note(settings.optimizer, settings.param_dict)
    if note:
        return StateReading(k, note=note)
    row = {name: _row(values, k) for name, values in state.items()}
    present = {name: value for name, value in row.items() if value is not None}
    if k < 1 or not present:
        why = ("No step yet: the optimiser's memory starts with its first step."
               if k < 1 else "This path's optimiser state was not kept (a path read from a "
               "file, a minibatch fit, or a session's path that did not come out the same "
               "when run again): run it again to see it.")
        return StateReading(k, note=why)
    values = tuple((name, float(v[0]), float(v[1])) for name, v in sorted(present.items()))
    kwargs = optimizer_kwargs(settings.optimizer, settings.lr if lr is None else lr,
                              settings.param_dict)
    try:
        # Overflow and 0/0 in a hostile or diverged state: such values are simply not drawn.
        with np.errstate(all="ignore"):
            arrow, arrow_text, spread, spread_text, extra = _meaning(
                REGISTRY[settings.optimizer].torch_class, kwargs, present, state, k)
    except KeyError as missing:  # a tensor the rule needs is NaN or absent at this step
        return StateReading(k, values, note=f"{missing} is not a finite number at this step: "
                            "nothing to draw.")
    return StateReading(k, values, _finite(arrow), arrow_text, _finite(spread), spread_text,
                        extra)


def _row(values: FloatArray, k: int) -> FloatArray | None:
    array = np.asarray(values, dtype=np.float64).reshape(-1, 2)
    if not 0 <= k < len(array) or not np.isfinite(array[k]).all():
        return None
    row: FloatArray = array[k]
    return row


def _finite(pair: FloatArray | None) -> Pair | None:
    if pair is None or not np.isfinite(pair).all():
        return None
    return float(pair[0]), float(pair[1])


Meaning = tuple[FloatArray | None, str, FloatArray | None, str, str]


def _meaning(torch_class: str, kw: Mapping[str, object], row: Mapping[str, FloatArray],
             state: Mapping[str, FloatArray], k: int) -> Meaning:
    """torch's update rule for the state after step k: arrow, its text, spread, its text, note."""
    lr, eps = _number(kw, "lr"), _number(kw, "eps")
    arrow: FloatArray | None = None
    arrow_text = spread_text = note = ""
    spread: FloatArray | None = None
    if "momentum_buffer" in row:  # SGD with momentum, Nesterov, RMSprop with momentum
        arrow, arrow_text = -lr * row["momentum_buffer"], MOMENTUM_ARROW
    if torch_class in ("Adam", "AdamW", "NAdam", "RAdam", "Adamax"):
        beta1, beta2 = _betas(kw)
        m_hat = row["exp_avg"] / (1.0 - beta1**k)
        bc2 = 1.0 - beta2**k
        if torch_class == "Adamax":
            # exp_inf is the running max of |g| (eps included): the step is lr M/u.
            spread, spread_text = lr / row["exp_inf"], "lr/u per axis (u: the running max of |g|)"
        elif torch_class == "RAdam":
            spread, spread_text, note = _radam(lr, eps, beta2, row["exp_avg_sq"], k)
        else:
            v = row.get("max_exp_avg_sq", row["exp_avg_sq"])  # AMSGrad divides by the max
            spread, spread_text = lr / (np.sqrt(v / bc2) + eps), ADAM_SPREAD
        arrow, arrow_text = -m_hat * (spread if spread is not None else lr), MOMENT_ARROW
        if torch_class == "NAdam":
            arrow, note = _nadam_arrow(kw, row["exp_avg"], spread, lr, k)
        if torch_class == "AdamW":
            note = "AdamW also shrinks x by lr·weight_decay each step (not in the arrow)."
    elif torch_class == "RMSprop":
        v = row["square_avg"]
        if kw.get("centered") and "grad_avg" in row:
            v = v - row["grad_avg"] ** 2
        spread = lr / (np.sqrt(v) + eps)
        spread_text = "lr/(√v+ε) per axis, v: the running mean of g²"
    elif torch_class == "Adagrad":
        clr = lr / (1.0 + (k - 1) * _number(kw, "lr_decay"))
        spread = clr / (np.sqrt(row["sum"]) + eps)
        spread_text = "lr/(√s+ε) per axis, s: the sum of every g² so far"
    elif torch_class == "Adadelta":
        before = _row(state["acc_delta"], k - 1) if "acc_delta" in state else None
        acc = before if before is not None else np.zeros(2)  # torch starts it at zeros
        spread = lr * np.sqrt(acc + eps) / np.sqrt(row["square_avg"] + eps)
        spread_text = "lr·√(Δ²+ε)/√(g²+ε) per axis: running means of past steps and gradients"
    return arrow, arrow_text, spread, spread_text, note


def _number(kw: Mapping[str, object], key: str) -> float:
    """A numeric keyword of the optimiser (0 when it has none)."""
    value = kw.get(key, 0.0)
    return float(value) if isinstance(value, int | float) else 0.0


def _betas(kw: Mapping[str, object]) -> Pair:
    """The Adam family's (beta1, beta2)."""
    value = kw.get("betas")
    if not isinstance(value, tuple | list) or len(value) != 2:
        raise ValueError(f"betas must be two numbers, not {value!r}")
    return float(value[0]), float(value[1])


def _radam(lr: float, eps: float, beta2: float, v: FloatArray, k: int
           ) -> tuple[FloatArray | None, str, str]:
    """RAdam's rectified per-axis step, or None during its warm-up (rho_t <= 5)."""
    bc2 = 1.0 - beta2**k
    rho_inf = 2.0 / (1.0 - beta2) - 1.0
    rho_t = rho_inf - 2.0 * k * beta2**k / bc2
    if rho_t <= 5.0:
        return None, "", (f"RAdam's warm-up (rho_t = {rho_t:.3g} ≤ 5): it steps lr·M like "
                          "momentum, with no per-axis scaling yet.")
    rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf
                     / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
    spread = lr * rect * math.sqrt(bc2) / (np.sqrt(v) + eps)
    return spread, "r·lr·√(1\N{MINUS SIGN}β₂ᵏ)/(√v+ε) per axis (r: RAdam's rectification)", ""


def _nadam_arrow(kw: Mapping[str, object], m: FloatArray, spread: FloatArray | None, lr: float,
                 k: int) -> tuple[FloatArray | None, str]:
    """NAdam's first-moment part of step k: -lr mu_(k+1) / (1 - prod mu) m / (sqrt(v_hat) + eps)."""
    if spread is None:
        return None, ""
    beta1 = _betas(kw)[0]
    decay = _number(kw, "momentum_decay")
    mus = [beta1 * (1.0 - 0.5 * 0.96 ** (i * decay)) for i in range(1, k + 2)]
    product_next = math.prod(mus)
    # spread is lr/(sqrt(v_hat)+eps): the moment's coefficient replaces lr.
    arrow = -(mus[-1] / (1.0 - product_next)) * m * spread
    return arrow, (f"NAdam adds the gradient's own part "
                   f"{MINUS}lr(1{MINUS}μ)/(1{MINUS}Πμ)·g/(√V+ε) (not drawn).")
