"""The orders page: search, state and purchase-date filters, the pager keeping them, and the CSV export."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.test import TestCase
from django.urls import reverse
from django.utils.formats import date_format

from stores.models import Store
from sync import labels, tasks
from sync.models import Order, OrderItem, local_time
from sync.views import csv_cell
from tests.base import BaseTestCase
from tests.sync.helpers import SyncTestCase

US = "ATVPDKIKX0DER"
CA = "A2EUQ1WTGCTBG2"
LA = ZoneInfo("America/Los_Angeles")


def add_order(
    store: Store,
    order_id: str,
    at: datetime,
    status: str = "SHIPPED",
    marketplace_id: str = US,
    items: tuple[tuple[str, int], ...] = (("SKU-1", 1),),
    total: Decimal | None = Decimal("12.5"),
    currency: str = "USD",
) -> Order:
    local = local_time(at, marketplace_id, store.timezone)
    order = Order.objects.create(
        store=store,
        amazon_order_id=order_id,
        marketplace_id=marketplace_id,
        purchase_date=at,
        purchase_date_local=local.isoformat(timespec="seconds"),
        purchase_day_local=local.date(),
        status=status,
        total_amount=total,
        currency=currency,
        last_updated=at,
    )
    for n, (sku, quantity) in enumerate(items):
        OrderItem.objects.create(order=order, order_item_id=f"{order_id}-{n}", sku=sku, quantity=quantity)
    return order


class OrdersPageCase(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.assertEqual(self.store.timezone, "America/Los_Angeles")
        base = datetime(2026, 2, 10, 18, 0, tzinfo=UTC)
        self.shipped = add_order(self.store, "111-0000001-0000001", base, "SHIPPED")
        self.unshipped = add_order(self.store, "111-0000001-0000002", base - timedelta(days=1), "UNSHIPPED")
        self.cancelled = add_order(self.store, "112-0000002-0000003", base - timedelta(days=2), "CANCELLED")
        # 07:30 UTC on 10 February is 23:30 on 9 February in Los Angeles, the store's time zone.
        self.late_evening = add_order(
            self.store, "113-0000003-0000004", datetime(2026, 2, 10, 7, 30, tzinfo=UTC), "SHIPPED", CA
        )
        self.login(self.vera)

    def url(self) -> str:
        return reverse("sync:orders", args=[self.store.code])

    def export_url(self) -> str:
        return reverse("sync:orders_export", args=[self.store.code])

    def ids(self, **query: str) -> set[str]:
        r = self.client.get(self.url(), query)
        self.assertEqual(r.status_code, 200)
        return {row.order.amazon_order_id for row in r.context["rows"]}

    def export(self, **query: str) -> list[list[str]]:
        r = self.client.get(self.export_url(), query)
        self.assertEqual(r.status_code, 200)
        body = b"".join(r.streaming_content)  # type: ignore[attr-defined]
        self.assertTrue(body.startswith(b"\xef\xbb\xbf"), body[:10])
        return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


class SearchAndFilterTests(OrdersPageCase):
    def test_search_by_the_whole_order_id_or_its_beginning(self) -> None:
        self.assertEqual(self.ids(q="111-0000001-0000002"), {"111-0000001-0000002"})
        self.assertEqual(self.ids(q=" 111-0000001 "), {"111-0000001-0000001", "111-0000001-0000002"})
        self.assertEqual(self.ids(q="999"), set())
        r = self.client.get(self.url(), {"q": "999"})
        self.assertContains(r, 'data-testid="orders-none-match"')
        self.assertNotContains(r, "No orders loaded yet.")

    def test_the_state_filter_offers_the_stored_states_with_readable_labels(self) -> None:
        r = self.client.get(self.url())
        choices = dict(r.context["form"].fields["status"].choices)
        self.assertEqual(
            choices,
            {"": "All states", "UNSHIPPED": "Unshipped", "SHIPPED": "Shipped", "CANCELLED": "Cancelled"},
        )
        self.assertContains(r, '<option value="SHIPPED">Shipped</option>', html=True)
        self.assertContains(r, '<td data-status="CANCELLED">Cancelled</td>', html=True)
        self.assertEqual(self.ids(status="SHIPPED"), {"111-0000001-0000001", "113-0000003-0000004"})
        self.assertEqual(self.ids(status="CANCELLED"), {"112-0000002-0000003"})
        r = self.client.get(self.url(), {"status": "SHIPPED"})
        self.assertContains(r, '<option value="SHIPPED" selected>Shipped</option>', html=True)

    def test_the_purchase_date_range_is_in_the_stores_time_zone(self) -> None:
        self.assertEqual(
            self.ids(date_from="2026-02-09", date_to="2026-02-09"),
            {"111-0000001-0000002", "113-0000003-0000004"},
        )
        self.assertEqual(self.ids(date_from="2026-02-10"), {"111-0000001-0000001"})
        self.assertEqual(self.ids(date_to="2026-02-08"), {"112-0000002-0000003"})

    def test_filters_combine(self) -> None:
        self.assertEqual(self.ids(q="11", status="SHIPPED", date_from="2026-02-10"), {"111-0000001-0000001"})
        self.assertEqual(self.ids(q="113", status="SHIPPED", date_to="2026-02-09"), {"113-0000003-0000004"})

    def test_bad_filter_input_is_an_error_on_the_page_and_is_ignored(self) -> None:
        bad = [
            {"date_from": "2026-13-45"},
            {"date_to": "tomorrow"},
            {"date_from": "0001-01-01"},
            {"date_to": "9999-12-31"},
            {"status": "NOT_A_STATE"},
            {"q": "1" * 41},
            {"page": "x", "date_from": "garbage", "status": ["SHIPPED", "<script>"]},
        ]
        every = {o.amazon_order_id for o in Order.objects.filter(store=self.store)}
        for query in bad:
            with self.subTest(query=query), self.assertLogs("sync.views", "INFO"):
                r = self.client.get(self.url(), query)
                self.assertEqual(r.status_code, 200)
                self.assertContains(r, 'data-testid="orders-filter-errors"')
                self.assertEqual({row.order.amazon_order_id for row in r.context["rows"]}, every)
                self.assertNotIn("date_from", r.context["query"])
        self.assertEqual(self.export(date_from="garbage", status="NOPE")[1:].__len__(), len(every))

    def test_a_reversed_date_range_is_an_error_and_the_valid_filters_still_apply(self) -> None:
        with self.assertLogs("sync.views", "INFO"):
            r = self.client.get(
                self.url(), {"date_from": "2026-02-10", "date_to": "2026-02-01", "status": "SHIPPED"}
            )
        self.assertContains(r, "The end date is before the start date.")
        self.assertEqual({row.order.amazon_order_id for row in r.context["rows"]}, {"111-0000001-0000001"})
        self.assertEqual(r.context["query"], "status=SHIPPED&date_from=2026-02-10")

    def test_orders_without_a_status_can_be_filtered(self) -> None:
        add_order(self.store, "114-0000004-0000005", datetime(2026, 2, 1, tzinfo=UTC), "")
        r = self.client.get(self.url())
        self.assertIn(("-", "No status"), r.context["form"].fields["status"].choices)
        self.assertEqual(self.ids(status="-"), {"114-0000004-0000005"})


class PagerTests(BaseTestCase):
    def test_the_pager_keeps_the_filters(self) -> None:
        start = datetime(2026, 2, 1, tzinfo=UTC)
        n = settings.SYNC_ROWS_PER_PAGE + 5
        for i in range(n):
            add_order(self.store, f"201-{i:07d}-0000000", start + timedelta(hours=i), "SHIPPED")
        for i in range(7):
            add_order(self.store, f"202-{i:07d}-0000000", start + timedelta(hours=i, minutes=5), "UNSHIPPED")
        self.login(self.vera)
        url = reverse("sync:orders", args=[self.store.code])
        r = self.client.get(url, {"status": "SHIPPED", "date_from": "2026-01-01"})
        self.assertEqual(r.context["page"].paginator.count, n)
        self.assertContains(r, "?status=SHIPPED&amp;date_from=2026-01-01&amp;page=2")
        self.assertIn(
            "status=SHIPPED&amp;date_from=2026-01-01", r.context["export_url"].replace("&", "&amp;")
        )
        r = self.client.get(url, {"status": "SHIPPED", "date_from": "2026-01-01", "page": "2"})
        rows = r.context["rows"]
        self.assertEqual(len(rows), 5)
        self.assertTrue(all(row.order.status == "SHIPPED" for row in rows))
        self.assertContains(r, "?status=SHIPPED&amp;date_from=2026-01-01&amp;page=1")
        # A page beyond the end is the last page; the filter stays.
        r = self.client.get(url, {"status": "UNSHIPPED", "page": "9"})
        self.assertEqual(len(r.context["rows"]), 7)


class DateDisplayTests(OrdersPageCase):
    def test_purchase_dates_show_date_and_time_apart_in_the_project_format(self) -> None:
        r = self.client.get(self.url(), {"q": "113"})
        html = r.content.decode()
        # In the site's time zone (what purchase_date_local holds), as the page's header says.
        local = local_time(self.late_evening.purchase_date, CA, "")
        self.assertEqual(local.isoformat(timespec="seconds"), self.late_evening.purchase_date_local)
        self.assertIn(date_format(local, "SHORT_DATETIME_FORMAT"), html)
        self.assertIn(date_format(self.late_evening.purchase_date, "SHORT_DATETIME_FORMAT") + " UTC", html)
        self.assertIsNone(re.search(r"\d{4}-\d{2}-\d{2}\d{2}:\d{2}", html))


class ExportTests(OrdersPageCase):
    def test_the_export_has_a_header_and_the_filtered_rows_in_the_stores_time_zone(self) -> None:
        rows = self.export(status="SHIPPED")
        self.assertEqual(
            rows[0],
            [
                "Amazon order id",
                "Purchase date (America/Los_Angeles)",
                "State",
                "Site",
                "Item quantity",
                "Items",
                "Total",
                "Currency",
            ],
        )
        self.assertEqual(
            rows[1:],
            [
                [
                    "111-0000001-0000001",
                    "2026-02-10 10:00:00",
                    "Shipped",
                    "US",
                    "1",
                    "SKU-1 × 1",
                    "12.50",
                    "USD",
                ],
                [
                    "113-0000003-0000004",
                    "2026-02-09 23:30:00",
                    "Shipped",
                    "CA",
                    "1",
                    "SKU-1 × 1",
                    "12.50",
                    "USD",
                ],
            ],
        )

    def test_the_export_uses_every_filter_of_the_page(self) -> None:
        self.assertEqual([r[0] for r in self.export()[1:]], [
            "111-0000001-0000001", "113-0000003-0000004", "111-0000001-0000002", "112-0000002-0000003",
        ])  # fmt: skip
        self.assertEqual([r[0] for r in self.export(q="112")[1:]], ["112-0000002-0000003"])
        self.assertEqual(
            [r[0] for r in self.export(date_from="2026-02-09", date_to="2026-02-09")[1:]],
            ["113-0000003-0000004", "111-0000001-0000002"],
        )

    def test_the_page_links_the_export_with_its_filters(self) -> None:
        r = self.client.get(self.url(), {"status": "CANCELLED", "q": "112"})
        self.assertContains(r, 'data-testid="orders-export"')
        self.assertEqual(r.context["export_url"], self.export_url() + "?q=112&status=CANCELLED")

    def test_chinese_text_survives_and_cells_cannot_start_a_formula(self) -> None:
        add_order(
            self.store,
            '=HYPERLINK("http://evil")',
            datetime(2026, 2, 11, 1, tzinfo=UTC),
            "@SUM(A1)",
            items=(("+商品-1", 2), ("普通", 3)),
            total=None,
            currency="-1",
        )
        row = self.export(q="=HYP")[1]
        self.assertEqual(row[0], '\'=HYPERLINK("http://evil")')
        self.assertEqual(row[2], "'@SUM(A1)")
        self.assertEqual(row[4], "5")
        self.assertEqual(row[5], "'+商品-1 × 2; 普通 × 3")
        self.assertEqual(row[6], "")
        self.assertEqual(row[7], "'-1")

    def test_the_response_is_a_streamed_csv_attachment(self) -> None:
        r = self.client.get(self.export_url())
        self.assertTrue(r.streaming)
        self.assertEqual(r["Content-Type"], "text/csv; charset=utf-8")
        self.assertTrue(r["Content-Disposition"].startswith("attachment;"))
        self.assertIn(".csv", r["Content-Disposition"])

    def test_access_is_that_of_the_page(self) -> None:
        self.client.logout()
        self.assertEqual(self.client.get(self.export_url()).status_code, 302)
        self.login(self.charlie)
        self.assertEqual(self.client.get(self.export_url()).status_code, 404)
        self.assertEqual(self.client.get(self.url()).status_code, 404)
        for user in (self.vera, self.bob, self.alice):
            self.login(user)
            self.assertEqual(self.client.get(self.export_url()).status_code, 200)
        self.assertEqual(self.client.post(self.export_url()).status_code, 405)


class CsvCellTests(TestCase):
    def test_formula_starts_are_quoted(self) -> None:
        for value in ("=1+1", "+1", "-1", "@A1", "\tx", "\rx"):
            self.assertEqual(csv_cell(value), "'" + value)
        for value in ("", "111-222", "a=b", "商品"):
            self.assertEqual(csv_cell(value), value)


class StatusLabelTests(TestCase):
    def test_stored_states_have_readable_labels(self) -> None:
        self.assertEqual(labels.order_status_label("UNSHIPPED"), "Unshipped")
        self.assertEqual(labels.order_status_label("SHIPPED"), "Shipped")
        self.assertEqual(labels.order_status_label("PARTIALLY_SHIPPED"), "Partially shipped")
        # Orders API 2026-01-01 spells CANCELLED, v0 "Canceled": one label.
        for value in ("CANCELED", "CANCELLED", "Canceled"):
            self.assertEqual(labels.order_status_label(value), "Cancelled")
        self.assertEqual(labels.order_status_label("PartiallyShipped"), "Partially shipped")
        self.assertEqual(labels.order_status_label("SOMETHING_NEW"), "SOMETHING_NEW")
        self.assertEqual(labels.order_status_label(""), "No status")


class SandboxOrdersTests(SyncTestCase):
    def test_loaded_orders_filter_and_export_consistently(self) -> None:
        self.authorize_orders()
        tasks.sync_orders(self.store.pk)
        self.login(self.vera)
        states = set(Order.objects.filter(store=self.store).values_list("status", flat=True))
        self.assertTrue(states)
        url = reverse("sync:orders", args=[self.store.code])
        export = reverse("sync:orders_export", args=[self.store.code])
        for state in states:
            r = self.client.get(url, {"status": state})
            expected = Order.objects.filter(store=self.store, status=state).count()
            self.assertEqual(r.context["page"].paginator.count, expected)
            body = b"".join(self.client.get(export, {"status": state}).streaming_content)  # type: ignore[attr-defined]
            lines = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
            self.assertEqual(len(lines) - 1, expected)
            self.assertEqual({line[2] for line in lines[1:]}, {labels.order_status_label(state)})


class StreamedBodyTests(OrdersPageCase):
    def test_reading_the_whole_body_leaves_the_stream_readable(self) -> None:
        r = self.client.get(self.export_url())
        body = r.content
        self.assertTrue(body.startswith(b"\xef\xbb\xbf"))
        self.assertEqual(b"".join(r.streaming_content), body)  # type: ignore[attr-defined]

    def test_the_page_and_the_export_work_in_chinese(self) -> None:
        self.client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
        r = self.client.get(self.url(), {"status": "SHIPPED", "date_from": "2026-02-01"})
        self.assertEqual(r.status_code, 200)
        self.assertEqual(len(r.context["rows"]), 2)
        rows = self.export(status="SHIPPED")
        self.assertEqual(len(rows), 3)
