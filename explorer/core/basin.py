"""Basins of attraction: a grid of starts descended as one batch, grouped by the minimum reached.

Every start of an n x n grid runs in one (N, 2) tensor through core.descent's step loop and
outcome rule (descend_to_end: the update is elementwise, so rows never interact, and only the
end points are kept). core.minima then groups the end points into refined minima and labels
every start. Nothing here imports Qt: the window calls basin_map from a worker thread, with a
progress callback that can cancel.
"""

from __future__ import annotations

import colorsys
import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import numpy as np
from numpy.typing import NDArray

from explorer.core.descent import Cancelled, Objective, Progress, descend_to_end
from explorer.core.landscape import domain_too_wide
from explorer.core.minima import DIVERGED, PLATEAU, UNFINISHED, group_ends
from explorer.core.optimizers import OptimizerError, get_spec
from explorer.core.presets import Minimum
from explorer.core.scipy_methods import is_scipy_method
from explorer.core.trajectory import FloatArray, RunSettings

if TYPE_CHECKING:
    import torch

__all__ = [
    "DIVERGED",
    "PLATEAU",
    "UNFINISHED",
    "BasinCancelled",
    "BasinError",
    "BasinMap",
    "basin_map",
]

Domain = tuple[float, float, float, float]
# The progress callback returned False: the map was abandoned and there is no result.
BasinCancelled = Cancelled

DEFAULT_GRID: Final = 64
MIN_GRID: Final = 2
MAX_GRID: Final = 512

# Minima whose f is within this (relative) of the lowest are all global; a found minimum
# matches a known one within this distance (times the span).
_GLOBAL_F: Final = 1e-9
_KNOWN_MATCH: Final = 1e-5


class BasinError(ValueError):
    """Settings a basin map cannot run with (domain, grid size, device), in words for the user."""


@dataclass(frozen=True)
class BasinMinimum:
    """A distinct minimum reached by some starts, at its refined position."""

    x: float
    y: float
    f: float
    count: int
    share: float
    is_global: bool


@dataclass(frozen=True, eq=False)
class BasinMap:
    """Where every start of the grid ended; arrays are indexed [ix, iy] and read-only.

    labels[ix, iy] is the index of the minimum in `minima` that the start (xs[ix], ys[iy])
    reached, DIVERGED (-1), UNFINISHED (-2) or PLATEAU (-3: it ended where f is flat, so there
    is no isolated minimum to name; a constant function is all plateau). Minima are ordered
    global first, then by f, then x, then y (equal minima by position, not by their rounding
    noise in f).
    ends[ix, iy] is the end point (NaN for diverged starts).
    """

    xs: FloatArray
    ys: FloatArray
    labels: NDArray[np.int64]
    ends: FloatArray
    minima: tuple[BasinMinimum, ...]
    global_share: float
    diverged_share: float
    unfinished_share: float
    # True or False when known minima were given: whether the lowest minimum found is one of
    # them (the caller's known global minima); None without known minima.
    matches_known: bool | None
    domain: Domain
    settings: RunSettings
    steps_run: int
    device: str

    @property
    def n(self) -> int:
        """Grid points per side."""
        return len(self.xs)

    @property
    def diverged_count(self) -> int:
        """Starts that diverged."""
        return int(np.count_nonzero(self.labels == DIVERGED))

    @property
    def unfinished_count(self) -> int:
        """Starts that neither diverged nor ended near a minimum or on a plateau."""
        return int(np.count_nonzero(self.labels == UNFINISHED))

    @property
    def plateau_count(self) -> int:
        """Starts that ended where f is flat (a plateau or a valley floor): no isolated minimum."""
        return int(np.count_nonzero(self.labels == PLATEAU))

    @property
    def plateau_share(self) -> float:
        """plateau_count as a share of all starts."""
        return self.plateau_count / self.labels.size


