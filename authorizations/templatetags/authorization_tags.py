"""How templates word a store's authorizations (the Store model knows nothing of them: docs/architecture.md)."""

from __future__ import annotations

from django import template

from authorizations import status
from stores.models import Store

register = template.Library()


@register.filter
def authorization_label(store: Store) -> str:
    return status.label(store)


@register.filter
def renewal_due(store: Store) -> bool:
    return status.renewal_due(store)


@register.filter
def next_to_authorize(store: Store) -> str:
    """The first SP-API capability of the store still to authorize (for the list's per-row action), or ""."""
    auths = status.authorization_map(store)
    for capability in ("orders", "listings"):
        a = auths.get(capability)
        if a is None or a.status not in ("authorized", "pending", "disabled"):
            return capability
    return ""


@register.filter
def asks_reauthorization(store: Store, capability: str) -> bool:
    """Whether the list's action for this capability is a re-authorization, worded as the store page's card."""
    a = status.authorization_map(store).get(capability)
    return a is not None and a.status == "needs_reauthorization"
