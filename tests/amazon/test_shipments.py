"""The portal's confirmShipment client (amazon/shipments.py) against Amazon's documented shapes (`responses`): the
request body validated with the model's ConfirmShipmentRequest (tests/fixtures/amazon-models/ordersV0.json), 204
without a body, and Amazon's error answers turned into named problems with reasons in words."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import requests
import responses
from django.test import SimpleTestCase
from django.utils import translation
from jsonschema import Draft4Validator

from amazon import shipments
from amazon.carriers import CARRIER_CODES, OTHER, is_carrier_code
from amazon.shipments import Package, ShipmentError, ShippedItem
from tests.sandbox.helpers import _registry

AMAZON = "https://sellingpartnerapi-na.amazon.com"
ORDER = "902-1106328-1059050"  # the order of the model's own example
URL = f"{AMAZON}/orders/v0/orders/{ORDER}/shipmentConfirmation"
SHIPPED = datetime(2022, 2, 11, 1, 0, tzinfo=UTC)


def package(**changes: Any) -> Package:
    fields: dict[str, Any] = {
        "package_reference_id": "1",
        "carrier_code": "FedEx",
        "tracking_number": "112345678",
        "ship_date": SHIPPED,
        "items": (ShippedItem("79039765272157", 1),),
        "shipping_method": "FedEx Ground",
    }
    return Package(**{**fields, **changes})


def amazon_error(status: int, code: str, message: str, **headers: str) -> responses.Response:
    return responses.Response(
        "POST",
        URL,
        status=status,
        json={"errors": [{"code": code, "message": message, "details": ""}]},
        headers=headers,
    )


def confirm(sent: Package | None = None, **kwargs: Any) -> shipments.Confirmed:
    return shipments.confirm_shipment(
        AMAZON, "Atza|token", ORDER, "ATVPDKIKX0DER", sent or package(), **kwargs
    )


class RequestTests(SimpleTestCase):
    @responses.activate
    def test_the_request_follows_the_models_confirm_shipment_request_and_204_is_confirmed(self) -> None:
        responses.add("POST", URL, status=204, headers={"x-amzn-RateLimit-Limit": "2.0"})
        confirmed = confirm()
        self.assertEqual(confirmed, shipments.Confirmed(ORDER, "1", 2.0))
        [call] = responses.calls
        self.assertEqual(call.request.headers["x-amz-access-token"], "Atza|token")
        sent = json.loads(call.request.body)
        errors = list(
            Draft4Validator(
                {"$ref": "ordersV0.json#/definitions/ConfirmShipmentRequest"},
                registry=_registry(),
                format_checker=Draft4Validator.FORMAT_CHECKER,
            ).iter_errors(sent)
        )
        self.assertEqual(errors, [])
        # The model's own example request, less what the portal has no use for (shipFromSupplySourceId,
        # transparencyCodes, and carrierName, only needed with Other).
        self.assertEqual(
            sent,
            {
                "marketplaceId": "ATVPDKIKX0DER",
                "packageDetail": {
                    "packageReferenceId": "1",
                    "carrierCode": "FedEx",
                    "shippingMethod": "FedEx Ground",
                    "trackingNumber": "112345678",
                    "shipDate": "2022-02-11T01:00:00Z",
                    "orderItems": [{"orderItemId": "79039765272157", "quantity": 1}],
                },
            },
        )

    @responses.activate
    def test_other_sends_the_carriers_name_and_the_ship_date_goes_in_utc(self) -> None:
        responses.add("POST", URL, status=204)
        china = timezone(timedelta(hours=8))
        confirm(
            package(
                carrier_code=OTHER,
                carrier_name="Yun Express",
                ship_date=datetime(2022, 2, 11, 9, 0, tzinfo=china),
            ),
            cod_collection_method="DirectPayment",
        )
        sent = json.loads(responses.calls[0].request.body)
        self.assertEqual(sent["packageDetail"]["carrierName"], "Yun Express")
        self.assertEqual(sent["packageDetail"]["shipDate"], "2022-02-11T01:00:00Z")
        self.assertEqual(sent["codCollectionMethod"], "DirectPayment")

    @responses.activate
    def test_a_package_that_breaks_the_model_is_refused_before_anything_is_sent(self) -> None:
        cases = {
            "package_reference": package(package_reference_id="A1"),
            "carrier_name": package(carrier_code=OTHER),
            "carrier": package(carrier_code=" "),
            "tracking_number": package(tracking_number=""),
            "ship_date": package(ship_date=datetime(2022, 2, 11, 1, 0)),
            "order_item": package(items=(ShippedItem("1", 1), ShippedItem("1", 1))),
            "quantity": package(items=(ShippedItem("1", 0),)),
        }
        for problem, sent in cases.items():
            with self.subTest(problem=problem), self.assertRaises(ShipmentError) as caught:
                confirm(sent)
            self.assertEqual((caught.exception.kind, caught.exception.problem), ("invalid", problem))
            self.assertIsNone(caught.exception.status)
        self.assertEqual(len(responses.calls), 0)

    @responses.activate
    def test_a_connection_dropped_after_sending_is_tried_once_more_because_a_resend_only_edits_the_package(
        self,
    ) -> None:
        responses.add("POST", URL, body=requests.exceptions.ConnectionError("Connection reset by peer"))
        responses.add("POST", URL, status=204)
        self.assertEqual(confirm().package_reference_id, "1")
        self.assertEqual(len(responses.calls), 2)

    @responses.activate
    def test_a_2xx_other_than_204_is_not_taken_for_a_confirmation(self) -> None:
        responses.add("POST", URL, status=200, json={})
        with self.assertRaises(ShipmentError) as caught:
            confirm()
        self.assertEqual(caught.exception.kind, "bad_response")
        self.assertTrue(caught.exception.retryable)


class ErrorTests(SimpleTestCase):
    def refused(self, answer: responses.Response) -> ShipmentError:
        with responses.RequestsMock() as mock:
            mock.add(answer)
            with self.assertRaises(ShipmentError) as caught:
                confirm()
        return caught.exception

    def test_amazons_400_messages_are_named_by_the_field_they_are_about(self) -> None:
        # Amazon's own messages (github:jlevers/selling-partner-api #528 and #489, amzn/selling-partner-api-models
        # #5037) and the sandbox's.
        cases = {
            "OrderItemId  is invalid, please obtain the value through the getOrderItems API or Manage Orders page": (
                "order_item"
            ),
            "PackageReferenceId: is invalid, must be a positive numeric value.": "package_reference",
            "Failed to create package due to not finding a matching package or order already fulfilled.": (
                "already_shipped"
            ),
            "Quantity 3 for OrderItemId 1 is invalid: 1 of the 2 ordered are left to ship.": "quantity",
            "CarrierCode 'Fedx' is invalid: use a carrier code listed in Seller Central exactly": "carrier",
            'CarrierName: is required when CarrierCode is "Other".': "carrier_name",
            "Order 1 was canceled: a canceled order cannot be confirmed as shipped.": "order_canceled",
            "Invalid Input": "invalid",  # the model's own example of a 400
        }
        for message, problem in cases.items():
            with self.subTest(message=message):
                error = self.refused(
                    amazon_error(400, "InvalidInput", message, **{"x-amzn-RateLimit-Limit": "2"})
                )
                self.assertEqual((error.kind, error.status, error.code), ("invalid", 400, "InvalidInput"))
                self.assertEqual(error.message, message)
                self.assertEqual(error.problem, problem)
                self.assertFalse(error.retryable)

    def test_statuses_name_their_problem_and_whether_to_send_again(self) -> None:
        cases = [
            (403, "Unauthorized", "unauthorized", False),
            (404, "NotFound", "order_not_found", False),
            (429, "QuotaExceeded", "throttled", True),
            (500, "InternalFailure", "unavailable", True),
            (503, "ServiceUnavailable", "unavailable", True),
        ]
        for status, code, problem, retryable in cases:
            with self.subTest(status=status):
                error = self.refused(amazon_error(status, code, "x"))
                self.assertEqual((error.status, error.code, error.problem), (status, code, problem))
                self.assertEqual(error.retryable, retryable)

    def test_every_problem_has_a_reason_and_what_to_do_in_english_and_chinese(self) -> None:
        error = self.refused(amazon_error(400, "InvalidInput", "CarrierCode 'X' is invalid"))
        self.assertEqual(str(error.reason), "Amazon does not accept this carrier code.")
        with translation.override("zh-hans"):
            self.assertNotEqual(str(error.reason), "Amazon does not accept this carrier code.")
            for problem, (reason, what_to_do) in shipments.REASONS.items():
                with self.subTest(problem=problem):
                    self.assertTrue(any("\u4e00" <= c <= "\u9fff" for c in str(reason)), problem)
                    self.assertTrue(any("\u4e00" <= c <= "\u9fff" for c in str(what_to_do)), problem)


class CarrierCodeTests(SimpleTestCase):
    def test_codes_are_compared_exactly_as_amazon_does(self) -> None:
        self.assertTrue(is_carrier_code("FedEx"))
        self.assertTrue(is_carrier_code("Royal Mail"))
        self.assertFalse(is_carrier_code("FEDEX"))
        self.assertFalse(is_carrier_code("fedex"))
        self.assertEqual(len(CARRIER_CODES), len(set(CARRIER_CODES)))
        self.assertIn(OTHER, CARRIER_CODES)
