"""The django-q2 schedules of the portal, created idempotently (by name) by `manage.py ensure_schedules`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django_q.models import Schedule


@dataclass(frozen=True)
class Planned:
    name: str
    func: str
    schedule_type: str
    minutes: int | None = None
    kwargs: dict[str, Any] = field(default_factory=dict)


PLANNED: list[Planned] = [
    # A consent link lives 15 minutes; quarantined grants must not outlive it.
    Planned("expire-authorization-attempts", "sync.tasks.expire_attempts", Schedule.MINUTES, minutes=5),
    # Expiry is a matter of days; hourly keeps the "attention" status and the reminders on time without load.
    Planned("authorization-expiry-and-reminders", "sync.tasks.expiry_and_reminders", Schedule.HOURLY),
]


def ensure() -> list[str]:
    names = []
    for p in PLANNED:
        Schedule.objects.update_or_create(
            name=p.name,
            defaults={
                "func": p.func,
                "schedule_type": p.schedule_type,
                "minutes": p.minutes,
                "kwargs": p.kwargs,
                "repeats": -1,
            },
        )
        names.append(p.name)
    return names
