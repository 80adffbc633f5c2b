"""A changed initial order-pull date applied to a store's order loading (`initial_date_changed`, called by the
store's edit view): an earlier date loads the missing older orders, a later one never deletes what was loaded."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from django.db import transaction
from django.utils import timezone

from authorizations.models import Authorization, Capability
from stores.models import Store
from sync import jobs
from sync.models import OrderSync
from sync.order_state import backfill_start, end_backfill

log = logging.getLogger(__name__)


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
        end_backfill(s, now)
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
