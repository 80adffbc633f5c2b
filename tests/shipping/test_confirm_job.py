"""The confirm job (shipping/tasks.py) against the sandbox: faults, claims, Amazon's refusals, the webhook events."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any
from unittest import mock

from django.test import override_settings
from django.utils import timezone

from authorizations.models import Authorization, AuthStatus
from sandbox import api as sandbox_api
from sandbox.models import SandboxOrder, SandboxShipment
from shipping import tasks
from shipping.models import Package
from tests.api.helpers import bearer
from tests.shipping.helpers import ShippingTestCase
from tests.webhooks.helpers import Receiver
from webhooks import endpoints
from webhooks import tasks as webhook_tasks
from webhooks.models import Endpoint


class ConfirmUnderFaultsTests(ShippingTestCase):
    orders_per_day = 80

    def test_two_hundred_orders_under_429s_and_5xx_are_each_confirmed_exactly_once(self) -> None:
        # Amazon's clock runs 100 times faster, so its 2/s bucket refills at 200/s and the test stays short; our
        # bucket follows the x-amzn-RateLimit-Limit Amazon reports (sync/paced.py `answered`).
        sandbox_api.set_time_scale(100)
        orders = self.unshipped(200)
        for i, o in enumerate(orders):
            r = self.post(o.order_id, self.body(o.order_id), key=f"order-{i}")
            self.assertEqual(r.status_code, 202, r.content)
        # A client that did not hear the answer sends a tenth of them again with the same key.
        for i, o in enumerate(orders[:20]):
            self.assertEqual(self.post(o.order_id, self.body(o.order_id), key=f"order-{i}").status_code, 202)
        faults = {3: "storm429", 6: "http500", 8: "timeout"}
        for done, pk in enumerate(list(self.queue)):
            self.queue.remove(pk)
            kind = faults.get(done % 10)
            if kind:
                sandbox_api.set_fault("shipments", kind, 0 if kind == "timeout" else None)
            else:
                sandbox_api.clear_faults()
            with self.enqueued():
                tasks.confirm(pk)
        sandbox_api.clear_faults()
        waiting = Package.objects.filter(status=Package.Status.WAITING_RETRY).count()
        self.assertGreaterEqual(waiting, 50)
        for _round in range(5):
            self.retry_due()
        self.assertEqual(Counter(Package.objects.values_list("status", flat=True)), {"confirmed": 200})
        sent = SandboxShipment.objects.filter(order__order_id__in=[o.order_id for o in orders])
        self.assertEqual(sent.count(), 200)
        self.assertEqual(set(sent.values_list("requests", flat=True)), {1})
        statuses = {self.sandbox_status(o.order_id) for o in orders}
        self.assertEqual(statuses, {"SHIPPED"})


class ConfirmJobTests(ShippingTestCase):
    def test_a_package_another_worker_holds_is_not_sent_twice(self) -> None:
        [order] = self.unshipped(1)
        self.post(order.order_id, self.body(order.order_id))
        pk = self.queue.pop()
        self.assertTrue(tasks.claim(pk))  # another worker is sending it
        self.assertEqual(tasks.confirm(pk), "not_due")
        self.assertEqual(list(sandbox_api.confirmed_packages(order.order_id)), [])

    def test_a_confirmed_package_run_again_is_not_sent_again(self) -> None:
        [order] = self.unshipped(1)
        self.post(order.order_id, self.body(order.order_id))
        pk = self.queue[0]
        self.assertEqual(self.work(), ["confirmed"])
        self.assertEqual(tasks.confirm(pk), "not_due")
        self.assertEqual(sandbox_api.confirmed_packages(order.order_id).get().requests, 1)

    def test_the_sweep_sends_a_package_whose_task_was_lost_or_whose_worker_died_once(self) -> None:
        lost, killed = self.unshipped(2)
        self.post(lost.order_id, self.body(lost.order_id), key="a")
        self.post(killed.order_id, self.body(killed.order_id), key="b")
        self.queue.clear()  # the broker lost both tasks
        killed_pk = Package.objects.get(order__amazon_order_id=killed.order_id).pk
        self.assertTrue(tasks.claim(killed_pk))  # a worker took it and died before sending
        with self.enqueued():
            self.assertEqual(tasks.sweep(), 0)  # a fresh package's own task may still come
        past = timezone.now() - tasks.LEASE - timedelta(minutes=2)
        Package.objects.update(updated_at=past)
        Package.objects.filter(pk=killed_pk).update(claimed_until=past)
        with self.enqueued():
            self.assertEqual(tasks.sweep(), 2)
        self.assertEqual(self.work(), ["confirmed", "confirmed"])
        with self.enqueued():
            self.assertEqual(tasks.sweep(), 0)
        for order in (lost, killed):
            self.assertEqual(sandbox_api.confirmed_packages(order.order_id).get().requests, 1)

    def test_amazons_refusal_fails_the_package_with_its_reason_in_words(self) -> None:
        [order] = self.unshipped(1)
        self.post(order.order_id, self.body(order.order_id))
        # Amazon cancelled the order meanwhile; the portal has not loaded the change yet.
        SandboxOrder.objects.filter(pk=order.pk).update(cancelled_at=sandbox_api.now(), unshipped_at=None)
        self.assertEqual(self.work(), ["failed"])
        package = Package.objects.get()
        self.assertEqual(package.problem, "order_canceled")
        r = self.client.get(f"/api/v1/orders/{order.order_id}/shipments", **bearer(self.secret))
        [shown] = r.json()["results"]
        self.assertEqual(shown["status"], "failed")
        self.assertIn("cancelled", shown["reason"])
        self.assertTrue(shown["what_to_do"])

    def test_a_store_no_longer_authorized_fails_the_package_without_calling_amazon(self) -> None:
        [order] = self.unshipped(1)
        self.post(order.order_id, self.body(order.order_id))
        Authorization.objects.filter(store=self.store, capability="orders").update(status=AuthStatus.DISABLED)
        self.assertEqual(self.work(), ["failed"])
        self.assertEqual(Package.objects.get().problem, "not_authorized")
        self.assertEqual(list(sandbox_api.confirmed_packages(order.order_id)), [])

    @override_settings(SYNC_RETRY_BASE_SECONDS=30)
    def test_a_5xx_leaves_the_package_waiting_with_a_scheduled_retry(self) -> None:
        from django_q.models import Schedule

        [order] = self.unshipped(1)
        self.post(order.order_id, self.body(order.order_id))
        sandbox_api.set_fault("shipments", "http500")
        self.assertEqual(self.work(), ["waiting_retry"])
        package = Package.objects.get()
        self.assertEqual((package.problem, package.attempts), ("unavailable", 1))
        retry = Schedule.objects.get(name=f"shipment-{package.pk}")
        self.assertEqual((retry.func, retry.next_run), ("shipping.tasks.confirm", package.next_attempt_at))
        sandbox_api.clear_faults()
        self.assertEqual(self.retry_due(), ["confirmed"])


class ShipmentEventsTests(ShippingTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.receiver = Receiver().start()
        self.addCleanup(self.receiver.stop)
        self.rsps.add_passthru("http://127.0.0.1")
        self.endpoint = Endpoint(
            tenant=self.tenant, url=self.receiver.url, events=["shipment.confirmed", "shipment.failed"]
        )
        self.webhook_secret = endpoints.create(None, self.endpoint, self.alice)

    def deliver(self, func: str, *args: Any, **kwargs: Any) -> None:
        webhook_tasks.deliver(*args)

    def test_confirmed_and_failed_packages_reach_the_receiver_as_events(self) -> None:
        first, second = self.unshipped(2)
        self.post(first.order_id, self.body(first.order_id), key="a")
        self.post(second.order_id, self.body(second.order_id), key="b")
        SandboxOrder.objects.filter(pk=second.pk).update(cancelled_at=sandbox_api.now(), unshipped_at=None)
        with (
            mock.patch("webhooks.events.async_task", side_effect=self.deliver),
            mock.patch("webhooks.tasks.async_task", side_effect=self.deliver),
        ):
            self.assertEqual(self.work(), ["confirmed", "failed"])
        events = self.receiver.verified(self.webhook_secret)
        self.assertEqual([e["type"] for e in events], ["shipment.confirmed", "shipment.failed"])
        confirmed, failed = (e["data"] for e in events)
        self.assertEqual(
            (
                confirmed["amazon_order_id"],
                confirmed["store"],
                confirmed["status"],
                confirmed["package_reference_id"],
            ),
            (first.order_id, str(self.store.code), "confirmed", 1),
        )
        self.assertEqual((failed["status"], failed["problem"]), ("failed", "order_canceled"))
        self.assertTrue(failed["reason"])
