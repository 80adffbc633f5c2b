"""The SP-API website authorization workflow: start an attempt, take Amazon's callback, attach the grant.

Rules (DESIGN.md): the state is >= 128 random bits, stored server side (hashed), single use, 15 minutes, compared in
constant time; store and capability come from the attempt, never from the query string. A callback completes at
once only in the browser session that started the attempt, or for the user who started it. Anywhere else, even for
another member of the tenant, the code is exchanged at once (it lives 5 minutes) but the grant is held: bound to
that browser by a holder cookie, it is attached only after a member who may change the store has seen which
distributor account, store and Amazon seller it would connect and confirmed with a POST; declining discards it and
tells the starter; otherwise it is discarded when the attempt expires. Without that rule anyone could send a seller
a consent link started in their own tenant and capture the seller's Amazon account (account-linking CSRF).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from django.conf import settings
from django.db import IntegrityError, OperationalError, transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership
from authorizations import audit, crypto, endpoints, notices, status
from authorizations.attempts import release_pending
from authorizations.clients import listings_seller, lwa, sellers
from authorizations.models import (
    SPAPI_CAPABILITIES,
    Authorization,
    AuthorizationAttempt,
    AuthStatus,
    Capability,
    hash_state,
    new_state,
)
from stores.models import Store

if TYPE_CHECKING:
    from authorizations.appstore import AppstoreRequest

log = logging.getLogger(__name__)
Outcome = AuthorizationAttempt.Outcome


class AttemptError(Exception):
    """The callback cannot be tied to a usable attempt (unknown, used or expired state)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class CallbackResult:
    attempt: AuthorizationAttempt
    # completed: attached now; quarantined: held for a confirmation in this browser; ended: cancelled/failed.
    state: str
    # For a held grant: the secret that binds it to this browser (goes into the holder cookie, hash in the row).
    holder: str = ""


# --- configuration -------------------------------------------------------------------------------------------


def lwa_client(capability: str) -> lwa.Client:
    app = settings.AMAZON_ADS_APP if capability == Capability.ADS else settings.AMAZON_SPAPI_APPS[capability]
    return lwa.Client(client_id=app["client_id"], client_secret=app["client_secret"])


def callback_uri(request: HttpRequest | None, capability: str) -> str:
    path = reverse(
        "authorizations:ads_callback" if capability == Capability.ADS else "authorizations:callback"
    )
    if settings.PUBLIC_BASE_URL:
        return settings.PUBLIC_BASE_URL.rstrip("/") + path
    assert request is not None
    return request.build_absolute_uri(path)


def session_fingerprint(request: HttpRequest) -> str:
    if not request.session.session_key:
        request.session.save()
    return hashlib.sha256(f"{request.session.session_key}".encode()).hexdigest()


# --- start ---------------------------------------------------------------------------------------------------


def consent_url(store: Store, capability: str, state: str, redirect_uri: str) -> str:
    app = settings.AMAZON_SPAPI_APPS[capability]
    query = {"application_id": app["app_id"], "state": state, "redirect_uri": redirect_uri}
    if app.get("beta"):
        query["version"] = "beta"
    return f"{endpoints.seller_central(store.primary_site)}/apps/authorize/consent?{urlencode(query)}"


def start_attempt(
    request: HttpRequest, store: Store, capability: str, appstore_request: AppstoreRequest | None = None
) -> AuthorizationAttempt:
    from authorizations import ads_flow, appstore

    state = new_state()
    redirect_uri = callback_uri(request, capability)
    source = "portal"
    if appstore_request is not None:
        source = "appstore"
        url = appstore.confirm_redirect(appstore_request, state, redirect_uri)
    elif capability == Capability.ADS:
        url = ads_flow.authorize_url(store, state, redirect_uri)
    else:
        url = consent_url(store, capability, state, redirect_uri)
    now = timezone.now()
    with transaction.atomic():
        attempt = AuthorizationAttempt.objects.create(
            state_hash=hash_state(state),
            store=store,
            capability=capability,
            user=request.user if request.user.is_authenticated else None,
            session_key_hash=session_fingerprint(request),
            source=source,
            started_at=now,
            expires_at=now + timedelta(seconds=settings.AUTHORIZATION_ATTEMPT_TTL_SECONDS),
            consent_url_encrypted=crypto.encrypt(url),
            start_ip=audit.client_ip(request),
            start_user_agent=audit.user_agent(request),
        )
        Authorization.objects.filter(
            store=store, capability=capability, status=AuthStatus.NOT_AUTHORIZED
        ).update(status=AuthStatus.PENDING, status_changed_at=now)
        status.recompute(store)
        audit.record(request, "authorization.started", store=store, capability=capability, outcome="pending")
    return attempt


