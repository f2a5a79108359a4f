"""The import graph of explorer/, read from the source: no cycles, and only app.py opens the window.

Every `import` and `from ... import` of an explorer module counts: at the top, inside
functions and under `if TYPE_CHECKING:`. Importing a.b.c counts as an edge to a.b.c only, not to
its parent packages (as import-linter counts them), so a package's __init__ may gather its own
submodules.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "explorer"
WINDOW = "explorer.gui.main_window"
LAUNCH = "explorer.gui.launch"


def _module_name(path: Path, package: Path) -> str:
    parts = path.relative_to(package.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(node: ast.AST, module: str, is_package: bool, known: set[str]) -> Iterable[str]:
    """The explorer modules one import statement names."""
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names)
    elif isinstance(node, ast.ImportFrom):
        base = node.module or ""
        if node.level:
            # Relative: the package of this module, up level - 1 more.
            package = module.split(".") if is_package else module.split(".")[:-1]
            package = package[: len(package) - (node.level - 1)]
            base = ".".join(package + ([base] if base else []))
        for alias in node.names:
            # `from explorer import cli` imports the module explorer.cli, not a name in explorer.
            yield f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base


def import_graph(package: Path = PACKAGE) -> dict[str, set[str]]:
    """Module name -> the explorer modules it imports anywhere in its source."""
    files = {_module_name(path, package): path for path in sorted(package.rglob("*.py"))}
    known = set(files)
    graph: dict[str, set[str]] = {}
    for module, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        is_package = path.name == "__init__.py"
        targets = {
            target
            for node in ast.walk(tree)
            for target in _imported(node, module, is_package, known)
        }
        graph[module] = {t for t in targets if t in known and t != module}
    return graph


def find_cycle(graph: Mapping[str, Iterable[str]]) -> list[str] | None:
    """One import cycle as [a, b, ..., a], or None when the graph has none."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state and (cycle := visit(target)) is not None:
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)) is not None:
            return cycle
    return None


def _within(graph: Mapping[str, set[str]], prefixes: tuple[str, ...]) -> dict[str, set[str]]:
    inside = {m for m in graph if m.startswith(prefixes)}
    return {m: graph[m] & inside for m in inside}


def test_the_reader_sees_imports_in_functions_and_type_checking_blocks(tmp_path: Path) -> None:
    pkg = tmp_path / "explorer"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("from . import b\n")
    (pkg / "sub" / "a.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from explorer.sub.b import thing\n"
        "def f():\n    import explorer.c\n"
    )
    (pkg / "sub" / "b.py").write_text("from ..c import x\nfrom .a import y\n")
    (pkg / "c.py").write_text("")
    (pkg / "d.py").write_text("from explorer import sub, c\n")
    graph = import_graph(pkg)
    assert graph == {
        "explorer": set(),
        "explorer.sub": {"explorer.sub.b"},
        "explorer.sub.a": {"explorer.sub.b", "explorer.c"},
        "explorer.sub.b": {"explorer.c", "explorer.sub.a"},
        "explorer.c": set(),
        "explorer.d": {"explorer.sub", "explorer.c"},
    }
    assert find_cycle(graph) == ["explorer.sub.b", "explorer.sub.a", "explorer.sub.b"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_the_graph_covers_the_real_tree() -> None:
    graph = import_graph()
    assert LAUNCH in graph["explorer.app"]  # imported inside a function
    assert {"explorer.cli.run", "explorer.cli.common"} <= graph["explorer.cli"]


def test_cli_core_and_io_have_no_import_cycle() -> None:
    cycle = find_cycle(_within(import_graph(), ("explorer.cli", "explorer.core", "explorer.io")))
    assert cycle is None, " -> ".join(cycle)


# The one way from the command line to Qt: --animation draws with the window's own views, and
# cli.animate imports them only inside the function that renders (issue 18).
ANIMATE = "explorer.cli.animate"
RENDERER = "explorer.gui.tools.animation_export"


def test_cli_subcommands_import_only_common_core_and_io() -> None:
    graph = import_graph()
    for module in sorted(m for m in graph if m.startswith("explorer.cli.")):
        allowed = ("explorer.core", "explorer.io") + (
            () if module == "explorer.cli.common" else ("explorer.cli.common", ANIMATE)
        )
        if module == ANIMATE:
            allowed = (*allowed, RENDERER)
        assert [t for t in sorted(graph[module]) if not t.startswith(allowed)] == [], module


def test_the_animation_renderer_is_imported_inside_a_function_only() -> None:
    tree = ast.parse((PACKAGE / "cli" / "animate.py").read_text(encoding="utf-8"))
    top = [node for node in tree.body if isinstance(node, ast.Import | ast.ImportFrom)]
    assert [n.module for n in top if isinstance(n, ast.ImportFrom)
            and (n.module or "").startswith("explorer.gui")] == []
    assert RENDERER in import_graph()[ANIMATE]


def test_explorer_has_no_import_cycle() -> None:
    cycle = find_cycle(import_graph())
    assert cycle is None, " -> ".join(cycle)


def test_only_the_launcher_imports_the_main_window() -> None:
    graph = import_graph()
    assert sorted(m for m, targets in graph.items() if WINDOW in targets) == [
        "explorer.gui.launch"
    ]
    assert sorted(m for m, targets in graph.items() if LAUNCH in targets) == ["explorer.app"]
