"""Order loading against an Amazon that misbehaves: 429 storms, 500s, slow answers, timeouts, revokes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from unittest import mock

import requests
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from django_q.models import Schedule

from amazon import orders as orders_api
from authorizations.models import Authorization, AuthStatus
from sandbox import api as sandbox_api
from sync import tasks
from sync.models import Order, OrderSync, RateBucket
from tests.sync.helpers import SyncTestCase


class FaultTests(SyncTestCase):
    def count(self) -> int:
        return Order.objects.filter(store=self.store).count()

    def assert_complete(self) -> None:
        expected = self.expected_ids()
        self.assertEqual(self.count(), len(expected))
        self.assertEqual(
            set(Order.objects.filter(store=self.store).values_list("amazon_order_id", flat=True)), expected
        )

    def test_a_429_storm_backs_off_without_touching_the_authorization_and_then_resumes(self) -> None:
        auth = self.authorize_orders()
        sandbox_api.set_fault("orders", "storm429")
        with self.captureOnCommitCallbacks(execute=True):
            self.assertEqual(tasks.sync_orders(self.store.pk), "throttled")
        s = self.state()
        self.assertEqual(s.last_error, "throttled")
        self.assertEqual(self.count(), 0)
        # Our bucket is emptied and the job waits for a token (1 / 0.0056 s), never hammering Amazon.
        self.assertEqual(RateBucket.objects.get(operation="searchOrders").tokens, 0.0)
        self.assertGreater(s.next_run_at, timezone.now() + timedelta(seconds=150))
        self.assertTrue(Schedule.objects.filter(name=f"orders-{self.store.pk}-resume").exists())
        auth.refresh_from_db()
        self.assertEqual(auth.status, AuthStatus.AUTHORIZED)
        sandbox_api.clear_faults()
        RateBucket.objects.update(tokens=20.0)
        self.assertEqual(self.run_again(), "done")
        self.assert_complete()
        self.assertEqual(self.state().last_error, "")

    @override_settings(SYNC_TASK_BUDGET_SECONDS=0)
    def test_a_429_storm_in_the_middle_of_a_backfill_loses_no_page(self) -> None:
        self.authorize_orders()
        self.assertEqual(self.run_again(), "continues")
        loaded = self.count()
        sandbox_api.set_fault("orders", "storm429")
        self.assertEqual(self.run_again(), "throttled")
        self.assertEqual(self.count(), loaded)
        sandbox_api.clear_faults()
        RateBucket.objects.update(tokens=20.0)
        while self.run_again() == "continues":
            pass
        self.assert_complete()

    def test_500s_retry_with_doubling_pauses_then_record_the_error(self) -> None:
        auth = self.authorize_orders()
        sandbox_api.set_fault("orders", "http500")
        pauses = []
        for _attempt in range(5):
            before = timezone.now()
            self.assertEqual(self.run_again(), "failed")
            pauses.append(round((self.state().next_run_at - before).total_seconds()))
        self.assertEqual(pauses, [30, 60, 120, 240, 480])
        self.assertEqual(self.run_again(), "failed")
        s = self.state()
        self.assertEqual(s.last_error, "server_error")
        self.assertIn("gave up after 5 retries", s.last_error_detail)
        self.assertGreater(s.next_run_at, timezone.now() + timedelta(minutes=14))
        auth.refresh_from_db()
        self.assertEqual(auth.status, AuthStatus.AUTHORIZED)
        sandbox_api.clear_faults()
        self.assertEqual(self.run_again(), "done")
        self.assert_complete()
        self.assertEqual(self.state().consecutive_failures, 0)

    def test_slow_answers_still_load_every_order(self) -> None:
        self.authorize_orders()
        sandbox_api.set_fault("orders", "slow", delay=0.05)
        self.assertEqual(self.run_again(), "done")
        self.assert_complete()

    def test_a_gateway_timeout_is_retried_later(self) -> None:
        self.authorize_orders()
        sandbox_api.set_fault("orders", "timeout", delay=0.01)
        self.assertEqual(self.run_again(), "failed")
        self.assertEqual(self.state().last_error, "server_error")
        sandbox_api.clear_faults()
        self.assertEqual(self.run_again(), "done")
        self.assert_complete()

    def test_a_network_timeout_is_recorded_as_a_sync_error(self) -> None:
        self.authorize_orders()
        real = requests.Session.request

        def timeout_on_orders(session: requests.Session, method: str, url: str, **kwargs: object) -> object:
            if "/orders/" in url:
                raise requests.ReadTimeout("read timed out")
            return real(session, method, url, **kwargs)

        with mock.patch.object(requests.Session, "request", timeout_on_orders):
            self.assertEqual(self.run_again(), "failed")
        s = self.state()
        self.assertEqual(s.last_error, "network")
        self.assertEqual(
            Authorization.objects.get(store=self.store, capability="orders").status, "authorized"
        )
        self.assertEqual(self.run_again(), "done")
        self.assert_complete()

    def test_a_failing_token_endpoint_is_a_sync_error_not_a_revoke(self) -> None:
        auth = self.authorize_orders()
        sandbox_api.set_fault("token", "http500")
        self.assertEqual(self.run_again(), "failed")
        self.assertEqual(self.state().last_error, "amazon_error")
        auth.refresh_from_db()
        self.assertEqual(auth.status, AuthStatus.AUTHORIZED)

    @override_settings(SYNC_TASK_BUDGET_SECONDS=0)
    def test_a_revoke_during_the_backfill_turns_order_loading_to_needs_reauthorization(self) -> None:
        auth = self.authorize_orders()
        self.assertEqual(self.run_again(), "continues")
        self.assertEqual(self.count(), 10)
        sandbox_api.revoke(self.seller.selling_partner_id, self._orders_app())
        self.assertEqual(self.run_again(), "needs_reauthorization")
        auth.refresh_from_db()
        self.assertEqual(auth.status, AuthStatus.NEEDS_REAUTHORIZATION)
        self.assertEqual(auth.last_error, "revoked")
        self.assertEqual(self.state().last_error, "revoked")
        self.assertEqual(self.count(), 10)
        # The schedule stops: nothing is dispatched, and a stray delivery does nothing.
        self.assertEqual(tasks.dispatch_order_syncs(), 0)
        self.assertEqual(self.run_again(), "not_authorized")

    def test_a_403_in_the_middle_of_a_run_keeps_the_pages_already_stored(self) -> None:
        auth = self.authorize_orders()
        real = orders_api.search_orders
        calls = []

        def revoke_after_two(*args: object, **kwargs: object) -> orders_api.Page:
            if len(calls) == 2:
                sandbox_api.revoke(self.seller.selling_partner_id, self._orders_app())
            calls.append(1)
            return real(*args, **kwargs)  # type: ignore[arg-type]

        with mock.patch.object(orders_api, "search_orders", side_effect=revoke_after_two):
            self.assertEqual(self.run_again(), "needs_reauthorization")
        auth.refresh_from_db()
        self.assertEqual(auth.status, AuthStatus.NEEDS_REAUTHORIZATION)
        # The 403 first gets a fresh access token; the refresh itself says the grant was revoked.
        self.assertEqual(auth.last_error, "revoked")
        self.assertEqual(self.count(), 20)
        self.store.refresh_from_db()
        self.assertEqual(self.store.authorization_status, "attention")

    def test_an_access_token_expiring_mid_backfill_is_refreshed_and_the_backfill_goes_on(self) -> None:
        from sandbox.models import SandboxAccessToken

        auth = self.authorize_orders()
        real = orders_api.search_orders
        calls = []

        def expire_after_two(*args: object, **kwargs: object) -> orders_api.Page:
            if len(calls) == 2:
                SandboxAccessToken.objects.update(expires_at=sandbox_api.now() - timedelta(seconds=1))
            calls.append(1)
            return real(*args, **kwargs)  # type: ignore[arg-type]

        with mock.patch.object(orders_api, "search_orders", side_effect=expire_after_two):
            self.assertEqual(self.run_again(), "done")
        auth.refresh_from_db()
        self.assertEqual(auth.status, AuthStatus.AUTHORIZED)
        self.assert_complete()

    def test_a_refused_pagination_token_restarts_from_the_last_stored_order(self) -> None:
        self.authorize_orders()
        with override_settings(SYNC_TASK_BUDGET_SECONDS=0):
            self.assertEqual(self.run_again(), "continues")
        from sync.models import OrderSync

        OrderSync.objects.filter(store=self.store).update(pagination_token="not-a-token")
        self.assertEqual(self.run_again(), "failed")
        self.assertEqual(self.state().pagination_token, "")
        self.assertEqual(self.state().last_error, "invalid")
        # Restarting with createdBefore pinned needs that bound to be two minutes old at Amazon.
        sandbox_api.advance_clock(180)
        self.assertEqual(self.run_again(), "done")
        expected = self.backfilled_ids()
        stored = set(Order.objects.filter(store=self.store).values_list("amazon_order_id", flat=True))
        self.assertEqual(stored, expected)

    def _orders_app(self) -> str:
        from django.conf import settings

        return settings.AMAZON_SPAPI_APPS["orders"]["app_id"]


class RejectedTests(SyncTestCase):
    """A 400 for a fresh query becomes the "rejected" stop with Amazon's message, never a retry of the same page."""

    def searches(self) -> tuple[str, int]:
        self.make_due()
        wrapped = mock.patch.object(orders_api, "search_orders", wraps=orders_api.search_orders)
        with wrapped as search, self.captureOnCommitCallbacks(execute=True):
            result = tasks.sync_orders(self.store.pk)
        return result, search.call_count

    def reject(self) -> None:
        """A createdBefore less than two minutes before the request is a 400 at Amazon (orders_2026-01-01.json)."""
        self.authorize_orders()
        OrderSync.objects.filter(store=self.store).update(window_end=timezone.now() + timedelta(days=1))
        self.assertEqual(self.searches(), ("rejected", 1))

    def detail(self) -> Any:
        self.login(self.alice)
        return self.client.get(reverse("stores:detail", args=[self.store.code]))

    def test_a_400_is_recorded_as_rejected_with_amazons_message(self) -> None:
        self.reject()
        s = OrderSync.objects.get(store=self.store)
        self.assertEqual(s.last_error, "rejected")
        self.assertIn("two minutes before the time of the request", s.last_error_detail)
        self.assertEqual(s.consecutive_failures, 0)
        self.assertFalse(Schedule.objects.filter(name__startswith=f"orders-{self.store.pk}").exists())

    def test_the_store_page_shows_the_rejection_amazons_message_and_what_to_do(self) -> None:
        self.reject()
        r = self.detail()
        self.assertContains(r, "Amazon rejected the request.")
        self.assertContains(r, 'data-testid="amazon-message"')
        self.assertContains(r, "must be at least two minutes before the time of the request")
        self.assertContains(r, "Check the store&#x27;s sites and its initial order-pull date")
        self.assertContains(r, "Stopped until the store is edited, re-checked or re-authorized")

    def test_the_same_page_is_not_asked_again(self) -> None:
        self.reject()
        self.assertEqual(tasks.dispatch_order_syncs(), 0)
        self.assertEqual(self.searches(), ("stopped", 0))
        self.assertEqual(self.searches(), ("stopped", 0))

    def test_editing_the_store_lifts_the_stop(self) -> None:
        self.reject()
        self.login(self.alice)
        r = self.client.post(
            reverse("stores:edit", args=[self.store.code]), {"nickname": "Renamed", "sites": ["US", "CA"]}
        )
        self.assertEqual(r.status_code, 302)
        self.assertEqual(tasks.dispatch_order_syncs(), 1)
        sandbox_api.advance_clock(2 * 86400)  # the upper bound is now in Amazon's past
        result, calls = self.searches()
        self.assertEqual(result, "done")
        self.assertGreater(calls, 0)
        self.assertEqual(OrderSync.objects.get(store=self.store).last_error, "")

    def test_a_recheck_lifts_the_stop(self) -> None:
        self.reject()
        self.login(self.alice)
        self.client.post(reverse("authorizations:recheck", args=[self.store.code, "orders"]))
        self.assertEqual(tasks.dispatch_order_syncs(), 1)
        # Nothing changed at Amazon: one more request, the same 400, stopped again.
        self.assertEqual(self.searches(), ("rejected", 1))
        self.assertEqual(tasks.dispatch_order_syncs(), 0)

    def test_a_re_authorization_lifts_the_stop(self) -> None:
        self.reject()
        self.authorize_orders()
        s = OrderSync.objects.get(store=self.store)
        self.assertEqual((s.last_error, s.last_error_detail), ("", ""))
        self.assertLessEqual(s.next_run_at, timezone.now())

    @override_settings(SYNC_TASK_BUDGET_SECONDS=0)
    def test_a_400_for_the_query_restarted_after_a_refused_pagination_token_stops_too(self) -> None:
        self.authorize_orders()
        self.assertEqual(self.searches()[0], "continues")
        OrderSync.objects.filter(store=self.store).update(pagination_token="not-a-token")
        # The token may merely have expired: one restart from the last stored order...
        self.assertEqual(self.searches(), ("failed", 1))
        self.assertEqual(OrderSync.objects.get(store=self.store).last_error, "invalid")
        # ...whose createdBefore (Amazon's echoed bound, the frozen sandbox clock's now) Amazon refuses too.
        self.assertEqual(self.searches(), ("rejected", 1))
        self.assertEqual(self.searches(), ("stopped", 0))
