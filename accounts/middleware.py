from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse

from accounts.http import TenantHttpRequest
from accounts.models import Membership

SESSION_KEY = "tenant_code"


class TenantMiddleware:
    """Attaches `request.membership` and `request.tenant` (typed in accounts/http.py): the tenant worked in.

    The choice is remembered in the session; without one, the user's oldest membership is used.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: TenantHttpRequest) -> HttpResponse:
        request.membership = None
        request.tenant = None
        if request.user.is_authenticated:
            memberships = Membership.objects.filter(user=request.user).select_related("tenant")
            chosen = request.session.get(SESSION_KEY)
            m = memberships.filter(tenant__code=chosen).first() if chosen else None
            m = m or memberships.order_by("created_at").first()
            if m is not None:
                request.membership = m
                request.tenant = m.tenant
        return self.get_response(request)

    def process_view(
        self,
        request: TenantHttpRequest,
        view_func: Callable[..., HttpResponse],
        args: Any,
        kwargs: dict[str, Any],
    ) -> None:
        """Opening a store of another of the user's tenants makes that tenant the current one."""
        match = request.resolver_match
        code = kwargs.get("code")
        if not code or match is None or not match.route.startswith("stores/<uuid:code>/"):
            return None
        if not request.user.is_authenticated:
            return None
        current = request.membership
        if current is not None and current.tenant.stores.filter(code=code).exists():
            return None
        m = (
            Membership.objects.filter(user=request.user, tenant__stores__code=code)
            .select_related("tenant")
            .first()
        )
        if m is not None:
            request.session[SESSION_KEY] = str(m.tenant.code)
            request.membership = m
            request.tenant = m.tenant
        return None
