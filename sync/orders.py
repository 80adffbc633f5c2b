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

import functools
import json
import logging
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Field, Model, Q
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


M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class Claim:
    state: OrderSync
    # The store's order-loading authorization with its store, when the claim read them in the same statement.
    auth: Authorization | None = None


def claim(store_id: int, worker: str) -> Claim | None:
    """Take the store's lease if its sync is due and nobody holds it, with one conditional UPDATE.

    On PostgreSQL that UPDATE returns the row and, in the same statement, the store's order-loading authorization
    and the store (`_claim_sql`); elsewhere the row is read after it and `run` reads the authorization.
    """
    now = timezone.now()
    until = now + timedelta(seconds=settings.SYNC_LEASE_SECONDS)
    if connection.vendor == "postgresql":
        with connection.cursor() as c:
            c.execute(_claim_sql(), [worker, until, store_id, now, now, Capability.ORDERS])
            row = c.fetchone()
        if row is None:
            return None
        state, at = _from_row(OrderSync, row, 0)
        if row[at] is None:  # no order-loading authorization (run's own read says so)
            return Claim(state)
        auth, at = _from_row(Authorization, row, at)
        auth.store, _ = _from_row(Store, row, at)
        return Claim(state, auth)
    claimed = (
        OrderSync.objects.filter(store_id=store_id, next_run_at__lte=now)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .update(claimed_by=worker, claimed_until=until, enqueued_at=None)
    )
    return Claim(OrderSync.objects.get(store_id=store_id)) if claimed else None


@functools.cache
def _claim_sql() -> str:
    """UPDATE … RETURNING of the claim, joined to the authorization and the store (built once, models ready)."""
    q = connection.ops.quote_name

    def columns(model: type[Model], alias: str) -> str:
        return ", ".join(f"{alias}.{q(str(f.column))}" for f in model._meta.concrete_fields)

    table = q(OrderSync._meta.db_table)
    # Table and column names come from the models; every value is a parameter.
    return (
        f"WITH c AS (UPDATE {table} SET claimed_by = %s, claimed_until = %s, enqueued_at = NULL "  # noqa: S608
        "WHERE store_id = %s AND next_run_at <= %s AND (claimed_until IS NULL OR claimed_until < %s) "
        f"RETURNING {table}.*) "
        f"SELECT {columns(OrderSync, 'c')}, {columns(Authorization, 'a')}, {columns(Store, 's')} FROM c "
        f"LEFT JOIN {q(Authorization._meta.db_table)} a ON a.store_id = c.store_id AND a.capability = %s "
        f"LEFT JOIN {q(Store._meta.db_table)} s ON s.id = c.store_id"
    )


def _from_row(model: type[M], row: tuple[Any, ...], start: int) -> tuple[M, int]:
    """An instance of `model` from its concrete columns at `start` of a raw row (with the fields' own conversions,
    e.g. JSON), and where the next model's columns begin."""
    fields = model._meta.concrete_fields
    values = []
    for f, value in zip(fields, row[start : start + len(fields)], strict=True):
        col = f.get_col(model._meta.db_table)
        for convert in [*connection.ops.get_db_converters(col), *f.get_db_converters(connection)]:
            value = convert(value, col, connection)
        values.append(value)
    return model.from_db(connection.alias, [f.attname for f in fields], values), start + len(fields)


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
    rate_seen: float | None = None  # the last x-amzn-RateLimit-Limit the bucket was told about
    unreadable: bool | None = None  # whether the store has unreadable orders kept aside (read once per run)

    def __post_init__(self) -> None:
        self.grant = grants.Grant(self.auth, Capability.ORDERS, lambda e: _token_refused(self, e))

    @property
    def seller(self) -> str:
        return self.grant.seller


def run(store_id: int) -> str:
    """One delivery of the order-sync task. Returns what happened (for django-q2's result and the tests)."""
    worker = uuid.uuid4().hex
    claimed = claim(store_id, worker)
    if claimed is None:
        return "busy_or_not_due"
    state = claimed.state
    try:
        auth = claimed.auth or _authorization(store_id)
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


