"""The big-list paginator (stores/paging.py): exact totals up to a threshold, PostgreSQL's estimate past it, the same
queries at every size, and pager links that keep the filter. Runs on SQLite and PostgreSQL alike."""

from __future__ import annotations

import re

from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import User
from stores.models import CombinedStatus, Store
from stores.paging import BigPaginator
from tests.base import BaseTestCase, make_store, make_user


def _fill(tenant: object, n: int, prefix: str = "Bulk") -> None:
    for i in range(n):
        make_store(tenant, nickname=f"{prefix} {i:03d}")  # type: ignore[arg-type]


class BigPaginatorTests(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        _fill(self.tenant, 11)  # 12 stores with the base one

    def stores(self):  # type: ignore[no-untyped-def]
        return Store.objects.filter(tenant=self.tenant).order_by("-created_at", "-id")

    def test_the_total_is_exact_up_to_the_threshold(self) -> None:
        p = BigPaginator(self.stores(), 5, threshold=12)
        self.assertEqual(p.count, 12)
        self.assertFalse(p.estimated)
        self.assertEqual(p.num_pages, 3)
        self.assertEqual(len(p.page(3).object_list), 2)
        self.assertFalse(p.page(3).has_next())

    def test_past_the_threshold_postgresql_estimates_and_sqlite_stays_exact(self) -> None:
        p = BigPaginator(self.stores(), 5, threshold=4)
        if connection.vendor == "postgresql":
            self.assertTrue(p.estimated)
            self.assertGreaterEqual(p.count, 5)
        else:
            self.assertFalse(p.estimated)
            self.assertEqual(p.count, 12)  # SQLite has no estimate: always exact

    def test_the_last_exact_page_is_read_without_a_limit_the_others_with_one(self) -> None:
        # A LIMIT as small as a search's few matches tempts PostgreSQL into walking the order index (stores/paging).
        p = BigPaginator(self.stores(), 5, threshold=12)
        with CaptureQueriesContext(connection) as ctx:
            last = p.page(3)
            self.assertEqual(len(last.object_list), 2)
        # (SQLite writes "LIMIT -1 OFFSET 10" for an offset alone: no limit either)
        self.assertIsNone(re.search(r"LIMIT \d", ctx.captured_queries[-1]["sql"].upper()))
        self.assertFalse(last.has_next())
        with CaptureQueriesContext(connection) as ctx:
            self.assertEqual(len(p.page(2).object_list), 5)
        self.assertRegex(ctx.captured_queries[-1]["sql"].upper(), r"LIMIT 5\b")
        one = BigPaginator(self.stores().filter(nickname="Bulk 003"), 5, threshold=12).page(1)
        self.assertEqual([s.nickname for s in one.object_list], ["Bulk 003"])

    @override_settings(LIST_EXACT_COUNT_UP_TO=4)
    def test_the_threshold_comes_from_settings(self) -> None:
        self.assertEqual(BigPaginator(self.stores(), 5).threshold, 4)

    def test_while_estimated_next_is_decided_by_the_rows(self) -> None:
        p = BigPaginator(self.stores(), 5, threshold=4)
        p.estimated = True  # as on PostgreSQL past the threshold, whatever the planner guessed
        p.count = 1000  # type: ignore[misc]  # a wild overestimate
        self.assertTrue(p.page(2).has_next())
        last = p.page(3)
        self.assertEqual(len(last.object_list), 2)
        self.assertFalse(last.has_next())

    def test_postgresql_counts_at_most_threshold_plus_one_rows(self) -> None:
        with CaptureQueriesContext(connection) as ctx:
            count = BigPaginator(self.stores(), 5, threshold=7).count
        sqls = [q["sql"] for q in ctx.captured_queries]
        if connection.vendor == "postgresql":
            self.assertGreaterEqual(count, 8)
            self.assertEqual(len(sqls), 2)  # the capped count and the EXPLAIN
            self.assertIn("LIMIT 8", next(s for s in sqls if "COUNT(" in s.upper()))
            self.assertTrue(any(s.startswith("EXPLAIN") for s in sqls))
        else:
            self.assertEqual((count, len(sqls)), (12, 1))


@override_settings(LIST_EXACT_COUNT_UP_TO=10, STORES_PER_PAGE=5, SYNC_ROWS_PER_PAGE=5)
class ListQueryCountTests(BaseTestCase):
    """A list below the threshold and one above it cost the same number of queries."""

    def setUp(self) -> None:
        super().setUp()
        self.big_owner = make_user("big@example.org", "Big Trading")
        self.big_tenant = self.big_owner.memberships.get().tenant  # type: ignore[attr-defined]
        _fill(self.big_tenant, 14)  # 14 > threshold
        _fill(self.tenant, 2)  # Alice's tenant: 3 stores, two of them found by the search too

    def queries(self, user: User, url: str, params: dict[str, str]) -> int:
        self.client.force_login(user)
        with CaptureQueriesContext(connection) as ctx:
            r = self.client.get(url, params)
        self.assertEqual(r.status_code, 200)
        return len(ctx.captured_queries)

    def test_tenant_list_small_and_big(self) -> None:
        url = reverse("stores:list")
        for params in ({}, {"status": CombinedStatus.NOT_AUTHORIZED}, {"q": "bulk"}):
            with self.subTest(params=params):
                self.assertEqual(
                    self.queries(self.alice, url, params), self.queries(self.big_owner, url, params)
                )

    def test_staff_page_small_and_big(self) -> None:
        staff = User.objects.create_user(email="staff@example.org", password="x", is_staff=True)
        url = reverse("staff:staff_stores")
        for params in ({}, {"status": CombinedStatus.NOT_AUTHORIZED}, {"q": "bulk"}):
            with self.subTest(params=params):
                small = self.queries(staff, url, {**params, "tenant": str(self.tenant.code)})
                big = self.queries(staff, url, {**params, "tenant": str(self.big_tenant.code)})
                self.assertEqual(small, big)

    def test_staff_search_finds_nickname_seller_id_and_tenant_name(self) -> None:
        staff = User.objects.create_user(email="staff@example.org", password="x", is_staff=True)
        Store.objects.filter(pk=self.store.pk).update(selling_partner_id="A1SELLERXYZ")
        self.client.force_login(staff)
        url = reverse("staff:staff_stores")
        r = self.client.get(url, {"q": "sellerxyz"})
        self.assertEqual([s.pk for s in r.context["page"].object_list], [self.store.pk])
        r = self.client.get(url, {"q": "big trad"})
        self.assertEqual(len(r.context["page"].object_list), 5)
        self.assertTrue(all(s.tenant_id == self.big_tenant.pk for s in r.context["page"].object_list))
        r = self.client.get(url, {"q": "bulk 01"})
        self.assertEqual(
            {s.nickname for s in r.context["page"].object_list}, {f"Bulk {i:03d}" for i in range(10, 14)}
        )


@override_settings(LIST_EXACT_COUNT_UP_TO=4, STORES_PER_PAGE=5, SYNC_ROWS_PER_PAGE=5)
class PagerLinkTests(BaseTestCase):
    """Past the threshold, the pager still links page to page with the filter, and the last page has no "Next"."""

    def setUp(self) -> None:
        super().setUp()
        _fill(self.tenant, 11)
        Store.objects.filter(tenant=self.tenant).update(authorization_status=CombinedStatus.PARTIAL)

    def walk(self, url: str, params: dict[str, str], query: str) -> list[str]:
        seen: list[str] = []
        page = 1
        while True:
            r = self.client.get(url, {**params, "page": str(page)})
            self.assertEqual(r.status_code, 200)
            seen += [s.nickname for s in r.context["page"].object_list]
            nxt = f"?{query}&amp;page={page + 1}"
            if nxt not in r.content.decode():
                return seen
            page += 1
            self.assertLess(page, 10)

    def test_tenant_list_with_status_filter(self) -> None:
        self.login(self.alice)
        seen = self.walk(reverse("stores:list"), {"status": "partial"}, "status=partial")
        self.assertEqual(len(seen), 12)
        self.assertEqual(len(set(seen)), 12)

    def test_staff_page_with_status_filter(self) -> None:
        staff = User.objects.create_user(email="staff@example.org", password="x", is_staff=True)
        self.client.force_login(staff)
        seen = self.walk(reverse("staff:staff_stores"), {"status": "partial"}, "status=partial")
        self.assertEqual(len(seen), 12)
        self.assertEqual(len(set(seen)), 12)
