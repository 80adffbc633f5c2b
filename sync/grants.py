"""What every sync job asks of a store's authorization: may it run, whose seller account it acts for, and an
access token that is renewed on a 403 before the authorization itself is given up."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from authorizations import credentials, lifecycle
from authorizations.models import Authorization, AuthStatus

Refusal = Callable[[credentials.VerificationError], Exception]


def runnable(auth: Authorization) -> bool:
    return auth.status == AuthStatus.AUTHORIZED and auth.has_token and auth.store.archived_at is None


def seller_id(auth: Authorization) -> str:
    # Rate limits and Listings calls are per seller: the grant's own id, else the one the store recorded.
    return auth.selling_partner_id or auth.store.selling_partner_id


class Grant:
    """The access token of one capability's job (not to be confused with authorizations.credentials.Grant,
    what Amazon confirmed about a grant while it was installed).

    Access tokens live an hour and a long job outlives them: a 403 earns one fresh token, and only a 403 with a
    fresh token means the authorization itself is gone. When LWA refuses a token, `refused` builds the exception
    that stops the job its own way.
    """

    def __init__(self, auth: Authorization, capability: str, refused: Refusal) -> None:
        self.auth = auth
        self.capability = capability
        self.refused = refused
        self.token = ""
        self.fresh = False
        self.issued: datetime | None = None  # when LWA issued `token`, if it came through the shared cache

    @property
    def seller(self) -> str:
        return seller_id(self.auth)

    def renew(self, *, force: bool = False) -> bool:
        """Get an access token (always True): the shared one of this grant's hour, or with `force` a new one from
        LWA. Raises `refused(...)`, a revoked grant marked first."""
        refresh_token = self.auth.get_refresh_token()
        try:
            self.token = credentials.access_token_for(
                self.auth.store, self.capability, refresh_token, force=force
            )
        except credentials.VerificationError as e:
            if e.reason == "revoked":
                lifecycle.mark_needs_reauthorization(self.auth, "revoked")
            raise self.refused(e) from e
        at = credentials.for_capability(self.capability).token_issued_at(self.auth.store, refresh_token)
        self.issued = datetime.fromtimestamp(at, tz=UTC) if at is not None else None
        # Only a token LWA issued just now proves a following 403 is about the grant, not an expired token.
        self.fresh = force
        return True

    def accepted(self) -> None:
        """Amazon took the token: the next 403 may again be a mere expiry.

        The job also moves the authorization's "last checked" to when LWA issued that token: the refresh is what
        proved the grant itself (whether Amazon still takes an access token issued before a revoke is not
        documented, so a call's success alone is not counted). One UPDATE per refresh, not per call; the
        hourly token check (authorizations/grant_checks.py `token_check`) then leaves a grant alone while its
        jobs refresh it.
        """
        self.fresh = False
        issued, last = self.issued, self.auth.last_checked_at
        if issued is not None and (last is None or issued > last):
            Authorization.objects.filter(pk=self.auth.pk, status=AuthStatus.AUTHORIZED).update(
                last_checked_at=issued
            )
            self.auth.last_checked_at = issued

    def retry_after_403(self) -> bool:
        """True when a renewed token is worth another call; False once the authorization is marked."""
        if not self.fresh:
            return self.renew(force=True)
        lifecycle.mark_needs_reauthorization(self.auth, "unauthorized")
        return False
