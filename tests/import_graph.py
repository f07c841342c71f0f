"""The import graph of the ``studio`` package, read with ``ast`` (no module is imported).

Every import counts, those inside functions too; relative imports are resolved
against the importing module, and ``from package import name`` counts as an
import of ``package.name`` when that is a module. Used by tests/test_import_graph.py;
``python tests/import_graph.py`` prints the cycles and the adapter edges.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "studio"


def module_name(path: Path, root: Path = ROOT) -> str:
    """``studio/ui/app.py`` -> ``studio.ui.app``; a package's ``__init__.py`` -> the package."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules(package: Path = PACKAGE) -> dict[str, Path]:
    """Every module of ``package`` (a folder) by dotted name."""
    return {module_name(p, package.parent): p for p in sorted(package.rglob("*.py"))}


def _resolve(importer: str, is_package: bool, level: int, module: str | None) -> str:
    base = importer.split(".")
    if not is_package:
        base = base[:-1]
    if level > 1:
        base = base[: len(base) - (level - 1)]
    return ".".join([*base, *([module] if module else [])])


def _is_type_checking(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and (
        (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
        or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")
    )


def _runtime_nodes(tree: ast.AST):
    """Every node, except the bodies of ``if TYPE_CHECKING:`` (imports for annotations only, never run)."""
    todo = [tree]
    while todo:
        node = todo.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if _is_type_checking(child):
                todo.extend(child.orelse)
            else:
                todo.append(child)


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The studio modules ``name`` imports (anywhere in the file)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in _runtime_nodes(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(name, is_package, node.level, node.module) if node.level else (node.module or "")
            names = [f"{base}.{alias.name}" for alias in node.names]
            # ``from pkg import mod`` imports pkg.mod; pkg itself only when some name is not a module of it.
            targets = names + ([base] if any(n not in known for n in names) else [])
        else:
            continue
        for target in targets:
            # ``import a.b.c`` runs a, a.b and a.b.c; the deepest studio module is the edge that matters.
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def graph(package: Path = PACKAGE) -> dict[str, set[str]]:
    """Module -> the studio modules it imports.

    Importing ``a.b.c`` also runs the packages ``a`` and ``a.b``; those implicit
    edges to a module's own parent packages are left out (a package's
    ``__init__`` is what makes them matter, and its own imports are edges).
    """
    mods = modules(package)
    known = set(mods)
    return {name: imports_of(name, path, known) for name, path in mods.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def cycle_path(edges: dict[str, set[str]], component: list[str]) -> list[str]:
    """One closed path through ``component`` (for a readable failure message)."""
    members = set(component)
    start = component[0]
    prev: dict[str, str] = {}
    todo = [start]
    while todo:
        v = todo.pop(0)
        for w in sorted(edges[v] & members):
            if w == start:
                path = [v]
                while path[-1] != start:
                    path.append(prev[path[-1]])
                return [start, *reversed(path[:-1]), start] if len(path) > 1 else [start, v, start]
            if w not in prev:
                prev[w] = v
                todo.append(w)
    return component


#: The adapters: each turns the engine into one kind of front end; none imports another, except that
#: the launchers (desktop, space) compose the UI and the HTTP API. Nothing imports a launcher.
ADAPTERS = {
    "ui": lambda m: m == "studio.ui" or m.startswith("studio.ui."),
    "api": lambda m: m == "studio.api" or m.startswith("studio.api."),
    "cli": lambda m: (
        (m.startswith("studio.cli") and "." not in m[len("studio.") :])
        or m in ("studio.__main__", "studio.dubbing.cli", "studio.redub_cli", "studio.finetune.cli")
    ),
    "desktop": lambda m: m == "studio.desktop",
    "space": lambda m: m == "studio.space",
}


def adapter_of(module: str) -> str | None:
    """Which adapter ``module`` belongs to, or None for the engine and its helpers."""
    return next((kind for kind, test in ADAPTERS.items() if test(module)), None)


LAUNCHERS = ("desktop", "space")


def adapter_edges(edges: dict[str, set[str]]) -> list[tuple[str, str]]:
    """Imports of an adapter by another adapter or by the engine (a launcher may import the UI and the HTTP API)."""
    bad = []
    for src, targets in sorted(edges.items()):
        kind = adapter_of(src)
        for dst in sorted(targets):
            other = adapter_of(dst)
            if not other or other == kind:
                continue
            if other in LAUNCHERS or kind not in LAUNCHERS:  # kind None: the engine imports no adapter either
                bad.append((src, dst))
    return bad


if __name__ == "__main__":
    g = graph()
    for component in cycles(g):
        print(f"cycle ({len(component)} modules): {' -> '.join(cycle_path(g, component))}")
        print(f"   members: {', '.join(component)}")
    for src, dst in adapter_edges(g):
        print(f"adapter edge: {src} -> {dst}")
