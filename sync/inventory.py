"""Inventory push: send changed platform stock levels to Amazon with patchListingsItem (fulfillment_availability).

A mapping is "changed" when the platform quantity differs from the quantity Amazon last accepted for it, so a push
delivered twice sends nothing the second time, and a failed SKU is simply tried again by the next push.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from amazon import endpoints
from amazon import listings as api
from authorizations import credentials
from authorizations.models import Authorization, AuthStatus, Capability
from stores.models import Store
from sync import grants, jobs, ratelimit
from sync.models import InventoryPush, InventoryPushItem, PlatformStock, SkuMapping

log = logging.getLogger(__name__)
OPERATION = "patchListingsItem"
# Consecutive 5xx/timeouts after which the push stops and leaves the rest to the next run.
MAX_SERVER_FAILURES = 3
# 429s in a row that are retried after the bucket's own short wait before the push pauses for longer.
MAX_QUICK_THROTTLES = 2


def changed(store: Store) -> list[tuple[SkuMapping, int]]:
    stock = dict(
        PlatformStock.objects.filter(tenant_id=store.tenant_id).values_list("platform_sku", "quantity")
    )
    return [
        (m, stock[m.platform_sku])
        for m in SkuMapping.objects.filter(store=store).order_by("id")
        if m.platform_sku in stock and m.pushed_quantity != stock[m.platform_sku]
    ]


def _start(store_id: int) -> InventoryPush | None:
    """A push row for this run, unless another push of the store is running (its claim lasts one lease)."""
    with transaction.atomic():
        Store.objects.select_for_update().filter(pk=store_id).first()
        since = timezone.now() - timedelta(seconds=settings.SYNC_LEASE_SECONDS)
        if InventoryPush.objects.filter(
            store_id=store_id, status=InventoryPush.Status.RUNNING, started_at__gte=since
        ).exists():
            return None
        return InventoryPush.objects.create(store_id=store_id)


def push(store_id: int) -> str:
    auth = Authorization.objects.select_related("store").get(
        store_id=store_id, capability=Capability.LISTINGS
    )
    if not grants.runnable(auth):
        return "not_authorized"
    todo = changed(auth.store)
    if not todo:
        return "nothing_to_push"
    run = _start(store_id)
    if run is None:
        return "busy"
    status, error = _send(run, auth, todo)
    run.status = (
        status if status else (InventoryPush.Status.PARTIAL if run.failed else InventoryPush.Status.DONE)
    )
    run.error = error
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "error", "finished_at", "sent", "failed"])
    return run.status


class Halt(Exception):
    """The push stops before its list is worked through; `error` is the code it stores."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


@dataclass
class Sender:
    """One pass over a push's queue; the counters of failures in a row decide when it halts."""

    run: InventoryPush
    grant: grants.Grant
    base: str
    deadline: float
    server_failures: int = 0
    throttles: int = 0

    @property
    def store(self) -> Store:
        return self.grant.auth.store


def _send(run: InventoryPush, auth: Authorization, todo: list[tuple[SkuMapping, int]]) -> tuple[str, str]:
    """Push each changed SKU; returns ("", "") when the list was worked through, else (status, error code)."""
    grant = grants.Grant(auth, Capability.LISTINGS, lambda e: _token_refused(auth, e))
    try:
        grant.renew()
        base = endpoints.for_region(auth.store.region).sp_api
        sender = Sender(run, grant, base, deadline=time.monotonic() + settings.SYNC_TASK_BUDGET_SECONDS)
        _work_through(sender, list(todo))
    except Halt as h:
        return InventoryPush.Status.STOPPED, h.error
    return "", ""


def _token_refused(auth: Authorization, e: credentials.VerificationError) -> Halt:
    if e.reason != "revoked":
        _retry_later(auth.store_id)
    return Halt(e.reason)


def _retry_later(store_id: int) -> None:
    jobs.enqueue_inventory_push(
        store_id, timezone.now() + timedelta(seconds=settings.SYNC_RETRY_BASE_SECONDS)
    )


