"""Inventory push: send changed platform stock levels to Amazon with patchListingsItem (fulfillment_availability),
then confirm with getListingsItem that Amazon applied them.

A mapping is "changed" when the platform quantity differs from the quantity Amazon last accepted for it, so a push
delivered twice sends nothing the second time, and a failed SKU is simply tried again by the next push. A SKU whose
accepted quantity Amazon rejected later counts as changed too.

The patch is a `merge` of the DEFAULT channel's quantity, so the listing's lead_time_to_ship_max_days and restock_date
stay as the seller set them ("Merge a listing", https://developer-docs.amazon.com/sp-api/docs/merge-a-listing; see
amazon/listings.py).

Confirmation: ACCEPTED means "accepted for processing" (the model's ListingsItemSubmissionResponse), and "Accepted does
not mean the process is complete", issues may come later ("Manage Listings Issues",
https://developer-docs.amazon.com/sp-api/docs/manage-listings-issues). So each accepted SKU is "pending" and read back
with getListingsItem (issues, fulfillmentAvailability) at CONFIRM_AFTER: "applied" once Amazon shows the quantity,
"rejected" with Amazon's ERROR issue messages (or its 404 at the last check) otherwise.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Min
from django.utils import timezone

from amazon import endpoints
from amazon import listings as api
from authorizations import credentials, status
from authorizations.models import Authorization, AuthStatus, Capability
from stores.models import Store
from sync import grants, jobs, paced
from sync.models import InventoryPush, InventoryPushItem, PlatformStock, SkuMapping

log = logging.getLogger(__name__)
OPERATION = "patchListingsItem"
# Consecutive 5xx/timeouts after which the push stops and leaves the rest to the next run.
MAX_SERVER_FAILURES = 3
# 429s in a row that are retried after the bucket's own short wait before the push pauses for longer.
MAX_QUICK_THROTTLES = 2
CONFIRM_OPERATION = "getListingsItem"
# When an accepted quantity is read back, counted from the push. Amazon gives no processing time, so the checks
# spread out; a quantity still not shown at the last one stays "pending" (Amazon may have sold units meanwhile).
CONFIRM_AFTER = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=20), timedelta(hours=1))
# Issues that explain a quantity Amazon did not apply: ERROR ones naming this attribute or none.
QUANTITY_ATTRIBUTE = "fulfillment_availability"
Confirmation = SkuMapping.Confirmation


def changed(store: Store) -> list[tuple[SkuMapping, int]]:
    stock = dict(
        PlatformStock.objects.filter(tenant_id=store.tenant_id).values_list("platform_sku", "quantity")
    )
    return [
        (m, stock[m.platform_sku])
        for m in SkuMapping.objects.filter(store=store).order_by("id")
        if m.platform_sku in stock
        and (m.pushed_quantity != stock[m.platform_sku] or m.confirmation == Confirmation.REJECTED)
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


def refusal(store: Store) -> status.Explanation | None:
    """Why no push of this store can run now (listing/inventory sync not authorized, needing re-authorization,
    disabled), with what to do; None when it can. Every way to start a push asks this first, so none says "started"
    for a push that the job would skip as "not_authorized"."""
    auth = Authorization.objects.select_related("store").get(store=store, capability=Capability.LISTINGS)
    return None if grants.runnable(auth) else status.explain(auth)


def push(store_id: int) -> str:
    auth = Authorization.objects.select_related("store").get(
        store_id=store_id, capability=Capability.LISTINGS
    )
    if not grants.runnable(auth):
        return "not_authorized"
    # Also picks up read-backs a stopped confirmation left due.
    schedule_confirmation(store_id)
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
    if run.sent:
        schedule_confirmation(store_id)
    return run.status


class Halt(Exception):
    """The push stops before its list is worked through; `error` is the code it stores."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


@dataclass
class Sender:
    """One pass over a push's queue; the pacer's counts of failures in a row decide when it halts."""

    run: InventoryPush
    pacer: paced.Pacer
    base: str


