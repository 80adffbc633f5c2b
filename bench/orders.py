"""Order loading efficiency: with the sandbox's clock compressed, how close the backfill runs to Amazon's limits.

requests made / requests the limits allow in the same window (burst + rate × scale × seconds), 429s received, and
orders stored / orders generated (must be exactly 1.0).
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import timedelta

from django.conf import settings
from django.test.utils import override_settings
from django.utils import timezone

from bench.callbacks import free_port, start_gunicorn
from bench.common import table

SEARCH_RATE, SEARCH_BURST = 0.0056, 20
TARGET = 0.9


def run(quick: bool = False) -> bool:
    from amazon import http
    from authorizations.models import Authorization, AuthStatus, Capability
    from sandbox import api as sandbox_api
    from stores.models import Store
    from sync import orders
    from sync.models import Order
    from tests.base import make_store, make_user

    scale = 1000.0 if quick else 1500.0
    days = 90 if quick else 240
    per_day = 60
    user = make_user("orders@bench.test", "Orders bench")
    store = make_store(user.memberships.get().tenant, nickname="Backfill", region="NA", sites=["US"])
    Store.objects.filter(pk=store.pk).update(
        initial_order_date=(timezone.now() - timedelta(days=days)).date()
    )
    store.refresh_from_db()
    seller = sandbox_api.create_seller("Backfill seller", "NA", ["ATVPDKIKX0DER"], orders_per_day=per_day)
    app_id = settings.AMAZON_SPAPI_APPS["orders"]["app_id"]
    tokens = sandbox_api.issue_tokens(seller, app_id)
    auth = Authorization.objects.get(store=store, capability=Capability.ORDERS)
    auth.set_refresh_token(tokens["refresh_token"])
    auth.status, auth.selling_partner_id, auth.authorized_at = (
        AuthStatus.AUTHORIZED,
        seller.selling_partner_id,
        timezone.now(),
    )
    auth.save()
    Store.objects.filter(pk=store.pk).update(selling_partner_id=seller.selling_partner_id)
    state = orders.prepare(auth)

    port = free_port()
    proc = start_gunicorn(port, 2, 4)
    calls: Counter[int] = Counter()
    stamps: list[float] = []
    real_request = http.request

    def counting(method: str, url: str, **kw: object):  # type: ignore[no-untyped-def]
        r = real_request(method, url, **kw)  # type: ignore[arg-type]
        if "/orders/2026-01-01/orders" in url:
            calls[r.status_code] += 1
            stamps.append(time.perf_counter())
        return r

    outcomes: Counter[str] = Counter()
    try:
        sandbox_api.set_time_scale(scale)
        with override_settings(SANDBOX_BASE_URL=f"http://127.0.0.1:{port}/sandbox"):
            http.request = counting  # type: ignore[assignment]
            deadline = time.time() + (240 if quick else 600)
            while time.time() < deadline:
                result = orders.run(store.pk)
                outcomes[result] += 1
                state.refresh_from_db()
                if state.backfill_done or result in ("not_authorized", "needs_reauthorization"):
                    break
                wait = (state.next_run_at - timezone.now()).total_seconds()
                if wait > 0:
                    time.sleep(min(wait, 30))  # what the scheduler would do: run again at next_run_at
    finally:
        http.request = real_request  # type: ignore[assignment]
        sandbox_api.set_time_scale(1.0)
        proc.terminate()
        proc.wait(timeout=20)
    window = stamps[-1] - stamps[0] if len(stamps) > 1 else 0.0
    made = sum(calls.values())
    allowed = SEARCH_BURST + SEARCH_RATE * scale * window
    state.refresh_from_db()
    stored = Order.objects.filter(store=store).count()
    bound = state.window_end or state.backfill_done_until
    expected = sandbox_api.generated_orders(
        seller, store.marketplace_ids, created_after=state.backfill_from, created_before=bound
    ).count()
    distinct = Order.objects.filter(store=store).values("amazon_order_id").distinct().count()
    efficiency = made / allowed if allowed else 0.0
    ok = state.backfill_done and stored == expected == distinct and efficiency >= TARGET
    rows: list[list[object]] = [
        ["orders generated (backfill window)", f"{expected:,} ({days} days × {per_day}/day)"],
        [
            "sandbox time scale",
            f"×{scale:g} (searchOrders {SEARCH_RATE}/s → {SEARCH_RATE * scale:g}/s, burst {SEARCH_BURST})",
        ],
        ["searchOrders requests made / window (s)", f"{made} / {window:.1f}"],
        ["requests the limits allow in that window", f"{allowed:.1f}"],
        ["made / allowed", f"{efficiency:.2f} (target ≥ {TARGET})"],
        ["429s received", calls.get(429, 0)],
        [
            "orders stored / generated",
            f"{stored:,} / {expected:,} = {stored / expected if expected else 0:.3f} (distinct {distinct:,})",
        ],
        ["task runs", ", ".join(f"{k}: {v}" for k, v in sorted(outcomes.items()))],
        ["result", "ok" if ok else "MISSED"],
    ]
    print(
        table(
            "Order loading efficiency (backfill against the sandbox, compressed clock)",
            ["measure", "value"],
            rows,
        )
    )
    return ok
