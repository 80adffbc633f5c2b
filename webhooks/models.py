"""Webhooks: the endpoints a tenant registers, the events (an outbox written with the change) and their deliveries.

The secret is stored encrypted (authorizations/crypto.py, the MultiFernet of TOKEN_ENCRYPTION_KEYS) because every
delivery signs with it; it is shown once, when created or rotated. After a rotation the previous secret keeps signing
(a second `v1,` signature) until `previous_secret_until`.
"""

from __future__ import annotations

import base64
import secrets
import time
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Tenant
from authorizations import crypto
from stores.models import Store

SECRET_PREFIX = "whsec_"
ID_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford's base 32, lower case


class EventType(models.TextChoices):
    AUTHORIZATION_CHANGED = "store.authorization_changed", _("A store's authorization status changed")
    ORDER_CREATED = "order.created", _("An order was created")
    ORDER_UPDATED = "order.updated", _("An order was updated")
    ORDER_CANCELLED = "order.cancelled", _("An order was cancelled")
    SHIPMENT_CONFIRMED = "shipment.confirmed", _("Amazon confirmed a package as shipped")
    SHIPMENT_FAILED = "shipment.failed", _("Amazon refused a package's shipment confirmation")


# Sent only to the endpoint it was asked for ("Send a test event"), whatever it subscribed to.
TEST_EVENT = "webhook.test"
ORDER_EVENTS = (EventType.ORDER_CREATED, EventType.ORDER_UPDATED, EventType.ORDER_CANCELLED)


def new_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and 24 random bytes in base64 (the library decodes it to sign)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def new_event_id() -> str:
    """`msg_` + 10 characters of milliseconds + 16 random ones: unique, and sorted by creation."""
    ms = int(time.time() * 1000)
    head = "".join(ID_ALPHABET[(ms >> (5 * i)) & 31] for i in reversed(range(10)))
    return "msg_" + head + "".join(secrets.choice(ID_ALPHABET) for _ in range(16))


class Endpoint(models.Model):
    class DisabledReason(models.TextChoices):
        BY_USER = "by_user", _("Disabled by a person")
        FAILING = "failing", _("Disabled after failing for days")

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tenant = models.ForeignKey(
        Tenant, models.CASCADE, related_name="webhook_endpoints", verbose_name=_("distributor account")
    )
    url = models.URLField(_("URL"), max_length=500)
    events = models.JSONField(_("events"), default=list)
    description = models.CharField(_("description"), max_length=200, blank=True)
    secret_encrypted = models.TextField(editable=False)
    previous_secret_encrypted = models.TextField(blank=True, editable=False)
    previous_secret_until = models.DateTimeField(null=True, blank=True, editable=False)
    enabled = models.BooleanField(_("enabled"), default=True)
    disabled_reason = models.CharField(
        _("why disabled"), max_length=10, choices=DisabledReason.choices, blank=True, editable=False
    )
    disabled_at = models.DateTimeField(_("disabled"), null=True, blank=True, editable=False)
    # The first failed attempt since the last success: N days of failure (WEBHOOKS_DISABLE_AFTER_DAYS) disable it.
    failing_since = models.DateTimeField(_("failing since"), null=True, blank=True, editable=False)
    last_success_at = models.DateTimeField(_("last success"), null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")

    def __str__(self) -> str:
        return self.url

    def set_secret(self) -> str:
        """A fresh secret, returned in full (the only time it exists outside the encrypted column)."""
        secret = new_secret()
        self.secret_encrypted = crypto.encrypt(secret)
        return secret

    def rotate_secret(self, now: datetime | None = None) -> str:
        """A new secret; the current one keeps signing too for WEBHOOKS_ROTATION_OVERLAP_HOURS."""
        now = now or timezone.now()
        self.previous_secret_encrypted = self.secret_encrypted
        self.previous_secret_until = now + timedelta(hours=settings.WEBHOOKS_ROTATION_OVERLAP_HOURS)
        return self.set_secret()

    def signing_secrets(self, now: datetime | None = None) -> list[str]:
        """The secrets a delivery is signed with now: the current one, and the previous one during the overlap."""
        now = now or timezone.now()
        found = [crypto.decrypt(self.secret_encrypted)]
        if self.previous_secret_encrypted and self.previous_secret_until and now < self.previous_secret_until:
            found.append(crypto.decrypt(self.previous_secret_encrypted))
        return found

    def in_overlap(self, now: datetime | None = None) -> bool:
        return bool(self.previous_secret_until and (now or timezone.now()) < self.previous_secret_until)

    def subscribes(self, event_type: str) -> bool:
        return event_type in self.events

    def event_labels(self) -> list[str]:
        labels = dict(EventType.choices)
        return [str(labels.get(e, e)) for e in self.events]


class Event(models.Model):
    """One change, as the platform receives it. `id` is the `webhook-id` of every delivery and retry of it."""

    id = models.CharField(primary_key=True, max_length=40, default=new_event_id, editable=False)
    tenant = models.ForeignKey(Tenant, models.CASCADE, related_name="+")
    type = models.CharField(max_length=40)
    store = models.ForeignKey(Store, models.SET_NULL, null=True, blank=True, related_name="+")
    # The resource as the API shows it, taken in the transaction of the change (never a token or a secret).
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.id} {self.type}"


class Delivery(models.Model):
    """An event on its way to one endpoint: at least once, retried with backoff until it succeeds or is given up."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SUCCEEDED = "succeeded", _("Delivered")
        FAILED = "failed", _("Given up")

    endpoint = models.ForeignKey(Endpoint, models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(Event, models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    # When the next attempt is due; while an attempt runs it is pushed ahead (the claim), so a worker that dies
    # mid-attempt leaves it due again for the sweeper. None once succeeded or given up.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=20, blank=True)
    last_error_detail = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event"], name="delivery_once_per_endpoint")
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="delivery_due")]

    def __str__(self) -> str:
        return f"{self.event_id} → {self.endpoint_id}"


class Attempt(models.Model):
    """One try of a delivery, for the endpoint's delivery log."""

    delivery = models.ForeignKey(Delivery, models.CASCADE, related_name="attempt_log")
    at = models.DateTimeField()
    succeeded = models.BooleanField(default=False)
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=20, blank=True)
    error_detail = models.CharField(max_length=100, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.delivery_id} at {self.at:%Y-%m-%d %H:%M:%S}"
