"""The Notifications API as the sandbox plays it, and its ORDER_CHANGE notifications on a real SQS-protocol server.

Sources: notifications.json (github:amzn/selling-partner-api-models models/notifications-api-model, the fixture
copy) for the operations, who authorizes them and their usage plans; schemas/notifications/
OrderChangeNotification.json (also a fixture) for the document each change sends.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from functools import cache
from io import StringIO
from typing import Any
from unittest import mock

from django.core.management import CommandError, call_command
from django.db import connection
from django.test import TestCase, override_settings
from django.test.utils import CaptureQueriesContext
from jsonschema import Draft7Validator

from sandbox import api, applications, services
from sandbox import notifications as sandbox_notifications
from sandbox.models import SandboxApplication, SandboxOrder, SandboxSeller, SandboxSubscription
from tests.sandbox.helpers import CA, MODELS, US, assert_matches_model, listings_app, new_seller, orders_app
from tests.sqs_server import REGION, SqsServer, shared_server, sqs_queue

MODEL = "notifications.json"
DESTINATIONS = "/notifications/v1/destinations"
SUBSCRIPTION = "/notifications/v1/subscriptions/{notificationType}"
SUBSCRIPTION_BY_ID = "/notifications/v1/subscriptions/{notificationType}/{subscriptionId}"
SUBSCRIPTIONS = "/notifications/v1/subscriptions"
BASE = "/sandbox/na/sp"
ARN = "arn:aws:sqs:us-east-1:123456789012:portal-notifications"
NOTIFICATIONS_SCOPE = "sellingpartnerapi::notifications"
ROTATION_SCOPE = "sellingpartnerapi::client_credential:rotation"
STATUS = {"PENDING": "Pending", "UNSHIPPED": "Unshipped", "SHIPPED": "Shipped", "CANCELLED": "Canceled"}


@cache
def order_change_validator() -> Draft7Validator:
    schema = json.loads((MODELS / "OrderChangeNotification.json").read_text())
    return Draft7Validator(schema, format_checker=Draft7Validator.FORMAT_CHECKER)


def assert_order_change_document(message: dict[str, Any]) -> None:
    errors = [f"{list(e.path)}: {e.message}" for e in order_change_validator().iter_errors(message)]
    assert not errors, errors[:5]


class NotificationsTestCase(TestCase):
    """A frozen clock, a fresh queue on the real SQS-protocol server, a seller who authorized the orders app."""

    sqs: SqsServer

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls.sqs = shared_server()

    def setUp(self) -> None:
        api.set_time_scale(0)
        self.endpoint_url, self.queue_url = self.enterContext(sqs_queue(self.sqs))
        self.enterContext(
            override_settings(
                AWS_SQS_ENDPOINT_URL=self.endpoint_url,
                SANDBOX_NOTIFICATIONS_QUEUE_URL=self.queue_url,
                AWS_REGION=REGION,
            )
        )
        services.sync_applications()
        self.app = SandboxApplication.objects.get(application_id=orders_app()["app_id"])
        self.seller = new_seller("Notified Seller", marketplace_ids=[US, CA], orders_per_day=6)
        self.seller_token = self.token_for(self.seller)
        self.grantless = self.grantless_token()

    def token_for(self, seller: SandboxSeller, app: dict[str, Any] | None = None) -> str:
        return str(api.issue_tokens(seller, (app or orders_app())["client_id"])["access_token"])

    def grantless_token(self, scope: str = NOTIFICATIONS_SCOPE, app: dict[str, Any] | None = None) -> str:
        app = app or orders_app()
        response = self.client.post(
            "/sandbox/na/auth/o2/token",
            {
                "grant_type": "client_credentials",
                "scope": scope,
                "client_id": app["client_id"],
                "client_secret": app["client_secret"],
            },
        )
        assert response.status_code == 200, response.content
        return str(response.json()["access_token"])

    def call(self, method: str, path: str, token: str | None, body: Any = None) -> Any:
        headers = {} if token is None else {"HTTP_X_AMZ_ACCESS_TOKEN": token}
        data = json.dumps(body) if body is not None else ""
        return self.client.generic(method, BASE + path, data=data, content_type="application/json", **headers)

    def create_destination(self, token: str | None = None, arn: str = ARN) -> Any:
        return self.call(
            "POST",
            DESTINATIONS,
            self.grantless if token is None else token,
            {"name": "portal", "resourceSpecification": {"sqs": {"arn": arn}}},
        )

    def destination_id(self, token: str | None = None) -> str:
        response = self.create_destination(token)
        assert response.status_code == 200, response.content
        return str(response.json()["payload"]["destinationId"])

    def subscribe(self, token: str | None = None, destination_id: str | None = None, **extra: Any) -> Any:
        body = {"payloadVersion": "1.0", "destinationId": destination_id or self.destination_id(), **extra}
        return self.call(
            "POST",
            "/notifications/v1/subscriptions/ORDER_CHANGE",
            self.seller_token if token is None else token,
            body,
        )

    def assert_amazon_error(self, response: Any, status: int, code: str) -> dict[str, Any]:
        self.assertEqual(response.status_code, status, response.content)
        body = (
            assert_matches_model(MODEL, DESTINATIONS, "POST", response)
            if status in (400, 403, 404, 409, 429)
            else response.json()
        )
        self.assertEqual(body["errors"][0]["code"], code)
        self.assertIn("x-amzn-RequestId", response)
        return dict(body["errors"][0])

    def received(self) -> list[dict[str, Any]]:
        return [json.loads(m["Body"]) for m in self.sqs.receive(self.queue_url)]


class DestinationTests(NotificationsTestCase):
    def test_destinations_are_created_and_listed_with_a_grantless_notifications_token(self) -> None:
        response = self.create_destination()
        self.assertEqual(response.status_code, 200, response.content)
        created = assert_matches_model(MODEL, DESTINATIONS, "POST", response)["payload"]
        self.assertEqual((created["name"], created["resource"]["sqs"]["arn"]), ("portal", ARN))
        self.assertEqual(response["x-amzn-RateLimit-Limit"], "1")
        listed = self.call("GET", DESTINATIONS, self.grantless)
        self.assertEqual(assert_matches_model(MODEL, DESTINATIONS, "GET", listed)["payload"], [created])
        one = self.call("GET", f"{DESTINATIONS}/{created['destinationId']}", self.grantless)
        self.assertEqual(one.json()["payload"], created)

    def test_destinations_refuse_no_token_a_seller_token_and_another_scope(self) -> None:
        for token in (None, self.seller_token, self.grantless_token(ROTATION_SCOPE), "Atc|forged"):
            with self.subTest(token=(token or "")[:8]):
                self.assert_amazon_error(self.create_destination(token or ""), 403, "Unauthorized")
                self.assertEqual(self.call("GET", DESTINATIONS, token).status_code, 403)

    def test_the_same_arn_twice_is_a_conflict_and_a_bad_arn_is_invalid(self) -> None:
        self.destination_id()
        error = self.assert_amazon_error(self.create_destination(), 409, "Conflict")
        self.assertIn(ARN, error["details"])
        self.assert_amazon_error(
            self.create_destination(arn="https://sqs.us-east-1.amazonaws.com/1/q"), 400, "InvalidInput"
        )
        self.assert_amazon_error(
            self.call("POST", DESTINATIONS, self.grantless, {"name": "x"}), 400, "InvalidInput"
        )

    def test_another_applications_destinations_are_not_visible(self) -> None:
        destination_id = self.destination_id()
        other = self.grantless_token(app=listings_app())
        self.assertEqual(self.call("GET", DESTINATIONS, other).json()["payload"], [])
        self.assert_amazon_error(self.call("GET", f"{DESTINATIONS}/{destination_id}", other), 404, "NotFound")

    def test_a_destination_with_subscriptions_is_not_deleted_and_amazon_says_so_with_a_403(self) -> None:
        destination_id = self.destination_id()
        self.subscribe(destination_id=destination_id)
        # Amazon's answer (amzn/selling-partner-api-models issue #2113): 403 Unauthorized, "The requested action is
        # forbidden.", details "Destination has subscriptions"; the model's 403 is "access to the resource is
        # forbidden".
        refused = self.call("DELETE", f"{DESTINATIONS}/{destination_id}", self.grantless)
        error = self.assert_amazon_error(refused, 403, "Unauthorized")
        self.assertEqual(
            (error["message"], error["details"]),
            ("The requested action is forbidden.", "Destination has subscriptions"),
        )
        unused = self.create_destination(arn=ARN + "-2").json()["payload"]["destinationId"]
        deleted = self.call("DELETE", f"{DESTINATIONS}/{unused}", self.grantless)
        self.assertEqual((deleted.status_code, deleted.json()), (200, {}))
        listed = self.call("GET", DESTINATIONS, self.grantless).json()["payload"]
        self.assertEqual([d["destinationId"] for d in listed], [destination_id])

    def test_the_usage_plan_is_burst_five_per_application(self) -> None:
        statuses = [self.call("GET", DESTINATIONS, self.grantless).status_code for _ in range(6)]
        self.assertEqual(statuses, [200] * 5 + [429])
        other = self.grantless_token(app=listings_app())
        self.assertEqual(self.call("GET", DESTINATIONS, other).status_code, 200)
        api.advance_clock(1)
        self.assertEqual(self.call("GET", DESTINATIONS, self.grantless).status_code, 200)


class SubscriptionTests(NotificationsTestCase):
    def test_a_seller_subscribes_with_their_own_access_token(self) -> None:
        destination_id = self.destination_id()
        response = self.subscribe(destination_id=destination_id)
        self.assertEqual(response.status_code, 200, response.content)
        created = assert_matches_model(MODEL, SUBSCRIPTION, "POST", response)["payload"]
        self.assertEqual((created["payloadVersion"], created["destinationId"]), ("1.0", destination_id))
        got = self.call("GET", "/notifications/v1/subscriptions/ORDER_CHANGE", self.seller_token)
        self.assertEqual(assert_matches_model(MODEL, SUBSCRIPTION, "GET", got)["payload"], created)

    def test_a_grantless_token_cannot_subscribe_a_seller(self) -> None:
        destination_id = self.destination_id()
        for token in ("", self.grantless):
            with self.subTest(grantless=bool(token)):
                self.assertEqual(
                    self.subscribe(token=token or "", destination_id=destination_id).status_code, 403
                )
        self.assertFalse(SandboxSubscription.objects.exists())

    def test_one_subscription_per_seller_application_and_type(self) -> None:
        destination_id = self.destination_id()
        self.assertEqual(self.subscribe(destination_id=destination_id).status_code, 200)
        error = self.assert_amazon_error(self.subscribe(destination_id=destination_id), 409, "StateConflict")
        self.assertEqual(error["message"], "The resource specified conflicts with the current state.")
        other_seller = new_seller("Second Seller", marketplace_ids=[US])
        self.assertEqual(self.subscribe(self.token_for(other_seller), destination_id).status_code, 200)
        listings_destination = self.destination_id(self.grantless_token(app=listings_app()))
        listings_token = self.token_for(self.seller, listings_app())
        self.assertEqual(self.subscribe(listings_token, listings_destination).status_code, 200)
        self.assertEqual(SandboxSubscription.objects.count(), 3)

    def test_unknown_types_versions_and_destinations_are_invalid_input(self) -> None:
        destination_id = self.destination_id()
        bad = [
            self.call(
                "POST",
                "/notifications/v1/subscriptions/NO_SUCH_TYPE",
                self.seller_token,
                {"payloadVersion": "1.0", "destinationId": destination_id},
            ),
            self.subscribe(destination_id=destination_id, payloadVersion="2.0"),
            self.subscribe(destination_id="00000000-0000-0000-0000-000000000000"),
            self.subscribe(
                destination_id=destination_id,
                processingDirective={"eventFilter": {"eventFilterType": "ANY_OFFER_CHANGED"}},
            ),
        ]
        for response in bad:
            self.assert_amazon_error(response, 400, "InvalidInput")
        self.assertFalse(SandboxSubscription.objects.exists())

    def test_get_subscription_is_404_without_one(self) -> None:
        response = self.call("GET", "/notifications/v1/subscriptions/ORDER_CHANGE", self.seller_token)
        self.assert_amazon_error(response, 404, "NotFound")

    def test_get_subscriptions_lists_the_sellers_subscriptions_of_one_type(self) -> None:
        """getSubscriptions, GET /notifications/v1/subscriptions?notificationTypes=… (notifications.json): the caller's
        subscriptions of the type, under {"payload": {"subscriptions": [...]}}. Not a grantless operation (Amazon's
        "Grantless operations" table does not list it): the seller's access token."""
        created = self.subscribe().json()["payload"]
        listed = self.call("GET", f"{SUBSCRIPTIONS}?notificationTypes=ORDER_CHANGE", self.seller_token)
        self.assertEqual(listed.status_code, 200, listed.content)
        body = assert_matches_model(MODEL, SUBSCRIPTIONS, "GET", listed)
        self.assertEqual(body, {"payload": {"subscriptions": [created]}})
        self.assertEqual(listed["x-amzn-RateLimit-Limit"], "1")
        same = self.call(
            "GET",
            f"{SUBSCRIPTIONS}?notificationTypes=ORDER_CHANGE&payloadVersion=1.0&pageSize=100",
            self.seller_token,
        )
        self.assertEqual(same.json(), body)
        other = self.token_for(new_seller("Unsubscribed Seller", marketplace_ids=[US]))
        none = self.call("GET", f"{SUBSCRIPTIONS}?notificationTypes=ORDER_CHANGE", other)
        self.assertEqual(
            assert_matches_model(MODEL, SUBSCRIPTIONS, "GET", none), {"payload": {"subscriptions": []}}
        )
        self.assertEqual(
            self.call("GET", f"{SUBSCRIPTIONS}?notificationTypes=ORDER_CHANGE", self.grantless).status_code,
            403,
        )

    def test_get_subscriptions_refuses_what_the_model_does_not_allow(self) -> None:
        """notificationTypes is required, "limited to a single notification type per request" (minItems 1,
        maxItems 1); pageSize is 30 to 100 (notifications.json)."""
        for query in (
            "",
            "?notificationTypes=ORDER_CHANGE,ANY_OFFER_CHANGED",
            "?notificationTypes=ORDER_CHANGE&notificationTypes=ORDER_CHANGE",
            "?notificationTypes=NO_SUCH_TYPE",
            "?notificationTypes=ORDER_CHANGE&pageSize=29",
            "?notificationTypes=ORDER_CHANGE&pageSize=101",
            "?notificationTypes=ORDER_CHANGE&pageSize=many",
            "?notificationTypes=ORDER_CHANGE&nextToken=not-a-token",
        ):
            with self.subTest(query=query):
                api.advance_clock(1)  # a token back in the bucket (rate 1, burst 5)
                response = self.call("GET", SUBSCRIPTIONS + query, self.seller_token)
                self.assertEqual(response.status_code, 400, response.content)
                body = assert_matches_model(MODEL, SUBSCRIPTIONS, "GET", response)
                self.assertEqual(body["errors"][0]["code"], "InvalidInput")

    def test_a_seller_token_deletes_that_sellers_subscription_by_id_and_no_other(self) -> None:
        """Grantless per the model, and Amazon takes the seller's own token too (python-amazon-sp-api sends it;
        github:saleweaver/python-amazon-sp-api issue #373)."""
        created = self.subscribe().json()["payload"]
        path = f"/notifications/v1/subscriptions/ORDER_CHANGE/{created['subscriptionId']}"
        other = self.token_for(new_seller("Other Seller", marketplace_ids=[US]))
        self.assert_amazon_error(self.call("DELETE", path, other), 404, "NotFound")
        self.assertEqual(self.call("DELETE", path, "Atza|forged").status_code, 403)
        deleted = self.call("DELETE", path, self.seller_token)
        self.assertEqual((deleted.status_code, deleted.json()), (200, {}))
        self.assertFalse(SandboxSubscription.objects.exists())

    def test_by_id_the_subscription_is_read_and_deleted_grantless(self) -> None:
        created = self.subscribe().json()["payload"]
        path = f"/notifications/v1/subscriptions/ORDER_CHANGE/{created['subscriptionId']}"
        self.assertEqual(self.call("GET", path, self.seller_token).status_code, 403)
        got = self.call("GET", path, self.grantless)
        self.assertEqual(assert_matches_model(MODEL, SUBSCRIPTION_BY_ID, "GET", got)["payload"], created)
        deleted = self.call("DELETE", path, self.grantless)
        self.assertEqual((deleted.status_code, deleted.json()), (200, {}))
        self.assert_amazon_error(self.call("DELETE", path, self.grantless), 404, "NotFound")
        self.assertFalse(SandboxSubscription.objects.exists())


