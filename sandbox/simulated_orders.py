"""The sandbox's simulated sellers' orders, on Amazon's side: deterministic generation and the
searchOrders/getOrder logic that sandbox/spapi.py serves. Not to be confused with amazon/orders.py (the
portal's client of that API) or sync/order_sync.py (the portal loading orders into its database); this module
shares no code with either.

Orders for one (seller, marketplace, UTC day) come from a random generator seeded by a hash of those three values, so
every process produces exactly the same rows; days are generated lazily on first need and inserted with
ignore_conflicts, which makes concurrent generation harmless. A whole day is stored at once but an order only exists
for the API once virtual now has passed its creation time. Status changes over virtual time:
PENDING → UNSHIPPED (30 min) → SHIPPED (about a day), or PENDING → CANCELLED (within hours). A shipment confirmed
through confirmShipment (sandbox/shipments.py) replaces the generated shipment: UNSHIPPED → PARTIALLY_SHIPPED →
SHIPPED as packages cover the items.

What searchOrders shows follows Amazon's model (orders_2026-01-01.json): includedData decides the optional blocks
(`order_json`), and orders older than Amazon's retention never show (`retained`).
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Case, CharField, DateTimeField, F, Q, QuerySet, Value, When

from sandbox import catalog
from sandbox.models import SandboxOrder, SandboxOrderDay, SandboxSeller

HISTORY_DAYS = 800  # generated history reaches this far before the seller's creation (more than 2 years)
UNSHIPPED_AFTER = timedelta(minutes=30)
SHIPPED_AFTER = timedelta(days=1)
CANCEL_RATE = 0.08
# A status change can come this long after creation, so lastUpdated queries must look at earlier days too.
MAX_CHANGE_DELAY = timedelta(days=2)

# Retention: "This API does not display order data that is more than two years old, except in the JP, AU, and SG
# marketplaces, for which data from 2016 and after is available." (orders_2026-01-01.json, info.description; also
# https://developer-docs.amazon.com/sp-api/docs/orders-api-v0-model: "Orders more than two years old don't show in
# the API response"). Older orders are left out of the answer, which is not an error.
RETENTION_YEARS = 2
LONG_RETENTION_SITES = ("JP", "AU", "SG")
LONG_RETENTION_FROM = datetime(2016, 1, 1, tzinfo=UTC)

# includedData (enum in orders_2026-01-01.json). Without it "the response will include only basic information about
# the orders, such as orderId, createdTime, salesChannel, programs, orderItemId, product"
# (https://developer-docs.amazon.com/sp-api/docs/get-orders-with-filtering-criteria). The sandbox has data for
# PROCEEDS (order and item proceeds), FULFILLMENT (order and item fulfillment) and RECIPIENT (`recipient_json`); the
# other datasets are optional blocks it has nothing for, so they stay absent.
INCLUDED_DATA = (
    "BUYER", "RECIPIENT", "PROCEEDS", "EXPENSE", "PROMOTION", "CANCELLATION", "FULFILLMENT", "PACKAGES", "TAX",
    "PAYMENT", "FULFILLMENT_ORDERS",
)  # fmt: skip
FULFILLED_BY = ("MERCHANT", "AMAZON")  # fulfilledBy enum in orders_2026-01-01.json


def _years_before(at: datetime, years: int) -> datetime:
    try:
        return at.replace(year=at.year - years)
    except ValueError:  # 29 February
        return at.replace(year=at.year - years, day=28)


def retained_since(marketplace_id: str, at: datetime) -> datetime:
    """The oldest creation time searchOrders and getOrder still show for a marketplace at virtual time `at`."""
    m = catalog.marketplace(marketplace_id)
    if m is not None and m.site in LONG_RETENTION_SITES:
        return LONG_RETENTION_FROM
    return _years_before(at, RETENTION_YEARS)


def retained(marketplace_ids: Iterable[str], at: datetime) -> Q:
    """Orders of these marketplaces that Amazon's retention still shows at `at`."""
    keep = Q(pk__in=[])
    for marketplace_id in marketplace_ids:
        keep |= Q(marketplace_id=marketplace_id, created_time__gte=retained_since(marketplace_id, at))
    return keep


def history_start(seller: SandboxSeller) -> date:
    return (seller.created - timedelta(days=HISTORY_DAYS)).date()


