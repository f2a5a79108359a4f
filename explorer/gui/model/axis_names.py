"""What the maps call their axes and their value: x, y and f(x, y), or a model's parameters
and its loss. One place decides; every view, the runs table and the read-outs take it."""

from __future__ import annotations

from typing import NamedTuple


class AxisNames(NamedTuple):
    """The two axes and the value over them (a NamedTuple: view.set_axis_names(*names))."""

    x: str = "x"
    y: str = "y"
    value: str = "f(x, y)"

    @property
    def short(self) -> str:
        """The value's short name: 'f' for f(x, y), 'loss' for a model."""
        return self.value.partition("(")[0].strip() or self.value

    def scale_title(self, log: bool) -> str:
        """A colour bar's title on the linear or the log scale."""
        return f"log10({self.short} - min)" if log else self.value


FUNCTION_AXES = AxisNames()
