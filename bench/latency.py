"""Order latency: from the moment an order is created at the sandbox to the moment it is in the portal's database.

Two runs side by side, on the whole stack (gunicorn sandbox, qcluster, `manage.py sync_loop`, PostgreSQL, the
SQS-protocol server):
- polling alone (ORDER_CHANGE off): each store is polled as often as its searchOrders bucket allows while orders keep
  coming (sync/cadence.py `poll_pause`). Amazon's rate (0.0056/s, orders_2026-01-01.json) allows one request every
  178.6 s, so an order created at a random moment waits on average half of that, and the p95 floor is 0.95 × 178.6 s
  (plus nothing: the sandbox answers up to the moment of the request). Target: p95 ≤ 1.2 × that floor. The sandbox
  clock runs ×SCALE here so the run takes minutes; latencies are in Amazon's (virtual) seconds.
- with ORDER_CHANGE notifications (sandbox_notifier delivers to the queue, sync_loop reads it, a task loads the order
  with getOrder): real time, target p95 ≤ 60 s.
Orders arrive at random times: every seller's orders are spread uniformly over the day by the sandbox's generator.
"""

from __future__ import annotations

import contextlib
import os
import signal
import statistics
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from django.test.utils import override_settings
from django.utils import timezone

from bench.callbacks import free_port, start_gunicorn
from bench.common import grant_orders, table

ROOT = Path(__file__).resolve().parent.parent
RATE = 0.0056  # searchOrders, orders_2026-01-01.json Usage Plan
FLOOR_P95 = 0.95 / RATE
POLL_TARGET = 1.2
NOTICE_TARGET = 60.0
SCALE = 10.0


def _setup(n: int, per_day: int) -> list[Any]:
    from sandbox import api as sandbox_api
    from sandbox import clock
    from sync import order_state
    from sync.models import OrderSync
    from tests.base import make_store, make_user

    user = make_user("latency@bench.test", "Latency bench")
    tenant = user.memberships.get().tenant
    stores = []
    for i in range(n):
        store = make_store(tenant, nickname=f"Latency {i:03d}", region="NA", sites=["US"])
        seller = sandbox_api.create_seller(
            f"Latency seller {i}", "NA", ["ATVPDKIKX0DER"], orders_per_day=per_day
        )
        auth = grant_orders(store, seller)
        state = order_state.prepare(auth)
        now_virtual = clock.now()
        OrderSync.objects.filter(pk=state.pk).update(
            phase=OrderSync.Phase.INCREMENTAL,
            backfill_finished_at=timezone.now(),
            backfill_done_until=now_virtual,
            last_updated_after=now_virtual,
            next_run_at=timezone.now(),
        )
        stores.append((store, seller))
    return stores


def _latencies(stores: list[Any], start: datetime, end: datetime) -> tuple[list[float], int]:
    """Latency in virtual seconds of every order created at the sandbox in [start, end] (virtual), and how many
    of them never arrived."""
    from sandbox import api as sandbox_api
    from sandbox import clock
    from sync.models import Order

    cfg = clock.config()
    out: list[float] = []
    missing = 0
    for store, seller in stores:
        made = {
            o.order_id: o.created_time
            for o in sandbox_api.generated_orders(
                seller, ["ATVPDKIKX0DER"], created_after=start, created_before=end
            )
        }
        stored = dict(
            Order.objects.filter(store=store, amazon_order_id__in=list(made)).values_list(
                "amazon_order_id", "created_at"
            )
        )
        for order_id, created in made.items():
            if order_id not in stored:
                missing += 1
                continue
            arrived = clock.virtual_at(cfg, stored[order_id])
            out.append(max(0.0, (arrived - created).total_seconds()))
    return out, missing


def _p(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q * 100) - 1]


def _start(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "manage.py", *args], cwd=ROOT, env=env, start_new_session=True)


def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for p in procs:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(p.pid, signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)


def _run_mode(
    stores: list[Any], env: dict[str, str], seconds: float, notices: bool
) -> tuple[list[float], int, float]:
    from sandbox import clock

    procs = [_start(["qcluster"], env), _start(["sync_loop"], env)]
    if notices:
        procs.append(_start(["sandbox_notifier", "--interval", "1"], env))
    try:
        time.sleep(4)  # the processes start; the first polls run
        start = clock.now()
        time.sleep(seconds)
        end = clock.now()
        # Orders created near the end get the time a poll or a notification needs to arrive.
        grace = 2.5 / RATE / max(clock.config().time_scale, 1.0) if not notices else 30.0
        time.sleep(grace)
    finally:
        _stop(procs)
    values, missing = _latencies(stores, start, end)
    return values, missing, (end - start).total_seconds()


