"""Orders API v0 confirmShipment: tell Amazon that one package of a seller-fulfilled order has shipped.

`POST /orders/v0/orders/{orderId}/shipmentConfirmation` (tests/fixtures/amazon-models/ordersV0.json, also
github:amzn/selling-partner-api-models models/orders-api-model/ordersV0.json). It has no Orders API 2026-01-01
equivalent, so it is a module of its own beside amazon/orders.py (the 2026-01-01 client).

How Amazon means it ("Confirm the shipment status", https://developer-docs.amazon.com/sp-api/docs/confirm-the-shipment-
status): one call per package; "To submit multiple package tracking IDs, you must send multiple requests with the same
order ID but different package reference IDs"; "If you need to make an edit to the shipment, submit another
confirmShipment operation with the same packageReferenceID. The other shipment details are edited upon successful
submission." Sending the same package again is therefore harmless: the call is replay safe.

Success is 204 without a body. Failures come in the model's ConfirmShipmentErrorResponse (`errors[]` of code, message,
details) and raise ShipmentError, an SpApiError (the one error base, amazon/errors.py) that keeps Amazon's code and
message and names the problem (`problem`) with a reason in words and what to do (`REASONS`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from amazon import spapi
from amazon.carriers import OTHER

PATH = "/orders/v0/orders/{order_id}/shipmentConfirmation"
OPERATION = "confirmShipment"  # its usage plan: sync/ratelimit.py PLANS
# ConfirmShipmentRequest.codCollectionMethod: enum ["DirectPayment"], "only supported in the JP marketplace".
COD_COLLECTION_METHODS = ("DirectPayment",)
# PackageReferenceId: "Only positive numeric values are supported." (the model); Amazon's refusal of anything else
# reads "PackageReferenceId: is invalid, must be a positive numeric value." (github:jlevers/selling-partner-api #489).
POSITIVE_NUMBER = re.compile(r"^[1-9][0-9]{0,17}$")


@dataclass(frozen=True)
class ShippedItem:
    """ConfirmShipmentOrderItem: both fields required."""

    order_item_id: str  # orderItemId: "The order item's unique identifier."
    quantity: int  # quantity: "The item's quantity." (in this package)


@dataclass(frozen=True)
class Package:
    """PackageDetail (required: packageReferenceId, carrierCode, trackingNumber, shipDate, orderItems)."""

    # "A seller-supplied identifier that uniquely identifies a package within the scope of an order. Only positive
    # numeric values are supported." The same id sent again edits that package (see the module docstring).
    package_reference_id: str
    # "Identifies the carrier that will deliver the package. This field is required for all marketplaces."; one of
    # amazon/carriers.py CARRIER_CODES, compared exactly (issue #772: "must match the options listed in Seller
    # Central exactly").
    carrier_code: str
    # "The tracking number used to obtain tracking and delivery information."
    tracking_number: str
    # "The shipping date for the package. Must be in ISO 8601 date/time format." Sent in UTC with a Z.
    ship_date: datetime
    # orderItems: "The list of order items and quantities to be updated."
    items: tuple[ShippedItem, ...]
    # "Carrier name that will deliver the package. Required when `carrierCode` is \"Other\"". Sent only when given.
    carrier_name: str = ""
    # "Ship method to be used for shipping the order." Optional; issue #772: for VTR in DE, ES and FR it must match
    # an option of Seller Central exactly. Sent only when given.
    shipping_method: str = ""


@dataclass(frozen=True)
class Confirmed:
    """Amazon accepted the package (204): it is confirmed, or edited when its reference was confirmed before."""

    order_id: str
    package_reference_id: str
    rate_limit: float | None  # x-amzn-RateLimit-Limit, when Amazon sent it


# problem → (what went wrong, what to do). Problems of a 400 are read from Amazon's message (`_problem`).
REASONS: dict[str, tuple[Promise, Promise]] = {
    "package_reference": (
        _("The package reference must be a positive whole number."),
        _("Number the packages of an order 1, 2, 3…; send the same number again to edit a package."),
    ),
    "carrier": (
        _("Amazon does not accept this carrier code."),
        _(
            "Choose the carrier from Amazon's list exactly as written, or choose Other and type the carrier's name."
        ),
    ),
    "carrier_name": (
        _("The carrier is Other but its name is missing."),
        _("Type the carrier's name."),
    ),
    "tracking_number": (_("The tracking number is missing."), _("Enter the carrier's tracking number.")),
    "ship_date": (
        _("The ship date is not a valid date and time."),
        _("Enter the date and time the package was handed to the carrier."),
    ),
    "order_item": (
        _("An item of the package is not an item of this order."),
        _("Use the order item IDs shown on the order."),
    ),
    "quantity": (
        _("The package holds more of an item than is left to ship."),
        _("Ship at most the quantity ordered minus what was already confirmed, or edit the earlier package."),
    ),
    "already_shipped": (
        _("Every item of the order was already confirmed as shipped."),
        _("To correct a package, send it again with its own package reference."),
    ),
    "marketplace": (
        _("The order does not belong to this marketplace."),
        _("Send the confirmation with the order's marketplace."),
    ),
    "order_canceled": (
        _("The order was cancelled: Amazon does not accept a shipment for it."),
        _("Do not ship it. If it has left already, contact the buyer through Seller Central."),
    ),
    "order_not_ready": (
        _("The order is not ready for shipment yet (its payment is not authorized)."),
        _("Wait until the order is Unshipped, then confirm the shipment."),
    ),
    "order_not_found": (
        _("Amazon does not know this order for this seller."),
        _("Check the order number and the store."),
    ),
    "unauthorized": (
        _("Amazon refused access: the store's authorization is revoked, expired or lacks the role."),
        _("Renew the store's authorization, then send the shipment again."),
    ),
    "throttled": (
        _("Amazon is limiting how fast shipments are confirmed."),
        _("Nothing to do: it is sent again automatically."),
    ),
    "unavailable": (
        _("Amazon did not answer properly."),
        _("Nothing to do: it is sent again automatically."),
    ),
    "invalid": (
        _("Amazon refused the shipment confirmation."),
        _("Check the package's details against Amazon's message."),
    ),
}
RETRYABLE_KINDS = ("throttled", "server_error", "network", "bad_response")
# Words of Amazon's 400 messages → problem, the first match wins (a message about the quantity of an order item
# names both). Amazon's own messages name the field: "OrderItemId  is invalid, please obtain the value through the
# getOrderItems API or Manage Orders page" (github:jlevers/selling-partner-api #528), "PackageReferenceId: is invalid,
# must be a positive numeric value." (#489), "Failed to create package due to not finding a matching package or
# order already fulfilled." (github:amzn/selling-partner-api-models #5037).
MESSAGE_WORDS = (
    ("carriername", "carrier_name"),
    ("carrier", "carrier"),
    ("quantity", "quantity"),
    ("orderitemid", "order_item"),
    ("packagereferenceid", "package_reference"),
    ("already fulfilled", "already_shipped"),
    ("shipdate", "ship_date"),
    ("trackingnumber", "tracking_number"),
    ("marketplace", "marketplace"),
    ("cancel", "order_canceled"),
    ("not ready for shipment", "order_not_ready"),
)


class ShipmentError(spapi.SpApiError):
    """confirmShipment failed. `kind`, `status`, `code` and `message` as Amazon answered (amazon/errors.py);
    `problem` names what to fix (a key of REASONS); `retryable` says whether sending it again later can succeed."""

    def __init__(self, kind: str, message: str = "", status: int | None = None, code: str = "") -> None:
        super().__init__(kind, message, status, code)
        self.problem = _problem(kind, status, message)

    @property
    def retryable(self) -> bool:
        return self.kind in RETRYABLE_KINDS

    @property
    def reason(self) -> Promise:
        return REASONS[self.problem][0]

    @property
    def what_to_do(self) -> Promise:
        return REASONS[self.problem][1]


def _problem(kind: str, status: int | None, message: str) -> str:
    if kind == "throttled":
        return "throttled"
    if kind in ("server_error", "network", "bad_response"):
        return "unavailable"
    if kind == "unauthorized":
        return "unauthorized"
    if kind == "not_found":
        return "order_not_found"
    words = message.lower().replace(" ", "") if message else ""
    for word, problem in MESSAGE_WORDS:
        if word.replace(" ", "") in words:
            return problem
    return "invalid"


def check(package: Package, cod_collection_method: str | None = None) -> list[tuple[str, str]]:
    """(problem, message) of every rule of the model the package breaks; empty when it can be sent."""
    found = []
    if not POSITIVE_NUMBER.match(package.package_reference_id):
        found.append(
            ("package_reference", "PackageReferenceId: is invalid, must be a positive numeric value.")
        )
    if not package.carrier_code.strip():
        found.append(("carrier", "carrierCode is required."))
    elif package.carrier_code == OTHER and not package.carrier_name.strip():
        found.append(("carrier_name", 'carrierName is required when carrierCode is "Other".'))
    if not package.tracking_number.strip():
        found.append(("tracking_number", "trackingNumber is required."))
    if package.ship_date.utcoffset() is None:
        found.append(("ship_date", "shipDate needs a time zone."))
    ids = [item.order_item_id for item in package.items]
    if not ids or any(not i.strip() for i in ids) or len(set(ids)) != len(ids):
        found.append(("order_item", "orderItems needs each orderItemId once."))
    if any(isinstance(i.quantity, bool) or i.quantity < 1 for i in package.items):
        found.append(("quantity", "quantity must be a whole number of 1 or more."))
    if cod_collection_method is not None and cod_collection_method not in COD_COLLECTION_METHODS:
        found.append(("invalid", "codCollectionMethod must be DirectPayment."))
    return found


def request_body(
    marketplace_id: str, package: Package, cod_collection_method: str | None = None
) -> dict[str, Any]:
    """ConfirmShipmentRequest (required: marketplaceId, packageDetail)."""
    detail: dict[str, Any] = {
        "packageReferenceId": package.package_reference_id,
        "carrierCode": package.carrier_code,
        "trackingNumber": package.tracking_number,
        "shipDate": package.ship_date.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "orderItems": [{"orderItemId": i.order_item_id, "quantity": i.quantity} for i in package.items],
    }
    if package.carrier_name:
        detail["carrierName"] = package.carrier_name
    if package.shipping_method:
        detail["shippingMethod"] = package.shipping_method
    # MarketplaceId: "The unobfuscated marketplace identifier."
    body: dict[str, Any] = {"marketplaceId": marketplace_id, "packageDetail": detail}
    if cod_collection_method:
        body["codCollectionMethod"] = cod_collection_method
    return body


def confirm_shipment(
    sp_api_base: str,
    access_token: str,
    order_id: str,
    marketplace_id: str,
    package: Package,
    *,
    cod_collection_method: str | None = None,
) -> Confirmed:
    """Confirm (or edit) one package of an order. ShipmentError when the package breaks the model (nothing sent;
    status None) or when Amazon refuses it."""
    problems = check(package, cod_collection_method)
    if problems:
        raise ShipmentError("invalid", problems[0][1])
    answer = spapi.call(
        ShipmentError,
        "POST",
        sp_api_base + PATH.format(order_id=quote(order_id, safe="")),
        access_token,
        json=request_body(marketplace_id, package, cod_collection_method),
        allow_empty=True,
        replay_safe=True,
    )
    if answer.status != 204:
        # The model documents 204 only; another 2xx did not say the package was taken.
        raise ShipmentError("bad_response", f"HTTP {answer.status} instead of 204", answer.status)
    return Confirmed(order_id, package.package_reference_id, answer.rate_limit)
