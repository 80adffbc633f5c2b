"""Inventory push: send changed platform stock levels to Amazon with patchListingsItem (fulfillment_availability).

A mapping is "changed" when the platform quantity differs from the quantity Amazon last accepted for it, so a push
delivered twice sends nothing the second time, and a failed SKU is simply tried again by the next push.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from amazon import endpoints
from amazon import listings as api
from authorizations import credentials, lifecycle
from authorizations.models import Authorization, AuthStatus, Capability
from stores.models import Store
from sync import jobs, ratelimit
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
    if not _runnable(auth):
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


def _runnable(auth: Authorization) -> bool:
    return auth.status == AuthStatus.AUTHORIZED and auth.has_token and auth.store.archived_at is None


def _token_failed(auth: Authorization, e: credentials.VerificationError) -> tuple[str, str]:
    if e.reason == "revoked":
        lifecycle.mark_needs_reauthorization(auth, "revoked")
    else:
        jobs.enqueue_inventory_push(
            auth.store_id, timezone.now() + timedelta(seconds=settings.SYNC_RETRY_BASE_SECONDS)
        )
    return InventoryPush.Status.STOPPED, e.reason


def _send(run: InventoryPush, auth: Authorization, todo: list[tuple[SkuMapping, int]]) -> tuple[str, str]:
    """Push each changed SKU; returns ("", "") when the list was worked through, else (status, error code)."""
    store = auth.store
    seller = auth.selling_partner_id or store.selling_partner_id
    try:
        token = credentials.access_token_for(store, Capability.LISTINGS, auth.get_refresh_token())
    except credentials.VerificationError as e:
        return _token_failed(auth, e)
    refreshed = True
    base = endpoints.for_region(store.region).sp_api
    deadline = time.monotonic() + settings.SYNC_TASK_BUDGET_SECONDS
    server_failures = throttles = 0
    queue = list(todo)
    while queue:
        mapping, quantity = queue[0]
        auth.refresh_from_db(fields=["status"])
        if auth.status != AuthStatus.AUTHORIZED:
            return InventoryPush.Status.STOPPED, "not_authorized"
        wait = ratelimit.take(seller, Capability.LISTINGS, OPERATION, settings.SYNC_MAX_INLINE_WAIT_SECONDS)
        if wait or time.monotonic() > deadline:
            jobs.enqueue_inventory_push(store.pk, timezone.now() + timedelta(seconds=wait))
            return "", ""
        try:
            result = api.set_quantity(
                base,
                token,
                seller_id=seller,
                sku=mapping.seller_sku,
                marketplace_id=mapping.marketplace_id,
                quantity=quantity,
            )
            refreshed = False
        except api.ListingsApiError as e:
            if e.kind == "unauthorized" and not refreshed:
                # The access token may simply have expired (one hour): retry once with a fresh one.
                try:
                    token = credentials.access_token_for(store, Capability.LISTINGS, auth.get_refresh_token())
                except credentials.VerificationError as ve:
                    return _token_failed(auth, ve)
                refreshed = True
                continue
            if e.kind == "unauthorized":
                lifecycle.mark_needs_reauthorization(auth, "unauthorized")
                return InventoryPush.Status.STOPPED, "unauthorized"
            if e.kind == "throttled":
                ratelimit.throttled(seller, Capability.LISTINGS, OPERATION)
                throttles += 1
                if throttles <= MAX_QUICK_THROTTLES:
                    # A lone 429 at 5 requests/s is timing jitter: the emptied bucket spaces the retry.
                    continue
                # Repeated 429s mean Amazon wants a real pause, not quick retries.
                pause = float(settings.SYNC_RETRY_BASE_SECONDS)
                jobs.enqueue_inventory_push(store.pk, timezone.now() + timedelta(seconds=pause))
                return InventoryPush.Status.STOPPED, "throttled"
            queue.pop(0)
            _item(run, mapping, quantity, InventoryPushItem.Status.FAILED, f"{e.kind}: {e.message}")
            server_failures = server_failures + 1 if e.kind in ("server_error", "network") else 0
            if server_failures >= MAX_SERVER_FAILURES:
                return InventoryPush.Status.STOPPED, e.kind
            continue
        queue.pop(0)
        server_failures = throttles = 0
        ratelimit.observe_limit(seller, Capability.LISTINGS, OPERATION, result.rate_limit)
        if result.accepted:
            _item(run, mapping, quantity, InventoryPushItem.Status.ACCEPTED, "")
            SkuMapping.objects.filter(pk=mapping.pk).update(
                pushed_quantity=quantity, pushed_at=timezone.now()
            )
        else:
            _item(
                run,
                mapping,
                quantity,
                InventoryPushItem.Status.FAILED,
                "; ".join(result.issues) or result.status,
            )
    return "", ""


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
