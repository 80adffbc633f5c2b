"""`scripts/run` as a user runs it, in a copy of the repository: SIGTERM stops it and every process it started.

The copy uses the suite's own virtual environment (its bin/ and lib/ linked into the copy's .venv, with the copy's
own install stamps), so nothing is installed; everything else is the real script: its .env, the migrations and demo
data on the copy's SQLite file, the SQS-protocol server, the web server, the cluster, the sync loop and the notifier.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path

import pytest

# Starts real servers and scripts (scripts/check leaves these to scripts/test).
pytestmark = pytest.mark.process

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 180.0
# scripts/run gives its processes 15 s to stop on SIGTERM before killing them, and the queue server 5 s more.
STOP_TIMEOUT = 30.0
# The names of what scripts/run starts; all of them run before the signal is sent.
STARTED = ("moto_server", "runserver", "qcluster", "sync_loop", "sandbox_notifier")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _session(sid: int) -> dict[int, str]:
    """pid → command line of every process in session `sid` (orphans reparented to init stay in it)."""
    found: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue  # gone meanwhile
        # Fields after the command name (which may hold spaces): state, ppid, pgrp, session, …
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[3]) == sid and fields[0] != "Z":
            found[int(entry.name)] = cmdline.strip()
    return found


def _copy_of_the_repository(dest: Path) -> None:
    shutil.copytree(
        ROOT,
        dest,
        symlinks=True,
        ignore=shutil.ignore_patterns(
            ".git", ".venv", "test-output", "*.sqlite3*", ".env", "staticfiles", "__pycache__", "*_cache"
        ),
    )
    venv = dest / ".venv"
    venv.mkdir()
    for name in ("bin", "lib", "include", "pyvenv.cfg"):
        if (Path(sys.prefix) / name).exists():
            (venv / name).symlink_to(Path(sys.prefix) / name)
    if (Path(sys.prefix) / "lib64").exists():
        (venv / "lib64").symlink_to(Path(sys.prefix) / "lib64")
    # The suite's environment holds requirements-test.txt, which includes the demo's and production's.
    for reqs in ("requirements.txt", "requirements-demo.txt", "requirements-test.txt"):
        (venv / f".installed-{reqs}").touch()


@pytest.fixture
def running_demo(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    copy = tmp_path / "portal"
    _copy_of_the_repository(copy)
    port = _free_port()
    environment = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "AWS_", "SANDBOX_", "AMAZON_", "Q_"))
        and k not in {"DEBUG", "SECRET_KEY", "TOKEN_ENCRYPTION_KEYS", "DATABASE_URL", "SYNC_LOOP"}
    }
    environment["PORT"] = str(port)
    log = (tmp_path / "run.log").open("wb")
    process = subprocess.Popen(
        ["scripts/run"],
        cwd=copy,
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        yield process, port
    finally:
        # Whatever the test found, nothing it started outlives it.
        for pid in _session(process.pid):
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        process.wait(timeout=10)
        log.close()


def _wait_for_everything(process: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        assert process.poll() is None, (
            f"scripts/run exited with {process.returncode}:\n{log.read_text()[-4000:]}"
        )
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=5) as answer:
                page_answers = answer.status == 200
        except (urllib.error.URLError, OSError):
            page_answers = False
        running = " ".join(_session(process.pid).values())
        if page_answers and all(name in running for name in STARTED):
            return
        time.sleep(0.5)
    raise AssertionError(
        f"scripts/run did not start everything in {START_TIMEOUT} s:\n{log.read_text()[-4000:]}"
    )


def test_sigterm_stops_scripts_run_and_every_process_it_started(
    running_demo: tuple[subprocess.Popen[bytes], int], tmp_path: Path
) -> None:
    process, port = running_demo
    _wait_for_everything(process, port, tmp_path / "run.log")

    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        left = _session(process.pid)
        raise AssertionError(
            f"scripts/run still runs {STOP_TIMEOUT} s after SIGTERM; its processes: {left}"
        ) from None
    deadline = time.monotonic() + 5
    while (left := _session(process.pid)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert left == {}, f"scripts/run exited and left these running: {left}"
