"""The dependency rule, written once: a module imports only from its own package or from a layer below.

docs/architecture.md explains the layers; this test is what keeps them true.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Lowest first. Packages on one line are peers: neither may import the other.
LAYERS: list[set[str]] = [
    {"core"},
    {"collectors", "nlp"},
    {"index"},
    {"alerts", "crm", "replies"},
    {"ecoute"},
    {"api", "dashboard"},
    {"ecoute.cli"},
    {"ecoute.__main__"},
]
PACKAGES = {"core", "collectors", "nlp", "index", "alerts", "crm", "replies", "ecoute", "api", "dashboard"}
# nlp/ stays pure: of core it may use the shared types and helpers, not the network or signing code.
NLP_MAY_USE = {"core.documents", "core.errors", "core.config", "core.names", "core.text", "core.progress"}


def unit(module: str) -> str:
    """The layer table entry a dotted module name belongs to (the longest one that prefixes it)."""
    named = [u for layer in LAYERS for u in layer if module == u or module.startswith(u + ".")]
    return max(named, key=len)


def level(module: str) -> int:
    name = unit(module)
    return next(i for i, layer in enumerate(LAYERS) if name in layer)


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path: Path) -> list[tuple[int, str]]:
    """Every Écoute module a file imports, at any depth (inside functions too), with its line."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
            # `from core import documents` imports core.documents
            found += [(node.lineno, f"{node.module}.{a.name}") for a in node.names]
    return [(line, m) for line, m in found if m.split(".")[0] in PACKAGES]


def sources(root: Path) -> list[Path]:
    return sorted(p for package in PACKAGES for p in (root / package).rglob("*.py"))


def _pure(module: str) -> bool:
    return any(module == m or module.startswith(m + ".") for m in NLP_MAY_USE)


def violations(root: Path = ROOT) -> list[str]:
    found = []
    for path in sources(root):
        here = module_name(path, root)
        for line, target in imports(path):
            where = f"{path.relative_to(root)}:{line} imports {target}"
            if unit(target) == unit(here):
                continue
            if level(target) > level(here):
                found.append(f"{where}: a layer above {unit(here)}")
            elif level(target) == level(here):
                found.append(f"{where}: a peer of {unit(here)}")
            elif unit(here) == "nlp" and target != "core" and not _pure(target):
                found.append(f"{where}: nlp/ uses only core's types and pure helpers")
    return found


def test_no_module_imports_from_a_layer_above_it() -> None:
    assert violations() == []


def test_the_rule_catches_an_upward_import(tmp_path: Path) -> None:
    """The check itself works: a core module importing the engine, and nlp/ reaching the network code,
    are each reported with their line."""
    (tmp_path / "core").mkdir()
    (tmp_path / "core" / "bad.py").write_text("import os\n\nfrom ecoute.engine import Engine\n")
    (tmp_path / "nlp").mkdir()
    (tmp_path / "nlp" / "net.py").write_text("def f():\n    from core.outbound import guarded_client\n")
    (tmp_path / "collectors").mkdir()
    (tmp_path / "collectors" / "peer.py").write_text("from nlp.pipeline import Pipeline\n")
    found = violations(tmp_path)
    assert "core/bad.py:3 imports ecoute.engine: a layer above core" in found
    assert "nlp/net.py:2 imports core.outbound: nlp/ uses only core's types and pure helpers" in found
    assert "collectors/peer.py:1 imports nlp.pipeline: a peer of collectors" in found


def test_every_package_is_in_a_layer() -> None:
    on_disk = {p.parent.name for p in ROOT.glob("*/__init__.py")} - {"tests", "benchmarks"}
    assert on_disk <= PACKAGES | {"samples"}, on_disk - PACKAGES
