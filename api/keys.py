"""Creating, revoking and auditing API keys. The audit names a key by its prefix and name, never its secret."""

from __future__ import annotations

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import User
from api.models import ApiKey
from authorizations.audit import client_ip, user_agent
from authorizations.models import AuditEvent

# The visible prefix is 8 random hex digits, unique: at 4 billion values a collision is rare but not impossible, and
# it must cost a retry, not a 500.
PREFIX_TRIES = 5


def audit(request: HttpRequest | None, key: ApiKey, action: str, user: User | None = None) -> None:
    if user is None and request is not None and isinstance(getattr(request, "user", None), User):
        user = request.user  # type: ignore[assignment]
    AuditEvent.objects.create(
        tenant_id=key.tenant_id,
        user=user,
        action=action,
        detail=f"{key.prefix} {key.name}"[:500],
        ip=client_ip(request),
        user_agent=user_agent(request),
    )


def create_key(request: HttpRequest | None, key: ApiKey, user: User | None) -> str:
    """Save a new key (its fields set by the caller) and return its secret, to be shown once."""
    key.created_by = user
    if key.is_platform:
        key.scope = ApiKey.Scope.READ
    for attempt in range(PREFIX_TRIES):
        secret = key.new_secret()
        try:
            # Its own savepoint: a prefix taken meanwhile fails this insert only, and a new secret is drawn.
            with transaction.atomic():
                key.save()
            break
        except IntegrityError:
            if attempt == PREFIX_TRIES - 1 or not ApiKey.objects.filter(prefix=key.prefix).exists():
                raise
    audit(request, key, "api_key.created", user)
    return secret


def revoke_key(request: HttpRequest | None, key: ApiKey, user: User | None) -> None:
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
        audit(request, key, "api_key.revoked", user)


def note_use_after_revoke(request: HttpRequest, key: ApiKey) -> None:
    # Once a minute per key: a client retrying a revoked key in a loop must not flood the audit log.
    if cache.add(f"api-key-revoked-use:{key.pk}", 1, timeout=60):
        audit(request, key, "api_key.used_after_revoke", user=None)