# --- callback ------------------------------------------------------------------------------------------------


def claim_attempt(request: HttpRequest, state: str, capability_kind: str) -> AuthorizationAttempt:
    """Find the attempt by its state and mark it used, exactly once."""
    if not state or len(state) > 200:
        raise AttemptError("unknown")
    attempt = (
        AuthorizationAttempt.objects.select_related("store", "store__tenant")
        .filter(state_hash=hash_state(state))
        .first()
    )
    if attempt is None or not attempt.state_matches(state):
        raise AttemptError("unknown")
    is_ads = attempt.capability == Capability.ADS
    if (capability_kind == "ads") != is_ads:
        raise AttemptError("unknown")
    now = timezone.now()
    if attempt.outcome == Outcome.PENDING and attempt.is_expired:
        _finish(attempt, Outcome.EXPIRED, "expired", request=request)
        raise AttemptError("expired")
    claimed = AuthorizationAttempt.objects.filter(
        pk=attempt.pk, outcome=Outcome.PENDING, used_at__isnull=True
    ).update(used_at=now, callback_ip=audit.client_ip(request), callback_user_agent=audit.user_agent(request))
    if not claimed:
        attempt.refresh_from_db()
        raise AttemptError("expired" if attempt.outcome == Outcome.EXPIRED else "used")
    attempt.refresh_from_db()
    return attempt


def may_attach_here(request: HttpRequest, attempt: AuthorizationAttempt) -> bool:
    """This browser's user is a member of the attempt's tenant who may change the store."""
    if not request.user.is_authenticated:
        return False
    membership = Membership.objects.filter(user=request.user, tenant_id=attempt.store.tenant_id).first()
    return membership is not None and membership.can_change


def attaches_at_once(request: HttpRequest, attempt: AuthorizationAttempt) -> bool:
    """The callback arrived where the attempt started: the same browser session, or the user who started it."""
    if not may_attach_here(request, attempt):
        return False
    if attempt.user_id is not None and request.user.pk == attempt.user_id:
        return True
    return bool(attempt.session_key_hash) and hmac.compare_digest(
        attempt.session_key_hash, session_fingerprint(request)
    )


def _ended_at_amazon(request: HttpRequest, attempt: AuthorizationAttempt) -> CallbackResult:
    """Amazon came back with `error`: access_denied is the seller's Cancel, anything else Amazon's failure."""
    reason = "cancelled" if request.GET.get("error") == "access_denied" else "amazon_error"
    outcome = Outcome.CANCELLED if reason == "cancelled" else Outcome.FAILED
    _finish(attempt, outcome, reason, request.GET.get("error_description", "")[:300], request=request)
    return CallbackResult(attempt, "ended")


def handle_spapi_callback(request: HttpRequest) -> CallbackResult:
    attempt = claim_attempt(request, request.GET.get("state", ""), "spapi")
    if request.GET.get("error"):
        return _ended_at_amazon(request, attempt)
    code = request.GET.get("spapi_oauth_code", "")
    sp_id = request.GET.get("selling_partner_id", "").strip()
    if not code or not sp_id or len(sp_id) > 40 or len(code) > 1000:
        _finish(attempt, Outcome.FAILED, "missing_code", request=request)
        return CallbackResult(attempt, "ended")
    return exchange_and_attach(request, attempt, code, sp_id)


def handle_ads_callback(request: HttpRequest) -> CallbackResult:
    attempt = claim_attempt(request, request.GET.get("state", ""), "ads")
    if request.GET.get("error"):
        return _ended_at_amazon(request, attempt)
    code = request.GET.get("code", "")
    if not code or len(code) > 1000:
        _finish(attempt, Outcome.FAILED, "missing_code", request=request)
        return CallbackResult(attempt, "ended")
    return exchange_and_attach(request, attempt, code, "")


