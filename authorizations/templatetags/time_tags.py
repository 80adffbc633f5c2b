"""How templates word times: what is left before a deadline, how long ago something happened, a store's time zone.

Dates themselves are written with the language's formats (config/formats: `|date:"SHORT_DATE_FORMAT"` and
`"SHORT_DATETIME_FORMAT"`); these filters cover what a format cannot say.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django import template
from django.conf import settings
from django.utils import timezone
from django.utils.translation import ngettext

from stores.models import Store

register = template.Library()

HOUR = 3600
DAY = 24 * HOUR


def span(seconds: float) -> str:
    """A duration in its largest whole unit: "3 days" from a day on, "20 hours" below, "45 minutes" below an hour.

    Whole units are never rounded up ("1 day" until 48 hours), so a deadline never looks further off than it is.
    """
    seconds = max(0.0, seconds)
    if seconds >= DAY:
        n = int(seconds // DAY)
        return ngettext("%(n)d day", "%(n)d days", n) % {"n": n}
    if seconds >= HOUR:
        n = int(seconds // HOUR)
        return ngettext("%(n)d hour", "%(n)d hours", n) % {"n": n}
    # Under a minute still reads "1 minute"; only a deadline already passed reads "0 minutes".
    n = max(1, int(seconds // 60)) if seconds > 0 else 0
    return ngettext("%(n)d minute", "%(n)d minutes", n) % {"n": n}


@register.filter
def time_left(at: datetime | None) -> str:
    """Until a deadline: "3 days", or "20 hours" when less than a day is left (not "0 days"). "" without one."""
    if at is None:
        return ""
    return span((at - timezone.now()).total_seconds())


@register.filter
def time_since(at: datetime | timedelta | None) -> str:
    """How long ago (a moment) or how long (an age): "3 hours", "2 days". "" without one."""
    if at is None:
        return ""
    age = at if isinstance(at, timedelta) else timezone.now() - at
    return span(age.total_seconds())


@register.filter
def store_tz(store: Store) -> str:
    """The store's time zone (its primary site's), for `{% timezone store|store_tz %}`."""
    return store.timezone or store.primary_site.timezone


@register.simple_tag
def sync_intervals() -> dict[str, int]:
    """Minutes between order syncs and between inventory pushes, for the "what happens next" notices."""
    return {
        "orders": settings.ORDER_SYNC_INTERVAL_MINUTES,
        "inventory": settings.INVENTORY_PUSH_INTERVAL_MINUTES,
    }
