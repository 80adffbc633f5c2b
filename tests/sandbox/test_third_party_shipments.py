"""python-amazon-sp-api (`sp_api`, a third-party client, not ours), unmodified, confirms shipments against the sandbox.

Its Orders v0 client's `confirm_shipment` posts the body it is given to POST /orders/v0/orders/{orderId}/
shipmentConfirmation, as Amazon's model declares (tests/fixtures/amazon-models/ordersV0.json); the router of
test_third_party_client.py hands the request to the sandbox's views. What it proves: a real client gets from the
sandbox what it gets from Amazon (204 without a body, the error list its exceptions read, 429 as its throttling
exception), and the order it reads back afterwards has moved.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sp_api.api import Orders, OrdersVersion
from sp_api.base import SellingApiBadRequestException, SellingApiRequestThrottledException

from sandbox import api
from sandbox.models import SandboxOrder
from tests.sandbox.helpers import US, orders_app
from tests.sandbox.test_third_party_client import ThirdPartyClientTestCase, iso

ITEMS = [
    {"orderItemId": "22222222220001", "sku": "SKU-A", "asin": "B000000001", "title": "A", "quantity": 2,
     "unitPrice": "10.00"},
]  # fmt: skip
ITEM = ITEMS[0]["orderItemId"]


class ThirdPartyConfirmShipmentTests(ThirdPartyClientTestCase):
    def setUp(self) -> None:
        super().setUp()
        api.set_time_scale(0)
        app = orders_app()
        refresh_token = self.refresh_token(app)
        self.v0 = self.sp_client(Orders, app, refresh_token, version=OrdersVersion.V0)
        self.current = self.sp_client(Orders, app, refresh_token, version=OrdersVersion.V_2026_01_01)
        self.now = api.now()
        order = api.generated_orders(
            self.seller.selling_partner_id, [US], created_after=self.now - timedelta(days=3)
        ).first()
        assert order is not None
        order.unshipped_at = min(order.created_time + timedelta(minutes=30), self.now)
        order.shipped_at = order.cancelled_at = None
        order.items = [dict(item) for item in ITEMS]
        order.save()
        self.order = order

    def detail(self, reference: str, quantity: int, **changes: Any) -> dict[str, Any]:
        return {
            "packageReferenceId": reference,
            "carrierCode": "UPS",
            "carrierName": "UPS",
            "shippingMethod": "SHIPPING",
            "trackingNumber": f"1Z86V803038559895{reference}",
            "shipDate": iso(self.now - timedelta(hours=1)),
            "orderItems": [{"orderItemId": ITEM, "quantity": quantity}],
            **changes,
        }

    def status(self) -> str:
        response = self.current.get_order(self.order.order_id, includedData=["FULFILLMENT"])
        return str(response.payload["order"]["fulfillment"]["fulfillmentStatus"])

    def test_the_library_confirms_a_partial_then_the_last_package_and_reads_the_order_back(self) -> None:
        path = f"/orders/v0/orders/{self.order.order_id}/shipmentConfirmation"
        self.v0.confirm_shipment(self.order.order_id, marketplaceId=US, packageDetail=self.detail("1", 1))
        [call] = self.router.to(path)
        self.assertEqual(call.status, 204, str(call))
        self.assertEqual(call.method, "POST")
        self.assertEqual(self.status(), "PARTIALLY_SHIPPED")

        self.v0.confirm_shipment(self.order.order_id, marketplaceId=US, packageDetail=self.detail("2", 1))
        self.assertEqual([c.status for c in self.router.to(path)], [204, 204])
        self.assertEqual(self.status(), "SHIPPED")
        self.assertEqual(
            [p.package_reference_id for p in api.confirmed_packages(self.order.order_id)], ["1", "2"]
        )

    def test_the_librarys_exceptions_carry_the_sandboxs_refusals(self) -> None:
        cases = [
            (self.detail("1", 1, carrierCode="Fedx"), "CarrierCode"),
            (self.detail("1", 1, orderItems=[{"orderItemId": "1", "quantity": 1}]), "OrderItemId"),
            (self.detail("1", 3), "Quantity 3"),
        ]
        for detail, words in cases:
            with self.subTest(words=words), self.assertRaises(SellingApiBadRequestException) as caught:
                self.v0.confirm_shipment(self.order.order_id, marketplaceId=US, packageDetail=detail)
            self.assertEqual(caught.exception.amzn_code, "InvalidInput")
            self.assertIn(words, caught.exception.message)
        SandboxOrder.objects.filter(pk=self.order.pk).update(cancelled_at=self.now - timedelta(minutes=1))
        with self.assertRaises(SellingApiBadRequestException) as caught:
            self.v0.confirm_shipment(self.order.order_id, marketplaceId=US, packageDetail=self.detail("1", 1))
        self.assertIn("canceled", caught.exception.message)

    def test_a_burst_past_ten_is_the_librarys_throttling_exception(self) -> None:
        for _ in range(10):
            self.v0.confirm_shipment(self.order.order_id, marketplaceId=US, packageDetail=self.detail("1", 1))
        with self.assertRaises(SellingApiRequestThrottledException) as caught:
            self.v0.confirm_shipment(self.order.order_id, marketplaceId=US, packageDetail=self.detail("1", 1))
        self.assertEqual(caught.exception.amzn_code, "QuotaExceeded")
        [package] = api.confirmed_packages(self.order.order_id)
        self.assertEqual(package.requests, 10)
