from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from accounts.models import Membership


def tenant(request: HttpRequest) -> dict[str, Any]:
    membership = getattr(request, "membership", None)
    others: list[Membership] = []
    if membership is not None and request.user.is_authenticated:
        others = list(
            Membership.objects.filter(user=request.user).exclude(pk=membership.pk).select_related("tenant")
        )
    return {"current_membership": membership, "other_memberships": others}
