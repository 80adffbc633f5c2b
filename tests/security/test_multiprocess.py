"""Findings that only show with several server processes: gunicorn (4 workers × 4 threads) on a file SQLite
database, the way the embedded default and a small production run. Both attack over plain HTTP."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.sync.test_worker_kill import ROOT, django_env, free_port, wait_http

# Starts real servers and scripts (scripts/check leaves these to scripts/test).
pytestmark = pytest.mark.process

MODULE = "import django; django.setup(); from tests.security import multiprocess_script as s; s.{call}"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    db: Path = tmp_path_factory.mktemp("multiprocess") / "portal.sqlite3"
    port = free_port()
    env = django_env(db, port)
    env["PUBLIC_BASE_URL"] = f"http://127.0.0.1:{port}"
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=180
    )
    args = ["-m", "gunicorn", "config.wsgi", "-b", f"127.0.0.1:{port}", "-w", "4", "--threads", "4"]
    proc = subprocess.Popen(
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_http(port)
        yield f"http://127.0.0.1:{port}", env
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)


def _script(env: dict[str, str], call: str) -> str:
    out = subprocess.run(
        [sys.executable, "-c", MODULE.format(call=call)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def flow(server: tuple[str, dict[str, str]]) -> dict[str, object]:
    return json.loads(_script(server[1], "setup()"))


def wrong_login(base: str) -> bool:
    """One failed login from a fresh browser (new connection: gunicorn hands it to any worker); True if refused."""
    with requests.Session() as s:
        page = s.get(f"{base}/accounts/login/", timeout=20)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        assert token, page.status_code
        r = s.post(
            f"{base}/accounts/login/",
            data={
                "csrfmiddlewaretoken": token.group(1),
                "login": "race@example.org",
                "password": "wrong-guess",
            },
            headers={"Referer": f"{base}/accounts/login/", "Connection": "close"},
            timeout=20,
        )
        return r.status_code == 429 or "Too many failed login attempts" in r.text


def test_the_login_rate_limit_is_shared_by_every_server_process(
    server: tuple[str, dict[str, str]], flow: dict[str, object]
) -> None:
    refused = [wrong_login(server[0]) for _ in range(12)]
    # allauth's default: 5 failed logins per account per 5 minutes. With a per-process cache, 4 workers
    # would let up to 20 through before the first refusal.
    assert refused.index(True) <= 5, refused
    assert all(refused[refused.index(True) :]), refused


def test_two_concurrent_callbacks_on_sqlite_end_both_attempts_without_a_500(
    server: tuple[str, dict[str, str]], flow: dict[str, object]
) -> None:
    base, env = server
    cookie = {"sessionid": str(flow["session"])}
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def callback(url: str) -> None:
        barrier.wait()
        r = requests.get(url, cookies=cookie, allow_redirects=False, timeout=60)
        statuses.append(r.status_code)

    threads = [threading.Thread(target=callback, args=(url,)) for url in flow["callbacks"]]  # type: ignore[attr-defined]
    for t in threads:
        t.start()
    for t in threads:
        t.join(90)
    assert sorted(statuses) == [302, 302], statuses
    outcomes = json.loads(_script(env, "outcomes()"))
    assert sorted(tuple(o) for o in outcomes) == [("failed", "account_in_other_store"), ("succeeded", "")], (
        outcomes
    )
