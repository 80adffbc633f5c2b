"""The SP-API website authorization workflow: start an attempt, take Amazon's callback, attach the grant.

Rules (docs/architecture.md, "Authorization attempts"): the state is >= 128 random bits, stored server side (hashed), single use, 15 minutes, compared in
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
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership
from amazon import lwa
from authorizations import appstore, attempts, audit, crypto, install, notices, transitions
from authorizations.attempts import AttemptError, AttemptFailed, CallbackResult, CallbackState
from authorizations.credentials import for_capability
from authorizations.models import (
    Authorization,
    AuthorizationAttempt,
    AuthStatus,
    Capability,
    hash_state,
    new_state,
)
from authorizations.reasons import reason_for
from lib.links import absolute_url
from stores.models import Store

log = logging.getLogger(__name__)
Outcome = AuthorizationAttempt.Outcome


# --- configuration -------------------------------------------------------------------------------------------


def callback_uri(request: HttpRequest | None, capability: str) -> str:
    return absolute_url(reverse(for_capability(capability).callback_route), request)


def session_fingerprint(request: HttpRequest) -> str:
    if not request.session.session_key:
        request.session.save()
    return hashlib.sha256(f"{request.session.session_key}".encode()).hexdigest()


# --- start ---------------------------------------------------------------------------------------------------


def start_attempt(
    request: HttpRequest,
    store: Store,
    capability: str,
    appstore_request: appstore.AppstoreRequest | None = None,
) -> AuthorizationAttempt:
    state = new_state()
    redirect_uri = callback_uri(request, capability)
    source = "portal"
    if appstore_request is not None:
        source = "appstore"
        url = appstore.confirm_redirect(appstore_request, state, redirect_uri)
    else:
        url = for_capability(capability).consent_url(store, state, redirect_uri)
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
        auth = transitions.locked(Authorization.objects.get(store=store, capability=capability).pk)
        transitions.change(
            auth,
            AuthStatus.PENDING if auth.status == AuthStatus.NOT_AUTHORIZED else None,
            action="authorization.started",
            outcome="pending",
            request=request,
            now=now,
        )
    return attempt


# --- callback ------------------------------------------------------------------------------------------------


def settle(
    request: HttpRequest, attempt: AuthorizationAttempt, step: Callable[[], CallbackResult]
) -> CallbackResult:
    """Run a step of the workflow on `attempt`: the one place where an unsuccessful attempt ends.

    Whatever the step finds wrong it raises as AttemptFailed; here the attempt ends with that outcome and reason
    (attempts.finish, which writes the audit record) and the result says so. An expired attempt also refuses the
    link, as an unknown or used one is refused (AttemptError).
    """
    try:
        return step()
    except AttemptFailed as failure:
        attempts.finish(
            attempt, failure.outcome, failure.reason, failure.detail, sp_id=failure.sp_id, request=request
        )
        if failure.outcome == Outcome.EXPIRED:
            raise AttemptError("expired") from failure
        return CallbackResult(attempt, CallbackState.ENDED)


def find_attempt(state: str, capability_kind: str) -> AuthorizationAttempt:
    """The attempt `state` names, for this kind of callback; AttemptError("unknown") otherwise."""
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
    return attempt


def claim_attempt(request: HttpRequest, attempt: AuthorizationAttempt) -> None:
    """Mark the attempt used, exactly once."""
    if attempt.outcome == Outcome.PENDING and attempt.is_expired:
        raise AttemptFailed(Outcome.EXPIRED, "expired")
    claimed = AuthorizationAttempt.objects.filter(
        pk=attempt.pk, outcome=Outcome.PENDING, used_at__isnull=True
    ).update(
        used_at=timezone.now(),
        callback_ip=audit.client_ip(request),
        callback_user_agent=audit.user_agent(request),
    )
    attempt.refresh_from_db()
    if not claimed:
        raise AttemptError("expired" if attempt.outcome == Outcome.EXPIRED else "used")


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


def _raise_if_ended_at_amazon(request: HttpRequest) -> None:
    """Amazon came back with `error`: access_denied is the seller's Cancel, anything else Amazon's failure."""
    error = request.GET.get("error")
    if not error:
        return
    description = request.GET.get("error_description", "")[:300]
    if error == "access_denied":
        raise AttemptFailed(Outcome.CANCELLED, "cancelled", description)
    raise AttemptFailed(Outcome.FAILED, "amazon_error", description)


def _spapi_code(request: HttpRequest) -> tuple[str, str]:
    """(authorization code, selling partner id) of an SP-API callback."""
    code = request.GET.get("spapi_oauth_code", "")
    sp_id = request.GET.get("selling_partner_id", "").strip()
    if not code or not sp_id or len(sp_id) > 40 or len(code) > 1000:
        raise AttemptFailed(Outcome.FAILED, "missing_code")
    return code, sp_id


def _ads_code(request: HttpRequest) -> tuple[str, str]:
    """(authorization code, "") of an advertising callback: Login with Amazon names no seller."""
    code = request.GET.get("code", "")
    if not code or len(code) > 1000:
        raise AttemptFailed(Outcome.FAILED, "missing_code")
    return code, ""


def _handle_callback(
    request: HttpRequest, capability_kind: str, read_code: Callable[[HttpRequest], tuple[str, str]]
) -> CallbackResult:
    attempt = find_attempt(request.GET.get("state", ""), capability_kind)

    def step() -> CallbackResult:
        claim_attempt(request, attempt)
        _raise_if_ended_at_amazon(request)
        code, sp_id = read_code(request)
        return exchange_and_attach(request, attempt, code, sp_id)

    return settle(request, attempt, step)


def handle_spapi_callback(request: HttpRequest) -> CallbackResult:
    return _handle_callback(request, "spapi", _spapi_code)


def handle_ads_callback(request: HttpRequest) -> CallbackResult:
    return _handle_callback(request, "ads", _ads_code)


def _attached(attempt: AuthorizationAttempt) -> CallbackResult:
    """After install.attach: completed, or ended when another request finished the attempt first."""
    attempt.refresh_from_db()
    state = CallbackState.COMPLETED if attempt.outcome == Outcome.SUCCEEDED else CallbackState.ENDED
    return CallbackResult(attempt, state)


def exchange_and_attach(
    request: HttpRequest, attempt: AuthorizationAttempt, code: str, sp_id: str
) -> CallbackResult:
    store = attempt.store
    try:
        credentials = for_capability(attempt.capability)
        tokens = credentials.exchange(store, code, callback_uri(request, attempt.capability))
    except lwa.LwaError as e:
        log.warning("code exchange failed for attempt %s: %s (HTTP %s)", attempt.code, e.kind, e.status)
        raise AttemptFailed(Outcome.FAILED, reason_for(e.kind, "exchange"), e.kind) from e
    if attaches_at_once(request, attempt):
        install.attach(request, attempt, tokens.refresh_token, sp_id, access_token=tokens.access_token)
        return _attached(attempt)
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
    return CallbackResult(attempt, CallbackState.QUARANTINED, holder=holder)


# --- a held grant --------------------------------------------------------------------------------------------


def _still_held(attempt: AuthorizationAttempt) -> CallbackResult:
    if attempt.outcome != Outcome.QUARANTINED:
        raise AttemptError("expired" if attempt.outcome == Outcome.EXPIRED else "used")
    if attempt.is_expired:
        raise AttemptFailed(Outcome.EXPIRED, "expired")
    return CallbackResult(attempt, CallbackState.QUARANTINED)


def open_held(request: HttpRequest, attempt: AuthorizationAttempt) -> None:
    """Raise AttemptError unless the held grant can still be confirmed or declined (expiring it when due)."""
    settle(request, attempt, lambda: _still_held(attempt))


def release_quarantine(request: HttpRequest, attempt: AuthorizationAttempt) -> CallbackResult:
    """A member confirmed in the browser that holds the grant: attach it, or refuse."""

    def step() -> CallbackResult:
        held = _still_held(attempt)
        if not may_attach_here(request, attempt):
            return held
        token = crypto.decrypt(attempt.quarantined_token_encrypted)
        install.attach(request, attempt, token, attempt.selling_partner_id, access_token=None)
        return _attached(attempt)

    return settle(request, attempt, step)


def decline_quarantine(request: HttpRequest, attempt: AuthorizationAttempt) -> None:
    """The browser holding the grant said no: discard it and tell whoever started the attempt."""

    def step() -> CallbackResult:
        _still_held(attempt)
        raise AttemptFailed(Outcome.FAILED, "declined", "declined in the browser that received the callback")

    settle(request, attempt, step)
    # The seller who declined is not revealed to whoever started the attempt.
    AuthorizationAttempt.objects.filter(pk=attempt.pk).update(selling_partner_id="")
    attempt.refresh_from_db()
    notices.attempt_declined(attempt, request)
