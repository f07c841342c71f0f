"""The public surface, pinned: the Gradio API (as gradio_client sees it), every CLI flag, every HTTP route.

Each surface is collected into plain JSON and compared with the file under
``tests/data/surface/``. A refactoring must leave them equal; a deliberate
change regenerates them with ``UPDATE_SURFACE_PINS=1 python -m pytest tests/test_surface_pins.py``
(or ``python tests/test_surface_pins.py``) and shows up in the diff.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path

import pytest

PINS = Path(__file__).resolve().parent / "data" / "surface"


def _plain(value, home: str = ""):
    """``value`` as JSON-safe data; paths under the studio home become ``<home>``."""
    if isinstance(value, dict):
        return {str(k): _plain(v, home) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [_plain(v, home) for v in value]
        return sorted(items, key=repr) if isinstance(value, set | frozenset) else items
    if value is None or isinstance(value, bool | int | float):
        return value
    text = str(value)
    return text.replace(home, "<home>") if home else text


def _label(value):
    """A component's label; Gradio names an unlabelled one after its id (``value_206``), which depends on
    how many components the process built before, so the number is left out."""
    return re.sub(r"^value_\d+$", "value_<id>", value) if isinstance(value, str) else value


def gradio_surface(home: str) -> dict:
    """Named endpoints of the UI: each parameter's name, label, component, type and default; each return."""
    from studio.api.server import serve_in_thread
    from studio.ui.app import build_app

    info = build_app(serve_api=serve_in_thread).get_api_info()  # as the desktop builds it: the API switch included
    out = {}
    for name, endpoint in sorted(info["named_endpoints"].items()):
        out[name] = {
            "parameters": [
                {
                    "name": p.get("parameter_name"),
                    "label": _label(p.get("label")),
                    "component": p.get("component"),
                    "type": p.get("python_type", {}).get("type"),
                    "has_default": p.get("parameter_has_default"),
                    "default": _plain(p.get("parameter_default"), home),
                }
                for p in endpoint["parameters"]
            ],
            "returns": [
                {
                    "label": _label(r.get("label")),
                    "component": r.get("component"),
                    "type": r.get("python_type", {}).get("type"),
                }
                for r in endpoint["returns"]
            ],
        }
    return {"named": out, "unnamed": len(info["unnamed_endpoints"])}


def _actions(parser: argparse.ArgumentParser, home: str) -> dict:
    """Every option and positional of ``parser``, with its subcommands walked recursively."""
    out: dict = {"options": [], "commands": {}}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            out["subcommands_dest"] = action.dest
            out["subcommands_required"] = action.required
            for name, sub in sorted(action.choices.items()):
                out["commands"][name] = _actions(sub, home)
            continue
        if isinstance(action, argparse._HelpAction):
            continue
        out["options"].append(
            {
                "flags": list(action.option_strings),
                "dest": action.dest,
                "action": type(action).__name__,
                "nargs": _plain(action.nargs),
                "choices": _plain(list(action.choices), home) if action.choices is not None else None,
                "default": _plain(action.default, home),
                "const": _plain(action.const, home),
                "required": action.required,
                "type": getattr(action.type, "__name__", None) if action.type is not None else None,
            }
        )
    return out


def cli_surface(home: str) -> dict:
    """The ``python -m studio`` parser: every subcommand and flag."""
    from studio.cli import build_parser

    return _actions(build_parser(), home)


def http_surface(home: str) -> dict:
    """Every HTTP route: method, path, parameters, request body, responses (status, media type, schema)."""
    from studio.api.app import create_api
    from studio.engine import Engine
    from studio.models import ModelManager

    app = create_api(Engine(ModelManager()))
    schema = app.openapi()
    routes = {}
    for path, methods in sorted(schema["paths"].items()):
        for method, op in sorted(methods.items()):
            body = op.get("requestBody", {})
            routes[f"{method.upper()} {path}"] = {
                "operation": op.get("operationId"),
                "tags": op.get("tags", []),
                "parameters": [
                    {"name": p["name"], "in": p["in"], "required": p.get("required", False), "schema": p.get("schema")}
                    for p in op.get("parameters", [])
                ],
                "body": {k: v.get("schema") for k, v in body.get("content", {}).items()},
                "body_required": body.get("required", False),
                "responses": {
                    status: {k: v.get("schema") for k, v in (r.get("content") or {}).items()}
                    for status, r in sorted(op.get("responses", {}).items())
                },
            }
    others = sorted(
        f"{','.join(sorted(getattr(r, 'methods', None) or []))} {r.path}"
        for r in app.routes
        if getattr(r, "include_in_schema", True) is False
    )
    components = {
        name: {k: v for k, v in s.items() if k != "description"}
        for name, s in sorted(schema.get("components", {}).get("schemas", {}).items())
    }
    return {"routes": _plain(routes, home), "hidden": others, "schemas": _plain(components, home)}


SURFACES = {"gradio": gradio_surface, "cli": cli_surface, "http": http_surface}


def _collect(name: str) -> dict:
    home = os.environ.get("STUDIO_HOME", "")
    return json.loads(json.dumps(SURFACES[name](home)))


def _write(name: str, data: dict) -> None:
    PINS.mkdir(parents=True, exist_ok=True)
    (PINS / f"{name}.json").write_text(json.dumps(data, indent=1, ensure_ascii=False, sort_keys=True) + "\n")


@pytest.fixture
def pinned_env(studio_home, monkeypatch):
    """A fresh home, English, no remote engine and no model override: the surface every user starts from."""
    for name in list(os.environ):
        if name.startswith("STUDIO_") and name != "STUDIO_HOME":
            monkeypatch.delenv(name)
    return studio_home


@pytest.mark.parametrize("name", sorted(SURFACES))
def test_surface_is_unchanged(name, pinned_env):
    data = _collect(name)
    if os.environ.get("UPDATE_SURFACE_PINS") == "1":
        _write(name, data)
    pinned = json.loads((PINS / f"{name}.json").read_text())
    assert data == pinned, f"the {name} surface changed; if deliberate, regenerate with UPDATE_SURFACE_PINS=1"


if __name__ == "__main__":  # regenerate the pins in a fresh, empty home
    import tempfile

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    for var in [v for v in os.environ if v.startswith("STUDIO_")]:
        del os.environ[var]
    os.environ["STUDIO_HOME"] = tempfile.mkdtemp(prefix="studio-home-")
    for surface in SURFACES:
        _write(surface, _collect(surface))
