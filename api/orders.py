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

from sync import labels, order_state
from sync import ship_to as addresses
from sync.models import Order, OrderItem


class OrderItemSerializer(serializers.Serializer[Any]):
    order_item_id = serializers.CharField()
    sku = serializers.CharField(help_text="Seller SKU (empty when Amazon sent none).")
    asin = serializers.CharField()
    quantity = serializers.IntegerField()
    unit_price = serializers.CharField(allow_null=True, help_text='Decimal as a string, e.g. "19.99".')
    currency = serializers.CharField()


class ShipToSerializer(serializers.Serializer[Any]):
    name = serializers.CharField()
    company = serializers.CharField()
    address_line1 = serializers.CharField()
    address_line2 = serializers.CharField()
    address_line3 = serializers.CharField()
    district = serializers.CharField()
    municipality = serializers.CharField()
    city = serializers.CharField()
    state_or_region = serializers.CharField()
    postal_code = serializers.CharField()
    country_code = serializers.CharField(help_text="ISO 3166-1 alpha-2.")
    phone = serializers.CharField(
        help_text="Amazon suppresses it in some cases (e.g. past the delivery date)."
    )
    extended_fields = serializers.DictField(
        child=serializers.CharField(),
        help_text="Brazil only: streetName, streetNumber, complement, neighborhood.",
    )


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
    ship_to = ShipToSerializer(
        allow_null=True,
        help_text="The ship-to address: only for a key with the ship-to address permission, while the portal holds "
        "it (each read is audited); otherwise null, and `ship_to_status` says why.",
    )
    ship_to_status = serializers.ChoiceField(
        choices=[addresses.NOT_AUTHORIZED, addresses.NOT_PERMITTED, addresses.ERASED, addresses.AVAILABLE],
        help_text="not_authorized: the portal's Amazon application may not read addresses (restricted role); "
        "not_permitted: this key lacks the ship-to address permission; erased: removed 30 days after shipment or "
        "cancellation (Amazon's data protection policy); available: in `ship_to`.",
    )
    cancel_requested = serializers.BooleanField(help_text="The buyer asked to cancel the order.")
    cancel_requested_at = serializers.DateTimeField(
        allow_null=True, help_text="When the portal learned of the buyer's cancellation request."
    )
    cancelled = serializers.BooleanField(help_text="Amazon cancelled the order (do not ship it).")
    cancelled_at = serializers.DateTimeField(
        allow_null=True, help_text="Amazon's update time of the first copy read as cancelled."
    )
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


def order_document(order: Order, ship_to_permitted: bool = False) -> dict[str, Any]:
    """The order as the API shows it. Reads `order.store` and `order.items.all()`: select_related("store") and
    prefetch_related("items") keep a page of them to three queries. The ship-to address only when
    `ship_to_permitted` (the caller audits the read: `ship_to_reads`)."""
    shown_status = addresses.status_for(order, ship_to_permitted)
    address = addresses.document(order) if shown_status == addresses.AVAILABLE else None
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
        "ship_to": address,
        "ship_to_status": shown_status
        if address is not None or shown_status != addresses.AVAILABLE
        else (addresses.NOT_AUTHORIZED),
        "cancel_requested": order.cancel_requested_at is not None,
        "cancel_requested_at": order.cancel_requested_at,
        "cancelled": order_state.is_cancelled(order),
        "cancelled_at": order.cancelled_at,
        "last_updated": order.last_updated,
        "created_at": order.created_at,
        "updated_at": order.updated_at,
    }