# Jobs run only while authorized: a disable, revoke or archive stops the job within this many seconds (at the next
# page once they passed). Reading the authorization and the store before every page would cost two queries a page.
RECHECK_SECONDS = 1.0


def _pages(r: Run) -> str:
    deadline = time.monotonic() + settings.SYNC_TASK_BUDGET_SECONDS
    r.grant.renew()
    checked = time.monotonic()  # `run` has just read the authorization and its store
    ahead = _Ahead()
    try:
        while True:
            if time.monotonic() - checked >= RECHECK_SECONDS:
                r.auth.refresh_from_db(fields=["status", "refresh_token_encrypted", "granted_marketplaces"])
                r.auth.store.refresh_from_db(fields=["archived_at", "sites"])
                checked = time.monotonic()
            if not grants.runnable(r.auth):
                return "not_authorized"
            marketplace_ids = order_marketplaces(r.auth)
            if not marketplace_ids:
                # Amazon is not asked at all: it would refuse every chosen site.
                _stop(r.state, "no_participating_site", ", ".join(r.auth.store.ordered_sites))
                return "stopped"
            pending = ahead.take(marketplace_ids)
            if pending is None:
                wait = _take_token(r)
                if wait:
                    _reschedule(r.state, wait)
                    return "rate_limited"
                pending = _now(_request(r, marketplace_ids, r.state.pagination_token))
            # While a page is on its way, the token for the page after it is taken (so the next request leaves the
            # moment this one is answered); it goes back to the bucket when no next request is sent after all.
            permit = not pending.done() and time.monotonic() <= deadline and not _take_token(r)
            try:
                page = pending.result()
            except BaseException as e:
                if permit:
                    ratelimit.give_back(r.seller, Capability.ORDERS, OPERATION)
                if not isinstance(e, api.OrdersApiError):
                    raise
                if e.kind == "unauthorized" and r.grant.retry_after_403():
                    continue
                return _failed(r, e)
            r.grant.accepted()
            if page.rate_limit != r.rate_seen:
                ratelimit.observe_limit(r.seller, Capability.ORDERS, OPERATION, page.rate_limit)
                r.rate_seen = page.rate_limit
            over = time.monotonic() > deadline
            # The next page is asked for while this one is stored. The cursor still moves only with this page's
            # transaction: a lost lease or a failure drops the page fetched ahead, and the next run asks again.
            if page.next_token and not over and (permit or not _take_token(r)):
                ahead.start(_request(r, marketplace_ids, page.next_token), marketplace_ids)
            elif permit:
                ratelimit.give_back(r.seller, Capability.ORDERS, OPERATION)
            if _store_page(r, page):
                return "done"
            if over or (time.monotonic() > deadline and not ahead.pending):
                # Hand over to a fresh task well before django-q2's timeout would kill this one.
                _reschedule(r.state, 0.0)
                return "continues"
    finally:
        ahead.drop()


def _take_token(r: Run) -> float:
    """A searchOrders token from the shared bucket (short waits slept): 0.0, or the long wait to schedule."""
    return ratelimit.take(r.seller, Capability.ORDERS, OPERATION, settings.SYNC_MAX_INLINE_WAIT_SECONDS)


