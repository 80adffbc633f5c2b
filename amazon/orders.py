"""Orders API 2026-01-01: searchOrders (paged by paginationToken) and getOrder, with typed results.

What may be absent follows Amazon's model (tests/fixtures/amazon-models/orders_2026-01-01.json, also
github:amzn/selling-partner-api-models models/orders-api-model/orders_2026-01-01.json): an Order requires orderId,
createdTime, lastUpdatedTime, salesChannel and orderItems; a SalesChannel requires only channelName (marketplaceId is
optional); an OrderItem requires orderItemId, quantityOrdered and product, whose fields are all optional; proceeds and
fulfillment are optional blocks (returned when includedData asks for them), and a Money, when present, requires amount
and currencyCode. An order that breaks those rules does not fail its page: it comes back in `Page.unreadable` with the
reason, and the other orders of the page are read.

One of three modules about orders: this is the client (Amazon's answer → typed values, no database); loading
them into ours is sync/order_sync.py; the sandbox's Amazon-side orders are sandbox/simulated_orders.py.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote

from django.conf import settings

from amazon import spapi

BASE = "/orders/2026-01-01/orders"
# Without includedData Amazon answers only "basic information" (orderId, createdTime, salesChannel, items and
# products): https://developer-docs.amazon.com/sp-api/docs/get-orders-with-filtering-criteria. PROCEEDS brings the
# totals and FULFILLMENT the fulfillment status (enum of includedData in orders_2026-01-01.json).
INCLUDED_DATA = "PROCEEDS,FULFILLMENT,CANCELLATION"
# With the Direct-to-Consumer Delivery (Restricted) role the recipient is asked for too (settings
# AMAZON_ORDERS_RESTRICTED_ROLE): "Accessing PII with the Orders API v2026-01-01 does not require a Restricted Data
# Token (RDT)" (https://developer-docs.amazon.com/sp-api/docs/access-orders-pii). BUYER is not asked for: no field of
# it is used.
RECIPIENT = "RECIPIENT"
# Recipient/buyer blocks never reach `raw` (kept when ORDER_SYNC_KEEP_RAW is on) nor an unreadable order's copy:
# personal data is kept only in the encrypted ship-to field (sync/ship_to.py).
PERSONAL_BLOCKS = ("recipient", "buyer")
RAW_LIMIT = 10_000  # characters of an unreadable order kept for staff


class OrdersApiError(spapi.SpApiError):
    pass


class BadOrder(ValueError):
    """One order does not follow the model; `reason` says where."""


@dataclass(frozen=True)
class Item:
    order_item_id: str
    quantity: int
    sku: str | None
    asin: str | None
    unit_price: Decimal | None
    currency: str | None


@dataclass(frozen=True)
class ShipTo:
    """recipient.deliveryAddress (CustomerAddress in orders_2026-01-01.json; every field optional). Amazon names as
    PII: name, addressLine1-3, postalCode, phone, extendedFields ("Access Orders PII",
    https://developer-docs.amazon.com/sp-api/docs/access-orders-pii); companyName, districtOrCounty and
    municipality are kept with them (encrypted, erased). city, stateOrRegion, postalCode and countryCode are kept
    in clear (and after erasure)."""

    name: str = ""
    company: str = ""
    address_line1: str = ""
    address_line2: str = ""
    address_line3: str = ""
    district: str = ""
    municipality: str = ""
    phone: str = ""
    extended: tuple[tuple[str, str], ...] = ()  # extendedFields (Brazil): streetName, streetNumber, …
    address_type: str = ""  # RESIDENTIAL, COMMERCIAL, PICKUP_POINT
    city: str = ""
    state: str = ""
    postal_code: str = ""
    country_code: str = ""

    PERSONAL = (
        "name", "company", "address_line1", "address_line2", "address_line3", "district", "municipality",
        "phone", "extended",
    )  # fmt: skip

    @property
    def has_personal(self) -> bool:
        """Whether Amazon sent any personal part (without the role it sends none of them)."""
        return any(getattr(self, f) for f in self.PERSONAL)

    def personal(self) -> dict[str, Any]:
        return {f: (dict(self.extended) if f == "extended" else getattr(self, f)) for f in self.PERSONAL}


@dataclass(frozen=True)
class Order:
    """One order as Amazon's searchOrders/getOrder answer it, read and checked; the row we keep for a store is
    sync.models.Order (not to be confused: this one is never stored as is)."""

    order_id: str
    # SalesChannel.marketplaceId is optional in the model (a NON_AMAZON channel may have none).
    marketplace_id: str | None
    created: datetime
    last_updated: datetime
    # OrderFulfillment is optional (includedData=FULFILLMENT); inside it fulfillmentStatus is required.
    status: str | None
    # OrderProceeds and its grandTotal are optional (includedData=PROCEEDS).
    total: Decimal | None
    currency: str | None
    items: tuple[Item, ...]
    raw: dict[str, Any]
    # recipient.deliveryAddress, only when includedData asked for RECIPIENT and Amazon sent it.
    ship_to: ShipTo | None = None
    # An item's cancellation.cancellationRequest.requester is BUYER (ItemCancellationRequest, includedData
    # CANCELLATION): the buyer asked to cancel.
    cancel_requested: bool = False


@dataclass(frozen=True)
class Unreadable:
    """An order of the page that could not be read: its id when it had a readable one, why, and what came."""

    order_id: str
    reason: str
    raw: str


@dataclass(frozen=True)
class Page:
    orders: list[Order]
    next_token: str
    # The upper bound Amazon applied (createdBefore or lastUpdatedBefore), echoed in the answer.
    upper_bound: datetime | None
    rate_limit: float | None
    unreadable: tuple[Unreadable, ...] = ()


def parse_time(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ValueError("not a date-time")
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError("date-time without offset")
    return parsed


def _object(doc: Any, where: str) -> dict[str, Any] | None:
    """An optional block: absent (or null) is None, anything but an object is a bad order."""
    if doc is None:
        return None
    if not isinstance(doc, dict):
        raise BadOrder(f"{where} is not an object")
    return doc


def _text(doc: dict[str, Any], name: str, where: str, *, required: bool, limit: int) -> str | None:
    value = doc.get(name)
    if value is None:
        if required:
            raise BadOrder(f"{where}.{name} is missing")
        return None
    if not isinstance(value, str) or (required and not value):
        raise BadOrder(f"{where}.{name} is not a string")
    if required and len(value) > limit:
        # An identifier cut short could name another order: it is not read at all.
        raise BadOrder(f"{where}.{name} is longer than {limit} characters")
    return value[:limit]


def _time(doc: dict[str, Any], name: str) -> datetime:
    if doc.get(name) is None:
        raise BadOrder(f"{name} is missing")
    try:
        return parse_time(doc[name])
    except ValueError as e:
        raise BadOrder(f"{name} is not an ISO 8601 date-time with offset") from e


def _money(doc: Any, where: str) -> tuple[Decimal | None, str | None]:
    money = _object(doc, where)
    if money is None:
        return None, None
    # Money requires amount (a Decimal, sent as a string) and currencyCode.
    amount, currency = money.get("amount"), money.get("currencyCode")
    if amount is None or isinstance(amount, bool) or not isinstance(amount, str | int | float):
        raise BadOrder(f"{where}.amount is missing or not a number")
    if not isinstance(currency, str) or not currency:
        raise BadOrder(f"{where}.currencyCode is missing")
    try:
        value = Decimal(str(amount))
    except InvalidOperation as e:
        raise BadOrder(f"{where}.amount is not a number") from e
    if not value.is_finite():
        raise BadOrder(f"{where}.amount is not a number")
    return value, currency[:3]


def _item(doc: Any, n: int) -> Item:
    where = f"orderItems[{n}]"
    item = _object(doc, where)
    if item is None:
        raise BadOrder(f"{where} is null")
    quantity = item.get("quantityOrdered")
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
        raise BadOrder(f"{where}.quantityOrdered is missing or not a whole number")
    # product is required, but every field of ItemProduct is optional.
    if "product" not in item:
        raise BadOrder(f"{where}.product is missing")
    product = _object(item["product"], f"{where}.product") or {}
    price = _object(product.get("price"), f"{where}.product.price") or {}
    unit_price, currency = _money(price.get("unitPrice"), f"{where}.product.price.unitPrice")
    return Item(
        order_item_id=str(_text(item, "orderItemId", where, required=True, limit=40)),
        quantity=quantity,
        sku=_text(product, "sellerSku", f"{where}.product", required=False, limit=100),
        asin=_text(product, "asin", f"{where}.product", required=False, limit=20),
        unit_price=unit_price,
        currency=currency,
    )


_ADDRESS_FIELDS = {
    "name": "name", "companyName": "company", "addressLine1": "address_line1", "addressLine2": "address_line2",
    "addressLine3": "address_line3", "districtOrCounty": "district", "municipality": "municipality",
    "phone": "phone", "addressType": "address_type", "city": "city", "stateOrRegion": "state",
    "postalCode": "postal_code", "countryCode": "country_code",
}  # fmt: skip
ADDRESS_LIMIT = 200


def _ship_to(doc: Any) -> ShipTo | None:
    recipient = _object(doc, "recipient")
    if recipient is None:
        return None
    address = _object(recipient.get("deliveryAddress"), "recipient.deliveryAddress")
    if address is None:
        return None
    where = "recipient.deliveryAddress"
    values = {
        ours: _text(address, theirs, where, required=False, limit=ADDRESS_LIMIT) or ""
        for theirs, ours in _ADDRESS_FIELDS.items()
    }
    values["country_code"] = values["country_code"][:2]
    extended = _object(address.get("extendedFields"), f"{where}.extendedFields") or {}
    pairs = tuple((str(k)[:40], v[:ADDRESS_LIMIT]) for k, v in extended.items() if isinstance(v, str) and v)
    return ShipTo(extended=pairs, **values)


def _cancel_requested(items: list[Any]) -> bool:
    for item in items:
        cancellation = item.get("cancellation") if isinstance(item, dict) else None
        request = cancellation.get("cancellationRequest") if isinstance(cancellation, dict) else None
        if isinstance(request, dict) and request.get("requester") == "BUYER":
            return True
    return False


def _without_personal(order: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in order.items() if k not in PERSONAL_BLOCKS}


def included_data() -> str:
    """includedData for searchOrders and getOrder: RECIPIENT only when the application holds the role."""
    if settings.AMAZON_ORDERS_RESTRICTED_ROLE:
        return f"{INCLUDED_DATA},{RECIPIENT}"
    return INCLUDED_DATA


def parse_order(doc: Any) -> Order:
    """One order of the model's shape; raises BadOrder with the reason when it is not."""
    order = _object(doc, "order")
    if order is None:
        raise BadOrder("order is null")
    order_id = str(_text(order, "orderId", "order", required=True, limit=40))
    channel = _object(order.get("salesChannel"), "salesChannel")
    if channel is None:
        raise BadOrder("salesChannel is missing")
    items = order.get("orderItems")
    if not isinstance(items, list):
        raise BadOrder("orderItems is missing or not a list")
    proceeds = _object(order.get("proceeds"), "proceeds") or {}
    total, currency = _money(proceeds.get("grandTotal"), "proceeds.grandTotal")
    fulfillment = _object(order.get("fulfillment"), "fulfillment")
    status = None
    if fulfillment is not None:
        status = _text(fulfillment, "fulfillmentStatus", "fulfillment", required=True, limit=30)
    return Order(
        order_id=order_id,
        marketplace_id=_text(channel, "marketplaceId", "salesChannel", required=False, limit=20) or None,
        created=_time(order, "createdTime"),
        last_updated=_time(order, "lastUpdatedTime"),
        status=status,
        total=total,
        currency=currency,
        items=tuple(_item(item, n) for n, item in enumerate(items)),
        raw=_without_personal(order),
        ship_to=_ship_to(order.get("recipient")),
        cancel_requested=_cancel_requested(items),
    )


def _unreadable(doc: Any, reason: str) -> Unreadable:
    order_id = doc.get("orderId") if isinstance(doc, dict) else None
    if isinstance(doc, dict):
        doc = _without_personal(doc)
    try:
        raw = json.dumps(doc, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        raw = repr(doc)
    return Unreadable(
        order_id=order_id[:40] if isinstance(order_id, str) else "", reason=reason[:300], raw=raw[:RAW_LIMIT]
    )


def _page(answer: spapi.Answer) -> Page:
    body = answer.body
    if not isinstance(body, dict) or not isinstance(body.get("orders"), list):
        raise OrdersApiError("bad_response", "no orders list", answer.status)
    orders, unreadable = [], []
    for doc in body["orders"]:
        try:
            orders.append(parse_order(doc))
        except BadOrder as e:
            unreadable.append(_unreadable(doc, str(e)))
    try:
        echoed = body.get("createdBefore") or body.get("lastUpdatedBefore")
        upper = parse_time(echoed) if echoed else None
        token = (body.get("pagination") or {}).get("nextToken") or ""
    except (TypeError, ValueError, AttributeError) as e:
        raise OrdersApiError("bad_response", "malformed page", answer.status) from e
    return Page(
        orders=orders,
        next_token=str(token),
        upper_bound=upper,
        rate_limit=answer.rate_limit,
        unreadable=tuple(unreadable),
    )


def _iso(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value.utcoffset() is not None else value.isoformat()


def search_orders(
    sp_api_base: str,
    access_token: str,
    *,
    marketplace_ids: list[str],
    created_after: datetime | None = None,
    created_before: datetime | None = None,
    last_updated_after: datetime | None = None,
    pagination_token: str = "",
    page_size: int = 100,
) -> Page:
    """One page. With a pagination token, the other filters are sent unchanged as the model asks."""
    params: dict[str, Any] = {
        "marketplaceIds": ",".join(marketplace_ids),
        "maxResultsPerPage": page_size,
        "includedData": included_data(),
    }
    for name, value in (
        ("createdAfter", created_after),
        ("createdBefore", created_before),
        ("lastUpdatedAfter", last_updated_after),
    ):
        if value is not None:
            params[name] = _iso(value.astimezone(UTC))
    if pagination_token:
        params["paginationToken"] = pagination_token
    return _page(spapi.call(OrdersApiError, "GET", f"{sp_api_base}{BASE}", access_token, params=params))


def get_order(sp_api_base: str, access_token: str, order_id: str) -> Order:
    answer = spapi.call(
        OrdersApiError,
        "GET",
        f"{sp_api_base}{BASE}/{quote(order_id, safe='')}",
        access_token,
        params={"includedData": included_data()},
    )
    body = answer.body
    if not isinstance(body, dict) or "order" not in body:
        raise OrdersApiError("bad_response", "no order", answer.status)
    try:
        return parse_order(body["order"])
    except BadOrder as e:
        raise OrdersApiError("bad_response", f"malformed order: {e}", answer.status) from e
