"""Access-token reuse: LWA refreshes per grant-hour with many stores syncing at the 15-minute cadence.

Every store's order-loading grant goes through the sync job's token step (sync.grants.Grant.renew) four times in
one simulated hour, as four incremental syncs would. "Before" forces a refresh each time (what every sync run and
re-check did before the shared token cache); "after" is the portal as it is. The LWA calls are counted at the
sandbox's token endpoint, in this one run.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.cache import cache

from bench.common import grant_orders, table

TARGET = 1.0
SYNCS_PER_HOUR = 60 // 15


def _stores(n: int) -> list[Any]:
    from authorizations.models import Authorization
    from sandbox import api as sandbox_api
    from tests.base import make_store, make_user

    user = make_user("tokens@bench.test", "Token bench")
    tenant = user.memberships.get().tenant
    auths = []
    for i in range(n):
        store = make_store(tenant, nickname=f"Token store {i:05d}", region="NA", sites=["US"])
        seller = sandbox_api.create_seller(f"Token seller {i:05d}", "NA", ["ATVPDKIKX0DER"])
        auth = grant_orders(store, seller)
        auths.append(Authorization.objects.select_related("store").get(pk=auth.pk))
    return auths


def _token_calls(rsps: Any) -> int:
    return sum(1 for c in rsps.calls if "/auth/o2/token" in str(c.request.url))


def _hour(auths: list[Any], rsps: Any, force: bool) -> tuple[int, float]:
    from sync.grants import Grant

    cache.clear()
    before = _token_calls(rsps)
    t = time.perf_counter()
    for _ in range(SYNCS_PER_HOUR):
        for auth in auths:
            grant = Grant(auth, "orders", lambda e: RuntimeError(e.reason))
            grant.renew(force=force)
    elapsed = time.perf_counter() - t
    after = _token_calls(rsps)
    return after - before, elapsed


def run(quick: bool = False) -> bool:
    from tests.sandbox_http import sandbox_http

    n = 100 if quick else 1000
    with sandbox_http() as rsps:
        auths = _stores(n)
        old_calls, old_s = _hour(auths, rsps, force=True)
        new_calls, new_s = _hour(auths, rsps, force=False)
    old_rate, new_rate = old_calls / n, new_calls / n
    ok = new_rate <= TARGET
    rows = [
        ["stores (order loading), syncs per store in the hour", f"{n:,} · {SYNCS_PER_HOUR}"],
        [
            "LWA refreshes per grant-hour, refresh every run (before)",
            f"{old_rate:.2f}  ({old_calls:,} calls, {old_s:.1f} s)",
        ],
        [
            "LWA refreshes per grant-hour, shared token cache (now)",
            f"{new_rate:.2f}  ({new_calls:,} calls, {new_s:.1f} s)",
        ],
        ["ratio now / before", f"{new_rate / old_rate:.2f}" if old_rate else "—"],
        [f"target ≤ {TARGET:g} per grant-hour", "ok" if ok else "MISSED"],
    ]
    print(table("Access-token reuse (in-process, sandbox token endpoint)", ["measure", "value"], rows))
    return ok
