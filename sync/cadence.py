"""How often a store's orders are polled once its backfill is done (adaptive polling): `poll_pause`.

The pause follows Amazon's searchOrders usage plan as our shared bucket holds it (sync/ratelimit.py), the store's
recent quiet runs, and whether the seller's orders arrive by ORDER_CHANGE notification (sync/order_changes.py).
"""

from __future__ import annotations

from django.conf import settings

from authorizations.models import Capability
from stores.models import Store
from sync import ratelimit
from sync.models import OrderChangeSubscription

OPERATION = "searchOrders"


def poll_pause(store: Store, seller: str, quiet_runs: int) -> float:
    """Seconds until the store's next incremental run.

    Amazon's searchOrders bucket (rate 0.0056/s, burst 20, per seller and application: orders_2026-01-01.json, the
    operation's Usage Plan; the rate Amazon actually applies comes back in x-amzn-RateLimit-Limit and is what the
    bucket holds) sustains one request every 1 / rate seconds. A store whose orders keep coming is polled that
    often; after ORDER_SYNC_QUIET_RUNS runs without a new or changed order the pause doubles with every further
    quiet run, up to ORDER_SYNC_INTERVAL_MINUTES. A seller subscribed to ORDER_CHANGE gets its orders from the
    notifications within seconds (sync/order_changes.py): its polls only confirm, at the longest pause.
    """
    longest = settings.ORDER_SYNC_INTERVAL_MINUTES * 60.0
    if order_changes_active(store, seller):
        return longest
    floor = ratelimit.steady_interval(seller, Capability.ORDERS, OPERATION)
    doublings = max(0, quiet_runs - settings.ORDER_SYNC_QUIET_RUNS + 1)
    return min(longest, floor * 2.0 ** min(doublings, 16))


def order_changes_active(store: Store, seller: str) -> bool:
    """Whether the store's seller has a verified, active ORDER_CHANGE subscription that can deliver."""
    if not (settings.ORDER_CHANGE_NOTIFICATIONS and settings.AMAZON_NOTIFICATIONS_QUEUE_URL):
        return False  # no subscription can deliver: not asked on every sync
    if not (store.selling_partner_verified and store.selling_partner_id == seller):
        # An unverified seller id: notifications may still hint (each is read with this store's own grant), but
        # the store keeps polling as if there were none.
        return False
    return OrderChangeSubscription.objects.filter(
        selling_partner_id=seller,
        region=store.region,
        status=OrderChangeSubscription.Status.ACTIVE,
        verified=True,
    ).exists()
