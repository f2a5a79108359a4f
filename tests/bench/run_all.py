"""Run every benchmark in tests/bench/ and print one table of ratios against their goals.

Run: python tests/bench/run_all.py [--quick]
Each benchmark runs in its own process (the GUI one under Xvfb when there is no display) and
writes its headline numbers as JSON; its own full table is printed first.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def _command(script: str, quick: bool) -> list[str] | None:
    command = [sys.executable, str(HERE / script)]
    if script == "bench_gui.py":
        if quick:
            command += ["--repeats", "1", "--seconds", "2"]
        if not os.environ.get("DISPLAY"):
            if shutil.which("xvfb-run") is None:
                return None
            command = ["xvfb-run", "-a", "-s", "-screen 0 1600x1000x24",
                       "env", "QT_QPA_PLATFORM=xcb", *command]
    elif quick:
        command.append("--quick")
    return command


def main() -> int:
    """Run the benchmarks one after another; print their tables, then the summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, a smoke test")
    args = parser.parse_args()
    scripts = sorted(p.name for p in HERE.glob("bench_*.py"))
    rows: list[tuple[str, dict[str, object]]] = []
    missing: list[str] = []
    with tempfile.TemporaryDirectory() as folder:
        for script in scripts:
            command = _command(script, args.quick)
            if command is None:
                missing.append(f"{script}: needs a display or xvfb-run")
                continue
            summary = Path(folder) / f"{script}.json"
            print(f"\n=== {script} ===", flush=True)
            done = subprocess.run([*command, "--summary", str(summary)], cwd=ROOT, check=False)
            if done.returncode != 0 or not summary.exists():
                missing.append(f"{script}: failed (exit code {done.returncode})")
                continue
            rows += [(script, row) for row in json.loads(summary.read_text())]
    print("\n=== summary ===")
    width = max([len(str(row["measure"])) for _, row in rows] + [7])
    print(f"{'measure':<{width}}  {'value':>9}  {'goal':<8}  result")
    for _, row in rows:
        ok = row["ok"]
        verdict = "" if ok is None else ("ok" if ok else "MISSED")
        value = float(row["value"])  # type: ignore[arg-type]
        print(f"{row['measure']!s:<{width}}  {value:>9.3f}  {row['goal']!s:<8}  {verdict}")
    for line in missing:
        print(f"not run: {line}")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
