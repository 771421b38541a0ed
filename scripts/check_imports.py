"""Checks the imports of app/ with the standard library only, independently of import-linter.

  1. No import cycles between modules of app/: any strongly connected component of more
     than one module, or a module importing itself. Imports count wherever they are (module
     level, functions, classes, try blocks) except under `if TYPE_CHECKING:`.
  2. No module of app/core imports app.ui, app.cli or app.sandbox (any import, even one
     under `if TYPE_CHECKING:`).
  3. No folder of app/ holds more than 15 modules (.py files other than __init__.py).

Prints each problem with the modules involved and exits 1, or prints a one-line summary and
exits 0. `--root DIR` checks DIR/app instead of this repository's app/.

    python scripts/check_imports.py [--root DIR]
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

PACKAGE = "app"
CORE = "app.core"
CORE_FORBIDDEN = ("app.ui", "app.cli", "app.sandbox")
MAX_MODULES_PER_FOLDER = 15
REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Import:
    importer: str
    imported: str  # a module of app/, or the absolute name as written if none matches
    line: int
    type_only: bool  # under `if TYPE_CHECKING:`


@dataclass
class Tree:
    root: Path
    modules: dict[str, Path]  # module name -> file
    packages: set[str]  # modules that are packages (their file is __init__.py)


def find_modules(root: Path) -> Tree:
    modules: dict[str, Path] = {}
    packages: set[str] = set()
    for path in sorted((root / PACKAGE).rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        if any(part.startswith(".") or part == "__pycache__" for part in parts):
            continue
        if parts[-1] == "__init__":
            name = ".".join(parts[:-1])
            packages.add(name)
        else:
            name = ".".join(parts)
        modules[name] = path
    return Tree(root, modules, packages)


def _is_type_checking(test: ast.expr) -> bool:
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


def _import_nodes(
    nodes: Iterable[ast.AST], type_only: bool = False
) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool]]:
    """Every import statement in nodes, with whether it only runs for type checkers."""
    for node in nodes:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node, type_only
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            yield from _import_nodes(node.body, True)
            yield from _import_nodes(node.orelse, type_only)
        elif (
            isinstance(node, ast.If)
            and isinstance(node.test, ast.UnaryOp)
            and isinstance(node.test.op, ast.Not)
            and _is_type_checking(node.test.operand)
        ):
            yield from _import_nodes(node.body, type_only)
            yield from _import_nodes(node.orelse, True)
        else:
            yield from _import_nodes(ast.iter_child_nodes(node), type_only)


def _resolve(tree: Tree, name: str) -> str | None:
    """The module of app/ that importing `name` loads last: the longest known prefix."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in tree.modules:
            return candidate
    return None


def _base_of_relative(tree: Tree, importer: str, level: int) -> str | None:
    package = importer if importer in tree.packages else importer.rpartition(".")[0]
    parts = package.split(".") if package else []
    if level - 1 > len(parts):
        return None
    return ".".join(parts[: len(parts) - (level - 1)])


def imports_of(tree: Tree, module: str, syntax: ast.Module) -> list[Import]:
    found: list[Import] = []

    def add(name: str, line: int, type_only: bool) -> None:
        if name != PACKAGE and not name.startswith(PACKAGE + "."):
            return
        found.append(Import(module, _resolve(tree, name) or name, line, type_only))

    for node, type_only in _import_nodes(syntax.body):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name, node.lineno, type_only)
            continue
        if node.level:
            base = _base_of_relative(tree, module, node.level)
            if base is None:
                continue
            source = ".".join(part for part in (base, node.module or "") if part)
        else:
            source = node.module or ""
        for alias in node.names:
            submodule = f"{source}.{alias.name}" if source else alias.name
            if alias.name != "*" and submodule in tree.modules:
                add(submodule, node.lineno, type_only)  # `from x import y`, y a module
            elif source:
                add(source, node.lineno, type_only)
    return found


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative; each component sorted, components in no set order."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            advanced = False
            for successor in successors:
                if successor not in index:
                    index[successor] = low[successor] = counter
                    counter += 1
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, iter(sorted(graph.get(successor, ())))))
                    advanced = True
                    break
                if successor in on_stack:
                    low[node] = min(low[node], index[successor])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(sorted(component))
    return components


