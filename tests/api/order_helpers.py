"""Orders for the API tests, stored the one way orders reach the database (sync/order_store.py `upsert`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.db import transaction

from amazon import orders as api
from stores.models import Store
from sync import order_store

US = "ATVPDKIKX0DER"
BASE = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def amazon_order(
    order_id: str,
    *,
    purchased: datetime = BASE,
    version: int = 0,
    status: str = "UNSHIPPED",
    total: str | None = "19.99",
    marketplace_id: str = US,
    raw: dict[str, object] | None = None,
) -> api.Order:
    """An order as Amazon's client reads it; `version` moves lastUpdatedTime, so a higher one is a newer copy."""
    return api.Order(
        order_id=order_id,
        marketplace_id=marketplace_id,
        created=purchased,
        last_updated=purchased + timedelta(seconds=1 + version),
        status=status,
        total=Decimal(total) if total is not None else None,
        currency="USD" if total is not None else None,
        items=(
            api.Item(
                order_item_id=f"{order_id}-1",
                quantity=2,
                sku="MUG-BLUE",
                asin="B000000001",
                unit_price=Decimal("9.995"),
                currency="USD",
            ),
        ),
        raw=raw or {"orderId": order_id},
    )


def store_orders(store: Store, orders: list[api.Order]) -> None:
    """Store a page of orders as the order sync does: in one transaction (the store's row lock is the sync's)."""
    with transaction.atomic():
        order_store.upsert(store, orders)