def exchange_and_attach(
    request: HttpRequest, attempt: AuthorizationAttempt, code: str, sp_id: str
) -> CallbackResult:
    store = attempt.store
    try:
        tokens = lwa.exchange_code(
            endpoints.for_region(store.region).lwa_token,
            lwa_client(attempt.capability),
            code,
            callback_uri(request, attempt.capability),
        )
    except lwa.LwaError as e:
        reason = {"invalid_grant": "code_invalid", "network": "network", "bad_response": "bad_response"}.get(
            e.kind, "amazon_error"
        )
        log.warning("code exchange failed for attempt %s: %s (HTTP %s)", attempt.code, e.kind, e.status)
        _finish(attempt, Outcome.FAILED, reason, e.kind, request=request)
        return CallbackResult(attempt, "ended")
    if attaches_at_once(request, attempt):
        attach(request, attempt, tokens.refresh_token, sp_id, access_token=tokens.access_token)
        attempt.refresh_from_db()
        return CallbackResult(attempt, "completed" if attempt.outcome == Outcome.SUCCEEDED else "ended")
    # Anywhere else: hold the grant, bound to this browser, until a member confirms what it connects.
    holder = new_state()
    AuthorizationAttempt.objects.filter(pk=attempt.pk).update(
        outcome=Outcome.QUARANTINED,
        selling_partner_id=sp_id,
        quarantined_token_encrypted=crypto.encrypt(tokens.refresh_token),
        holder_hash=hash_state(holder),
    )
    audit.record(
        request,
        "authorization.quarantined",
        store=store,
        capability=attempt.capability,
        outcome="waiting_for_confirmation",
        detail="callback in another browser",
        user=attempt.user,
    )
    attempt.refresh_from_db()
    return CallbackResult(attempt, "quarantined", holder=holder)


def open_held(attempt: AuthorizationAttempt, request: HttpRequest | None = None) -> None:
    """Raise AttemptError unless the held grant can still be confirmed or declined (expiring it when due)."""
    if attempt.outcome != Outcome.QUARANTINED:
        raise AttemptError("expired" if attempt.outcome == Outcome.EXPIRED else "used")
    if attempt.is_expired:
        _finish(attempt, Outcome.EXPIRED, "expired", request=request)
        raise AttemptError("expired")


def release_quarantine(request: HttpRequest, attempt: AuthorizationAttempt) -> CallbackResult:
    """A member confirmed in the browser that holds the grant: attach it, or refuse."""
    open_held(attempt, request)
    if not may_attach_here(request, attempt):
        return CallbackResult(attempt, "quarantined")
    token = crypto.decrypt(attempt.quarantined_token_encrypted)
    attach(request, attempt, token, attempt.selling_partner_id, access_token=None)
    attempt.refresh_from_db()
    return CallbackResult(attempt, "completed" if attempt.outcome == Outcome.SUCCEEDED else "ended")


def decline_quarantine(request: HttpRequest, attempt: AuthorizationAttempt) -> None:
    """The browser holding the grant said no: discard it and tell whoever started the attempt."""
    open_held(attempt, request)
    _finish(attempt, Outcome.FAILED, "declined", "declined in the browser that received the callback", request=request)
    # The seller who declined is not revealed to whoever started the attempt.
    AuthorizationAttempt.objects.filter(pk=attempt.pk).update(selling_partner_id="")
    attempt.refresh_from_db()
    notices.attempt_declined(attempt, request)


# --- attach --------------------------------------------------------------------------------------------------


def _conflict(store: Store, sp_id: str) -> str | None:
    """Why `sp_id` cannot be connected to `store`, or None.

    Only a verified claim of another tenant blocks (the one-account-one-tenant rule): a seller id that arrived
    unverified in a callback URL may have been rewritten by whoever held that browser, and must never lock the
    real seller out of their own account.
    """
    if store.selling_partner_id and store.selling_partner_id != sp_id:
        return "sp_mismatch"
    others = Store.objects.active().filter(selling_partner_id=sp_id, region=store.region).exclude(pk=store.pk)
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


@dataclass(frozen=True)
class _Grant:
    """What a verified grant installs."""

    sp_id: str
    verified: bool
    granted: list[dict[str, object]]
    profiles: list[dict[str, object]]


def _verify(
    store: Store, capability: str, refresh_token: str, access_token: str | None, sp_id: str
) -> _Grant:
    """Ask Amazon what the grant gives; raises VerificationError."""
    if capability == Capability.ADS:
        from authorizations import ads_flow

        profiles = ads_flow.fetch_profiles(store, refresh_token, access_token)
        account = next((str(p["account_id"]) for p in profiles if p.get("account_type") == "seller"), "")
        return _Grant(account, bool(account), [], profiles)
    token = access_token or access_token_for(store, capability, refresh_token)
    granted = verify_spapi(store, capability, refresh_token, token)
    verified = verify_seller(store, capability, token, sp_id)
    return _Grant(sp_id, verified, granted, [])


