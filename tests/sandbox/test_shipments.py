"""confirmShipment (Orders API v0) in the sandbox over HTTP: validation, partial and full shipments, edits by package
reference, Amazon's error shape, the usage plan and fault injection; and the portal's own clients against it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from django.test import TestCase

from amazon import orders as orders_client
from amazon import shipments
from amazon.endpoints import for_region
from sandbox import api
from sandbox.models import SandboxOrder
from tests.sandbox.helpers import CA, DE, US, assert_matches_model, connect, new_seller
from tests.sandbox_http import sandbox_http

CONFIRM_OP = ("ordersV0.json", "/orders/v0/orders/{orderId}/shipmentConfirmation", "post")
GET_OP = ("orders_2026-01-01.json", "/orders/2026-01-01/orders/{orderId}", "get")
# Two items of known ids and quantities, so no test depends on what the generator drew for the day.
ITEMS = [
    {"orderItemId": "11111111110001", "sku": "SKU-A", "asin": "B000000001", "title": "A", "quantity": 2,
     "unitPrice": "10.00"},
    {"orderItemId": "11111111110002", "sku": "SKU-B", "asin": "B000000002", "title": "B", "quantity": 1,
     "unitPrice": "5.00"},
]  # fmt: skip
ITEM_A, ITEM_B = ITEMS[0]["orderItemId"], ITEMS[1]["orderItemId"]


def iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class ShipmentTestCase(TestCase):
    def setUp(self) -> None:
        api.set_time_scale(0)
        self.seller = new_seller("Ship Seller", marketplace_ids=[US, CA], orders_per_day=4)
        self.token = connect(self.client, self.seller)["access_token"]
        self.now = api.now()
        self.order = self.unshipped_order()

    def unshipped_order(self, index: int = 0) -> SandboxOrder:
        """A generated US order made UNSHIPPED now, with ITEMS (4 orders a day are generated: 3 days hold 12)."""
        order = list(
            api.generated_orders(
                self.seller.selling_partner_id, [US], created_after=self.now - timedelta(days=3)
            )
        )[index]
        order.unshipped_at = min(order.created_time + timedelta(minutes=30), self.now)
        order.shipped_at = order.cancelled_at = None
        order.items = [dict(item) for item in ITEMS]
        order.save()
        return order

    def package(self, **changes: Any) -> dict[str, Any]:
        detail: dict[str, Any] = {
            "packageReferenceId": "1",
            "carrierCode": "UPS",
            "shippingMethod": "Ground",
            "trackingNumber": "1Z86V8030385598957",
            "shipDate": iso(self.now - timedelta(hours=1)),
            "orderItems": [{"orderItemId": ITEM_A, "quantity": 2}, {"orderItemId": ITEM_B, "quantity": 1}],
        }
        detail.update(changes)
        return {"marketplaceId": US, "packageDetail": detail}

    def confirm(self, body: Any, order_id: str = "", token: str | None = None) -> Any:
        return self.client.post(
            f"/sandbox/na/sp/orders/v0/orders/{order_id or self.order.order_id}/shipmentConfirmation",
            body,
            content_type="application/json",
            HTTP_X_AMZ_ACCESS_TOKEN=self.token if token is None else token,
        )

    def refused(self, response: Any, status: int = 400, code: str = "InvalidInput") -> str:
        """The error as the model's ConfirmShipmentErrorResponse; returns its message."""
        self.assertEqual(response.status_code, status, response.content)
        body = assert_matches_model(*CONFIRM_OP, response)
        self.assertEqual(body["errors"][0]["code"], code)
        return str(body["errors"][0]["message"])

    def get_order(self) -> dict[str, Any]:
        response = self.client.get(
            f"/sandbox/na/sp/orders/2026-01-01/orders/{self.order.order_id}",
            {"includedData": "FULFILLMENT"},
            HTTP_X_AMZ_ACCESS_TOKEN=self.token,
        )
        self.assertEqual(response.status_code, 200, response.content)
        return dict(assert_matches_model(*GET_OP, response)["order"])


