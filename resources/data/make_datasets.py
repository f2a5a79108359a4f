"""Write the bundled data sets (regression, classification, plateau) with a fixed seed.

Run: python resources/data/make_datasets.py   (rewrites the three CSV files beside it)
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SEED = 15
ROWS = 300


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def datasets(seed: int = SEED, rows: int = ROWS) -> dict[str, tuple[list[str], np.ndarray]]:
    """name -> (header, columns as an (n, 2) array)."""
    rng = np.random.default_rng(seed)
    # A noisy line: y = 1.5 x - 0.7 + noise.
    x = rng.uniform(-3.0, 3.0, rows)
    regression = np.column_stack((x, 1.5 * x - 0.7 + rng.normal(0.0, 0.6, rows)))
    # Two overlapping classes: label 0 around x = -1, label 1 around x = +1 (sd 1 each).
    label = rng.permutation(np.arange(rows) % 2).astype(float)
    classification = np.column_stack((rng.normal(2.0 * label - 1.0, 1.0), label))
    # A step at x = 11 seen through inputs far from 0 (10 to 12): for one sigmoid neuron, w and
    # b then move w*x + b almost alike, and from (0, 0) plain SGD at a stable lr (0.05) creeps
    # along a long flat valley (loss 0.132 to 0.122 in 2000 full-batch steps) where Adam
    # (lr 0.1), scaling each coordinate, walks out of it (0.001 by then).
    x = rng.uniform(10.0, 12.0, rows)
    y = np.clip(_sigmoid(4.0 * (x - 11.0)) + rng.normal(0.0, 0.02, rows), 0.0, 1.0)
    plateau = np.column_stack((x, y))
    return {
        "regression": (["x", "y"], regression),
        "classification": (["x", "label"], classification),
        "plateau": (["x", "y"], plateau),
    }


def main() -> None:
    """Write every data set as resources/data/<name>.csv."""
    for name, (header, values) in datasets().items():
        with open(HERE / f"{name}.csv", "w", newline="", encoding="utf-8") as file:
            writer = csv.writer(file)
            writer.writerow(header)
            for a, b in values:
                writer.writerow([f"{a:.6f}", f"{b:.0f}" if header[1] == "label" else f"{b:.6f}"])


if __name__ == "__main__":
    main()
