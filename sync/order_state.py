"""A store's OrderSync row outside the pages themselves: created when order loading is authorized, where its
backfill starts, which marketplaces it may ask for, its stops, and how a failure is recorded and rescheduled.

Two answers stop order loading instead of being retried (sync.errors.STOPS), because asking again unchanged gets the
same answer: none of the store's sites is a marketplace the seller participates in, and a 400 for a fresh query.
The stop lasts until the store is edited, its order-loading authorization is re-checked or re-authorized
(`stop_lifted`, and `prepare` on every authorization).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from authorizations.models import Authorization, Capability
from stores.models import Store
from sync import jobs
from sync.errors import STOPS
from sync.models import Order, OrderSync

# Orders API v0 (ordersV0.json OrderStatus: Canceled) and 2026-01-01 (FulfillmentStatus: CANCELLED) spellings.
CANCELLED_STATUSES = {"CANCELED", "CANCELLED"}


def is_cancelled_status(status: str) -> bool:
    return status.replace("_", "").upper() in CANCELLED_STATUSES


def is_cancelled(order: Order) -> bool:
    """Whether the order is cancelled at Amazon (its status reads Canceled/CANCELLED, or it did once: a cancelled
    order never ships). For the shipment confirmation, which refuses a cancelled order before calling Amazon."""
    return order.cancelled_at is not None or is_cancelled_status(order.status)


def cancel_requested(order: Order) -> bool:
    """Whether the buyer asked to cancel (ORDER_CHANGE BuyerRequestedChange or an item's cancellation request)."""
    return order.cancel_requested_at is not None


def backfill_start(store: Store, auth: Authorization) -> datetime:
    if store.initial_order_date:
        tz = ZoneInfo(store.timezone or store.primary_site.timezone)
        return datetime.combine(store.initial_order_date, datetime.min.time(), tzinfo=tz).astimezone(UTC)
    return auth.authorized_at or timezone.now()


def prepare(auth: Authorization) -> OrderSync:
    """The store's OrderSync, created on the first authorization; due now either way (a re-authorization resumes)."""
    store = auth.store
    state, created = OrderSync.objects.get_or_create(
        store=store, defaults={"backfill_from": backfill_start(store, auth), "next_run_at": timezone.now()}
    )
    if not created:
        OrderSync.objects.filter(pk=state.pk).update(next_run_at=timezone.now(), consecutive_failures=0)
        # An authorization (or an enable) lifts a stop: the grant, and with it the participations, may be new.
        OrderSync.objects.filter(pk=state.pk, last_error__in=STOPS).update(
            last_error="", last_error_detail="", last_error_at=None
        )
    return state


def authorization(store_id: int) -> Authorization:
    """The store's order-loading authorization, with its store."""
    return Authorization.objects.select_related("store").get(store_id=store_id, capability=Capability.ORDERS)


def order_marketplaces(auth: Authorization) -> list[str]:
    """The store's marketplaces that searchOrders may ask for: those the seller participates in.

    `granted_marketplaces` is what getMarketplaceParticipations answered at authorization and at each re-check
    (sellers.json: participation.isParticipating). Asking for a marketplace the seller does not participate in is
    refused by Amazon with 403 (github:amzn/selling-partner-api-models issues #5126 and #5295), which would read as
    a refused grant. An authorization without any recorded list (none was ever fetched) keeps the store's sites.
    """
    chosen = auth.store.marketplace_ids
    listed = auth.granted_marketplaces
    if not listed:
        return chosen
    participating = {m.get("id") for m in listed if isinstance(m, dict) and m.get("participating") is True}
    return [m for m in chosen if m in participating]


def stop_lifted(state: OrderSync, auth: Authorization) -> bool:
    """Whether the store or its order-loading authorization changed since the stop was recorded."""
    at = state.last_error_at
    if at is None:
        return True
    changed = (auth.store.updated_at, auth.last_checked_at, auth.authorized_at)
    return any(when is not None and when > at for when in changed)


def still_stopped(state: OrderSync, auth: Authorization) -> bool:
    """Whether a recorded stop still holds; a lifted one is cleared."""
    if state.last_error not in STOPS:
        return False
    if not stop_lifted(state, auth):
        return True
    OrderSync.objects.filter(pk=state.pk).update(last_error="", last_error_detail="", last_error_at=None)
    state.last_error, state.last_error_detail, state.last_error_at = "", "", None
    return False


def end_backfill(s: OrderSync, now: datetime) -> None:
    """The backfill reached its window's end (in memory). A backfill of an earlier gap (sync/order_dates.py) ends
    where the loaded orders began while the increments already run past it: their cursor stays where it is."""
    assert s.window_end is not None
    gap = s.last_updated_after is not None and s.last_updated_after > s.window_end
    s.phase = OrderSync.Phase.INCREMENTAL
    s.backfill_done_until = s.last_updated_after if gap else s.window_end
    s.backfill_finished_at = now
    if not gap:
        s.last_updated_after = s.window_end


# --- failures ------------------------------------------------------------------------------------------------


def stop(s: OrderSync, code: str, detail: str) -> None:
    """Record a stop (sync.errors.STOPS): nothing is rescheduled, and the dispatcher skips the store until
    `stop_lifted`. The query is dropped, so loading resumes from the last stored order."""
    s.query, s.pagination_token, s.consecutive_failures = {}, "", 0
    OrderSync.objects.filter(pk=s.pk).update(query={}, pagination_token="", consecutive_failures=0)
    record(s, code, detail)


def record(s: OrderSync, code: str, detail: str) -> None:
    s.last_error, s.last_error_detail, s.last_error_at = code, detail[:300], timezone.now()
    OrderSync.objects.filter(pk=s.pk).update(
        last_error=s.last_error, last_error_detail=s.last_error_detail, last_error_at=s.last_error_at
    )


def transient(s: OrderSync, code: str, detail: str) -> None:
    """5xx, timeouts, unreadable answers: retry with doubling pauses, then wait for the next regular run."""
    failures = s.consecutive_failures + 1
    if failures > settings.SYNC_RETRY_LIMIT:
        detail = f"gave up after {settings.SYNC_RETRY_LIMIT} retries; {detail}"
        delay = settings.ORDER_SYNC_INTERVAL_MINUTES * 60.0
        failures = 0
    else:
        delay = settings.SYNC_RETRY_BASE_SECONDS * 2.0 ** (failures - 1)
    s.consecutive_failures = failures
    OrderSync.objects.filter(pk=s.pk).update(consecutive_failures=failures)
    record(s, code, detail)
    reschedule(s, delay)


def reschedule(s: OrderSync, seconds: float) -> None:
    at = timezone.now() + timedelta(seconds=max(0.0, seconds))
    OrderSync.objects.filter(pk=s.pk).update(next_run_at=at)
    s.next_run_at = at
    jobs.enqueue_order_sync(s.store_id, at if seconds >= 1 else None)