class ConfirmShipmentTests(ShipmentTestCase):
    def test_a_whole_order_in_one_package_answers_204_and_the_order_reads_shipped(self) -> None:
        self.assertEqual(self.get_order()["fulfillment"]["fulfillmentStatus"], "UNSHIPPED")
        response = self.confirm(self.package())
        self.assertEqual(response.status_code, 204, response.content)
        self.assertEqual(response.content, b"")
        self.assertEqual(response["x-amzn-RateLimit-Limit"], "2")
        self.assertTrue(response["x-amzn-RequestId"])
        order = self.get_order()
        self.assertEqual(order["fulfillment"]["fulfillmentStatus"], "SHIPPED")
        self.assertEqual(order["lastUpdatedTime"], iso(self.now))
        self.assertEqual([i["fulfillment"]["quantityFulfilled"] for i in order["orderItems"]], [2, 1])

    def test_a_partial_package_makes_the_order_partially_shipped_and_the_rest_shipped(self) -> None:
        first = self.package(orderItems=[{"orderItemId": ITEM_A, "quantity": 1}])
        self.assertEqual(self.confirm(first).status_code, 204)
        order = self.get_order()
        self.assertEqual(order["fulfillment"]["fulfillmentStatus"], "PARTIALLY_SHIPPED")
        self.assertEqual([i["fulfillment"]["quantityFulfilled"] for i in order["orderItems"]], [1, 0])
        self.assertEqual([i["fulfillment"]["quantityUnfulfilled"] for i in order["orderItems"]], [1, 1])

        rest = self.package(
            packageReferenceId="2",
            trackingNumber="1Z0000000000000002",
            orderItems=[{"orderItemId": ITEM_A, "quantity": 1}, {"orderItemId": ITEM_B, "quantity": 1}],
        )
        self.assertEqual(self.confirm(rest).status_code, 204)
        self.assertEqual(self.get_order()["fulfillment"]["fulfillmentStatus"], "SHIPPED")
        packages = api.confirmed_packages(self.order.order_id)
        self.assertEqual([p.package_reference_id for p in packages], ["1", "2"])
        self.assertEqual([p.requests for p in packages], [1, 1])

    def test_the_next_search_by_last_update_finds_the_shipped_order(self) -> None:
        since = self.now - timedelta(seconds=1)
        api.advance_clock(60)
        self.token = connect(self.client, self.seller)["access_token"]
        self.assertEqual(self.confirm(self.package()).status_code, 204)
        api.advance_clock(180)  # searchOrders' upper bound is two minutes before the request
        self.token = connect(self.client, self.seller)["access_token"]
        response = self.client.get(
            "/sandbox/na/sp/orders/2026-01-01/orders",
            {"marketplaceIds": US, "lastUpdatedAfter": iso(since), "includedData": "FULFILLMENT"},
            HTTP_X_AMZ_ACCESS_TOKEN=self.token,
        )
        found = {o["orderId"]: o for o in response.json()["orders"]}
        self.assertEqual(found[self.order.order_id]["fulfillment"]["fulfillmentStatus"], "SHIPPED")

    def test_the_same_package_reference_edits_the_package_instead_of_adding_one(self) -> None:
        self.assertEqual(self.confirm(self.package()).status_code, 204)
        edited = self.package(carrierCode="FedEx", trackingNumber="999999999999")
        self.assertEqual(self.confirm(edited).status_code, 204)
        [package] = api.confirmed_packages(self.order.order_id)
        self.assertEqual(
            (package.carrier_code, package.tracking_number, package.requests), ("FedEx", "999999999999", 2)
        )
        self.assertEqual(self.get_order()["fulfillment"]["fulfillmentStatus"], "SHIPPED")

    def test_an_edit_that_takes_items_out_makes_a_shipped_order_partial_again(self) -> None:
        self.assertEqual(self.confirm(self.package()).status_code, 204)
        smaller = self.package(orderItems=[{"orderItemId": ITEM_B, "quantity": 1}])
        self.assertEqual(self.confirm(smaller).status_code, 204)
        self.assertEqual(self.get_order()["fulfillment"]["fulfillmentStatus"], "PARTIALLY_SHIPPED")

    def test_other_is_accepted_with_the_carriers_name_and_refused_without(self) -> None:
        message = self.refused(self.confirm(self.package(carrierCode="Other")))
        self.assertIn("CarrierName", message)
        response = self.confirm(self.package(carrierCode="Other", carrierName="Yun Express"))
        self.assertEqual(response.status_code, 204, response.content)
        self.assertEqual(api.confirmed_packages(self.order.order_id)[0].carrier_name, "Yun Express")

    def test_jp_cash_on_delivery_and_amazons_empty_example_value_are_accepted(self) -> None:
        body = {**self.package(), "codCollectionMethod": ""}
        self.assertEqual(self.confirm(body).status_code, 204)
        body = {**self.package(), "codCollectionMethod": "Cash"}
        self.assertIn("codCollectionMethod", self.refused(self.confirm(body)))


