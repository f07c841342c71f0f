"""The package's import graph: no cycle, no adapter importing another, a light ``--help``."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from tests import import_graph
from tests.helpers import ROOT


def _write(root, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")


def test_the_graph_sees_function_level_relative_and_from_package_imports(tmp_path):
    _write(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/a.py": "def f():\n    from .sub import b\n",
            "pkg/sub/__init__.py": "from .b import thing\n",
            "pkg/sub/b.py": "import pkg.c\nthing = 1\n",
            "pkg/c.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from . import a\n",
        },
    )
    edges = import_graph.graph(tmp_path / "pkg")
    assert edges["pkg.a"] == {"pkg.sub.b"}  # function-level, relative, ``from package import module``
    assert edges["pkg.sub"] == {"pkg.sub.b"}
    assert edges["pkg.sub.b"] == {"pkg.c"}
    assert edges["pkg.c"] == set()  # annotations-only imports are not run
    assert import_graph.cycles(edges) == []


def test_a_cycle_through_a_function_level_import_is_found(tmp_path):
    _write(
        tmp_path,
        {"pkg/__init__.py": "", "pkg/a.py": "from . import b\n", "pkg/b.py": "def f():\n    from .a import x\n"},
    )
    edges = import_graph.graph(tmp_path / "pkg")
    assert import_graph.cycles(edges) == [["pkg.a", "pkg.b"]]
    assert import_graph.cycle_path(edges, ["pkg.a", "pkg.b"]) == ["pkg.a", "pkg.b", "pkg.a"]


def test_adapter_rules():
    edges = {
        "studio.ui.app": {"studio.engine", "studio.api.server"},  # UI -> HTTP: refused
        "studio.desktop": {"studio.ui.app", "studio.api"},  # a launcher composes them: allowed
        "studio.ui.common": {"studio.space"},  # nothing imports a launcher
        "studio.engine": {"studio.cli"},  # the engine imports no adapter
        "studio.dubbing.cli": {"studio.cli"},  # same adapter: allowed
    }
    assert import_graph.adapter_edges(edges) == [
        ("studio.engine", "studio.cli"),
        ("studio.ui.app", "studio.api.server"),
        ("studio.ui.common", "studio.space"),
    ]


def test_studio_has_no_import_cycle():
    edges = import_graph.graph()
    found = []
    for component in import_graph.cycles(edges):
        inside = [f"  {a} -> {b}" for a in component for b in sorted(edges[a] & set(component))]
        found.append(" -> ".join(import_graph.cycle_path(edges, component)) + ", through:\n" + "\n".join(inside))
    assert not found, "import cycles in studio/:\n" + "\n".join(found)


def test_no_adapter_imports_another_adapter():
    bad = [f"{src} -> {dst}" for src, dst in import_graph.adapter_edges(import_graph.graph())]
    assert not bad, "adapter imports another adapter:\n" + "\n".join(bad)


def test_help_imports_no_web_or_model_library():
    code = (
        "import contextlib, io, json, sys\n"
        "from studio.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
        "    main(['--help'])\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('fastapi', 'starlette', 'uvicorn', 'gradio', 'torch', 'qwen_tts', 'transformers'))))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True, timeout=120
    )
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
    # The same through the module entry point, as a user runs it.
    shown = subprocess.run(
        [sys.executable, "-m", "studio", "--help"], cwd=ROOT, capture_output=True, text=True, check=True, timeout=120
    )
    assert "serve" in shown.stdout and "clone" in shown.stdout


def test_no_test_module_imports_conftest():
    """Shared helpers live in tests/helpers.py: importing conftest as a module would run its setup twice."""
    import ast

    offenders = []
    for path in sorted((ROOT / "tests").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""] + [f"{node.module}.{a.name}" for a in node.names]
            if any(n.split(".")[-1] == "conftest" for n in names):
                offenders.append(path.name)
    assert len(list((ROOT / "tests").glob("test_*.py"))) > 50
    assert offenders == []
