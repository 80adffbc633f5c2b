"""Webhooks: how many events one worker core signs and delivers, and how soon a change reaches a receiver.

- throughput: N events for one endpoint, sent one after another by `webhooks.tasks.deliver` in this process (one
  core) to a loopback receiver in a process of its own (so its CPU is not counted): events per second of wall time
  and per CPU second of this process (claim, sign with the Standard Webhooks library, POST, record the attempt).
- latency: M authorization status changes, each on its own store, while a real qcluster (`manage.py qcluster`, the
  settings' broker) runs; from the commit of the change to the receiver reading the request. Target p95 ≤ 5 s.
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from bench.common import table

ROOT = Path(__file__).resolve().parent.parent
P95_TARGET = 5.0
# The receiver: answers 200 to every POST and appends "<receipt time> <webhook-id> <store code>" to a file.
RECEIVER = r"""
import json, sys, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
out = open(sys.argv[1], "a", buffering=1)
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        code = json.loads(body).get("data", {}).get("code", "")
        out.write(f"{time.time()} {self.headers.get('webhook-id')} {code}\n")
        self.send_response(200); self.send_header("Content-Length", "0"); self.end_headers()
    def log_message(self, *a): pass
s = ThreadingHTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
"""


def stop(p: subprocess.Popen[str] | subprocess.Popen[bytes]) -> None:
    """Its whole process group: SIGTERM, then SIGKILL if it has not ended after 15 s."""
    os.killpg(p.pid, signal.SIGTERM)
    try:
        p.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.wait(timeout=15)


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)] if ordered else float("nan")


def start_receiver(log: Path) -> tuple[subprocess.Popen[str], str]:
    p = subprocess.Popen(
        [sys.executable, "-c", RECEIVER, str(log)], stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    assert p.stdout is not None
    port = int(p.stdout.readline())
    return p, f"http://127.0.0.1:{port}/hooks"


def tenant_with_endpoint(url: str, stores: int) -> tuple[Any, list[Any]]:
    from accounts.models import Tenant, User
    from tests.base import make_store
    from webhooks import endpoints
    from webhooks.models import Endpoint

    tag = uuid.uuid4().hex[:8]
    user = User.objects.create_user(email=f"bench-hooks-{tag}@example.org", password="bench-password-1")
    tenant = Tenant.create_for_owner(user, f"Bench webhooks {tag}")
    made = [make_store(tenant, f"Hooks {tag} {i}") for i in range(stores)]
    endpoint = Endpoint(tenant=tenant, url=url, events=["store.authorization_changed"])
    endpoints.create(None, endpoint, user)
    return tenant, made


def throughput(url: str, events: int) -> list[list[Any]]:
    from django.utils import timezone

    from webhooks import tasks
    from webhooks.models import Delivery, Endpoint, Event

    tenant, _stores = tenant_with_endpoint(url, 0)
    endpoint = Endpoint.objects.get(tenant=tenant)
    now = timezone.now()
    made = Event.objects.bulk_create(
        Event(tenant=tenant, type="store.authorization_changed", data={"code": str(uuid.uuid4()), "n": i})  # type: ignore[misc]
        for i in range(events)
    )
    ids = [
        d.pk
        for d in Delivery.objects.bulk_create(
            Delivery(endpoint=endpoint, event=e, next_attempt_at=now) for e in made
        )
    ]
    wall, cpu = time.perf_counter(), time.process_time()
    delivered = tasks.deliver(ids)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    assert delivered == events, (delivered, events)
    return [
        ["events signed and delivered", events],
        ["events per second (wall, one process)", f"{events / wall:.0f}"],
        ["events per CPU second of the worker", f"{events / cpu:.0f}"],
    ]


def latency(url: str, log: Path, changes: int) -> tuple[list[list[Any]], bool]:
    from django.db import transaction

    from authorizations import transitions
    from authorizations.models import Authorization, AuthStatus

    _tenant, stores = tenant_with_endpoint(url, changes)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    cluster = subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"], cwd=ROOT, env=env, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    committed: dict[str, float] = {}
    try:
        time.sleep(3)  # the cluster's workers started
        for store in stores:
            auth = Authorization.objects.get(store=store, capability="orders")
            with transaction.atomic():
                transitions.change(transitions.locked(auth.pk), AuthStatus.AUTHORIZED)
            committed[str(store.code)] = time.time()  # type: ignore[attr-defined]
            time.sleep(0.2)
        deadline = time.monotonic() + 120
        received: dict[str, float] = {}
        while time.monotonic() < deadline and len(received) < len(committed):
            for line in log.read_text().splitlines():
                at, _id, code = line.split(" ")
                if code in committed:
                    received.setdefault(code, float(at))
            time.sleep(0.2)
    finally:
        stop(cluster)
    waits = [received[c] - committed[c] for c in received]
    ok = len(received) == len(committed) and p95(waits) <= P95_TARGET
    rows: list[list[Any]] = [
        ["status changes (one store each)", changes],
        ["delivered", len(received)],
        ["median s, change committed → receiver", f"{sorted(waits)[len(waits) // 2]:.2f}" if waits else "-"],
        [f"p95 s (target ≤ {P95_TARGET:g})", f"{p95(waits):.2f}"],
    ]
    return rows, ok


def run_webhooks(quick: bool) -> bool:
    from django.test.utils import override_settings

    with tempfile.TemporaryDirectory() as tmp, override_settings(WEBHOOKS_ALLOW_LOOPBACK=True):
        log = Path(tmp) / "received.txt"
        log.touch()
        receiver, url = start_receiver(log)
        try:
            rows = throughput(url, 300 if quick else 3000)
            print(table("Webhooks: signing and delivery on one worker core", ["measure", "value"], rows))
            os.environ["WEBHOOKS_ALLOW_LOOPBACK"] = "true"  # for the qcluster started below
            rows, ok = latency(url, log, 20 if quick else 100)
            print(
                table("Webhooks: delivery after a status change (real qcluster)", ["measure", "value"], rows)
            )
        finally:
            stop(receiver)
    print(json.dumps({"webhooks_ok": ok}))
    return ok
