"""Order loading: a backfill from the initial order-pull date (createdAfter), then lastUpdatedAfter increments.

Safety rules, because django-q2 delivers a task at least once:
- a run first claims the store's OrderSync row with a conditional UPDATE (a lease); a second delivery, or a second
  worker, finds it claimed or not due and returns at once;
- each page is stored in one transaction together with the cursor (the query, Amazon's paginationToken and how far
  the backfill got), and only while the lease is still ours: a worker killed between pages resumes exactly there;
- orders are upserted by (store, amazon_order_id), and an older copy never overwrites a newer one.
We never compute createdBefore/lastUpdatedBefore from our own clock: Amazon picks the upper bound (at least two
minutes before the request, per the model) and echoes it, and the next query starts from the echoed bound. So clock
skew between us and Amazon can neither make a request invalid nor lose an order.

Two answers stop order loading instead of being retried (sync.errors.STOPS), because asking again unchanged gets the
same answer: none of the store's sites is a marketplace the seller participates in, and a 400 for a fresh query.
The stop lasts until the store is edited, its order-loading authorization is re-checked or re-authorized
(`stop_lifted`, and `prepare` on every authorization).
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from amazon import endpoints
from amazon import orders as api
from authorizations import alarms, credentials
from authorizations.models import Authorization, AuthStatus, Capability
from stores.models import Store
from sync import grants, jobs, ratelimit
from sync.errors import STOPS
from sync.models import Order, OrderItem, OrderSync, UnreadableOrder, local_time

log = logging.getLogger(__name__)
OPERATION = "searchOrders"


class LostLease(Exception):
    """Another worker took the store over (our lease lapsed): stop without writing."""


class Stop(Exception):
    """The run ends here; `outcome` says why."""

    def __init__(self, outcome: str) -> None:
        super().__init__(outcome)
        self.outcome = outcome


# --- state ---------------------------------------------------------------------------------------------------


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


def _still_stopped(state: OrderSync, auth: Authorization) -> bool:
    if state.last_error not in STOPS:
        return False
    if not stop_lifted(state, auth):
        return True
    OrderSync.objects.filter(pk=state.pk).update(last_error="", last_error_detail="", last_error_at=None)
    state.last_error, state.last_error_detail, state.last_error_at = "", "", None
    return False


def _authorization(store_id: int) -> Authorization:
    return Authorization.objects.select_related("store").get(store_id=store_id, capability=Capability.ORDERS)


def claim(store_id: int, worker: str) -> OrderSync | None:
    now = timezone.now()
    claimed = (
        OrderSync.objects.filter(store_id=store_id, next_run_at__lte=now)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .update(
            claimed_by=worker,
            claimed_until=now + timedelta(seconds=settings.SYNC_LEASE_SECONDS),
            enqueued_at=None,
        )
    )
    return OrderSync.objects.get(store_id=store_id) if claimed else None


def release(state: OrderSync, worker: str) -> None:
    OrderSync.objects.filter(pk=state.pk, claimed_by=worker).update(claimed_by="", claimed_until=None)


# --- a changed initial order-pull date ----------------------------------------------------------------------


# A bound this recent is not sent back to Amazon as createdBefore (it has to be two minutes in Amazon's past).
RECENT_BOUND = timedelta(minutes=10)


class DateChange(StrEnum):
    """What editing the store's initial order-pull date does to order loading (the store page words it)."""

    UNCHANGED = "unchanged"  # same date, or never authorized (loading will start from the new date)
    BACKFILL = "backfill"  # earlier: the missing older orders are loaded, then loading continues as before
    RESTARTED = "restarted"  # no past order was loaded yet: loading starts from the new date
    SKIPPED = "skipped"  # later, while past orders were still loading: the rest loads from the new date
    KEPT = "kept"  # later: nothing changes; the orders already loaded (from before the new date) are kept


