"""The job tests once against django-q2's Redis broker: a real redis-server on loopback and two qcluster processes.

Every backfill task is delivered twice; the two clusters split the work, each store's backfill runs once (the
duplicate finds the store claimed or done), and every store ends with exactly its generated orders.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.sync.test_worker_kill import ROOT, django_env, free_port, process, wait_for, wait_http
from tests.sync.test_worker_kill import run as run_script

# Starts real servers and scripts (scripts/check leaves these to scripts/test).
pytestmark = pytest.mark.process


def run(env: dict[str, str], call: str) -> str:
    return run_script(env, call, module="redis_broker_script", timeout=120)


def redis_server(port: int, workdir: Path) -> subprocess.Popen[bytes]:
    binary = shutil.which("redis-server")
    # A missing server is a failure, never a skip: scripts/test installs redis-server with apt.
    assert binary, "redis-server is not installed (scripts/test installs it)"
    return subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(workdir),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


@contextmanager
def cluster(env: dict[str, str], log: Path) -> Iterator[Path]:
    """A qcluster whose log tells which tasks it processed."""
    with open(log, "wb") as out:
        p = subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"],
            cwd=ROOT,
            env={**env, "LOG_LEVEL": "INFO"},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield log
        finally:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(timeout=10)


def processed(log: Path) -> int:
    return sum(
        1
        for line in log.read_text(errors="replace").splitlines()
        if "Processed" in line and "sync_orders" in line
    )


def test_two_clusters_on_the_redis_broker_never_duplicate_work(tmp_path: Path) -> None:
    redis_port, web_port = free_port(), free_port()
    redis = redis_server(redis_port, tmp_path)
    try:
        wait_for(
            lambda: (
                subprocess.run(["redis-cli", "-p", str(redis_port), "ping"], capture_output=True).returncode
                == 0
                if shutil.which("redis-cli")
                else True
            ),
            10,
            "redis-server",
        )
        env = django_env(tmp_path / "redis.sqlite3", web_port)
        env.update(
            {
                "Q_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
                "Q_WORKERS": "2",
                "Q_TIMEOUT": "30",
                "Q_RETRY": "40",
                "SYNC_LEASE_SECONDS": "30",
            }
        )
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=120
        )
        ids = json.loads(run(env, "setup()"))
        with process(env, "runserver", f"127.0.0.1:{web_port}", "--noreload"):
            wait_http(web_port)
            with cluster(env, tmp_path / "a.log") as log_a, cluster(env, tmp_path / "b.log") as log_b:
                wait_for(
                    lambda: "running" in log_a.read_text() and "running" in log_b.read_text(),
                    30,
                    "both clusters",
                )
                run(env, f"enqueue({ids!r})")
                wait_for(
                    lambda: json.loads(run(env, "progress()"))["tasks_finished"] >= 2 * len(ids),
                    90,
                    "every task to finish",
                )
        result = json.loads(run(env, f"verify({ids!r})"))
        result["per_cluster"] = [processed(log_a), processed(log_b)]
    finally:
        redis.terminate()
        redis.wait(timeout=10)
    print(result)
    assert result["tasks"] == 2 * len(ids) and result["failed_tasks"] == 0
    assert sum(result["per_cluster"]) == 2 * len(ids)
    assert min(result["per_cluster"]) > 0, "both clusters took tasks from the shared Redis queue"
    for store in result["stores"]:
        assert store["phase"] == "incremental"
        assert store["duplicates"] == 0
        assert store["stored"] == store["expected"] > 0
    # Each store's backfill ran once; its duplicate delivery found the store claimed or already done.
    assert result["ran"] == len(ids) and result["busy"] == len(ids)
