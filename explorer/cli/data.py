"""`data`: write one of the toy classification sets for networks as a CSV (issue 17)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, TextIO

from explorer.cli import common
from explorer.core.toy_data import GENERATORS, MAX_NOISE, MAX_POINTS, MAX_SEED

NAME = "data"


def noise(text: str) -> float:
    """The noise's standard deviation: 0 to MAX_NOISE."""
    value = common.non_negative_float(text)
    if not value <= MAX_NOISE:
        raise argparse.ArgumentTypeError(
            f"expected a noise from 0 to {MAX_NOISE:g}, got {common.shown(text)}")
    return value


points = common.whole_from(1, MAX_POINTS)
seed = common.whole_from(0, MAX_SEED)


def add_parser(sub: Any) -> None:
    """Register the `data` subcommand."""
    data = sub.add_parser(NAME, help="write a toy classification set (spirals, moons, circles, "
                          "xor) for a network as a CSV")
    data.add_argument("name", choices=list(GENERATORS), metavar="NAME",
                      help="one of: " + ", ".join(GENERATORS))
    data.add_argument("--n", type=points, default=300, help=f"points, 1 to {MAX_POINTS}")
    data.add_argument("--noise", type=noise, default=0.1,
                      help="standard deviation of the Gaussian noise added to each coordinate")
    data.add_argument("--seed", type=seed, default=0, help="seeds numpy.random.default_rng")
    data.add_argument("--out", required=True, metavar="FILE", help="the CSV to write: x1,x2,label")


def command(args: argparse.Namespace, out: TextIO) -> int:
    """`data`: draw the set and write it atomically."""
    from explorer.core.toy_data import toy_data

    path = Path(args.out)
    common.check_writable(path)
    features, labels = toy_data(args.name, args.n, args.noise, args.seed)
    write_features_csv(path, features, labels)
    out.write(f"wrote {args.n} {args.name} points to {path}\n")
    return 0


def write_features_csv(path: Path, features: Any, labels: Any) -> None:
    """x1,...,xd,label with every number written exactly (repr), labels as whole numbers."""
    from explorer.io.atomic import atomic_text_writer

    width = features.shape[1]
    with atomic_text_writer(path) as stream:
        stream.write(",".join(f"x{i + 1}" for i in range(width)) + ",label\n")
        for row, label in zip(features.tolist(), labels.tolist(), strict=True):
            stream.write(",".join(repr(v) for v in row) + f",{label:.0f}\n")
