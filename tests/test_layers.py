"""The folders tell the truth: imports point one way, and SQL lives in the store and the services.

web → services → store, with ingest and export as packages of their own that
use the services; the small pure modules (catalog, periods, …) sit below
everything; `auth` stands apart and never reaches into the atlas. A lower
layer importing a higher one fails here, naming the file and the import.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PURE = {"atlas.config", "atlas.catalog", "atlas.periods", "atlas.formatting", "atlas.messages", "atlas.classify",
        "atlas.i18n", "atlas.clock", "atlas.charts", "atlas.text_match"}

# What each layer may import (besides itself and the standard/third-party libraries).
ALLOWED = {
    "auth": {"auth"},
    "pure": {"pure", "auth"},
    "store": {"pure"},
    "services": {"store", "pure", "auth"},
    "ingest": {"services", "store", "pure", "auth"},
    "export": {"services", "store", "pure", "auth"},
    "demo": {"services", "store", "pure", "auth"},
    "web": {"export", "ingest", "demo", "services", "store", "pure", "auth"},
    "cli": {"export", "ingest", "demo", "services", "store", "pure", "auth"},
}


def layer_of(module: str) -> str | None:
    """The layer a dotted module name belongs to; None for anything outside the project."""
    if module == "auth" or module.startswith("auth."):
        return "auth"
    if not module.startswith("atlas"):
        return None
    if module in PURE:
        return "pure"
    parts = module.split(".")
    if len(parts) == 1:
        return "pure"  # `import atlas` itself
    return {"store": "store", "services": "services", "ingest": "ingest", "export": "export",
            "web": "web", "demo": "demo", "demo_county": "demo", "__main__": "cli"}.get(parts[1], "unknown")


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _type_checking_block(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def imports_of(path: Path) -> list[tuple[int, str]]:
    """Every module imported anywhere in the file (functions included), except type-only imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = {id(n) for block in ast.walk(tree) if _type_checking_block(block) for n in ast.walk(block)}
    found = []
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
            # `from atlas import demo` names a module, not just a package
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names
                      if (ROOT / Path(*node.module.split("."), alias.name)).with_suffix(".py").exists()]
    return found


SOURCES = sorted(p for folder in ("atlas", "auth") for p in (ROOT / folder).rglob("*.py"))


def test_every_module_has_a_known_layer():
    unknown = [module_name(p) for p in SOURCES if layer_of(module_name(p)) in (None, "unknown")]
    assert unknown == [], f"modules outside every layer (add them to a layer package): {unknown}"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_point_down(path):
    own = layer_of(module_name(path))
    wrong = []
    for line, target in imports_of(path):
        theirs = layer_of(target)
        if theirs is None or theirs == own or theirs in ALLOWED[own]:
            continue
        wrong.append(f"{path.relative_to(ROOT)}:{line} ({own}) imports {target} ({theirs})")
    assert wrong == []


SQL_ALLOWED = {"store", "services"}


def store_queries(tree: ast.AST) -> list[int]:
    """Lines calling `<…store…>.query/sql(…)` (a spatial index's `.query` is not SQL)."""
    return [n.lineno for n in ast.walk(tree)
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in ("query", "sql")
            and ("store" in ast.unparse(n.func.value) or "tx" in ast.unparse(n.func.value))]


@pytest.mark.parametrize("path", [p for p in SOURCES if layer_of(module_name(p)) not in SQL_ALLOWED | {"auth"}],
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_no_sql_outside_the_store_and_the_services(path):
    """Store queries and DuckDB belong to the store and the services (writing a GeoPackage's own
    SQLite tables in the export is file format, not a store query)."""
    calls = store_queries(ast.parse(path.read_text(encoding="utf-8")))
    duckdb = [line for line, target in imports_of(path) if target.split(".")[0] == "duckdb"]
    assert calls + duckdb == [], f"{path.relative_to(ROOT)} runs SQL at line(s) {calls + duckdb}: ask a service"


def test_the_sql_rule_sees_a_store_query(tmp_path):
    tree = ast.parse("def f(atlas, tree):\n    tree.query(1)\n    return atlas.store.query('SELECT 1')\n")
    assert store_queries(tree) == [3]


def test_the_rule_catches_an_upward_import(tmp_path):
    """The check itself can fail: a store module importing the web layer is flagged."""
    fake = ROOT / "atlas" / "store" / "_layer_probe.py"
    fake.write_text("from atlas.web.http import current_atlas\n")
    try:
        found = [(layer_of(t), t) for _, t in imports_of(fake)]
    finally:
        fake.unlink()
    assert ("web", "atlas.web.http") in found
    assert "web" not in ALLOWED["store"]
