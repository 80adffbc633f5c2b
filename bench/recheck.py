"""Bulk re-check of many stores through django-q2 (4 qcluster workers) against gunicorn + PostgreSQL + the sandbox.

wall time / ideal time. Each store holds order loading and listing authorizations of its own seller, so every
re-check is one token refresh and one getMarketplaceParticipations per capability. Amazon's limits are per seller
and application (getMarketplaceParticipations: burst 15), so for distinct sellers the rate-limit-bound minimum is
below one request interval; the ideal is then bound by the work itself: the serial cost of one store's re-check,
measured first on the same stack, times the stores, divided by the parallelism the machine offers
(min(workers, cores)). Both bounds and both ratios are printed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.test.utils import override_settings
from django.utils import timezone

from bench.callbacks import free_port, start_gunicorn
from bench.common import table

ROOT = Path(__file__).resolve().parent.parent
WORKERS = 4
TARGET = 1.5


def run(quick: bool = False) -> bool:
    from accounts.models import Tenant, User
    from authorizations.models import Authorization, AuthStatus
    from authorizations.store_actions import create_store
    from sandbox import api as sandbox_api
    from stores.models import Store
    from sync import rechecks
    from sync.models import RecheckItem

    n = 200 if quick else 1000
    owner = User.objects.create_user("recheck@bench.test", "bench-password-1")
    tenant = Tenant.create_for_owner(owner, "Recheck bench")
    membership = tenant.memberships.get()
    apps = {c: settings.AMAZON_SPAPI_APPS[c]["app_id"] for c in ("orders", "listings")}
    now = timezone.now()
    for i in range(n):
        store = create_store(
            None, membership, nickname=f"R {i:05d}", region="NA", sites=["US"], initial_order_date=None
        )
        seller = sandbox_api.create_seller(f"Recheck seller {i}", "NA", ["ATVPDKIKX0DER"], orders_per_day=0)
        Store.objects.filter(pk=store.pk).update(
            selling_partner_id=seller.selling_partner_id, authorization_status="authorized"
        )
        for cap, app in apps.items():
            tokens = sandbox_api.issue_tokens(seller, app)
            a = Authorization.objects.get(store=store, capability=cap)
            a.set_refresh_token(tokens["refresh_token"])
            a.status, a.selling_partner_id, a.authorized_at = (
                AuthStatus.AUTHORIZED,
                seller.selling_partner_id,
                now,
            )
            a.save()
    port = free_port()
    web = start_gunicorn(port, 4, 4)
    base = f"http://127.0.0.1:{port}/sandbox"
    try:
        # The serial cost of one store's re-check on this stack (no queue, one process).
        sample = list(Store.objects.filter(tenant=tenant).order_by("pk")[:20])
        with override_settings(SANDBOX_BASE_URL=base):
            t = time.perf_counter()
            for s in sample:
                rechecks.recheck_store(s.pk)
            serial = (time.perf_counter() - t) / len(sample)
        env = dict(os.environ, SANDBOX_BASE_URL=base, Q_WORKERS=str(WORKERS), LOG_LEVEL="WARNING")
        cluster = subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"], cwd=ROOT, env=env, start_new_session=True
        )
        try:
            time.sleep(3)
            t = time.perf_counter()
            batch = rechecks.start_batch(Store.objects.filter(tenant=tenant), owner, "bench")
            deadline = time.time() + (300 if quick else 1200)
            while time.time() < deadline:
                if not RecheckItem.objects.filter(batch=batch, status=RecheckItem.Status.PENDING).exists():
                    break
                time.sleep(0.25)
            wall = time.perf_counter() - t
        finally:
            cluster.terminate()
            cluster.wait(timeout=30)
    finally:
        web.terminate()
        web.wait(timeout=20)
    done = RecheckItem.objects.filter(batch=batch, status=RecheckItem.Status.DONE).count()
    failed = RecheckItem.objects.filter(batch=batch, status=RecheckItem.Status.FAILED).count()
    pending = RecheckItem.objects.filter(batch=batch, status=RecheckItem.Status.PENDING).count()
    still_authorized = Authorization.objects.filter(
        store__tenant=tenant, status=AuthStatus.AUTHORIZED
    ).count()
    parallel = min(WORKERS, os.cpu_count() or 1)
    # Two calls per seller and application fit in the burst of 15, so no bucket makes us wait: the work bounds it.
    ideal = serial * n / parallel
    strict = serial * n / WORKERS
    ratio = wall / ideal
    ok = pending == 0 and failed == 0 and ratio <= TARGET
    rows = [
        [
            "stores re-checked (2 capabilities each)",
            f"{n:,} (done {done}, failed {failed}, pending {pending})",
        ],
        ["authorizations still authorized", f"{still_authorized:,} / {2 * n:,}"],
        ["serial cost of one store's re-check (ms)", f"{serial * 1000:.0f}"],
        ["rate-limit-bound minimum", "< 1 request interval (distinct sellers, 2 calls each within burst 15)"],
        [
            "ideal = serial × stores / min(workers, cores)",
            f"{ideal:.1f} s ({WORKERS} workers, {os.cpu_count()} cores)",
        ],
        ["wall time", f"{wall:.1f} s"],
        ["wall / ideal", f"{ratio:.2f} (target ≤ {TARGET})"],
        ["wall / (serial × stores / workers)", f"{wall / strict:.2f} (if the machine had ≥ {WORKERS} cores)"],
        ["result", "ok" if ok else "MISSED"],
    ]
    print(table("Bulk re-check through django-q2", ["measure", "value"], rows))
    return ok
