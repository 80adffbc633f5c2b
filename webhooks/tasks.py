"""The django-q2 entry points of webhooks."""

from __future__ import annotations

from django_q.tasks import async_task

from webhooks import delivery
from webhooks.events import TASK_CHUNK


def deliver(delivery_ids: list[int]) -> int:
    """One attempt of each due delivery among `delivery_ids`; how many were delivered."""
    return sum(1 for pk in delivery_ids if delivery.attempt(pk))


def sweep() -> int:
    """Every minute (sync/schedules.py): due retries and lost first attempts, handed to workers in chunks."""
    ids = delivery.sweep()
    for i in range(0, len(ids), TASK_CHUNK):
        async_task("webhooks.tasks.deliver", ids[i : i + TASK_CHUNK], save=False)
    return len(ids)
