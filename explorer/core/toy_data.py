"""The classic toy classification sets for small networks (issue 17): spirals, moons, circles, xor.

Each generator draws n points in the plane from numpy.random.default_rng(seed), adds Gaussian
noise of standard deviation `noise` to both coordinates, and standardises each feature (mean 0,
standard deviation 1). Labels are +1 and -1, alternating by row so that both classes have n / 2
points (the first class one more when n is odd).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

# The most points one call draws (the data reader's row limit, io.dataset_csv.MAX_ROWS).
MAX_POINTS = 1_000_000
# The most noise: beyond this every set is a Gaussian blob whatever its shape.
MAX_NOISE = 100.0
# Seeds numpy.random.default_rng accepts and torch.manual_seed too: 0 to 2**63 - 1.
MAX_SEED = 2**63 - 1


class ToyDataError(ValueError):
    """A toy set request that cannot be drawn (an unknown name, a bad n, noise or seed)."""


def _spirals(rng: np.random.Generator, sign: FloatArray) -> FloatArray:
    """Two interleaved spirals of 1.75 turns, the -1 class turned half a turn."""
    t = np.sqrt(rng.uniform(0.0, 1.0, len(sign)))  # even density along the arm's length
    angle = 3.5 * math.pi * t + np.where(sign > 0, 0.0, math.pi)
    return np.column_stack((t * np.cos(angle), t * np.sin(angle)))


def _moons(rng: np.random.Generator, sign: FloatArray) -> FloatArray:
    """Two interleaved half circles (scikit-learn's make_moons shape)."""
    t = rng.uniform(0.0, math.pi, len(sign))
    upper = np.column_stack((np.cos(t), np.sin(t)))
    lower = np.column_stack((1.0 - np.cos(t), 0.5 - np.sin(t)))
    return np.where((sign > 0)[:, None], upper, lower)


def _circles(rng: np.random.Generator, sign: FloatArray) -> FloatArray:
    """A circle of radius 1 (class +1) around one of radius 0.5 (class -1)."""
    t = rng.uniform(0.0, 2.0 * math.pi, len(sign))
    radius = np.where(sign > 0, 1.0, 0.5)
    return np.column_stack((radius * np.cos(t), radius * np.sin(t)))


def _xor(rng: np.random.Generator, sign: FloatArray) -> FloatArray:
    """Uniform points in the square's quadrants: +1 where x*y > 0, -1 where x*y < 0."""
    n = len(sign)
    x = rng.uniform(0.05, 1.0, n) * rng.choice((-1.0, 1.0), n)
    y = rng.uniform(0.05, 1.0, n) * np.sign(x) * sign
    return np.column_stack((x, y))


GENERATORS: dict[str, Callable[[np.random.Generator, FloatArray], FloatArray]] = {
    "spirals": _spirals,
    "moons": _moons,
    "circles": _circles,
    "xor": _xor,
}
# The noise each bundled set has (resources/data/networks): enough to blur the classes' edges,
# not so much that they mix.
BUNDLED_NOISE = {"spirals": 0.05, "moons": 0.1, "circles": 0.08, "xor": 0.1}


def toy_data(name: str, n: int, noise: float, seed: int) -> tuple[FloatArray, FloatArray]:
    """(features (n, 2) standardised, labels (n,) of +1/-1) of the named set."""
    check_request(name, n, noise, seed)
    rng = np.random.default_rng(seed)
    labels = np.where(np.arange(n) % 2 == 0, 1.0, -1.0)
    points = GENERATORS[name](rng, labels)
    points = points + rng.normal(0.0, 1.0, points.shape) * noise
    return standardise(points), labels


def standardise(points: FloatArray) -> FloatArray:
    """Each column minus its mean, over its standard deviation (a constant column: over 1)."""
    centred = points - points.mean(axis=0)
    scale = centred.std(axis=0)
    return np.asarray(centred / np.where(scale > 0, scale, 1.0), dtype=np.float64)


def check_request(name: object, n: object, noise: object, seed: object) -> None:
    """Raise ToyDataError unless the request is one toy_data can draw."""
    if name not in GENERATORS:
        raise ToyDataError(f"no toy set {str(name)[:40]!r}; one of: {', '.join(GENERATORS)}")
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or not 1 <= n <= MAX_POINTS:
        raise ToyDataError(f"n must be a whole number from 1 to {MAX_POINTS}, not {str(n)[:40]!r}")
    if (
        isinstance(noise, bool)
        or not isinstance(noise, int | float)
        or not 0.0 <= noise <= MAX_NOISE
    ):
        raise ToyDataError(
            f"noise must be a number from 0 to {MAX_NOISE:g}, not {str(noise)[:40]!r}")
    if (
        isinstance(seed, bool)
        or not isinstance(seed, int | np.integer)
        or not 0 <= seed <= MAX_SEED
    ):
        raise ToyDataError(
            f"the seed must be a whole number from 0 to 2**63 - 1, not {str(seed)[:40]!r}")
