"""Platform-wide outages: our own credentials refused, or Amazon failing for many stores at once.

One open PlatformAlarm per outage (a partial unique constraint), shown to staff as a banner, one email to the
platform's admins when it opens. An alarm never changes a store or an authorization: the outage is ours or
Amazon's, not the seller's (docs/architecture.md, "Application credentials").
"""

from __future__ import annotations

import logging
import time

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import User
from authorizations.models import PlatformAlarm
from lib import mail

log = logging.getLogger(__name__)
# How many distinct stores failing within the window make an Amazon outage (rather than one seller's trouble).
OUTAGE_STORES = 5
OUTAGE_WINDOW_SECONDS = 600


def raise_alarm(kind: str, subject: str, detail: str = "") -> PlatformAlarm:
    """Open the alarm (and mail admins once) or, while it is open, count one more occurrence."""
    now = timezone.now()
    updated = PlatformAlarm.objects.filter(kind=kind, subject=subject, resolved_at__isnull=True).update(
        last_seen_at=now, occurrences=F("occurrences") + 1
    )
    if updated:
        return PlatformAlarm.objects.get(kind=kind, subject=subject, resolved_at__isnull=True)
    try:
        with transaction.atomic():
            alarm = PlatformAlarm.objects.create(kind=kind, subject=subject, detail=detail[:500])
    except IntegrityError:  # another process opened it a moment ago
        return raise_alarm(kind, subject, detail)
    log.error("platform alarm opened: %s %s %s", kind, subject, detail)
    _mail(alarm)
    return alarm


def resolve(kind: str, subject: str) -> int:
    return PlatformAlarm.objects.filter(kind=kind, subject=subject, resolved_at__isnull=True).update(
        resolved_at=timezone.now()
    )


def open_alarms() -> list[PlatformAlarm]:
    return list(PlatformAlarm.objects.filter(resolved_at__isnull=True).order_by("-opened_at")[:10])


def _outage_key(family: str) -> str:
    # Cache keys without spaces: memcached refuses them, and Django warns on every call for any backend.
    return "outage:" + family.replace(" ", "-")


def note_failure(family: str, store_key: str) -> None:
    """A call for one store failed with an outage-like error (network, 5xx): an alarm once many stores do."""
    _success_checked.pop(family, None)  # the next success looks again
    key = _outage_key(family)
    stores: set[str] = cache.get(key) or set()
    stores.add(store_key)
    cache.set(key, stores, OUTAGE_WINDOW_SECONDS)
    if len(stores) >= OUTAGE_STORES:
        raise_alarm(
            "amazon_outage",
            family,
            f"{len(stores)} stores failed within {OUTAGE_WINDOW_SECONDS // 60} minutes",
        )


# Successes are many (every finished sync): each process looks at the outage state at most this often, so the
# hot path costs no query; an alarm then closes within these seconds of the first success.
SUCCESS_CHECK_SECONDS = 30.0
_success_checked: dict[str, float] = {}


def note_success(family: str) -> None:
    now = time.monotonic()
    if now - _success_checked.get(family, -SUCCESS_CHECK_SECONDS) < SUCCESS_CHECK_SECONDS:
        return
    _success_checked[family] = now
    if cache.get(_outage_key(family)):
        cache.delete(_outage_key(family))
    resolve("amazon_outage", family)


def _mail(alarm: PlatformAlarm) -> None:
    superusers = User.objects.filter(is_superuser=True, is_active=True).values_list("email", flat=True)
    mail.send_to_admins("authorizations/email/alarm", {"alarm": alarm}, fallback=superusers)