class _Ahead:
    """The request of the next page, sent while the current page is stored.

    Only the HTTP call runs in the thread (no database access there): its arguments, the access token included,
    are read before it starts, and the page it brings is stored by the job's own thread. With
    ORDER_SYNC_PREFETCH_IN_THREAD off (the test suite, whose sandbox answers inside the test's own database
    transaction) the request is sent at once in the job's thread, in the same order of events.
    """

    def __init__(self) -> None:
        self.pool: ThreadPoolExecutor | None = None
        self.pending: Future[api.Page] | None = None
        self.marketplace_ids: list[str] = []

    def start(self, call: Callable[[], api.Page], marketplace_ids: list[str]) -> None:
        if settings.ORDER_SYNC_PREFETCH_IN_THREAD:
            if self.pool is None:
                self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="order-page")
            self.pending = self.pool.submit(call)
        else:
            self.pending = _now(call)
        self.marketplace_ids = marketplace_ids

    def take(self, marketplace_ids: list[str]) -> Future[api.Page] | None:
        """The page asked for ahead, if it was asked for these marketplaces (the store's sites may have changed)."""
        pending, self.pending = self.pending, None
        if pending is not None and self.marketplace_ids == marketplace_ids:
            return pending
        return None

    def drop(self) -> None:
        """Forget the page asked for ahead: a request still under way ends in its thread, and its page is dropped."""
        self.pending = None
        if self.pool is not None:
            self.pool.shutdown(wait=False, cancel_futures=True)
            self.pool = None


def _now(call: Callable[[], api.Page]) -> Future[api.Page]:
    """The call made at once, in this thread, as a completed future."""
    done: Future[api.Page] = Future()
    try:
        done.set_result(call())
    except Exception as e:  # re-raised by done.result(), where the answer is read
        done.set_exception(e)
    return done


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