def verify_seller(store: Store, capability: str, access_token: str, sp_id: str) -> bool:
    """Whether Amazon confirms the grant belongs to `sp_id` (see clients/listings_seller.py).

    The listing/inventory application holds the Product Listing role, so a refusal there means the callback's
    seller id is not the grant's: the attempt fails. The order-loading application may lack that role: a refusal
    there only leaves the claim unverified.
    """
    try:
        ok = listings_seller.seller_matches(
            endpoints.for_region(store.region).sp_api, access_token, sp_id, store.primary_marketplace_id
        )
    except listings_seller.ListingsSellerError as e:
        log.info("seller id check inconclusive for store %s: %s", store.code, e.kind)
        if capability == Capability.LISTINGS:
            raise VerificationError(
                "throttled" if e.kind == "throttled" else "network" if e.kind == "network" else "amazon_error",
                f"seller check {e.kind}",
            ) from e
        return False
    if not ok and capability == Capability.LISTINGS:
        raise VerificationError("seller_mismatch", "searchListingsItems refused the callback's seller id")
    return ok


def attach(
    request: HttpRequest | None,
    attempt: AuthorizationAttempt,
    refresh_token: str,
    sp_id: str,
    *,
    access_token: str | None,
) -> None:
    """Verify the grant and make it the capability's authorization, or fail the attempt with a reason."""
    store = Store.objects.get(pk=attempt.store_id)
    if store.is_archived:
        _finish(attempt, Outcome.FAILED, "store_archived", request=request)
        return
    is_ads = attempt.capability == Capability.ADS
    conflict = None if is_ads else _conflict(store, sp_id)
    if conflict:
        _finish(attempt, Outcome.FAILED, conflict, sp_id=sp_id, request=request)
        return
    try:
        grant = _verify(store, attempt.capability, refresh_token, access_token, sp_id)
    except VerificationError as e:
        _finish(attempt, Outcome.FAILED, e.reason, e.detail, sp_id=sp_id, request=request)
        return
    try:
        _install(request, attempt, store, refresh_token, grant)
    except _Conflict as c:
        if c.reason != "used":
            _finish(attempt, Outcome.FAILED, c.reason, sp_id=grant.sp_id, request=request)
    except IntegrityError:
        # A concurrent attach won the unique constraint: tell the loser what actually holds the account.
        reason = _conflict(Store.objects.get(pk=store.pk), grant.sp_id) or "account_taken"
        _finish(attempt, Outcome.FAILED, reason, sp_id=grant.sp_id, request=request)
    except OperationalError:
        log.warning("database busy while attaching attempt %s", attempt.code, exc_info=True)
        _finish(attempt, Outcome.FAILED, "busy", sp_id=grant.sp_id, request=request)


def _install(
    request: HttpRequest | None,
    attempt: AuthorizationAttempt,
    store: Store,
    refresh_token: str,
    grant: _Grant,
) -> None:
    """Write the grant in one transaction, re-checking the rules under the store's lock."""
    now = timezone.now()
    sp_id = grant.sp_id
    with transaction.atomic():
        store = Store.objects.select_for_update().get(pk=store.pk)
        if attempt.capability == Capability.ADS:
            conflict = _ads_conflict(store, sp_id)
        else:
            conflict = _conflict(store, sp_id)
        if conflict:
            raise _Conflict(conflict)
        if attempt.capability in SPAPI_CAPABILITIES:
            _claim_seller(request, store, sp_id, grant.verified)
        auth = Authorization.objects.select_for_update().get(store=store, capability=attempt.capability)
        renewing = auth.status == AuthStatus.AUTHORIZED
        auth.status = AuthStatus.AUTHORIZED
        auth.selling_partner_id = sp_id
        auth.set_refresh_token(refresh_token)
        auth.authorized_at = now
        auth.expires_at = now + timedelta(days=settings.AUTHORIZATION_VALIDITY_DAYS)
        auth.status_changed_at = now
        auth.last_checked_at = now
        auth.last_error = ""
        auth.last_error_at = None
        if attempt.capability == Capability.ADS:
            auth.ads_profiles = grant.profiles
        else:
            auth.granted_marketplaces = grant.granted
        auth.save()
        updated = AuthorizationAttempt.objects.filter(
            pk=attempt.pk, outcome__in=[Outcome.PENDING, Outcome.QUARANTINED]
        ).update(
            outcome=Outcome.SUCCEEDED,
            reason="renewed" if renewing else "",
            finished_at=now,
            selling_partner_id=sp_id,
            quarantined_token_encrypted="",
            holder_hash="",
        )
        if not updated:
            # Another request finished this attempt first; roll back so nothing is attached twice.
            raise _Conflict("used")
        status.recompute(store)
        audit.record(
            request,
            "authorization.succeeded",
            store=store,
            capability=attempt.capability,
            outcome="renewed" if renewing else "authorized",
            detail=f"seller {sp_id}" + ("" if grant.verified else " (unverified)"),
            user=attempt.user if request is None or not request.user.is_authenticated else None,
        )
        on_authorized(auth)


