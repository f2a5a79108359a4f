"""Benchmark: a basin map against a bare batched torch.optim loop over the same starts.

Run: python tests/bench/bench_basin.py [--quick] [--device cpu|cuda] [--repeats R]
Prints one table. Both sides descend the same n x n grid of starts (meshgrid, indexing "ij") on
Himmelblau with Adam, lr 0.1, for the same number of steps (tol 0, so the map cannot stop early),
on CPU. The bare loop runs on one torch thread; the map on the thread count the `basin` command
picks by default (explorer.cli.common.set_threads: one thread, or the cores the machine's load
leaves free). Both are timed twice: on a quiet machine, and loaded, while another process keeps
one core busy (issue 14, item 19: the map took 2 threads and was 3x slower than one thread under
load). From 2^17 parameters on, the map's optimiser uses torch's fused kernel where its class
has one (Adam does; core.optimizers.FUSED_FROM); the bare loop is torch.optim.Adam as anyone
writes it. The map also checks statuses every 10 steps, groups the end points,
refines the minima (Newton) and labels every start. The map splits the points with p.unbind(1),
the bare loop with column selects (see bench_engine). Runs alternate map and bare loop (each
going first in turn) and keep the best of a few repeats. Goal: map time <= bare loop
time (512 x 512, 200 steps), both quiet and loaded. --quick is a smoke test: its runs are so
short that the fixed cost of grouping and refining (tens of milliseconds) shows in its ratio.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch

from explorer.cli.common import set_threads
from explorer.core.basin import BasinMap, basin_map
from explorer.core.expression import parse
from explorer.core.presets import get_preset
from explorer.core.trajectory import RunSettings

GOAL = 1.0


def grid_starts(domain: tuple[float, float, float, float], n: int, device: str) -> torch.Tensor:
    """The map's starts: row ix * n + iy is (xs[ix], ys[iy])."""
    xmin, xmax, ymin, ymax = domain
    xs = torch.linspace(xmin, xmax, n, dtype=torch.float64, device=device)
    ys = torch.linspace(ymin, ymax, n, dtype=torch.float64, device=device)
    gx, gy = torch.meshgrid(xs, ys, indexing="ij")
    return torch.stack((gx.reshape(-1), gy.reshape(-1)), dim=1)


def bare_loop(
    objective: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    starts: torch.Tensor,
    steps: int,
) -> torch.Tensor:
    """The same descent with nothing else: no checks, no grouping."""
    p = starts.clone().requires_grad_(True)
    optimizer = torch.optim.Adam([p], lr=0.1)
    for _ in range(steps):
        optimizer.zero_grad()
        objective(p[:, 0], p[:, 1]).sum().backward()
        optimizer.step()
    if p.is_cuda:
        torch.cuda.synchronize()
    return p.detach()


class Busy:
    """Another process keeping one core busy while the block runs (a loaded machine)."""

    def __enter__(self) -> Busy:
        self.process = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        time.sleep(1.0)  # let it reach the scheduler's run queue
        return self

    def __exit__(self, *exc: object) -> None:
        self.process.kill()
        self.process.wait()


def time_pair(
    run_map: Callable[[], BasinMap], run_bare: Callable[[], object], repeats: int, points: int
) -> tuple[float, float, float, float, int, BasinMap]:
    """Best wall and CPU times of the map and the bare loop, alternating which goes first."""
    map_best = bare_best = map_cpu = bare_cpu = float("inf")
    result = None
    threads = 1
    for repeat in range(repeats):
        for side in ("map", "bare") if repeat % 2 == 0 else ("bare", "map"):
            if side == "map":
                threads = set_threads(None, points)  # what `basin` picks, asked now
            else:
                torch.set_num_threads(1)
            t0, c0 = time.perf_counter(), time.process_time()
            if side == "map":
                result = run_map()
            else:
                run_bare()
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            if side == "map":
                map_best, map_cpu = min(map_best, wall), min(map_cpu, cpu)
            else:
                bare_best, bare_cpu = min(bare_best, wall), min(bare_cpu, cpu)
    assert result is not None
    return map_best, map_cpu, bare_best, bare_cpu, threads, result


