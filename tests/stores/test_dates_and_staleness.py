"""What a distributor and staff read about time: one date format per language, the store's own calendar for order
loading, hours on the last day, order loading shown as behind when it is, and what happens after an authorization."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from accounts.models import User
from authorizations import app_secrets
from authorizations.models import ApplicationCredential, Authorization, AuthStatus
from authorizations.templatetags.time_tags import span, time_left, time_since
from stores.models import Store
from sync.models import OrderSync
from tests.base import BaseTestCase, make_store
from tests.sync.helpers import SyncTestCase

SYDNEY = ZoneInfo("Australia/Sydney")


def untimed(page: str) -> str:
    """The page without its <time> tags: the words a reader sees, each time with its zone."""
    return re.sub(r"</?time[^>]*>", "", page)


def authorize_orders_directly(store: Store, when: datetime | None = None) -> Authorization:
    """Order loading marked authorized in the database (no Amazon needed for what the pages say)."""
    a = Authorization.objects.get(store=store, capability="orders")
    a.status = AuthStatus.AUTHORIZED
    a.authorized_at = when or timezone.now()
    a.expires_at = a.authorized_at + timedelta(days=365)
    a.save()
    return a


def loaded_sync(store: Store, last_success: datetime) -> OrderSync:
    """Past orders all loaded; the last query finished at `last_success`."""
    return OrderSync.objects.create(
        store=store,
        phase=OrderSync.Phase.INCREMENTAL,
        backfill_from=last_success - timedelta(days=30),
        backfill_done_until=last_success,
        backfill_finished_at=last_success,
        last_success_at=last_success,
        orders_loaded=12,
        next_run_at=last_success + timedelta(minutes=settings.ORDER_SYNC_INTERVAL_MINUTES),
    )


class FormatTests(BaseTestCase):
    """config/formats: Y-m-d in English, Y年n月j日 in Chinese, the same for every date of a page."""

    def setUp(self) -> None:
        super().setUp()
        self.store.initial_order_date = date(2026, 11, 1)
        self.store.save(update_fields=["initial_order_date"])
        self.login(self.alice)

    def detail(self, language: str = "en") -> str:
        self.client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        # A request leaves its language active in this thread (LocaleMiddleware): later tests expect English.
        self.addCleanup(translation.deactivate)
        return untimed(self.client.get(reverse("stores:detail", args=[self.store.code])).content.decode())

    def test_english_dates_are_year_month_day_everywhere(self) -> None:
        page = self.detail()
        self.assertIn("<dd>2026-11-01 PST</dd>", page)
        self.assertNotIn("Nov. 1, 2026", page)
        created = timezone.localtime(self.store.created_at, ZoneInfo(self.store.timezone))
        self.assertIn(created.strftime("%Y-%m-%d %H:%M %Z"), page)

    def test_chinese_dates_are_written_the_chinese_way(self) -> None:
        page = self.detail("zh-hans")
        self.assertIn("<dd>2026年11月1日 PST</dd>", page)
        self.assertNotIn("2026-11-01", page)

    def test_the_formats_come_from_the_format_modules(self) -> None:
        from django.utils.formats import date_format

        moment = datetime(2026, 12, 1, 20, 38, tzinfo=ZoneInfo("UTC"))
        with translation.override("en"):
            self.assertEqual(date_format(moment, "SHORT_DATETIME_FORMAT"), "2026-12-01 20:38")
            self.assertEqual(date_format(moment.date()), "2026-12-01")
        with translation.override("zh-hans"):
            self.assertEqual(date_format(moment, "SHORT_DATETIME_FORMAT"), "2026年12月1日 20:38")
            self.assertEqual(date_format(moment.date(), "SHORT_DATE_FORMAT"), "2026年12月1日")


class StoreTimeZoneTests(BaseTestCase):
    """An Australian store's order loading is told on Sydney's calendar, not UTC's."""

    def setUp(self) -> None:
        super().setUp()
        self.au = make_store(self.tenant, "Sydney shop", region="FE", sites=["AU"])
        self.au.initial_order_date = date(2026, 11, 1)
        self.au.save(update_fields=["initial_order_date"])
        self.login(self.alice)

    def test_waiting_to_start_names_the_stores_own_first_day(self) -> None:
        from sync.order_state import backfill_start

        auth = authorize_orders_directly(self.au)
        start = backfill_start(self.au, auth)
        self.assertEqual(start.date(), date(2026, 10, 31))  # midnight in Sydney is still the 31st in UTC
        OrderSync.objects.create(store=self.au, backfill_from=start)
        page = untimed(self.client.get(reverse("stores:detail", args=[self.au.code])).content.decode())
        self.assertIn("Waiting to start from 2026-11-01 AEDT", page)
        self.assertNotIn("2026-10-31", page)
        self.assertIn("Dates and times on this page are in the store's time zone, Australia/Sydney.", page)

    def test_the_list_shows_the_last_sync_in_the_stores_time_zone_with_a_space(self) -> None:
        authorize_orders_directly(self.au)
        at = timezone.now() - timedelta(minutes=3)
        loaded_sync(self.au, at)
        # Created in the evening of 31 October UTC: the morning of 1 November in Sydney.
        Store.objects.filter(pk=self.au.pk).update(
            created_at=datetime(2026, 10, 31, 20, 0, tzinfo=ZoneInfo("UTC"))
        )
        page = untimed(self.client.get(reverse("stores:list")).content.decode())
        self.assertIn(f"Up to date · {at.astimezone(SYDNEY):%Y-%m-%d %H:%M %Z}", page)
        self.assertIn('<td class="small when">2026-11-01 AEDT</td>', page)
        self.assertNotIn("2026-10-31", page)


