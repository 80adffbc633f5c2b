"""Authorization attempts: the server-side OAuth state, and the one way an attempt ends.

Every end (success excepted, see install.py) goes through `finish`: a conditional update claims the attempt, so a
concurrent callback, a confirmation and the expiry job end it exactly once (docs/architecture.md).
"""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from authorizations import audit, transitions
from authorizations.models import Authorization, AuthorizationAttempt, AuthStatus

Outcome = AuthorizationAttempt.Outcome
OPEN = [Outcome.PENDING, Outcome.QUARANTINED]


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
