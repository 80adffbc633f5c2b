"""Authorization attempts: the server-side OAuth state, and the one way an attempt ends.

A step of the workflow that cannot go on raises `AttemptFailed` (outcome, reason, detail); only flow.settle catches
it and calls `finish`, the one exit of an unsuccessful attempt (success is install.py's; a link nobody used is
expire_stale's). `finish` claims the attempt with a conditional update, so a concurrent callback, a confirmation and
the expiry job end it exactly once, and writes the audit record (docs/architecture.md, "Authorization attempts").
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from authorizations import audit, transitions
from authorizations.models import Authorization, AuthorizationAttempt, AuthStatus
from lib.errors import ReasonError

Outcome = AuthorizationAttempt.Outcome
OPEN = [Outcome.PENDING, Outcome.QUARANTINED]


class AttemptError(ReasonError):
    """The callback cannot be tied to a usable attempt (unknown, used or expired state): the link is refused."""


class AttemptFailed(ReasonError):
    """A step of the workflow ends the attempt unsuccessfully: raised where the failure is found, ended in flow.settle.

    `outcome` is the attempt's Outcome (failed, cancelled or expired), `reason` a key of reasons.py, `detail` what
    the audit keeps beside it, `sp_id` the seller the grant named (recorded on the attempt and in the audit).
    """

    def __init__(self, outcome: str, reason: str, detail: str = "", *, sp_id: str = "") -> None:
        super().__init__(reason, detail)
        self.outcome = outcome
        self.sp_id = sp_id


class CallbackState(StrEnum):
    """Where a callback or a confirmation left the attempt."""

    COMPLETED = "completed"  # the grant is attached
    QUARANTINED = "quarantined"  # the grant is held until a member confirms in the browser holding it
    ENDED = "ended"  # cancelled or failed (the attempt's reason says why)


@dataclass(frozen=True)
class CallbackResult:
    attempt: AuthorizationAttempt
    state: CallbackState
    # For a held grant: the secret that binds it to this browser (goes into the holder cookie, hash in the row).
    holder: str = ""


def finish(
    attempt: AuthorizationAttempt,
    outcome: str,
    reason: str,
    detail: str = "",
    *,
    sp_id: str = "",
    request: HttpRequest | None = None,
) -> bool:
    """End an open attempt with `outcome` and `reason`; False when something else ended it first."""
    now = timezone.now()
    with transaction.atomic():
        changed = AuthorizationAttempt.objects.filter(pk=attempt.pk, outcome__in=OPEN).update(
            outcome=outcome,
            reason=reason,
            detail=detail[:500],
            finished_at=now,
            selling_partner_id=sp_id or attempt.selling_partner_id,
            quarantined_token_encrypted="",
            holder_hash="",
        )
        if changed:
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
    return bool(changed)


def expire_stale() -> int:
    """Attempts older than their 15 minutes end as expired; a quarantined grant is discarded with them."""
    stale = AuthorizationAttempt.objects.filter(outcome__in=OPEN, expires_at__lte=timezone.now())
    count = 0
    for attempt in list(stale.select_related("store")):
        # No audit record for a link nobody used (as before): the claim and the status change only.
        with transaction.atomic():
            claimed = AuthorizationAttempt.objects.filter(pk=attempt.pk, outcome__in=OPEN).update(
                outcome=Outcome.EXPIRED,
                reason="expired",
                finished_at=timezone.now(),
                quarantined_token_encrypted="",
                holder_hash="",
            )
            if claimed:
                count += 1
                release_pending(attempt)
    return count


def release_pending(attempt: AuthorizationAttempt) -> None:
    """A capability shown as "authorizing" goes back to "not authorized" when its last attempt ends unsuccessfully."""
    if AuthorizationAttempt.objects.filter(
        store=attempt.store, capability=attempt.capability, outcome__in=OPEN
    ).exists():
        return
    auth = (
        Authorization.objects.select_for_update(of=("self",))
        .select_related("store")
        .filter(store=attempt.store, capability=attempt.capability, status=AuthStatus.PENDING)
        .first()
    )
    if auth is not None:
        transitions.change(auth, AuthStatus.NOT_AUTHORIZED)
