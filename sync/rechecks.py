"""Re-checks of authorizations (refresh token + the cheap call), daily and on demand from the staff page."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django_q.tasks import async_task

from accounts.models import User
from authorizations import recheck
from authorizations.models import Authorization, AuthStatus
from authorizations.reasons import describe
from stores.models import Store
from sync import grants, jobs, ratelimit
from sync.models import RecheckBatch, RecheckItem

log = logging.getLogger(__name__)
CHECKED = (AuthStatus.AUTHORIZED, AuthStatus.NEEDS_REAUTHORIZATION)
TASK_TRIES = 3
OPERATION = "getMarketplaceParticipations"
# Larger batches are fanned out by a task, so the staff request that creates them stays fast.
DIRECT_ENQUEUE_LIMIT = 200


def recheck_store(store_id: int, item_id: int | None = None) -> str:
    """Re-check every authorized capability of a store; report into the batch item when there is one.

    A batch must end in every case: a task that fails (a locked database, a crash) is tried again a few seconds
    later, and after TASK_TRIES it counts as failed with the reason "task_error", never left pending.
    """
    item = RecheckItem.objects.filter(pk=item_id).first() if item_id else None
    if item is not None and item.status != RecheckItem.Status.PENDING:
        return "already_done"
    try:
        return _recheck_store(store_id, item)
    except Exception:
        if item is None:
            raise
        log.warning("re-check of store %s (batch item %s) failed", store_id, item.pk, exc_info=True)
        return _task_failed(store_id, item)


def _task_failed(store_id: int, item: RecheckItem) -> str:
    key = f"recheck-tries:{item.pk}"
    cache.add(key, 0, 3600)
    tries = cache.incr(key)
    if tries < TASK_TRIES:
        jobs.enqueue_recheck(store_id, item.pk, timezone.now() + timedelta(seconds=5 * tries))
        return "retrying"
    RecheckItem.objects.filter(pk=item.pk, status=RecheckItem.Status.PENDING).update(
        status=RecheckItem.Status.FAILED,
        results={**item.results, "task": "task_error"},
        finished_at=timezone.now(),
    )
    return "failed"


def _recheck_store(store_id: int, item: RecheckItem | None) -> str:
    item_id = item.pk if item is not None else None
    auths = list(
        Authorization.objects.select_related("store").filter(
            store_id=store_id, status__in=CHECKED, store__archived_at__isnull=True
        )
    )
    results: dict[str, str] = dict(item.results) if item else {}
    for auth in auths:
        if auth.capability in results:
            continue  # checked by an earlier delivery of this task
        if auth.is_spapi:
            seller = grants.seller_id(auth)
            wait = ratelimit.take(seller, auth.capability, OPERATION, settings.SYNC_MAX_INLINE_WAIT_SECONDS)
            if wait:
                _save_partial(item, results)
                jobs.enqueue_recheck(store_id, item_id, timezone.now() + timedelta(seconds=wait))
                return "rate_limited"
        results[auth.capability] = recheck.recheck(auth)
        if results[auth.capability] == "throttled" and auth.is_spapi:
            ratelimit.throttled(seller, auth.capability, OPERATION)
    ok = all(r == "ok" for r in results.values())
    if item is not None:
        RecheckItem.objects.filter(pk=item.pk, status=RecheckItem.Status.PENDING).update(
            status=RecheckItem.Status.DONE if ok else RecheckItem.Status.FAILED,
            results=results,
            finished_at=timezone.now(),
        )
    return "ok" if ok else "failed"


def _save_partial(item: RecheckItem | None, results: dict[str, str]) -> None:
    if item is not None:
        RecheckItem.objects.filter(pk=item.pk, status=RecheckItem.Status.PENDING).update(results=results)


def recheck_all() -> int:
    """The daily schedule: one task per store with an authorized capability."""
    ids = list(
        Authorization.objects.filter(status=AuthStatus.AUTHORIZED, store__archived_at__isnull=True)
        .values_list("store_id", flat=True)
        .distinct()
    )
    with transaction.atomic():
        for store_id in ids:
            jobs.enqueue_recheck(store_id)
    return len(ids)


def start_batch(
    stores: QuerySet[Store], user: User | None, description: str, source: str = "staff"
) -> RecheckBatch:
    """A batch with one item per store; the tasks are enqueued once the batch is committed."""
    with transaction.atomic():
        ids = list(stores.order_by().values_list("pk", flat=True).distinct())
        batch = RecheckBatch.objects.create(
            created_by=user, description=description[:300], total=len(ids), source=source
        )
        RecheckItem.objects.bulk_create([RecheckItem(batch=batch, store_id=i) for i in ids], batch_size=500)
        if len(ids) <= DIRECT_ENQUEUE_LIMIT:
            for store_id, item_id in batch.items.values_list("store_id", "pk"):
                jobs.enqueue_recheck(store_id, item_id)
        else:
            pk = batch.pk
            transaction.on_commit(lambda: async_task("sync.tasks.fan_out_batch", pk, group=f"batch-{pk}"))
    return batch


def fan_out(batch_id: int) -> int:
    items = RecheckItem.objects.filter(batch_id=batch_id, status=RecheckItem.Status.PENDING)
    count = 0
    for store_id, item_id in items.values_list("store_id", "pk").iterator():
        jobs.enqueue_recheck(store_id, item_id)
        count += 1
    return count


def progress(batch: RecheckBatch) -> dict[str, object]:
    counts = {s: 0 for s in RecheckItem.Status.values}
    for status, n in _counts(batch):
        counts[status] = n
    nothing = batch.items.filter(status=RecheckItem.Status.DONE, results={}).count()
    failed_reasons: dict[str, int] = {}
    for results in batch.items.filter(status=RecheckItem.Status.FAILED).values_list("results", flat=True)[
        :5000
    ]:
        for reason in results.values():
            if reason != "ok":
                failed_reasons[reason] = failed_reasons.get(reason, 0) + 1
    return {
        "code": str(batch.code),
        "total": batch.total,
        # A store with nothing authorized has nothing to check: counted apart, not as "works".
        "done": counts[RecheckItem.Status.DONE] - nothing,
        "nothing": nothing,
        "failed": counts[RecheckItem.Status.FAILED],
        "pending": counts[RecheckItem.Status.PENDING],
        "finished": counts[RecheckItem.Status.PENDING] == 0,
        "reasons": [
            {"code": code, "text": describe(code)[0], "count": n}
            for code, n in sorted(failed_reasons.items(), key=lambda kv: -kv[1])
        ],
    }


def _counts(batch: RecheckBatch) -> list[tuple[str, int]]:
    from django.db.models import Count

    return list(batch.items.values("status").annotate(n=Count("pk")).values_list("status", "n"))