def run(quick: bool = False) -> bool:
    from sandbox import api as sandbox_api
    from sync import order_changes
    from sync.models import OrderChangeSubscription
    from tests.sqs_server import running_server

    n = 20 if quick else 40
    poll_seconds = 120 if quick else 300
    notice_seconds = 90 if quick else 240
    per_day = 480  # the sandbox's most: an order every 3 minutes per store, at random moments
    stores = _setup(n, per_day)
    port = free_port()
    web = start_gunicorn(port, 2, 4)
    base = f"http://127.0.0.1:{port}/sandbox"
    rows: list[list[object]] = []
    ok = True
    try:
        with running_server() as sqs:
            queue = sqs.new_queue("bench-notifications")
            env = dict(
                os.environ,
                SANDBOX_BASE_URL=base,
                Q_WORKERS="2",
                LOG_LEVEL="WARNING",
                SYNC_LOOP="true",
                AWS_SQS_ENDPOINT_URL=sqs.endpoint_url,
                AMAZON_NOTIFICATIONS_QUEUE_URL=queue,
                SANDBOX_NOTIFICATIONS_QUEUE_URL=queue,
            )
            # 1. Polling alone, on a ×SCALE clock.
            sandbox_api.set_time_scale(SCALE)
            values, missing, window = _run_mode(
                stores, dict(env, ORDER_CHANGE_NOTIFICATIONS="false"), poll_seconds, notices=False
            )
            p50, p95 = _p(values, 0.5), _p(values, 0.95)
            ratio = p95 / FLOOR_P95
            poll_ok = missing == 0 and ratio <= POLL_TARGET
            ok = ok and poll_ok
            rows += [
                ["polling alone: clock", f"×{SCALE:g}, {window / 60:.0f} Amazon minutes, {n} stores"],
                ["  orders created / arrived", f"{len(values) + missing} / {len(values)}"],
                ["  latency p50 / p95 (Amazon s)", f"{p50:.0f} / {p95:.0f}"],
                ["  floor p95 = 0.95 / 0.0056", f"{FLOOR_P95:.0f}"],
                ["  p95 / floor", f"{ratio:.2f} (target ≤ {POLL_TARGET}) {'ok' if poll_ok else 'MISSED'}"],
            ]
            # 2. With ORDER_CHANGE notifications, in real time.
            sandbox_api.set_time_scale(1.0)
            with override_settings(
                SANDBOX_BASE_URL=base,
                AWS_SQS_ENDPOINT_URL=sqs.endpoint_url,
                AMAZON_NOTIFICATIONS_QUEUE_URL=queue,
                SANDBOX_NOTIFICATIONS_QUEUE_URL=queue,
                ORDER_CHANGE_NOTIFICATIONS=True,
            ):
                subscribed = sum(order_changes.subscribe(s.pk) == "subscribed" for s, _seller in stores)
            values, missing, window = _run_mode(stores, env, notice_seconds, notices=True)
            p50, p95 = _p(values, 0.5), _p(values, 0.95)
            notice_ok = missing == 0 and subscribed == n and p95 <= NOTICE_TARGET
            ok = ok and notice_ok
            active = OrderChangeSubscription.objects.filter(status="active").count()
            rows += [
                [
                    "with ORDER_CHANGE: clock",
                    f"real time, {window / 60:.1f} minutes, {n} stores ({active} subscribed)",
                ],
                ["  orders created / arrived", f"{len(values) + missing} / {len(values)}"],
                ["  latency p50 / p95 (s)", f"{p50:.1f} / {p95:.1f}"],
                ["  p95", f"{p95:.1f} s (target ≤ {NOTICE_TARGET:g} s) {'ok' if notice_ok else 'MISSED'}"],
            ]
    finally:
        sandbox_api.set_time_scale(1.0)
        web.terminate()
        web.wait(timeout=20)
    rows.append(["result", "ok" if ok else "MISSED"])
    print(table("Order latency: created at the sandbox → in the portal", ["measure", "value"], rows))
    return ok