def main() -> None:
    """Time both sides, quiet and loaded, and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="128 x 128, 50 steps: a smoke test")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--repeats", type=int, default=None, help="repeats (best is kept)")
    parser.add_argument("--quiet-only", action="store_true", help="skip the loaded case")
    parser.add_argument("--summary", metavar="FILE", help="also write the ratios as JSON here")
    args = parser.parse_args()
    torch.set_num_threads(1)
    preset = get_preset("himmelblau")
    objective = parse(preset.formula).evaluate
    n, steps, repeats = (128, 50, 2) if args.quick else (512, 200, 5)
    repeats = args.repeats or repeats
    settings = RunSettings(optimizer="adam", lr=0.1, steps=steps, tol=0.0)
    starts = grid_starts(preset.domain, n, args.device)

    def run_map() -> BasinMap:
        return basin_map(
            objective,
            preset.domain,
            settings,
            n=n,
            device=args.device,
            known_minima=preset.minima,
        )

    # Warm up kernels and the allocator outside the timings.
    basin_map(
        objective,
        preset.domain,
        RunSettings(optimizer="adam", lr=0.1, steps=20),
        n=16,
        device=args.device,
    )
    bare_loop(objective, grid_starts(preset.domain, 16, args.device), 20)

    points = n * n * steps
    print(
        f"basin map vs bare torch.optim loop (Adam lr 0.1 on Himmelblau, {n} x {n} starts, "
        f"{steps} steps = {points:.3g} point-steps, float64, device {args.device}, "
        f"torch {torch.__version__}, best of {repeats}; bare loop on 1 thread, the map on "
        "the threads `basin` picks)"
    )
    # Wall time is the goal's measure; CPU time (process_time) is printed beside it.
    header = f"{'machine':<8} {'case':<10} {'threads':>7} {'wall s':>8} {'cpu s':>8} {'ratio':>7}"
    print(header)
    print("-" * len(header))
    rows = []
    result = None
    for machine in ("quiet",) if args.quiet_only else ("quiet", "loaded"):
        busy = Busy() if machine == "loaded" else None
        if busy is not None:
            busy.__enter__()
        try:
            map_wall, map_cpu, bare_wall, bare_cpu, threads, result = time_pair(
                run_map, lambda: bare_loop(objective, starts, steps), repeats, n * n
            )
        finally:
            if busy is not None:
                busy.__exit__()
        ratio = map_wall / bare_wall
        print(f"{machine:<8} {'basin map':<10} {threads:>7} {map_wall:>8.3f} {map_cpu:>8.3f} "
              f"{ratio:>7.3f}")
        print(f"{machine:<8} {'bare loop':<10} {1:>7} {bare_wall:>8.3f} {bare_cpu:>8.3f}")
        rows.append({
            "measure": f"basin map {n}x{n} / bare 1-thread loop, {machine} (wall)",
            "value": ratio,
            "goal": f"<= {GOAL}",
            "ok": ratio <= GOAL,
        })
    assert result is not None
    for row in rows:
        mark = "ok" if row["ok"] else "ABOVE GOAL"
        print(f"{row['measure']}: {row['value']:.3f} (goal {row['goal']}) {mark}")
    shares = ", ".join(f"({m.x:.6f}, {m.y:.6f}) {m.share:.1%}" for m in result.minima)
    print(
        f"minima: {shares}; diverged {result.diverged_share:.1%}, "
        f"unfinished {result.unfinished_share:.1%}, matches known: {result.matches_known}"
    )
    if args.summary:
        Path(args.summary).write_text(json.dumps(rows))


if __name__ == "__main__":
    main()
