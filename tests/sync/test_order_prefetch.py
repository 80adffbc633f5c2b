"""The next page of an order search is asked for in a thread while the current page is stored (sync/prefetch.py
`Ahead`). Amazon's answers are canned here, so the thread does nothing but the (mocked) HTTP call: the suite's
sandbox answers inside the test's database transaction, which another thread cannot see."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal
from typing import Any
from unittest import mock

from django.test import override_settings
from django.utils import timezone

from amazon import orders as orders_api
from sync import order_sync, tasks
from sync.models import Order, OrderSync, RateBucket
from tests.sync.helpers import US, SyncTestCase

TOKENS = {"": "t2", "t2": "t3", "t3": ""}


def canned(token: str) -> orders_api.Page:
    """Two orders per page, three pages."""
    n = list(TOKENS).index(token)
    created = timezone.now() - timedelta(days=3) + timedelta(hours=n)
    found = [
        orders_api.Order(
            order_id=f"111-0000000-00000{n}{i}",
            marketplace_id=US,
            created=created + timedelta(minutes=i),
            last_updated=created + timedelta(minutes=i),
            status="SHIPPED",
            total=Decimal("9.99"),
            currency="USD",
            items=(orders_api.Item(f"{n}{i}0001", 1, "SKU-1", "B000000001", Decimal("9.99"), "USD"),),
            raw={},
        )
        for i in range(2)
    ]
    return orders_api.Page(found, TOKENS[token], timezone.now() - timedelta(minutes=3), 0.0056)


@override_settings(ORDER_SYNC_PREFETCH_IN_THREAD=True)
class PrefetchTests(SyncTestCase):
    def run_with(self, answer: Any) -> str:
        with mock.patch.object(orders_api, "search_orders", side_effect=answer):
            return tasks.sync_orders(self.store.pk)

    def test_the_next_page_is_fetched_in_a_thread_while_the_current_one_is_stored(self) -> None:
        self.authorize_orders()
        by_next = {after: token for token, after in TOKENS.items()}  # a page's token, by its next token
        asked = {token: threading.Event() for token in TOKENS}
        store_began = {token: threading.Event() for token in TOKENS}
        overlapped: dict[str, bool] = {}
        threads: dict[str, str] = {}
        real_store = order_sync._store_page

        # Events that stay set, and each side waits for the other: the order in which the job's thread and the
        # request's thread get to run on a busy machine does not matter.
        def answer(*args: Any, **kwargs: Any) -> orders_api.Page:
            token = kwargs["pagination_token"]
            threads[token] = threading.current_thread().name
            asked[token].set()
            if token:
                # Answers only once the previous page is being stored.
                self.assertTrue(
                    store_began[by_next[token]].wait(timeout=10), "the previous page was never stored"
                )
            return canned(token)

        def store(r: order_sync.Run, page: orders_api.Page) -> bool:
            store_began[by_next[page.next_token]].set()
            if page.next_token:
                # The next page is asked for while this one is stored (it never is when asked only after the store).
                overlapped[page.next_token] = asked[page.next_token].wait(timeout=10)
            return real_store(r, page)

        with mock.patch.object(order_sync, "_store_page", side_effect=store):
            self.assertEqual(self.run_with(answer), "done")
        self.assertEqual(Order.objects.filter(store=self.store).count(), 6)
        self.assertEqual(self.state().orders_loaded, 6)
        self.assertEqual(self.state().pagination_token, "")
        self.assertEqual(
            overlapped, {"t2": True, "t3": True}, "the next page was not asked for during the store"
        )
        self.assertFalse(threads[""].startswith("order-page"))
        self.assertTrue(threads["t2"].startswith("order-page") and threads["t3"].startswith("order-page"))

    def test_a_lost_lease_drops_the_page_fetched_ahead_and_the_cursor_stays(self) -> None:
        self.authorize_orders()
        fetched: list[str] = []
        real_store = order_sync._store_page

        def answer(*args: Any, **kwargs: Any) -> orders_api.Page:
            fetched.append(kwargs["pagination_token"])
            return canned(kwargs["pagination_token"])

        def store(r: order_sync.Run, page: orders_api.Page) -> bool:
            if page.next_token == "t3":  # another worker took the store over before page 2 was written
                OrderSync.objects.filter(store=self.store).update(claimed_by="other")
            return real_store(r, page)

        with mock.patch.object(order_sync, "_store_page", side_effect=store):
            self.assertEqual(self.run_with(answer), "lost_lease")
        # Page 1 is stored with its cursor; page 2 is not, and page 3 (asked for ahead) is dropped.
        self.assertEqual(Order.objects.filter(store=self.store).count(), 2)
        self.assertEqual(self.state().pagination_token, "t2")
        # Page 3 may have been asked for ahead (when a rate-limit token was at hand): it is never stored.
        page3 = {o.order_id for o in canned("t3").orders}
        self.assertFalse(Order.objects.filter(store=self.store, amazon_order_id__in=page3).exists())
        OrderSync.objects.filter(store=self.store).update(claimed_by="", claimed_until=None)
        self.make_due()
        fetched.clear()
        self.assertEqual(self.run_with(answer), "done")
        self.assertEqual(fetched[0], "t2")
        self.assertEqual(Order.objects.filter(store=self.store).count(), 6)
        self.assertEqual(self.state().orders_loaded, 6)

    def test_a_failing_page_fetched_ahead_is_a_failure_of_that_page(self) -> None:
        self.authorize_orders()

        def answer(*args: Any, **kwargs: Any) -> orders_api.Page:
            if kwargs["pagination_token"] == "t3":
                raise orders_api.OrdersApiError("server_error", "HTTP 500", 500)
            return canned(kwargs["pagination_token"])

        self.assertEqual(self.run_with(answer), "failed")
        self.assertEqual(Order.objects.filter(store=self.store).count(), 4)
        s = self.state()
        self.assertEqual((s.pagination_token, s.last_error), ("t3", "server_error"))

    def test_no_rate_limit_token_is_lost_to_a_page_that_is_never_asked_for(self) -> None:
        self.authorize_orders()

        def answer(*args: Any, **kwargs: Any) -> orders_api.Page:
            if kwargs["pagination_token"] == "t3":
                threading.Event().wait(0.2)  # still on its way when the job looks: a token is taken meanwhile
            return canned(kwargs["pagination_token"])

        self.assertEqual(self.run_with(answer), "done")
        bucket = RateBucket.objects.get(operation="searchOrders")
        # Three requests made, three tokens spent; the one taken while the last page was on its way went back.
        self.assertAlmostEqual(bucket.tokens, 17.0, delta=0.1)
