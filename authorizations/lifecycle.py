"""Lifecycle changes of an authorization on our side: disable, enable, revoke, archive, expiry.

What each does (also in the README):
- disable: status "disabled", the token is kept, its jobs stop (jobs only run for "authorized").
- enable: back to "authorized" (the token is re-checked at Amazon right after).
- revoke (ours): the token is deleted, status "not authorized", dates cleared; the seller should also remove the
  app in Seller Central ("Manage your apps"). When no SP-API capability holds a token any more, the store lets go
  of its selling partner id, so the Amazon account can be connected elsewhere.
- archive: every capability that was authorized, pending or needing re-authorization becomes "disabled".
- expiry: an SP-API authorization past its 365 days needs re-authorization.
"""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from authorizations import audit, status
from authorizations.models import SPAPI_CAPABILITIES, Authorization, AuthStatus
from stores.models import Store


class LifecycleError(Exception):
    pass


def _set(a: Authorization, value: str) -> None:
    a.status = value
    a.status_changed_at = timezone.now()


def disable(request: HttpRequest | None, auth: Authorization) -> None:
    with transaction.atomic():
        a = Authorization.objects.select_for_update().get(pk=auth.pk)
        if a.status not in (AuthStatus.AUTHORIZED, AuthStatus.NEEDS_REAUTHORIZATION):
            raise LifecycleError("only an authorized capability can be disabled")
        _set(a, AuthStatus.DISABLED)
        a.save(update_fields=["status", "status_changed_at"])
        status.recompute(a.store)
        audit.record(
            request, "authorization.disabled", store=a.store, capability=a.capability, outcome="disabled"
        )


def enable(request: HttpRequest | None, auth: Authorization) -> None:
    with transaction.atomic():
        a = Authorization.objects.select_for_update().get(pk=auth.pk)
        if a.status != AuthStatus.DISABLED or not a.has_token:
            raise LifecycleError("only a disabled capability that still holds a token can be enabled")
        _set(a, AuthStatus.AUTHORIZED)
        a.save(update_fields=["status", "status_changed_at"])
        status.recompute(a.store)
        audit.record(
            request, "authorization.enabled", store=a.store, capability=a.capability, outcome="authorized"
        )
        transaction.on_commit(lambda: _after_enable(a.pk))


def _after_enable(pk: int) -> None:
    from authorizations.flow import on_authorized

    on_authorized(Authorization.objects.select_related("store").get(pk=pk))


def revoke(request: HttpRequest | None, auth: Authorization) -> None:
    with transaction.atomic():
        store = Store.objects.select_for_update().get(pk=auth.store_id)
        a = Authorization.objects.select_for_update().get(pk=auth.pk)
        if not a.has_token and a.status == AuthStatus.NOT_AUTHORIZED:
            raise LifecycleError("nothing to revoke")
        _set(a, AuthStatus.NOT_AUTHORIZED)
        a.set_refresh_token("")
        a.authorized_at = a.expires_at = a.last_error_at = None
        a.last_error = ""
        a.granted_marketplaces, a.ads_profiles = [], []
        a.save()
        still_connected = Authorization.objects.filter(
            store=store, capability__in=SPAPI_CAPABILITIES
        ).exclude(refresh_token_encrypted="")
        if not still_connected.exists() and store.selling_partner_id:
            store.selling_partner_id = ""
            store.save(update_fields=["selling_partner_id", "updated_at"])
        status.recompute(store)
        audit.record(
            request, "authorization.revoked", store=store, capability=a.capability, outcome="token_deleted"
        )


def disable_all_for_archive(store: Store) -> None:
    """An archived store keeps its history, but nothing of it is authorized or runs any more."""
    now = timezone.now()
    for a in Authorization.objects.select_for_update().filter(store=store):
        if a.status in (AuthStatus.AUTHORIZED, AuthStatus.NEEDS_REAUTHORIZATION, AuthStatus.PENDING):
            a.status = AuthStatus.DISABLED
            a.status_changed_at = now
            a.save(update_fields=["status", "status_changed_at"])
    status.recompute(store)


def expire_lapsed() -> int:
    """SP-API authorizations past their expiry need re-authorization; stores near expiry get "attention"."""
    from datetime import timedelta

    from django.conf import settings

    now = timezone.now()
    count = 0
    lapsed = Authorization.objects.filter(
        capability__in=SPAPI_CAPABILITIES, status=AuthStatus.AUTHORIZED, expires_at__lte=now
    ).values_list("pk", flat=True)
    for pk in list(lapsed):
        with transaction.atomic():
            a = Authorization.objects.select_for_update().select_related("store").get(pk=pk)
            if a.status != AuthStatus.AUTHORIZED:
                continue
            _set(a, AuthStatus.NEEDS_REAUTHORIZATION)
            a.last_error, a.last_error_at = "authorization_expired", now
            a.save(update_fields=["status", "status_changed_at", "last_error", "last_error_at"])
            status.recompute(a.store)
            audit.record(
                None,
                "authorization.needs_reauthorization",
                store=a.store,
                capability=a.capability,
                outcome="expired",
            )
            count += 1
    # Stores crossing into the 30-day window: recompute so the stored combined status says "attention".
    soon = now + timedelta(days=settings.AUTHORIZATION_RENEWAL_WARNING_DAYS)
    store_ids = (
        Authorization.objects.filter(status=AuthStatus.AUTHORIZED, expires_at__lte=soon)
        .exclude(store__authorization_status="attention")
        .values_list("store_id", flat=True)
        .distinct()
    )
    for store in Store.objects.filter(pk__in=list(store_ids)):
        status.recompute_in_transaction(store)
    return count


def mark_needs_reauthorization(auth: Authorization, reason: str, request: HttpRequest | None = None) -> bool:
    """Amazon refused the grant (invalid_grant, 403 Unauthorized): the capability needs re-authorization.

    `reason` is a code of authorizations.reasons (e.g. "revoked", "unauthorized"). Returns True when the status
    changed; jobs of the capability stop because they only run for "authorized".
    """
    with transaction.atomic():
        a = Authorization.objects.select_for_update().select_related("store").get(pk=auth.pk)
        if a.status != AuthStatus.AUTHORIZED:
            return False
        now = timezone.now()
        _set(a, AuthStatus.NEEDS_REAUTHORIZATION)
        a.last_error, a.last_error_at = reason, now
        a.save(update_fields=["status", "status_changed_at", "last_error", "last_error_at"])
        status.recompute(a.store)
        audit.record(
            request,
            "authorization.needs_reauthorization",
            store=a.store,
            capability=a.capability,
            outcome=reason,
        )
    auth.refresh_from_db()
    return True