def basin_map(
    objective: Objective,
    domain: Sequence[float],
    settings: RunSettings,
    *,
    n: int = DEFAULT_GRID,
    device: str = "cpu",
    known_minima: Sequence[Minimum] | None = None,
    progress: Progress | None = None,
    check_every: int = 10,
    radius: float = 0.01,
    max_candidates: int = 2048,
) -> BasinMap:
    """Descend from every start of an n x n grid over domain and group the starts by minimum.

    The optimiser runs settings.steps steps (fewer when every start has converged, gradient
    norm <= settings.tol, or diverged: a non-finite value or |x| or |y| above settings.bound,
    checked every check_every steps and at the end). With settings.noise > 0 every gradient of
    the descent gets seeded Gaussian noise (settings.seed); the refinement of minima has none.
    progress(done, total) is called at each check; when it returns False the run stops and
    BasinCancelled is raised. An end point within radius * (the domain's larger side) of a
    minimum counts as reaching it. At most max_candidates cells of end points are refined (the
    most populated first). L-BFGS is refused: it is not elementwise, so it cannot run as a batch.
    A scipy method (core.scipy_methods) runs one minimize per start on the CPU instead
    (core.basin_scipy; progress counts starts, not steps), its ends judged by the same rule.
    Raises BasinError for a bad domain, grid size or device, OptimizerError for bad settings.
    """
    import torch

    xmin, xmax, ymin, ymax = _check_domain(domain)
    _check_arguments(settings, n, check_every, radius, max_candidates)
    dev = _device(device)
    xs = np.linspace(xmin, xmax, n)
    ys = np.linspace(ymin, ymax, n)
    gx, gy = torch.meshgrid(
        torch.tensor(xs, dtype=torch.float64, device=dev),
        torch.tensor(ys, dtype=torch.float64, device=dev),
        indexing="ij",
    )
    starts = torch.stack((gx.reshape(-1), gy.reshape(-1)), dim=1)  # row ix * n + iy
    refine = settings
    if is_scipy_method(settings.optimizer):
        ends, end_f, diverged, steps_run = _scipy_ends(objective, starts, settings, progress)
        # Refining a minimum may continue a descent: with a torch optimiser (scipy's has no lr).
        adam = get_spec("adam")
        refine = dataclasses.replace(
            settings, optimizer=adam.name, lr=adam.default_lr, params=(), schedule=""
        )
    else:
        end = descend_to_end(
            objective, starts, settings, check_every=check_every, progress=progress
        )
        ends, end_f, diverged, steps_run = end.points, end.f, end.diverged, end.steps_run
    span = max(xmax - xmin, ymax - ymin)
    points, values, labels = group_ends(
        objective, ends, end_f, diverged, refine, span, radius * span, max_candidates
    )
    ends_np = ends.detach().cpu().numpy().copy()
    ends_np[diverged.cpu().numpy()] = np.nan
    return _result(
        xs,
        ys,
        labels.cpu().numpy(),
        ends_np,
        points,
        values,
        (xmin, xmax, ymin, ymax),
        settings,
        steps_run,
        str(dev),
        known_minima,
        span,
    )


# --- checks ----------------------------------------------------------------------------------


def _check_domain(domain: Sequence[float]) -> Domain:
    values = tuple(float(v) for v in domain)
    if len(values) != 4 or not all(math.isfinite(v) for v in values):
        raise BasinError("the domain must be four finite numbers: xmin, xmax, ymin, ymax")
    xmin, xmax, ymin, ymax = values
    if not (xmin < xmax and ymin < ymax):
        raise BasinError(
            f"the domain needs xmin < xmax and ymin < ymax, got x in [{xmin:g}, {xmax:g}], "
            f"y in [{ymin:g}, {ymax:g}]"
        )
    wide = domain_too_wide((xmin, xmax, ymin, ymax))
    if wide:
        raise BasinError(wide)
    return xmin, xmax, ymin, ymax