def _rng(seller: SandboxSeller, marketplace_id: str, day: date) -> random.Random:
    digest = hashlib.sha256(
        f"{seller.selling_partner_id}:{marketplace_id}:{day.isoformat()}".encode()
    ).digest()
    return random.Random(int.from_bytes(digest[:16], "big"))


def _order_id(seller: SandboxSeller, marketplace_id: str, day: date, index: int) -> str:
    digest = hashlib.sha256(
        f"order:{seller.selling_partner_id}:{marketplace_id}:{day}:{index}".encode()
    ).hexdigest()
    digits = str(int(digest, 16))[-17:].rjust(17, "0")
    return f"{digits[:3]}-{digits[3:10]}-{digits[10:]}"


def _day_orders(seller: SandboxSeller, marketplace_id: str, day: date) -> list[SandboxOrder]:
    m = catalog.marketplace(marketplace_id)
    currency = m.currency if m else "USD"
    rng = _rng(seller, marketplace_id, day)
    midnight = datetime.combine(day, time(0, 0), tzinfo=UTC)
    seconds = sorted(rng.randrange(0, 86400) for _ in range(seller.orders_per_day))
    orders = []
    for index, second in enumerate(seconds):
        created = midnight + timedelta(seconds=second)
        items: list[dict[str, Any]] = []
        total = Decimal("0")
        for item_no, (sku, asin, title, usd) in enumerate(
            rng.sample(catalog.PRODUCTS, rng.randint(1, 3)), start=1
        ):
            quantity = rng.randint(1, 3)
            unit = catalog.price_in(currency, usd)
            total += unit * quantity
            item_id = _order_id(seller, marketplace_id, day, index).replace("-", "")[:10] + f"{item_no:04d}"
            items.append(
                {"orderItemId": item_id, "sku": sku, "asin": asin, "title": title, "quantity": quantity,
                 "unitPrice": str(unit)}
            )  # fmt: skip
        order = SandboxOrder(
            order_id=_order_id(seller, marketplace_id, day, index),
            seller=seller,
            marketplace_id=marketplace_id,
            day=day,
            index=index,
            created_time=created,
            currency=currency,
            total=total,
            items=items,
        )
        # Every order leaves PENDING after 30 minutes; some are cancelled later, while still unshipped.
        order.unshipped_at = created + UNSHIPPED_AFTER
        if rng.random() < CANCEL_RATE:
            order.cancelled_at = created + timedelta(seconds=rng.randrange(3600, 6 * 3600))
        else:
            order.shipped_at = created + SHIPPED_AFTER + timedelta(seconds=rng.randrange(0, 8 * 3600))
        orders.append(order)
    return orders


def ensure_generated(seller: SandboxSeller, marketplace_ids: Iterable[str], first: date, last: date) -> None:
    """Generate every missing day in [first, last] (clamped to the seller's history) for each marketplace."""
    first = max(first, history_start(seller))
    if last < first:
        return
    for marketplace_id in marketplace_ids:
        done = set(
            SandboxOrderDay.objects.filter(
                seller=seller, marketplace_id=marketplace_id, day__gte=first, day__lte=last
            ).values_list("day", flat=True)
        )
        missing = [first + timedelta(days=n) for n in range((last - first).days + 1)]
        missing = [d for d in missing if d not in done]
        if not missing:
            continue
        orders: list[SandboxOrder] = []
        for day in missing:
            orders.extend(_day_orders(seller, marketplace_id, day))
        with transaction.atomic():
            SandboxOrder.objects.bulk_create(orders, batch_size=500, ignore_conflicts=True)
            SandboxOrderDay.objects.bulk_create(
                [SandboxOrderDay(seller=seller, marketplace_id=marketplace_id, day=d) for d in missing],
                batch_size=500,
                ignore_conflicts=True,
            )


def last_updated_at(at: datetime) -> Case:
    """The time of an order's latest status change as seen at virtual time `at`, as a database expression."""
    return Case(
        When(shipped_at__lte=at, then=F("shipped_at")),
        When(cancelled_at__lte=at, then=F("cancelled_at")),
        When(partially_shipped_at__lte=at, then=F("partially_shipped_at")),
        When(unshipped_at__lte=at, then=F("unshipped_at")),
        default=F("created_time"),
        output_field=DateTimeField(),
    )


