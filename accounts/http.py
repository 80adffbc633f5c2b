"""The request types views are annotated with: what TenantMiddleware and login_required guarantee.

TenantMiddleware sets `membership` and `tenant` on every request (None when anonymous or in no distributor
account); behind login_required the user is a signed-in User. Declaring them here lets views and helpers read
`request.membership` with its type, where they used getattr before.
"""

from __future__ import annotations

from django.http import HttpRequest

from accounts.models import Membership, Tenant, User


class TenantHttpRequest(HttpRequest):
    """Any request once TenantMiddleware has run: the distributor account the user is working in."""

    membership: Membership | None
    tenant: Tenant | None


class AuthenticatedHttpRequest(TenantHttpRequest):
    """A request behind login_required."""

    user: User