@dataclass(frozen=True)
class DateChangeResult:
    outcome: DateChange
    # The gap being loaded (BACKFILL), or where order loading now starts (RESTARTED, SKIPPED): in UTC.
    start: datetime | None = None
    end: datetime | None = None
    # Where the loaded orders begin (KEPT).
    loaded_from: datetime | None = None


def initial_date_changed(store: Store, old_date: date | None, new_date: date | None) -> DateChangeResult:
    """Apply an edited initial order-pull date to the store's order loading (called by the store's edit view).

    `OrderSync.backfill_from` is where the loaded orders begin. An earlier date loads the gap from the new start up to
    there: the backfill runs again, bounded by createdBefore = the old start (the increments' cursor stays, and they
    continue once the gap is loaded). A later date never deletes orders: a finished backfill stays as it is; one
    still running skips ahead to the new date. A worker running the store's sync loses its lease (its next page
    write fails and it stops without writing), so it cannot overwrite the new cursor.
    """
    if old_date == new_date:
        return DateChangeResult(DateChange.UNCHANGED)
    auth = Authorization.objects.filter(store=store, capability=Capability.ORDERS).first()
    if auth is None or not OrderSync.objects.filter(store=store).exists():
        return DateChangeResult(DateChange.UNCHANGED)
    start = backfill_start(store, auth)
    with transaction.atomic():
        s = OrderSync.objects.select_for_update().get(store=store)
        result, changed = _move_start(s, start, timezone.now())
        if not changed:
            return result
        s.query, s.pagination_token, s.consecutive_failures = {}, "", 0
        s.claimed_by, s.claimed_until, s.next_run_at = "", None, timezone.now()
        s.save(
            update_fields=[
                "phase", "backfill_from", "backfill_done_until", "backfill_finished_at", "window_end", "query",
                "pagination_token", "last_updated_after", "consecutive_failures", "claimed_by", "claimed_until",
                "next_run_at", "updated_at",
            ]
        )  # fmt: skip
        jobs.enqueue_order_sync(store.pk)
    log.info(
        "order sync of store %s: initial date %s -> %s: %s", store.pk, old_date, new_date, result.outcome
    )
    return result


def _move_start(s: OrderSync, start: datetime, now: datetime) -> tuple[DateChangeResult, bool]:
    """Change the state in memory for loading from `start`; also says whether anything changed."""
    if s.backfill_done:
        if start >= s.backfill_from:
            return DateChangeResult(DateChange.KEPT, loaded_from=s.backfill_from), False
        # Up to where the loaded orders begin, never past Amazon's own bound of the first backfill.
        end: datetime | None = min(s.backfill_from, s.backfill_done_until or s.backfill_from)
        assert end is not None
        if end > now - RECENT_BOUND:
            # createdBefore has to be two minutes in Amazon's past, and a start at the authorization time a moment
            # ago may not be: the backfill then simply runs again from the new date, up to a bound Amazon picks.
            end = None
        s.phase, s.backfill_finished_at = OrderSync.Phase.BACKFILL, None
        s.backfill_from, s.backfill_done_until, s.window_end = start, None, end
        return DateChangeResult(DateChange.BACKFILL, start=start, end=end), True
    # The backfill is still running: from backfill_from up to backfill_done_until is loaded, up to window_end (when
    # known) is left to load.
    loaded = s.backfill_done_until
    if start == s.backfill_from or (start > s.backfill_from and loaded is not None and start <= loaded):
        # Already past the new date: the orders before it are kept and the backfill carries on.
        return DateChangeResult(DateChange.KEPT, loaded_from=s.backfill_from), False
    gap = s.last_updated_after is not None  # the backfill of an earlier gap: the increments ran before it
    if s.window_end is not None and start >= s.window_end:
        # Nothing is left to load between the new date and where the backfill ends: it ends now.
        end = s.window_end
        _end_backfill(s, now)
        s.window_end = None
        if gap:
            # The rest of the gap is dropped: the fully loaded orders begin where they began before it.
            s.backfill_from = end
            return DateChangeResult(DateChange.KEPT, loaded_from=end), True
        s.backfill_from = start
        return DateChangeResult(DateChange.SKIPPED if loaded else DateChange.RESTARTED, start=start), True
    if loaded is not None and start < s.backfill_from:
        outcome = DateChange.BACKFILL  # loads again from the new date; what was loaded is upserted unchanged
    elif loaded is not None:
        outcome = DateChange.SKIPPED
    else:
        outcome = DateChange.RESTARTED
    s.backfill_from, s.backfill_done_until = start, None
    if not gap:
        # The whole backfill runs again from the new date, so Amazon may pick a new upper bound. The old one (Amazon
        # echoes the time of the request) can be less than the two minutes old that createdBefore has to be.
        s.window_end = None
    return DateChangeResult(outcome, start=start, end=s.window_end), True


