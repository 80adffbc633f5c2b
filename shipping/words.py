"""Every problem a package can have, in words: Amazon's (amazon/shipments.py REASONS) and the portal's own."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from amazon.shipments import REASONS as AMAZON_REASONS

REASONS: dict[str, tuple[Promise, Promise]] = {
    **AMAZON_REASONS,
    "not_authorized": (
        _("The store's order loading is not authorized, so Amazon cannot be told."),
        _("Authorize order loading for this store again, then send the package again."),
    ),
    "attempts": (
        _("Amazon did not answer properly after many attempts."),
        _("Send the package again later; if it keeps failing, contact the platform's staff."),
    ),
}


def reason(problem: str) -> str:
    return str(REASONS[problem][0]) if problem in REASONS else ""


def what_to_do(problem: str) -> str:
    return str(REASONS[problem][1]) if problem in REASONS else ""