def _send(run: InventoryPush, auth: Authorization, todo: list[tuple[SkuMapping, int]]) -> tuple[str, str]:
    """Push each changed SKU; returns ("", "") when the list was worked through, else (status, error code)."""
    grant = grants.Grant(auth, Capability.LISTINGS, lambda e: _token_refused(auth, e))
    try:
        grant.renew()
        base = endpoints.for_region(auth.store.region).sp_api
        pacer = paced.Pacer(grant, OPERATION, budget=settings.SYNC_TASK_BUDGET_SECONDS)
        _work_through(Sender(run, pacer, base), list(todo))
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
    """Send the queue's SKUs in order until it is empty, the budget is spent or the bucket empty, or a Halt."""
    while queue:
        mapping, quantity = queue[0]
        request = functools.partial(
            api.set_quantity,
            s.base,
            seller_id=s.pacer.who,
            sku=mapping.seller_sku,
            marketplace_id=mapping.marketplace_id,
            quantity=quantity,
            issue_locale=api.ISSUE_LOCALE,
        )
        try:
            result = s.pacer.call(request)
        except paced.Ended:
            raise Halt("not_authorized") from None
        except paced.Later as later:
            jobs.enqueue_inventory_push(s.run.store_id, timezone.now() + timedelta(seconds=later.after))
            return
        except api.ListingsApiError as e:
            if _call_failed(s, mapping, quantity, e):
                queue.pop(0)
            continue
        _settle(s.run, mapping, quantity, result)
        queue.pop(0)


def _settle(run: InventoryPush, mapping: SkuMapping, quantity: int, result: api.PatchResult) -> None:
    if result.accepted:
        _item(run, mapping, quantity, InventoryPushItem.Status.ACCEPTED, "")
        now = timezone.now()
        SkuMapping.objects.filter(pk=mapping.pk).update(
            pushed_quantity=quantity,
            pushed_at=now,
            confirmation=Confirmation.PENDING,
            confirmation_detail="",
            confirmation_checks=0,
            confirm_at=now + CONFIRM_AFTER[0],
        )
    else:
        error = "; ".join(result.issues) or result.status
        _item(run, mapping, quantity, InventoryPushItem.Status.FAILED, error)


def _call_failed(s: Sender, mapping: SkuMapping, quantity: int, e: api.ListingsApiError) -> bool:
    """True once the SKU is recorded as failed, False to send it again; the pacer has counted the failure."""
    if e.kind == "unauthorized":
        # A 403 with a fresh token: the pacer's grant has marked the authorization.
        raise Halt("unauthorized")
    if e.kind == "throttled":
        if s.pacer.throttles > MAX_QUICK_THROTTLES:
            # Repeated 429s mean Amazon wants a real pause, not quick retries.
            _retry_later(s.run.store_id)
            raise Halt("throttled")
        # A lone 429 at 5 requests/s is timing jitter: the emptied bucket spaces the retry.
        return False
    _item(s.run, mapping, quantity, InventoryPushItem.Status.FAILED, f"{e.kind}: {e.message}")
    if s.pacer.server_failures >= MAX_SERVER_FAILURES:
        raise Halt(e.kind)
    return True


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


# --- confirmation: what Amazon made of an accepted quantity ------------------------------------------------------


def schedule_confirmation(store_id: int, not_before: timedelta | None = None) -> None:
    """One pending confirmation task per store, at its earliest due read-back (and not before `not_before`)."""
    due = SkuMapping.objects.filter(
        store_id=store_id, confirmation=Confirmation.PENDING, confirm_at__isnull=False
    ).aggregate(first=Min("confirm_at"))["first"]
    if due is None:
        return
    if not_before is not None:
        due = max(due, timezone.now() + not_before)
    jobs.enqueue_listing_confirmation(store_id, due)


def confirm(store_id: int) -> str:
    """Read back the store's due pending SKUs with getListingsItem and record applied / pending / rejected."""
    auth = (
        Authorization.objects.select_related("store")
        .filter(store_id=store_id, capability=Capability.LISTINGS)
        .first()
    )
    if auth is None or not grants.runnable(auth):
        return "not_authorized"
    due = list(
        SkuMapping.objects.filter(
            store_id=store_id, confirmation=Confirmation.PENDING, confirm_at__lte=timezone.now()
        ).order_by("confirm_at", "id")
    )
    result, resume = "done", None
    try:
        if due:
            grant = grants.Grant(auth, Capability.LISTINGS, _confirm_refused)
            grant.renew()
            base = endpoints.for_region(auth.store.region).sp_api
            pacer = paced.Pacer(grant, CONFIRM_OPERATION, budget=settings.SYNC_TASK_BUDGET_SECONDS)
            _check_all(pacer, base, due)
    except paced.Later as later:
        result, resume = "paused", timedelta(seconds=later.after)
    except Halt as h:
        return h.error
    schedule_confirmation(store_id, resume)
    return result if due else "nothing_due"