# --- the run -------------------------------------------------------------------------------------------------


@dataclass
class Run:
    state: OrderSync
    auth: Authorization
    worker: str
    grant: grants.Grant = field(init=False)
    changed: int = 0  # orders new or changed in this run (adaptive polling)

    def __post_init__(self) -> None:
        self.grant = grants.Grant(self.auth, Capability.ORDERS, lambda e: _token_refused(self, e))

    @property
    def seller(self) -> str:
        return self.grant.seller


def run(store_id: int) -> str:
    """One delivery of the order-sync task. Returns what happened (for django-q2's result and the tests)."""
    worker = uuid.uuid4().hex
    state = claim(store_id, worker)
    if state is None:
        return "busy_or_not_due"
    try:
        auth = _authorization(store_id)
        if not grants.runnable(auth):
            return "not_authorized"
        if _still_stopped(state, auth):
            return "stopped"
        return _pages(Run(state, auth, worker))
    except Stop as s:
        return s.outcome
    except LostLease:
        log.warning("order sync of store %s: lease lost, another worker continues", store_id)
        return "lost_lease"
    finally:
        release(state, worker)


def _pages(r: Run) -> str:
    deadline = time.monotonic() + settings.SYNC_TASK_BUDGET_SECONDS
    r.grant.renew()
    while True:
        # Jobs run only while authorized: a disable, revoke or archive stops the job at the next page.
        r.auth.refresh_from_db(fields=["status", "refresh_token_encrypted", "granted_marketplaces"])
        r.auth.store.refresh_from_db(fields=["archived_at", "sites"])
        if not grants.runnable(r.auth):
            return "not_authorized"
        marketplace_ids = order_marketplaces(r.auth)
        if not marketplace_ids:
            # Amazon is not asked at all: it would refuse every chosen site.
            _stop(r.state, "no_participating_site", ", ".join(r.auth.store.ordered_sites))
            return "stopped"
        wait = ratelimit.take(r.seller, Capability.ORDERS, OPERATION, settings.SYNC_MAX_INLINE_WAIT_SECONDS)
        if wait:
            _reschedule(r.state, wait)
            return "rate_limited"
        try:
            page = _fetch(r, marketplace_ids)
        except api.OrdersApiError as e:
            if e.kind == "unauthorized" and r.grant.retry_after_403():
                continue
            return _failed(r, e)
        r.grant.accepted()
        ratelimit.observe_limit(r.seller, Capability.ORDERS, OPERATION, page.rate_limit)
        if _store_page(r, page):
            return "done"
        if time.monotonic() > deadline:
            # Hand over to a fresh task well before django-q2's timeout would kill this one.
            _reschedule(r.state, 0.0)
            return "continues"


def _token_refused(r: Run, e: credentials.VerificationError) -> Stop:
    if e.reason == "revoked":
        _record(r.state, "revoked", "")
        return Stop("needs_reauthorization")
    if e.reason == "platform_credentials":
        # Our own credentials were refused: one platform alarm says so (authorizations/alarms.py); the store's
        # page stays quiet and the sync simply tries again at its next regular run.
        _reschedule(r.state, settings.ORDER_SYNC_INTERVAL_MINUTES * 60.0)
        return Stop("platform_outage")
    _transient(r.state, e.reason, e.detail)
    return Stop("failed")


