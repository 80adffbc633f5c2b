"""The layers of docs/architecture.md, checked on the source: no import cycle, no arrow against the order."""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Logic layers, lowest first: a module may import its own package and the packages before it. `lib` (helpers every
# app shares) is the lowest: any layer may use it, and it imports no portal package.
ORDER = ["lib", "amazon", "accounts", "stores", "authorizations", "sync", "shipping"]
PORTAL = {*ORDER, "sandbox", "config", "api", "webhooks"}
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
                targets = [
                    f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in known else node.module
                    for a in node.names
                ]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            edges[name].update(t for t in targets if t.split(".")[0] in PORTAL and t != name)
    return edges


def is_top(module: str) -> bool:
    parts = module.split(".")
    # The platform API (api/) is a web surface like the views: it sits on top and may import any layer.
    # So are webhooks (webhooks/): they listen to the lower layers' signals, which never import them.
    return (
        parts[0] in ("config", "api", "webhooks") or parts[-1] in TOP or any(p in TOP_PACKAGES for p in parts)
    )


# Size guards against regrowth (not a style rule): a module past 600 lines or a function past 60 is where a
# newcomer loses the thread, so the test names each one. The sandbox imitates Amazon and may grow with it; models
# and settings are read as one table each, so they may stay whole.
MODULE_LINES = 600
FUNCTION_LINES = 60
NOT_SOURCE = {"tests", "bench", "test-output", "node_modules", "__pycache__"}
WHOLE_MODULES = {"config/settings.py"}


def source_files() -> list[Path]:
    """Every Python file of the project outside the tests and the bench (and any hidden folder, such as .venv)."""
    found = []
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT).parts
        if any(p.startswith(".") or p in NOT_SOURCE for p in parts):
            continue
        found.append(path)
    return sorted(found)


def long_modules(files: list[Path], root: Path = ROOT) -> list[str]:
    wrong = []
    for path in files:
        relative = path.relative_to(root)
        if relative.parts[0] == "sandbox" or "migrations" in relative.parts or path.name == "models.py":
            continue
        if str(relative) in WHOLE_MODULES:
            continue
        lines = len(path.read_text().splitlines())
        if lines > MODULE_LINES:
            wrong.append(f"{relative}: {lines} lines")
    return wrong


def long_functions(files: list[Path], root: Path = ROOT) -> list[str]:
    """Functions (methods and nested ones too) measured from `def` to their last line."""
    wrong = []
    for path in files:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.end_lineno is not None:
                lines = node.end_lineno - node.lineno + 1
                if lines > FUNCTION_LINES:
                    wrong.append(f"{path.relative_to(root)}:{node.lineno} {node.name}: {lines} lines")
    return wrong


def test_no_module_outside_the_sandbox_grows_past_600_lines() -> None:
    wrong = long_modules(source_files())
    assert not wrong, f"split these modules by concern (at most {MODULE_LINES} lines each): {wrong}"


def test_no_function_grows_past_60_lines() -> None:
    wrong = long_functions(source_files())
    assert not wrong, f"extract a helper from these functions (at most {FUNCTION_LINES} lines each): {wrong}"


def test_the_size_guards_see_the_whole_project_and_name_what_is_too_long(tmp_path: Path) -> None:
    files = source_files()
    seen = {str(p.relative_to(ROOT)) for p in files}
    assert {"sync/tasks.py", "sandbox/urls.py", "config/settings.py", "manage.py"} <= seen
    assert not [p for p in seen if p.startswith(("tests/", "bench/", ".venv/"))]
    long = tmp_path / "long.py"
    long.write_text("def grown():\n" + "    x = 1\n" * FUNCTION_LINES + "\n" * MODULE_LINES)
    short = tmp_path / "short.py"
    short.write_text("def fine():\n" + "    x = 1\n" * (FUNCTION_LINES - 1))
    assert long_modules([long, short], tmp_path) == [f"long.py: {FUNCTION_LINES + 1 + MODULE_LINES} lines"]
    assert long_functions([long, short], tmp_path) == [f"long.py:1 grown: {FUNCTION_LINES + 1} lines"]


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


def test_the_amazon_layer_has_no_models_and_the_sandbox_shares_only_amazons_reference_data() -> None:
    assert not (ROOT / "amazon" / "models.py").exists()
    # Amazon's own tables (marketplaces, carrier codes), which the sandbox plays Amazon with.
    for module, targets in imports().items():
        if module.startswith("sandbox."):
            assert {t for t in targets if not t.startswith("sandbox")} <= {
                "amazon.marketplaces",
                "amazon.carriers",
            }, module


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
