"""The one way an authorization's status changes: save, recompute the store's combined status, audit.

Call `change` inside `transaction.atomic()` with the authorization locked (`select_for_update`): the combined
status is recomputed in the same transaction (docs/architecture.md, "Status").
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from accounts.models import User
from authorizations import audit, status
from authorizations.models import Authorization


def change(
    auth: Authorization,
    new_status: str | None = None,
    *,
    fields: Mapping[str, Any] | None = None,
    action: str = "",
    outcome: str = "",
    detail: str = "",
    request: HttpRequest | None = None,
    user: User | None = None,
    now: datetime | None = None,
) -> Authorization:
    """Set `new_status` (None: keep it) and `fields`, save, recompute the combined status, record `action`."""
    now = now or timezone.now()
    if new_status is not None and auth.status != new_status:
        auth.status = new_status
        auth.status_changed_at = now
    for name, value in (fields or {}).items():
        setattr(auth, name, value)
    auth.save()
    status.recompute(auth.store)
    if action:
        audit.record(
            request,
            action,
            store=auth.store,
            capability=auth.capability,
            outcome=outcome,
            detail=detail,
            user=user,
        )
    return auth


def locked(auth_pk: int) -> Authorization:
    """The authorization, locked for the rest of the transaction, with its store."""
    return Authorization.objects.select_for_update(of=("self",)).select_related("store").get(pk=auth_pk)
