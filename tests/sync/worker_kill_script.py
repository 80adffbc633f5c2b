"""Run inside subprocesses by test_worker_kill.py, against a file database shared with a real qcluster."""

from __future__ import annotations

import json
from datetime import timedelta

from django.conf import settings
from django.db.models import Count
from django.utils import timezone
from django_q.tasks import async_task

from accounts.models import Membership, Tenant, User
from authorizations import status
from authorizations.models import Authorization, AuthStatus
from authorizations.store_actions import create_store
from sandbox import api
from stores.models import Store
from sync import order_state
from sync.models import Order, OrderSync

US, CA = "ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"


def setup() -> None:
    """A store with order loading authorized at the sandbox, a slow Orders API, and the backfill enqueued."""
    api.reset()
    seller = api.create_seller("Kill Test Seller", "NA", [US, CA], orders_per_day=5)
    tokens = api.issue_tokens(seller, settings.AMAZON_SPAPI_APPS["orders"]["app_id"])
    user = User.objects.create_user(email="kill@example.org", password="kill-test-password-1")
    tenant = Tenant.create_for_owner(user, "Kill Test")
    membership = Membership.objects.get(tenant=tenant, user=user)
    store = create_store(
        None,  # type: ignore[arg-type]
        membership,
        nickname="Kill test store",
        region="NA",
        sites=["US", "CA"],
        initial_order_date=(timezone.now() - timedelta(days=5)).date(),
    )
    Store.objects.filter(pk=store.pk).update(selling_partner_id=seller.selling_partner_id)
    auth = Authorization.objects.get(store=store, capability="orders")
    auth.status = AuthStatus.AUTHORIZED
    auth.selling_partner_id = seller.selling_partner_id
    auth.set_refresh_token(tokens["refresh_token"])
    auth.authorized_at = timezone.now()
    auth.save()
    status.recompute_in_transaction(store)
    order_state.prepare(Authorization.objects.select_related("store").get(pk=auth.pk))
    # Each page takes a while, so the test can kill the worker between two pages.
    api.set_fault("orders", "slow", 0.4)
    async_task("sync.tasks.sync_orders", store.pk)
    print(json.dumps({"store": store.pk, "seller": seller.selling_partner_id}))


def verify(store_id: int, seller: str) -> None:
    s = OrderSync.objects.get(store_id=store_id)
    stored = list(Order.objects.filter(store_id=store_id).values_list("amazon_order_id", flat=True))
    dupes = (
        Order.objects.filter(store_id=store_id)
        .values("amazon_order_id")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .count()
    )
    expected = [
        o.order_id
        for o in api.generated_orders(
            seller, [US, CA], created_after=s.backfill_from, created_before=s.backfill_done_until
        )
    ]
    print(
        json.dumps(
            {
                "phase": s.phase,
                "stored": len(stored),
                "distinct": len(set(stored)),
                "duplicates": dupes,
                "expected": len(expected),
                "same_ids": set(stored) == set(expected),
                "orders_loaded": s.orders_loaded,
            }
        )
    )
