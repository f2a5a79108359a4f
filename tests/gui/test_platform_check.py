"""With no usable display, `python main.py` says why in plain words and exits 1 (item 7)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from explorer.gui import platform_check
from explorer.gui.platform_check import apt_package, missing_libraries, problem

ROOT = Path(__file__).resolve().parents[2]
_DISPLAY_VARS = ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM", "XDG_SESSION_TYPE")


def _launch(**extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in _DISPLAY_VARS}
    env.update(extra)
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _assert_plain(done: subprocess.CompletedProcess[str], *words: str) -> None:
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr and "qt.qpa" not in done.stderr
    assert done.stderr.startswith("error: cannot open the window")
    for word in (*words, "xvfb-run", "run|grad"):
        assert word in done.stderr


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="X11 check is Linux only")
def test_no_display_says_so_and_exits_1() -> None:
    _assert_plain(_launch(), "DISPLAY variable is not set", "apt-get install xvfb")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="X11 check is Linux only")
def test_a_display_nobody_answers_is_named() -> None:
    number = next(n for n in range(917, 999) if not Path(f"/tmp/.X11-unix/X{n}").exists())
    done = _launch(DISPLAY=f":{number}")
    _assert_plain(done, f"DISPLAY=:{number}")


def test_a_missing_library_gives_the_apt_line() -> None:
    why = problem(
        {"DISPLAY": ":0"},
        platform="linux",
        missing=lambda plugin: ["libxcb-cursor.so.0", "libxcb-icccm.so.4"],
        reach=lambda display: True,
    )
    assert why is not None
    assert "libxcb-cursor.so.0, libxcb-icccm.so.4" in why
    assert "sudo apt-get install libxcb-cursor0 libxcb-icccm4" in why


@pytest.mark.parametrize(
    ("env", "platform"),
    [
        ({"QT_QPA_PLATFORM": "offscreen"}, "linux"),
        ({"QT_QPA_PLATFORM": "minimal"}, "linux"),
        ({"QT_QPA_PLATFORM": "wayland"}, "linux"),
        ({"WAYLAND_DISPLAY": "wayland-0"}, "linux"),
        ({"QT_QPA_PLATFORM": "some-future-platform"}, "linux"),
        ({}, "darwin"),
        ({}, "win32"),
        ({"DISPLAY": ":0"}, "linux"),
    ],
)
def test_platforms_that_need_no_check_pass(env: dict[str, str], platform: str) -> None:
    def never(_: str) -> list[str]:
        return []

    assert problem(env, platform=platform, missing=never, reach=lambda d: True) is None


def test_the_xcb_check_applies_when_xcb_is_asked_for() -> None:
    why = problem({"QT_QPA_PLATFORM": "xcb"}, platform="linux", missing=lambda p: [])
    assert why is not None and "DISPLAY" in why


def test_missing_libraries_reads_ldd_not_found_lines() -> None:
    report = (
        "\tlibQt6XcbQpa.so.6 => /x/libQt6XcbQpa.so.6 (0x1)\n"
        "\tlibxcb-cursor.so.0 => not found\n"
        "\tlibxkbcommon-x11.so.0 => not found\n"
    )
    if platform_check._plugin("xcb") is None:
        pytest.skip("this PySide6 has no xcb plugin")
    assert missing_libraries("xcb", ldd=lambda path: report) == [
        "libxcb-cursor.so.0",
        "libxkbcommon-x11.so.0",
    ]


@pytest.mark.parametrize(
    ("soname", "package"),
    [
        ("libxcb-cursor.so.0", "libxcb-cursor0"),
        ("libxcb-render-util.so.0", "libxcb-render-util0"),
        ("libxcb-xkb.so.1", "libxcb-xkb1"),
        ("libxkbcommon-x11.so.0", "libxkbcommon-x11-0"),
        ("libdbus-1.so.3", "libdbus-1-3"),
        ("libSM.so.6", "libsm6"),
    ],
)
def test_apt_package_names(soname: str, package: str) -> None:
    assert apt_package(soname) == package