def status_at(at: datetime) -> Case:
    """An order's fulfillment status as seen at virtual time `at`, as a database expression."""
    return Case(
        When(shipped_at__lte=at, then=Value("SHIPPED")),
        When(cancelled_at__lte=at, then=Value("CANCELLED")),
        When(partially_shipped_at__lte=at, then=Value("PARTIALLY_SHIPPED")),
        When(unshipped_at__lte=at, then=Value("UNSHIPPED")),
        default=Value("PENDING"),
        output_field=CharField(),
    )


def search(
    seller: SandboxSeller,
    marketplace_ids: list[str],
    at: datetime,
    created_after: datetime | None = None,
    created_before: datetime | None = None,
    last_updated_after: datetime | None = None,
    last_updated_before: datetime | None = None,
    statuses: list[str] | None = None,
    fulfilled_by: list[str] | None = None,
    retention: bool = False,
    after: tuple[datetime, str] | None = None,
    generate: bool = True,
    annotate: bool = True,
) -> QuerySet[SandboxOrder]:
    """Orders as searchOrders sees them at virtual time `at`, in a stable order (with `retention`, without those
    Amazon no longer shows).

    `after` (sort key, order id) starts past that position of the same order (keyset paging: the cost of a page does
    not grow with its depth). `generate=False` skips generating the window's days, for a search whose first page
    already did. `annotate=False` leaves the status and last update out of the rows (only what searchOrders'
    answer needs is read).
    """
    if created_after is None and last_updated_after is None:
        raise ValueError("createdAfter or lastUpdatedAfter is required")
    upper = min((created_before if created_after is not None else last_updated_before) or at, at)
    if generate:
        _generate_window(seller, marketplace_ids, created_after, last_updated_after, upper)
    key = "created_time" if created_after is not None else "last_updated"
    qs = SandboxOrder.objects.filter(seller=seller, marketplace_id__in=marketplace_ids, created_time__lte=at)
    if annotate:
        qs = qs.annotate(last_updated=last_updated_at(at), status=status_at(at))
    else:
        # Filtered on, not read: `order_json` derives both from the transition times. A next page's position
        # needs the sort key's value, so last_updated is read when it is the key.
        qs = qs.alias(status=status_at(at))
        if key == "last_updated":
            qs = qs.annotate(last_updated=last_updated_at(at))
        else:
            qs = qs.alias(last_updated=last_updated_at(at))
    if created_after is not None:
        qs = qs.filter(created_time__gte=created_after, created_time__lte=upper)
    else:
        assert last_updated_after is not None
        qs = qs.filter(last_updated__gte=last_updated_after, last_updated__lte=upper)
    if after is not None:
        # (key, order_id) > after, written so that the key's range alone bounds the index scan.
        qs = qs.filter(**{f"{key}__gte": after[0]})
        qs = qs.filter(Q(**{f"{key}__gt": after[0]}) | Q(order_id__gt=after[1]))
    qs = qs.order_by(key, "order_id")
    if statuses:
        qs = qs.filter(status__in=statuses)
    if fulfilled_by:
        qs = qs.filter(fulfilled_by__in=fulfilled_by)
    if retention:
        qs = qs.filter(retained(marketplace_ids, at))
    return qs


def _generate_window(
    seller: SandboxSeller,
    marketplace_ids: list[str],
    created_after: datetime | None,
    last_updated_after: datetime | None,
    upper: datetime,
) -> None:
    """Generates the days `search`'s window can find orders in, up to `upper`: from `created_after`, or (an order
    changes at most MAX_CHANGE_DELAY after its creation) from that long before `last_updated_after`."""
    if created_after is not None:
        first = created_after.date()
    else:
        assert last_updated_after is not None
        first = (last_updated_after - MAX_CHANGE_DELAY).date()
    ensure_generated(seller, marketplace_ids, first, upper.date())


def iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _shipped_of(order: SandboxOrder, item: dict[str, Any]) -> int:
    shipped = (order.shipped_items or {}).get(item["orderItemId"], 0)
    return min(int(shipped), int(item["quantity"])) if isinstance(shipped, int) else 0


