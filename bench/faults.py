"""Faults during a backfill: PostgreSQL restarts, then the qcluster is killed (SIGKILL); the job resumes and the
counts are exact (every generated order stored once)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import close_old_connections, connection
from django.utils import timezone

from bench.callbacks import free_port, start_gunicorn
from bench.common import table

ROOT = Path(__file__).resolve().parent.parent


def restart_postgres() -> float:
    bin_dir, data = os.environ["PG_BIN"], os.path.join(os.environ["PG_DIR"], "data")
    run_as = ["runuser", "-u", os.environ["PG_RUN_AS"], "--"] if os.environ.get("PG_RUN_AS") else []
    t = time.perf_counter()
    # -l and no pipes: the new postmaster must not inherit our stdout, or run() would wait for it forever.
    subprocess.run(
        [
            *run_as,
            f"{bin_dir}/pg_ctl",
            "-D",
            data,
            "-l",
            os.path.join(os.environ["PG_DIR"], "log"),
            "-m",
            "fast",
            "-w",
            "restart",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - t


def loaded(store_id: int) -> tuple[int, str]:
    from sync.models import OrderSync

    for _ in range(50):
        try:
            close_old_connections()
            s = OrderSync.objects.get(store_id=store_id)
            return s.orders_loaded, s.phase
        except Exception:  # noqa: BLE001 - the database is restarting; try again
            connection.close()
            time.sleep(0.2)
    raise RuntimeError("database did not come back")


def wait_until(cond, timeout: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return True
        time.sleep(0.3)
    return False


def cluster(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "manage.py", "qcluster"], cwd=ROOT, env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip


def run(quick: bool = False) -> bool:
    from authorizations.models import Authorization, AuthStatus, Capability
    from sandbox import api as sandbox_api
    from stores.models import Store
    from sync import jobs, order_state
    from sync.models import Order, OrderSync
    from tests.base import make_store, make_user

    # About 300 orders in pages of 20: fifteen searchOrders calls fit in Amazon's burst of 20, so the run never
    # waits for the rate limit and the faults are what is measured.
    days, per_day = 5, 30
    user = make_user("faults@bench.test", "Faults bench")
    store = make_store(user.memberships.get().tenant, nickname="Faults", region="NA", sites=["US", "CA"])
    Store.objects.filter(pk=store.pk).update(
        initial_order_date=(timezone.now() - timedelta(days=days)).date()
    )
    seller = sandbox_api.create_seller(
        "Faults seller", "NA", ["ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"], orders_per_day=per_day
    )
    tokens = sandbox_api.issue_tokens(seller, settings.AMAZON_SPAPI_APPS["orders"]["app_id"])
    auth = Authorization.objects.select_related("store").get(store=store, capability=Capability.ORDERS)
    auth.set_refresh_token(tokens["refresh_token"])
    auth.status, auth.selling_partner_id, auth.authorized_at = (
        AuthStatus.AUTHORIZED,
        seller.selling_partner_id,
        timezone.now(),
    )
    auth.save()
    Store.objects.filter(pk=store.pk).update(selling_partner_id=seller.selling_partner_id)
    auth.store.refresh_from_db()
    order_state.prepare(auth)
    sandbox_api.set_fault("orders", "slow", 0.5)  # each page takes a while, so the faults land mid-backfill
    port = free_port()
    web = start_gunicorn(port, 2, 4)
    env = dict(os.environ, SANDBOX_BASE_URL=f"http://127.0.0.1:{port}/sandbox", Q_WORKERS="1", Q_TIMEOUT="20",
               Q_RETRY="25", SYNC_LEASE_SECONDS="8", ORDER_SYNC_PAGE_SIZE="20", SYNC_RETRY_BASE_SECONDS="5",
               LOG_LEVEL="WARNING")  # fmt: skip
    subprocess.run(
        [sys.executable, "manage.py", "ensure_schedules"], cwd=ROOT, env=env, check=True, capture_output=True
    )
    events = []
    try:
        jobs.enqueue_order_sync(store.pk)
        q = cluster(env)
        wait_until(lambda: loaded(store.pk)[0] >= 60, 120)
        events.append(
            ["PostgreSQL restarted at", f"{loaded(store.pk)[0]} orders ({restart_postgres():.1f} s)"]
        )
        connection.close()
        wait_until(lambda: loaded(store.pk)[0] >= 160, 180)
        at_kill = loaded(store.pk)[0]
        os.killpg(q.pid, signal.SIGKILL)
        q.wait(timeout=10)
        events.append(["qcluster killed (SIGKILL) at", f"{at_kill} orders, phase {loaded(store.pk)[1]}"])
        q = cluster(env)
        finished = wait_until(
            lambda: loaded(store.pk)[1] == OrderSync.Phase.INCREMENTAL, 400 if quick else 900
        )
        os.killpg(q.pid, signal.SIGTERM)
        try:
            q.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(q.pid, signal.SIGKILL)
            q.wait(timeout=10)
    finally:
        sandbox_api.clear_faults()
        web.terminate()
        web.wait(timeout=20)
    close_old_connections()
    s = OrderSync.objects.get(store=store)
    stored = Order.objects.filter(store=store)
    ids = list(stored.values_list("amazon_order_id", flat=True))
    expected = {
        o.order_id
        for o in sandbox_api.generated_orders(
            seller, store.marketplace_ids, created_after=s.backfill_from, created_before=s.backfill_done_until
        )
    }
    ok = finished and len(ids) == len(set(ids)) == len(expected) and set(ids) == expected
    rows = [
        *events,
        ["backfill finished after the restart", "yes" if finished else "NO"],
        ["orders stored / distinct / generated", f"{len(ids)} / {len(set(ids))} / {len(expected)}"],
        ["same order ids", "yes" if set(ids) == expected else "NO"],
        ["result", "ok" if ok else "FAILED"],
    ]
    print(table("Faults during a backfill (PostgreSQL restart, qcluster SIGKILL)", ["event", "value"], rows))
    return ok
