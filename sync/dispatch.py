"""The dispatcher of order syncs: `dispatch_due` enqueues every store whose sync is due.

Run every minute by the schedule (sync/schedules.py) and every second by `manage.py sync_loop`
(sync/order_changes.py `loop`); it is also the safety net behind every re-enqueue of a run (sync/order_state.py
`reschedule`), which only moves `next_run_at`.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from authorizations.models import AuthStatus, Capability
from sync import jobs
from sync.errors import STOPS
from sync.models import OrderSync

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
    # A stopped store waits until it, or its order-loading authorization, changed after the stop
    # (sync/order_state.py `stop_lifted`).
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
