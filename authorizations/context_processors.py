from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from authorizations import alarms, holding
from authorizations.models import ApplicationCredential


def held_grants(request: HttpRequest) -> dict[str, Any]:
    """A banner on every page while this browser holds a grant waiting for a logged-in member's confirmation."""
    if not request.user.is_authenticated or holding.COOKIE not in request.COOKIES:
        return {}
    waiting = holding.waiting(request)
    if not waiting or request.path.startswith("/amazon/finish/"):
        return {}
    return {"held_grant_url": reverse("amazon:finish", args=[waiting[0].code])}


def platform_status(request: HttpRequest) -> dict[str, Any]:
    """On the staff pages: open platform alarms and how long each application's client secret has left."""
    if not request.path.startswith("/staff/") or not getattr(request.user, "is_staff", False):
        return {}
    # Read-only: rows appear with the first call of each application (app_secrets.credential seeds them).
    secrets = list(ApplicationCredential.objects.all())
    return {"platform_alarms": alarms.open_alarms(), "application_secrets": secrets}