def _request(r: Run, marketplace_ids: list[str], pagination_token: str) -> Callable[[], api.Page]:
    """The searchOrders call for the next page of the store's query, its arguments read now."""
    s = r.state
    base = endpoints.for_region(r.auth.store.region).sp_api
    if not s.query:
        s.query = _new_query(s)
    q = s.query

    def at(name: str) -> datetime | None:
        return datetime.fromisoformat(q[name]) if q.get(name) else None

    return functools.partial(
        api.search_orders,
        base,
        r.grant.token,
        marketplace_ids=marketplace_ids,
        created_after=at("createdAfter"),
        created_before=at("createdBefore"),
        last_updated_after=at("lastUpdatedAfter"),
        pagination_token=pagination_token,
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
        if page.unreadable or _kept_aside(r):
            keep_aside(r.auth.store, page)
            r.unreadable = r.unreadable or bool(page.unreadable)
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

    if not (settings.ORDER_CHANGE_NOTIFICATIONS and settings.AMAZON_NOTIFICATIONS_QUEUE_URL):
        return False  # no subscription can deliver: not asked on every sync
    store = r.auth.store
    if not (store.selling_partner_verified and store.selling_partner_id == r.seller):
        # An unverified seller id: notifications may still hint (each is read with this store's own grant), but
        # the store keeps polling as if there were none.
        return False
    return OrderChangeSubscription.objects.filter(
        selling_partner_id=r.seller,
        region=store.region,
        status=OrderChangeSubscription.Status.ACTIVE,
        verified=True,
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


def _kept_aside(r: Run) -> bool:
    """Whether the store has unreadable orders kept aside: only `keep_aside`, under the run's lease, adds them."""
    if r.unreadable is None:
        r.unreadable = UnreadableOrder.objects.filter(store=r.auth.store).exists()
    return r.unreadable


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

    Returns how many orders were new and how many new or changed. A page costs the same few statements however many
    orders it carries: one multi-row upsert of the orders (on SQLite after one read of which are stored already),
    one of their items, and (only for orders stored before) one read and one delete of the lines Amazon no longer
    lists. Writers of a store's orders hold its OrderSync row lock (`_store_page`, sync/order_changes.py), and the
    upsert itself refuses to overwrite a newer copy (`_save_orders`).
    """
    if not orders:
        return 0, 0
    latest = _latest_copies(orders)
    written = _save_orders(store, list(latest.values()))
    if not written:
        return 0, 0
    ids = {oid: pk for oid, (pk, _new) in written.items()}
    _save_items(ids, [latest[oid] for oid in ids], {oid for oid, (_pk, new) in written.items() if not new})
    return sum(1 for _pk, new in written.values() if new), len(written)


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
ORDER_FIELDS = ["store", "amazon_order_id", *ORDER_UPDATE_FIELDS[:-1], "created_at", "updated_at"]
ITEM_UPDATE_FIELDS = ["sku", "asin", "quantity", "unit_price", "currency"]
ITEM_FIELDS = ["order", "order_item_id", *ITEM_UPDATE_FIELDS]


def _save_orders(store: Store, orders: list[api.Order]) -> dict[str, tuple[int, bool]]:
    """Upsert the orders; returns, by Amazon order id, the primary key of each order written (new or newer) and
    whether it is new.

    One INSERT … ON CONFLICT DO UPDATE … WHERE excluded.last_updated > the stored one (PostgreSQL and SQLite alike):
    the statement itself keeps a copy that is not newer from overwriting the stored one (a copy as old as the stored
    one is the stored one: each incremental run re-reads its overlap), and RETURNING names only the rows written.
    PostgreSQL also says which rows it inserted (xmax = 0: no earlier version of the row); on SQLite the orders
    stored already are read first.
    """
    postgres = connection.vendor == "postgresql"
    stored: set[str] = set()
    if not postgres:
        stored = set(
            Order.objects.filter(store=store, amazon_order_id__in=[o.order_id for o in orders]).values_list(
                "amazon_order_id", flat=True
            )
        )
    now = timezone.now()
    keep_raw = settings.ORDER_SYNC_KEEP_RAW
    rows = []
    for o in orders:
        local = local_time(o.created, o.marketplace_id or "", store.timezone)
        rows.append(
            (
                store.pk,
                o.order_id,
                o.marketplace_id or "",
                o.created,
                local.isoformat(timespec="seconds"),
                local.date(),
                o.status or "",
                o.total,
                o.currency or "",
                o.last_updated,
                o.raw if keep_raw else None,
                now,
                now,
            )
        )
    table = connection.ops.quote_name(Order._meta.db_table)
    newer = f"EXCLUDED.{_column(Order, 'last_updated')} > {table}.{_column(Order, 'last_updated')}"
    returning = f"{_column(Order, 'id')}, {_column(Order, 'amazon_order_id')}"
    returning += ", (xmax = 0)" if postgres else ""
    written = _insert_on_conflict(
        Order, ORDER_FIELDS, rows, ["store", "amazon_order_id"], ORDER_UPDATE_FIELDS, where=newer,
        returning=returning,
    )  # fmt: skip
    if postgres:
        return {oid: (pk, bool(new)) for pk, oid, new in written}
    return {oid: (pk, oid not in stored) for pk, oid in written}


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
    rows = [
        (ids[o.order_id], i.order_item_id, i.sku or "", i.asin or "", i.quantity, i.unit_price, i.currency or "")
        for o in fresh
        for i in o.items
    ]
    if rows:
        _insert_on_conflict(OrderItem, ITEM_FIELDS, rows, ["order", "order_item_id"], ITEM_UPDATE_FIELDS)


def _column(model: type[Model], name: str) -> str:
    return str(connection.ops.quote_name(str(_concrete(model, name).column)))


def _insert_on_conflict(
    model: type[Model],
    fields: list[str],
    rows: list[tuple[Any, ...]],
    unique: list[str],
    update: list[str],
    where: str = "",
    returning: str = "",
) -> list[tuple[Any, ...]]:
    """A multi-row INSERT … ON CONFLICT (unique) DO UPDATE SET the `update` fields [WHERE where] [RETURNING
    returning] (`where` and `returning`: SQL over quoted column names), on PostgreSQL and SQLite alike. `rows` hold
    plain values: str, int, Decimal, date, aware datetime, None, and dicts or lists for a JSON column.

    PostgreSQL gets the rows as one JSON parameter (INSERT … SELECT … FROM json_to_recordset(%s)): the driver parses a
    short statement text once and sends one string, whatever the number of rows, where a placeholder per value (or
    an array per column) costs the driver more than the database's whole work. SQLite gets VALUES rows, in as few
    statements as its parameter limit allows.
    """
    qn = connection.ops.quote_name
    meta = [_concrete(model, f) for f in fields]
    names = [str(f.column) for f in meta]
    columns = ", ".join(qn(name) for name in names)
    # Only model metadata (quoted table and column names, column types) goes into the text; values are parameters.
    head = f"INSERT INTO {qn(model._meta.db_table)} ({columns}) "  # noqa: S608
    tail = f" ON CONFLICT ({', '.join(_column(model, f) for f in unique)}) DO UPDATE SET " + ", ".join(
        f"{_column(model, f)} = EXCLUDED.{_column(model, f)}" for f in update
    )
    if where:
        tail += f" WHERE {where}"
    if returning:
        tail += f" RETURNING {returning}"
    if connection.vendor == "postgresql":
        record = ", ".join(f"{qn(name)} {f.db_type(connection)}" for name, f in zip(names, meta, strict=True))
        text = json.dumps([dict(zip(names, row, strict=True)) for row in rows], default=_json_value)
        sql = f"{head}SELECT {columns} FROM json_to_recordset(%s) AS x({record}){tail}"  # noqa: S608
        batches: list[tuple[str, list[Any]]] = [(sql, [text])]
    else:
        one = "(" + ", ".join(["%s"] * len(fields)) + ")"
        size = max(1, (connection.features.max_query_params or 999) // len(fields))
        batches = [
            (
                head + "VALUES " + ", ".join([one] * len(batch)) + tail,
                [_db_value(v) for row in batch for v in row],
            )
            for batch in (rows[start : start + size] for start in range(0, len(rows), size))
        ]
    out: list[tuple[Any, ...]] = []
    with connection.cursor() as cursor:
        for sql, params in batches:
            cursor.execute(sql, params)
            if returning:
                out.extend(cursor.fetchall())
    return out


def _concrete(model: type[Model], name: str) -> Field[Any, Any]:
    field = model._meta.get_field(name)
    assert isinstance(field, Field) and field.column
    return field


def _json_value(value: object) -> str:
    """A value of a row as JSON text for json_to_recordset, which reads it with the column type's input syntax."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not a column value")


def _db_value(value: object) -> Any:
    """A value of a row as the database driver takes it (what Django's fields do on save)."""
    if isinstance(value, datetime):
        return connection.ops.adapt_datetimefield_value(value)
    if isinstance(value, date):
        return connection.ops.adapt_datefield_value(value)
    if isinstance(value, dict | list):
        return connection.ops.adapt_json_value(value, None)
    return value


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


# Rows claimed by one statement of the dispatcher: bounds its transaction and the statement's parameter list.
DISPATCH_BATCH = 1000


def dispatch_due(limit: int | None = None) -> int:
    """Enqueue the order syncs that are due: the safety net behind every re-enqueue, and the regular schedule.

    Every due store in one pass (or the first `limit`), DISPATCH_BATCH rows at a time and in primary-key order, so
    no row is read twice and a pass costs the same per store however many are due: each batch is one
    `SELECT … FOR UPDATE SKIP LOCKED` of due rows, one UPDATE that marks them queued (`enqueued_at`, the claim: a row
    queued within the grace is not queued again), and their tasks enqueued together once it commits. Dispatchers
    running at the same time (the schedule, `manage.py sync_loop` on several machines) skip each other's rows.
    """
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
        .order_by("pk")
    )
    count, after = 0, 0
    while limit is None or count < limit:
        size = DISPATCH_BATCH if limit is None else min(DISPATCH_BATCH, limit - count)
        with transaction.atomic():
            rows = list(
                due.filter(pk__gt=after)
                .select_for_update(skip_locked=True, of=("self",))
                .values_list("pk", "store_id")[:size]
            )
            if rows:
                OrderSync.objects.filter(pk__in=[pk for pk, _ in rows]).update(enqueued_at=now)
                jobs.enqueue_order_syncs([store_id for _, store_id in rows])
        count += len(rows)
        if len(rows) < size:
            break
        after = rows[-1][0]
    return count
