"""Enqueueing background work, always after the surrounding transaction commits."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_q.models import Schedule
from django_q.tasks import async_task


def _later(func: str, args: tuple[int | None, ...], name: str, at: datetime) -> None:
    # One pending resume per name: re-enqueueing moves it instead of piling up schedules.
    Schedule.objects.update_or_create(
        name=name,
        defaults={
            "func": func,
            "args": repr(args),
            "schedule_type": Schedule.ONCE,
            "repeats": -1,
            "next_run": at,
        },
    )


def enqueue_order_sync(store_id: int, at: datetime | None = None) -> None:
    _enqueue("sync.tasks.sync_orders", store_id, f"orders-{store_id}", at)


def enqueue_order_syncs(store_ids: list[int]) -> None:
    """Order syncs of many stores, to run now (the dispatcher, sync/dispatch.py `dispatch_due`).

    Sent after commit, inside one transaction of their own: django-q2's ORM broker then writes the whole batch with
    one commit, instead of a connection check and a commit per task (the Redis broker does not use the database).
    """
    func = "sync.tasks.sync_orders"

    def send() -> None:
        stamp = f"{timezone.now():%Y%m%d%H%M%S%f}"
        with transaction.atomic():
            for store_id in store_ids:
                name = f"orders-{store_id}"
                async_task(func, store_id, group=name, task_name=f"{name}-{stamp}", **_options(func))

    if store_ids:
        transaction.on_commit(send)


def _options(func: str) -> dict[str, object]:
    # An order sync's outcome is kept on its OrderSync row (last success, last error). Its django-q2 result row
    # would only cost: with save_limit set, saving a success first reads and locks every stored success to prune
    # the oldest, some 50 ms of the monitor's CPU per task once the limit is reached (bench/run fleet). Failures
    # are still saved.
    # The same holds for a notified order: it is in the store's orders or the poll brings it.
    return {"save": False} if func in ("sync.tasks.sync_orders", "sync.tasks.load_notified_order") else {}


def enqueue_inventory_push(store_id: int, at: datetime | None = None) -> None:
    _enqueue("sync.tasks.push_inventory", store_id, f"inventory-{store_id}", at)


def enqueue_listing_confirmation(store_id: int, at: datetime | None = None) -> None:
    """Read back, at `at`, what Amazon made of the store's accepted quantities (sync/inventory.py, "confirm")."""
    _enqueue("sync.tasks.confirm_listings", store_id, f"listings-confirm-{store_id}", at)


def enqueue_order_change_subscription(store_id: int) -> None:
    def send() -> None:
        async_task("sync.tasks.subscribe_order_changes", store_id, group=f"order-change-{store_id}")

    transaction.on_commit(send)


def enqueue_order_change_unsubscription(seller_id: str, region: str) -> None:
    """Delete the seller's ORDER_CHANGE subscription if no live order loading is left (sync/order_changes.py)."""

    def send() -> None:
        async_task(
            "sync.tasks.unsubscribe_order_changes", seller_id, region, group=f"order-change-end-{region}"
        )

    transaction.on_commit(send)


def enqueue_notified_order(store_id: int, order_id: str, cancel_requested: bool = False) -> None:
    """Load one order an ORDER_CHANGE notification named (sync/order_changes.py); `cancel_requested`: the
    notification said the buyer asked to cancel."""

    def send() -> None:
        func = "sync.tasks.load_notified_order"
        args: tuple[object, ...] = (store_id, order_id, True) if cancel_requested else (store_id, order_id)
        async_task(func, *args, group=f"notified-{store_id}", **_options(func))

    transaction.on_commit(send)


def _enqueue(func: str, store_id: int, name: str, at: datetime | None) -> None:
    def send() -> None:
        if at is not None and settings.SYNC_LOOP and func == "sync.tasks.sync_orders":
            # `manage.py sync_loop` dispatches every due sync within a second of next_run_at (sync/dispatch.py
            # dispatch_due): a one-off schedule per pause would only add a second, redundant delivery.
            return
        if at is None or at <= timezone.now() + timedelta(seconds=1):
            async_task(
                func,
                store_id,
                group=name,
                task_name=f"{name}-{timezone.now():%Y%m%d%H%M%S%f}",
                **_options(func),
            )
        else:
            _later(func, (store_id,), f"{name}-resume", at)

    transaction.on_commit(send)


def enqueue_recheck(store_id: int, item_id: int | None = None, at: datetime | None = None) -> None:
    def send() -> None:
        if at is None:
            async_task("sync.tasks.recheck_store", store_id, item_id, group=f"recheck-{store_id}")
        else:
            name = f"recheck-{store_id}-{item_id or 0}-resume"
            _later("sync.tasks.recheck_store", (store_id, item_id), name, at)

    transaction.on_commit(send)
