"""A webhook endpoint for the URL census (tests/security): the tenant's own, never contacted there."""

from __future__ import annotations

from accounts.models import Tenant
from webhooks.models import Endpoint


def make_endpoint(tenant: Tenant) -> Endpoint:
    endpoint = Endpoint(tenant=tenant, url="https://hooks.example.com/portal", events=["order.created"])
    endpoint.set_secret()
    endpoint.save()
    return endpoint
