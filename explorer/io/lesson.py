"""Guided lessons: a file of steps, each a short text and the app's state it sets up.

A lesson is JSON, not code, so that a tutor can edit the course's lesson or write another one.
Each step's "setup" is a session without its format and version (function, domain, controls,
runs, pending starts, race entries, view, a neural network): it is checked by the session
reader, field by field, so a lesson can set up anything a session can and nothing a session could
not. A network's data file named by a relative path is looked for beside the lesson file.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from explorer.io.reading import FileReadError, read_user_bytes
from explorer.io.session import FORMAT as SESSION_FORMAT
from explorer.io.session import VERSION as SESSION_VERSION
from explorer.io.session import Session, SessionError, session_from_json

FORMAT = "gradient-descent-explorer-lesson"
VERSION = 1
# The course's own lesson, shipped with the app.
TUTORIAL_PATH = Path(__file__).resolve().parents[2] / "resources" / "lessons" / "tutorial.json"
# Limits: a lesson is a few pages of text, not a data file.
MAX_LESSON_BYTES = 1_000_000
MAX_STEPS = 100
MAX_TITLE = 120
MAX_TEXT = 2_000
# The tabs a step may bring to the front.
TOOLS = ("inspector", "sweep", "basin", "race", "sharpness")


class LessonError(ValueError):
    """A lesson file that cannot be used; the message names the file, the field and why."""


@dataclass(frozen=True, eq=False)
class LessonStep:
    """One step: its title and text, and what it sets up (None: text only)."""

    title: str
    text: str
    setup: Session | None = None
    # A point to show in the gradient inspector, and a tab to bring to the front.
    inspect: tuple[float, float] | None = None
    tool: str | None = None
    # The start the tool uses (the sweep's start), where the step gives one.
    tool_start: tuple[float, float] | None = None


@dataclass(frozen=True, eq=False)
class Lesson:
    """A titled sequence of steps."""

    title: str
    steps: tuple[LessonStep, ...]


def load_lesson(path: str | os.PathLike[str]) -> Lesson:
    """Read and check a lesson file (LessonError with a one-line reason if it is not one)."""
    name = Path(path).name
    try:
        raw = read_user_bytes(path, MAX_LESSON_BYTES)
    except FileReadError as err:
        raise LessonError(str(err)) from None
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise LessonError(f"{name}: not a lesson file (not UTF-8 text)") from None
    except (json.JSONDecodeError, RecursionError) as err:
        where = f" (line {err.lineno})" if isinstance(err, json.JSONDecodeError) else ""
        raise LessonError(f"{name}: not a lesson file (not valid JSON{where})") from None
    except ValueError:  # an integer of more digits than Python converts (4300)
        raise LessonError(f"{name}: not a lesson file (a number with too many digits)") from None
    return lesson_from_json(data, name, folder=Path(path).parent)


def lesson_from_json(data: object, name: str = "lesson", *,
                     folder: Path | None = None) -> Lesson:
    """Check JSON data field by field and build the Lesson (a network's relative data path
    from folder)."""
    reader = _Reader(name, folder)
    if not isinstance(data, dict):
        raise LessonError(f"{name}: not a lesson file (not a JSON object)")
    if data.get("format") != FORMAT:
        raise LessonError(f"{name}: not a lesson file (field 'format' is {data.get('format')!r})")
    version = data.get("version")
    if isinstance(version, bool) or version != VERSION:
        raise LessonError(f"{name}: field 'version': format version {_short(version)} is not "
                          f"supported (this app reads {VERSION})")
    title = reader.text(data, "title", "", MAX_TITLE)
    items = data.get("steps")
    if not isinstance(items, list) or not items:
        reader.fail("steps", f"expected a list of 1 to {MAX_STEPS} steps, found {_short(items)}")
    if len(items) > MAX_STEPS:
        reader.fail("steps", f"expected at most {MAX_STEPS} steps, found {len(items):,}")
    return Lesson(title, tuple(reader.step(item, f"steps[{i}]") for i, item in enumerate(items)))


class _Reader:
    """Field checks that raise LessonError with the file name and the field's path."""

    def __init__(self, name: str, folder: Path | None = None) -> None:
        self.name = name
        self.folder = folder

    def fail(self, where: str, problem: str) -> NoReturn:
        raise LessonError(f"{self.name}: field '{where}': {problem}")

    def text(self, data: Mapping[str, Any], key: str, where: str, most: int) -> str:
        path = f"{where}.{key}" if where else key
        value = data.get(key)
        if not isinstance(value, str) or not value.strip():
            self.fail(path, f"expected text, found {_short(value)}")
        if len(value) > most:
            self.fail(path, f"expected at most {most:,} characters, found {len(value):,}")
        return value.strip()

    def point(self, value: object, where: str) -> tuple[float, float] | None:
        if value is None:
            return None
        if (not isinstance(value, list) or len(value) != 2
                or not all(_is_finite_number(v) for v in value)):
            self.fail(where, f"expected [x, y] (two finite numbers), found {_short(value)}")
        return float(value[0]), float(value[1])

    def step(self, value: object, where: str) -> LessonStep:
        if not isinstance(value, dict):
            self.fail(where, f"expected an object, found {_short(value)}")
        known = {"title", "text", "setup", "inspect", "tool", "tool_start"}
        unknown = sorted(set(value) - known)
        if unknown:  # a misspelt key would silently set up less than the tutor meant
            self.fail(f"{where}.{unknown[0]}", "not a step field (expected one of "
                      + ", ".join(sorted(known)) + ")")
        tool = value.get("tool")
        if tool is not None and tool not in TOOLS:
            self.fail(f"{where}.tool", f"expected one of {', '.join(TOOLS)} or null, "
                      f"found {_short(tool)}")
        return LessonStep(
            title=self.text(value, "title", where, MAX_TITLE),
            text=self.text(value, "text", where, MAX_TEXT),
            setup=self.setup(value.get("setup"), f"{where}.setup"),
            inspect=self.point(value.get("inspect"), f"{where}.inspect"),
            tool=tool,
            tool_start=self.point(value.get("tool_start"), f"{where}.tool_start"),
        )

    def setup(self, value: object, where: str) -> Session | None:
        if value is None:
            return None
        if not isinstance(value, dict):
            self.fail(where, f"expected an object, found {_short(value)}")
        if "format" in value or "version" in value:
            self.fail(where, "a step's setup has no format or version of its own")
        data = {**value, "format": SESSION_FORMAT, "version": SESSION_VERSION}
        try:
            return session_from_json(data, f"{self.name}: {where}", folder=self.folder)
        except SessionError as err:
            raise LessonError(str(err)) from None


def _is_finite_number(value: object) -> bool:
    return (not isinstance(value, bool) and isinstance(value, int | float)
            and math.isfinite(value))


def _short(value: object) -> str:
    """A value as JSON, cut to 40 characters."""
    try:
        text = json.dumps(value)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
