"""`python main.py` in a subprocess: the window appears, and Ctrl+Q quits cleanly with code 0."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from explorer.gui.launch import QUIT_ENV, READY_MARK, SHOWN_MARK
from explorer.gui.settings_file import SETTINGS_ENV

ROOT = Path(__file__).resolve().parents[2]


def launch(tmp_path: Path, mode: str) -> subprocess.CompletedProcess[str]:
    """Run main.py under the test display; it presses Ctrl+Q on itself (see QUIT_ENV)."""
    env = dict(os.environ)
    env[SETTINGS_ENV] = str(tmp_path / "settings.ini")
    env[QUIT_ENV] = mode
    return subprocess.run(
        [sys.executable, "main.py"], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=240,
    )


@pytest.mark.parametrize(
    "mode",
    [
        pytest.param("1", id="while-torch-loads"),
        pytest.param("engine", id="after-the-engine-loaded"),
    ],
)
def test_main_py_shows_the_window_and_quits_on_ctrl_q(tmp_path: Path, mode: str) -> None:
    result = launch(tmp_path, mode)
    assert result.returncode == 0, result.stderr
    assert SHOWN_MARK in result.stdout
    assert "QThread" not in result.stderr
    assert "Traceback" not in result.stderr
    # Quitting went through closeEvent, which saved the settings.
    text = (tmp_path / "settings.ini").read_text(encoding="utf-8")
    assert "Himmelblau" in text or "x**2 + y - 11" in text


# A probe's first lines: the application, and the window's class with its settings.
OPEN_APP = (
    "from PySide6.QtWidgets import QApplication\n"
    "app = QApplication([])\n"
    "from explorer.gui.main_window import MainWindow, open_settings\n"
)


def _run_probe(tmp_path: Path, probe: str) -> subprocess.CompletedProcess[str]:
    """Run Python code in a fresh interpreter on the test's settings; it must exit 0."""
    env = dict(os.environ)
    env[SETTINGS_ENV] = str(tmp_path / "settings.ini")
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result


def test_the_window_is_shown_before_torch_is_imported(tmp_path: Path) -> None:
    probe = (
        "import sys\n"
        f"{OPEN_APP}"
        "window = MainWindow(open_settings())\n"
        "window.show()\n"
        "app.processEvents()\n"
        "print('torch' in sys.modules, window.statusBar().currentMessage())\n"
        "window.close()\n"
    )
    result = _run_probe(tmp_path, probe)
    assert result.stdout.strip() == "False Loading the engine (torch)…"


def test_the_first_frame_is_drawn_before_the_parts_are_imported(tmp_path: Path) -> None:
    # What run_app does: the frame first (title, size, status bar), the parts once it is shown.
    probe = (
        "import sys\n"
        f"{OPEN_APP}"
        "window = MainWindow(open_settings(), with_surface=False, defer_build=True)\n"
        "window.show()\n"
        "app.processEvents()\n"
        "heavy = [m for m in ('pyqtgraph', 'numpy', 'torch', 'explorer.core.expression',\n"
        "         'explorer.gui.tools.lab_tools') if m in sys.modules]\n"
        "print(heavy, window.is_built(), window.statusBar().currentMessage())\n"
        "window.build()\n"
        "app.processEvents()\n"
        "print(window.is_built(), 'pyqtgraph' in sys.modules, window.contour.isVisible(),\n"
        "      window.function.applied() is not None)\n"
        "window.close()\n"
    )
    result = _run_probe(tmp_path, probe)
    first, then = result.stdout.strip().splitlines()
    assert first == "[] False Loading the engine (torch)…"
    assert then == "True True True True"


def test_closing_the_frame_before_the_parts_exist_quits_cleanly(tmp_path: Path) -> None:
    probe = (
        f"{OPEN_APP}"
        "window = MainWindow(open_settings(), with_surface=False, defer_build=True)\n"
        "window.show()\n"
        "app.processEvents()\n"
        "print(window.close(), window.is_built())\n"
        "window.build(); window.start_engine(); window.build_surface()  # timers already set\n"
        "print(window.is_built())\n"
    )
    result = _run_probe(tmp_path, probe)
    assert result.stdout.split() == ["True", "False", "False"]
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("presses", [1, 2])
def test_ctrl_c_in_the_terminal_closes_the_window_without_a_traceback(
    tmp_path: Path, presses: int
) -> None:
    env = dict(os.environ)
    env[SETTINGS_ENV] = str(tmp_path / "settings.ini")
    env[QUIT_ENV] = "report"
    process = subprocess.Popen([sys.executable, "main.py"], cwd=ROOT, env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert process.stdout is not None
        for line in process.stdout:
            if line.startswith(READY_MARK):
                break
        for _ in range(presses):
            process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    if presses == 1:  # closed as Ctrl+Q closes it: settings saved, exit 0
        assert process.returncode == 0, err
        assert "x**2 + y - 11" in (tmp_path / "settings.ini").read_text(encoding="utf-8")
    else:  # closed at once, or quit by the second press
        assert process.returncode in (0, 130), err