def _fetch(r: Run, marketplace_ids: list[str]) -> api.Page:
    s = r.state
    base = endpoints.for_region(r.auth.store.region).sp_api
    if not s.query:
        s.query = _new_query(s)
    q = s.query

    def at(name: str) -> datetime | None:
        return datetime.fromisoformat(q[name]) if q.get(name) else None

    return api.search_orders(
        base,
        r.grant.token,
        marketplace_ids=marketplace_ids,
        created_after=at("createdAfter"),
        created_before=at("createdBefore"),
        last_updated_after=at("lastUpdatedAfter"),
        pagination_token=s.pagination_token,
        page_size=settings.ORDER_SYNC_PAGE_SIZE,
    )


def _new_query(s: OrderSync) -> dict[str, str]:
    if s.phase == OrderSync.Phase.BACKFILL:
        q = {"createdAfter": (s.backfill_done_until or s.backfill_from).isoformat()}
        if s.window_end is not None:
            # A restarted backfill keeps the upper bound of the first query, where the increments take over.
            q["createdBefore"] = s.window_end.isoformat()
        return q
    assert s.last_updated_after is not None
    overlap = timedelta(minutes=settings.ORDER_SYNC_OVERLAP_MINUTES)
    return {"lastUpdatedAfter": (s.last_updated_after - overlap).isoformat()}


def _store_page(r: Run, page: api.Page) -> bool:
    """Upsert the page's orders and move the cursor, atomically and only under our lease. True when done."""
    s = r.state
    now = timezone.now()
    if s.window_end is None:
        s.window_end = page.upper_bound or _latest(page) or now
    if s.phase == OrderSync.Phase.BACKFILL and page.orders:
        newest = max(o.created for o in page.orders)
        s.backfill_done_until = max(newest, s.backfill_done_until) if s.backfill_done_until else newest
    s.pagination_token = page.next_token
    finished = not page.next_token
    if finished:
        if s.phase == OrderSync.Phase.BACKFILL:
            _end_backfill(s, now)
        else:
            s.last_updated_after = s.window_end
        s.query, s.window_end = {}, None
        s.last_success_at = now
        s.last_error, s.last_error_detail, s.last_error_at = "", "", None
        alarms.note_success("sp-api orders")
    s.consecutive_failures = 0
    with transaction.atomic():
        fields = {
            "phase": s.phase,
            "query": s.query,
            "window_end": s.window_end,
            "pagination_token": s.pagination_token,
            "backfill_done_until": s.backfill_done_until,
            "backfill_finished_at": s.backfill_finished_at,
            "last_updated_after": s.last_updated_after,
            "last_success_at": s.last_success_at,
            "last_error": s.last_error,
            "last_error_detail": s.last_error_detail,
            "last_error_at": s.last_error_at,
            "consecutive_failures": 0,
            "claimed_until": now + timedelta(seconds=settings.SYNC_LEASE_SECONDS),
        }
        # Written first: on PostgreSQL this row lock also serialises the upsert below per store.
        if not OrderSync.objects.filter(pk=s.pk, claimed_by=r.worker).update(**fields):
            raise LostLease
        added, changed = upsert(r.auth.store, page.orders)
        keep_aside(r.auth.store, page)
        r.changed += changed
        later: dict[str, object] = {}
        if added:
            # The row is locked by the update above, so the running count cannot miss a concurrent page.
            later["orders_loaded"] = F("orders_loaded") + added
            s.orders_loaded += added
        if finished:
            s.quiet_runs = 0 if r.changed else s.quiet_runs + 1
            s.next_run_at = now + timedelta(seconds=poll_pause(r, s))
            later.update(quiet_runs=s.quiet_runs, next_run_at=s.next_run_at)
        if later:
            OrderSync.objects.filter(pk=s.pk).update(**later)
    return finished


