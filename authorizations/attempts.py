"""Authorization attempts: the server-side OAuth state."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from authorizations import status
from authorizations.models import Authorization, AuthorizationAttempt, AuthStatus


def expire_stale() -> int:
    """Attempts older than their 15 minutes end as expired; a quarantined grant is discarded with them."""
    now = timezone.now()
    count = 0
    stale = AuthorizationAttempt.objects.filter(
        outcome__in=[AuthorizationAttempt.Outcome.PENDING, AuthorizationAttempt.Outcome.QUARANTINED],
        expires_at__lte=now,
    ).values_list("pk", flat=True)
    for pk in list(stale):
        with transaction.atomic():
            # Claim with a conditional update: a concurrent callback or another worker may have finished it.
            claimed = AuthorizationAttempt.objects.filter(
                pk=pk,
                outcome__in=[AuthorizationAttempt.Outcome.PENDING, AuthorizationAttempt.Outcome.QUARANTINED],
            ).update(
                outcome=AuthorizationAttempt.Outcome.EXPIRED,
                reason="expired",
                finished_at=now,
                quarantined_token_encrypted="",
            )
            if not claimed:
                continue
            count += 1
            attempt = AuthorizationAttempt.objects.select_related("store").get(pk=pk)
            release_pending(attempt)
    return count


def release_pending(attempt: AuthorizationAttempt) -> None:
    """A capability shown as "authorizing" goes back to "not authorized" when its last attempt ends unsuccessfully."""
    still_pending = AuthorizationAttempt.objects.filter(
        store=attempt.store,
        capability=attempt.capability,
        outcome__in=[AuthorizationAttempt.Outcome.PENDING, AuthorizationAttempt.Outcome.QUARANTINED],
    ).exists()
    if still_pending:
        return
    changed = Authorization.objects.filter(
        store=attempt.store, capability=attempt.capability, status=AuthStatus.PENDING
    ).update(status=AuthStatus.NOT_AUTHORIZED, status_changed_at=timezone.now())
    if changed:
        status.recompute(attempt.store)
