"""The layering contract: core and io never import Qt; the headless commands import no Qt."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GUI_MODULES = ("PySide6", "shiboken6", "pyqtgraph", "OpenGL")


def _modules_after(code: str) -> set[str]:
    probe = code + "\nimport sys, json\nprint(json.dumps(sorted(sys.modules)))\n"
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    return set(json.loads(out.strip().splitlines()[-1]))


def _gui(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if m.split(".")[0] in GUI_MODULES)


def test_core_and_io_import_no_gui_module() -> None:
    packages = sorted(
        "explorer." + ".".join(p.relative_to(ROOT / "explorer").with_suffix("").parts)
        for folder in ("core", "io")
        for p in (ROOT / "explorer" / folder).glob("*.py")
    )
    code = "\n".join(f"import {name}" for name in packages)
    assert _gui(_modules_after(code)) == []


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "--preset", "himmelblau", "--start", "0,0", "--steps", "3", "--json"],
        ["grad", "--function", "x*y + sin(pi*x)", "--at", "2,3", "--json"],
    ],
)
def test_headless_commands_import_no_qt(argv: list[str]) -> None:
    code = (
        "import sys, io, contextlib\n"
        "from explorer.app import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    assert main({argv!r}) == 0\n"
    )
    assert _gui(_modules_after(code)) == []