# recipient.deliveryAddress attributes Amazon counts as PII ("Access Orders PII",
# https://developer-docs.amazon.com/sp-api/docs/access-orders-pii: name, addressLine1-3, postalCode, phone,
# extendedFields). That page ties them to the Direct-to-Consumer Delivery (Restricted) role and says nothing of
# refusing the call without it: the sandbox answers RECIPIENT without these attributes for an application lacking the
# role (as Orders v0 answers ShippingAddress without an RDT: city, state and country only), never a 403.
RECIPIENT_PII = ("name", "companyName", "addressLine1", "addressLine2", "addressLine3", "postalCode", "phone")
_STREETS = ("Maple Ave", "Oak St", "Pine Rd", "Cedar Ln", "Elm St")
_NAMES = ("Jordan Rivera", "Alex Chen", "Sam Patel", "Taylor Kim", "Morgan Lee")
_CITIES = (("Seattle", "WA", "98101"), ("Austin", "TX", "73301"), ("Denver", "CO", "80202"))


def recipient_json(order: SandboxOrder, with_pii: bool) -> dict[str, Any]:
    """The model's Recipient for the order: a deterministic address (the same for every call), its PII attributes
    only `with_pii` (the calling application holds the role)."""
    rng = random.Random(hashlib.sha256(f"recipient:{order.order_id}".encode()).digest())
    m = catalog.marketplace(order.marketplace_id)
    city, state, postal = rng.choice(_CITIES)
    address = {
        "name": rng.choice(_NAMES),
        "addressLine1": f"{rng.randint(10, 9999)} {rng.choice(_STREETS)}",
        "addressLine2": f"Apt {rng.randint(1, 400)}",
        "city": city,
        "stateOrRegion": state,
        "postalCode": postal,
        "countryCode": catalog.country_code(m) if m else "US",
        "phone": f"+1 206-555-{rng.randint(0, 9999):04d}",
        "addressType": "RESIDENTIAL",
    }
    if not with_pii:
        address = {k: v for k, v in address.items() if k not in RECIPIENT_PII}
    return {"deliveryAddress": address}


def order_json(order: SandboxOrder, at: datetime, included: Iterable[str] = ()) -> dict[str, Any]:
    """The order in the model's Order shape as seen at `at`, with the optional blocks `included` asks for (RECIPIENT
    is added by sandbox/spapi.py, which knows the calling application's role: `recipient_json`)."""
    included = set(included)
    status, updated = order.state_at(at)
    m = catalog.marketplace(order.marketplace_id)
    sales_channel: dict[str, str] = {"channelName": "AMAZON", "marketplaceId": order.marketplace_id}
    if m:
        sales_channel["marketplaceName"] = catalog.marketplace_name(m)
    items = []
    for item in order.items:
        quantity = int(item["quantity"])
        unit = Decimal(item["unitPrice"])
        # A partial shipment (sandbox/shipments.py) counts what confirmShipment confirmed of each item.
        shipped = {"SHIPPED": quantity, "PARTIALLY_SHIPPED": _shipped_of(order, item)}.get(status, 0)
        line: dict[str, Any] = {
            "orderItemId": item["orderItemId"],
            "quantityOrdered": quantity,
            "product": {
                "asin": item["asin"],
                "title": item["title"],
                "sellerSku": item["sku"],
                "condition": {"conditionType": "NEW", "conditionSubtype": "NEW"},
                "price": {"unitPrice": catalog.money(unit, order.currency)},
            },
        }
        if "PROCEEDS" in included:
            line["proceeds"] = {"proceedsTotal": catalog.money(unit * quantity, order.currency)}
        if "FULFILLMENT" in included:
            line["fulfillment"] = {"quantityFulfilled": shipped, "quantityUnfulfilled": quantity - shipped}
        items.append(line)
    doc: dict[str, Any] = {
        "orderId": order.order_id,
        "createdTime": iso(order.created_time),
        "lastUpdatedTime": iso(updated),
        "salesChannel": sales_channel,
    }
    if "PROCEEDS" in included:
        doc["proceeds"] = {"grandTotal": catalog.money(order.total, order.currency)}
    if "FULFILLMENT" in included:
        doc["fulfillment"] = {
            "fulfillmentStatus": status,
            "fulfilledBy": order.fulfilled_by,
            "fulfillmentServiceLevel": "STANDARD",
        }
    doc["orderItems"] = items
    return doc
