"""The portal's Notifications API client (amazon/notifications.py) and the notification parsing of amazon/sqs.py.

Against the sandbox (through the portal's own HTTP wrapper, routed by tests/sandbox_http.py), against Amazon's
documented answers (`responses`), and on Amazon's example ORDER_CHANGE document (the schema's `examples`).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import responses
from django.test import SimpleTestCase, TestCase, override_settings

from amazon import lwa, notifications, sqs
from amazon.notifications import NotificationsApiError, OrderChange
from sandbox import api, services
from tests.sandbox.helpers import MODELS, US, new_seller, orders_app
from tests.sandbox_http import SANDBOX_BASE, sandbox_http
from tests.sqs_server import REGION, shared_server, sqs_queue

SP = f"{SANDBOX_BASE}/na/sp"
AMAZON = "https://sellingpartnerapi-na.amazon.com"
ARN = "arn:aws:sqs:us-east-1:123456789012:portal-notifications"


def amazon_example() -> dict:
    return json.loads((MODELS / "OrderChangeNotification.json").read_text())["examples"][0]


class ClientAgainstTheSandboxTests(TestCase):
    def setUp(self) -> None:
        api.set_time_scale(0)
        services.sync_applications()
        self.enterContext(sandbox_http())
        app = orders_app()
        self.grantless = lwa.grantless(
            f"{SANDBOX_BASE}/na/auth/o2/token",
            lwa.Client(app["client_id"], app["client_secret"]),
            notifications.NOTIFICATIONS_SCOPE,
        ).access_token
        self.seller = new_seller("Client Seller", marketplace_ids=[US])
        self.seller_token = api.issue_tokens(self.seller, app["client_id"])["access_token"]

    def test_a_destination_is_created_and_listed_with_a_grantless_token(self) -> None:
        destination = notifications.create_destination(SP, self.grantless, "portal", ARN)
        self.assertEqual((destination.name, destination.sqs_arn), ("portal", ARN))
        self.assertTrue(destination.destination_id)
        self.assertEqual(notifications.get_destinations(SP, self.grantless), [destination])

    def test_a_second_destination_for_the_same_arn_raises_conflict(self) -> None:
        notifications.create_destination(SP, self.grantless, "portal", ARN)
        with self.assertRaises(NotificationsApiError) as raised:
            notifications.create_destination(SP, self.grantless, "again", ARN)
        self.assertEqual((raised.exception.kind, raised.exception.status), ("conflict", 409))

    def test_a_subscription_is_created_read_and_deleted(self) -> None:
        destination = notifications.create_destination(SP, self.grantless, "portal", ARN)
        created = notifications.create_subscription(
            SP, self.seller_token, notifications.ORDER_CHANGE, destination.destination_id
        )
        self.assertEqual(
            (created.payload_version, created.destination_id), ("1.0", destination.destination_id)
        )
        self.assertEqual(notifications.get_subscription(SP, self.seller_token, "ORDER_CHANGE"), created)
        by_id = notifications.get_subscription_by_id(
            SP, self.grantless, "ORDER_CHANGE", created.subscription_id
        )
        self.assertEqual(by_id, created)
        notifications.delete_subscription_by_id(SP, self.grantless, "ORDER_CHANGE", created.subscription_id)
        with self.assertRaises(NotificationsApiError) as raised:
            notifications.get_subscription(SP, self.seller_token, "ORDER_CHANGE")
        self.assertEqual(raised.exception.kind, "not_found")

    def test_a_second_subscription_raises_conflict_and_subscribe_reads_the_existing_one(self) -> None:
        destination_id = notifications.create_destination(SP, self.grantless, "portal", ARN).destination_id
        first, created = notifications.subscribe(SP, self.seller_token, "ORDER_CHANGE", destination_id)
        self.assertTrue(created)
        with self.assertRaises(NotificationsApiError) as raised:
            notifications.create_subscription(SP, self.seller_token, "ORDER_CHANGE", destination_id)
        self.assertEqual((raised.exception.kind, raised.exception.code), ("conflict", "StateConflict"))
        again, created = notifications.subscribe(SP, self.seller_token, "ORDER_CHANGE", destination_id)
        self.assertEqual((again, created), (first, False))

    def test_the_wrong_token_is_unauthorized(self) -> None:
        with self.assertRaises(NotificationsApiError) as raised:
            notifications.create_destination(SP, self.seller_token, "portal", ARN)
        self.assertEqual(raised.exception.kind, "unauthorized")
        destination_id = notifications.create_destination(SP, self.grantless, "portal", ARN).destination_id
        with self.assertRaises(NotificationsApiError) as raised:
            notifications.create_subscription(SP, self.grantless, "ORDER_CHANGE", destination_id)
        self.assertEqual(raised.exception.kind, "unauthorized")

    def test_an_order_change_from_the_sandbox_queue_is_parsed(self) -> None:
        endpoint_url, queue_url = self.enterContext(sqs_queue(shared_server()))
        self.enterContext(
            override_settings(
                AWS_SQS_ENDPOINT_URL=endpoint_url,
                SANDBOX_NOTIFICATIONS_QUEUE_URL=queue_url,
                AWS_REGION=REGION,
            )
        )
        destination_id = notifications.create_destination(SP, self.grantless, "portal", ARN).destination_id
        subscription = notifications.create_subscription(
            SP, self.seller_token, "ORDER_CHANGE", destination_id
        )
        api.advance_clock(timedelta(hours=12).total_seconds())
        sent = api.deliver_order_changes()
        received: list[sqs.Notification] = []
        self.assertEqual(sqs.drain(queue_url, received.append), sent)
        changes = [notifications.parse_order_change(n) for n in received]
        self.assertTrue(changes)
        for change in changes:
            assert change is not None
            self.assertEqual((change.seller_id, change.marketplace_id), (self.seller.selling_partner_id, US))
            self.assertIn(change.order_status, {"Pending", "Unshipped", "Shipped", "Canceled"})
            self.assertIsNotNone(change.changed_at)
        self.assertEqual({n.metadata["SubscriptionId"] for n in received}, {subscription.subscription_id})


class ClientAgainstAmazonsAnswersTests(SimpleTestCase):
    def test_a_409_state_conflict_is_kind_conflict(self) -> None:
        # The answer reported in github:amzn/selling-partner-api-docs issue #1564.
        body = {
            "errors": [
                {
                    "code": "StateConflict",
                    "message": "The resource specified conflicts with the current state.",
                }
            ]
        }
        with responses.RequestsMock() as rsps:
            rsps.post(f"{AMAZON}/notifications/v1/subscriptions/ORDER_CHANGE", json=body, status=409)
            with self.assertRaises(NotificationsApiError) as raised:
                notifications.create_subscription(AMAZON, "Atza|seller", "ORDER_CHANGE", "dest-1")
            sent = json.loads(rsps.calls[0].request.body)
            self.assertEqual(rsps.calls[0].request.headers["x-amz-access-token"], "Atza|seller")
        self.assertEqual(sent, {"payloadVersion": "1.0", "destinationId": "dest-1"})
        self.assertEqual((raised.exception.kind, raised.exception.status), ("conflict", 409))

    def test_a_processing_directive_is_sent_and_read_back(self) -> None:
        directive = {
            "eventFilter": {"eventFilterType": "ORDER_CHANGE", "orderChangeTypes": ["OrderStatusChange"]}
        }
        payload = {
            "subscriptionId": "s-1",
            "payloadVersion": "1.0",
            "destinationId": "d-1",
            "processingDirective": directive,
        }
        with responses.RequestsMock() as rsps:
            rsps.post(f"{AMAZON}/notifications/v1/subscriptions/ORDER_CHANGE", json={"payload": payload})
            got = notifications.create_subscription(
                AMAZON, "t", "ORDER_CHANGE", "d-1", processing_directive=directive
            )
            self.assertEqual(json.loads(rsps.calls[0].request.body)["processingDirective"], directive)
        self.assertEqual(got, notifications.Subscription("s-1", "1.0", "d-1", directive))

    def test_an_answer_without_a_payload_is_a_bad_response(self) -> None:
        with responses.RequestsMock() as rsps:
            rsps.get(f"{AMAZON}/notifications/v1/destinations", json={"payload": {"not": "a list"}})
            with self.assertRaises(NotificationsApiError) as raised:
                notifications.get_destinations(AMAZON, "t")
        self.assertEqual(raised.exception.kind, "bad_response")

    def test_throttling_and_outages_keep_their_kinds(self) -> None:
        for status, kind in ((429, "throttled"), (503, "server_error"), (403, "unauthorized")):
            with self.subTest(status=status), responses.RequestsMock() as rsps:
                rsps.delete(
                    f"{AMAZON}/notifications/v1/subscriptions/ORDER_CHANGE/s-1",
                    json={"errors": []},
                    status=status,
                )
                with self.assertRaises(NotificationsApiError) as raised:
                    notifications.delete_subscription_by_id(AMAZON, "t", "ORDER_CHANGE", "s-1")
                self.assertEqual(raised.exception.kind, kind)


class ParseTests(SimpleTestCase):
    def test_parse_order_change_reads_amazons_example_document(self) -> None:
        n = sqs.parse(json.dumps(amazon_example()))
        assert n is not None
        self.assertEqual(
            notifications.parse_order_change(n),
            OrderChange(
                seller_id="A3TH9S8BH6GOGM",
                amazon_order_id="903-8868176-2219830",
                marketplace_id="ATVPDKIKX0DER",
                order_status="Unshipped",
                change_type="BuyerRequestedChange",
                changed_at=datetime(2022, 11, 29, 19, 42, 4, 284000, tzinfo=UTC),
                notification_id="d0e9e693-c3ad-4373-979f-ed4ec98dd746",
                # The example is a buyer's cancellation request: ChangeReason "Buyer Requested Cancel".
                cancel_requested=True,
            ),
        )

    def test_parse_reads_the_capitalized_and_the_camel_case_keys(self) -> None:
        capitalized = sqs.parse(json.dumps(amazon_example()))
        assert capitalized is not None
        self.assertEqual(capitalized.type, "ORDER_CHANGE")
        self.assertIn("OrderChangeNotification", capitalized.payload)
        self.assertEqual(
            capitalized.metadata["SubscriptionId"], "subscription-id-d0e9e693-c3ad-4373-979f-ed4ec98dd746"
        )
        camel = sqs.parse(
            json.dumps(
                {
                    "notificationType": "APPLICATION_OAUTH_CLIENT_NEW_SECRET",
                    "payload": {"applicationOAuthClientNewSecret": {"clientId": "c"}},
                    "notificationMetadata": {"notificationId": "n-1"},
                }
            )
        )
        self.assertEqual(
            camel,
            sqs.Notification(
                "APPLICATION_OAUTH_CLIENT_NEW_SECRET",
                {"applicationOAuthClientNewSecret": {"clientId": "c"}},
                {"notificationId": "n-1"},
            ),
        )

    def test_parse_refuses_what_is_not_a_notification(self) -> None:
        for body in ("", "not json", "[]", '{"Payload": {}}', '{"NotificationType": 3}'):
            with self.subTest(body=body):
                self.assertIsNone(sqs.parse(body))

    def test_parse_order_change_ignores_other_types_and_documents_without_an_order(self) -> None:
        other = sqs.Notification("ANY_OFFER_CHANGED", {"OrderChangeNotification": {}}, {})
        self.assertIsNone(notifications.parse_order_change(other))
        example = amazon_example()
        del example["Payload"]["OrderChangeNotification"]["AmazonOrderId"]
        n = sqs.parse(json.dumps(example))
        assert n is not None
        self.assertIsNone(notifications.parse_order_change(n))

    def test_a_null_time_of_change_is_none(self) -> None:
        example = amazon_example()
        example["Payload"]["OrderChangeNotification"]["OrderChangeTrigger"]["TimeOfOrderChange"] = None
        n = sqs.parse(json.dumps(example))
        assert n is not None
        change = notifications.parse_order_change(n)
        assert change is not None
        self.assertIsNone(change.changed_at)
