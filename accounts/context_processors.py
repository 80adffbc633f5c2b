from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from accounts.models import Membership


def tenant(request: HttpRequest) -> dict[str, Any]:
    # The one read that tolerates a request TenantMiddleware never saw: templates render for any request (a page
    # rendered before the middleware ran, a view called directly); views read the typed `request.membership`.
    membership: Membership | None = getattr(request, "membership", None)
    others: list[Membership] = []
    if membership is not None and request.user.is_authenticated:
        others = list(
            Membership.objects.filter(user=request.user).exclude(pk=membership.pk).select_related("tenant")
        )
    # In the demo mail goes to the console: say so where people expect an email (sign-up, password, team).
    console_mail = settings.EMAIL_BACKEND.endswith("console.EmailBackend") and request.path.startswith(
        ("/accounts/", "/team/")
    )
    return {"current_membership": membership, "other_memberships": others, "console_mail": console_mail}