class RefusalTests(ShipmentTestCase):
    def test_a_carrier_code_not_on_amazons_list_or_in_other_case_is_refused_by_name(self) -> None:
        for code in ("Fedx", "fedex", "UPS "):
            with self.subTest(code=code):
                message = self.refused(self.confirm(self.package(carrierCode=code)))
                self.assertIn("CarrierCode", message)
        self.assertFalse(api.confirmed_packages(self.order.order_id).exists())

    def test_an_item_of_another_order_is_refused_with_amazons_message(self) -> None:
        body = self.package(orderItems=[{"orderItemId": "99999999990001", "quantity": 1}])
        message = self.refused(self.confirm(body))
        self.assertEqual(
            message,
            "OrderItemId 99999999990001 is invalid, please obtain the value through the getOrderItems API or "
            "Manage Orders page",
        )

    def test_more_than_is_left_to_ship_is_refused_and_counts_the_other_packages(self) -> None:
        self.assertIn(
            "Quantity 3",
            self.refused(self.confirm(self.package(orderItems=[{"orderItemId": ITEM_A, "quantity": 3}]))),
        )
        self.assertEqual(
            self.confirm(self.package(orderItems=[{"orderItemId": ITEM_A, "quantity": 1}])).status_code, 204
        )
        second = self.package(packageReferenceId="2", orderItems=[{"orderItemId": ITEM_A, "quantity": 2}])
        self.assertIn("1 of the 2 ordered are left", self.refused(self.confirm(second)))
        self.assertEqual(self.get_order()["fulfillment"]["fulfillmentStatus"], "PARTIALLY_SHIPPED")

    def test_a_new_package_for_a_fully_shipped_order_is_refused_with_amazons_message(self) -> None:
        self.assertEqual(self.confirm(self.package()).status_code, 204)
        message = self.refused(self.confirm(self.package(packageReferenceId="2")))
        self.assertEqual(message, shipments_sandbox_already_fulfilled())

    def test_an_order_shipped_without_packages_has_nothing_left_to_ship(self) -> None:
        SandboxOrder.objects.filter(pk=self.order.pk).update(shipped_at=self.now - timedelta(minutes=1))
        self.assertEqual(self.refused(self.confirm(self.package())), shipments_sandbox_already_fulfilled())

    def test_a_cancelled_order_is_refused(self) -> None:
        SandboxOrder.objects.filter(pk=self.order.pk).update(cancelled_at=self.now - timedelta(minutes=1))
        self.assertIn("canceled", self.refused(self.confirm(self.package())))
        self.assertFalse(api.confirmed_packages(self.order.order_id).exists())
        self.assertEqual(self.get_order()["fulfillment"]["fulfillmentStatus"], "CANCELLED")

    def test_a_pending_order_is_not_ready_for_shipment(self) -> None:
        SandboxOrder.objects.filter(pk=self.order.pk).update(unshipped_at=self.now + timedelta(minutes=5))
        self.assertIn("not ready for shipment", self.refused(self.confirm(self.package())))

    def test_an_unknown_order_is_404_not_found(self) -> None:
        message = self.refused(self.confirm(self.package(), order_id="111-0000000-0000000"), 404, "NotFound")
        self.assertEqual(message, "Order 111-0000000-0000000 was not found.")

    def test_the_marketplace_must_be_the_orders(self) -> None:
        self.assertIn("MarketplaceId", self.refused(self.confirm({**self.package(), "marketplaceId": CA})))
        self.refused(self.confirm({**self.package(), "marketplaceId": DE}), 403, "Unauthorized")
        self.assertIn(
            "marketplaceId", self.refused(self.confirm({"packageDetail": self.package()["packageDetail"]}))
        )

    def test_a_package_reference_that_is_not_a_positive_number_is_refused_with_amazons_message(self) -> None:
        for reference in ("abc", "0", "-1", "", None, "1.5"):
            with self.subTest(reference=reference):
                message = self.refused(self.confirm(self.package(packageReferenceId=reference)))
                self.assertEqual(message, "PackageReferenceId: is invalid, must be a positive numeric value.")

    def test_a_ship_date_not_in_iso_8601_is_refused_as_in_the_models_example(self) -> None:
        self.assertIn("shipDate", self.refused(self.confirm(self.package(shipDate="02/21/2022"))))

    def test_required_fields_and_shapes(self) -> None:
        for changes in ({"trackingNumber": ""}, {"orderItems": []}, {"orderItems": [{"orderItemId": ITEM_A}]},
                        {"orderItems": [{"orderItemId": ITEM_A, "quantity": 0}]}, {"carrierCode": None}):  # fmt: skip
            with self.subTest(changes=changes):
                self.refused(self.confirm(self.package(**changes)))
        self.refused(self.confirm(self.package(trackingNumber="1Z\u0000")))
        self.refused(self.confirm("[1, 2]"))
        self.refused(self.confirm("{not json"))
        self.refused(self.confirm({"marketplaceId": US}))

    def test_only_post_is_served(self) -> None:
        response = self.client.get(
            f"/sandbox/na/sp/orders/v0/orders/{self.order.order_id}/shipmentConfirmation",
            HTTP_X_AMZ_ACCESS_TOKEN=self.token,
        )
        self.assertEqual(response.status_code, 405)

    def test_without_a_token_or_with_a_revoked_grant_access_is_denied(self) -> None:
        self.refused(self.confirm(self.package(), token=""), 403, "Unauthorized")
        from tests.sandbox.helpers import orders_app

        api.revoke(self.seller, orders_app()["app_id"])
        self.refused(self.confirm(self.package()), 403, "Unauthorized")
        self.assertFalse(api.confirmed_packages(self.order.order_id).exists())


