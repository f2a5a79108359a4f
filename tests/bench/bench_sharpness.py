"""Benchmark: what measuring the sharpness costs a network's training, and a slice's time.

Run: python tests/bench/bench_sharpness.py [--repeats R]
Prints one table. A 2-32-32-1 tanh network with MSE on the bundled spirals (300 points) trains
4000 full-batch SGD steps at lr 0.1 twice, alternating which goes first: alone, and with the
sharpness (core.sharpness: Rayleigh-Ritz on Hessian-vector products by double backward,
warm-started from the last top Ritz vectors; the measured step reuses the graph's gradient)
measured at step 0 and every 25 steps. Both on one torch thread, best of a few repeats (wall
and CPU time: on a shared machine the CPU time's ratio is the steadier). Goal (issue 17): the
ratio with / alone at most 1.30. Then the 41 x 41 filter-normalised slice around the final
parameters (core.loss_slice, vmap over functional_call), best of the repeats. Goal: under 2 s.
"""

from __future__ import annotations

import argparse
import time

import torch

from explorer.core.loss_slice import loss_slice
from explorer.core.network import NetProblem, NetRun, NetSpec, TrainSettings, train
from explorer.io.dataset_csv import load_features, network_data_path

RATIO_GOAL = 1.30
SLICE_GOAL = 2.0


def main() -> None:
    """Time training alone, with the sharpness, and the slice; print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3, help="repeats (best is kept)")
    parser.add_argument("--steps", type=int, default=4000)
    args = parser.parse_args()
    torch.set_num_threads(1)
    data = load_features(network_data_path("spirals"))
    spec = NetSpec(2, (32, 32), "tanh", "mse")

    def run(every: int) -> tuple[float, float, NetProblem, NetRun]:
        problem = NetProblem(spec, data.features, data.labels, 0)
        start, cpu = time.perf_counter(), time.process_time()
        result = train(problem, TrainSettings("sgd", 0.1, steps=args.steps,
                                              sharpness_every=every))
        return time.perf_counter() - start, time.process_time() - cpu, problem, result

    alone = with_sharpness = slice_time = alone_cpu = with_cpu = float("inf")
    problem, result = None, None
    for repeat in range(args.repeats):
        for every in (0, 25) if repeat % 2 == 0 else (25, 0):
            seconds, cpu, problem, result = run(every)
            if every:
                with_sharpness, with_cpu = min(with_sharpness, seconds), min(with_cpu, cpu)
            else:
                alone, alone_cpu = min(alone, seconds), min(alone_cpu, cpu)
        assert problem is not None and result is not None
        start = time.perf_counter()
        loss_slice(problem, result.path, result.loss, directions="filter", grid=41)
        slice_time = min(slice_time, time.perf_counter() - start)
    ratio = with_sharpness / alone
    met = "met" if ratio <= RATIO_GOAL else "MISSED"
    rows = [
        ("training alone", f"{alone:.3f} s", f"CPU {alone_cpu:.3f} s"),
        ("with sharpness every 25", f"{with_sharpness:.3f} s",
         f"CPU {with_cpu:.3f} s; ratio {ratio:.3f} (CPU {with_cpu / alone_cpu:.3f}; goal <= "
         f"{RATIO_GOAL:.2f}): {met}"),
        ("41 x 41 slice", f"{slice_time:.3f} s",
         f"goal < {SLICE_GOAL:g} s: {'met' if slice_time < SLICE_GOAL else 'MISSED'}"),
    ]
    width = max(len(r[0]) for r in rows)
    for name, seconds, note in rows:
        print(f"{name.ljust(width)}  {seconds:>9}  {note}".rstrip())


if __name__ == "__main__":
    main()
