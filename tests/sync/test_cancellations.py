"""Cancellations: a buyer's request (ORDER_CHANGE BuyerRequestedChange, or an item's cancellation request) and a
cancelled order are flagged on the order at once, shown in the API, and sent as webhook events; `order.cancelled`
only on the change that cancelled it."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any
from unittest import mock

import boto3
from django.core.cache import cache
from django.test import override_settings
from django.utils import timezone

from amazon import orders as api
from sandbox import api as sandbox_api
from sync import order_changes, order_state, tasks
from sync.models import Order
from tests.api.helpers import bearer, make_key
from tests.api.order_helpers import amazon_order, store_orders
from tests.base import BaseTestCase
from tests.sqs_server import shared_server
from tests.sync.helpers import US, SyncTestCase
from webhooks.models import ORDER_EVENTS, Endpoint, Event

ORDER_ID = "111-0000007-0000001"


def subscribe(tenant: Any) -> None:
    endpoint = Endpoint(tenant=tenant, url="https://hooks.example.com/portal", events=list(ORDER_EVENTS))
    endpoint.set_secret()
    endpoint.save()


def event_types() -> list[str]:
    return list(Event.objects.order_by("created_at", "id").values_list("type", flat=True))


@mock.patch("webhooks.events.async_task")
class CancelledEventTests(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        cache.clear()
        subscribe(self.tenant)

    def put(self, version: int, status: str) -> None:
        with self.captureOnCommitCallbacks(execute=True):
            store_orders(self.store, [amazon_order(ORDER_ID, version=version, status=status)])

    def test_order_cancelled_is_sent_once_on_the_change_that_cancels_and_later_changes_are_updates(
        self, _send: Any
    ) -> None:
        self.put(0, "UNSHIPPED")
        self.put(1, "CANCELLED")
        self.put(2, "CANCELLED")
        self.put(3, "CANCELLED")
        self.assertEqual(
            event_types(), ["order.created", "order.cancelled", "order.updated", "order.updated"]
        )

    def test_the_api_shows_when_the_order_was_cancelled_and_that_it_is(self, _send: Any) -> None:
        self.put(0, "UNSHIPPED")
        self.put(1, "CANCELLED")
        cancelled_at = amazon_order(ORDER_ID, version=1).last_updated
        self.put(2, "CANCELLED")
        key, secret = make_key(self.tenant, self.alice)
        body = self.client.get(f"/api/v1/orders/{ORDER_ID}/", **bearer(secret)).json()
        self.assertEqual(
            (body["cancelled"], body["cancelled_at"]), (True, cancelled_at.strftime("%Y-%m-%dT%H:%M:%SZ"))
        )
        self.assertFalse(body["cancel_requested"])
        self.assertTrue(order_state.is_cancelled(Order.objects.get()))

    def test_an_items_buyer_cancellation_request_flags_the_order_and_sends_order_updated(
        self, _send: Any
    ) -> None:
        self.put(0, "UNSHIPPED")
        doc = {
            "orderId": ORDER_ID, "createdTime": "2026-03-01T12:00:00Z", "lastUpdatedTime": "2026-03-02T12:00:00Z",
            "salesChannel": {"channelName": "AMAZON", "marketplaceId": US},
            "fulfillment": {"fulfillmentStatus": "UNSHIPPED"},
            "orderItems": [{
                "orderItemId": f"{ORDER_ID}-1", "quantityOrdered": 2, "product": {"sellerSku": "MUG-BLUE"},
                "cancellation": {"cancellationRequest": {"requester": "BUYER", "cancelReason": "Ordered by mistake"}},
            }],
        }  # fmt: skip
        order = api.parse_order(doc)
        self.assertTrue(order.cancel_requested)
        with self.captureOnCommitCallbacks(execute=True):
            store_orders(self.store, [order])
        stored = Order.objects.get()
        self.assertIsNotNone(stored.cancel_requested_at)
        self.assertTrue(order_state.cancel_requested(stored))
        self.assertFalse(order_state.is_cancelled(stored))
        self.assertEqual(event_types(), ["order.created", "order.updated"])
        key, secret = make_key(self.tenant, self.alice)
        self.assertTrue(
            self.client.get(f"/api/v1/orders/{ORDER_ID}/", **bearer(secret)).json()["cancel_requested"]
        )


class BuyerRequestedCancelNotificationTests(SyncTestCase):
    """Amazon's ORDER_CHANGE BuyerRequestedChange (OrderChangeNotification.json's own example) through a real
    SQS-protocol queue."""

    def setUp(self) -> None:
        super().setUp()
        server = shared_server()
        self.queue_url = server.new_queue()
        self.addCleanup(server.delete_queue, self.queue_url)
        self.enterContext(
            override_settings(
                AMAZON_NOTIFICATIONS_QUEUE_URL=self.queue_url,
                AWS_SQS_ENDPOINT_URL=server.endpoint_url,
                ORDER_CHANGE_NOTIFICATIONS=True,
            )
        )
        self.endpoint = server.endpoint_url
        subscribe(self.tenant)

    def notify(self, order_id: str, **change: Any) -> None:
        doc = {
            "NotificationVersion": "1.0", "NotificationType": "ORDER_CHANGE", "PayloadVersion": "1.0",
            "EventTime": "2026-12-01T00:00:00.000Z",
            "Payload": {"OrderChangeNotification": {
                "NotificationLevel": "OrderLevel", "SellerId": self.seller.selling_partner_id,
                "AmazonOrderId": order_id, "OrderChangeType": "BuyerRequestedChange",
                "OrderChangeTrigger": {"TimeOfOrderChange": "2026-12-01T00:00:00.000Z",
                                       "ChangeReason": "Buyer Requested Cancel"},
                "Summary": {"MarketplaceId": US, "OrderStatus": "Unshipped"},
                **change,
            }},
            "NotificationMetadata": {"NotificationId": f"n-{order_id}", "ApplicationId": "x", "SubscriptionId": "y"},
        }  # fmt: skip
        boto3.client("sqs", region_name="us-east-1", endpoint_url=self.endpoint).send_message(
            QueueUrl=self.queue_url, MessageBody=json.dumps(doc)
        )

    def test_a_buyers_cancellation_request_is_flagged_at_once_and_sent_as_order_updated(self) -> None:
        self.authorize_orders()
        with mock.patch("webhooks.events.async_task"):
            self.assertEqual(self.run_again(), "done")
        order = (
            Order.objects.filter(store=self.store, status="UNSHIPPED").first()
            or Order.objects.filter(store=self.store).first()
        )
        assert order is not None
        Event.objects.all().delete()
        self.notify(order.amazon_order_id)
        with (
            mock.patch("sync.jobs.async_task") as enqueue,
            mock.patch("webhooks.events.async_task"),
            self.captureOnCommitCallbacks(execute=True),
        ):
            order_changes.read()
        # Flagged while reading the queue, before the getOrder job runs.
        order.refresh_from_db()
        self.assertIsNotNone(order.cancel_requested_at)
        self.assertEqual(event_types(), ["order.updated"])
        [job] = enqueue.call_args_list
        self.assertEqual(job.args[1:], (self.store.pk, order.amazon_order_id, True))
        with mock.patch("webhooks.events.async_task"):
            tasks.load_notified_order(*job.args[1:])
        order.refresh_from_db()
        self.assertIsNotNone(order.cancel_requested_at)

    def test_a_request_for_an_order_not_stored_yet_is_flagged_when_the_job_stores_it(self) -> None:
        self.authorize_orders()
        since = timezone.now() - timedelta(days=3)
        order_id = sandbox_api.generated_orders(self.seller.selling_partner_id, [US], created_after=since)[
            0
        ].order_id
        self.notify(order_id)
        with mock.patch("sync.jobs.async_task") as enqueue, self.captureOnCommitCallbacks(execute=True):
            order_changes.read()
        self.assertFalse(Order.objects.filter(amazon_order_id=order_id).exists())
        [job] = enqueue.call_args_list
        with mock.patch("webhooks.events.async_task"):
            self.assertIn(tasks.load_notified_order(*job.args[1:]), ("stored", "updated"))
        self.assertIsNotNone(Order.objects.get(amazon_order_id=order_id).cancel_requested_at)

    def test_an_item_level_is_buyer_requested_cancel_counts_too(self) -> None:
        from amazon import notifications, sqs

        n = sqs.Notification(
            type=notifications.ORDER_CHANGE,
            payload={"OrderChangeNotification": {
                "SellerId": "A1", "AmazonOrderId": ORDER_ID, "OrderChangeType": "OrderStatusChange",
                "OrderChangeTrigger": {"TimeOfOrderChange": None, "ChangeReason": "Order Status Change"},
                "Summary": {"MarketplaceId": US, "OrderItems": [{"OrderItemId": "1", "IsBuyerRequestedCancel": True}]},
            }},
            metadata={},
        )  # fmt: skip
        change = notifications.parse_order_change(n)
        assert change is not None
        self.assertTrue(change.cancel_requested)