def _check_arguments(
    settings: RunSettings, n: int, check_every: int, radius: float, max_candidates: int
) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or not MIN_GRID <= n <= MAX_GRID:
        raise BasinError(f"the grid size must be a whole number from {MIN_GRID} to {MAX_GRID}")
    if check_every < 1 or max_candidates < 1 or not 0 < radius < 1:
        raise BasinError("check_every and max_candidates must be >= 1, radius in (0, 1)")
    if settings.steps < 0:
        raise BasinError("the number of steps must be >= 0")
    if settings.ascent:
        raise BasinError("a basin map descends: ascent is not supported")
    if is_scipy_method(settings.optimizer):
        return  # one minimize per start: no batch to couple
    if not get_spec(settings.optimizer).elementwise:
        # L-BFGS couples every coordinate of its tensor (one line search, one history), so a
        # batch would not behave like separate runs, and 262144 separate runs are not cheap.
        raise OptimizerError(
            f"{settings.optimizer} is not elementwise, so it cannot run a grid of starts as one "
            "batch: choose another optimizer for a basin map"
        )


def _scipy_ends(
    objective: Objective, starts: torch.Tensor, settings: RunSettings, progress: Progress | None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, int]:
    """core.basin_scipy's per-start loop, its results as tensors on the starts' device."""
    import torch

    from explorer.core.basin_scipy import scipy_ends

    if starts.device.type != "cpu":
        raise BasinError(f"{settings.optimizer} is a scipy method: it runs on the CPU only")
    end = scipy_ends(objective, starts.numpy(), settings, progress=progress)
    as_tensor = torch.from_numpy
    return as_tensor(end.points), as_tensor(end.f), as_tensor(end.diverged), end.steps_run


def _device(name: str) -> torch.device:
    import torch

    if name == "cpu":
        return torch.device("cpu")
    if name == "cuda" or name.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise BasinError(
                f"CUDA is not available here (torch {torch.__version__} finds no CUDA device): "
                "use --device cpu"
            )
        try:
            return torch.device(name)
        except RuntimeError:
            raise BasinError(f"bad CUDA device '{name}'") from None
    raise BasinError(f"unknown device '{name}': use cpu or cuda")


# --- the result --------------------------------------------------------------------------------


def _result(
    xs: FloatArray,
    ys: FloatArray,
    flat_labels: NDArray[np.int64],
    ends: FloatArray,
    points: FloatArray,
    values: FloatArray,
    domain: Domain,
    settings: RunSettings,
    steps_run: int,
    device: str,
    known: Sequence[Minimum] | None,
    span: float,
) -> BasinMap:
    """Counts and shares; minima that no start reached are dropped."""
    total = len(flat_labels)
    counts = np.bincount(flat_labels[flat_labels >= 0], minlength=len(points))
    lowest = float(values[counts > 0].min()) if counts.any() else math.inf
    tolerance = _GLOBAL_F * (1 + abs(lowest))
    is_global = values <= lowest + tolerance
    order = sorted(
        (i for i in range(len(points)) if counts[i] > 0),
        key=lambda i: (
            not is_global[i],
            0.0 if is_global[i] else float(values[i]),
            float(points[i, 0]),
            float(points[i, 1]),
        ),
    )
    remap = np.full(len(points), UNFINISHED, dtype=np.int64)
    remap[order] = np.arange(len(order))
    labels = flat_labels
    if len(points):
        labels = np.where(flat_labels >= 0, remap[np.maximum(flat_labels, 0)], flat_labels)
    minima = tuple(
        BasinMinimum(
            x=float(points[i, 0]),
            y=float(points[i, 1]),
            f=float(values[i]),
            count=int(counts[i]),
            share=int(counts[i]) / total,
            is_global=bool(is_global[i]),
        )
        for i in order
    )
    global_count = sum(m.count for m in minima if m.is_global)
    matches = None
    if known:
        matches = any(
            math.hypot(m.x - k.x, m.y - k.y) <= _KNOWN_MATCH * max(1.0, span)
            for m in minima
            if m.is_global
            for k in known
        )
    n = len(xs)
    labels = labels.reshape(n, n)
    ends = ends.reshape(n, n, 2)
    for array in (xs, ys, labels, ends):
        array.setflags(write=False)
    return BasinMap(
        xs=xs,
        ys=ys,
        labels=labels,
        ends=ends,
        minima=minima,
        global_share=global_count / total,
        diverged_share=int(np.count_nonzero(labels == DIVERGED)) / total,
        unfinished_share=int(np.count_nonzero(labels == UNFINISHED)) / total,
        matches_known=matches,
        domain=domain,
        settings=settings,
        steps_run=steps_run,
        device=device,
    )


