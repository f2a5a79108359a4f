"""Before Qt starts: can it open a window here? If not, say why in plain words.

Qt aborts the process (exit 134, a message about plugins) when its platform plugin cannot
load or reach a display. This module asks the same questions first, without importing Qt:
which platform Qt will pick, whether that plugin's libraries are installed, and whether the
display answers. It never blocks a platform it does not know how to check.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

__all__ = ["apt_package", "missing_libraries", "problem", "reach_x_display"]

# Platforms that need no display server at all.
_HEADLESS = {"offscreen", "minimal", "minimalegl", "vnc", "linuxfb", "eglfs", "vkkhrdisplay"}

# Debian/Ubuntu package names where the soname does not say it plainly.
_PACKAGES = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libOpenGL.so.0": "libopengl0",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libdbus-1.so.3": "libdbus-1-3",
    "libglib-2.0.so.0": "libglib2.0-0",
}

_HEADLESS_HINT = (
    "The headless subcommands need no display: python main.py run|grad|sweep|basin|presets "
    "(python main.py --help lists them)."
)


def apt_package(soname: str) -> str:
    """The Debian package that ships a shared library: 'libxcb-icccm.so.4' -> 'libxcb-icccm4'."""
    if soname in _PACKAGES:
        return _PACKAGES[soname]
    match = re.fullmatch(r"(lib[\w+.-]*?)\.so\.(\d+)(?:\.\d+)*", soname)
    if match is None:
        return soname
    stem, major = match.groups()
    stem = stem.lower()
    # Debian puts a dash between a name that ends in a digit and its soname version.
    return f"{stem}-{major}" if stem[-1].isdigit() else f"{stem}{major}"


def _plugin(name: str) -> Path | None:
    spec = importlib.util.find_spec("PySide6")
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / "Qt" / "plugins" / "platforms" / f"libq{name}.so"
    return path if path.is_file() else None


def _ldd(path: Path) -> str:
    """ldd's report of a library's dependencies ('' when ldd is not there or fails)."""
    ldd = shutil.which("ldd")
    if ldd is None:
        return ""
    try:
        done = subprocess.run(
            [ldd, str(path)], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout


def missing_libraries(plugin: str = "xcb", ldd: Callable[[Path], str] = _ldd) -> list[str]:
    """The shared libraries the Qt platform plugin needs and the system lacks."""
    path = _plugin(plugin)
    if path is None:
        return []
    return re.findall(r"^\s*(\S+) => not found", ldd(path), flags=re.MULTILINE)


def reach_x_display(display: str) -> bool:
    """Whether an X server answers at this DISPLAY (asked through libxcb, as Qt will)."""
    name = ctypes.util.find_library("xcb")
    if name is None:
        return True  # cannot ask: let Qt try
    try:
        xcb = ctypes.CDLL(name)
    except OSError:
        return True
    xcb.xcb_connect.restype = ctypes.c_void_p
    xcb.xcb_connect.argtypes = [ctypes.c_char_p, ctypes.c_void_p]
    xcb.xcb_connection_has_error.argtypes = [ctypes.c_void_p]
    xcb.xcb_disconnect.argtypes = [ctypes.c_void_p]
    connection = xcb.xcb_connect(display.encode(), None)
    try:
        return bool(connection) and xcb.xcb_connection_has_error(connection) == 0
    finally:
        if connection:
            xcb.xcb_disconnect(connection)


def problem(
    env: Mapping[str, str] | None = None,
    platform: str = sys.platform,
    missing: Callable[[str], list[str]] = missing_libraries,
    reach: Callable[[str], bool] = reach_x_display,
) -> str | None:
    """Why Qt could not open a window here, as lines for the user; None when it can."""
    env = os.environ if env is None else env
    if not platform.startswith("linux"):
        return None
    chosen = env.get("QT_QPA_PLATFORM", "").split(";")[0].split(":")[0].strip().lower()
    if chosen in _HEADLESS or chosen.startswith("wayland"):
        return None
    if not chosen and env.get("WAYLAND_DISPLAY"):
        return None  # Qt picks Wayland in a Wayland session
    if chosen not in ("", "xcb"):
        return None  # a platform we do not know how to check: let Qt speak
    libraries = missing("xcb")
    if libraries:
        packages = " ".join(dict.fromkeys(apt_package(lib) for lib in libraries))
        return (
            f"cannot open the window: Qt's X11 platform plugin needs "
            f"{', '.join(libraries)}, which is not installed.\n"
            f"Install it with: sudo apt-get install {packages}\n{_HEADLESS_HINT}"
        )
    display = env.get("DISPLAY", "")
    if not display:
        return (
            "cannot open the window: there is no display (the DISPLAY variable is not set).\n"
            "Run it in a desktop session, over ssh -X, or on a virtual display: "
            "sudo apt-get install xvfb, then xvfb-run -a python main.py\n"
            f"{_HEADLESS_HINT}"
        )
    if not reach(display):
        return (
            f"cannot open the window: no X server answers at DISPLAY={display}.\n"
            "Check the DISPLAY variable, or use a virtual display: "
            "sudo apt-get install xvfb, then xvfb-run -a python main.py\n"
            f"{_HEADLESS_HINT}"
        )
    return None
