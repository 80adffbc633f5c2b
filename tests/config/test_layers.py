"""The layers of docs/architecture.md, checked on the source: no import cycle, no arrow against the order."""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Logic layers, lowest first: a module may import its own package and the packages before it. `lib` (helpers every
# app shares) is the lowest: any layer may use it, and it imports no portal package.
ORDER = ["lib", "amazon", "accounts", "stores", "authorizations", "sync"]
PORTAL = {*ORDER, "sandbox", "config"}
# Modules on top of the layers (they may import any layer): the web and admin surface, and app wiring.
TOP = ("views", "admin", "urls", "forms", "context_processors", "apps", "checks")
TOP_PACKAGES = ("templatetags", "management")


def modules() -> dict[str, Path]:
    found = {}
    for package in PORTAL:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


def imports() -> dict[str, set[str]]:
    """Module → the portal modules it imports anywhere in its body (also inside functions)."""
    known = modules()
    edges: dict[str, set[str]] = defaultdict(set)
    for name, path in known.items():
        for node in ast.walk(ast.parse(path.read_text())):
            targets: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in known else node.module for a in node.names]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            edges[name].update(t for t in targets if t.split(".")[0] in PORTAL and t != name)
    return edges


def is_top(module: str) -> bool:
    parts = module.split(".")
    return parts[0] == "config" or parts[-1] in TOP or any(p in TOP_PACKAGES for p in parts)


def test_there_is_no_import_cycle_between_modules() -> None:
    edges = imports()
    seen: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> None:
        seen[m] = 1
        stack.append(m)
        for n in edges.get(m, ()):
            assert seen.get(n) != 1, "import cycle: " + " → ".join([*stack[stack.index(n) :], n])
            if n not in seen:
                visit(n)
        stack.pop()
        seen[m] = 2

    for m in list(edges):
        if m not in seen:
            visit(m)


def test_logic_modules_import_only_lower_layers() -> None:
    wrong = []
    for module, targets in imports().items():
        package = module.split(".")[0]
        if package not in ORDER or is_top(module):
            continue
        allowed = set(ORDER[: ORDER.index(package) + 1])
        wrong += [f"{module} → {t}" for t in targets if t.split(".")[0] not in allowed]
    assert not wrong, wrong


def test_the_amazon_layer_has_no_models_and_the_sandbox_shares_only_marketplace_data() -> None:
    assert not (ROOT / "amazon" / "models.py").exists()
    for module, targets in imports().items():
        if module.startswith("sandbox."):
            assert {t for t in targets if not t.startswith("sandbox")} <= {"amazon.marketplaces"}, module


def test_lib_imports_only_django_and_the_standard_library() -> None:
    wrong = []
    for path in (ROOT / "lib").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            outside = {n.split(".")[0] for n in names} - {"django", "lib"} - sys.stdlib_module_names
            wrong += [f"{path.relative_to(ROOT)} → {t}" for t in sorted(outside)]
    assert not wrong, wrong
