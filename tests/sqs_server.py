"""A real SQS-protocol server on loopback for the tests: moto_server (moto's SQS backend and its Flask server,
requirements-demo.txt) as a subprocess.

- `shared_server()`: the process's server (one per pytest-xdist worker), started on first use on a free port and
  stopped when the process exits; `sqs_server` is the same as a session-scoped pytest fixture.
- `sqs_queue()`: a fresh queue on it, deleted afterwards; yields (endpoint_url, queue_url). The `sqs_queue_urls`
  fixture does the same for pytest-style tests.
- `running_server()`: a private server started and stopped around a block.

boto3 needs credentials even for moto: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY are set to dummies when unset.
Every client made here names the loopback endpoint, so no test can reach AWS. A missing moto_server is an error
(the suite fails), never a skip: the requirements install it.
"""

from __future__ import annotations

import atexit
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

MOTO_SERVER = Path(sys.executable).with_name("moto_server")
REGION = "us-east-1"
START_TIMEOUT = 30.0


class SqsServerMissing(RuntimeError):
    pass


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def dummy_credentials() -> None:
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")


class SqsServer:
    def __init__(self) -> None:
        if not MOTO_SERVER.exists():
            raise SqsServerMissing(f"{MOTO_SERVER} is missing: install requirements-demo.txt (moto, Flask).")
        dummy_credentials()
        self.port = _free_port()
        self.endpoint_url = f"http://127.0.0.1:{self.port}"
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 (closed in stop(); outlives this method)
        self._process: subprocess.Popen[bytes] | None = subprocess.Popen(
            [str(MOTO_SERVER), "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        try:
            self._wait()
        except BaseException:
            self.stop()
            raise

    def client(self) -> Any:
        return boto3.client(
            "sqs",
            region_name=REGION,
            endpoint_url=self.endpoint_url,
            config=Config(connect_timeout=2, read_timeout=10, retries={"max_attempts": 1}),
        )

    def _output(self) -> str:
        self._log.seek(0)
        return self._log.read().decode(errors="replace")[-4000:]

    def _wait(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        client = self.client()
        while True:
            assert self._process is not None
            if self._process.poll() is not None:
                raise RuntimeError(f"moto_server exited with {self._process.returncode}:\n{self._output()}")
            try:
                client.list_queues()
                return
            except (BotoCoreError, ClientError) as exc:
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"moto_server did not answer on {self.endpoint_url}:\n{self._output()}"
                    ) from exc
                time.sleep(0.05)

    def new_queue(self, prefix: str = "portal-notifications") -> str:
        return str(self.client().create_queue(QueueName=f"{prefix}-{uuid.uuid4().hex[:12]}")["QueueUrl"])

    def delete_queue(self, queue_url: str) -> None:
        with suppress(BotoCoreError, ClientError):
            self.client().delete_queue(QueueUrl=queue_url)

    def receive(self, queue_url: str, wait_seconds: int = 0) -> list[dict[str, Any]]:
        """Every message now in the queue (deleted as read)."""
        client = self.client()
        found: list[dict[str, Any]] = []
        while True:
            answer = client.receive_message(
                QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0 if found else wait_seconds
            )
            messages = answer.get("Messages", [])
            if not messages:
                return found
            for message in messages:
                found.append(message)
                client.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        self._log.close()


_shared: SqsServer | None = None


def shared_server() -> SqsServer:
    global _shared
    if _shared is None:
        _shared = SqsServer()
        atexit.register(stop_shared)
    return _shared


@contextmanager
def running_server() -> Iterator[SqsServer]:
    server = SqsServer()
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def sqs_queue(server: SqsServer | None = None) -> Iterator[tuple[str, str]]:
    """A fresh queue on `server` (the shared one by default): yields (endpoint_url, queue_url)."""
    server = server or shared_server()
    queue_url = server.new_queue()
    try:
        yield server.endpoint_url, queue_url
    finally:
        server.delete_queue(queue_url)


def stop_shared() -> None:
    global _shared
    server, _shared = _shared, None
    if server is not None:
        server.stop()


@pytest.fixture(scope="session")
def sqs_server() -> Iterator[SqsServer]:
    yield shared_server()
    stop_shared()


@pytest.fixture
def sqs_queue_urls(sqs_server: SqsServer) -> Iterator[tuple[str, str]]:
    with sqs_queue(sqs_server) as urls:
        yield urls
