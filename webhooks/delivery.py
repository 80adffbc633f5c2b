"""Sending a delivery: claim it, sign it (Standard Webhooks), post it, record the attempt, plan the next one.

At least once: a delivery stays pending until a 2xx answer. Each attempt first claims the delivery by pushing its
`next_attempt_at` ahead (one conditional UPDATE), so a task and the sweeper never send it at the same time, and a
worker that dies mid-attempt leaves it due again for the sweeper. Retries follow WEBHOOKS_RETRY_SCHEDULE (with
jitter) and carry the same `webhook-id`; an endpoint failing for WEBHOOKS_DISABLE_AFTER_DAYS without one success
is disabled and its owners and admins mailed.
"""

from __future__ import annotations

import json
import logging
import random
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from accounts.models import Membership
from lib import links, mail
from webhooks import transport
from webhooks.models import Attempt, Delivery, Endpoint, Event

log = logging.getLogger(__name__)
JITTER = 0.1


def claim_seconds() -> float:
    # Longer than any attempt can take (connect + read timeouts), so a running attempt is never claimed twice.
    return settings.HTTP_CONNECT_TIMEOUT + settings.WEBHOOKS_TIMEOUT_SECONDS + 30


def body(event: Event) -> bytes:
    """The request body: type, the event's time (ISO 8601, UTC) and the resource."""
    document = {
        "type": event.type,
        "timestamp": event.created_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "data": event.data,
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


def headers(endpoint: Endpoint, event: Event, payload: bytes, at: datetime) -> dict[str, str]:
    """Standard Webhooks headers; during a rotation's overlap one `v1,` signature per secret, space-separated."""
    signatures = " ".join(Webhook(s).sign(event.id, at, payload) for s in endpoint.signing_secrets(at))
    return {
        "content-type": "application/json",
        "webhook-id": event.id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signatures,
    }


def claim(delivery_id: int, now: datetime) -> Delivery | None:
    """The delivery, if it is due and no one else is sending it; it is then ours for `claim_seconds`."""
    took = Delivery.objects.filter(
        pk=delivery_id, status=Delivery.Status.PENDING, next_attempt_at__lte=now, endpoint__enabled=True
    ).update(next_attempt_at=now + timedelta(seconds=claim_seconds()))
    if not took:
        return None
    return Delivery.objects.select_related("endpoint", "event").get(pk=delivery_id)


def attempt(delivery_id: int) -> bool | None:
    """One attempt of a due delivery: True delivered, False failed (retried later or given up), None not ours."""
    now = timezone.now()
    delivery = claim(delivery_id, now)
    if delivery is None:
        return None
    endpoint, event = delivery.endpoint, delivery.event
    payload = body(event)
    outcome = transport.post(endpoint.url, payload, headers(endpoint, event, payload, now))
    record(delivery, outcome, now)
    return outcome.ok


def record(delivery: Delivery, outcome: transport.Outcome, at: datetime) -> None:
    with transaction.atomic():
        Attempt.objects.create(
            delivery=delivery,
            at=at,
            succeeded=outcome.ok,
            response_code=outcome.response_code,
            error=outcome.error,
            error_detail=outcome.detail,
            duration_ms=outcome.duration_ms,
        )
        delivery.attempts += 1
        delivery.last_attempt_at = at
        delivery.last_response_code = outcome.response_code
        delivery.last_error, delivery.last_error_detail = outcome.error, outcome.detail
        if outcome.ok:
            delivery.status, delivery.next_attempt_at = Delivery.Status.SUCCEEDED, None
        else:
            delivery.next_attempt_at = next_attempt(delivery.attempts, at)
            if delivery.next_attempt_at is None:
                delivery.status = Delivery.Status.FAILED
        delivery.save()
        endpoint = delivery.endpoint
        if outcome.ok:
            # "Last delivered" to the minute: a busy endpoint need not write its row on every success.
            last = endpoint.last_success_at
            if endpoint.failing_since is not None or last is None or at - last >= timedelta(minutes=1):
                Endpoint.objects.filter(pk=endpoint.pk).update(last_success_at=at, failing_since=None)
        else:
            Endpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=True).update(failing_since=at)
            disable_if_failing_for_days(endpoint.pk, at)
    if delivery.status == Delivery.Status.PENDING and delivery.next_attempt_at is not None:
        retry_soon(delivery)


def next_attempt(attempts: int, at: datetime) -> datetime | None:
    """When the attempt after `attempts` failed ones is due; None once the schedule is spent (given up)."""
    schedule = settings.WEBHOOKS_RETRY_SCHEDULE
    if attempts > len(schedule):
        return None
    delay = schedule[attempts - 1]
    return at + timedelta(seconds=delay * (1 + random.uniform(0, JITTER)))


def retry_soon(delivery: Delivery) -> None:
    """A retry due before the next sweep (the every-minute schedule) gets a one-off schedule of its own."""
    when = delivery.next_attempt_at
    if when is None or when - timezone.now() >= timedelta(seconds=60):
        return
    from django_q.models import Schedule

    Schedule.objects.update_or_create(
        name=f"webhook-retry-{delivery.pk}",
        defaults={
            "func": "webhooks.tasks.deliver",
            "args": repr(([delivery.pk],)),
            "schedule_type": Schedule.ONCE,
            "repeats": -1,
            "next_run": when,
        },
    )


def disable_if_failing_for_days(endpoint_pk: int, now: datetime) -> bool:
    since = now - timedelta(days=settings.WEBHOOKS_DISABLE_AFTER_DAYS)
    disabled = Endpoint.objects.filter(
        Q(last_success_at__isnull=True) | Q(last_success_at__lt=since),
        pk=endpoint_pk,
        enabled=True,
        failing_since__lte=since,
    ).update(enabled=False, disabled_reason=Endpoint.DisabledReason.FAILING, disabled_at=now)
    if disabled:
        endpoint = Endpoint.objects.select_related("tenant").get(pk=endpoint_pk)
        transaction.on_commit(lambda: mail_disabled(endpoint))
    return bool(disabled)


def mail_disabled(endpoint: Endpoint) -> None:
    managers = Membership.objects.filter(
        tenant_id=endpoint.tenant_id, role__in=[Membership.Role.OWNER, Membership.Role.ADMIN]
    ).select_related("user")
    page = links.absolute_url(reverse("webhooks:endpoint", args=[endpoint.code]))
    ctx = {"endpoint": endpoint, "days": settings.WEBHOOKS_DISABLE_AFTER_DAYS, "page": page}
    mail.send("webhooks/email/disabled", ctx, [m.user.email for m in managers], notice=True)


def sweep(now: datetime | None = None, limit: int = 1000) -> list[int]:
    """Due deliveries (retries, and first attempts whose task was lost), to be sent by tasks."""
    now = now or timezone.now()
    due = Delivery.objects.filter(
        status=Delivery.Status.PENDING, next_attempt_at__lte=now, endpoint__enabled=True
    ).order_by("next_attempt_at")
    return list(due.values_list("pk", flat=True)[:limit])