def poll_pause(r: Run, s: OrderSync) -> float:
    """Seconds until the store's next incremental run (adaptive polling).

    Amazon's searchOrders bucket (rate 0.0056/s, burst 20, per seller and application: orders_2026-01-01.json, the
    operation's Usage Plan; the rate Amazon actually applies comes back in x-amzn-RateLimit-Limit and is what the
    bucket holds) sustains one request every 1 / rate seconds. A store whose orders keep coming is polled that
    often; after ORDER_SYNC_QUIET_RUNS runs without a new or changed order the pause doubles with every further
    quiet run, up to ORDER_SYNC_INTERVAL_MINUTES. A seller subscribed to ORDER_CHANGE gets its orders from the
    notifications within seconds (sync/order_changes.py): its polls only confirm, at the longest pause.
    """
    longest = settings.ORDER_SYNC_INTERVAL_MINUTES * 60.0
    if order_changes_active(r):
        return longest
    floor = ratelimit.steady_interval(r.seller, Capability.ORDERS, OPERATION)
    doublings = max(0, s.quiet_runs - settings.ORDER_SYNC_QUIET_RUNS + 1)
    return min(longest, floor * 2.0 ** min(doublings, 16))


def order_changes_active(r: Run) -> bool:
    from sync.models import OrderChangeSubscription

    return OrderChangeSubscription.objects.filter(
        selling_partner_id=r.seller,
        region=r.auth.store.region,
        status=OrderChangeSubscription.Status.ACTIVE,
    ).exists()


def _end_backfill(s: OrderSync, now: datetime) -> None:
    """The backfill reached its window's end. A backfill of an earlier gap (`initial_date_changed`) ends where the
    loaded orders began while the increments already run past it: their cursor stays where it is."""
    assert s.window_end is not None
    gap = s.last_updated_after is not None and s.last_updated_after > s.window_end
    s.phase = OrderSync.Phase.INCREMENTAL
    s.backfill_done_until = s.last_updated_after if gap else s.window_end
    s.backfill_finished_at = now
    if not gap:
        s.last_updated_after = s.window_end


def keep_aside(store: Store, page: api.Page) -> None:
    """Record the page's unreadable orders for staff; an order read fine now is no longer unreadable."""
    read = [o.order_id for o in page.orders]
    if read:
        UnreadableOrder.objects.filter(store=store, amazon_order_id__in=read).delete()
    if not page.unreadable:
        return
    now = timezone.now()
    # One row per (store, order id): a page may carry the same id (or several without one) more than once.
    latest = {u.order_id: u for u in page.unreadable}
    UnreadableOrder.objects.bulk_create(
        [
            UnreadableOrder(
                store=store,
                amazon_order_id=u.order_id,
                reason=u.reason,
                raw=u.raw,
                first_seen=now,
                last_seen=now,
            )
            for u in latest.values()
        ],
        update_conflicts=True,
        unique_fields=["store", "amazon_order_id"],
        update_fields=["reason", "raw", "last_seen"],
    )
    log.warning("order sync of store %s: %d unreadable orders kept aside", store.pk, len(latest))


def _latest(page: api.Page) -> datetime | None:
    return max((o.last_updated for o in page.orders), default=None)


def upsert(store: Store, orders: list[api.Order]) -> tuple[int, int]:
    """Insert or update by (store, amazon_order_id); a copy older than the stored one is skipped.

    Returns how many orders were new and how many new or changed. A page costs the same few statements however many orders it carries: one
    read of the stored copies' last update, one multi-row upsert of the orders, one of their items, and (only for
    orders stored before) one read and one delete of the lines Amazon no longer lists.
    """
    if not orders:
        return 0, 0
    latest = _latest_copies(orders)
    stored = dict(
        Order.objects.filter(store=store, amazon_order_id__in=list(latest)).values_list(
            "amazon_order_id", "last_updated"
        )
    )
    # A copy as old as the stored one is the stored one (each incremental run re-reads its overlap): not written.
    fresh = [o for o in latest.values() if o.order_id not in stored or o.last_updated > stored[o.order_id]]
    if not fresh:
        return 0, 0
    ids = _save_orders(store, fresh)
    _save_items(ids, fresh, {o.order_id for o in fresh if o.order_id in stored})
    return sum(1 for o in fresh if o.order_id not in stored), len(fresh)


