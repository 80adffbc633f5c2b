"""Expiry reminders: owners get an email 30, 7 and 1 days before an SP-API authorization lapses, once per threshold."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership
from authorizations.models import SPAPI_CAPABILITIES, Authorization, AuthStatus, ExpiryReminder
from lib import mail
from lib.links import absolute_url

log = logging.getLogger(__name__)
THRESHOLDS = (30, 7, 1)


def due_threshold(days_left: float) -> int | None:
    """The smallest threshold reached: a store first seen 5 days before expiry gets the 7-day mail, not three."""
    reached = [t for t in THRESHOLDS if days_left <= t]
    return min(reached) if reached else None


def send_due() -> int:
    now = timezone.now()
    horizon = now + timedelta(days=max(THRESHOLDS))
    candidates = Authorization.objects.filter(
        capability__in=SPAPI_CAPABILITIES,
        status=AuthStatus.AUTHORIZED,
        expires_at__gt=now,
        expires_at__lte=horizon,
        store__archived_at__isnull=True,
    ).select_related("store", "store__tenant")
    sent = 0
    for auth in candidates:
        assert auth.expires_at is not None
        threshold = due_threshold((auth.expires_at - now).total_seconds() / 86400)
        if threshold is None:
            continue
        # Claim the (authorization, threshold, expiry) row first: a second run, or a second worker, skips it.
        # A renewal moves expires_at, so the next year's reminders are new rows.
        try:
            with transaction.atomic():
                rows = [
                    ExpiryReminder(authorization=auth, threshold_days=t, expires_at=auth.expires_at)
                    for t in THRESHOLDS
                    if t >= threshold
                ]
                existing = set(
                    ExpiryReminder.objects.filter(authorization=auth, expires_at=auth.expires_at).values_list(
                        "threshold_days", flat=True
                    )
                )
                if threshold in existing:
                    continue
                ExpiryReminder.objects.bulk_create([r for r in rows if r.threshold_days not in existing])
        except IntegrityError:
            continue
        _mail_owners(auth, threshold)
        sent += 1
    return sent


def _mail_owners(auth: Authorization, threshold: int) -> None:
    owners = Membership.objects.filter(tenant=auth.store.tenant, role=Membership.Role.OWNER).select_related(
        "user"
    )
    emails = [m.user.email for m in owners]
    if not emails:
        return
    ctx = {
        "auth": auth,
        "store": auth.store,
        "days": threshold,
        "link": absolute_url(reverse("stores:detail", args=[auth.store.code])),
    }
    mail.send("authorizations/email/expiry", ctx, emails)
    log.info(
        "expiry reminder (%d days) sent for store %s %s to %d owner(s)",
        threshold,
        auth.store.code,
        auth.capability,
        len(emails),
    )
