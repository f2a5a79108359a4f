"""The race's leaderboard: the entries while they race, then their standings, best first."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QObject

from explorer.core.race import RaceEntry, Standing, evaluations_text, lr_text, standing_texts
from explorer.core.trajectory import number_text
from explorer.gui.model.colors import RGB
from explorer.gui.model.text_table import TableRow, TextTableModel

COLUMNS = ("#", "Optimiser", "lr", "final f (mean)", "steps to tol", "to nearest min",
           "evaluations", "status")
HEADER_TIPS = (
    "Place: lowest mean final f first (values within 1e-10 tie, and the fewer steps to the "
    "tolerance wins, or in a race by f evaluations the fewer evaluations); diverged entries "
    "last",
    "The optimiser, in the colour of its paths",
    "Its learning rate ('-' for a scipy.optimize method: it has none)",
    "f where its paths ended, averaged over the starts",
    "Steps until every start had |∇f| ≤ the tolerance (the slowest start); "
    "'not reached' if one never did",
    "Mean distance from its end points to the nearest known minimum: a preset's, or the "
    "least-squares fit (lstsq) of a linear model on data (only these are known)",
    "Evaluations of f / its gradient / its Hessian per start (the mean over the starts): "
    "scipy's own counts, one f and one gradient per row for torch's optimisers, every "
    "closure call for L-BFGS. A race by evaluations gives every entry the same f budget",
    "How its paths ended",
)
STEPS_COLUMN = 4
EVALUATIONS_COLUMN = 6
UNKNOWN_COLOR: RGB = (128, 128, 128)  # a standing whose entry's colour is not known
# The cells' texts live in core.race (the command line prints them too); named here as before.
__all__ = ["COLUMNS", "LeaderboardTableModel", "evaluations_text", "lr_text", "standing_texts"]


class LeaderboardTableModel(TextTableModel):
    """One row per race entry: its colour beside the optimiser, every cell's tooltip its text."""

    def __init__(self, parent: QObject | None = None) -> None:
        columns = range(len(COLUMNS))
        super().__init__(COLUMNS, header_tips=HEADER_TIPS, right_aligned=(0, 2, 3, 4, 5, 6),
                         text_tips=columns, icon_column=1, parent=parent)

    def show_racing(self, entries: Sequence[RaceEntry], colors: Sequence[RGB]) -> None:
        """The entries of a race in progress, waiting for their results."""
        self.set_rows([
            TableRow(("", entry.label, lr_text(entry), "racing…", "", "", "", ""),
                     color=color)
            for entry, color in zip(entries, colors, strict=True)
        ])

    def show_standings(self, standings: Sequence[Standing], colors: dict[int, RGB], *,
                       has_minima: bool) -> None:
        """The final board; colors maps id(entry) to its colour (standings keep the entries)."""
        self.set_rows([
            TableRow(standing_texts(place, standing, has_minima=has_minima),
                     color=colors.get(id(standing.entry), UNKNOWN_COLOR))
            for place, standing in enumerate(standings, start=1)
        ])

    def set_tolerance(self, tol: float) -> None:
        """Name the tolerance in the steps column's title."""
        self.set_header(STEPS_COLUMN, f"steps to |∇f| ≤ {number_text(tol, 3)}")

    def set_budget(self, evaluations: int | None) -> None:
        """Name the race's evaluation budget in the evaluations column's title (None: steps)."""
        title = "evaluations" if evaluations is None else f"evaluations (budget {evaluations} f)"
        self.set_header(EVALUATIONS_COLUMN, title)