def _latest_copies(orders: list[api.Order]) -> dict[str, api.Order]:
    # Overlapping queries can return one order more than once: only its latest copy may be stored.
    latest: dict[str, api.Order] = {}
    for o in orders:
        if o.order_id not in latest or o.last_updated >= latest[o.order_id].last_updated:
            latest[o.order_id] = o
    return latest


ORDER_UPDATE_FIELDS = [
    "marketplace_id",
    "purchase_date",
    "purchase_date_local",
    "purchase_day_local",
    "status",
    "total_amount",
    "currency",
    "last_updated",
    "raw",
    "updated_at",
]


def _order_row(store: Store, o: api.Order, now: datetime) -> Order:
    local = local_time(o.created, o.marketplace_id or "", store.timezone)
    return Order(
        store=store,
        amazon_order_id=o.order_id,
        marketplace_id=o.marketplace_id or "",
        purchase_date=o.created,
        purchase_date_local=local.isoformat(timespec="seconds"),
        purchase_day_local=local.date(),
        status=o.status or "",
        total_amount=o.total,
        currency=o.currency or "",
        last_updated=o.last_updated,
        raw=o.raw if settings.ORDER_SYNC_KEEP_RAW else None,
        created_at=now,
        updated_at=now,
    )


def _save_orders(store: Store, fresh: list[api.Order]) -> dict[str, int]:
    """Upsert the orders in one statement; returns their primary keys by Amazon order id."""
    now = timezone.now()
    rows = Order.objects.bulk_create(
        [_order_row(store, o, now) for o in fresh],
        update_conflicts=True,
        unique_fields=["store", "amazon_order_id"],
        update_fields=ORDER_UPDATE_FIELDS,
    )
    if all(r.pk is not None for r in rows):
        # PostgreSQL and SQLite return the ids of inserted and updated rows alike (INSERT … ON CONFLICT … RETURNING).
        return {r.amazon_order_id: r.pk for r in rows}
    return dict(
        Order.objects.filter(store=store, amazon_order_id__in=[o.order_id for o in fresh]).values_list(
            "amazon_order_id", "pk"
        )
    )


def _save_items(ids: dict[str, int], fresh: list[api.Order], updated: set[str]) -> None:
    """Upsert the orders' items; for orders stored before, drop the lines Amazon no longer lists (a changed order
    may lose lines)."""
    if updated:
        wanted = {(ids[o.order_id], i.order_item_id) for o in fresh if o.order_id in updated for i in o.items}
        lines = OrderItem.objects.filter(order_id__in=[ids[oid] for oid in updated]).values_list(
            "pk", "order_id", "order_item_id"
        )
        stale = [pk for pk, order_id, item_id in lines if (order_id, item_id) not in wanted]
        if stale:
            OrderItem.objects.filter(pk__in=stale).delete()
    items = [
        OrderItem(
            order_id=ids[o.order_id],
            order_item_id=i.order_item_id,
            sku=i.sku or "",
            asin=i.asin or "",
            quantity=i.quantity,
            unit_price=i.unit_price,
            currency=i.currency or "",
        )
        for o in fresh
        for i in o.items
    ]
    if items:
        OrderItem.objects.bulk_create(
            items,
            update_conflicts=True,
            unique_fields=["order", "order_item_id"],
            update_fields=["sku", "asin", "quantity", "unit_price", "currency"],
        )


# --- failures ------------------------------------------------------------------------------------------------


