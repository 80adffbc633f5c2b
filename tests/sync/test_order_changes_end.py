"""The end of a seller's ORDER_CHANGE subscription: when the last live order-loading authorization of a seller and
region ends (revoke, disable, archive, needs re-authorization), the subscription is deleted at Amazon
(deleteSubscriptionById, grantless: notifications.json) and marked ended, polling leaves the longest pause, and a
later authorization subscribes again."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from authorizations.models import Authorization, AuthStatus
from sandbox import api as sandbox_api
from sandbox.models import SandboxSubscription
from stores.models import Store
from sync import tasks
from sync.models import OrderChangeSubscription, OrderSync
from tests.base import make_store
from tests.sandbox.helpers import orders_app
from tests.sqs_server import shared_server
from tests.sync.helpers import SyncTestCase

Status = OrderChangeSubscription.Status


class SubscriptionEndTests(SyncTestCase):
    def setUp(self) -> None:
        super().setUp()
        server = shared_server()
        queue_url = server.new_queue()
        self.addCleanup(server.delete_queue, queue_url)
        self.enterContext(
            override_settings(
                AMAZON_NOTIFICATIONS_QUEUE_URL=queue_url,
                SANDBOX_NOTIFICATIONS_QUEUE_URL=queue_url,
                AWS_SQS_ENDPOINT_URL=server.endpoint_url,
                ORDER_CHANGE_NOTIFICATIONS=True,
            )
        )

    @contextmanager
    def jobs(self) -> Iterator[list[tuple[str, tuple[Any, ...]]]]:
        """The django-q2 tasks enqueued inside the block (after its commit), as (function, args)."""
        sent: list[tuple[str, tuple[Any, ...]]] = []
        with mock.patch("sync.jobs.async_task") as enqueue, self.captureOnCommitCallbacks(execute=True):
            yield sent
        sent.extend((c.args[0], tuple(c.args[1:])) for c in enqueue.call_args_list)

    def run_jobs(self, sent: list[tuple[str, tuple[Any, ...]]], name: str) -> list[Any]:
        """Run the enqueued tasks named `name` here, as the worker would."""
        module, _, func = name.rpartition(".")
        task: Callable[..., Any] = getattr(importlib.import_module(module), func)
        return [task(*args) for f, args in sent if f == name]

    def authorize_and_subscribe(self, store: Store | None = None, user: User | None = None) -> Authorization:
        store = store or self.store
        with self.jobs() as sent:
            self.callback(self.amazon_answer(self.begin("orders", user=user, store=store)))
        self.assertEqual(self.run_jobs(sent, "sync.tasks.subscribe_order_changes"), ["subscribed"])
        return Authorization.objects.get(store=store, capability="orders")

    def end(self, action: str, store: Store | None = None, user: User | None = None) -> list[Any]:
        """End order loading on the store page (disable or revoke) and run the jobs it enqueued."""
        store = store or self.store
        self.login(user or self.alice)
        with self.jobs() as sent:
            r = self.client.post(
                reverse("authorizations:lifecycle_apply", args=[store.code, "orders", action])
            )
            self.assertEqual(r.status_code, 302)
        return self.run_jobs(sent, "sync.tasks.unsubscribe_order_changes")

    def at_amazon(self) -> int:
        return SandboxSubscription.objects.filter(
            seller=self.seller, notification_type="ORDER_CHANGE"
        ).count()

    def assert_ended(self) -> None:
        self.assertEqual(self.at_amazon(), 0)
        row = OrderChangeSubscription.objects.get(selling_partner_id=self.seller.selling_partner_id)
        self.assertEqual((row.status, row.subscription_id, row.destination_id), (Status.ENDED, "", ""))

    def test_revoking_the_last_order_loading_deletes_the_subscription_and_re_authorizing_subscribes_again(
        self,
    ) -> None:
        self.authorize_and_subscribe()
        self.assertEqual(self.at_amazon(), 1)
        self.assertEqual(self.end("revoke"), ["deleted"])
        self.assert_ended()
        self.authorize_and_subscribe()
        self.assertEqual(self.at_amazon(), 1)
        row = OrderChangeSubscription.objects.get()
        self.assertEqual(row.status, Status.ACTIVE)
        at_amazon = SandboxSubscription.objects.get(seller=self.seller)
        self.assertEqual(row.subscription_id, str(at_amazon.subscription_id))

    def test_disabling_the_last_order_loading_deletes_the_subscription(self) -> None:
        self.authorize_and_subscribe()
        self.assertEqual(self.end("disable"), ["deleted"])
        self.assert_ended()

    def test_archiving_the_store_deletes_the_subscription(self) -> None:
        self.authorize_and_subscribe()
        self.login(self.alice)
        with self.jobs() as sent:
            self.client.post(reverse("stores:archive", args=[self.store.code]))
        self.assertEqual(self.run_jobs(sent, "sync.tasks.unsubscribe_order_changes"), ["deleted"])
        self.assert_ended()

    def test_a_grant_the_seller_revoked_at_amazon_deletes_the_subscription_once_the_sync_finds_it(
        self,
    ) -> None:
        auth = self.authorize_and_subscribe()
        sandbox_api.revoke(self.seller.selling_partner_id, orders_app()["app_id"])
        with self.jobs() as sent:
            tasks.sync_orders(self.store.pk)
        auth.refresh_from_db()
        self.assertEqual(auth.status, AuthStatus.NEEDS_REAUTHORIZATION)
        # deleteSubscriptionById is grantless: it needs no grant of the seller's.
        self.assertEqual(self.run_jobs(sent, "sync.tasks.unsubscribe_order_changes"), ["deleted"])
        self.assert_ended()

    def test_a_lapsed_authorization_deletes_the_subscription(self) -> None:
        auth = self.authorize_and_subscribe()
        Authorization.objects.filter(pk=auth.pk).update(expires_at=timezone.now())
        with self.jobs() as sent:
            self.assertEqual(tasks.expiry_and_reminders()["lapsed"], 1)
        self.assertEqual(self.run_jobs(sent, "sync.tasks.unsubscribe_order_changes"), ["deleted"])
        self.assert_ended()

    def test_another_live_store_of_the_seller_keeps_the_subscription_until_it_ends_too(self) -> None:
        self.authorize_and_subscribe()
        # Another tenant's store whose order loading acts for the same seller, its grant naming none (reached through
        # the store's unverified seller id, as sync/order_changes.py `stores_for` finds it).
        second = make_store(self.other_tenant, "Charlie's store")
        Store.objects.filter(pk=second.pk).update(selling_partner_id=self.seller.selling_partner_id)
        Authorization.objects.filter(store=second, capability="orders").update(status=AuthStatus.AUTHORIZED)
        self.assertEqual(self.at_amazon(), 1)
        self.assertEqual(self.end("disable"), ["still_used"])
        self.assertEqual(self.at_amazon(), 1)
        self.assertEqual(OrderChangeSubscription.objects.get().status, Status.ACTIVE)
        self.assertEqual(self.end("revoke", second, user=self.charlie), ["deleted"])
        self.assert_ended()

    def test_a_failed_delete_keeps_the_row_and_the_daily_pass_deletes_it(self) -> None:
        self.authorize_and_subscribe()
        sandbox_api.set_fault("notifications", "http500")
        self.assertEqual(self.end("disable"), ["failed"])
        row = OrderChangeSubscription.objects.get()
        self.assertTrue(row.subscription_id)
        self.assertTrue(row.detail)
        self.assertEqual(self.at_amazon(), 1)
        sandbox_api.clear_faults()
        with self.jobs() as sent:
            self.assertEqual(tasks.subscribe_missing_order_changes(), 1)
        self.assertEqual(self.run_jobs(sent, "sync.tasks.unsubscribe_order_changes"), ["deleted"])
        self.assert_ended()

    def test_after_the_end_a_re_authorized_store_polls_at_its_own_pace_until_amazon_confirms_a_new_subscription(
        self,
    ) -> None:
        """The longest pause is for a seller whose orders come by notification (sync/cadence.py `poll_pause`); a
        subscription that was deleted no longer counts."""
        auth = self.authorize_and_subscribe()
        Store.objects.filter(pk=self.store.pk).update(
            selling_partner_id=auth.selling_partner_id, selling_partner_verified=True
        )
        OrderChangeSubscription.objects.update(verified=True)
        self.end("revoke")
        with self.jobs() as sent:
            self.authorize("orders")
        Store.objects.filter(pk=self.store.pk).update(
            selling_partner_id=self.seller.selling_partner_id, selling_partner_verified=True
        )
        # The subscription job has not run yet: the store's first sync.
        self.assertIn("sync.tasks.subscribe_order_changes", [f for f, _ in sent])
        self.assertEqual(tasks.sync_orders(self.store.pk), "done")
        pause = (OrderSync.objects.get(store=self.store).next_run_at - timezone.now()).total_seconds()
        self.assertLess(pause, 15 * 60 - 60)
