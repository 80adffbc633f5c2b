"""Re-checking a stored grant at Amazon: refresh its token and make the cheap call of its kind."""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from authorizations import transitions
from authorizations.credentials import VerificationError, for_capability
from authorizations.models import Authorization, AuthStatus

# Failures that mean the grant itself no longer works (as opposed to throttling or an outage).
GRANT_REFUSED = ("revoked", "verification_failed")


def recheck(auth: Authorization, request: HttpRequest | None = None) -> str:
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
            request=request,
            now=now,
        )
    auth.refresh_from_db()
    return result