class StalenessTests(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.login(self.alice)

    def test_no_sync_for_two_intervals_while_authorized_is_behind(self) -> None:
        authorize_orders_directly(self.store)
        loaded_sync(self.store, timezone.now() - timedelta(hours=3, minutes=5))
        for url in (reverse("stores:list"), reverse("stores:detail", args=[self.store.code])):
            page = self.client.get(url)
            self.assertContains(page, "Behind: last loaded 3 hours ago")
            self.assertContains(page, 'data-testid="order-behind"')
        self.assertNotContains(self.client.get(reverse("stores:list")), "Up to date")

    @override_settings(ORDER_SYNC_INTERVAL_MINUTES=15)
    def test_two_intervals_is_the_threshold(self) -> None:
        authorize_orders_directly(self.store)
        sync = loaded_sync(self.store, timezone.now() - timedelta(minutes=29))
        self.assertFalse(sync.is_behind)
        self.assertContains(self.client.get(reverse("stores:list")), "Up to date")
        sync.last_success_at = timezone.now() - timedelta(minutes=31)
        self.assertTrue(sync.is_behind)
        self.assertEqual(sync.last_success_age // timedelta(minutes=1), 31)

    def test_only_an_authorized_store_with_its_past_orders_loaded_can_be_behind(self) -> None:
        old = timezone.now() - timedelta(days=2)
        sync = loaded_sync(self.store, old)
        self.assertFalse(sync.is_behind, "order loading is not authorized")
        a = authorize_orders_directly(self.store)
        sync = OrderSync.objects.get(pk=sync.pk)
        self.assertTrue(sync.is_behind)
        a.status = AuthStatus.DISABLED
        a.save(update_fields=["status"])
        self.assertFalse(OrderSync.objects.get(pk=sync.pk).is_behind, "disabled: nothing is expected to run")
        loading = OrderSync(store=self.store, backfill_from=old, last_success_at=None)
        self.assertIsNone(loading.last_success_age)
        self.assertFalse(loading.is_behind, "the backfill shows its own progress")

    def test_behind_rows_cost_no_query_each(self) -> None:
        def queries() -> int:
            with CaptureQueriesContext(connection) as ctx:
                self.assertContains(self.client.get(reverse("stores:list")), 'data-testid="order-progress"')
            return len(ctx.captured_queries)

        authorize_orders_directly(self.store)
        loaded_sync(self.store, timezone.now() - timedelta(hours=5))
        few = queries()
        for n in range(5):
            store = make_store(self.tenant, f"Behind {n}")
            authorize_orders_directly(store)
            loaded_sync(store, timezone.now() - timedelta(hours=5))
        self.assertEqual(queries(), few)
        self.assertContains(
            self.client.get(reverse("stores:list")), "Behind: last loaded 5 hours ago", count=6
        )


class TimeLeftTests(BaseTestCase):
    def test_a_duration_is_said_in_its_largest_whole_unit(self) -> None:
        with translation.override("en"):
            self.assertEqual(span(3 * 86400 + 5), "3 days")
            self.assertEqual(span(86400), "1 day")
            self.assertEqual(span(20 * 3600 + 59 * 60), "20 hours")
            self.assertEqual(span(3600), "1 hour")
            self.assertEqual(span(45 * 60 + 10), "45 minutes")
            self.assertEqual(span(5), "1 minute")
            self.assertEqual(span(-30), "0 minutes")
            self.assertEqual(time_left(None), "")
            self.assertEqual(time_since(timedelta(hours=2)), "2 hours")
            self.assertEqual(time_left(timezone.now() + timedelta(hours=20, minutes=30)), "20 hours")

    def test_the_capability_card_says_hours_on_the_last_day(self) -> None:
        a = authorize_orders_directly(self.store, timezone.now() - timedelta(days=364))
        a.expires_at = timezone.now() + timedelta(hours=20, minutes=10)
        a.save(update_fields=["expires_at"])
        self.assertEqual(a.days_to_expiry, 0)
        with translation.override("en"):
            self.assertEqual(a.time_left, "20 hours")
        self.login(self.alice)
        page = self.client.get(reverse("stores:detail", args=[self.store.code]))
        self.assertContains(page, "Renew: 20 hours left")
        self.assertNotContains(page, "Renew: 0 days left")

    def test_the_staff_secret_line_says_hours_on_the_last_day(self) -> None:
        staff = User.objects.create_user("staff@example.org", "x", is_staff=True)
        row = app_secrets.credential(ApplicationCredential.Kind.ORDERS)
        ApplicationCredential.objects.filter(pk=row.pk).update(
            secret_expires_at=timezone.now() + timedelta(hours=20, minutes=5)
        )
        self.client.force_login(staff)
        page = self.client.get(reverse("staff:staff_stores"))
        self.assertContains(page, "expires in 20 hours")
        ApplicationCredential.objects.filter(pk=row.pk).update(
            secret_expires_at=timezone.now() + timedelta(days=12, hours=3)
        )
        self.assertContains(self.client.get(reverse("staff:staff_stores")), "expires in 12 days")


class WhatHappensNextTests(SyncTestCase):
    """After a successful authorization the attempt page says what the platform does now and when data arrives."""

    def attempt_page(self, capability: str) -> str:
        self.authorize(capability)
        attempt = self.store.attempts.filter(capability=capability).latest("started_at")
        url = reverse("authorizations:attempt", args=[self.store.code, capability, attempt.code])
        return self.client.get(url).content.decode()

    @override_settings(ORDER_SYNC_INTERVAL_MINUTES=15)
    def test_order_loading_names_the_first_day_and_when_new_orders_appear(self) -> None:
        page = self.attempt_page("orders")
        self.assertIn("Authorization succeeded", page)
        first = self.store.initial_order_date
        assert first is not None
        zone = datetime.combine(first, time(12), ZoneInfo(self.store.timezone)).tzname()
        self.assertIn(
            f"Past orders from {first:%Y-%m-%d} {zone} are being loaded now; new orders appear within about 15 "
            "minutes.",
            untimed(page),
        )
        # The store page, where the success message lands, says it too until the past orders are in.
        store_page = self.client.get(reverse("stores:detail", args=[self.store.code]))
        self.assertContains(store_page, 'data-testid="next-orders"')

    @override_settings(INVENTORY_PUSH_INTERVAL_MINUTES=15)
    def test_listing_sync_says_how_often_stock_is_pushed(self) -> None:
        page = self.attempt_page("listings")
        self.assertIn(
            "Stock levels of mapped SKUs are pushed to Amazon every 15 minutes; only changed quantities are sent.",
            page,
        )

    def test_the_chinese_page_writes_the_first_day_the_chinese_way(self) -> None:
        self.client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
        self.addCleanup(translation.deactivate)
        page = self.attempt_page("orders")
        first = self.store.initial_order_date
        assert first is not None
        self.assertIn(f"{first.year}年{first.month}月{first.day}日", page)

    def test_advertising_says_how_many_profiles_were_stored(self) -> None:
        from tests.sandbox_http import sandbox_path

        attempt = self.begin("ads")
        url = sandbox_path(attempt.consent_url)
        self.amazon.get(url)
        allowed = self.amazon.post(url, {"seller": self.seller.selling_partner_id, "action": "allow"})
        self.callback(str(allowed["Location"]))
        auth = Authorization.objects.get(store=self.store, capability="ads")
        self.assertEqual(auth.status, AuthStatus.AUTHORIZED)
        n = len(auth.matching_profiles)
        page = self.client.get(
            reverse("authorizations:attempt", args=[self.store.code, "ads", attempt.code])
        ).content.decode()
        self.assertIn(f"{n} advertising profile", page)
        self.assertIn('data-testid="next-ads"', page)
