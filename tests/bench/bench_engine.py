"""Benchmark: the descent engine against a bare torch.optim loop on the same function.

Run: python tests/bench/bench_engine.py [--quick]
Prints one table. Both sides use one torch thread, the same parsed function (Himmelblau),
the same optimiser and the same number of objective evaluations and steps; the engine also
records x, y, f and the gradient of every step and checks every trajectory's status.
Each case alternates engine and bare runs and keeps the best of several repeats. The 10^6
case runs the engine without full history (a ring of recent rows plus each trajectory's
outcome, as `run` without --csv does); the line below it keeps every row, for information.
The bare loop splits the points with column selects, p[:, 0] and p[:, 1], as one would write it;
the engine splits them with p.unbind(1), whose backward makes one copy instead of two (about 2%
of a step at 10^6 points).
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from explorer.core.descent import run_descent
from explorer.core.expression import parse
from explorer.core.trajectory import RunSettings

HIMMELBLAU = "(x**2 + y - 11)**2 + (x + y**2 - 7)**2"


def bare_loop(objective: Callable[..., torch.Tensor], starts: np.ndarray, steps: int) -> None:
    """What the engine does, minus recording and status checks."""
    p = torch.tensor(starts, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.SGD([p], lr=1e-4)
    for k in range(steps + 1):
        optimizer.zero_grad()
        objective(p[:, 0], p[:, 1]).sum().backward()
        if k < steps:
            optimizer.step()


def engine(
    objective: Callable[..., torch.Tensor], starts: np.ndarray, steps: int, history: bool = True
) -> None:
    """The engine, recording every step; tol 0 so every trajectory runs all its steps.

    history=False keeps a ring of recent rows and each trajectory's outcome (the mode for many
    starts); history=True keeps every row of every trajectory.
    """
    settings = RunSettings(optimizer="sgd", lr=1e-4, steps=steps, tol=0)
    run = run_descent(objective, starts, settings, history=history)
    assert run.rows == steps + 1


def best_times(
    objective: Callable[..., torch.Tensor],
    starts: np.ndarray,
    steps: int,
    repeats: int,
    history: bool = True,
) -> tuple[float, float]:
    """Best wall time of engine and bare loop, alternating so both see the same machine load."""
    engine_best = bare_best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        engine(objective, starts, steps, history)
        t1 = time.perf_counter()
        bare_loop(objective, starts, steps)
        t2 = time.perf_counter()
        engine_best = min(engine_best, t1 - t0)
        bare_best = min(bare_best, t2 - t1)
    return engine_best, bare_best


def main() -> None:
    """Run both cases and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke test")
    parser.add_argument("--summary", metavar="FILE", help="also write the ratios as JSON here")
    args = parser.parse_args()
    torch.set_num_threads(1)
    objective = parse(HIMMELBLAU).evaluate
    one_steps, big_n, big_steps, repeats = (500, 10**5, 5, 2) if args.quick else (
        3000, 10**6, 10, 5
    )
    rng = np.random.default_rng(0)
    # Warm up torch's kernels and allocator outside the timings.
    best_times(objective, rng.uniform(-5, 5, (4, 2)), 50, 1)

    rows: list[tuple[str, str, float, float, float | None]] = []
    e, b = best_times(objective, np.array([[0.1, 0.1]]), one_steps, repeats)
    rows.append(("1 start", "steps/s", one_steps / e, one_steps / b, 0.8))
    starts = rng.uniform(-5, 5, (big_n, 2))
    points = big_n * big_steps
    e, b = best_times(objective, starts, big_steps, repeats, history=False)
    rows.append((f"{big_n:.0e} starts", "point-steps/s", points / e, points / b, 0.9))
    # Keeping every row of 10^6 paths writes 40 MB of fresh memory per step; page faults
    # dominate on machines without transparent huge pages. Shown for information.
    e, b = best_times(objective, starts, big_steps, max(2, repeats - 2), history=True)
    rows.append(("  all rows", "point-steps/s", points / e, points / b, None))

    print(f"engine vs bare torch.optim loop (SGD on Himmelblau, float64, 1 thread, "
          f"torch {torch.__version__})")
    header = f"{'case':<12} {'unit':<14} {'engine':>12} {'bare loop':>12} {'ratio':>7} {'goal':>6}"
    print(header)
    print("-" * len(header))
    for case, unit, eng, bare, goal in rows:
        ratio = eng / bare
        if goal is None:
            print(f"{case:<12} {unit:<14} {eng:>12.4g} {bare:>12.4g} {ratio:>7.2f} {'-':>6}")
            continue
        mark = "ok" if ratio >= goal else "BELOW"
        print(f"{case:<12} {unit:<14} {eng:>12.4g} {bare:>12.4g} {ratio:>7.2f} {goal:>6} {mark}")
    if args.summary:
        summary = [
            {
                "measure": f"engine / bare loop, {case.strip()} ({unit})",
                "value": eng / bare,
                "goal": f">= {goal}" if goal is not None else "",
                "ok": None if goal is None else eng / bare >= goal,
            }
            for case, unit, eng, bare, goal in rows
        ]
        Path(args.summary).write_text(json.dumps(summary))


if __name__ == "__main__":
    main()
