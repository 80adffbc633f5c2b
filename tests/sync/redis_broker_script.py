"""Run inside subprocesses by test_redis_broker.py, against a file database shared with two real qclusters."""

from __future__ import annotations

import json
from datetime import timedelta

from django.conf import settings
from django.db.models import Count
from django.utils import timezone
from django_q.models import Task
from django_q.tasks import async_task

from accounts.models import Membership, Tenant, User
from authorizations import status
from authorizations.models import Authorization, AuthStatus
from authorizations.store_actions import create_store
from sandbox import api
from stores.models import Store
from sync import order_state
from sync.models import Order, OrderSync

US = "ATVPDKIKX0DER"
STORES = 6


def setup() -> None:
    """Six stores with order loading authorized at the sandbox."""
    assert settings.Q_CLUSTER.get("redis"), "this test must run with the Redis broker"
    api.reset()
    ids = []
    for i in range(STORES):
        seller = api.create_seller(f"Redis Seller {i}", "NA", [US], orders_per_day=6)
        tokens = api.issue_tokens(seller, settings.AMAZON_SPAPI_APPS["orders"]["app_id"])
        user = User.objects.create_user(email=f"redis{i}@example.org", password="redis-test-password-1")
        tenant = Tenant.create_for_owner(user, f"Redis {i}")
        store = create_store(
            None,
            Membership.objects.get(tenant=tenant, user=user),
            nickname=f"Redis store {i}",
            region="NA",
            sites=["US"],
            initial_order_date=(timezone.now() - timedelta(days=6)).date(),
        )
        Store.objects.filter(pk=store.pk).update(selling_partner_id=seller.selling_partner_id)
        auth = Authorization.objects.get(store=store, capability="orders")
        auth.status, auth.selling_partner_id, auth.authorized_at = (
            AuthStatus.AUTHORIZED,
            seller.selling_partner_id,
            timezone.now(),
        )
        auth.set_refresh_token(tokens["refresh_token"])
        auth.save()
        status.recompute_in_transaction(store)
        order_state.prepare(Authorization.objects.select_related("store").get(pk=auth.pk))
        ids.append((store.pk, seller.selling_partner_id))
    # Slow pages keep a run busy long enough for the duplicate to meet it on the other cluster.
    api.set_fault("orders", "slow", 0.3)
    print(json.dumps(ids))


def enqueue(ids: list[list[object]]) -> None:
    """Every backfill task twice: the second is a duplicate delivery."""
    for store_id, _seller in ids:
        async_task("sync.tasks.sync_orders", store_id, group="redis-test")
        async_task("sync.tasks.sync_orders", store_id, group="redis-test")
    print(json.dumps({"enqueued": 2 * len(ids)}))


def progress() -> None:
    done = OrderSync.objects.filter(phase=OrderSync.Phase.INCREMENTAL).count()
    finished = Task.objects.filter(group="redis-test").count()
    print(json.dumps({"backfills_done": done, "tasks_finished": finished}))


def verify(ids: list[list[object]]) -> None:
    stores = []
    for store_id, seller in ids:
        s = OrderSync.objects.get(store_id=store_id)
        stored = Order.objects.filter(store_id=store_id)
        dupes = stored.values("amazon_order_id").annotate(n=Count("pk")).filter(n__gt=1).count()
        expected = api.generated_orders(
            seller, [US], created_after=s.backfill_from, created_before=s.backfill_done_until
        ).count()
        stores.append({"stored": stored.count(), "expected": expected, "duplicates": dupes, "phase": s.phase})
    tasks = Task.objects.filter(group="redis-test")
    results = [t.result for t in tasks]
    print(
        json.dumps(
            {
                "stores": stores,
                "tasks": tasks.count(),
                "clusters": sorted({t.cluster for t in tasks}),
                "busy": results.count("busy_or_not_due"),
                "ran": len([r for r in results if r != "busy_or_not_due"]),
                "failed_tasks": tasks.filter(success=False).count(),
            }
        )
    )
