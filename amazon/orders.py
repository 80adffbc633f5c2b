"""Orders API 2026-01-01: searchOrders (paged by paginationToken) and getOrder, with typed results."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote

from amazon import spapi

BASE = "/orders/2026-01-01/orders"
# Without them Amazon leaves totals and the fulfillment status out of each order.
INCLUDED_DATA = "PROCEEDS,FULFILLMENT"


class OrdersApiError(spapi.SpApiError):
    pass


@dataclass(frozen=True)
class Item:
    order_item_id: str
    sku: str
    asin: str
    quantity: int
    unit_price: Decimal | None
    currency: str


@dataclass(frozen=True)
class Order:
    order_id: str
    marketplace_id: str
    created: datetime
    last_updated: datetime
    status: str
    total: Decimal | None
    currency: str
    items: tuple[Item, ...]
    raw: dict[str, Any]


@dataclass(frozen=True)
class Page:
    orders: list[Order]
    next_token: str
    # The upper bound Amazon applied (createdBefore or lastUpdatedBefore), echoed in the answer.
    upper_bound: datetime | None
    rate_limit: float | None


def parse_time(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ValueError("not a date-time")
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError("date-time without offset")
    return parsed


def _money(doc: Any) -> tuple[Decimal | None, str]:
    if not isinstance(doc, dict):
        return None, ""
    try:
        return Decimal(str(doc["amount"])), str(doc.get("currencyCode", ""))[:3]
    except (KeyError, InvalidOperation):
        return None, ""


def _item(doc: dict[str, Any]) -> Item:
    product = doc.get("product") or {}
    price, currency = _money((product.get("price") or {}).get("unitPrice"))
    return Item(
        order_item_id=str(doc["orderItemId"]),
        sku=str(product.get("sellerSku", ""))[:100],
        asin=str(product.get("asin", ""))[:20],
        quantity=int(doc["quantityOrdered"]),
        unit_price=price,
        currency=currency,
    )


def parse_order(doc: Any) -> Order:
    if not isinstance(doc, dict):
        raise ValueError("order is not an object")
    total, currency = _money((doc.get("proceeds") or {}).get("grandTotal"))
    return Order(
        order_id=str(doc["orderId"]),
        marketplace_id=str(doc["salesChannel"]["marketplaceId"]),
        created=parse_time(doc["createdTime"]),
        last_updated=parse_time(doc["lastUpdatedTime"]),
        status=str((doc.get("fulfillment") or {}).get("fulfillmentStatus", ""))[:30],
        total=total,
        currency=currency,
        items=tuple(_item(i) for i in doc.get("orderItems") or []),
        raw=doc,
    )


def _page(answer: spapi.Answer) -> Page:
    body = answer.body
    if not isinstance(body, dict) or not isinstance(body.get("orders"), list):
        raise OrdersApiError("bad_response", "no orders list", answer.status)
    try:
        orders = [parse_order(o) for o in body["orders"]]
        echoed = body.get("createdBefore") or body.get("lastUpdatedBefore")
        upper = parse_time(echoed) if echoed else None
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise OrdersApiError("bad_response", "malformed order", answer.status) from e
    token = (body.get("pagination") or {}).get("nextToken") or ""
    return Page(orders=orders, next_token=str(token), upper_bound=upper, rate_limit=answer.rate_limit)


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
    from datetime import UTC

    params: dict[str, Any] = {
        "marketplaceIds": ",".join(marketplace_ids),
        "maxResultsPerPage": page_size,
        "includedData": INCLUDED_DATA,
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
        params={"includedData": INCLUDED_DATA},
    )
    body = answer.body
    try:
        return parse_order(body["order"])
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise OrdersApiError("bad_response", "malformed order", answer.status) from e
