"""Re-checks of authorizations: the hourly token check of every authorized grant (a refresh only), and the full
re-check (refresh token + the cheap call), daily and on demand from the staff page.

This module runs them in bulk, as queued jobs with progress; checking one grant at Amazon is
authorizations/grant_checks.py.
"""

from __future__ import annotations

import logging
import math
from datetime import datetime, timedelta
from time import monotonic

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django_q.tasks import async_task

from accounts.models import User
from authorizations import grant_checks  # checks of one grant; this module runs them in bulk
from authorizations.models import Authorization, AuthStatus, Capability
from authorizations.reasons import describe
from stores.models import Store
from sync import grants, jobs, paced
from sync.models import RecheckBatch, RecheckItem

log = logging.getLogger(__name__)
CHECKED = (AuthStatus.AUTHORIZED, AuthStatus.NEEDS_REAUTHORIZATION)
TASK_TRIES = 3
OPERATION = "getMarketplaceParticipations"
# A batch's stores are enqueued in chunks (one task re-checks up to CHUNK_MAX stores; small batches one store a
# task), so the queue's cost per task — enqueue, the broker's lock, the cluster's bookkeeping — is paid per chunk,
# not per store, and a chunk reads its items in one query. Chunks stay small enough that every worker has several:
# the batch ends evenly. A batch of more than DIRECT_ENQUEUE_LIMIT tasks is fanned out by a task, so the staff
# request that creates it stays fast.
DIRECT_ENQUEUE_LIMIT = 200
CHUNK_MAX = 20
CHUNKS_PER_WORKER = 4


def recheck_store(store_id: int, item_id: int | None = None) -> str:
    """Re-check every authorized capability of a store; report into the batch item when there is one.

    A batch must end in every case: a task that fails (a locked database, a crash) is tried again a few seconds
    later, and after TASK_TRIES it counts as failed with the reason "task_error", never left pending.
    """
    item = RecheckItem.objects.filter(pk=item_id).first() if item_id else None
    if item is not None and item.status != RecheckItem.Status.PENDING:
        return "already_done"
    return _recheck_guarded(store_id, item)


def recheck_items(item_ids: list[int]) -> dict[str, int]:
    """A chunk of a batch: each pending item as `recheck_store` would, the chunk's items read in one query.

    Every item keeps its own ending: a failure is retried for that item alone (`_task_failed`), a rate limit
    resumes that item alone; a chunk delivered twice skips the items already done. The grants of each store are
    read just before its re-check, as `recheck_store` does (a chunk lasts seconds; a grant may change meanwhile).
    """
    items = list(
        RecheckItem.objects.filter(pk__in=item_ids, status=RecheckItem.Status.PENDING).order_by("pk")
    )
    outcomes: dict[str, int] = {"already_done": len(set(item_ids)) - len(items)}
    # A slow Amazon must not push a chunk past the cluster's task timeout: past half of it, the rest goes on as a
    # new chunk.
    budget = float(settings.Q_CLUSTER.get("timeout") or 600) / 2
    started = monotonic()
    for n, item in enumerate(items):
        if n and monotonic() - started > budget:
            _enqueue_chunks(item.batch_id, [[i.pk for i in items[n:]]])
            outcomes["continued"] = len(items) - n
            break
        outcome = _recheck_guarded(item.store_id, item)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


def _recheck_guarded(store_id: int, item: RecheckItem | None) -> str:
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
        # The bucket half of the paced skeleton (sync/paced.py): authorizations/grant_checks.py makes the call with a
        # token it has just refreshed, so a 403 there is the re-check's verdict, not an expired token to renew.
        pacer = paced.Pacer(None, OPERATION, who=grants.seller_id(auth), application=auth.capability)
        if auth.is_spapi:
            wait = pacer.take()
            if wait:
                _save_partial(item, results)
                jobs.enqueue_recheck(store_id, item_id, timezone.now() + timedelta(seconds=wait))
                return "rate_limited"
        results[auth.capability] = grant_checks.recheck(auth)
        if results[auth.capability] == "throttled" and auth.is_spapi:
            pacer.throttled()
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


# --- the hourly token check -----------------------------------------------------------------------------------
# One schedule (every minute, sync/schedules.py) finds the grants whose last check is about an hour old and enqueues
# them in chunks: never a job per grant, and the checks stay spread over the hour as the grants' own times are.
TOKEN_CHECK_CHUNK = 50
# A grant checked for the first time (or after an outage) waits for its turn: at most twice the hourly share of all
# grants starts in one minute, so a first wave spreads over half an hour instead of landing at once.
TOKEN_CHECK_SHARE = 2 / 60


def due_token_checks(now: datetime | None = None) -> list[int]:
    """Ids of the authorized grants whose hourly check is due, the longest unchecked first."""
    now = now or timezone.now()
    authorized = Authorization.objects.filter(
        status=AuthStatus.AUTHORIZED, store__archived_at__isnull=True
    ).exclude(refresh_token_encrypted="")
    limit = max(TOKEN_CHECK_CHUNK, math.ceil(authorized.count() * TOKEN_CHECK_SHARE))
    due = authorized.filter(
        Q(last_checked_at__isnull=True) | Q(last_checked_at__lte=now - grant_checks.TOKEN_CHECK_EVERY),
        Q(last_error_at__isnull=True) | Q(last_error_at__lte=now - grant_checks.TOKEN_CHECK_BACKOFF),
    )
    return list(
        due.order_by(F("last_checked_at").asc(nulls_first=True), "pk").values_list("pk", flat=True)[:limit]
    )


