"""ORDER_CHANGE notifications through a real SQS-protocol queue: subscribed on authorization, orders stored from
the notification before any poll, and the poll still confirms (a lost or repeated notification loses or duplicates
no order)."""

from __future__ import annotations

import json
from typing import Any
from unittest import mock

import boto3
from django.test import override_settings
from django.urls import reverse

from amazon import notifications
from authorizations.models import Authorization
from sandbox import api as sandbox_api
from sandbox.models import SandboxSubscription
from stores.models import Store
from sync import order_changes, tasks
from sync.models import NotificationDestination, Order, OrderChangeSubscription
from tests.sqs_server import shared_server
from tests.sync.helpers import CA, US, SyncTestCase


class OrderChangeTests(SyncTestCase):
    def setUp(self) -> None:
        super().setUp()
        server = shared_server()
        self.queue_url = server.new_queue()
        self.addCleanup(server.delete_queue, self.queue_url)
        self.enterContext(
            override_settings(
                AMAZON_NOTIFICATIONS_QUEUE_URL=self.queue_url,
                SANDBOX_NOTIFICATIONS_QUEUE_URL=self.queue_url,
                AWS_SQS_ENDPOINT_URL=server.endpoint_url,
                ORDER_CHANGE_NOTIFICATIONS=True,
            )
        )
        self.endpoint = server.endpoint_url

    def authorize_and_subscribe(self) -> Authorization:
        with mock.patch("sync.jobs.async_task") as enqueue, self.captureOnCommitCallbacks(execute=True):
            auth = self.authorize_orders()
        funcs = [c.args[0] for c in enqueue.call_args_list]
        self.assertIn("sync.tasks.subscribe_order_changes", funcs)
        self.assertEqual(tasks.subscribe_order_changes(self.store.pk), "subscribed")
        return auth

    def read_and_load(self) -> list[str]:
        """What the sync loop does with the queue, then the load tasks it enqueued, run here."""
        with mock.patch("sync.jobs.async_task") as enqueue, self.captureOnCommitCallbacks(execute=True):
            order_changes.read()
        results = []
        for c in enqueue.call_args_list:
            self.assertEqual(c.args[0], "sync.tasks.load_notified_order")
            results.append(tasks.load_notified_order(*c.args[1:]))
        return results

    def stored(self) -> set[str]:
        return set(Order.objects.filter(store=self.store).values_list("amazon_order_id", flat=True))

    def at_amazon(self) -> set[str]:
        return {
            o.order_id
            for o in sandbox_api.generated_orders(
                self.seller.selling_partner_id, [US, CA], created_after=self.state().backfill_from
            )
        }

    def test_authorizing_order_loading_subscribes_the_seller_once_to_our_queue(self) -> None:
        auth = self.authorize_and_subscribe()
        sub = OrderChangeSubscription.objects.get(selling_partner_id=auth.selling_partner_id)
        self.assertEqual(sub.status, OrderChangeSubscription.Status.ACTIVE)
        at_sandbox = SandboxSubscription.objects.get(seller=self.seller, notification_type="ORDER_CHANGE")
        self.assertEqual(sub.subscription_id, str(at_sandbox.subscription_id))
        self.assertEqual(NotificationDestination.objects.get(region="NA").destination_id, sub.destination_id)
        # A second authorization (re-authorizing, a second store) finds the subscription: Amazon's 409 is read.
        self.assertEqual(tasks.subscribe_order_changes(self.store.pk), "subscribed")
        self.assertEqual(SandboxSubscription.objects.filter(seller=self.seller).count(), 1)
        self.assertEqual(OrderChangeSubscription.objects.get().subscription_id, sub.subscription_id)

    def test_new_orders_are_stored_from_their_notifications_before_any_poll(self) -> None:
        self.authorize_and_subscribe()
        tasks.sync_orders(self.store.pk)  # the backfill
        before = self.stored()
        self.assertEqual(before, self.at_amazon())
        sandbox_api.advance_clock(86400)
        self.assertGreater(sandbox_api.deliver_order_changes(), 0)
        results = self.read_and_load()
        new = self.at_amazon() - before
        self.assertTrue(new)
        self.assertEqual(self.stored(), before | new)
        self.assertIn("stored", results)
        self.assertEqual(self.state().orders_loaded, len(before | new))

    def test_a_lost_notification_loses_no_order_the_poll_brings_it(self) -> None:
        self.authorize_and_subscribe()
        tasks.sync_orders(self.store.pk)
        sandbox_api.set_notification_faults(drop=1.0)
        sandbox_api.advance_clock(86400)
        sandbox_api.deliver_order_changes()
        self.assertEqual(self.read_and_load(), [])
        self.assertNotEqual(self.stored(), self.at_amazon())
        self.make_due()
        self.assertEqual(tasks.sync_orders(self.store.pk), "done")
        self.assertEqual(self.stored(), self.at_amazon())

    def test_a_repeated_notification_duplicates_no_order(self) -> None:
        self.authorize_and_subscribe()
        tasks.sync_orders(self.store.pk)
        sandbox_api.set_notification_faults(duplicate=1.0)
        sandbox_api.advance_clock(86400)
        sandbox_api.deliver_order_changes()
        results = self.read_and_load()
        self.assertIn("unchanged", results)  # the second copy of each notification
        rows = Order.objects.filter(store=self.store)
        # getOrder's burst (30) may run out on the second copies: what it could not load waits for the poll.
        self.assertLessEqual(rows.count(), len(self.at_amazon()))
        self.assertEqual(rows.count(), rows.values("amazon_order_id").distinct().count())
        self.assertEqual(self.state().orders_loaded, rows.count())
        self.make_due()
        tasks.sync_orders(self.store.pk)
        self.assertEqual(Order.objects.filter(store=self.store).count(), len(self.at_amazon()))

    def test_a_forged_notification_stores_nothing_amazon_does_not_confirm(self) -> None:
        """Whoever could write to the queue can only make us ask Amazon: getOrder under the store's own grant."""
        self.authorize_and_subscribe()
        tasks.sync_orders(self.store.pk)
        before = self.stored()
        other = sandbox_api.create_seller("Mallory's Amazon", "NA", [US], orders_per_day=50)
        theirs = next(
            iter(
                sandbox_api.generated_orders(
                    other.selling_partner_id, [US], created_after=self.state().backfill_from
                )
            )
        )
        self.send(self.forged(self.seller.selling_partner_id, theirs.order_id, US))
        self.send(self.forged(self.seller.selling_partner_id, "111-0000000-0000000", US))
        self.send(self.forged(other.selling_partner_id, theirs.order_id, US))  # a seller of no store here
        self.send("not json at all")
        self.assertEqual(self.read_and_load(), ["not_loaded", "not_loaded"])
        self.assertEqual(self.stored(), before)

    def forged(self, seller_id: str, order_id: str, marketplace_id: str) -> str:
        doc: dict[str, Any] = {
            "NotificationVersion": "1.0",
            "NotificationType": "ORDER_CHANGE",
            "PayloadVersion": "1.0",
            "EventTime": "2026-12-01T00:00:00.000Z",
            "Payload": {
                "OrderChangeNotification": {
                    "NotificationLevel": "OrderLevel",
                    "SellerId": seller_id,
                    "AmazonOrderId": order_id,
                    "OrderChangeType": "OrderStatusChange",
                    "OrderChangeTrigger": {"TimeOfOrderChange": "2026-12-01T00:00:00.000Z"},
                    "Summary": {"MarketplaceId": marketplace_id, "OrderStatus": "Unshipped"},
                }
            },
            "NotificationMetadata": {
                "NotificationId": "forged-1",
                "ApplicationId": "x",
                "SubscriptionId": "y",
            },
        }
        return json.dumps(doc)

    def send(self, body: str) -> None:
        boto3.client("sqs", region_name="us-east-1", endpoint_url=self.endpoint).send_message(
            QueueUrl=self.queue_url, MessageBody=body
        )

    def test_a_refused_subscription_is_recorded_and_order_loading_keeps_polling(self) -> None:
        self.authorize_orders()
        sandbox_api.set_fault("notifications", "http500")
        self.assertEqual(tasks.subscribe_order_changes(self.store.pk), "failed")
        sub = OrderChangeSubscription.objects.get()
        self.assertEqual(sub.status, OrderChangeSubscription.Status.FAILED)
        self.assertTrue(sub.detail)
        sandbox_api.clear_faults()
        self.assertEqual(tasks.sync_orders(self.store.pk), "done")
        self.assertEqual(self.stored(), self.at_amazon())
        self.assertEqual(tasks.subscribe_order_changes(self.store.pk), "subscribed")
        self.assertEqual(OrderChangeSubscription.objects.get().status, OrderChangeSubscription.Status.ACTIVE)

    def test_the_store_page_says_whether_new_orders_arrive_within_seconds_or_minutes(self) -> None:
        self.authorize_orders()
        self.login(self.alice)
        page = self.client.get(reverse("stores:detail", args=[self.store.code]))
        self.assertContains(page, "order notifications are being set up")
        sandbox_api.set_fault("notifications", "http500")
        tasks.subscribe_order_changes(self.store.pk)
        page = self.client.get(reverse("stores:detail", args=[self.store.code]))
        self.assertContains(page, "could not be set up")
        sandbox_api.clear_faults()
        tasks.subscribe_order_changes(self.store.pk)
        page = self.client.get(reverse("stores:detail", args=[self.store.code]))
        self.assertContains(page, "Within seconds")

    def test_the_daily_pass_subscribes_sellers_whose_subscription_failed_once_per_seller(self) -> None:
        self.authorize_orders()
        sandbox_api.set_fault("notifications", "http500")
        tasks.subscribe_order_changes(self.store.pk)
        sandbox_api.clear_faults()
        with mock.patch("sync.jobs.async_task") as enqueue, self.captureOnCommitCallbacks(execute=True):
            self.assertEqual(tasks.subscribe_missing_order_changes(), 1)
        self.assertEqual(enqueue.call_args.args, ("sync.tasks.subscribe_order_changes", self.store.pk))
        tasks.subscribe_order_changes(self.store.pk)
        self.assertEqual(tasks.subscribe_missing_order_changes(), 0)

    def test_an_access_token_that_lapsed_at_amazon_is_renewed_once_for_the_subscription(self) -> None:
        auth = self.authorize_orders()
        tasks.sync_orders(self.store.pk)  # the access token of this hour is cached
        sandbox_api.advance_clock(2 * 3600)  # it lapsed at Amazon; the cache still holds it
        self.assertEqual(tasks.subscribe_order_changes(self.store.pk), "subscribed")
        auth.refresh_from_db()
        self.assertEqual(auth.status, "authorized")

    def test_a_refusal_with_a_fresh_token_fails_the_subscription_but_not_the_authorization(self) -> None:
        auth = self.authorize_orders()
        refused = notifications.NotificationsApiError(
            "unauthorized", "Access to requested resource is denied.", 403
        )
        with mock.patch("amazon.notifications.subscribe", side_effect=refused) as call:
            self.assertEqual(tasks.subscribe_order_changes(self.store.pk), "failed")
        self.assertEqual(call.call_count, 2)
        auth.refresh_from_db()
        self.assertEqual(auth.status, "authorized")
        self.assertEqual(OrderChangeSubscription.objects.get().status, OrderChangeSubscription.Status.FAILED)

    def test_an_unverified_claim_of_a_seller_id_never_rewrites_its_verified_subscription(self) -> None:
        """Another tenant's orders-only store claiming our seller id (unverified) subscribes its own grant; what it
        records must not replace the subscription our verified store made."""
        auth = self.authorize_orders()
        Store.objects.filter(pk=self.store.pk).update(
            selling_partner_id=auth.selling_partner_id, selling_partner_verified=True
        )
        self.assertEqual(tasks.subscribe_order_changes(self.store.pk), "subscribed")
        mine = OrderChangeSubscription.objects.get()
        self.assertTrue(mine.verified)
        Store.objects.filter(pk=self.store.pk).update(selling_partner_verified=False)  # as the other store is
        sandbox_api.set_fault("notifications", "http500")
        self.assertEqual(tasks.subscribe_order_changes(self.store.pk), "failed")
        after = OrderChangeSubscription.objects.get()
        self.assertEqual(
            (after.status, after.subscription_id, after.verified), ("active", mine.subscription_id, True)
        )
