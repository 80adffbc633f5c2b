"""The pager past the exact-count threshold: "about N" (rounded, no page total), in English and Chinese (whose
number format groups no digits).

SQLite has no planner estimate, so these tests stand in PostgreSQL's (`stores.paging.estimates`, `planner_rows`);
the lists themselves run as they do, on whatever database the suite uses.
"""

from __future__ import annotations

from unittest import mock

from django.conf import settings
from django.template.loader import render_to_string
from django.test import override_settings
from django.urls import reverse
from django.utils import translation

from accounts.models import User
from stores.models import Store
from stores.paging import BigPaginator
from tests.base import BaseTestCase, make_store


def estimated(rows: int) -> mock._patch_default_new:  # type: ignore[name-defined]
    """PostgreSQL's estimate of `rows` for every list, whatever the database."""
    return mock.patch.multiple("stores.paging", estimates=lambda alias: True, planner_rows=lambda qs: rows)


class ApproximateCountTests(BaseTestCase):
    def paginator(self, count: int, estimated: bool) -> BigPaginator:
        p = BigPaginator(Store.objects.order_by("-created_at", "-id"), 5, threshold=4)
        p.count = count  # type: ignore[misc]
        p._estimated = estimated
        return p

    def test_an_estimate_is_rounded_to_two_significant_digits_an_exact_count_never(self) -> None:
        self.assertEqual(self.paginator(998_513, True).approximate_count, 1_000_000)
        self.assertEqual(self.paginator(54_321, True).approximate_count, 54_000)
        self.assertEqual(self.paginator(10_001, True).approximate_count, 10_000)
        self.assertEqual(self.paginator(87, True).approximate_count, 87)
        self.assertEqual(self.paginator(998_513, False).approximate_count, 998_513)

    def test_a_list_without_a_noun_says_only_the_page(self) -> None:
        p = self.paginator(123_456, True)
        with translation.override("en"):
            html = render_to_string("includes/pager.html", {"page": p.page(1)})
        self.assertIn("<span>Page 1</span>", html)
        with translation.override("zh-hans"):
            html = render_to_string("includes/pager.html", {"page": p.page(1)})
        self.assertIn("<span>第 1 页</span>", html)


@override_settings(LIST_EXACT_COUNT_UP_TO=4, STORES_PER_PAGE=5, SYNC_ROWS_PER_PAGE=5)
class EstimatedListTests(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        for i in range(11):
            make_store(self.tenant, nickname=f"Bulk {i:03d}")  # 12 stores with the base one
        self.staff = User.objects.create_user(email="staff@example.org", password="x", is_staff=True)

    def test_the_tenant_list_says_about_n_stores_in_english_and_chinese(self) -> None:
        self.login(self.alice)
        with estimated(123_456):
            r = self.client.get(reverse("stores:list"))
            self.assertContains(r, "Page 1 · about 120,000 stores")
            self.assertNotContains(r, "Page 1 of")
            self.assertEqual(len(r.context["page"].object_list), 5)
            self.assertContains(r, "page=2")  # the rows decide Next: 12 stores, 5 a page
            self.client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
            self.addCleanup(translation.deactivate)
            r = self.client.get(reverse("stores:list"))
        self.assertContains(r, "第 1 页 · 约 120000 个店铺")

    def test_the_last_page_of_an_estimated_list_links_no_further(self) -> None:
        self.login(self.alice)
        with estimated(123_456):
            r = self.client.get(reverse("stores:list"), {"page": "3"})
        self.assertEqual(len(r.context["page"].object_list), 2)
        self.assertContains(r, "Page 3 · about 120,000 stores")
        self.assertNotContains(r, "page=4")

    def test_the_staff_page_says_about_n_in_the_pager_and_the_all_matching_option(self) -> None:
        self.login(self.staff)
        with estimated(2_345_678):
            r = self.client.get(reverse("staff:staff_stores"))
            self.assertContains(r, "Page 1 · about 2,300,000 stores")
            self.assertContains(r, "All of about 2,300,000 stores matching the filter")
            self.client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
            self.addCleanup(translation.deactivate)
            r = self.client.get(reverse("staff:staff_stores"))
        self.assertContains(r, "第 1 页 · 约 2300000 个店铺")
        self.assertContains(r, "全部约 2300000 个符合筛选条件的店铺")

    def test_below_the_threshold_the_totals_stay_exact(self) -> None:
        self.login(self.alice)
        with estimated(123_456), override_settings(LIST_EXACT_COUNT_UP_TO=100):
            r = self.client.get(reverse("stores:list"))
        self.assertContains(r, "Page 1 of 3 · 12 stores")
        self.assertNotContains(r, "about")
