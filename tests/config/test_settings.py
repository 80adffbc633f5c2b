from __future__ import annotations

import ast
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_check(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "DEBUG",
            "SECRET_KEY",
            "ALLOWED_HOSTS",
            "TOKEN_ENCRYPTION_KEYS",
            "SANDBOX_ENABLED",
            "AMAZON_USE_SANDBOX",
        }
    }
    clean.update({"DJANGO_READ_DOT_ENV": "0", "DATABASE_URL": "sqlite:///:memory:"})
    clean.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


PROD = {
    "DEBUG": "false",
    "SECRET_KEY": "x" * 60,
    "ALLOWED_HOSTS": "portal.example.com",
    "TOKEN_ENCRYPTION_KEYS": "ZGV2LW9ubHktaW5zZWN1cmUtZmVybmV0LWtleS0zMmI=",
    "SPAPI_ORDERS_APP_ID": "a",
    "SPAPI_ORDERS_CLIENT_ID": "b",
    "SPAPI_ORDERS_CLIENT_SECRET": "c",
    "SPAPI_LISTINGS_APP_ID": "a",
    "SPAPI_LISTINGS_CLIENT_ID": "b",
    "SPAPI_LISTINGS_CLIENT_SECRET": "c",
    "ADS_CLIENT_ID": "d",
    "ADS_CLIENT_SECRET": "e",
    "PUBLIC_BASE_URL": "https://portal.example.com",
}


def test_production_settings_with_every_secret_pass_the_checks() -> None:
    r = run_check(**PROD)
    assert r.returncode == 0, r.stderr


def test_production_refuses_to_start_without_each_required_secret() -> None:
    for name in ("SECRET_KEY", "ALLOWED_HOSTS", "TOKEN_ENCRYPTION_KEYS", "PUBLIC_BASE_URL"):
        env = dict(PROD)
        env.pop(name)
        r = run_check(**env)
        assert r.returncode != 0
        assert f"{name} is not set" in r.stderr


def test_production_without_amazon_credentials_fails_the_system_check() -> None:
    env = {k: v for k, v in PROD.items() if not k.startswith(("SPAPI_ORDERS", "ADS_"))}
    r = run_check(**env)
    assert r.returncode != 0
    assert "authorizations.E001" in r.stderr
    assert "authorizations.E002" in r.stderr


def test_the_sandbox_in_production_needs_an_explicit_allowance() -> None:
    r = run_check(**PROD, SANDBOX_ENABLED="true")
    assert r.returncode != 0
    assert "authorizations.E003" in r.stderr
    r = run_check(**PROD, SANDBOX_ENABLED="true", SANDBOX_ALLOWED_IN_PRODUCTION="true")
    assert r.returncode == 0, r.stderr


def test_development_starts_with_no_secrets_set() -> None:
    r = run_check(DEBUG="true")
    assert r.returncode == 0, r.stderr


def test_production_refuses_an_http_public_base_url() -> None:
    r = run_check(**{**PROD, "PUBLIC_BASE_URL": "http://portal.example.com"})
    assert r.returncode != 0
    assert "PUBLIC_BASE_URL" in r.stderr


# --- .env.example explains every setting that config/settings.py reads ---

SETTINGS_PY = ROOT / "config" / "settings.py"
ENV_EXAMPLE = ROOT / ".env.example"
# Read by boto3 itself (its usual environment variables), not by config/settings.py; .env.example explains them
# beside the notification queue.
READ_BY_BOTO3 = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}
ASSIGNMENT = re.compile(r"^#?\s*([A-Z][A-Z0-9_]*)=")


def _is_env_reader(func: ast.expr) -> bool:
    # env("X"), env.str("X"), env.bool("X"), … (django-environ), os.environ.get("X"), os.getenv("X")
    if isinstance(func, ast.Name):
        return func.id == "env"
    if isinstance(func, ast.Attribute):
        if isinstance(func.value, ast.Name) and func.value.id == "env":
            return func.attr != "read_env"  # loads .env into the environment; reads no setting
        if ast.unparse(func) in {"os.environ.get", "os.getenv", "os.environ.setdefault"}:
            return True
    return False


