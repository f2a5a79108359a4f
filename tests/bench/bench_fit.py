"""Benchmark: core.fitting.fit against a bare torch loop, and the model landscapes' grids.

Run: python tests/bench/bench_fit.py [--quick] [--repeats R] [--summary FILE]
Prints one table (issue 15):
- fit: 100k rows of the linear model, batch 32, 1 epoch (3125 Adam steps), against a bare torch
  loop that draws the same permutation and takes the same steps (gather the batch, mean loss,
  backward, step) and records nothing. fit also records every step's parameters and batch
  loss, looks for divergence every 64 steps, computes the full-data loss at every row (for the
  linear model from a few sums) and checks convergence at the epoch's ends. One torch thread
  each; runs alternate and the best of a few repeats is kept. Goal: ratio <= 1.2.
- the linear landscape of 1M rows on a 128 x 128 grid, building it included (the sums, the
  least-squares fit and the domain). Goal: < 1 s.
- the other models' grids at 10k and 1M rows (no goal: printed; the window draws a coarse grid
  first): deeplinear's, like linear's, from a few sums; logistic's and neuron's a pass over the
  rows per point, timed at 1M rows on a 32 x 32 grid with the 128 x 128 time projected.
  --quick: 20k rows for the fit, 100k instead of 1M, 32 x 32 grids (8 x 8 for the projection).
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from explorer.core.fitting import FitSettings, fit
from explorer.core.model_landscape import ModelLandscape
from explorer.core.models import get_model
from explorer.core.precision import float64_defaults
from explorer.io.dataset_csv import Dataset

FIT_GOAL = 1.2
GRID_GOAL_S = 1.0


def data(n: int, seed: int = 0) -> Dataset:
    """n rows of a noisy line (y) with labels 0/1 where y is above it."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0.0, 1.0, n)
    y = 1.5 * x - 0.5 + rng.normal(0.0, 0.5, n)
    return Dataset(x, y, f"{n} rows", None, "")


def bare_loop(x: np.ndarray, y: np.ndarray, batch: int, seed: int, lr: float) -> np.ndarray:
    """The same steps as fit, with nothing recorded: the cost of the maths alone."""
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    p = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    with float64_defaults():
        optimizer = torch.optim.Adam([p], lr=lr)
        perm = np.random.default_rng(seed).permutation(len(x))
        for i in range(0, len(x), batch):
            rows = torch.from_numpy(perm[i : i + batch])
            optimizer.zero_grad()
            loss = ((p[0] * xt[rows] + p[1] - yt[rows]) ** 2).mean()
            loss.backward()
            optimizer.step()
    return p.detach().numpy()


def best_of(repeats: int, runs: list[Callable[[], object]]) -> list[float]:
    """The best wall time of each run over repeats, the runs alternating."""
    best = [float("inf")] * len(runs)
    for _ in range(repeats):
        for i, run in enumerate(runs):
            began = time.perf_counter()
            run()
            best[i] = min(best[i], time.perf_counter() - began)
    return best


def main() -> None:
    """Run the measures and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes: a smoke test")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--summary", metavar="FILE", help="also write the ratios as JSON here")
    args = parser.parse_args()
    torch.set_num_threads(1)
    fit_rows, big, size = (20_000, 100_000, 32) if args.quick else (100_000, 1_000_000, 128)
    rows: list[dict[str, object]] = []

    dataset = data(fit_rows)
    landscape = ModelLandscape(get_model("linear"), dataset)
    settings = FitSettings("adam", 0.01, batch_size=32, epochs=1, seed=5, tol=0.0)
    result = fit(landscape, (0.0, 0.0), settings)  # warm up, and the end point to compare
    bare_end = bare_loop(dataset.x, dataset.y, 32, 5, 0.01)
    assert np.allclose(result.params[-1], bare_end, rtol=0, atol=1e-12), "not the same steps"
    fit_s, bare_s = best_of(args.repeats, [
        lambda: fit(landscape, (0.0, 0.0), settings),
        lambda: bare_loop(dataset.x, dataset.y, 32, 5, 0.01),
    ])
    ratio = fit_s / bare_s
    print(f"fit {fit_rows} rows, batch 32, 1 epoch ({result.steps} Adam steps): "
          f"fit {fit_s:.3f} s, bare loop {bare_s:.3f} s, ratio {ratio:.3f} (goal <= {FIT_GOAL})")
    rows.append({"measure": f"fit / bare loop, {fit_rows} rows, batch 32", "value": ratio,
                 "goal": f"<= {FIT_GOAL}", "ok": ratio <= FIT_GOAL})

    print(f"\n{'model':<11} {'rows':>9} {'grid':>9} {'build s':>8} {'grid s':>8} "
          f"{'128x128 s':>10}")
    for name in ("linear", "logistic", "neuron", "deeplinear"):
        for n in (10_000, big):
            # A pass over the rows per point: 1M rows on 128 x 128 takes minutes, so the big
            # set is timed on a coarser grid and the 128 x 128 time projected (linear in points).
            grid = size if name in ("linear", "deeplinear") or n < big else size // 4
            sample = data(n)
            if name == "logistic":
                sample = Dataset(sample.x, (sample.y > 1.5 * sample.x - 0.5).astype(float),
                                 sample.name, None, "")
            began = time.perf_counter()
            model_landscape = ModelLandscape(get_model(name), sample)
            built = time.perf_counter()
            model_landscape.grid(grid)
            done = time.perf_counter()
            projected = (done - built) * (128 / grid) ** 2
            print(f"{name:<11} {n:>9} {grid:>4}x{grid:<4} {built - began:>8.3f} "
                  f"{done - built:>8.3f} {projected:>10.3f}")
            if name == "linear" and n == big:
                total = done - began
                rows.append({"measure": f"linear landscape {n} rows, {size}x{size} (s)",
                             "value": total, "goal": f"< {GRID_GOAL_S}",
                             "ok": total < GRID_GOAL_S})
    for row in rows:
        mark = "ok" if row["ok"] else "ABOVE GOAL"
        print(f"{row['measure']}: {row['value']:.3f} (goal {row['goal']}) {mark}")
    if args.summary:
        Path(args.summary).write_text(json.dumps(rows))


if __name__ == "__main__":
    main()
