"""The `data` of each event: the resource as the API shows it, as JSON (never a token or a secret).

Built in the portal's language (LANGUAGE_CODE), whoever's request caused the change: the labels in a store
document are words for people, and an event is the same for every receiver.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.utils import translation
from rest_framework.utils.encoders import JSONEncoder

from api.orders import OrderSerializer, order_document
from api.shipments import PackageSerializer, package_document
from api.stores import StoreSerializer, store_document
from shipping.models import Package
from stores.models import Store
from sync.models import Order


def as_json(document: dict[str, Any]) -> dict[str, Any]:
    """Dates, decimals and UUIDs as the API writes them (DRF's encoder)."""
    loaded: dict[str, Any] = json.loads(json.dumps(document, cls=JSONEncoder))
    return loaded


def store_payload(store: Store) -> dict[str, Any]:
    with translation.override(settings.LANGUAGE_CODE):
        return as_json(dict(StoreSerializer(store_document(store)).data))


def order_payload(order: Order) -> dict[str, Any]:
    """An order as the orders API shows it (api.orders.order_document: never Amazon's raw answer), with its items.
    Never the ship-to address: an event is sent to any URL the tenant registered, and the address is shown only to
    a key with the ship-to permission, audited (sync/ship_to.py); `ship_to` is always null here."""
    with translation.override(settings.LANGUAGE_CODE):
        document = order_document(order, ship_to_permitted=False)
        document["ship_to"] = None
        return as_json(dict(OrderSerializer(document).data))


def package_payload(package: Package) -> dict[str, Any]:
    """A package as the API shows it (api.shipments.package_document: with its order's Amazon id and store code)."""
    with translation.override(settings.LANGUAGE_CODE):
        return as_json(dict(PackageSerializer(package_document(package)).data))