def settings_read(source: str) -> set[str]:
    """Every variable name the settings module reads from the environment.

    A module-level helper that passes its first parameter to env (`_required_in_production(name, …)`) counts as a
    reader too. A read whose name is neither a literal nor such a parameter is an error: the test could not tell
    which setting it is.
    """
    tree = ast.parse(source)
    helpers: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.args.args:
            first = node.args.args[0].arg
            for call in ast.walk(node):
                if (
                    isinstance(call, ast.Call)
                    and _is_env_reader(call.func)
                    and call.args
                    and isinstance(call.args[0], ast.Name)
                    and call.args[0].id == first
                ):
                    helpers.add(node.name)
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript) and ast.unparse(node.value) == "os.environ":
            key = node.slice
        elif isinstance(node, ast.Call) and (
            _is_env_reader(node.func) or (isinstance(node.func, ast.Name) and node.func.id in helpers)
        ):
            if not node.args:
                continue
            key = node.args[0]
            if isinstance(key, ast.Name) and any(
                isinstance(f, ast.FunctionDef) and f.name in helpers and key.id == f.args.args[0].arg
                for f in tree.body
            ):
                continue  # the helper's own read of its parameter
        else:
            continue
        if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
            raise AssertionError(f"line {node.lineno}: a setting read under a name that is not a literal")
        names.add(key.value)
    # DJANGO_SETTINGS_MODULE is Django's own, set by manage.py/wsgi.py, never by an operator.
    names.discard("DJANGO_SETTINGS_MODULE")
    return names


def explained(example: str) -> set[str]:
    """Names assigned in .env.example (`NAME=…`, or `# NAME=…` for one left unset) with a prose comment above
    them in the same paragraph."""
    names: set[str] = set()
    prose = False
    for line in example.splitlines():
        stripped = line.strip()
        if not stripped:
            prose = False
            continue
        match = ASSIGNMENT.match(stripped)
        if match:
            if prose:
                names.add(match.group(1))
        elif stripped.startswith("#"):
            prose = True
    return names


def documented(example: str) -> set[str]:
    return {m.group(1) for line in example.splitlines() if (m := ASSIGNMENT.match(line.strip()))}


def test_env_example_explains_every_setting_that_settings_reads() -> None:
    read = settings_read(SETTINGS_PY.read_text())
    missing = sorted(read - explained(ENV_EXAMPLE.read_text()))
    assert not missing, f"config/settings.py reads these, and .env.example does not explain them: {missing}"


def test_env_example_names_no_setting_that_nothing_reads() -> None:
    read = settings_read(SETTINGS_PY.read_text()) | READ_BY_BOTO3
    stale = sorted(documented(ENV_EXAMPLE.read_text()) - read)
    assert not stale, f".env.example names settings that config/settings.py does not read: {stale}"


def test_the_settings_reader_finds_reads_through_every_form() -> None:
    source = (
        "import os\n"
        "env = object()\n"
        "def _secret(name, default):\n"
        "    return env.str(name, default=default)\n"
        "A = env.bool('PLAIN_BOOL', default=False)\n"
        "B = env('CALLED', default='')\n"
        "C = _secret('THROUGH_HELPER', 'x')\n"
        "D = os.environ.get('OS_GET', '1')\n"
        "E = os.environ['OS_ITEM']\n"
        "F = {'x': env.int(\n    'MULTI_LINE', default=env.int('NESTED', default=2))}\n"
    )
    assert settings_read(source) == {
        "PLAIN_BOOL",
        "CALLED",
        "THROUGH_HELPER",
        "OS_GET",
        "OS_ITEM",
        "MULTI_LINE",
        "NESTED",
    }


def test_a_setting_without_an_explanation_is_reported_missing() -> None:
    example = "# --- Core ---\n\nBARE=1\n\n# Why this one matters.\nEXPLAINED=2\n# UNSET_BUT_EXPLAINED=\n"
    assert explained(example) == {"EXPLAINED", "UNSET_BUT_EXPLAINED"}
    assert documented(example) == {"BARE", "EXPLAINED", "UNSET_BUT_EXPLAINED"}


def test_a_copy_of_env_example_with_the_secrets_filled_in_passes_the_deploy_checks() -> None:
    # An operator copies .env.example to .env and fills in the secrets: every value left as written there must
    # parse, and keep production's defaults (HTTPS redirect, HSTS, secure cookies, no sandbox).
    example: dict[str, str] = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        if not line.startswith("#") and (m := ASSIGNMENT.match(line)):
            example[m.group(1)] = line.split("=", 1)[1]
    read = settings_read(SETTINGS_PY.read_text()) | READ_BY_BOTO3
    # The test process's own switches stay out (conftest.py allows async-unsafe ORM calls for Playwright).
    environment = {k: v for k, v in os.environ.items() if k not in read and k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    environment.update(example)
    environment.update(PROD)
    environment["SECRET_KEY"] = secrets.token_urlsafe(60)  # check --deploy wants a random-looking one
    environment.update({"DJANGO_READ_DOT_ENV": "0", "DATABASE_URL": "sqlite:///:memory:"})
    r = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