def _confirm_refused(e: credentials.VerificationError) -> Exception:
    # A revoked grant is marked by the Grant; anything else (LWA down, throttled) is worth another try later.
    if e.reason == "revoked":
        return Halt(e.reason)
    return paced.Later(settings.SYNC_RETRY_BASE_SECONDS)


def _check_all(pacer: paced.Pacer, base: str, queue: list[SkuMapping]) -> None:
    """Read the queue's SKUs back in order; raises paced.Later to resume later, Halt to stop."""
    while queue:
        mapping = queue[0]
        request = functools.partial(
            api.get_listing,
            base,
            seller_id=pacer.who,
            sku=mapping.seller_sku,
            marketplace_id=mapping.marketplace_id,
            issue_locale=api.ISSUE_LOCALE,
        )
        listing: api.Listing | None = None
        missing = ""
        try:
            listing = pacer.call(request)
        except paced.Ended:
            raise Halt("not_authorized") from None
        except api.ListingsApiError as e:
            if e.kind in ("unauthorized", "throttled", "server_error", "network"):
                if _read_failed(pacer, mapping, e):
                    queue.pop(0)
                continue
            # Amazon answered for this SKU without a listing (404, or a 400): a check that found none.
            missing = e.message
            pacer.answered()
        _record(mapping, listing, missing)
        queue.pop(0)


def _read_failed(pacer: paced.Pacer, mapping: SkuMapping, e: api.ListingsApiError) -> bool:
    """True once the SKU is dealt with for this run, False to read it again; the pacer has counted the failure."""
    if e.kind == "unauthorized":
        # A 403 with a fresh token: the pacer's grant has marked the authorization.
        raise Halt("unauthorized")
    retry = settings.SYNC_RETRY_BASE_SECONDS
    if e.kind == "throttled":
        if pacer.throttles > MAX_QUICK_THROTTLES:
            raise paced.Later(retry)
        return False
    # 5xx or no answer: try this SKU again later without counting a check.
    SkuMapping.objects.filter(pk=mapping.pk, pushed_at=mapping.pushed_at).update(
        confirm_at=timezone.now() + timedelta(seconds=retry)
    )
    if pacer.server_failures >= MAX_SERVER_FAILURES:
        raise paced.Later(retry)
    return True


def verdict(expected: int | None, listing: api.Listing | None, checks: int) -> tuple[str, str]:
    """(confirmation, Amazon's messages) after `checks` read-backs; `listing` None when Amazon answered 404."""
    last = checks >= len(CONFIRM_AFTER)
    if listing is None:
        # A listing Amazon has not created (yet): only the last check calls that a rejection.
        return (Confirmation.REJECTED if last else Confirmation.PENDING), ""
    errors = [
        i.message
        for i in listing.issues
        if i.severity == "ERROR" and (not i.attribute_names or QUANTITY_ATTRIBUTE in i.attribute_names)
    ]
    if listing.quantity == expected:
        return Confirmation.APPLIED, "; ".join(errors)
    if errors:
        return Confirmation.REJECTED, "; ".join(errors)
    return Confirmation.PENDING, ""


def _record(mapping: SkuMapping, listing: api.Listing | None, missing: str) -> None:
    checks = mapping.confirmation_checks + 1
    status, detail = verdict(mapping.pushed_quantity, listing, checks)
    now = timezone.now()
    next_check = None
    if status == Confirmation.PENDING and checks < len(CONFIRM_AFTER) and mapping.pushed_at is not None:
        next_check = max(now, mapping.pushed_at + CONFIRM_AFTER[checks])
    # Only the push this read-back was for: a newer push has started its own confirmation.
    SkuMapping.objects.filter(pk=mapping.pk, pushed_at=mapping.pushed_at).update(
        confirmation=status,
        confirmation_detail=(detail or missing)[:500],
        confirmation_checks=checks,
        confirm_at=next_check,
        checked_at=now,
        amazon_quantity=listing.quantity if listing else None,
    )
