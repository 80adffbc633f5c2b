from __future__ import annotations

from django.http import HttpRequest

from accounts.models import User
from authorizations.models import AuditEvent
from stores.models import Store


def client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    # REMOTE_ADDR only: behind a proxy, configure the proxy to set it (X-Forwarded-For is spoofable).
    return request.META.get("REMOTE_ADDR") or None


def user_agent(request: HttpRequest | None) -> str:
    if request is None:
        return ""
    return request.META.get("HTTP_USER_AGENT", "")[:300]


def record(
    request: HttpRequest | None,
    action: str,
    *,
    store: Store | None = None,
    capability: str = "",
    outcome: str = "",
    detail: str = "",
    user: User | None = None,
) -> AuditEvent:
    if user is None and request is not None and isinstance(request.user, User):
        user = request.user
    return AuditEvent.objects.create(
        tenant=store.tenant if store else None,
        store=store,
        user=user,
        capability=capability,
        action=action,
        outcome=outcome,
        detail=detail[:500],
        ip=client_ip(request),
        user_agent=user_agent(request),
    )