def _claim_seller(request: HttpRequest | None, store: Store, sp_id: str, verified: bool) -> None:
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
        .filter(selling_partner_id=sp_id, region=store.region, selling_partner_verified=False)
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


def on_authorized(auth: Authorization) -> None:
    """Work that starts when a capability becomes authorized (enqueued after commit)."""
    from sync import jobs

    jobs.capability_authorized(auth)


class _Conflict(Exception):
    def __init__(self, reason: str) -> None:
        self.reason = reason


class VerificationError(Exception):
    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail


def access_token_for(store: Store, capability: str, refresh_token: str) -> str:
    try:
        return lwa.refresh(
            endpoints.for_region(store.region).lwa_token, lwa_client(capability), refresh_token
        ).access_token
    except lwa.LwaError as e:
        reason = {"invalid_grant": "revoked", "network": "network", "bad_response": "bad_response"}.get(
            e.kind, "amazon_error"
        )
        raise VerificationError(reason, e.kind) from e


def verify_spapi(
    store: Store, capability: str, refresh_token: str, access_token: str | None
) -> list[dict[str, object]]:
    token = access_token or access_token_for(store, capability, refresh_token)
    try:
        parts = sellers.get_marketplace_participations(endpoints.for_region(store.region).sp_api, token)
    except sellers.SellersApiError as e:
        reason = {
            "unauthorized": "verification_failed",
            "network": "network",
            "throttled": "throttled",
            "bad_response": "bad_response",
        }.get(e.kind, "amazon_error")
        raise VerificationError(reason, f"{e.kind} {e.code}".strip()) from e
    return [p.as_dict() for p in parts]


def _finish(
    attempt: AuthorizationAttempt,
    outcome: str,
    reason: str,
    detail: str = "",
    *,
    sp_id: str = "",
    request: HttpRequest | None = None,
) -> None:
    now = timezone.now()
    with transaction.atomic():
        changed = AuthorizationAttempt.objects.filter(
            pk=attempt.pk, outcome__in=[Outcome.PENDING, Outcome.QUARANTINED]
        ).update(
            outcome=outcome,
            reason=reason,
            detail=detail[:500],
            finished_at=now,
            selling_partner_id=sp_id or attempt.selling_partner_id,
            quarantined_token_encrypted="",
            holder_hash="",
        )
        if not changed:
            return
        release_pending(attempt)
        audit.record(
            request,
            f"authorization.{outcome}",
            store=attempt.store,
            capability=attempt.capability,
            outcome=reason,
            detail=(f"seller {sp_id} " if sp_id else "") + detail,
            user=attempt.user if request is None or not request.user.is_authenticated else None,
        )
    attempt.refresh_from_db()


# --- re-check ------------------------------------------------------------------------------------------------


def recheck(auth: Authorization, request: HttpRequest | None = None) -> str:
    """Refresh the token and make the cheap call. Returns "ok", or the reason of the failure.

    A revoked or expired grant turns the capability to needs re-authorization; throttling and outages only
    record an error and leave the status alone.
    """
    from authorizations import ads_flow

    store = auth.store
    if auth.status not in (AuthStatus.AUTHORIZED, AuthStatus.NEEDS_REAUTHORIZATION) or not auth.has_token:
        return "not_authorized"
    now = timezone.now()
    try:
        if auth.capability == Capability.ADS:
            profiles = ads_flow.fetch_profiles(store, auth.get_refresh_token(), None)
            changes = {"ads_profiles": profiles}
        else:
            changes = {
                "granted_marketplaces": verify_spapi(store, auth.capability, auth.get_refresh_token(), None)
            }
        result = "ok"
    except VerificationError as e:
        result = e.reason
        changes = {}
    with transaction.atomic():
        a = Authorization.objects.select_for_update().get(pk=auth.pk)
        a.last_checked_at = now
        if result == "ok":
            for k, v in changes.items():
                setattr(a, k, v)
            if a.status == AuthStatus.NEEDS_REAUTHORIZATION:
                a.status, a.status_changed_at = AuthStatus.AUTHORIZED, now
            a.last_error, a.last_error_at = "", None
        else:
            a.last_error, a.last_error_at = result, now
            if result in ("revoked", "verification_failed") and a.status == AuthStatus.AUTHORIZED:
                a.status, a.status_changed_at = AuthStatus.NEEDS_REAUTHORIZATION, now
        a.save()
        status.recompute(store)
        if request is not None or result != "ok":
            audit.record(
                request, "authorization.rechecked", store=store, capability=a.capability, outcome=result
            )
    auth.refresh_from_db()
    return result
