"""Adaptive polling: a busy store is polled as often as searchOrders' rate limit allows, a quiet one less often."""

from __future__ import annotations

from django.test import override_settings

from sandbox import api as sandbox_api
from stores.models import Store
from sync import tasks
from sync.models import OrderChangeSubscription, OrderSync
from tests.sync.helpers import SyncTestCase

# searchOrders: rate 0.0056/s (orders_2026-01-01.json, Usage Plan), with our 3 % safety margin (sync/ratelimit.py).
FLOOR = 1 / (0.0056 * 0.97)


@override_settings(ORDER_SYNC_INTERVAL_MINUTES=15, ORDER_SYNC_QUIET_RUNS=3)
class AdaptivePollingTests(SyncTestCase):
    def run_increment(self) -> OrderSync:
        self.make_due()
        self.assertEqual(tasks.sync_orders(self.store.pk), "done")
        return self.state()

    def pause(self, s: OrderSync) -> float:
        assert s.last_success_at is not None
        return (s.next_run_at - s.last_success_at).total_seconds()

    def test_quiet_runs_keep_the_rate_limit_pause_three_times_then_double_it_up_to_fifteen_minutes(
        self,
    ) -> None:
        self.authorize_orders()
        tasks.sync_orders(self.store.pk)  # the backfill
        pauses = []
        for _ in range(6):
            s = self.run_increment()  # the sandbox clock is frozen: nothing new at Amazon
            pauses.append(round(self.pause(s)))
        self.assertEqual(s.quiet_runs, 6)
        f = round(FLOOR)
        self.assertEqual(pauses[:2], [f, f])
        self.assertAlmostEqual(pauses[2], 2 * FLOOR, delta=2)
        self.assertAlmostEqual(pauses[3], 4 * FLOOR, delta=2)
        self.assertEqual(pauses[4:], [900, 900])

    def test_a_new_order_brings_the_pause_back_to_what_the_rate_limit_allows(self) -> None:
        self.authorize_orders()
        tasks.sync_orders(self.store.pk)
        for _ in range(5):
            self.run_increment()
        self.assertEqual(round(self.pause(self.state())), 900)
        sandbox_api.advance_clock(2 * 86400)  # two days of new orders and status changes at Amazon
        s = self.run_increment()
        self.assertEqual(s.quiet_runs, 0)
        self.assertAlmostEqual(self.pause(s), FLOOR, delta=2)

    @override_settings(
        AMAZON_NOTIFICATIONS_QUEUE_URL="http://127.0.0.1:9/000000000000/q", ORDER_CHANGE_NOTIFICATIONS=True
    )
    def test_a_seller_subscribed_to_order_change_is_polled_only_to_confirm_at_the_longest_pause(self) -> None:
        auth = self.authorize_orders()
        Store.objects.filter(pk=self.store.pk).update(
            selling_partner_id=auth.selling_partner_id, selling_partner_verified=True
        )
        OrderChangeSubscription.objects.create(
            selling_partner_id=auth.selling_partner_id,
            region="NA",
            status=OrderChangeSubscription.Status.ACTIVE,
            subscription_id="s-1",
            verified=True,
        )
        tasks.sync_orders(self.store.pk)
        self.assertEqual(round(self.pause(self.state())), 900)
        sandbox_api.advance_clock(2 * 86400)
        self.assertEqual(round(self.pause(self.run_increment())), 900)

    @override_settings(
        AMAZON_NOTIFICATIONS_QUEUE_URL="http://127.0.0.1:9/000000000000/q", ORDER_CHANGE_NOTIFICATIONS=True
    )
    def test_a_subscription_made_for_an_unverified_seller_id_does_not_slow_polling(self) -> None:
        """A store may claim a seller id unverified (an orders-only grant): its subscription subscribed whoever
        granted it, so it must not make the claimed seller's stores poll less."""
        auth = self.authorize_orders()
        OrderChangeSubscription.objects.create(
            selling_partner_id=auth.selling_partner_id,
            region="NA",
            status=OrderChangeSubscription.Status.ACTIVE,
            subscription_id="s-1",
            verified=False,
        )
        tasks.sync_orders(self.store.pk)
        self.assertAlmostEqual(self.pause(self.state()), FLOOR, delta=2)

    def test_a_failed_subscription_leaves_the_store_on_adaptive_polling(self) -> None:
        auth = self.authorize_orders()
        OrderChangeSubscription.objects.create(
            selling_partner_id=auth.selling_partner_id,
            region="NA",
            status=OrderChangeSubscription.Status.FAILED,
            detail="Access to requested resource is denied.",
        )
        tasks.sync_orders(self.store.pk)
        self.assertAlmostEqual(self.pause(self.state()), FLOOR, delta=2)
