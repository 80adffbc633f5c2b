"""The run of one order sync (`run`, the task `sync.tasks.sync_orders`): a backfill from the initial order-pull date
(createdAfter), then lastUpdatedAfter increments, page by page.

Following one run: `run` claims the store's lease (sync/lease.py) → `_pages` asks for each page (a token from the
shared bucket, the call, the next page asked for ahead: sync/prefetch.py) → `_store_page` stores it with its
cursor (sync/order_store.py) and, after the last page, sets the next run (sync/cadence.py) → a failure is recorded
or backed off (`_failed`, with sync/order_state.py) → the lease is released.

Safety rules, because django-q2 delivers a task at least once:
- a run first claims the store's OrderSync row with a conditional UPDATE (a lease); a second delivery, or a second
  worker, finds it claimed or not due and returns at once;
- each page is stored in one transaction together with the cursor (the query, Amazon's paginationToken and how far
  the backfill got), and only while the lease is still ours: a worker killed between pages resumes exactly there;
- orders are upserted by (store, amazon_order_id), and an older copy never overwrites a newer one.
We never compute createdBefore/lastUpdatedBefore from our own clock: Amazon picks the upper bound (at least two
minutes before the request, per the model) and echoes it, and the next query starts from the echoed bound. So clock
skew between us and Amazon can neither make a request invalid nor lose an order.
"""

from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from amazon import endpoints
from amazon import orders as api
from authorizations import alarms, credentials
from authorizations.models import Authorization, Capability
from sync import grants, order_state, paced, prefetch
from sync.cadence import poll_pause
from sync.lease import LostLease, claim, release
from sync.models import OrderSync, UnreadableOrder
from sync.order_store import keep_aside, upsert

log = logging.getLogger(__name__)
OPERATION = "searchOrders"
# Jobs run only while authorized: a disable, revoke or archive stops the job within this many seconds (at the next
# page once they passed). Reading the authorization and the store before every page would cost two queries a page.
RECHECK_SECONDS = 1.0


class Stop(Exception):
    """The run ends here; `outcome` says why."""

    def __init__(self, outcome: str) -> None:
        super().__init__(outcome)
        self.outcome = outcome


@dataclass
class Run:
    state: OrderSync
    auth: Authorization
    worker: str
    grant: grants.Grant = field(init=False)
    pacer: paced.Pacer = field(init=False)
    changed: int = 0  # orders new or changed in this run (adaptive polling)
    unreadable: bool | None = None  # whether the store has unreadable orders kept aside (read once per run)

    def __post_init__(self) -> None:
        self.grant = grants.Grant(self.auth, Capability.ORDERS, lambda e: _token_refused(self, e))
        # `run` has just read the authorization and its store: the first page does not read them again.
        self.pacer = paced.Pacer(
            self.grant,
            OPERATION,
            budget=settings.SYNC_TASK_BUDGET_SECONDS,
            recheck_every=RECHECK_SECONDS,
            store_fields=("archived_at", "sites"),
        )

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
        auth = claimed.auth or order_state.authorization(store_id)
        if not grants.runnable(auth):
            return "not_authorized"
        if order_state.still_stopped(state, auth):
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
    """The pages of the store's query, through the paced skeleton's steps (sync/paced.py) one by one: while a page
    is stored, the next one is already asked for (sync/prefetch.py) with a token taken for it."""
    p = r.pacer
    r.grant.renew()
    ahead = prefetch.Ahead()
    try:
        while True:
            if not p.may_run():
                return "not_authorized"
            marketplace_ids = order_state.order_marketplaces(r.auth)
            if not marketplace_ids:
                # Amazon is not asked at all: it would refuse every chosen site.
                order_state.stop(r.state, "no_participating_site", ", ".join(r.auth.store.ordered_sites))
                return "stopped"
            pending = ahead.take(marketplace_ids)
            if pending is None:
                wait = p.take()
                if wait:
                    order_state.reschedule(r.state, wait)
                    return "rate_limited"
                pending = prefetch.now(_request(r, marketplace_ids, r.state.pagination_token))
            # While a page is on its way, the token for the page after it is taken (so the next request leaves the
            # moment this one is answered); it goes back to the bucket when no next request is sent after all.
            permit = not pending.done() and not p.over_budget() and not p.take()
            try:
                page = pending.result()
            except BaseException as e:
                if permit:
                    p.give_back()
                if not isinstance(e, api.OrdersApiError):
                    raise
                if p.failed(e):
                    continue
                return _failed(r, e)
            p.answered(page.rate_limit)
            over = p.over_budget()
            # The next page is asked for while this one is stored. The cursor still moves only with this page's
            # transaction: a lost lease or a failure drops the page fetched ahead, and the next run asks again.
            if page.next_token and not over and (permit or not p.take()):
                ahead.start(_request(r, marketplace_ids, page.next_token), marketplace_ids)
            elif permit:
                p.give_back()
            if _store_page(r, page):
                return "done"
            if over or (p.over_budget() and not ahead.pending):
                # Hand over to a fresh task well before django-q2's timeout would kill this one.
                order_state.reschedule(r.state, 0.0)
                return "continues"
    finally:
        ahead.drop()


