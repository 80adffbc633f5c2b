"""A real webhook receiver on loopback (an HTTP server in a thread) and a test case that delivers inline."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from unittest import mock

from standardwebhooks.webhooks import Webhook

from authorizations import transitions
from authorizations.models import Authorization, AuthStatus
from tests.base import BaseTestCase
from webhooks import endpoints, tasks
from webhooks.models import Endpoint


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    at: float


@dataclass
class Receiver:
    """Answers each POST with the next status of `plan` (then 200), after `delay` seconds; keeps what came."""

    plan: list[int] = field(default_factory=list)
    delay: float = 0.0
    received: list[Received] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                receiver.received.append(Received(dict(self.headers.items()), body, time.time()))
                if receiver.delay:
                    time.sleep(receiver.delay)
                status = receiver.plan.pop(0) if receiver.plan else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def verified(self, secret: str) -> list[dict[str, Any]]:
        """Every received body, verified with the Standard Webhooks library (raises on any bad one)."""
        return [Webhook(secret).verify(r.body, r.headers) for r in self.received]


class WebhookTestCase(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.receiver = Receiver().start()
        self.addCleanup(self.receiver.stop)

    def add_endpoint(self, url: str | None = None, events: list[str] | None = None) -> tuple[Endpoint, str]:
        endpoint = Endpoint(
            tenant=self.tenant,
            url=url or self.receiver.url,
            events=events
            or ["store.authorization_changed", "order.created", "order.updated", "order.cancelled"],
        )
        secret = endpoints.create(None, endpoint, self.alice)
        return endpoint, secret

    @contextmanager
    def delivering(self) -> Iterator[mock.MagicMock]:
        """Tasks enqueued after commit run at once, as a worker would run them."""

        def run(func: str, *args: Any, **kwargs: Any) -> None:
            assert func == "webhooks.tasks.deliver"
            tasks.deliver(*args)

        with (
            mock.patch("webhooks.events.async_task", side_effect=run) as enqueue,
            mock.patch("webhooks.tasks.async_task", side_effect=run),
            self.captureOnCommitCallbacks(execute=True),
        ):
            yield enqueue

    def set_status(self, capability: str, status: str) -> None:
        from django.db import transaction

        with transaction.atomic():
            auth = transitions.locked(Authorization.objects.get(store=self.store, capability=capability).pk)
            transitions.change(auth, status)

    def authorize(self, capability: str = "orders") -> None:
        self.set_status(capability, AuthStatus.AUTHORIZED)
