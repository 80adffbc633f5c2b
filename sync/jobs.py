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


def enqueue_inventory_push(store_id: int, at: datetime | None = None) -> None:
    _enqueue("sync.tasks.push_inventory", store_id, f"inventory-{store_id}", at)


def enqueue_listing_confirmation(store_id: int, at: datetime | None = None) -> None:
    """Read back, at `at`, what Amazon made of the store's accepted quantities (sync/inventory.py, "confirm")."""
    _enqueue("sync.tasks.confirm_listings", store_id, f"listings-confirm-{store_id}", at)


def enqueue_order_change_subscription(store_id: int) -> None:
    def send() -> None:
        async_task("sync.tasks.subscribe_order_changes", store_id, group=f"order-change-{store_id}")

    transaction.on_commit(send)


def enqueue_notified_order(store_id: int, order_id: str) -> None:
    """Load one order an ORDER_CHANGE notification named (sync/order_changes.py)."""

    def send() -> None:
        async_task("sync.tasks.load_notified_order", store_id, order_id, group=f"notified-{store_id}")

    transaction.on_commit(send)


def _enqueue(func: str, store_id: int, name: str, at: datetime | None) -> None:
    def send() -> None:
        if at is not None and settings.SYNC_LOOP and func == "sync.tasks.sync_orders":
            # `manage.py sync_loop` dispatches every due sync within a second of next_run_at (sync/orders.py
            # dispatch_due): a one-off schedule per pause would only add a second, redundant delivery.
            return
        if at is None or at <= timezone.now() + timedelta(seconds=1):
            async_task(func, store_id, group=name, task_name=f"{name}-{timezone.now():%Y%m%d%H%M%S%f}")
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
