"""The orders changes feed over HTTP: every change after a cursor exactly once, in order, never skipped.

The first class runs in one transaction per test (the feed's contract, keys, bad input). The second commits for real,
with writers on their own connections (threads): one writing transaction held open while another commits, and
10,000 orders from concurrent writers while a consumer pages the feed. On PostgreSQL the writers overlap for real.
SQLite lets one writer at a time into the database (the second is refused or waits), so there the same writers
take turns, which is what production SQLite does too (sync/order_feed.py).
"""

from __future__ import annotations

import random
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from datetime import timedelta
from typing import Any
from unittest import mock

from django.core.cache import cache
from django.db import OperationalError, connection, transaction
from django.test import TransactionTestCase
from django.test.utils import CaptureQueriesContext

from accounts.models import Tenant
from api.authentication import ApiKeyThrottle
from sync import order_feed
from sync.models import Order
from sync.order_feed import Position
from tests.api.helpers import bearer, make_key
from tests.api.order_helpers import BASE, amazon_order, store_orders
from tests.base import BaseTestCase, make_store, make_user

CHANGES = "/api/v1/orders/changes/"


def oid(n: int, store: int = 0) -> str:
    return f"{100 + store:03d}-{n // 10_000_000:07d}-{n % 10_000_000:07d}"


class FeedClient:
    """A consumer of the feed: keeps the cursor it is given and calls again."""

    def __init__(self, get: Callable[..., Any], secret: str) -> None:
        self.get, self.secret = get, secret
        self.cursor: str | None = None
        self.received: list[dict[str, Any]] = []
        self.polls = 0

    def page(self, limit: int = 100, **params: str) -> dict[str, Any]:
        query = {"limit": str(limit), **params, **({"cursor": self.cursor} if self.cursor else {})}
        response = self.get(CHANGES, query, **bearer(self.secret))
        assert response.status_code == 200, response.content
        body: dict[str, Any] = response.json()
        self.cursor = body["next_cursor"]
        self.received += body["results"]
        self.polls += 1
        return body

    def drain(self, limit: int = 100) -> list[dict[str, Any]]:
        start = len(self.received)
        while self.page(limit)["has_more"]:
            pass
        return self.received[start:]


def ids(results: list[dict[str, Any]]) -> list[str]:
    return [r["amazon_order_id"] for r in results]


