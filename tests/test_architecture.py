"""The layers of kefu (README "Architecture"), checked on every import in src/kefu — also the
ones inside functions: web → API → flows → domains → engine → core, never the other way, and no
two domains importing each other."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
ENGINE = ("text", "rulebook", "inspection")  # the offline inspection engine, lowest first
ABOVE_DOMAINS = frozenset({"flows", "overviews", "dataio", "demo", "models"})
TOP = frozenset({"http", "web", "cli", "__main__"})


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports() -> dict[str, set[str]]:
    """Every kefu module → the kefu modules it imports."""
    found: dict[str, set[str]] = defaultdict(set)
    for path in sorted((SRC / "kefu").rglob("*.py")):
        name = module_name(path)
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found[name].update(alias.name for alias in node.names if alias.name.startswith("kefu"))
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # from . import x, from ..y import z
                    parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*parent, base]).strip(".")
                if base.startswith("kefu"):
                    found[name].add(base)
                    found[name].update(f"{base}.{alias.name}" for alias in node.names)
        found.setdefault(name, set())
    return found


def top(module: str) -> str:
    """The package a module belongs to: ``kefu.calls.service`` → ``calls``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def is_api(module: str) -> bool:
    """A domain's HTTP layer: ``<domain>/api.py`` or a module of ``<domain>/api/``."""
    return "api" in module.split(".")[2:] or module.endswith("_api")


def layer(module: str) -> str:
    package = top(module)
    if package == "core":
        return "core"
    if package in ENGINE:
        return "engine"
    if package in TOP:
        return package
    if is_api(module):
        return "api"
    if package in ABOVE_DOMAINS:
        return "flows"
    return "domain"


# What each layer may import (besides itself and its own package).
ALLOWED = {
    "core": {"core"},
    "engine": {"core", "engine"},
    "domain": {"core", "engine", "domain"},
    "flows": {"core", "engine", "domain", "flows"},
    "http": {"core", "engine", "domain", "http"},
    "api": {"core", "engine", "domain", "flows", "http", "api"},
    "web": {"core", "engine", "domain", "flows", "http", "api", "web"},
    "cli": {"core", "engine", "domain", "flows", "http", "api", "web", "cli"},
    "__main__": {"cli"},
}


def known(graph: dict[str, set[str]], module: str) -> str | None:
    """``module`` or the longest module of the graph it is a name inside of (``from x import y``)."""
    while module and module not in graph:
        module = module.rpartition(".")[0]
    return module or None


# Alembic's environment is run by Alembic, never imported: it needs every domain's tables; and
# so is the migration that fills the knowledge search index with the articles' segmented text.
EXEMPT = {
    ("kefu.core.migrations.env", "kefu.models"),
    ("kefu.core.migrations.versions.0009_knowledge_search", "kefu.knowledge.search"),
}


def test_every_import_goes_down_the_layers() -> None:
    graph = imports()
    wrong = []
    for module, targets in graph.items():
        for target in {known(graph, t) for t in targets} - {None, "kefu"}:
            assert target is not None
            if top(target) == top(module) or (module, target) in EXEMPT:
                continue
            if layer(target) not in ALLOWED[layer(module)]:
                wrong.append(f"{module} ({layer(module)}) imports {target} ({layer(target)})")
    assert not wrong, "\n".join(sorted(wrong))


def test_the_engine_goes_one_way() -> None:
    """text ← rulebook ← inspection: the rulebook never needs the engine that runs it."""
    graph = imports()
    wrong = []
    for module, targets in graph.items():
        if top(module) not in ENGINE:
            continue
        for target in {known(graph, t) for t in targets} - {None}:
            assert target is not None
            if top(target) in ENGINE and ENGINE.index(top(target)) > ENGINE.index(top(module)):
                wrong.append(f"{module} imports {target}")
    assert not wrong, "\n".join(sorted(wrong))


def test_no_two_domains_import_each_other() -> None:
    graph = imports()
    edges: dict[str, set[str]] = defaultdict(set)
    for module, targets in graph.items():
        if layer(module) != "domain":
            continue
        for target in {known(graph, t) for t in targets} - {None}:
            assert target is not None
            if layer(target) == "domain" and top(target) != top(module):
                edges[top(module)].add(top(target))
    cycles = sorted(f"{a} ↔ {b}" for a in edges for b in edges[a] if a < b and a in edges.get(b, set()))
    assert not cycles, cycles
    # …nor in a longer loop
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                pytest.fail("domains import each other in a loop: " + " → ".join([*path, node, nxt]))
            if nxt not in state:
                visit(nxt, [*path, node])
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node, [])


def test_the_checker_sees_a_wrong_import(tmp_path: Path) -> None:
    """The checks above are only worth something if they see lazy imports too."""
    source = "def f():\n    from kefu.web.app import create_app\n"
    tree = ast.parse(source)
    seen = [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    assert seen == ["kefu.web.app"] and layer("kefu.calls.service") == "domain" and layer("kefu.calls.api") == "api"
    assert "web" not in ALLOWED["domain"] and "flows" not in ALLOWED["domain"]