# --- the picture ---------------------------------------------------------------------------------

# Distinct colours for the first minima (matplotlib's tab10 without its grey), then generated
# hues; diverged and unfinished starts get colours no minimum uses.
_FIRST_COLOURS: Final = (
    (31, 119, 180),
    (255, 127, 14),
    (44, 160, 44),
    (214, 39, 40),
    (148, 103, 189),
    (140, 86, 75),
    (227, 119, 194),
    (188, 189, 34),
    (23, 190, 207),
)
DIVERGED_RGB: Final = (0, 0, 0)
UNFINISHED_RGB: Final = (200, 200, 200)
PLATEAU_RGB: Final = (175, 165, 220)  # pale lavender: far less saturated than any minimum's
MARKER_RGB: Final = (255, 255, 255)


def minimum_colour(index: int) -> tuple[int, int, int]:
    """The colour of minimum `index` in basin maps (the same in the window and in PNG files)."""
    if index < len(_FIRST_COLOURS):
        return _FIRST_COLOURS[index]
    hue = (index * 0.618033988749895) % 1.0
    r, g, b = colorsys.hsv_to_rgb(hue, 0.75, 0.85)
    return round(255 * r), round(255 * g), round(255 * b)


def label_colour(label: int) -> tuple[int, int, int]:
    """The colour of a label: a minimum's, DIVERGED_RGB, UNFINISHED_RGB or PLATEAU_RGB."""
    if label == DIVERGED:
        return DIVERGED_RGB
    if label == UNFINISHED:
        return UNFINISHED_RGB
    if label == PLATEAU:
        return PLATEAU_RGB
    return minimum_colour(label)


def basin_image(result: BasinMap, scale: int | None = None) -> NDArray[np.uint8]:
    """The map as RGB pixels (rows top to bottom = y high to low), each start a scale x scale
    block in its label's colour, each minimum inside the domain marked by a white cross."""
    n = result.n
    scale = max(1, 512 // n) if scale is None else max(1, int(scale))
    palette = np.array(
        [label_colour(label) for label in (DIVERGED, UNFINISHED, PLATEAU)]
        + [minimum_colour(i) for i in range(len(result.minima))],
        dtype=np.uint8,
    ).reshape(-1, 3)
    # Label -1 -> row 0, -2 -> row 1, -3 -> row 2, minimum i -> row i + 3.
    index = np.where(result.labels >= 0, result.labels + 3, -1 - result.labels)
    cells = palette[index.T[::-1]]  # [iy, ix] with iy from the top
    image = np.repeat(np.repeat(cells, scale, axis=0), scale, axis=1)
    xmin, xmax, ymin, ymax = result.domain
    dx, dy = (xmax - xmin) / (n - 1), (ymax - ymin) / (n - 1)
    arm = max(3, len(image) // 64)
    for m in result.minima:
        if xmin <= m.x <= xmax and ymin <= m.y <= ymax:
            col = int(((m.x - xmin) / dx + 0.5) * scale)
            row = int(((ymax - m.y) / dy + 0.5) * scale)
            _cross(image, row, col, arm)
    return np.ascontiguousarray(image)


def _cross(image: NDArray[np.uint8], row: int, col: int, arm: int) -> None:
    """A white cross with a black outline, clipped to the image."""
    height, width = image.shape[:2]

    def paint(r0: int, r1: int, c0: int, c1: int, colour: tuple[int, int, int]) -> None:
        image[max(0, r0) : min(height, r1), max(0, c0) : min(width, c1)] = colour

    for pad, colour in ((2, (0, 0, 0)), (1, MARKER_RGB)):
        half = pad - 1
        paint(row - arm - half, row + arm + 1 + half, col - half - 1, col + half + 2, colour)
        paint(row - half - 1, row + half + 2, col - arm - half, col + arm + 1 + half, colour)
