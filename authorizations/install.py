"""Installing a grant: verify it at Amazon, apply the account rules, make it the capability's authorization.

The rules (docs/architecture.md, "Account rules"): a store keeps one seller; a verified Amazon account (seller id +
region, or the advertising account id) serves one tenant; an unverified seller id never blocks anyone. They are
checked before the calls to Amazon and again under the store's lock, and a partial unique constraint backs them.
A grant that cannot be installed raises attempts.AttemptFailed with the reason; flow.settle ends the attempt.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, OperationalError, transaction
from django.http import HttpRequest
from django.utils import timezone

from authorizations import attempts, audit, hooks, transitions
from authorizations.attempts import AttemptFailed
from authorizations.credentials import Grant, VerificationError, for_capability
from authorizations.models import (
    SPAPI_CAPABILITIES,
    Authorization,
    AuthorizationAttempt,
    AuthStatus,
    Capability,
)
from stores.models import Store

log = logging.getLogger(__name__)
Outcome = AuthorizationAttempt.Outcome


class _AlreadyEnded(Exception):
    """Another request ended the attempt first: the transaction rolls back and nothing is attached twice."""


def _conflict(store: Store, sp_id: str) -> str | None:
    """Why `sp_id` cannot be connected to `store`, or None.

    Only a verified claim of another tenant blocks (the one-account-one-tenant rule): a seller id that arrived
    unverified in a callback URL may have been rewritten by whoever held that browser, and must never lock the
    real seller out of their own account.
    """
    if store.selling_partner_id and store.selling_partner_id != sp_id:
        return "sp_mismatch"
    others = (
        Store.objects.active()
        .filter(selling_partner_id=sp_id, region=store.region, account_site=store.account_site)
        .exclude(pk=store.pk)
    )
    for other in others:
        if other.tenant_id == store.tenant_id:
            return "account_in_other_store"
        if other.selling_partner_verified:
            return "account_taken"
    return None


def _ads_conflict(store: Store, account_id: str) -> str | None:
    """The advertising account (the seller profile's account id) may serve one tenant only, as SP-API accounts do."""
    if not account_id:
        return None
    taken = (
        Authorization.objects.filter(
            capability=Capability.ADS,
            selling_partner_id=account_id,
            store__region=store.region,
            store__archived_at__isnull=True,
        )
        .exclude(store__tenant_id=store.tenant_id)
        .exclude(status=AuthStatus.NOT_AUTHORIZED)
    )
    return "account_taken" if taken.exists() else None


def _rule_broken(store: Store, capability: str, sp_id: str) -> str | None:
    return _ads_conflict(store, sp_id) if capability == Capability.ADS else _conflict(store, sp_id)


def attach(
    request: HttpRequest | None,
    attempt: AuthorizationAttempt,
    refresh_token: str,
    sp_id: str,
    *,
    access_token: str | None,
) -> None:
    """Verify the grant and make it the capability's authorization; AttemptFailed names the reason it cannot.

    Returns quietly when another request ended the attempt first (the caller reads the attempt's outcome).
    """
    store = Store.objects.get(pk=attempt.store_id)
    if store.is_archived:
        raise AttemptFailed(Outcome.FAILED, "store_archived")
    conflict = None if attempt.capability == Capability.ADS else _conflict(store, sp_id)
    if conflict:
        raise AttemptFailed(Outcome.FAILED, conflict, sp_id=sp_id)
    try:
        grant = for_capability(attempt.capability).verify(store, refresh_token, access_token, sp_id)
    except VerificationError as e:
        raise AttemptFailed(Outcome.FAILED, e.reason, e.detail, sp_id=sp_id) from e
    try:
        _install(request, attempt, store, refresh_token, grant)
    except _AlreadyEnded:
        return
    except IntegrityError as e:
        # A concurrent attach won the unique constraint: tell the loser what actually holds the account.
        reason = _conflict(Store.objects.get(pk=store.pk), grant.sp_id) or "account_taken"
        raise AttemptFailed(Outcome.FAILED, reason, sp_id=grant.sp_id) from e
    except OperationalError as e:
        log.warning("database busy while attaching attempt %s", attempt.code, exc_info=True)
        raise AttemptFailed(Outcome.FAILED, "busy", sp_id=grant.sp_id) from e


def _install(
    request: HttpRequest | None,
    attempt: AuthorizationAttempt,
    store: Store,
    refresh_token: str,
    grant: Grant,
) -> None:
    """Write the grant in one transaction, re-checking the rules under the store's lock."""
    now = timezone.now()
    with transaction.atomic():
        store = Store.objects.select_for_update().get(pk=store.pk)
        conflict = _rule_broken(store, attempt.capability, grant.sp_id)
        if conflict:
            raise AttemptFailed(Outcome.FAILED, conflict, sp_id=grant.sp_id)
        if attempt.capability in SPAPI_CAPABILITIES:
            _claim_seller(store, grant.sp_id, grant.verified)
        auth = transitions.locked(Authorization.objects.get(store=store, capability=attempt.capability).pk)
        renewing = auth.status == AuthStatus.AUTHORIZED
        auth.set_refresh_token(refresh_token)
        _close_attempt(attempt, grant.sp_id, renewing, now)
        transitions.change(
            auth,
            AuthStatus.AUTHORIZED,
            fields={
                "selling_partner_id": grant.sp_id,
                "authorized_at": now,
                "expires_at": now + timedelta(days=settings.AUTHORIZATION_VALIDITY_DAYS),
                "status_changed_at": now,
                "last_checked_at": now,
                "last_error": "",
                "last_error_at": None,
                **grant.fields,
            },
            action="authorization.succeeded",
            outcome="renewed" if renewing else "authorized",
            detail=f"seller {grant.sp_id}" + ("" if grant.verified else " (unverified)"),
            request=request,
            user=attempt.user if request is None or not request.user.is_authenticated else None,
            now=now,
        )
        hooks.authorized(auth)


def _close_attempt(attempt: AuthorizationAttempt, sp_id: str, renewing: bool, now: object) -> None:
    updated = AuthorizationAttempt.objects.filter(pk=attempt.pk, outcome__in=attempts.OPEN).update(
        outcome=Outcome.SUCCEEDED,
        reason="renewed" if renewing else "",
        finished_at=now,
        selling_partner_id=sp_id,
        quarantined_token_encrypted="",
        holder_hash="",
    )
    if not updated:
        raise _AlreadyEnded


def _claim_seller(store: Store, sp_id: str, verified: bool) -> None:
    """Record the store's seller; a verified claim withdraws other tenants' unverified claims of the same id."""
    fields = []
    if not store.selling_partner_id:
        store.selling_partner_id = sp_id
        fields.append("selling_partner_id")
    if verified and not store.selling_partner_verified:
        store.selling_partner_verified = True
        fields.append("selling_partner_verified")
    if fields:
        store.save(update_fields=[*fields, "updated_at"])
    if not verified:
        return
    rivals = (
        Store.objects.active()
        .select_for_update()
        .filter(
            selling_partner_id=sp_id,
            region=store.region,
            account_site=store.account_site,
            selling_partner_verified=False,
        )
        .exclude(tenant_id=store.tenant_id)
    )
    for rival in rivals:
        rival.selling_partner_id = ""
        rival.save(update_fields=["selling_partner_id", "updated_at"])
        audit.record(
            None,
            "store.seller_claim_withdrawn",
            store=rival,
            outcome="claim_withdrawn",
            detail=f"seller {sp_id} was verified by another distributor account",
        )
        log.warning("unverified claim of seller %s withdrawn from store %s", sp_id, rival.code)
