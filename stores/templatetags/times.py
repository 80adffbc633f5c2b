"""The one way a page shows a moment: `{{ value|when }}`, `{{ value|when:"date" }}`, `{{ value|when:"time" }}`.

The rule (docs/architecture.md, "Times"): a time about one store (its facts, authorizations, history, orders,
stock pushes, the connect question) is shown in the store's own marketplace time zone: the page or row sets it
with `{% timezone store|store_tz %}`. Any other time (team, invitations, staff batches, platform alarms, the admin)
is shown in UTC, the portal's TIME_ZONE. Either way the zone is written beside it ("2026-12-07 14:05 PST",
"2026-12-07 09:00 UTC+03:00", "… UTC"), never implied, and the element carries the full zone name and the exact
moment for a hover and for machines.
"""

from __future__ import annotations

from datetime import date, datetime, time, tzinfo

from django import template
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import SafeString

register = template.Library()

FORMATS = {"datetime": "SHORT_DATETIME_FORMAT", "date": "SHORT_DATE_FORMAT", "time": "TIME_FORMAT"}


def zone_label(at: datetime) -> str:
    """The zone's abbreviation when it has a real one (PST, CET, JST, UTC), else its offset (UTC+03:00): the
    tz database writes "+03" or "-03" for zones without a customary abbreviation."""
    name = at.tzname() or ""
    if name.isalpha():
        return name
    offset = at.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def zone_name(zone: tzinfo | None) -> str:
    return str(getattr(zone, "key", None) or zone or "UTC")


@register.filter(expects_localtime=True, is_safe=True)
def when(value: datetime | date | None, kind: str = "datetime") -> str:
    """A moment in the page's zone (already converted by the template engine: expects_localtime), labelled.

    A date without a time (an initial order-pull date) is a day in that same zone, and is labelled with it too.
    Under `{% localtime off %}` an aware value keeps its own zone (the orders page shows each order's site zone).
    """
    if value in (None, ""):
        return ""
    if not isinstance(value, datetime):
        if not isinstance(value, date):
            return ""
        value = timezone.make_aware(datetime.combine(value, time(12)), timezone.get_current_timezone())
        kind = "date"
    elif timezone.is_naive(value):
        value = timezone.make_aware(value, timezone.get_current_timezone())
    text = date_format(value, FORMATS.get(kind, FORMATS["datetime"]))
    stamp = value.date().isoformat() if kind == "date" else value.isoformat(timespec="minutes")
    result: SafeString = format_html(
        '<time datetime="{}" title="{}">{} {}</time>', stamp, zone_name(value.tzinfo), text, zone_label(value)
    )
    return result
