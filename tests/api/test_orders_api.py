"""The orders API over HTTP: what an order shows (and never shows), which keys see it, filters, pages, bad input."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO
from typing import Any
from unittest import mock
from urllib.parse import urlencode

from django.core.cache import cache
from django.core.management import call_command
from django.test import override_settings

from api.order_views import OrderPages
from stores.models import Store
from tests.api.helpers import bearer, make_key
from tests.api.order_helpers import BASE, amazon_order, store_orders
from tests.base import BaseTestCase, make_store

ORDERS = "/api/v1/orders/"
ORDER_ID = "111-0000001-0000001"


class OrdersApiTests(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        cache.clear()
        self.key, self.secret = make_key(self.tenant, self.alice)
        self.other_store = make_store(self.other_tenant, nickname="Charlie US")
        store_orders(self.store, [amazon_order(ORDER_ID)])

    def get(self, url: str, secret: str | None = None, **extra: Any) -> Any:
        return self.client.get(url, **bearer(secret or self.secret, **extra))

    def assert_error(self, response: Any, status: int, code: str) -> dict[str, Any]:
        self.assertEqual(response.status_code, status, response.content)
        body = response.json()
        self.assertEqual(set(body), {"error"})
        self.assertEqual(set(body["error"]), {"code", "message", "fields"})
        self.assertEqual(body["error"]["code"], code)
        return dict(body["error"])

    def ids(self, url: str, secret: str | None = None) -> list[str]:
        response = self.get(url, secret)
        self.assertEqual(response.status_code, 200, response.content)
        return [o["amazon_order_id"] for o in response.json()["results"]]

    def test_an_order_shows_every_field_of_the_order_page_with_its_items(self) -> None:
        body = self.get(f"{ORDERS}{ORDER_ID}/").json()
        self.assertEqual(body["amazon_order_id"], ORDER_ID)
        self.assertEqual(body["store"], str(self.store.code))
        self.assertEqual((body["marketplace_id"], body["site"]), ("ATVPDKIKX0DER", "US"))
        self.assertEqual(body["purchase_date"], "2026-03-01T12:00:00Z")
        # The site's wall clock, as the order page and Seller Central show it (US: Los Angeles, UTC-8 in March 1).
        self.assertEqual(body["purchase_date_local"], "2026-03-01T04:00:00-08:00")
        self.assertEqual((body["status"], body["status_label"]), ("UNSHIPPED", "Unshipped"))
        self.assertEqual((body["total_amount"], body["currency"]), ("19.99", "USD"))
        self.assertEqual(
            body["items"],
            [
                {
                    "order_item_id": f"{ORDER_ID}-1",
                    "sku": "MUG-BLUE",
                    "asin": "B000000001",
                    "quantity": 2,
                    "unit_price": "9.995",
                    "currency": "USD",
                }
            ],
        )
        self.assertEqual(body["last_updated"], "2026-03-01T12:00:01Z")
        self.assertIn("created_at", body)
        self.assertIn("updated_at", body)
        self.assertEqual(self.get(ORDERS).json()["results"], [body])

    @override_settings(ORDER_SYNC_KEEP_RAW=True)
    def test_amazons_raw_answer_with_buyer_data_is_never_shown(self) -> None:
        raw = {
            "orderId": "111-0000002-0000002",
            "buyer": {"buyerEmail": "secret-buyer@marketplace.amazon.com"},
        }
        store_orders(self.store, [amazon_order("111-0000002-0000002", raw=raw)])
        for url in (ORDERS, f"{ORDERS}111-0000002-0000002/", f"{ORDERS}changes/"):
            response = self.get(url)
            self.assertEqual(response.status_code, 200, url)
            self.assertNotIn("secret-buyer", response.content.decode(), url)
            self.assertNotIn("raw", response.content.decode(), url)

    def test_the_status_label_follows_accept_language(self) -> None:
        body = self.get(f"{ORDERS}{ORDER_ID}/", HTTP_ACCEPT_LANGUAGE="zh-Hans").json()
        self.assertEqual((body["status"], body["status_label"]), ("UNSHIPPED", "未发货"))

    def test_another_tenants_key_never_lists_the_order_and_gets_404_on_it(self) -> None:
        _k, foreign = make_key(self.other_tenant, self.charlie)
        self.assertEqual(self.ids(ORDERS, foreign), [])
        self.assert_error(self.get(f"{ORDERS}{ORDER_ID}/", foreign), 404, "not_found")
        store_orders(self.other_store, [amazon_order("222-0000001-0000001")])
        self.assert_error(self.get(f"{ORDERS}222-0000001-0000001/"), 404, "not_found")
        self.assertEqual(self.ids(ORDERS), [ORDER_ID])

    def test_a_store_limited_key_gets_404_on_orders_of_the_tenants_other_stores(self) -> None:
        second = make_store(self.tenant, nickname="Second store")
        store_orders(second, [amazon_order("333-0000001-0000001")])
        _k, limited = make_key(self.tenant, self.alice, stores=[second])
        self.assertEqual(self.ids(ORDERS, limited), ["333-0000001-0000001"])
        self.assert_error(self.get(f"{ORDERS}{ORDER_ID}/", limited), 404, "not_found")
        self.assert_error(self.get(f"{ORDERS}?store={self.store.code}", limited), 404, "not_found")

    def test_a_platform_key_sees_every_tenants_orders(self) -> None:
        store_orders(self.other_store, [amazon_order("222-0000001-0000001")])
        _k, platform = make_key(None)
        self.assertEqual(sorted(self.ids(ORDERS, platform)), [ORDER_ID, "222-0000001-0000001"])

    def test_orders_of_an_archived_store_are_not_shown(self) -> None:
        Store.objects.filter(pk=self.store.pk).update(archived_at=BASE)
        self.assertEqual(self.ids(ORDERS), [])
        self.assert_error(self.get(f"{ORDERS}{ORDER_ID}/"), 404, "not_found")

    def test_filters_by_store_status_and_purchase_date(self) -> None:
        second = make_store(self.tenant, nickname="Second store")
        store_orders(
            second,
            [
                amazon_order("444-0000001-0000001", purchased=BASE + timedelta(days=1), status="SHIPPED"),
                amazon_order("444-0000002-0000002", purchased=BASE + timedelta(days=2)),
            ],
        )
        self.assertEqual(
            self.ids(f"{ORDERS}?store={second.code}"), ["444-0000002-0000002", "444-0000001-0000001"]
        )
        self.assertEqual(self.ids(f"{ORDERS}?status=SHIPPED"), ["444-0000001-0000001"])
        after = urlencode({"purchased_after": (BASE + timedelta(days=1)).isoformat()})
        self.assertEqual(self.ids(f"{ORDERS}?{after}"), ["444-0000002-0000002", "444-0000001-0000001"])
        before = urlencode({"purchased_before": (BASE + timedelta(days=1)).isoformat()})
        self.assertEqual(self.ids(f"{ORDERS}?{before}"), [ORDER_ID])
        self.assertEqual(self.ids(f"{ORDERS}?{after}&{before}"), [])
        self.assertEqual(self.ids(f"{ORDERS}?purchased_after=2026-03-02&store={second.code}&status=UNSHIPPED"), [
            "444-0000002-0000002"
        ])  # fmt: skip

    def test_bad_filters_answer_400_with_the_field_never_a_500(self) -> None:
        cases = {
            "colour=blue": "colour",
            "store=not-a-code": "store",
            "purchased_after=yesterday": "purchased_after",
            "purchased_before=2026-13-45": "purchased_before",
        }
        for query, field in cases.items():
            error = self.assert_error(self.get(f"{ORDERS}?{query}"), 400, "invalid")
            self.assertIn(field, error["fields"], query)
        # A store the key may not see is not found, as everywhere in the API; a cursor never handed out, too.
        self.assert_error(self.get(f"{ORDERS}?store={self.other_store.code}"), 404, "not_found")
        self.assert_error(self.get(f"{ORDERS}?cursor=%%%garbage"), 404, "invalid_cursor")
        # A status longer than any of Amazon's matches nothing.
        self.assertEqual(self.get(f"{ORDERS}?status=" + "X" * 31).json()["results"], [])
        self.assert_error(self.get(f"{ORDERS}{ORDER_ID}/?colour=blue"), 400, "invalid")
        self.assert_error(self.get(f"{ORDERS}{ORDER_ID}/?store=nope"), 400, "invalid")

    def test_odd_order_ids_are_404_in_the_error_shape(self) -> None:
        for odd in ("x" * 300, "%E2%80%AE", "'%20OR%201=1", "..", "%C3%A9", "111-0000001-0000001%20"):
            self.assert_error(self.get(f"{ORDERS}{odd}/"), 404, "not_found")

    def test_the_same_order_in_two_stores_answers_the_copy_loaded_first_and_store_picks_the_other(
        self,
    ) -> None:
        twin = make_store(self.tenant, nickname="Same seller again")
        store_orders(twin, [amazon_order(ORDER_ID, status="SHIPPED")])
        body = self.get(f"{ORDERS}{ORDER_ID}/").json()
        self.assertEqual((body["store"], body["status"]), (str(self.store.code), "UNSHIPPED"))
        body = self.get(f"{ORDERS}{ORDER_ID}/?store={twin.code}").json()
        self.assertEqual((body["store"], body["status"]), (str(twin.code), "SHIPPED"))

    def test_pages_follow_the_cursor_without_skipping_or_repeating_orders_bought_at_the_same_time(
        self,
    ) -> None:
        # Six bought at BASE, as ORDER_ID: ties on the purchase date across pages.
        store_orders(self.store, [amazon_order(f"555-0000000-{n:07d}") for n in range(6)])
        store_orders(self.store, [amazon_order("555-0000001-0000000", purchased=BASE + timedelta(hours=1))])
        seen: list[str] = []
        url: str | None = ORDERS
        with mock.patch.object(OrderPages, "page_size", 3):
            while url:
                body = self.get(url).json()
                seen += [o["amazon_order_id"] for o in body["results"]]
                url = body["next"]
        self.assertEqual(len(seen), 8)
        self.assertEqual(len(set(seen)), 8)
        self.assertEqual(seen[0], "555-0000001-0000000")

    def test_a_page_costs_the_same_queries_for_one_order_as_for_fifty(self) -> None:
        def queries() -> int:
            from django.db import connection
            from django.test.utils import CaptureQueriesContext

            cache.clear()
            with CaptureQueriesContext(connection) as ctx:
                self.assertEqual(self.get(ORDERS).status_code, 200)
            return len(ctx.captured_queries)

        self.get(ORDERS)  # the key's first use writes "last used" (at most once a minute)
        one = queries()
        store_orders(self.store, [amazon_order(f"666-0000000-{n:07d}") for n in range(60)])
        self.assertEqual(queries(), one)

    def test_the_openapi_document_describes_the_orders_routes_without_a_warning(self) -> None:
        out = StringIO()
        call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)
        for path in ("/api/v1/orders/:", "/api/v1/orders/{amazon_order_id}/:", "/api/v1/orders/changes/:"):
            self.assertIn(path, out.getvalue())
        self.assertIn("next_cursor", out.getvalue())