def _token_refused(r: Run, e: credentials.VerificationError) -> Stop:
    if e.reason == "revoked":
        order_state.record(r.state, "revoked", "")
        return Stop("needs_reauthorization")
    if e.reason == "platform_credentials":
        # Our own credentials were refused: one platform alarm says so (authorizations/alarms.py); the store's
        # page stays quiet and the sync simply tries again at its next regular run.
        order_state.reschedule(r.state, settings.ORDER_SYNC_INTERVAL_MINUTES * 60.0)
        return Stop("platform_outage")
    order_state.transient(r.state, e.reason, e.detail)
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
            order_state.end_backfill(s, now)
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
            s.next_run_at = now + timedelta(seconds=poll_pause(r.auth.store, r.seller, s.quiet_runs))
            later.update(quiet_runs=s.quiet_runs, next_run_at=s.next_run_at)
        if later:
            OrderSync.objects.filter(pk=s.pk).update(**later)
    return finished


def _kept_aside(r: Run) -> bool:
    """Whether the store has unreadable orders kept aside: only `keep_aside`, under the run's lease, adds them."""
    if r.unreadable is None:
        r.unreadable = UnreadableOrder.objects.filter(store=r.auth.store).exists()
    return r.unreadable


def _latest(page: api.Page) -> datetime | None:
    return max((o.last_updated for o in page.orders), default=None)


def _failed(r: Run, e: api.OrdersApiError) -> str:
    """A failed page: the error recorded on the store's OrderSync row, and a back-off or a stop."""
    s = r.state
    if e.kind == "throttled":
        # The pacer has emptied our bucket: the run resumes when it holds a token again.
        order_state.record(s, "throttled", e.message)
        order_state.reschedule(s, r.pacer.throttle_wait)
        return "throttled"
    if e.kind == "unauthorized":
        # The grant has already marked the authorization: a fresh token was refused too.
        order_state.record(s, "unauthorized", "")
        return "needs_reauthorization"
    if e.kind == "invalid":
        if not s.pagination_token:
            # A 400 for a fresh query: the same request would get the same 400 (orders_2026-01-01.json, 400
            # "Request has missing or invalid parameters and cannot be parsed."), so stop until something changes.
            order_state.stop(s, "rejected", e.message)
            return "rejected"
        # The token expired (24 hours, per the model's Pagination) or was refused: restart the query from the last
        # stored order, once; a 400 for the restarted query is the stop above.
        OrderSync.objects.filter(pk=s.pk).update(query={}, pagination_token="")
        s.query, s.pagination_token = {}, ""
    if e.kind in ("server_error", "network"):
        alarms.note_failure("sp-api orders", str(r.auth.store.code))
    order_state.transient(s, e.kind, e.message)
    return "failed"
