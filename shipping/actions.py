"""Tracking received (API, order page, CSV): checked, stored as a Package and its confirmation enqueued.

What is refused before Amazon is asked: a cancelled order (ordersV0.json OrderStatus Canceled, "The order was
canceled"; Orders API 2026-01-01 spells it CANCELLED), a package breaking Amazon's model (amazon/shipments.py `check`),
a carrier code Amazon does not list (amazon/carriers.py), an item of another order, and more of an item than is left
to ship (ordered minus the order's other packages; Amazon refuses it too, sandbox/shipments.py). The same package
reference again is an edit ("submit another confirmShipment operation with the same packageReferenceID. The other
shipment details are edited upon successful submission", Amazon's "Confirm the shipment status"); sent unchanged, a
package that is not failed is left as it is (nothing is sent twice).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Sum

from accounts.models import User
from amazon import shipments
from amazon.carriers import OTHER, is_carrier_code
from shipping import jobs
from shipping.models import Package, PackageItem
from shipping.words import reason
from sync import order_state
from sync.models import Order

# The field of the submitted package each problem is about (empty: the package as a whole).
FIELDS = {
    "package_reference": "package_reference_id",
    "carrier": "carrier_code",
    "carrier_name": "carrier_name",
    "tracking_number": "tracking_number",
    "ship_date": "ship_date",
    "order_item": "items",
    "quantity": "items",
}


@dataclass(frozen=True)
class PackageData:
    package_reference_id: str
    carrier_code: str
    tracking_number: str
    ship_date: datetime
    items: tuple[tuple[str, int], ...]  # (order item id, quantity)
    carrier_name: str = ""
    shipping_method: str = ""

    def for_amazon(self) -> shipments.Package:
        return shipments.Package(
            package_reference_id=self.package_reference_id,
            carrier_code=self.carrier_code,
            tracking_number=self.tracking_number,
            ship_date=self.ship_date,
            items=tuple(shipments.ShippedItem(i, q) for i, q in self.items),
            # carrierName is "Required when carrierCode is Other" (ordersV0.json); with a listed code it is not sent.
            carrier_name=self.carrier_name if self.carrier_code == OTHER else "",
            shipping_method=self.shipping_method,
        )


class Refused(Exception):
    """The package is not sent: `problem` is a key of shipping/words.py REASONS, `field` the field it is about."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem
        self.field = FIELDS.get(problem, "")

    @property
    def message(self) -> str:
        return reason(self.problem)


def is_cancelled(order: Order) -> bool:
    # Its status reads cancelled, or it did once (sync/order_state.py: a cancelled order never ships).
    return order_state.is_cancelled(order)


def as_amazon_package(package: Package) -> shipments.Package:
    return PackageData(
        package_reference_id=str(package.package_reference_id),
        carrier_code=package.carrier_code,
        tracking_number=package.tracking_number,
        ship_date=package.ship_date,
        items=tuple((i.order_item_id, i.quantity) for i in package.items.all()),
        carrier_name=package.carrier_name,
        shipping_method=package.shipping_method,
    ).for_amazon()


def check(order: Order, data: PackageData) -> None:
    """Raises Refused for the first problem found, the order's own state first."""
    if is_cancelled(order):
        raise Refused("order_canceled")
    problems = shipments.check(data.for_amazon())
    if problems:
        raise Refused(problems[0][0])
    if not is_carrier_code(data.carrier_code):
        raise Refused("carrier")


def _check_quantities(order: Order, data: PackageData, reference: int) -> None:
    ordered = dict(order.items.values_list("order_item_id", "quantity"))
    if any(item_id not in ordered for item_id, _q in data.items):
        raise Refused("order_item")
    shipped = dict(
        PackageItem.objects.filter(package__order=order)
        .exclude(package__package_reference_id=reference)
        .values_list("order_item_id")
        .annotate(Sum("quantity"))
    )
    if any(q > ordered[i] - (shipped.get(i) or 0) for i, q in data.items):
        raise Refused("quantity")


def _unchanged(package: Package, data: PackageData) -> bool:
    items = sorted((i.order_item_id, i.quantity) for i in package.items.all())
    return (
        package.status != Package.Status.FAILED
        and package.carrier_code == data.carrier_code
        and package.carrier_name == data.for_amazon().carrier_name
        and package.shipping_method == data.shipping_method
        and package.tracking_number == data.tracking_number
        and package.ship_date == data.ship_date
        and items == sorted(data.items)
    )


def submit(
    order: Order, data: PackageData, source: str, *, user: User | None = None, key_prefix: str = ""
) -> tuple[Package, bool]:
    """Store the package (new, or an edit of the one with its reference) and enqueue its confirmation; returns it
    and whether it changed. Raises Refused, nothing stored and nothing sent."""
    check(order, data)
    reference = int(data.package_reference_id)
    with transaction.atomic():
        # One order's packages are checked one at a time: two packages may not both take the last item.
        Order.objects.select_for_update().filter(pk=order.pk).values_list("pk").first()
        _check_quantities(order, data, reference)
        package = (
            Package.objects.select_for_update().filter(order=order, package_reference_id=reference).first()
        )
        if package is not None and _unchanged(package, data):
            return package, False
        if package is None:
            package = Package(order=order, package_reference_id=reference, source=source, version=0)
        package.source = source
        package.created_by = user if user is not None else package.created_by
        package.api_key_prefix = key_prefix or package.api_key_prefix
        amazon_package = data.for_amazon()
        package.carrier_code = data.carrier_code
        package.carrier_name = amazon_package.carrier_name
        package.shipping_method = data.shipping_method
        package.tracking_number = data.tracking_number
        package.ship_date = data.ship_date
        package.status = Package.Status.PENDING
        package.problem = package.amazon_message = ""
        package.next_attempt_at = None
        package.version += 1
        package.save()
        package.items.all().delete()
        PackageItem.objects.bulk_create(
            [PackageItem(package=package, order_item_id=i, quantity=q) for i, q in data.items]
        )
        jobs.enqueue_confirmation(package.pk)
    return package, True
