"""confirmShipment (Orders API v0, `POST /orders/v0/orders/{orderId}/shipmentConfirmation`) as Amazon plays it.

The contract is tests/fixtures/amazon-models/ordersV0.json (ConfirmShipmentRequest, PackageDetail,
ConfirmShipmentOrderItem; 204 without a body; ConfirmShipmentErrorResponse for 400/403/404/429/500/503) and
"Confirm the shipment status" (https://developer-docs.amazon.com/sp-api/docs/confirm-the-shipment-status): one
request per package, and "If you need to make an edit to the shipment, submit another confirmShipment operation with
the same packageReferenceID. The other shipment details are edited upon successful submission."

What the sandbox checks, in this order, and the answer to each:
- the body: ConfirmShipmentRequest's required fields and types → 400 InvalidInput. Amazon's own words where they are
  known: "PackageReferenceId: is invalid, must be a positive numeric value." (github:jlevers/selling-partner-api #489;
  the model: "Only positive numeric values are supported"); a shipDate that is not ISO 8601 is 400 (the model's own
  sandbox example answers "02/21/2022" with 400 "Invalid Input").
- the order: unknown to this seller, not yet created or past retention → 404 NotFound, as getOrder.
- the marketplace: of another region → 403 "The marketplaces you provided are not valid for region." and one the
  seller does not sell in → 403, as searchOrders (sandbox/spapi.py `_order_marketplaces`); another marketplace of the
  seller than the order's → 400.
- the order's state: Pending → 400 (ordersV0.json OrderStatus: Pending "The order is not ready for shipment");
  Canceled → 400 (OrderStatus: "The order was canceled"; a cancelled order is not to be shipped, and Amazon's
  wording of this refusal is not documented: the sandbox's is its own); fulfilled by Amazon → 400 (AFN orders are
  shipped by Amazon, and confirmShipment is for the seller's own shipments).
- the carrier: one of amazon/carriers.py CARRIER_CODES exactly (github:amzn/selling-partner-api-docs #772: "must
  match the options listed in Seller Central exactly. Missing or incorrect values will lead to errors"); "Other"
  needs carrierName (the model: "Required when `carrierCode` is \"Other\"").
- the items: an orderItemId of another order → 400 with Amazon's message "OrderItemId  is invalid, please obtain the
  value through the getOrderItems API or Manage Orders page" (github:jlevers/selling-partner-api #528); a quantity
  above what is left to ship (ordered minus the other packages of the order) → 400; nothing left at all for a new
  package → 400 "Failed to create package due to not finding a matching package or order already fulfilled."
  (github:amzn/selling-partner-api-models #5037). An order shipped without packages (the generated history) has
  nothing left.

An accepted package is stored (SandboxShipment) and the order moves to PARTIALLY_SHIPPED ("One or more (but not all)
items in the order have been shipped") or SHIPPED ("All items in the order have been shipped") at that virtual time,
which is also its lastUpdatedTime, so the next searchOrders/getOrder sees it. The generated shipment of the order (its
shipped_at in the future) is dropped: from the first confirmation on, the packages decide. Rate limit (2/s, burst
10), faults (group "shipments") and the access-token checks come from sandbox/spapi.py `operation`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils.dateparse import parse_datetime

from amazon.carriers import OTHER, is_carrier_code
from sandbox import catalog, guard, simulated_orders
from sandbox.models import SandboxOrder, SandboxShipment
from sandbox.spapi import NOT_FOR_REGION, BadRequest, Call, Denied, operation

POSITIVE_NUMBER_DIGITS = 18
BAD_REFERENCE = "PackageReferenceId: is invalid, must be a positive numeric value."
BAD_ITEM = (
    "OrderItemId {} is invalid, please obtain the value through the getOrderItems API or Manage Orders page"
)
ALREADY_FULFILLED = (
    "Failed to create package due to not finding a matching package or order already fulfilled."
)
MAX_TEXT = 200  # the sandbox's column sizes


@dataclass(frozen=True)
class Confirmation:
    """A ConfirmShipmentRequest read and checked for its shape."""

    marketplace_id: str
    reference: str
    carrier_code: str
    carrier_name: str
    shipping_method: str
    tracking_number: str
    ship_date: datetime
    cod_collection_method: str
    items: dict[str, int]  # orderItemId → quantity (an item named twice counts once with both quantities)


def _object(request: HttpRequest) -> dict[str, Any]:
    try:
        body = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest("Request body is not valid JSON.") from exc
    if not isinstance(body, dict):
        raise BadRequest("Request body must be a ConfirmShipmentRequest object.")
    return body


def _text(doc: dict[str, Any], name: str, *, required: bool) -> str:
    value = doc.get(name)
    if value is None or value == "":
        if required:
            raise BadRequest(f"{name}: is required.")
        return ""
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        raise BadRequest(f"{name}: is invalid, must be a string of at most {MAX_TEXT} characters.")
    if "\x00" in value:
        # PostgreSQL cannot store NUL in text, as sandbox/guard.py explains for parameters.
        raise BadRequest(guard.NUL_MESSAGE)
    return value


def _reference(detail: dict[str, Any]) -> str:
    value = detail.get("packageReferenceId")
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not (isinstance(value, str) and value.isascii() and value.isdigit()):
        raise BadRequest(BAD_REFERENCE)
    if int(value) < 1 or len(value.lstrip("0")) > POSITIVE_NUMBER_DIGITS:
        raise BadRequest(BAD_REFERENCE)
    # 01 and 1 are the same number: one package.
    return value.lstrip("0")


def _ship_date(detail: dict[str, Any]) -> datetime:
    raw = detail.get("shipDate")
    parsed = None
    if isinstance(raw, str) and "T" in raw:
        try:
            parsed = parse_datetime(raw)
        except ValueError:
            parsed = None
    if parsed is None:
        raise BadRequest("shipDate: is invalid, must be an ISO 8601 date-time.")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _items(detail: dict[str, Any]) -> dict[str, int]:
    items = detail.get("orderItems")
    if not isinstance(items, list) or not items:
        raise BadRequest("orderItems: is required, a list of at least one orderItemId and quantity.")
    wanted: dict[str, int] = {}
    for item in items:
        if not isinstance(item, dict):
            raise BadRequest("orderItems: is invalid, each item must be an object.")
        item_id = _text(item, "orderItemId", required=True)
        quantity = item.get("quantity")
        if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= 10_000:
            raise BadRequest(
                f"Quantity for OrderItemId {item_id} is invalid, must be a whole number of 1 or more."
            )
        wanted[item_id] = wanted.get(item_id, 0) + quantity
    return wanted


def _carrier(detail: dict[str, Any]) -> tuple[str, str]:
    code = _text(detail, "carrierCode", required=True)
    name = _text(detail, "carrierName", required=False)
    if not is_carrier_code(code):
        raise BadRequest(
            f"CarrierCode {code!r} is invalid: use a carrier code listed in Seller Central exactly, "
            'or "Other" with the carrier\'s name.'
        )
    if code == OTHER and not name.strip():
        raise BadRequest('CarrierName: is required when CarrierCode is "Other".')
    return code, name


def parse(request: HttpRequest) -> Confirmation:
    body = _object(request)
    detail = body.get("packageDetail")
    if not isinstance(detail, dict):
        raise BadRequest("packageDetail: is required.")
    marketplace_id = _text(body, "marketplaceId", required=True)
    cod = body.get("codCollectionMethod")
    # The enum has one value, "only supported in the JP marketplace"; Amazon's own example sends "" for none.
    if cod not in (None, "", "DirectPayment"):
        raise BadRequest("codCollectionMethod: is invalid, must be DirectPayment.")
    reference = _reference(detail)
    carrier_code, carrier_name = _carrier(detail)
    return Confirmation(
        marketplace_id=marketplace_id,
        reference=reference,
        carrier_code=carrier_code,
        carrier_name=carrier_name,
        shipping_method=_text(detail, "shippingMethod", required=False),
        tracking_number=_text(detail, "trackingNumber", required=True),
        ship_date=_ship_date(detail),
        cod_collection_method=cod or "",
        items=_items(detail),
    )


def _order(call: Call, order_id: str) -> SandboxOrder:
    order = (
        SandboxOrder.objects.select_for_update()
        .filter(order_id=order_id, seller=call.seller, created_time__lte=call.at)
        .first()
    )
    if order is None or order.created_time < simulated_orders.retained_since(order.marketplace_id, call.at):
        raise BadRequest(f"Order {order_id} was not found.", status=404, code="NotFound")
    return order


def _check_marketplace(call: Call, order: SandboxOrder, marketplace_id: str) -> None:
    m = catalog.marketplace(marketplace_id)
    if m is None or m.region != call.seller.region:
        raise Denied(NOT_FOR_REGION)
    if marketplace_id not in call.seller.marketplace_ids:
        raise Denied()
    if marketplace_id != order.marketplace_id:
        raise BadRequest(
            f"MarketplaceId {marketplace_id} is invalid: order {order.order_id} is of marketplace "
            f"{order.marketplace_id}."
        )


def _check_state(order: SandboxOrder, at: datetime) -> None:
    status, _updated = order.state_at(at)
    if status == "CANCELLED":
        raise BadRequest(
            f"Order {order.order_id} was canceled: a canceled order cannot be confirmed as shipped."
        )
    if status == "PENDING":
        raise BadRequest(f"Order {order.order_id} is Pending: the order is not ready for shipment.")
    if order.fulfilled_by != "MERCHANT":
        raise BadRequest(
            f"Order {order.order_id} is fulfilled by Amazon: it cannot be confirmed by the seller."
        )


def shipped_elsewhere(order: SandboxOrder, at: datetime, reference: str) -> dict[str, int]:
    """What the order's other packages shipped, by orderItemId. An order SHIPPED without any package (the
    generated history: the seller confirmed it elsewhere) has shipped everything."""
    packages = list(order.shipments.all())
    if not packages and order.state_at(at)[0] == "SHIPPED":
        return {item["orderItemId"]: int(item["quantity"]) for item in order.items}
    shipped: dict[str, int] = {}
    for package in packages:
        if package.package_reference_id == reference:
            continue
        for item in package.items:
            shipped[item["orderItemId"]] = shipped.get(item["orderItemId"], 0) + int(item["quantity"])
    return shipped


def _check_items(order: SandboxOrder, confirmation: Confirmation, shipped: dict[str, int]) -> None:
    ordered = {item["orderItemId"]: int(item["quantity"]) for item in order.items}
    for item_id in confirmation.items:
        if item_id not in ordered:
            raise BadRequest(BAD_ITEM.format(item_id))
    is_new = not order.shipments.filter(package_reference_id=confirmation.reference).exists()
    if is_new and all(shipped.get(i, 0) >= q for i, q in ordered.items()):
        raise BadRequest(ALREADY_FULFILLED)
    for item_id, quantity in confirmation.items.items():
        left = ordered[item_id] - shipped.get(item_id, 0)
        if quantity > left:
            raise BadRequest(
                f"Quantity {quantity} for OrderItemId {item_id} is invalid: {left} of the {ordered[item_id]} "
                "ordered are left to ship."
            )


def _store(order: SandboxOrder, confirmation: Confirmation, at: datetime) -> None:
    fields = {
        "marketplace_id": confirmation.marketplace_id,
        "carrier_code": confirmation.carrier_code,
        "carrier_name": confirmation.carrier_name,
        "shipping_method": confirmation.shipping_method,
        "tracking_number": confirmation.tracking_number,
        "ship_date": confirmation.ship_date,
        "cod_collection_method": confirmation.cod_collection_method,
        "items": [{"orderItemId": i, "quantity": q} for i, q in confirmation.items.items()],
        "updated_at": at,
    }
    package = order.shipments.filter(package_reference_id=confirmation.reference).first()
    if package is None:
        SandboxShipment.objects.create(
            order=order, package_reference_id=confirmation.reference, confirmed_at=at, **fields
        )
    else:
        for name, value in fields.items():
            setattr(package, name, value)
        package.requests += 1
        package.save()
    _settle(order, at)


def _settle(order: SandboxOrder, at: datetime) -> None:
    """The order's status from its packages: every item covered → SHIPPED, otherwise PARTIALLY_SHIPPED."""
    shipped: dict[str, int] = {}
    for package in order.shipments.all():
        for item in package.items:
            shipped[item["orderItemId"]] = shipped.get(item["orderItemId"], 0) + int(item["quantity"])
    order.shipped_items = shipped
    if all(shipped.get(item["orderItemId"], 0) >= int(item["quantity"]) for item in order.items):
        if order.shipped_at is None or order.shipped_at > at:
            order.shipped_at = at
    else:
        # An edit that takes items out of a SHIPPED order makes it partial again.
        order.shipped_at = None
        if order.partially_shipped_at is None or order.partially_shipped_at > at:
            order.partially_shipped_at = at
    order.save(update_fields=["shipped_items", "shipped_at", "partially_shipped_at"])


@operation("shipments", "confirmShipment")
def confirm_shipment(request: HttpRequest, call: Call, order_id: str) -> HttpResponse:
    if request.method != "POST":
        raise BadRequest("Method not allowed.", status=405, code="MethodNotAllowed")
    confirmation = parse(request)
    with transaction.atomic():
        order = _order(call, order_id)
        _check_marketplace(call, order, confirmation.marketplace_id)
        _check_state(order, call.at)
        _check_items(order, confirmation, shipped_elsewhere(order, call.at, confirmation.reference))
        _store(order, confirmation, call.at)
    # 204 "Success." without a body (ordersV0.json).
    return HttpResponse(status=204)
