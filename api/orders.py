"""An order as the API shows it: a plain document, built in the request's language (the status label is translated).

What the orders page shows (templates/sync/orders.html: id, site, purchase date in the site's time and in UTC,
status, total, items) plus the ids a machine needs (marketplace, item ids, ASINs) and the times. Never `Order.raw`:
Amazon's whole answer, kept only when ORDER_SYNC_KEEP_RAW is on, may carry buyer and address data the page does not
show. The webhooks build their order events from `order_document` too, so both read the same shape.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rest_framework import serializers

from sync import labels
from sync.models import Order, OrderItem


class OrderItemSerializer(serializers.Serializer[Any]):
    order_item_id = serializers.CharField()
    sku = serializers.CharField(help_text="Seller SKU (empty when Amazon sent none).")
    asin = serializers.CharField()
    quantity = serializers.IntegerField()
    unit_price = serializers.CharField(allow_null=True, help_text='Decimal as a string, e.g. "19.99".')
    currency = serializers.CharField()


class OrderSerializer(serializers.Serializer[Any]):
    amazon_order_id = serializers.CharField()
    store = serializers.UUIDField(help_text="The store's code (as in /api/v1/stores/{code}/).")
    marketplace_id = serializers.CharField()
    site = serializers.CharField(help_text="Two-letter site of the marketplace, e.g. US, DE, JP.")
    purchase_date = serializers.DateTimeField(help_text="When the order was placed, UTC.")
    purchase_date_local = serializers.CharField(
        help_text="The same time in the site's time zone, ISO 8601 with offset (as in Seller Central)."
    )
    status = serializers.CharField(help_text="Amazon's fulfillment status as received (empty: none yet).")
    status_label = serializers.CharField(help_text="The status in the request's language (Accept-Language).")
    total_amount = serializers.CharField(allow_null=True, help_text="Decimal as a string; null when unknown.")
    currency = serializers.CharField()
    items = OrderItemSerializer(many=True)
    last_updated = serializers.DateTimeField(help_text="When Amazon last changed the order.")
    created_at = serializers.DateTimeField(help_text="When the portal first loaded the order.")
    updated_at = serializers.DateTimeField(help_text="When the portal last stored a change of the order.")


class OrderChangeSerializer(OrderSerializer):
    position = serializers.CharField(
        help_text="This change's place in the feed: a cursor that resumes right after it (opaque)."
    )


class OrderChangesSerializer(serializers.Serializer[Any]):
    results = OrderChangeSerializer(many=True)
    next_cursor = serializers.CharField(
        help_text="Send it as `cursor` on the next call (always present, also on an empty page)."
    )
    has_more = serializers.BooleanField(help_text="More changes are ready now: call again without waiting.")


def money(amount: Decimal | None) -> str | None:
    """A stored amount (4 decimal places) as a string with at least two: 19.9900 → "19.99", 0.1250 → "0.125"."""
    if amount is None:
        return None
    text = format(amount.normalize(), "f")
    whole, _dot, fraction = text.partition(".")
    return f"{whole}.{fraction.ljust(2, '0')}"


def item_document(item: OrderItem) -> dict[str, Any]:
    return {
        "order_item_id": item.order_item_id,
        "sku": item.sku,
        "asin": item.asin,
        "quantity": item.quantity,
        "unit_price": money(item.unit_price),
        "currency": item.currency,
    }


def order_document(order: Order) -> dict[str, Any]:
    """The order as the API shows it. Reads `order.store` and `order.items.all()`: select_related("store") and
    prefetch_related("items") keep a page of them to three queries."""
    return {
        "amazon_order_id": order.amazon_order_id,
        "store": order.store.code,
        "marketplace_id": order.marketplace_id,
        "site": order.site,
        "purchase_date": order.purchase_date,
        "purchase_date_local": order.purchase_date_local,
        "status": order.status,
        "status_label": labels.order_status_label(order.status),
        "total_amount": money(order.total_amount),
        "currency": order.currency,
        "items": [item_document(i) for i in sorted(order.items.all(), key=lambda i: i.order_item_id)],
        "last_updated": order.last_updated,
        "created_at": order.created_at,
        "updated_at": order.updated_at,
    }
