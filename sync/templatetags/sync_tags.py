from __future__ import annotations

from typing import Any

from django import template

from accounts.models import Membership
from authorizations import status
from authorizations.models import Capability
from stores.models import Store
from sync import order_changes
from sync.models import InventoryPush, InventoryPushItem, OrderSync, SkuMapping

register = template.Library()


@register.inclusion_tag("sync/panel.html")
def sync_panel(store: Store, membership: Membership) -> dict[str, Any]:
    """Order-loading progress and the last inventory push, for the store page."""
    auths = status.authorization_map(store)
    last_push = InventoryPush.objects.filter(store=store).first()
    orders_auth = auths.get(Capability.ORDERS)
    notices = None
    if orders_auth is not None and orders_auth.status == "authorized" and order_changes.enabled():
        notices = order_changes.status_for(orders_auth)
    return {
        "notices": notices,
        "notices_enabled": order_changes.enabled(),
        "store": store,
        "membership": membership,
        "sync": OrderSync.objects.filter(store=store).first(),
        "orders_auth": auths.get(Capability.ORDERS),
        "listings_auth": auths.get(Capability.LISTINGS),
        "mappings": SkuMapping.objects.filter(store=store).count(),
        "last_push": last_push,
        "failures": list(
            last_push.items.filter(status=InventoryPushItem.Status.FAILED)[:10] if last_push else []
        ),
    }


@register.filter
def backfill_percent(sync: OrderSync | None) -> int | None:
    """How far the backfill got, by time covered."""
    if sync is None:
        return None
    if sync.backfill_done:
        return 100
    if sync.backfill_done_until is None:
        return 0
    end = sync.window_end or sync.updated_at
    total = (end - sync.backfill_from).total_seconds()
    if total <= 0:
        return 0
    return max(0, min(99, int((sync.backfill_done_until - sync.backfill_from).total_seconds() * 100 / total)))
