"""A real qcluster is killed (SIGKILL) in the middle of a backfill; once the task is handed out again, the store
has every order exactly once. Runs on its own SQLite file shared by runserver (the sandbox), qcluster and this test."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

# Starts real servers and scripts (scripts/check leaves these to scripts/test).
pytestmark = pytest.mark.process

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = "import django; django.setup(); from tests.sync import {module} as s; s.{call}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def django_env(db: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO_ALLOW"))}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": f"sqlite:///{db}",
            "DEBUG": "true",
            "SANDBOX_ENABLED": "true",
            "AMAZON_USE_SANDBOX": "true",
            "SANDBOX_BASE_URL": f"http://127.0.0.1:{port}/sandbox",
            "SANDBOX_TIME_SCALE": "1",
            "LOG_LEVEL": "WARNING",
            # Small numbers so re-delivery happens within seconds; still timeout < retry, finite attempts.
            "Q_WORKERS": "1",
            "Q_TIMEOUT": "8",
            "Q_RETRY": "10",
            "Q_MAX_ATTEMPTS": "3",
            "SYNC_LEASE_SECONDS": "3",
            "SYNC_TASK_BUDGET_SECONDS": "60",
            "HTTP_READ_TIMEOUT": "3",
            "ORDER_SYNC_PAGE_SIZE": "5",
        }
    )
    return env


def run(env: dict[str, str], call: str, module: str = "worker_kill_script", timeout: float = 60) -> str:
    """Call a function of a tests.sync script module in a fresh Django process; its last printed line."""
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT.format(module=module, call=call)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout.strip().splitlines()[-1]


@contextmanager
def process(env: dict[str, str], *args: str) -> Iterator[subprocess.Popen[bytes]]:
    # Own process group: qcluster forks a sentinel, a monitor and workers, and the kill must reach them all.
    p = subprocess.Popen(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        yield p
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
        p.wait(timeout=10)


def sync_row(db: Path, store_id: int) -> tuple[str, int, str]:
    with sqlite3.connect(db, timeout=10) as c:
        row = c.execute(
            "select phase, orders_loaded, pagination_token from sync_ordersync where store_id = ?",
            (store_id,),
        ).fetchone()
    return row[0], row[1], row[2]


def wait_for(condition: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def wait_http(port: int) -> None:
    def up() -> bool:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            return False

    wait_for(up, 20, "runserver")


def test_a_worker_killed_mid_backfill_loses_and_duplicates_no_order(tmp_path: Path) -> None:
    db = tmp_path / "kill.sqlite3"
    port = free_port()
    env = django_env(db, port)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=120
    )
    info = json.loads(run(env, "setup()"))
    store_id = info["store"]
    with process(env, "runserver", f"127.0.0.1:{port}", "--noreload"):
        wait_http(port)
        with process(env, "qcluster") as cluster:
            wait_for(lambda: sync_row(db, store_id)[1] >= 10, 30, "the first pages")
            os.killpg(cluster.pid, signal.SIGKILL)
        phase, loaded_at_kill, token = sync_row(db, store_id)
        assert phase == "backfill" and token, "the worker must die in the middle of the backfill"
        # A new cluster: django-q2 hands the unfinished task out again once `retry` has passed.
        with process(env, "qcluster"):
            wait_for(lambda: sync_row(db, store_id)[0] == "incremental", 45, "the backfill to finish")
    result = json.loads(run(env, f"verify({store_id}, {info['seller']!r})"))
    print(f"killed at {loaded_at_kill} orders; after the restart: {result}")
    assert result["duplicates"] == 0
    assert result["stored"] == result["distinct"] == result["expected"] == result["orders_loaded"]
    assert result["same_ids"]
    assert loaded_at_kill < result["expected"]
