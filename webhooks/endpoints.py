"""What owners and admins do to an endpoint: create, rotate its secret, disable, enable, delete, send a delivery
again, send a test event. Each is audited like an API key (the URL's host and the description, never a secret)."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import User
from authorizations.audit import client_ip, user_agent
from authorizations.models import AuditEvent
from webhooks import events
from webhooks.models import Delivery, Endpoint, Event


def audit(request: HttpRequest | None, endpoint: Endpoint, action: str, user: User | None) -> None:
    # The host only: a URL's path or query may carry the receiver's own token.
    host = urlsplit(endpoint.url).hostname or ""
    AuditEvent.objects.create(
        tenant_id=endpoint.tenant_id,
        user=user,
        action=action,
        detail=f"{host} {endpoint.description}".strip()[:500],
        ip=client_ip(request),
        user_agent=user_agent(request),
    )


def create(request: HttpRequest | None, endpoint: Endpoint, user: User | None) -> str:
    """Save a new endpoint (fields set by the caller); its secret is returned, to be shown once."""
    secret = endpoint.set_secret()
    endpoint.created_by = user
    endpoint.save()
    audit(request, endpoint, "webhook.created", user)
    return secret


def rotate(request: HttpRequest | None, endpoint: Endpoint, user: User | None) -> str:
    with transaction.atomic():
        endpoint = Endpoint.objects.select_for_update().get(pk=endpoint.pk)
        secret = endpoint.rotate_secret()
        endpoint.save(
            update_fields=["secret_encrypted", "previous_secret_encrypted", "previous_secret_until"]
        )
        audit(request, endpoint, "webhook.secret_rotated", user)
    return secret


def disable(request: HttpRequest | None, endpoint: Endpoint, user: User | None) -> None:
    if endpoint.enabled:
        Endpoint.objects.filter(pk=endpoint.pk).update(
            enabled=False, disabled_reason=Endpoint.DisabledReason.BY_USER, disabled_at=timezone.now()
        )
        audit(request, endpoint, "webhook.disabled", user)


def enable(request: HttpRequest | None, endpoint: Endpoint, user: User | None) -> None:
    """Enabled again: its failure count starts afresh, and what was still pending is sent now."""
    if endpoint.enabled:
        return
    now = timezone.now()
    with transaction.atomic():
        Endpoint.objects.filter(pk=endpoint.pk).update(
            enabled=True, disabled_reason="", disabled_at=None, failing_since=None
        )
        pending = Delivery.objects.filter(endpoint=endpoint, status=Delivery.Status.PENDING)
        ids = list(pending.values_list("pk", flat=True))
        pending.update(next_attempt_at=now)
        events.enqueue_after_commit(ids)
        audit(request, endpoint, "webhook.enabled", user)


def delete(request: HttpRequest | None, endpoint: Endpoint, user: User | None) -> None:
    with transaction.atomic():
        audit(request, endpoint, "webhook.deleted", user)
        endpoint.delete()


def send_again(delivery: Delivery) -> None:
    """The same event (same webhook-id) once more, now, with a fresh retry schedule."""
    with transaction.atomic():
        Delivery.objects.filter(pk=delivery.pk).update(
            status=Delivery.Status.PENDING, attempts=0, next_attempt_at=timezone.now()
        )
        events.enqueue_after_commit([delivery.pk])


def send_test(endpoint: Endpoint) -> Event:
    with transaction.atomic():
        return events.test_event(endpoint)
