"""A package as the API shows it (and the webhooks' shipment events): what was sent to Amazon and what became of it,
the problem in words in the request's language. Nothing personal: a package holds carrier, tracking and items."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from rest_framework import serializers

from amazon.carriers import CARRIER_CODES
from shipping.models import Package
from shipping.words import reason, what_to_do

MAX_REFERENCE = (
    10**18 - 1
)  # PackageReferenceId: positive, at most 18 digits (amazon/shipments.py POSITIVE_NUMBER)


class PackageItemSerializer(serializers.Serializer[Any]):
    order_item_id = serializers.CharField(
        help_text="The order item's id (`items[].order_item_id` of the order)."
    )
    quantity = serializers.IntegerField(help_text="How many of the item are in this package.")


class PackageSerializer(serializers.Serializer[Any]):
    amazon_order_id = serializers.CharField(help_text="The package's order.")
    store = serializers.UUIDField(help_text="The order's store code (as in /api/v1/stores/{code}/).")
    package_reference_id = serializers.IntegerField(
        help_text="Your number for the package within the order (1, 2, …); the same number again edits it."
    )
    carrier_code = serializers.CharField(help_text="Amazon's carrier code, or `Other`.")
    carrier_name = serializers.CharField(
        help_text="The carrier's name when the code is `Other` (else empty)."
    )
    shipping_method = serializers.CharField()
    tracking_number = serializers.CharField()
    ship_date = serializers.DateTimeField()
    items = PackageItemSerializer(many=True)
    status = serializers.ChoiceField(
        choices=Package.Status.choices,
        help_text="`pending` (to be sent), `confirmed` (Amazon accepted it), `failed` (see `problem`), "
        "`waiting_retry` (Amazon was busy or did not answer: sent again automatically).",
    )
    status_label = serializers.CharField(help_text="The status in the request's language.")
    problem = serializers.CharField(
        help_text="Why it failed or waits, e.g. `carrier`, `order_item`, `quantity`, `order_canceled`, "
        "`throttled` (empty: none)."
    )
    reason = serializers.CharField(help_text="The problem in words, in the request's language.")
    what_to_do = serializers.CharField(help_text="What to do about it, in the request's language.")
    attempts = serializers.IntegerField(help_text="Sends to Amazon so far.")
    confirmed_at = serializers.DateTimeField(allow_null=True, help_text="When Amazon last accepted it.")
    source = serializers.ChoiceField(choices=Package.Source.choices)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class PackageListSerializer(serializers.Serializer[Any]):
    amazon_order_id = serializers.CharField()
    store = serializers.UUIDField(help_text="The order's store code.")
    results = PackageSerializer(many=True, help_text="Lowest package reference first.")


def package_document(package: Package) -> dict[str, Any]:
    """Reads `package.order.store` and `package.items.all()`: select_related("order__store") and
    prefetch_related("items") for a list."""
    return {
        "amazon_order_id": package.order.amazon_order_id,
        "store": package.order.store.code,
        "package_reference_id": package.package_reference_id,
        "carrier_code": package.carrier_code,
        "carrier_name": package.carrier_name,
        "shipping_method": package.shipping_method,
        "tracking_number": package.tracking_number,
        "ship_date": package.ship_date,
        "items": [
            {"order_item_id": i.order_item_id, "quantity": i.quantity}
            for i in sorted(package.items.all(), key=lambda i: i.order_item_id)
        ],
        "status": package.status,
        "status_label": str(package.get_status_display()),
        "problem": package.problem,
        "reason": reason(package.problem),
        "what_to_do": what_to_do(package.problem),
        "attempts": package.attempts,
        "confirmed_at": package.confirmed_at,
        "source": package.source,
        "created_at": package.created_at,
        "updated_at": package.updated_at,
    }


def _refuse_unknown(serializer: serializers.Serializer[Any], data: object) -> None:
    unknown = sorted(set(data) - set(serializer.fields)) if isinstance(data, dict) else []
    if unknown:
        raise serializers.ValidationError({name: [_("Unknown field.")] for name in unknown})


class PackageItemRequest(serializers.Serializer[Any]):
    order_item_id = serializers.CharField(max_length=40)
    quantity = serializers.IntegerField(min_value=1, max_value=1_000_000)

    def to_internal_value(self, data: Any) -> Any:
        _refuse_unknown(self, data)
        return super().to_internal_value(data)


class PackageRequest(serializers.Serializer[Any]):
    package_reference_id = serializers.IntegerField(
        min_value=1,
        max_value=MAX_REFERENCE,
        help_text="Your number for the package within the order (1, 2, …); the same number again edits the "
        "package at Amazon.",
    )
    carrier_code = serializers.CharField(
        max_length=100,
        help_text="One of Amazon's carrier codes, exactly: " + ", ".join(CARRIER_CODES) + ".",
    )
    carrier_name = serializers.CharField(
        max_length=100, required=False, allow_blank=True, help_text="Required when `carrier_code` is `Other`."
    )
    shipping_method = serializers.CharField(max_length=100, required=False, allow_blank=True)
    tracking_number = serializers.CharField(max_length=100)
    ship_date = serializers.DateTimeField(help_text="When the package was handed to the carrier (ISO 8601).")
    items = PackageItemRequest(many=True, allow_empty=False, max_length=100)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        _refuse_unknown(self, self.initial_data)
        return attrs
