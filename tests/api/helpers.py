"""API keys for the tests, made the way the key page and Django admin make them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from accounts.models import Tenant, User
from api.keys import create_key
from api.models import ApiKey
from stores.models import Store


def make_key(
    tenant: Tenant | None,
    user: User | None = None,
    scope: str = ApiKey.Scope.READ,
    stores: list[Store] | None = None,
    expires_at: datetime | None = None,
) -> tuple[ApiKey, str]:
    key = ApiKey(tenant=tenant, name="Platform sync", scope=scope, expires_at=expires_at)
    secret = create_key(None, key, user)
    if stores:
        key.stores.set(stores)
    return key, secret


def bearer(secret: str, **headers: Any) -> dict[str, Any]:
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}", **headers}