def _work_through(s: Sender, queue: list[tuple[SkuMapping, int]]) -> None:
    """Send the queue's SKUs in order until it is empty, the budget is spent, or a Halt."""
    while queue:
        s.grant.auth.refresh_from_db(fields=["status"])
        if s.grant.auth.status != AuthStatus.AUTHORIZED:
            raise Halt("not_authorized")
        wait = ratelimit.take(
            s.grant.seller, Capability.LISTINGS, OPERATION, settings.SYNC_MAX_INLINE_WAIT_SECONDS
        )
        if wait or time.monotonic() > s.deadline:
            jobs.enqueue_inventory_push(s.store.pk, timezone.now() + timedelta(seconds=wait))
            return
        mapping, quantity = queue[0]
        if _send_one(s, mapping, quantity):
            queue.pop(0)


def _send_one(s: Sender, mapping: SkuMapping, quantity: int) -> bool:
    """Send one SKU's quantity: True once the SKU is settled (accepted or failed), False to send it again."""
    try:
        result = api.set_quantity(
            s.base,
            s.grant.token,
            seller_id=s.grant.seller,
            sku=mapping.seller_sku,
            marketplace_id=mapping.marketplace_id,
            quantity=quantity,
        )
    except api.ListingsApiError as e:
        return _call_failed(s, mapping, quantity, e)
    s.grant.accepted()
    s.server_failures = s.throttles = 0
    ratelimit.observe_limit(s.grant.seller, Capability.LISTINGS, OPERATION, result.rate_limit)
    _settle(s.run, mapping, quantity, result)
    return True


def _settle(run: InventoryPush, mapping: SkuMapping, quantity: int, result: api.PatchResult) -> None:
    if result.accepted:
        _item(run, mapping, quantity, InventoryPushItem.Status.ACCEPTED, "")
        SkuMapping.objects.filter(pk=mapping.pk).update(pushed_quantity=quantity, pushed_at=timezone.now())
    else:
        error = "; ".join(result.issues) or result.status
        _item(run, mapping, quantity, InventoryPushItem.Status.FAILED, error)


def _call_failed(s: Sender, mapping: SkuMapping, quantity: int, e: api.ListingsApiError) -> bool:
    """Like _send_one's answer: False to send the SKU again, True once it is recorded as failed."""
    if e.kind == "unauthorized":
        if s.grant.retry_after_403():
            return False
        raise Halt("unauthorized")
    if e.kind == "throttled":
        _throttled(s)
        return False
    _item(s.run, mapping, quantity, InventoryPushItem.Status.FAILED, f"{e.kind}: {e.message}")
    s.server_failures = s.server_failures + 1 if e.kind in ("server_error", "network") else 0
    if s.server_failures >= MAX_SERVER_FAILURES:
        raise Halt(e.kind)
    return True


def _throttled(s: Sender) -> None:
    ratelimit.throttled(s.grant.seller, Capability.LISTINGS, OPERATION)
    s.throttles += 1
    if s.throttles > MAX_QUICK_THROTTLES:
        # Repeated 429s mean Amazon wants a real pause, not quick retries.
        _retry_later(s.store.pk)
        raise Halt("throttled")
    # A lone 429 at 5 requests/s is timing jitter: the emptied bucket spaces the retry.


def _item(run: InventoryPush, mapping: SkuMapping, quantity: int, status: str, error: str) -> None:
    InventoryPushItem.objects.create(
        push=run,
        mapping=mapping,
        seller_sku=mapping.seller_sku,
        marketplace_id=mapping.marketplace_id,
        quantity=quantity,
        status=status,
        error=error[:300],
    )
    if status == InventoryPushItem.Status.ACCEPTED:
        run.sent += 1
    else:
        run.failed += 1


def push_all() -> int:
    """The schedule: one push task per store whose listings capability is authorized and that has mappings."""
    store_ids = (
        Authorization.objects.filter(
            capability=Capability.LISTINGS, status=AuthStatus.AUTHORIZED, store__archived_at__isnull=True
        )
        .filter(store__sku_mappings__isnull=False)
        .values_list("store_id", flat=True)
        .distinct()
    )
    ids = list(store_ids)
    for store_id in ids:
        jobs.enqueue_inventory_push(store_id)
    return len(ids)