def shortest_cycle(graph: dict[str, set[str]], start: str, members: set[str]) -> list[str]:
    """The shortest chain start -> ... -> start inside members."""
    previous: dict[str, str] = {}
    queue = deque([start])
    seen = {start}
    while queue:
        node = queue.popleft()
        for successor in sorted(graph.get(node, ())):
            if successor == start:
                chain = [node]
                while chain[-1] != start:
                    chain.append(previous[chain[-1]])
                return [*reversed(chain), start]
            if successor in members and successor not in seen:
                seen.add(successor)
                previous[successor] = node
                queue.append(successor)
    return [start, start]


def check(root: Path) -> tuple[list[str], str]:
    """The problems found under root/app, and a one-line summary."""
    tree = find_modules(root)
    problems: list[str] = []
    if not tree.modules:
        return [f"no modules found under {root / PACKAGE}"], ""

    imports: list[Import] = []
    for module, path in tree.modules.items():
        try:
            syntax = ast.parse(path.read_bytes(), filename=str(path))
        except SyntaxError as error:
            problems.append(f"cannot parse {module} ({path}): {error}")
            continue
        imports.extend(imports_of(tree, module, syntax))

    def where(module: str, line: int) -> str:
        return f"{tree.modules[module].relative_to(root).as_posix()}:{line}"

    # 1. Cycles, from the imports that run (not those under `if TYPE_CHECKING:`).
    graph: dict[str, set[str]] = {module: set() for module in tree.modules}
    lines: dict[tuple[str, str], int] = {}
    for item in imports:
        if item.type_only or item.imported not in tree.modules:
            continue
        graph[item.importer].add(item.imported)
        key = (item.importer, item.imported)
        lines[key] = min(lines.get(key, item.line), item.line)
    cycles = 0
    for component in sorted(strongly_connected(graph)):
        start = component[0]
        if len(component) == 1 and start not in graph[start]:
            continue
        cycles += 1
        chain = shortest_cycle(graph, start, set(component))
        steps = " -> ".join(
            f"{importer} ({where(importer, lines[importer, imported])})"
            for importer, imported in pairwise(chain)
        )
        if len(component) == 1:
            problems.append(f"import cycle: {start} imports itself: {steps} -> {start}")
        else:
            problems.append(
                f"import cycle between {len(component)} modules: {', '.join(component)}\n"
                f"    chain: {steps} -> {start}"
            )

    # 2. The core never imports app.ui, app.cli or app.sandbox.
    for item in sorted(imports, key=lambda item: (item.importer, item.line, item.imported)):
        if item.importer != CORE and not item.importer.startswith(CORE + "."):
            continue
        for forbidden in CORE_FORBIDDEN:
            if item.imported == forbidden or item.imported.startswith(forbidden + "."):
                how = " (under TYPE_CHECKING)" if item.type_only else ""
                problems.append(
                    f"{item.importer} imports {item.imported}{how} at "
                    f"{where(item.importer, item.line)}: {CORE} must not import {forbidden}"
                )

    # 3. Folders of at most MAX_MODULES_PER_FOLDER modules.
    folders: dict[Path, list[str]] = {}
    for path in tree.modules.values():
        if path.name != "__init__.py":
            folders.setdefault(path.parent, []).append(path.stem)
    for folder, names in sorted(folders.items()):
        if len(names) > MAX_MODULES_PER_FOLDER:
            problems.append(
                f"{folder.relative_to(root).as_posix()}/ holds {len(names)} modules "
                f"(at most {MAX_MODULES_PER_FOLDER}): {', '.join(sorted(names))}"
            )

    summary = (
        f"check_imports: {len(tree.modules)} modules, {len(imports)} imports of {PACKAGE}, "
        f"{len(folders)} folders: no cycles, {CORE} imports none of "
        f"{', '.join(CORE_FORBIDDEN)}, no folder over {MAX_MODULES_PER_FOLDER} modules"
    )
    return problems, summary


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--root",
        type=Path,
        default=REPO_ROOT,
        help=f"the folder that holds {PACKAGE}/ (default: this repository)",
    )
    args = parser.parse_args(argv)
    problems, summary = check(args.root)
    if problems:
        for problem in problems:
            print(problem)
        print(f"check_imports: {len(problems)} problem(s)")
        return 1
    print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
