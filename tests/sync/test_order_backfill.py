from __future__ import annotations

from datetime import timedelta
from unittest import mock

from django.test import override_settings
from django.utils import timezone
from django_q.models import Schedule

from amazon import orders as orders_api
from authorizations import lifecycle
from authorizations.models import AuthStatus
from sandbox import api as sandbox_api
from sync import dispatch, order_state, tasks
from sync.models import Order, OrderItem, OrderSync, RateBucket
from tests.sync.helpers import CA, US, SyncTestCase


def stored_ids(store_id: int) -> list[str]:
    return list(Order.objects.filter(store_id=store_id).values_list("amazon_order_id", flat=True))


class BackfillTests(SyncTestCase):
    def test_authorizing_order_loading_creates_a_sync_state_from_the_initial_order_date(self) -> None:
        self.authorize_orders()
        s = self.state()
        self.assertEqual(s.phase, OrderSync.Phase.BACKFILL)
        self.assertEqual(
            s.backfill_from, order_state.backfill_start(self.store, s.store.authorizations.first())
        )
        self.assertLessEqual(s.next_run_at, timezone.now())

    def test_a_backfill_stores_exactly_the_orders_the_sandbox_generated(self) -> None:
        self.authorize_orders()
        self.assertEqual(tasks.sync_orders(self.store.pk), "done")
        expected = self.expected_ids()
        stored = stored_ids(self.store.pk)
        self.assertGreater(len(expected), 30)
        self.assertEqual(len(stored), len(expected))
        self.assertEqual(set(stored), expected)
        s = self.state()
        self.assertEqual(s.phase, OrderSync.Phase.INCREMENTAL)
        self.assertEqual(s.orders_loaded, len(expected))
        self.assertIsNotNone(s.backfill_finished_at)
        self.assertIsNotNone(s.last_success_at)
        self.assertEqual(s.pagination_token, "")
        # The backfill brought orders: the first increment comes as soon as searchOrders' rate (0.0056/s) allows.
        pause = (s.next_run_at - s.last_success_at).total_seconds()
        self.assertAlmostEqual(pause, 1 / (0.0056 * 0.97), delta=2)

    def test_orders_keep_items_totals_and_both_purchase_dates(self) -> None:
        self.authorize_orders()
        tasks.sync_orders(self.store.pk)
        o = Order.objects.filter(store=self.store, marketplace_id=US).first()
        assert o is not None
        self.assertEqual(o.currency, "USD")
        self.assertIsNotNone(o.total_amount)
        self.assertTrue(o.purchase_date_local.endswith(("-08:00", "-07:00")))
        items = list(OrderItem.objects.filter(order=o))
        self.assertTrue(items and all(i.sku and i.quantity >= 1 for i in items))
        ca = Order.objects.filter(store=self.store, marketplace_id=CA).first()
        assert ca is not None
        self.assertEqual(ca.currency, "CAD")

    def test_the_next_runs_follow_last_updated_after_and_update_known_orders(self) -> None:
        self.authorize_orders()
        tasks.sync_orders(self.store.pk)
        sandbox_api.advance_clock(2 * 86400)
        self.make_due()
        with mock.patch.object(orders_api, "search_orders", wraps=orders_api.search_orders) as search:
            self.assertEqual(tasks.sync_orders(self.store.pk), "done")
        self.assertIn("last_updated_after", search.call_args_list[0].kwargs)
        self.assertIsNone(search.call_args_list[0].kwargs["created_after"])
        self.assertEqual(set(stored_ids(self.store.pk)), self.expected_ids())
        stored = dict(Order.objects.filter(store=self.store).values_list("amazon_order_id", "status"))
        for o in sandbox_api.generated_orders(
            self.seller.selling_partner_id, [US, CA], created_after=self.state().backfill_from
        ):
            self.assertEqual(stored[o.order_id], o.status)

    def test_a_task_delivered_twice_loads_nothing_twice_and_calls_amazon_once(self) -> None:
        self.authorize_orders()
        with mock.patch.object(orders_api, "search_orders", wraps=orders_api.search_orders) as search:
            self.assertEqual(tasks.sync_orders(self.store.pk), "done")
            calls = search.call_count
            self.assertEqual(tasks.sync_orders(self.store.pk), "busy_or_not_due")
        self.assertEqual(search.call_count, calls)
        self.assertEqual(len(stored_ids(self.store.pk)), len(self.expected_ids()))

    def test_a_store_claimed_by_another_worker_is_left_alone(self) -> None:
        self.authorize_orders()
        OrderSync.objects.filter(store=self.store).update(
            claimed_by="other", claimed_until=timezone.now() + timedelta(minutes=5)
        )
        with mock.patch.object(orders_api, "search_orders") as search:
            self.assertEqual(tasks.sync_orders(self.store.pk), "busy_or_not_due")
        search.assert_not_called()

    def test_an_expired_claim_of_a_dead_worker_is_taken_over(self) -> None:
        self.authorize_orders()
        OrderSync.objects.filter(store=self.store).update(
            claimed_by="dead", claimed_until=timezone.now() - timedelta(seconds=1)
        )
        self.assertEqual(tasks.sync_orders(self.store.pk), "done")
        self.assertEqual(self.state().claimed_by, "")

    @override_settings(SYNC_TASK_BUDGET_SECONDS=0)
    def test_a_job_stopped_between_pages_resumes_from_the_saved_pagination_token(self) -> None:
        self.authorize_orders()
        self.assertEqual(tasks.sync_orders(self.store.pk), "continues")
        s = self.state()
        self.assertTrue(s.pagination_token)
        self.assertEqual(s.orders_loaded, 10)
        self.assertIsNotNone(s.backfill_done_until)
        tokens = []
        real = orders_api.search_orders

        def spy(*args: object, **kwargs: object) -> orders_api.Page:
            tokens.append(kwargs.get("pagination_token"))
            return real(*args, **kwargs)  # type: ignore[arg-type]

        with mock.patch.object(orders_api, "search_orders", side_effect=spy):
            runs = 0
            while tasks.sync_orders(self.store.pk) == "continues":
                runs += 1
                self.assertLess(runs, 50)
        self.assertEqual(tokens[0], s.pagination_token)
        self.assertEqual(sorted(stored_ids(self.store.pk)), sorted(self.expected_ids()))

    def test_running_the_whole_backfill_again_duplicates_nothing(self) -> None:
        self.authorize_orders()
        tasks.sync_orders(self.store.pk)
        count = Order.objects.filter(store=self.store).count()
        items = OrderItem.objects.filter(order__store=self.store).count()
        OrderSync.objects.filter(store=self.store).update(
            phase=OrderSync.Phase.BACKFILL,
            backfill_done_until=None,
            backfill_finished_at=None,
            query={},
            pagination_token="",
            window_end=None,
            next_run_at=timezone.now(),
        )
        self.assertEqual(tasks.sync_orders(self.store.pk), "done")
        self.assertEqual(Order.objects.filter(store=self.store).count(), count)
        self.assertEqual(OrderItem.objects.filter(order__store=self.store).count(), items)

    def test_an_older_copy_of_an_order_never_overwrites_a_newer_one(self) -> None:
        self.authorize_orders()
        tasks.sync_orders(self.store.pk)
        o = Order.objects.filter(store=self.store).first()
        assert o is not None
        Order.objects.filter(pk=o.pk).update(
            status="SHIPPED", last_updated=timezone.now() + timedelta(days=1)
        )
        self.make_due()
        OrderSync.objects.filter(store=self.store).update(
            phase=OrderSync.Phase.BACKFILL, backfill_done_until=None, backfill_finished_at=None
        )
        tasks.sync_orders(self.store.pk)
        self.assertEqual(Order.objects.get(pk=o.pk).status, "SHIPPED")

    def test_our_bucket_follows_the_rate_limit_header(self) -> None:
        self.authorize_orders()
        tasks.sync_orders(self.store.pk)
        bucket = RateBucket.objects.get(operation="searchOrders")
        self.assertEqual(bucket.rate, 0.0056)
        self.assertEqual(bucket.burst, 20)
        self.assertLess(bucket.tokens, 20)

    def test_the_rate_limit_pauses_the_backfill_and_schedules_its_resumption(self) -> None:
        self.authorize_orders()
        seller = self.seller.selling_partner_id
        RateBucket.objects.create(
            selling_partner_id=seller,
            application="orders",
            operation="searchOrders",
            rate=0.0056,
            burst=20,
            tokens=2.0,
            updated_at=timezone.now(),
        )
        with self.captureOnCommitCallbacks(execute=True):
            self.assertEqual(tasks.sync_orders(self.store.pk), "rate_limited")
        self.assertEqual(Order.objects.filter(store=self.store).count(), 20)
        s = self.state()
        self.assertGreater(s.next_run_at, timezone.now() + timedelta(seconds=150))
        resume = Schedule.objects.get(name=f"orders-{self.store.pk}-resume")
        self.assertEqual(resume.schedule_type, Schedule.ONCE)
        self.assertEqual(resume.func, "sync.tasks.sync_orders")
        self.assertEqual(resume.args, f"({self.store.pk},)")
        # Not due yet: an early delivery does nothing.
        self.assertEqual(tasks.sync_orders(self.store.pk), "busy_or_not_due")
        # Time passes: the bucket refills.
        RateBucket.objects.filter(operation="searchOrders").update(tokens=20.0)
        self.make_due()
        self.assertEqual(tasks.sync_orders(self.store.pk), "done")
        self.assertEqual(set(stored_ids(self.store.pk)), self.expected_ids())

    def test_a_disabled_capability_stops_the_job_at_the_next_page(self) -> None:
        auth = self.authorize_orders()
        with override_settings(SYNC_TASK_BUDGET_SECONDS=0):
            tasks.sync_orders(self.store.pk)
        lifecycle.disable(None, auth)
        self.make_due()
        with mock.patch.object(orders_api, "search_orders") as search:
            self.assertEqual(tasks.sync_orders(self.store.pk), "not_authorized")
        search.assert_not_called()
        self.assertEqual(dispatch.dispatch_due(), 0)

    def test_an_archived_store_loads_nothing(self) -> None:
        self.authorize_orders()
        from authorizations.store_actions import archive_store

        archive_store(None, self.store)  # type: ignore[arg-type]
        self.assertEqual(tasks.sync_orders(self.store.pk), "not_authorized")
        self.assertFalse(Order.objects.exists())


