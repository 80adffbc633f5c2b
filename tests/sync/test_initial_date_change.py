"""Editing a store's initial order-pull date after order loading was authorized (stores.views.store_edit →
sync.order_dates.initial_date_changed): an earlier date loads the missing older orders, a later one keeps what was loaded."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from unittest import mock

from django.contrib.messages import get_messages
from django.test.client import Client
from django.urls import reverse
from django.utils import timezone

from amazon import orders as orders_api
from sandbox import api as sandbox_api
from sync import order_state, tasks
from sync.models import Order, OrderSync, RateBucket
from tests.sync.helpers import CA, US, SyncTestCase


class InitialDateChangeTests(SyncTestCase):
    backfill_days = 6

    def setUp(self) -> None:
        super().setUp()
        self.auth = self.authorize_orders()
        self.assertEqual(tasks.sync_orders(self.store.pk), "done")
        self.loaded = self.stored()
        self.assertEqual(self.loaded, self.expected_ids())
        self.before = self.state()
        self.login(self.bob)

    def stored(self) -> set[str]:
        return set(Order.objects.filter(store=self.store).values_list("amazon_order_id", flat=True))

    def generated(self, **bounds: Any) -> set[str]:
        return {
            o.order_id
            for o in sandbox_api.generated_orders(self.seller.selling_partner_id, [US, CA], **bounds)
        }

    def edit(self, day: date | None, client: Client | None = None) -> list[str]:
        client = client or self.client
        r = client.post(
            reverse("stores:edit", args=[self.store.code]),
            {"nickname": self.store.nickname, "sites": self.store.sites, "initial_order_date": day or ""},
        )
        self.assertRedirects(r, reverse("stores:detail", args=[self.store.code]))
        self.store.refresh_from_db()
        return [str(m) for m in get_messages(r.wsgi_request)]

    def run_sync(self) -> str:
        # A fresh bucket: the second backfill is not what the rate-limit tests are about.
        RateBucket.objects.all().delete()
        self.make_due()
        return tasks.sync_orders(self.store.pk)

    def test_an_earlier_date_loads_the_older_orders_then_continues_incrementally(self) -> None:
        old_start = self.before.backfill_from
        new_day = self.store.initial_order_date - timedelta(days=4)  # type: ignore[operator]
        notes = self.edit(new_day)
        self.assertIn("The store was saved.", notes)
        self.assertTrue(
            any(
                "will be loaded in the background" in n and "the orders already loaded stay" in n
                for n in notes
            ),
            notes,
        )
        s = self.state()
        new_start = order_state.backfill_start(self.store, self.auth)
        self.assertLess(new_start, old_start)
        self.assertEqual(s.phase, OrderSync.Phase.BACKFILL)
        self.assertEqual((s.backfill_from, s.window_end), (new_start, old_start))
        # The increments' cursor is kept for afterwards.
        self.assertEqual(s.last_updated_after, self.before.last_updated_after)

        gap = self.generated(created_after=new_start, created_before=old_start)
        self.assertGreater(len(gap), 10)
        self.assertFalse(gap & self.loaded)
        with mock.patch.object(orders_api, "search_orders", wraps=orders_api.search_orders) as search:
            self.assertEqual(self.run_sync(), "done")
        # Only the gap was asked for: from the new date up to where the first backfill began.
        for call in search.call_args_list:
            self.assertEqual(call.kwargs["created_after"], new_start)
            self.assertEqual(call.kwargs["created_before"], old_start)
        self.assertEqual(self.stored(), self.loaded | gap)
        self.assertEqual(self.stored(), self.generated(created_after=new_start))
        s = self.state()
        self.assertEqual(s.phase, OrderSync.Phase.INCREMENTAL)
        self.assertIsNotNone(s.backfill_finished_at)
        self.assertEqual(s.backfill_from, new_start)
        self.assertEqual(s.last_updated_after, self.before.last_updated_after)
        self.assertEqual(s.orders_loaded, len(self.loaded | gap))

        # Then the increments carry on from where they were, and both periods stay up to date.
        sandbox_api.advance_clock(2 * 86400)
        with mock.patch.object(orders_api, "search_orders", wraps=orders_api.search_orders) as search:
            self.assertEqual(self.run_sync(), "done")
        self.assertIsNone(search.call_args_list[0].kwargs["created_after"])
        self.assertIsNotNone(search.call_args_list[0].kwargs["last_updated_after"])
        self.assertEqual(self.stored(), self.generated(created_after=new_start))
        statuses = dict(Order.objects.filter(store=self.store).values_list("amazon_order_id", "status"))
        for o in sandbox_api.generated_orders(
            self.seller.selling_partner_id, [US, CA], created_after=new_start
        ):
            self.assertEqual(statuses[o.order_id], o.status)

        r = self.client.get(reverse("stores:detail", args=[self.store.code]))
        self.assertContains(r, "Loaded since")

    def test_a_later_date_keeps_the_loaded_orders_and_says_so(self) -> None:
        new_day = self.store.initial_order_date + timedelta(days=3)  # type: ignore[operator]
        notes = self.edit(new_day)
        self.assertTrue(any("already loaded are kept" in n for n in notes), notes)
        self.assertEqual(self.stored(), self.loaded)
        s = self.state()
        self.assertEqual(
            (s.phase, s.backfill_from, s.last_updated_after, s.backfill_finished_at),
            (
                OrderSync.Phase.INCREMENTAL,
                self.before.backfill_from,
                self.before.last_updated_after,
                self.before.backfill_finished_at,
            ),
        )
        # Nothing loads again: the next run is the regular increment.
        with mock.patch.object(orders_api, "search_orders", wraps=orders_api.search_orders) as search:
            self.assertEqual(self.run_sync(), "done")
        self.assertIsNone(search.call_args_list[0].kwargs["created_after"])
        self.assertEqual(self.stored(), self.loaded)
        # The orders from before the new date are still listed.
        oldest = Order.objects.filter(store=self.store).order_by("purchase_date").first()
        assert oldest is not None
        r = self.client.get(reverse("sync:orders", args=[self.store.code]), {"q": oldest.amazon_order_id})
        self.assertContains(r, oldest.amazon_order_id)

    def test_clearing_the_date_is_a_later_start_and_keeps_the_orders(self) -> None:
        notes = self.edit(None)
        self.assertTrue(any("already loaded are kept" in n for n in notes), notes)
        self.assertEqual(self.state().backfill_from, self.before.backfill_from)
        self.assertEqual(self.stored(), self.loaded)

    def test_saving_the_same_date_changes_nothing(self) -> None:
        notes = self.edit(self.store.initial_order_date)
        self.assertEqual(notes[-1], "The store was saved.")
        self.assertFalse([n for n in notes if "orders" in n], notes)
        s = self.state()
        self.assertEqual(
            (s.phase, s.backfill_from, s.next_run_at),
            (self.before.phase, self.before.backfill_from, self.before.next_run_at),
        )

    def test_a_viewer_cannot_change_the_date(self) -> None:
        self.login(self.vera)
        r = self.client.post(
            reverse("stores:edit", args=[self.store.code]),
            {"nickname": "x", "sites": ["US"], "initial_order_date": ""},
        )
        self.assertEqual(r.status_code, 403)
        self.assertEqual(self.state().backfill_from, self.before.backfill_from)


class InitialDateChangeWhileLoadingTests(SyncTestCase):
    backfill_days = 6

    def setUp(self) -> None:
        super().setUp()
        self.auth = self.authorize_orders()
        self.login(self.bob)

    def edit(self, day: date) -> list[str]:
        r = self.client.post(
            reverse("stores:edit", args=[self.store.code]),
            {"nickname": self.store.nickname, "sites": self.store.sites, "initial_order_date": day},
        )
        self.assertRedirects(r, reverse("stores:detail", args=[self.store.code]))
        self.store.refresh_from_db()
        return [str(m) for m in get_messages(r.wsgi_request)]

    def test_before_anything_loaded_the_backfill_starts_from_the_new_date(self) -> None:
        new_day = self.store.initial_order_date - timedelta(days=2)  # type: ignore[operator]
        notes = self.edit(new_day)
        self.assertTrue(any("Past orders will be loaded from" in n for n in notes), notes)
        start = order_state.backfill_start(self.store, self.auth)
        self.assertEqual(self.state().backfill_from, start)
        self.assertEqual(tasks.sync_orders(self.store.pk), "done")
        self.assertEqual(
            set(Order.objects.filter(store=self.store).values_list("amazon_order_id", flat=True)),
            self.expected_ids(),
        )
        self.assertEqual(self.state().backfill_from, start)

    def test_a_running_worker_loses_its_lease_and_cannot_overwrite_the_new_start(self) -> None:
        with self.settings(SYNC_TASK_BUDGET_SECONDS=0):
            self.assertEqual(tasks.sync_orders(self.store.pk), "continues")
        new_day = self.store.initial_order_date - timedelta(days=3)  # type: ignore[operator]
        real = orders_api.search_orders

        def seller_edits_meanwhile(*args: Any, **kwargs: Any) -> orders_api.Page:
            page = real(*args, **kwargs)
            if search.call_count == 1:
                self.edit(new_day)  # while the worker waits for Amazon's answer
            return page

        with mock.patch.object(orders_api, "search_orders", side_effect=seller_edits_meanwhile) as search:
            self.assertEqual(tasks.sync_orders(self.store.pk), "lost_lease")
        s = self.state()
        self.assertEqual(s.claimed_by, "")
        self.assertEqual((s.query, s.pagination_token, s.backfill_done_until), ({}, "", None))
        self.assertEqual(s.backfill_from, order_state.backfill_start(self.store, self.auth))
        RateBucket.objects.all().delete()
        self.assertEqual(tasks.sync_orders(self.store.pk), "done")
        self.assertEqual(
            set(Order.objects.filter(store=self.store).values_list("amazon_order_id", flat=True)),
            self.expected_ids(),
        )

    def test_a_later_date_while_loading_skips_ahead_and_keeps_what_was_loaded(self) -> None:
        with self.settings(SYNC_TASK_BUDGET_SECONDS=0):
            self.assertEqual(tasks.sync_orders(self.store.pk), "continues")
        first = set(Order.objects.filter(store=self.store).values_list("amazon_order_id", flat=True))
        self.assertTrue(first)
        new_day = self.store.initial_order_date + timedelta(days=3)  # type: ignore[operator]
        notes = self.edit(new_day)
        self.assertTrue(
            any("already loaded are kept" in n and "remaining past orders" in n for n in notes), notes
        )
        start = order_state.backfill_start(self.store, self.auth)
        self.assertEqual(self.state().backfill_from, start)
        RateBucket.objects.all().delete()
        with mock.patch.object(orders_api, "search_orders", wraps=orders_api.search_orders) as search:
            self.assertEqual(tasks.sync_orders(self.store.pk), "done")
        self.assertEqual(search.call_args_list[0].kwargs["created_after"], start)
        stored = set(Order.objects.filter(store=self.store).values_list("amazon_order_id", flat=True))
        self.assertEqual(stored, first | self.expected_ids())
        self.assertTrue(self.state().backfill_done)


class InitialDateSetRightAfterAuthorizationTests(SyncTestCase):
    def test_an_earlier_date_right_after_authorizing_without_one_loads_from_it(self) -> None:
        self.store.initial_order_date = None
        self.store.save(update_fields=["initial_order_date"])
        auth = self.authorize_orders()
        self.assertEqual(tasks.sync_orders(self.store.pk), "done")
        self.assertEqual(self.state().backfill_from, auth.authorized_at)
        self.login(self.alice)
        day = timezone.localdate() - timedelta(days=2)
        r = self.client.post(
            reverse("stores:edit", args=[self.store.code]),
            {"nickname": self.store.nickname, "sites": self.store.sites, "initial_order_date": day},
            follow=True,
        )
        self.assertContains(r, "Past orders will be loaded again from")
        self.store.refresh_from_db()
        start = order_state.backfill_start(self.store, auth)
        # The old start is a moment ago, too recent for createdBefore: Amazon picks the bound.
        self.assertIsNone(self.state().window_end)
        RateBucket.objects.all().delete()
        self.make_due()
        self.assertEqual(tasks.sync_orders(self.store.pk), "done")
        self.assertEqual(
            set(Order.objects.filter(store=self.store).values_list("amazon_order_id", flat=True)),
            self.expected_ids(),
        )
        self.assertEqual(self.state().backfill_from, start)