def shipments_sandbox_already_fulfilled() -> str:
    # Amazon's words (github:amzn/selling-partner-api-models issue #5037).
    return "Failed to create package due to not finding a matching package or order already fulfilled."


class UsagePlanAndFaultTests(ShipmentTestCase):
    def test_a_burst_of_ten_is_served_and_the_eleventh_is_throttled_until_a_token_refills(self) -> None:
        # ordersV0.json confirmShipment: rate 2 per second, burst 10. Each request here edits the same package.
        for n in range(10):
            self.assertEqual(self.confirm(self.package()).status_code, 204, n)
        response = self.confirm(self.package())
        self.refused(response, 429, "QuotaExceeded")
        # The model's 429 declares x-amzn-RequestId only: no usage plan on a throttled answer.
        self.assertNotIn("x-amzn-RateLimit-Limit", response)
        self.assertEqual(api.confirmed_packages(self.order.order_id)[0].requests, 10)
        api.advance_clock(0.5)
        self.assertEqual(self.confirm(self.package()).status_code, 204)

    def test_injected_faults_hit_confirmations_only(self) -> None:
        api.set_fault("shipments", "http500")
        self.refused(self.confirm(self.package()), 500, "InternalFailure")
        api.set_fault("shipments", "storm429")
        self.refused(self.confirm(self.package()), 429, "QuotaExceeded")
        self.assertEqual(self.get_order()["fulfillment"]["fulfillmentStatus"], "UNSHIPPED")
        self.assertFalse(api.confirmed_packages(self.order.order_id).exists())
        api.clear_faults()
        self.assertEqual(self.confirm(self.package()).status_code, 204)