def dispatch_token_checks() -> int:
    """The every-minute schedule: enqueue the due grants' hourly checks in chunks (after commit)."""
    ids = due_token_checks()
    chunks = [ids[i : i + TOKEN_CHECK_CHUNK] for i in range(0, len(ids), TOKEN_CHECK_CHUNK)]

    def send() -> None:
        for chunk in chunks:
            # save=False: the outcome is on the authorizations (last checked, status); a failed chunk is saved.
            async_task("sync.tasks.check_grant_tokens", chunk, group="token-checks", save=False)

    transaction.on_commit(send)
    return len(ids)


def check_grant_tokens(auth_ids: list[int]) -> dict[str, int]:
    """A chunk of hourly checks. Each grant is read again here: a grant checked meanwhile (by its sync, a re-check,
    this chunk delivered twice) is skipped without asking LWA."""
    outcomes: dict[str, int] = {}
    for auth in Authorization.objects.select_related("store").filter(pk__in=auth_ids).order_by("pk"):
        try:
            outcome = grant_checks.token_check(auth)
        except Exception:
            log.warning("hourly token check of authorization %s failed", auth.pk, exc_info=True)
            outcome = "task_error"
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


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
        size = chunk_size(len(ids))
        if -(-len(ids) // size) <= DIRECT_ENQUEUE_LIMIT:
            _enqueue(batch.pk, list(batch.items.order_by("pk").values_list("store_id", "pk")), size)
        else:
            pk = batch.pk
            transaction.on_commit(lambda: async_task("sync.tasks.fan_out_batch", pk, group=f"batch-{pk}"))
    return batch


def chunk_size(count: int) -> int:
    """Stores per task for a batch of `count`: 1 for small batches, at most CHUNK_MAX, CHUNKS_PER_WORKER chunks
    per worker at least (so the last chunks finish together)."""
    workers = int(settings.Q_CLUSTER.get("workers", 1) or 1)
    return max(1, min(CHUNK_MAX, count // (workers * CHUNKS_PER_WORKER)))


def fan_out(batch_id: int) -> int:
    items = list(
        RecheckItem.objects.filter(batch_id=batch_id, status=RecheckItem.Status.PENDING)
        .order_by("pk")
        .values_list("store_id", "pk")
    )
    _enqueue(batch_id, items, chunk_size(len(items)))
    return len(items)


def _enqueue(batch_id: int, items: list[tuple[int, int]], size: int) -> None:
    """The (store id, item id) pairs of a batch as tasks after commit: one per store, or chunks of `size`."""
    if size == 1:
        for store_id, item_id in items:
            jobs.enqueue_recheck(store_id, item_id)
    else:
        _enqueue_chunks(batch_id, [[pk for _, pk in items[i : i + size]] for i in range(0, len(items), size)])


def _enqueue_chunks(batch_id: int, chunks: list[list[int]]) -> None:
    def send() -> None:
        for chunk in chunks:
            # save=False: a chunk's outcome is in its items; django-q's result row (and its pruning of the
            # result table at every save) would only cost the cluster's monitor. A failed chunk is still saved.
            async_task("sync.tasks.recheck_items", chunk, group=f"batch-{batch_id}", save=False)

    transaction.on_commit(send)


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


# The failed stores the progress names (the page lists them beside the counts; the table has every row).
FAILURES_SHOWN = 50


def item_row(item: RecheckItem) -> dict[str, object]:
    """One row of the batch page, as the page renders it and as its progress poll sends it (the same words)."""
    nothing = item.status == RecheckItem.Status.DONE and not item.results
    badge = {"done": "authorized", "failed": "error"}.get(item.status, "pending")
    labels = dict(Capability.choices)
    return {
        "id": item.pk,
        "status": item.status,
        "badge": "not_authorized" if nothing else badge,
        "label": str(_("Nothing authorized")) if nothing else str(item.get_status_display()),
        # What went wrong per capability, in words ("task" is the whole re-check, tried three times).
        "problems": [
            {"capability": str(labels.get(cap, _("Re-check"))), "text": describe(code)[0]}
            for cap, code in item.results.items()
            if code != "ok"
        ],
        "capabilities": [
            {
                "status": a.status,
                "text": a.get_capability_display()
                + pgettext("label separator", ": ")
                + a.get_status_display(),
            }
            for a in item.store.authorizations.all()
        ],
    }


def failures(batch: RecheckBatch) -> list[RecheckItem]:
    """The failed items of a batch with their stores (up to FAILURES_SHOWN), for the progress to name them."""
    return list(
        batch.items.filter(status=RecheckItem.Status.FAILED)
        .select_related("store", "store__tenant")
        .prefetch_related("store__authorizations")
        .order_by("finished_at", "pk")[:FAILURES_SHOWN]
    )


def _counts(batch: RecheckBatch) -> list[tuple[str, int]]:
    from django.db.models import Count

    return list(batch.items.values("status").annotate(n=Count("pk")).values_list("status", "n"))
