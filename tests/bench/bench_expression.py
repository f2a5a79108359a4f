"""Benchmark: hostile functions must be refused or converted at once (the old tests' budgets).

Run: python tests/bench/bench_expression.py [--quick] [--repeats R]
Prints one table: for each hostile text, the best time of R fresh runs (past every cache) of
parsing it, or of converting it to sympy (not its derivatives), and that time as a share of its
budget (1 s to parse or refuse, 2 s to convert). Goal: the worst share <= 1. The tests check
the deterministic side (limits refuse before Python's parser, powers of numbers folded in
float64, small sympy forms); this measures the speed.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path

from explorer.core.expression import MAX_LENGTH, ParseError
from explorer.core.expression.parser import compile_text
from explorer.core.expression.symbolic import to_sympy

GOAL = 1.0
PARSE_BUDGET_S = 1.0
SYMPY_BUDGET_S = 2.0

REFUSED = {
    "too long": "x" * (2 * MAX_LENGTH + 1),
    "deep brackets": "(" * 300 + "x" + ")" * 300,
    "deep calls": "sin(" * 101 + "x" + ")" * 101,
    "deep unary minus": "-" * 999 + "x",
    "deep power chain": "x**" * 333 + "x",
}
CONVERTED = {
    "power tower": "9**9**9**9",
    "sigmoid nest": "sigmoid(" * 99 + "x" + ")" * 99,
    "abs nest": "abs(x+" * 49 + "y" + ")" * 49,
    "max nest": "max(x, " * 49 + "y" + ")" * 49,
    "exact powers": "exp(9999*log(exp(9999*log(9999*x))))",
}


def _refuse(text: str) -> None:
    try:
        compile_text.__wrapped__(text)
    except ParseError:
        return
    raise AssertionError(f"not refused: {text[:20]!r}...")


def _convert(text: str) -> None:
    to_sympy(compile_text.__wrapped__(text)[0])


def _best(work: Callable[[], None], repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    """Time every hostile text; print the table and the worst share of its budget."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one run each: a smoke test")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--summary", metavar="FILE", help="also write the ratio as JSON here")
    args = parser.parse_args()
    repeats = 1 if args.quick else args.repeats

    _convert("2**3*x + sin(y)")  # imports sympy and torch: not part of any case's time
    worst = 0.0
    print(f"{'text':<18}  {'what':<8}  {'best s':>8}  {'share':>6}")
    for cases, work, budget, what in (
        (REFUSED, _refuse, PARSE_BUDGET_S, "refuse"),
        (CONVERTED, _convert, SYMPY_BUDGET_S, "convert"),
    ):
        for name, text in cases.items():
            seconds = _best(lambda text=text, work=work: work(text), repeats)
            share = seconds / budget
            worst = max(worst, share)
            print(f"{name:<18}  {what:<8}  {seconds:>8.4f}  {share:>6.3f}")
    mark = "ok" if worst <= GOAL else "ABOVE GOAL"
    print(f"worst share of budget: {worst:.3f} (goal <= {GOAL}) {mark}")
    if args.summary:
        row = {
            "measure": "hostile functions: worst time / budget",
            "value": worst,
            "goal": f"<= {GOAL}",
            "ok": worst <= GOAL,
        }
        Path(args.summary).write_text(json.dumps([row]))


if __name__ == "__main__":
    main()