class PortalClientsTests(ShipmentTestCase):
    """The portal's clients (amazon/shipments.py, amazon/orders.py) against the sandbox, through HTTP."""

    def test_partial_then_full_shipment_reads_back_through_the_orders_client(self) -> None:
        first = shipments.Package(
            package_reference_id="1",
            carrier_code="Other",
            carrier_name="Yun Express",
            tracking_number="YT000000001",
            ship_date=self.now - timedelta(hours=2),
            items=(shipments.ShippedItem(ITEM_A, 1),),
        )
        rest = shipments.Package(
            package_reference_id="2",
            carrier_code="USPS",
            shipping_method="Priority Mail",
            tracking_number="9400100000000000000000",
            ship_date=self.now - timedelta(hours=1),
            items=(shipments.ShippedItem(ITEM_A, 1), shipments.ShippedItem(ITEM_B, 1)),
        )
        with sandbox_http():
            base = for_region("NA").sp_api
            confirmed = shipments.confirm_shipment(base, self.token, self.order.order_id, US, first)
            partial = orders_client.get_order(base, self.token, self.order.order_id)
            shipments.confirm_shipment(base, self.token, self.order.order_id, US, rest)
            shipped = orders_client.get_order(base, self.token, self.order.order_id)
        self.assertEqual(confirmed, shipments.Confirmed(self.order.order_id, "1", 2.0))
        self.assertEqual(partial.status, "PARTIALLY_SHIPPED")
        self.assertEqual(shipped.status, "SHIPPED")
        self.assertEqual(shipped.last_updated, self.now.replace(microsecond=0))

    def test_the_sandboxs_refusals_reach_the_client_as_named_problems(self) -> None:
        def package(**changes: Any) -> shipments.Package:
            fields: dict[str, Any] = {
                "package_reference_id": "1",
                "carrier_code": "UPS",
                "tracking_number": "1Z1",
                "ship_date": self.now,
                "items": (shipments.ShippedItem(ITEM_A, 1),),
            }
            return shipments.Package(**{**fields, **changes})

        cases = [
            (package(carrier_code="Fedx"), US, "carrier"),
            (package(items=(shipments.ShippedItem("99999999990001", 1),)), US, "order_item"),
            (package(items=(shipments.ShippedItem(ITEM_A, 5),)), US, "quantity"),
            (package(), CA, "marketplace"),
        ]
        with sandbox_http():
            base = for_region("NA").sp_api
            for sent, marketplace, problem in cases:
                with self.subTest(problem=problem), self.assertRaises(shipments.ShipmentError) as caught:
                    shipments.confirm_shipment(base, self.token, self.order.order_id, marketplace, sent)
                self.assertEqual((caught.exception.status, caught.exception.code), (400, "InvalidInput"))
                self.assertEqual(caught.exception.problem, problem)
                self.assertFalse(caught.exception.retryable)
            SandboxOrder.objects.filter(pk=self.order.pk).update(cancelled_at=self.now - timedelta(minutes=1))
            with self.assertRaises(shipments.ShipmentError) as caught:
                shipments.confirm_shipment(base, self.token, self.order.order_id, US, package())
            self.assertEqual(caught.exception.problem, "order_canceled")
            api.set_fault("shipments", "storm429")
            with self.assertRaises(shipments.ShipmentError) as caught:
                shipments.confirm_shipment(base, self.token, self.order.order_id, US, package())
            self.assertEqual((caught.exception.kind, caught.exception.problem), ("throttled", "throttled"))
            self.assertTrue(caught.exception.retryable)