class OrderFeedTests(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        cache.clear()
        self.key, self.secret = make_key(self.tenant, self.alice)
        self.feed = FeedClient(self.client.get, self.secret)

    def assert_error(self, query: dict[str, str], field: str) -> None:
        response = self.client.get(CHANGES, query, **bearer(self.secret))
        self.assertEqual(response.status_code, 400, (query, response.content))
        error = response.json()["error"]
        self.assertEqual(error["code"], "invalid")
        self.assertIn(field, error["fields"], query)

    def test_a_consumer_receives_every_order_once_in_the_order_the_writes_committed(self) -> None:
        store_orders(self.store, [amazon_order(oid(n)) for n in range(3)])
        store_orders(self.store, [amazon_order(oid(n)) for n in range(3, 5)])
        got = self.feed.drain(limit=2)
        self.assertEqual(set(ids(got[:3])), {oid(n) for n in range(3)})
        self.assertEqual(set(ids(got[3:])), {oid(3), oid(4)})
        self.assertEqual(len(got), 5)
        positions = [Position.parse(r["position"]) for r in got]
        self.assertEqual(positions, sorted(set(positions)))
        self.assertEqual(got[0]["items"][0]["sku"], "MUG-BLUE")

    def test_a_changed_order_moves_to_the_end_and_arrives_again_at_its_new_version(self) -> None:
        store_orders(self.store, [amazon_order(oid(1)), amazon_order(oid(2))])
        self.feed.drain()
        store_orders(self.store, [amazon_order(oid(1), version=1, status="SHIPPED")])
        got = self.feed.drain()
        self.assertEqual(ids(got), [oid(1)])
        self.assertEqual((got[0]["status"], got[0]["last_updated"]), ("SHIPPED", "2026-03-01T12:00:02Z"))

    def test_a_consumer_that_is_behind_receives_each_order_once_at_its_latest_version(self) -> None:
        store_orders(self.store, [amazon_order(oid(1)), amazon_order(oid(2))])
        store_orders(self.store, [amazon_order(oid(1), version=1)])
        store_orders(self.store, [amazon_order(oid(1), version=2, status="SHIPPED")])
        got = self.feed.drain()
        self.assertEqual(ids(got), [oid(2), oid(1)])
        self.assertEqual(got[1]["status"], "SHIPPED")

    def test_a_copy_that_is_not_newer_does_not_move_the_order(self) -> None:
        store_orders(self.store, [amazon_order(oid(1), version=3)])
        self.feed.drain()
        store_orders(self.store, [amazon_order(oid(1), version=3), amazon_order(oid(1), version=2)])
        self.assertEqual(self.feed.drain(), [])

    def test_an_empty_page_returns_a_cursor_to_poll_with_and_the_next_change_arrives_after_it(self) -> None:
        first = self.feed.page()
        self.assertEqual((first["results"], first["has_more"]), ([], False))
        self.assertTrue(first["next_cursor"])
        store_orders(self.store, [amazon_order(oid(1))])
        self.assertEqual(ids(self.feed.drain()), [oid(1)])
        again = self.feed.page()
        self.assertEqual(again["results"], [])
        self.assertEqual(again["next_cursor"], self.feed.received[-1]["position"])

    def test_has_more_says_to_call_again_and_a_position_resumes_right_after_its_change(self) -> None:
        store_orders(self.store, [amazon_order(oid(n)) for n in range(5)])
        body = self.feed.page(limit=2)
        self.assertEqual((len(body["results"]), body["has_more"]), (2, True))
        self.assertEqual(body["next_cursor"], body["results"][-1]["position"])
        rest = self.feed.drain(limit=500)
        self.assertEqual(len(rest), 3)
        resumed = FeedClient(self.client.get, self.secret)
        resumed.cursor = body["results"][0]["position"]
        self.assertEqual(ids(resumed.drain()), ids(body["results"][1:] + rest))

    def test_bad_limits_and_filters_answer_400_and_bad_cursors_404_never_a_500(self) -> None:
        for cursor in (
            "%%%",
            "abc",
            "MS54",
            "MS4yLjM",
            Position(-1, 0).token(),
            Position(2**63, 1).token(),
            "x" * 201,
        ):
            response = self.client.get(CHANGES, {"cursor": cursor}, **bearer(self.secret))
            self.assertEqual(
                (response.status_code, response.json()["error"]["code"]), (404, "invalid_cursor")
            )
        for limit in ("0", "501", "-3", "ten", "1e3"):
            self.assert_error({"limit": limit}, "limit")
        self.assert_error({"store": "nope"}, "store")
        self.assert_error({"since": "2026-01-01"}, "since")

    def test_a_bad_cursor_is_explained_in_the_requests_language(self) -> None:
        response = self.client.get(
            CHANGES, {"cursor": "abc"}, **bearer(self.secret, HTTP_ACCEPT_LANGUAGE="zh-Hans")
        )
        self.assertEqual(response.json()["error"]["message"], "此游标并非 API 所给出；请不带游标重新开始。")

    def test_each_key_sees_only_its_stores_changes(self) -> None:
        second = make_store(self.tenant, nickname="Second store")
        charlie_store = make_store(self.other_tenant, nickname="Charlie US")
        store_orders(self.store, [amazon_order(oid(1))])
        store_orders(second, [amazon_order(oid(2))])
        store_orders(charlie_store, [amazon_order(oid(3))])
        self.assertEqual(ids(self.feed.drain()), [oid(1), oid(2)])
        _k, limited = make_key(self.tenant, self.alice, stores=[second])
        self.assertEqual(ids(FeedClient(self.client.get, limited).drain()), [oid(2)])
        _k, foreign = make_key(self.other_tenant, self.charlie)
        self.assertEqual(ids(FeedClient(self.client.get, foreign).drain()), [oid(3)])
        _k, platform = make_key(None)
        self.assertEqual(ids(FeedClient(self.client.get, platform).drain()), [oid(1), oid(2), oid(3)])
        one_store = FeedClient(self.client.get, self.secret)
        self.assertEqual(ids(one_store.page(store=str(second.code))["results"]), [oid(2)])
        response = self.client.get(CHANGES, {"store": str(charlie_store.code)}, **bearer(self.secret))
        self.assertEqual((response.status_code, response.json()["error"]["code"]), (404, "not_found"))

    def test_a_page_costs_the_same_queries_for_one_change_as_for_five_hundred(self) -> None:
        store_orders(self.store, [amazon_order(oid(0))])
        self.feed.page()  # the key's first use writes "last used"

        def queries() -> int:
            cache.clear()
            reader = FeedClient(self.client.get, self.secret)
            with CaptureQueriesContext(connection) as ctx:
                reader.page(limit=500)
            return len(ctx.captured_queries)

        one = queries()
        store_orders(self.store, [amazon_order(oid(n)) for n in range(1, 600)])
        self.assertEqual(queries(), one)


class Gate:
    """How writers and the consumer share the database. PostgreSQL: freely, each on its own connection. SQLite:
    one at a time (its database lock admits one writer; the suite's in-memory database also refuses a reader of a
    table another connection is writing), so a lock of ours takes the database's place."""

    def __init__(self) -> None:
        self.concurrent = connection.vendor == "postgresql"
        self.lock = threading.Lock()

    def turn(self) -> Any:
        return nullcontext() if self.concurrent else self.lock


class FeedUnderConcurrentWritersTests(TransactionTestCase):
    def setUp(self) -> None:
        cache.clear()
        alice = make_user("alice@example.org", "Alice Trading")
        self.tenant = Tenant.objects.get(name="Alice Trading")
        self.stores = [make_store(self.tenant, nickname=f"Store {n}") for n in range(4)]
        _key, self.secret = make_key(self.tenant, alice)
        self.gate = Gate()
        self.errors: list[BaseException] = []
        rate = mock.patch.object(ApiKeyThrottle, "THROTTLE_RATES", {"api_key": "100000/min"})
        rate.start()
        self.addCleanup(rate.stop)

    @contextmanager
    def thread(self, target: Callable[[], None]) -> Iterator[threading.Thread]:
        t = threading.Thread(target=self.guarded(target), daemon=True)
        t.start()
        try:
            yield t
        finally:
            t.join(timeout=120)
            self.assertFalse(t.is_alive())
            self.assertEqual(self.errors, [])

    def updated_at_consumer(self) -> Callable[[], list[str]]:
        """What the feed replaces: remember the greatest updated_at seen, ask for orders updated after it."""
        seen = {"cursor": BASE - timedelta(days=3650)}

        def poll() -> list[str]:
            new = list(Order.objects.filter(updated_at__gt=seen["cursor"]).order_by("updated_at"))
            if new:
                seen["cursor"] = new[-1].updated_at
            return [o.amazon_order_id for o in new]

        return poll

    def test_a_late_commit_stamped_earlier_is_skipped_by_an_updated_at_cursor_but_not_by_the_feed(
        self,
    ) -> None:
        store = self.stores[0]
        feed = FeedClient(self.client.get, self.secret)
        by_time = self.updated_at_consumer()
        written, release = threading.Event(), threading.Event()

        def slow_writer() -> None:
            with transaction.atomic():
                store_orders(store, [amazon_order(oid(1))])  # stamped now, committed after the other writer
                written.set()
                release.wait(timeout=60)

        with self.thread(slow_writer):
            self.assertTrue(written.wait(timeout=60))
            if self.gate.concurrent:
                store_orders(self.stores[1], [amazon_order(oid(2))])  # commits while the first is open
                self.assertEqual(by_time(), [oid(2)])
                self.assertEqual(feed.drain(), [])  # held back until the open writer finishes
            else:
                # SQLite: the second writer cannot get in while the first is open, so commits come in the order
                # the counter was taken.
                with self.assertRaises(OperationalError):
                    store_orders(self.stores[1], [amazon_order(oid(2))])
            release.set()
        if not self.gate.concurrent:
            store_orders(self.stores[1], [amazon_order(oid(2))])
            self.assertEqual(by_time(), [oid(1), oid(2)])
        first, second = Order.objects.get(amazon_order_id=oid(1)), Order.objects.get(amazon_order_id=oid(2))
        self.assertLess(first.updated_at, second.updated_at)
        if self.gate.concurrent:
            self.assertEqual(by_time(), [], "the updated_at cursor skipped the late commit")
        self.assertEqual(ids(feed.drain()), [oid(1), oid(2)])
        self.assertEqual(set(ids(feed.received)), {oid(1), oid(2)})

    def test_an_order_changed_while_a_page_is_read_is_shown_as_it_was_at_its_position(self) -> None:
        store = self.stores[0]
        store_orders(store, [amazon_order(oid(1))])
        feed = FeedClient(self.client.get, self.secret)
        read = order_feed.read

        def read_then_a_newer_version_commits(*args: Any, **kwargs: Any) -> Any:
            rows = read(*args, **kwargs)
            with self.thread(
                lambda: store_orders(store, [amazon_order(oid(1), version=1, status="SHIPPED")])
            ):
                pass
            return rows

        with mock.patch.object(order_feed, "read", side_effect=read_then_a_newer_version_commits):
            if self.gate.concurrent:
                first = feed.page()["results"]
            else:  # SQLite: the page's read holds the database; the writer cannot get in meanwhile
                with self.assertRaises(AssertionError):
                    feed.page()
                self.assertIsInstance(self.errors.pop(), OperationalError)
                store_orders(store, [amazon_order(oid(1), version=1, status="SHIPPED")])
                first = []
        rest = feed.drain()
        if self.gate.concurrent:
            self.assertEqual([(r["amazon_order_id"], r["status"]) for r in first], [(oid(1), "UNSHIPPED")])
        self.assertEqual([(r["amazon_order_id"], r["status"]) for r in rest], [(oid(1), "SHIPPED")])

    def test_ten_thousand_orders_from_concurrent_writers_reach_a_paging_consumer_each_at_its_last_version(
        self,
    ) -> None:
        per_store, page = 2_500, 250
        feed = FeedClient(self.client.get, self.secret)
        polled = threading.Condition()
        done = threading.Event()
        held = [0]

        def wait_for_a_poll() -> None:
            # Hold the transaction open until the consumer has read the feed at least once meanwhile.
            with polled:
                start = feed.polls
                polled.wait_for(lambda: feed.polls > start or done.is_set(), timeout=60)
            held[0] += 1

        def writer(index: int) -> Callable[[], None]:
            store = self.stores[index]
            rnd = random.Random(index)

            def write() -> None:
                versions: dict[int, int] = {}
                pages = [list(range(start, start + page)) for start in range(0, per_store, page)]
                # Every third page re-sends earlier orders with a newer version (updates), mixed with new ones.
                for number, numbers in enumerate(pages):
                    batch = numbers
                    if number % 3 == 2:
                        batch = numbers + rnd.sample(sorted(versions), k=min(len(versions), page // 2))
                    for n in batch:
                        versions[n] = versions.get(n, -1) + 1
                    orders = [amazon_order(oid(n, index), version=versions[n]) for n in batch]
                    with self.gate.turn(), transaction.atomic():
                        store_orders(store, orders)
                        if self.gate.concurrent and number % 4 == 1:
                            wait_for_a_poll()

            return write

        threads = [threading.Thread(target=self.guarded(writer(i)), daemon=True) for i in range(4)]
        for t in threads:
            t.start()
        while True:
            finished = all(not t.is_alive() for t in threads)
            with self.gate.turn():
                body = feed.page(limit=500)
            with polled:
                polled.notify_all()
            if finished and not body["has_more"] and not body["results"]:
                break
            if not body["results"]:
                time.sleep(0.002)  # nothing new: let the writers run
        done.set()
        for t in threads:
            t.join(timeout=120)
        self.assertEqual(self.errors, [])

        final = dict(Order.objects.values_list("amazon_order_id", "last_updated"))
        self.assertEqual(len(final), 10_000)
        versions: dict[str, list[str]] = defaultdict(list)
        for r in feed.received:
            versions[r["amazon_order_id"]].append(r["last_updated"])
        self.assertEqual(set(versions), set(final), "an order is missing")
        for order_id, seen in versions.items():
            self.assertEqual(seen, sorted(set(seen)), f"{order_id} received twice in a row or out of order")
            self.assertEqual(seen[-1], final[order_id].isoformat().replace("+00:00", "Z"), order_id)
        positions = [Position.parse(r["position"]) for r in feed.received]
        self.assertEqual(positions, sorted(set(positions)))
        if self.gate.concurrent:
            self.assertGreater(held[0], 0)

    def guarded(self, target: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                target()
            except BaseException as e:  # noqa: BLE001 (reported by the test's thread)
                self.errors.append(e)
            finally:
                connection.close()

        return run
