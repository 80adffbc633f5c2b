"""Lifecycle changes of authorizations that are not OAuth flows (archive, disable, enable, revoke)."""

from __future__ import annotations

from django.utils import timezone

from authorizations import status
from authorizations.models import Authorization, AuthStatus
from stores.models import Store


def disable_all_for_archive(store: Store) -> None:
    """An archived store keeps its history, but nothing of it is authorized or runs any more."""
    now = timezone.now()
    for a in Authorization.objects.select_for_update().filter(store=store):
        if a.status in (AuthStatus.AUTHORIZED, AuthStatus.NEEDS_REAUTHORIZATION, AuthStatus.PENDING):
            a.status = AuthStatus.DISABLED
            a.status_changed_at = now
            a.save(update_fields=["status", "status_changed_at"])
    status.recompute(store)
