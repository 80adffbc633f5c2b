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

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from authorizations import hooks, status, transitions
from authorizations.models import SPAPI_CAPABILITIES, Authorization, AuthStatus
from stores.models import Store


class LifecycleError(Exception):
    pass


def disable(request: HttpRequest | None, auth: Authorization) -> None:
    with transaction.atomic():
        a = transitions.locked(auth.pk)
        if a.status not in (AuthStatus.AUTHORIZED, AuthStatus.NEEDS_REAUTHORIZATION):
            raise LifecycleError("only an authorized capability can be disabled")
        transitions.change(
            a, AuthStatus.DISABLED, action="authorization.disabled", outcome="disabled", request=request
        )
        hooks.ended(a)


def enable(request: HttpRequest | None, auth: Authorization) -> None:
    with transaction.atomic():
        a = transitions.locked(auth.pk)
        if a.status != AuthStatus.DISABLED or not a.has_token:
            raise LifecycleError("only a disabled capability that still holds a token can be enabled")
        transitions.change(
            a, AuthStatus.AUTHORIZED, action="authorization.enabled", outcome="authorized", request=request
        )
        transaction.on_commit(
            lambda: hooks.authorized(Authorization.objects.select_related("store").get(pk=a.pk))
        )


def revoke(request: HttpRequest | None, auth: Authorization) -> None:
    with transaction.atomic():
        store = Store.objects.select_for_update().get(pk=auth.store_id)
        a = transitions.locked(auth.pk)
        if not a.has_token and a.status == AuthStatus.NOT_AUTHORIZED:
            raise LifecycleError("nothing to revoke")
        hooks.ended(a)  # before the store lets go of its seller id below
        a.set_refresh_token("")
        still_connected = (
            Authorization.objects.filter(store=store, capability__in=SPAPI_CAPABILITIES)
            .exclude(pk=a.pk)
            .exclude(refresh_token_encrypted="")
        )
        if not still_connected.exists() and store.selling_partner_id:
            store.selling_partner_id = ""
            store.selling_partner_verified = False
            store.save(update_fields=["selling_partner_id", "selling_partner_verified", "updated_at"])
        transitions.change(
            a,
            AuthStatus.NOT_AUTHORIZED,
            fields={
                "authorized_at": None,
                "expires_at": None,
                "last_error_at": None,
                "last_error": "",
                "granted_marketplaces": [],
                "ads_profiles": [],
            },
            action="authorization.revoked",
            outcome="token_deleted",
            request=request,
        )


def disable_all_for_archive(store: Store) -> None:
    """An archived store keeps its history, but nothing of it is authorized or runs any more."""
    for a in (
        Authorization.objects.select_for_update(of=("self",)).select_related("store").filter(store=store)
    ):
        if a.status in (AuthStatus.AUTHORIZED, AuthStatus.NEEDS_REAUTHORIZATION, AuthStatus.PENDING):
            transitions.change(a, AuthStatus.DISABLED)
            hooks.ended(a)
    status.recompute(store)


def expire_lapsed() -> int:
    """SP-API authorizations past their expiry need re-authorization; stores near expiry get "attention"."""
    now = timezone.now()
    lapsed = Authorization.objects.filter(
        capability__in=SPAPI_CAPABILITIES, status=AuthStatus.AUTHORIZED, expires_at__lte=now
    ).values_list("pk", flat=True)
    count = sum(1 for pk in list(lapsed) if _needs_reauthorization(pk, "authorization_expired", "expired"))
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
    changed = _needs_reauthorization(auth.pk, reason, reason, request)
    auth.refresh_from_db()
    return changed


def _needs_reauthorization(pk: int, error: str, outcome: str, request: HttpRequest | None = None) -> bool:
    with transaction.atomic():
        a = transitions.locked(pk)
        if a.status != AuthStatus.AUTHORIZED:
            return False
        now = timezone.now()
        transitions.change(
            a,
            AuthStatus.NEEDS_REAUTHORIZATION,
            # Amazon answered about the grant just now (a job's refresh, the hourly check, a 403): that is a check.
            fields={"last_error": error, "last_error_at": now, "last_checked_at": now},
            action="authorization.needs_reauthorization",
            outcome=outcome,
            request=request,
            now=now,
        )
        hooks.ended(a)
    return True