def _failed(r: Run, e: api.OrdersApiError) -> str:
    s = r.state
    if e.kind == "throttled":
        wait = ratelimit.throttled(r.seller, Capability.ORDERS, OPERATION)
        _record(s, "throttled", e.message)
        _reschedule(s, wait)
        return "throttled"
    if e.kind == "unauthorized":
        # The grant has already marked the authorization: a fresh token was refused too.
        _record(s, "unauthorized", "")
        return "needs_reauthorization"
    if e.kind == "invalid":
        if not s.pagination_token:
            # A 400 for a fresh query: the same request would get the same 400 (orders_2026-01-01.json, 400
            # "Request has missing or invalid parameters and cannot be parsed."), so stop until something changes.
            _stop(s, "rejected", e.message)
            return "rejected"
        # The token expired (24 hours, per the model's Pagination) or was refused: restart the query from the last
        # stored order, once; a 400 for the restarted query is the stop above.
        OrderSync.objects.filter(pk=s.pk).update(query={}, pagination_token="")
        s.query, s.pagination_token = {}, ""
    if e.kind in ("server_error", "network"):
        alarms.note_failure("sp-api orders", str(r.auth.store.code))
    _transient(s, e.kind, e.message)
    return "failed"


def _stop(s: OrderSync, code: str, detail: str) -> None:
    """Record a stop (sync.errors.STOPS): nothing is rescheduled, and the dispatcher skips the store until
    `stop_lifted`. The query is dropped, so loading resumes from the last stored order."""
    s.query, s.pagination_token, s.consecutive_failures = {}, "", 0
    OrderSync.objects.filter(pk=s.pk).update(query={}, pagination_token="", consecutive_failures=0)
    _record(s, code, detail)


def _record(s: OrderSync, code: str, detail: str) -> None:
    s.last_error, s.last_error_detail, s.last_error_at = code, detail[:300], timezone.now()
    OrderSync.objects.filter(pk=s.pk).update(
        last_error=s.last_error, last_error_detail=s.last_error_detail, last_error_at=s.last_error_at
    )


def _transient(s: OrderSync, code: str, detail: str) -> None:
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
    _record(s, code, detail)
    _reschedule(s, delay)


def _reschedule(s: OrderSync, seconds: float) -> None:
    at = timezone.now() + timedelta(seconds=max(0.0, seconds))
    OrderSync.objects.filter(pk=s.pk).update(next_run_at=at)
    s.next_run_at = at
    jobs.enqueue_order_sync(s.store_id, at if seconds >= 1 else None)


# --- the dispatcher ------------------------------------------------------------------------------------------


def dispatch_due(limit: int = 1000) -> int:
    """Enqueue the order syncs that are due: the safety net behind every re-enqueue, and the regular schedule."""
    now = timezone.now()
    # A task still waiting in the queue is not enqueued again for a while.
    grace = now - timedelta(minutes=10)
    free = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    not_queued = Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=grace)
    # A stopped store waits until it, or its order-loading authorization, changed after the stop (stop_lifted).
    not_stopped = (
        ~Q(last_error__in=STOPS)
        | Q(store__updated_at__gt=F("last_error_at"))
        | Q(store__authorizations__last_checked_at__gt=F("last_error_at"))
        | Q(store__authorizations__authorized_at__gt=F("last_error_at"))
    )
    due = (
        OrderSync.objects.filter(free, not_queued, next_run_at__lte=now, store__archived_at__isnull=True)
        .filter(
            not_stopped,
            store__authorizations__capability=Capability.ORDERS,
            store__authorizations__status=AuthStatus.AUTHORIZED,
        )
        .values_list("pk", "store_id")[:limit]
    )
    count = 0
    for pk, store_id in list(due):
        with transaction.atomic():
            if OrderSync.objects.filter(not_queued, pk=pk).update(enqueued_at=now):
                jobs.enqueue_order_sync(store_id)
                count += 1
    return count
