"""Checking ONE stored grant at Amazon: refresh its token and make the cheap call of its kind (`recheck`:
daily, on demand), or only refresh its token (`token_check`: hourly, so a revoke or expiry shows within the
hour).

Not to be confused with sync/rechecks.py, which runs these checks for many stores as queued jobs (the daily
and staff batches, the every-minute token-check chunks), nor with checks.py, Django's system checks of the
settings.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from accounts import limits
from authorizations import lifecycle, transitions
from authorizations.credentials import VerificationError, for_capability
from authorizations.models import Authorization, AuthStatus

# Failures that mean the grant itself no longer works (as opposed to throttling or an outage).
GRANT_REFUSED = ("revoked", "verification_failed")


def recheck(auth: Authorization, request: HttpRequest | None = None, detail: str = "") -> str:
    """Returns "ok", or the reason of the failure.

    A revoked or expired grant turns the capability to needs re-authorization; throttling and outages only record
    an error and leave the status alone. A grant that works again brings "needs re-authorization" back to
    "authorized".
    """
    if auth.status not in (AuthStatus.AUTHORIZED, AuthStatus.NEEDS_REAUTHORIZATION) or not auth.has_token:
        return "not_authorized"
    now = timezone.now()
    try:
        checked = for_capability(auth.capability).check(auth.store, auth.get_refresh_token())
        result, fields = "ok", {**checked, "last_error": "", "last_error_at": None}
    except VerificationError as e:
        result, fields = e.reason, {"last_error": e.reason, "last_error_at": now}
    with transaction.atomic():
        a = transitions.locked(auth.pk)
        new_status = None
        if result == "ok" and a.status == AuthStatus.NEEDS_REAUTHORIZATION:
            new_status = AuthStatus.AUTHORIZED
        elif result in GRANT_REFUSED and a.status == AuthStatus.AUTHORIZED:
            new_status = AuthStatus.NEEDS_REAUTHORIZATION
        transitions.change(
            a,
            new_status,
            fields={**fields, "last_checked_at": now},
            action="authorization.rechecked" if request is not None or result != "ok" else "",
            outcome=result,
            detail=detail,
            request=request,
            now=now,
        )
    auth.refresh_from_db()
    return result


def checkable(auth: Authorization) -> bool:
    """Whether `recheck` would ask Amazon (a held token, authorized or needing re-authorization)."""
    return auth.has_token and auth.status in (AuthStatus.AUTHORIZED, AuthStatus.NEEDS_REAUTHORIZATION)


def live_limit() -> limits.Limit:
    return limits.Limit("live-check", settings.LIVE_CHECKS_PER_MINUTE, 60)


def on_demand(auth: Authorization, request: HttpRequest | None = None, detail: str = "") -> str:
    """A check someone asked for ("Query authorization result", "Re-check now", the API's POST …/recheck): `recheck`,
    at most LIVE_CHECKS_PER_MINUTE times a minute per authorization, counted in the shared cache for the buttons and
    the API alike. Over it: "too_many_checks" and Amazon is not asked (each check is an LWA refresh and a call on the
    seller's usage plan, which the store's own jobs need; a script looping on the API must not starve them)."""
    if checkable(auth):
        limit = live_limit()
        if not limits.allows(limit, str(auth.pk)):
            return "too_many_checks"
        limits.count(limit, str(auth.pk))
    return recheck(auth, request, detail=detail)


def live_retry_after(auth: Authorization) -> int:
    """Seconds until `on_demand` checks this authorization again."""
    return limits.retry_after(live_limit(), str(auth.pk))


# How old a grant's last check may grow before the hourly check refreshes its token. Half a minute under the hour:
# the dispatcher runs every minute (sync/rechecks.py), so a grant is checked on the minute its hour is up, one LWA
# refresh per grant-hour, and a revoke shows at most an hour (and the seconds a queued check waits) after the
# grant's previous check.
TOKEN_CHECK_EVERY = timedelta(minutes=59, seconds=30)
# After an outage answer (LWA down, throttled), the grant waits this long before the next try: no storm of retries.
TOKEN_CHECK_BACKOFF = timedelta(minutes=10)


def token_check(auth: Authorization, now: datetime | None = None) -> str:
    """The hourly check of one authorized grant: "ok", "reused", "not_due", "not_authorized" or a failure reason.

    A token refresh is the cheapest question Amazon answers about a grant: LWA refuses a revoked or expired refresh
    token with `invalid_grant` (the "revoked" reason), which turns the capability to needs re-authorization. When a
    job refreshed the token since the last check, that answer counts and LWA is not asked again ("reused"). A
    refresh made here fills the shared token cache, so the next job of the grant uses it instead of refreshing.
    Outages (network, throttling, our own credentials refused) leave the status alone.
    """
    now = now or timezone.now()
    if auth.status != AuthStatus.AUTHORIZED or not auth.has_token or auth.store.archived_at is not None:
        return "not_authorized"
    if auth.last_checked_at is not None and auth.last_checked_at > now - TOKEN_CHECK_EVERY:
        return "not_due"  # checked meanwhile (a sync, a re-check, a task delivered twice)
    credentials = for_capability(auth.capability)
    refresh_token = auth.get_refresh_token()
    issued = credentials.token_issued_at(auth.store, refresh_token)
    if issued is not None:
        at = datetime.fromtimestamp(issued, tz=UTC)
        if auth.last_checked_at is None or at > auth.last_checked_at:
            Authorization.objects.filter(pk=auth.pk, status=AuthStatus.AUTHORIZED).update(last_checked_at=at)
            return "reused"
    try:
        credentials.access_token(auth.store, refresh_token, force=True)
    except VerificationError as e:
        if e.reason == "revoked":
            lifecycle.mark_needs_reauthorization(auth, "revoked")
        elif (
            e.reason != "platform_credentials"
        ):  # our own credentials: an alarm for staff, never the store's error
            Authorization.objects.filter(pk=auth.pk, status=AuthStatus.AUTHORIZED).update(
                last_error=e.reason, last_error_at=now
            )
        return e.reason
    Authorization.objects.filter(pk=auth.pk, status=AuthStatus.AUTHORIZED).update(
        last_checked_at=now, last_error="", last_error_at=None
    )
    return "ok"