def expected_changes(seller: SandboxSeller, start: datetime, end: datetime) -> set[tuple[str, str]]:
    """(order id, Amazon status) of every change in (start, end], computed from the stored orders."""
    return {
        (order.order_id, STATUS[status])
        for order in SandboxOrder.objects.filter(seller=seller)
        for when, status in order.transitions()
        if start < when <= end
    }


def seconds_until_hour(now: datetime, hour: int) -> float:
    """Seconds from `now` to the next hour:00 UTC, to pin a test's sandbox clock to a time of day."""
    target = now.replace(hour=hour, minute=0, second=0, microsecond=0)
    if target <= now:
        target += timedelta(days=1)
    return (target - now).total_seconds()


def changes_of(messages: list[dict[str, Any]]) -> list[tuple[str, str]]:
    out = []
    for m in messages:
        change = m["Payload"]["OrderChangeNotification"]
        out.append((change["AmazonOrderId"], change["Summary"]["OrderStatus"]))
    return out


class DeliveryTests(NotificationsTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.assertEqual(self.subscribe().status_code, 200)
        self.subscription = SandboxSubscription.objects.get()
        self.subscribed_at = self.subscription.created_at

    def test_created_and_status_changed_orders_are_sent_exactly_once_per_change(self) -> None:
        first_at = api.advance_clock(timedelta(hours=20).total_seconds())
        sent_first = api.deliver_order_changes()
        first = self.received()
        self.assertEqual(sent_first, len(first))
        self.assertEqual(api.deliver_order_changes(), 0)  # nothing new at the same virtual time
        second_at = api.advance_clock(timedelta(days=2).total_seconds())
        api.deliver_order_changes()
        messages = first + self.received()
        changes = changes_of(messages)
        self.assertEqual(len(changes), len(set(changes)), "a change was sent twice")
        self.assertEqual(set(changes), expected_changes(self.seller, self.subscribed_at, second_at))
        self.assertEqual(set(changes_of(first)), expected_changes(self.seller, self.subscribed_at, first_at))
        self.assertTrue({"Pending", "Unshipped", "Shipped"} <= {status for _id, status in changes})
        for message in messages:
            assert_order_change_document(message)
            change = message["Payload"]["OrderChangeNotification"]
            self.assertEqual(change["SellerId"], self.seller.selling_partner_id)
            self.assertIn(change["Summary"]["MarketplaceId"], {US, CA})
            self.assertEqual(
                message["NotificationMetadata"]["SubscriptionId"], str(self.subscription.subscription_id)
            )
            self.assertEqual(message["NotificationMetadata"]["ApplicationId"], self.app.application_id)
        self.subscription.refresh_from_db()
        self.assertEqual(self.subscription.last_delivered_at, second_at)

    def test_the_document_matches_amazons_schema_and_the_order(self) -> None:
        api.advance_clock(timedelta(days=2).total_seconds())
        api.deliver_order_changes()
        message = next(
            m
            for m in self.received()
            if m["Payload"]["OrderChangeNotification"]["Summary"]["OrderStatus"] == "Shipped"
        )
        assert_order_change_document(message)
        change = message["Payload"]["OrderChangeNotification"]
        order = SandboxOrder.objects.get(order_id=change["AmazonOrderId"])
        self.assertEqual((message["NotificationType"], message["PayloadVersion"]), ("ORDER_CHANGE", "1.0"))
        self.assertEqual(
            (change["NotificationLevel"], change["OrderChangeType"]), ("OrderLevel", "OrderStatusChange")
        )
        self.assertEqual(
            change["OrderChangeTrigger"]["TimeOfOrderChange"], applications.amazon_time(order.shipped_at)
        )
        quantity = sum(int(i["quantity"]) for i in order.items)
        self.assertEqual(
            (change["Summary"]["NumberOfItemsShipped"], change["Summary"]["NumberOfItemsUnshipped"]),
            (quantity, 0),
        )
        self.assertEqual(
            [i["SellerSKU"] for i in change["Summary"]["OrderItems"]], [i["sku"] for i in order.items]
        )

    def test_nothing_from_before_the_subscription_is_sent(self) -> None:
        api.advance_clock(60)
        api.deliver_order_changes()
        for message in self.received():
            changed = message["Payload"]["OrderChangeNotification"]["OrderChangeTrigger"]["TimeOfOrderChange"]
            self.assertGreater(changed, applications.amazon_time(self.subscribed_at))
        self.assertTrue(
            SandboxOrder.objects.filter(seller=self.seller, created_time__lt=self.subscribed_at).exists()
        )

    def test_dropped_notifications_are_lost_and_duplicated_ones_arrive_twice_with_one_id(self) -> None:
        api.set_notification_faults(drop=0.3, duplicate=0.3, seed=7)
        end = api.advance_clock(timedelta(days=2).total_seconds())
        sent = api.deliver_order_changes()
        messages = self.received()
        self.assertEqual(sent, len(messages))
        expected = expected_changes(self.seller, self.subscribed_at, end)
        changes = changes_of(messages)
        arrived = set(changes)
        self.assertLess(len(arrived), len(expected))
        self.assertLessEqual(arrived, expected)
        twice = [c for c in arrived if changes.count(c) == 2]
        self.assertTrue(twice)
        ids = {}
        for message, change in zip(messages, changes, strict=True):
            ids.setdefault(change, set()).add(message["NotificationMetadata"]["NotificationId"])
        self.assertTrue(all(len(v) == 1 for v in ids.values()))
        # The same seed decides the same way; turning the faults off sends everything.
        self.assertEqual(api.deliver_order_changes(), 0)
        api.set_notification_faults(0, 0)
        api.advance_clock(timedelta(days=1).total_seconds())
        self.assertGreater(api.deliver_order_changes(), 0)
        later = changes_of(self.received())
        self.assertEqual(len(later), len(set(later)))

    def test_a_queue_that_refuses_moves_no_window_and_the_next_pass_sends_it_all(self) -> None:
        end = api.advance_clock(timedelta(hours=6).total_seconds())
        with (
            override_settings(SANDBOX_NOTIFICATIONS_QUEUE_URL=self.queue_url + "-missing"),
            self.assertRaises(applications.NotificationError),
        ):
            api.deliver_order_changes()
        self.subscription.refresh_from_db()
        self.assertIsNone(self.subscription.last_delivered_at)
        api.deliver_order_changes()
        self.assertEqual(
            set(changes_of(self.received())), expected_changes(self.seller, self.subscribed_at, end)
        )

    def test_a_deleted_subscription_or_a_revoked_seller_gets_nothing(self) -> None:
        api.revoke(self.seller, orders_app()["client_id"])
        api.advance_clock(timedelta(hours=6).total_seconds())
        self.assertEqual(api.deliver_order_changes(), 0)
        self.subscription.refresh_from_db()
        self.assertIsNotNone(self.subscription.last_delivered_at)
        SandboxSubscription.objects.all().delete()
        api.advance_clock(timedelta(hours=6).total_seconds())
        self.assertEqual(api.deliver_order_changes(), 0)
        self.assertEqual(self.received(), [])

    def test_an_order_change_type_filter_without_status_changes_gets_nothing(self) -> None:
        SandboxSubscription.objects.update(
            processing_directive={
                "eventFilter": {
                    "eventFilterType": "ORDER_CHANGE",
                    "orderChangeTypes": ["BuyerRequestedChange"],
                }
            }
        )
        api.advance_clock(timedelta(hours=6).total_seconds())
        self.assertEqual(api.deliver_order_changes(), 0)

    def queued(self) -> int:
        attributes = self.sqs.client().get_queue_attributes(
            QueueUrl=self.queue_url, AttributeNames=["ApproximateNumberOfMessages"]
        )
        return int(attributes["Attributes"]["ApproximateNumberOfMessages"])

    def test_a_pass_makes_a_few_queries_however_many_orders_changed(self) -> None:
        SandboxSeller.objects.filter(pk=self.seller.pk).update(orders_per_day=40)
        # The sandbox makes a seller's orders lazily, a UTC day at a time: a pass whose window reaches a day not
        # made yet makes it first (a few writes per marketplace, however many orders). The clock starts at the real
        # now, so pin it to 01:00: the first pass makes every day the measured pass (01:00 to 13:00) reads, at any
        # hour the suite runs.
        api.advance_clock(seconds_until_hour(api.now(), 1))
        api.advance_clock(timedelta(days=1).total_seconds())
        api.deliver_order_changes()  # generates the days
        api.advance_clock(timedelta(hours=12).total_seconds())
        with CaptureQueriesContext(connection) as busy:
            sent = api.deliver_order_changes()
        self.assertGreater(sent, 40)
        with CaptureQueriesContext(connection) as idle:
            self.assertEqual(api.deliver_order_changes(), 0)
        self.assertLessEqual(len(busy), 10, [q["sql"][:80] for q in busy.captured_queries])
        self.assertLessEqual(len(idle), 3)

    def test_changes_go_in_batches_of_ten(self) -> None:
        SandboxSeller.objects.filter(pk=self.seller.pk).update(orders_per_day=50)
        calls: list[int] = []
        real = applications._sqs

        def counting() -> Any:
            client = real()
            original = client.send_message_batch

            def batch(**kwargs: Any) -> Any:
                calls.append(len(kwargs["Entries"]))
                return original(**kwargs)

            client.send_message_batch = batch
            return client

        api.advance_clock(timedelta(hours=12).total_seconds())
        with mock.patch.object(applications, "_sqs", counting):
            sent = api.deliver_order_changes()
        self.assertGreater(sent, 40)
        self.assertEqual(sum(calls), sent)
        self.assertEqual(len(calls), -(-sent // 10))
        self.assertEqual(self.queued(), sent)


class NotifierCommandTests(NotificationsTestCase):
    def test_once_delivers_one_pass_and_sets_the_faults_given(self) -> None:
        self.subscribe()
        api.advance_clock(timedelta(hours=6).total_seconds())
        out = StringIO()
        call_command("sandbox_notifier", "--once", "--drop", "0.5", "--seed", "3", stdout=out)
        sent = int(out.getvalue().split()[0])
        self.assertEqual(len(self.received()), sent)
        from sandbox import faults

        self.assertEqual(faults.delivery_faults(), faults.DeliveryFaults(0.5, 0.0, 3))

    def test_it_refuses_to_run_without_an_active_sandbox_or_with_bad_knobs(self) -> None:
        with override_settings(SANDBOX_ACTIVE=False), self.assertRaises(CommandError):
            call_command("sandbox_notifier", "--once")
        with self.assertRaises(CommandError):
            call_command("sandbox_notifier", "--once", "--duplicate", "1.5")

    def test_it_stops_cleanly_on_sigterm(self) -> None:
        import os
        import signal
        import threading
        import time

        default = signal.getsignal(signal.SIGTERM)

        def terminate_once_the_command_listens() -> None:
            deadline = time.monotonic() + 20
            while signal.getsignal(signal.SIGTERM) == default and time.monotonic() < deadline:
                time.sleep(0.01)
            time.sleep(0.1)
            if signal.getsignal(signal.SIGTERM) != default:  # never the default handler: it would end the run
                os.kill(os.getpid(), signal.SIGTERM)

        threading.Thread(target=terminate_once_the_command_listens, daemon=True).start()
        out = StringIO()
        call_command("sandbox_notifier", "--interval", "0.05", stdout=out)
        self.assertIn("Stopped", out.getvalue())


class ModuleTests(TestCase):
    def test_an_order_change_document_names_every_status_amazon_knows(self) -> None:
        self.assertLessEqual(
            set(sandbox_notifications.ORDER_STATUS.values()),
            set(
                json.loads((MODELS / "OrderChangeNotification.json").read_text())["properties"]["Payload"][
                    "properties"
                ]["OrderChangeNotification"]["properties"]["Summary"]["properties"]["OrderStatus"]["enum"]
            ),
        )
