"""SGDR's learning rate (Loshchilov and Hutter, 'SGDR: Stochastic Gradient Descent with Warm
Restarts'), written from the paper's formula for the schedule tests: not the code under test."""

from __future__ import annotations

import math


def sgdr_rates(base: float, t0: int, t_mult: int, steps: int, eta_min: float = 0.0) -> list[float]:
    """Rows 0..steps: row k the rate step k uses (row 0 and row 1: the first cycle's start).

    T_cur counts the steps within a cycle of T_i steps; each restart multiplies T_i by t_mult.
    """
    rates, t_cur, t_i = [base], 0, t0
    for _ in range(steps):
        rates.append(eta_min + 0.5 * (base - eta_min) * (1 + math.cos(math.pi * t_cur / t_i)))
        t_cur += 1
        if t_cur >= t_i:
            t_cur, t_i = 0, t_i * t_mult
    return rates
