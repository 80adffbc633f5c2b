"""API keys: who may call /api/v1/. Only a hash of the secret is stored; the prefix identifies a key on pages."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Tenant
from stores.models import Store

PREFIX_START = "pk_live_"
PREFIX_LENGTH = len(PREFIX_START) + 8
# "last used" is written at most once a minute: a busy key must not write a row on every call.
LAST_USED_EVERY = timedelta(minutes=1)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class ApiKey(models.Model):
    class Scope(models.TextChoices):
        READ = "read", _("Read")
        READ_WRITE = "read_write", _("Read and write")

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # Null for a platform key: every tenant's stores, read-only, created by superusers in Django admin.
    tenant = models.ForeignKey(
        Tenant,
        models.CASCADE,
        null=True,
        blank=True,
        related_name="api_keys",
        verbose_name=_("distributor account"),
    )
    name = models.CharField(_("name"), max_length=80)
    scope = models.CharField(_("scope"), max_length=10, choices=Scope.choices, default=Scope.READ)
    # A separate permission: the ship-to address (personal data under Amazon's Data Protection Policy) is shown only
    # to a key that has it, and each read is audited (sync/ship_to.py). Never for a platform key.
    ship_to = models.BooleanField(
        _("ship-to address"),
        default=False,
        help_text=_("Let this key read orders' ship-to addresses (each read is recorded in the audit log)."),
    )
    stores = models.ManyToManyField(
        Store, blank=True, related_name="+", verbose_name=_("stores"), help_text=_("Empty: every store.")
    )
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    prefix = models.CharField(_("prefix"), max_length=PREFIX_LENGTH, unique=True, editable=False)
    secret_hash = models.CharField(max_length=64, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")

    def __str__(self) -> str:
        # The prefix and name only: the secret is never kept, and its hash is never shown.
        return f"{self.prefix} {self.name}"

    def new_secret(self) -> str:
        """Give the key a fresh secret and return it in full (the only time it exists outside the caller)."""
        self.prefix = PREFIX_START + secrets.token_hex(4)
        key = f"{self.prefix}_{secrets.token_urlsafe(32)}"
        self.secret_hash = hash_key(key)
        return key

    def matches(self, key: str) -> bool:
        return hmac.compare_digest(self.secret_hash, hash_key(key))

    @property
    def is_platform(self) -> bool:
        return self.tenant_id is None

    @property
    def can_write(self) -> bool:
        return self.scope == self.Scope.READ_WRITE and not self.is_platform

    @property
    def can_read_ship_to(self) -> bool:
        return self.ship_to and not self.is_platform

    def is_expired(self, now: datetime | None = None) -> bool:
        return self.expires_at is not None and self.expires_at <= (now or timezone.now())

    def note_use(self) -> None:
        now = timezone.now()
        if self.last_used_at is None or now - self.last_used_at >= LAST_USED_EVERY:
            ApiKey.objects.filter(pk=self.pk).update(last_used_at=now)
            self.last_used_at = now

    def visible_stores(self) -> models.QuerySet[Store]:
        stores = Store.objects.active()
        if self.tenant_id is not None:
            stores = stores.filter(tenant_id=self.tenant_id)
        if self.stores.exists():
            stores = stores.filter(pk__in=self.stores.values("pk"))
        return stores
