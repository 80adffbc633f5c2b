"""Enqueueing the confirmation of a package: now (after the surrounding transaction commits) or at a later time."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django_q.models import Schedule
from django_q.tasks import async_task

FUNC = "shipping.tasks.confirm"


def enqueue_confirmation(package_id: int, at: datetime | None = None) -> None:
    """Send the package to Amazon once the transaction commits, or at `at` (one pending resume per package: a new
    time moves it instead of piling up schedules)."""
    if at is not None:
        Schedule.objects.update_or_create(
            name=f"shipment-{package_id}",
            defaults={
                "func": FUNC,
                "args": repr((package_id,)),
                "schedule_type": Schedule.ONCE,
                "repeats": -1,
                "next_run": at,
            },
        )
        return

    def send() -> None:
        # The outcome is on the Package row; a django-q2 success row would only cost.
        async_task(FUNC, package_id, group=f"shipment-{package_id}", save=False)

    transaction.on_commit(send)
