"""The django-q2 schedules of the portal, created idempotently (by name) by `manage.py ensure_schedules`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
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
    # Each store's order sync carries its own next run (every ORDER_SYNC_INTERVAL_MINUTES, or sooner after a
    # rate-limit pause); this minute-by-minute pass enqueues the due ones and rescues a killed worker's store.
    Planned("order-sync-dispatch", "sync.tasks.dispatch_order_syncs", Schedule.MINUTES, minutes=1),
    # Only changed quantities are sent, so an idle push costs one query per store.
    Planned(
        "inventory-push",
        "sync.tasks.push_inventory_all",
        Schedule.MINUTES,
        minutes=settings.INVENTORY_PUSH_INTERVAL_MINUTES,
    ),
    # Every authorized grant's token is refreshed about hourly (a job's own refresh counts), so a revoke or an
    # expiry at Amazon shows within the hour: one dispatcher enqueues the due grants in chunks (sync/rechecks.py).
    Planned("grant-token-checks", "sync.tasks.dispatch_token_checks", Schedule.MINUTES, minutes=1),
    # The full re-check (the cheap call too: marketplaces, advertising profiles) stays daily.
    Planned("recheck-authorizations", "sync.tasks.recheck_all", Schedule.DAILY),
    # Amazon's notifications (new application secrets, expiry notices) wait on the SQS queue.
    Planned("read-amazon-notifications", "sync.tasks.read_notifications", Schedule.MINUTES, minutes=1),
    # A seller whose ORDER_CHANGE subscription failed (or predates notifications) is subscribed again.
    Planned("order-change-subscriptions", "sync.tasks.subscribe_missing_order_changes", Schedule.DAILY),
    # Ahead of Amazon's 180-day limit: rotate by API, and mail staff at 90/30/7 days while nothing succeeded.
    Planned("application-secrets", "sync.tasks.application_secrets", Schedule.DAILY),
    # Webhook deliveries (webhooks/, named here only as a task path): retries that fell due and first attempts
    # whose task was lost; a delivery is claimed before it is sent, so a second sweep never sends it twice.
    Planned("webhook-deliveries", "webhooks.tasks.sweep", Schedule.MINUTES, minutes=1),
    # Shipment confirmations (shipping/, named here only as a task path) whose task was lost or whose worker died
    # mid-send (its claim lapsed); a package is claimed before it is sent, so a second run never sends it twice.
    Planned("shipment-confirmations", "shipping.tasks.sweep", Schedule.MINUTES, minutes=1),
    # Amazon's Data Protection Policy: no ship-to address's personal fields kept beyond 30 days after delivery
    # (sync/ship_to.py `erase_due`); daily is within a day of the retention period.
    Planned("ship-to-erasure", "sync.tasks.erase_ship_to", Schedule.DAILY),
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
