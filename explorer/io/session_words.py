"""How the session reader words what a field holds and what it expects ("the text \"0.9\"",
"a list of 3 items", "a number from 0 to 1"): shared by io.session and its split-out blocks."""

from __future__ import annotations

import json

from explorer.core.optimizers import HyperParameter


def show(value: object) -> str:
    """A value as JSON (a float as Python writes it), cut to 40 characters."""
    text = json.dumps(value) if not isinstance(value, float) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def found(value: object) -> str:
    """What a field holds, in words: 'the text "0.9"', 'true', 'null', 'a list of 3 items'."""
    if isinstance(value, str):
        return f"the text {show(value)}"
    if isinstance(value, list):
        return f"a list of {len(value)} item{'s' if len(value) != 1 else ''}"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, int) and not isinstance(value, bool) and len(str(abs(value))) > 15:
        return f"a {len(str(abs(value)))}-digit number"
    return show(value)


def expected(param: HyperParameter) -> str:
    """What a hyperparameter takes, in words, from its registry entry."""
    if param.kind == "bool":
        return "true or false"
    if param.kind == "choice":
        return "one of " + ", ".join(param.choices)
    span = f"from {param.low:g} to {param.high:g}"
    if param.kind == "pair":
        return f"a list of 2 numbers {span}"
    return f"a whole number {span}" if param.kind == "int" else f"a number {span}"
