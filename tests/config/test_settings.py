from __future__ import annotations

import os
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