class DispatchTests(SyncTestCase):
    def test_due_stores_are_enqueued_once_until_their_task_runs(self) -> None:
        self.authorize_orders()
        with mock.patch("sync.jobs.async_task") as enqueue, self.captureOnCommitCallbacks(execute=True):
            self.assertEqual(tasks.dispatch_order_syncs(), 1)
        enqueue.assert_called_once()
        self.assertEqual(enqueue.call_args.args, ("sync.tasks.sync_orders", self.store.pk))
        with mock.patch("sync.jobs.async_task") as enqueue:
            self.assertEqual(tasks.dispatch_order_syncs(), 0)
        enqueue.assert_not_called()

    def test_stores_not_due_or_not_authorized_are_not_enqueued(self) -> None:
        auth = self.authorize_orders()
        tasks.sync_orders(self.store.pk)
        self.assertEqual(tasks.dispatch_order_syncs(), 0)
        self.make_due()
        lifecycle.disable(None, auth)
        self.assertEqual(tasks.dispatch_order_syncs(), 0)

    def test_authorizing_order_loading_enqueues_the_backfill_after_commit(self) -> None:
        with mock.patch("sync.jobs.async_task") as enqueue:
            with self.captureOnCommitCallbacks(execute=False) as callbacks:
                self.authorize_orders()
            enqueue.assert_not_called()
            for callback in callbacks:
                callback()
        enqueue.assert_called_once()
        self.assertEqual(enqueue.call_args.args, ("sync.tasks.sync_orders", self.store.pk))

    def test_enabling_order_loading_again_resumes_the_backfill(self) -> None:
        auth = self.authorize_orders()
        lifecycle.disable(None, auth)
        with mock.patch("sync.jobs.async_task") as enqueue, self.captureOnCommitCallbacks(execute=True):
            lifecycle.enable(None, auth)
        self.assertTrue(enqueue.called)
        self.assertEqual(tasks.sync_orders(self.store.pk), "done")
        self.assertEqual(self.state().orders_loaded, len(self.expected_ids()))
        self.assertEqual(auth.status, AuthStatus.AUTHORIZED)
