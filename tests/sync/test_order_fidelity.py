"""Order loading as Amazon's model and answers demand: only the marketplaces the seller participates in, and an
order the model allows (or one that cannot be read at all) never fails its page."""

from __future__ import annotations

import json
from typing import Any
from unittest import mock

from django.test import SimpleTestCase
from django.urls import reverse

from accounts.models import User
from amazon import orders as orders_api
from amazon import spapi
from sandbox import simulated_orders as sandbox_orders
from sandbox.models import SandboxSeller
from sync import order_store, tasks
from sync.models import Order, OrderSync, UnreadableOrder
from tests.sync.helpers import CA, US, SyncTestCase

MX = "A1AM78C64UM0Y8"


class ParticipationTests(SyncTestCase):
    """searchOrders asks for the store's sites the seller participates in (getMarketplaceParticipations)."""

    def detail(self) -> Any:
        self.login(self.alice)
        return self.client.get(reverse("stores:detail", args=[self.store.code]))

    def seller_sells_in(self, *marketplace_ids: str) -> None:
        SandboxSeller.objects.filter(pk=self.seller.pk).update(marketplace_ids=list(marketplace_ids))

    def recheck(self) -> None:
        self.login(self.alice)
        r = self.client.post(reverse("authorizations:recheck", args=[self.store.code, "orders"]))
        self.assertEqual(r.status_code, 302)

    def run_sync(self) -> tuple[str, list[list[str]]]:
        self.make_due()
        with mock.patch.object(orders_api, "search_orders", wraps=orders_api.search_orders) as search:
            result = tasks.sync_orders(self.store.pk)
        return result, [c.kwargs["marketplace_ids"] for c in search.call_args_list]

    def stop_for_no_participating_site(self) -> None:
        self.authorize_orders()
        self.seller_sells_in(MX)
        self.recheck()  # Amazon now lists only Mexico, which the store did not choose
        self.assertEqual(self.run_sync(), ("stopped", []))

    def test_order_loading_asks_amazon_only_for_the_chosen_sites_the_seller_participates_in(self) -> None:
        self.store.sites = ["US", "CA", "MX"]
        self.store.save(update_fields=["sites"])
        self.authorize_orders()
        result, asked = self.run_sync()
        self.assertEqual(result, "done")
        self.assertTrue(asked)
        self.assertTrue(all(ids == [US, CA] for ids in asked))
        self.assertEqual(
            set(Order.objects.filter(store=self.store).values_list("marketplace_id", flat=True)), {US, CA}
        )
        r = self.detail()
        self.assertContains(r, 'data-testid="order-site-warning"')
        self.assertContains(r, "Orders are not loaded for Mexico (MX)")
        self.assertContains(r, "re-authorize order loading with the seller account that sells there")

    def test_when_no_chosen_site_participates_amazon_is_not_asked_and_the_store_page_says_what_to_do(
        self,
    ) -> None:
        self.stop_for_no_participating_site()
        s = self.state()
        self.assertEqual(s.last_error, "no_participating_site")
        self.assertEqual(s.last_error_detail, "US, CA")
        r = self.detail()
        self.assertContains(r, "Edit the store&#x27;s sites or re-authorize with the right seller account.")
        self.assertContains(r, 'data-testid="sync-stopped"')
        self.assertContains(r, "Orders are not loaded for United States (US), Canada (CA)")

    def test_the_stop_is_not_scheduled_again_until_something_changes(self) -> None:
        self.stop_for_no_participating_site()
        self.make_due()
        self.assertEqual(tasks.dispatch_order_syncs(), 0)
        self.assertEqual(self.run_sync(), ("stopped", []))

    def test_editing_the_stores_sites_lifts_the_stop(self) -> None:
        self.stop_for_no_participating_site()
        self.login(self.alice)
        r = self.client.post(
            reverse("stores:edit", args=[self.store.code]), {"nickname": "Main", "sites": ["MX"]}
        )
        self.assertEqual(r.status_code, 302)
        self.assertEqual(tasks.dispatch_order_syncs(), 1)
        result, asked = self.run_sync()
        self.assertEqual(result, "done")
        self.assertTrue(asked and all(ids == [MX] for ids in asked))
        self.assertEqual(self.state().last_error, "")

    def test_a_recheck_lifts_the_stop(self) -> None:
        self.stop_for_no_participating_site()
        self.seller_sells_in(US, CA)
        self.recheck()
        self.assertEqual(tasks.dispatch_order_syncs(), 1)
        self.assertEqual(self.run_sync()[0], "done")

    def test_a_re_authorization_lifts_the_stop(self) -> None:
        self.stop_for_no_participating_site()
        self.seller_sells_in(US, CA)
        self.authorize_orders()
        self.assertEqual(self.state().last_error, "")
        self.assertEqual(self.run_sync()[0], "done")

    def test_a_recheck_that_still_finds_no_site_stops_again_without_asking_amazon(self) -> None:
        self.stop_for_no_participating_site()
        self.recheck()
        self.assertEqual(tasks.dispatch_order_syncs(), 1)
        self.assertEqual(self.run_sync(), ("stopped", []))
        self.assertEqual(tasks.dispatch_order_syncs(), 0)


def broken(doc: dict[str, Any], how: str) -> dict[str, Any]:
    doc = json.loads(json.dumps(doc))
    if how == "no_marketplace":
        del doc["salesChannel"][
            "marketplaceId"
        ]  # allowed by the model: SalesChannel requires only channelName
    elif how == "no_order_id":
        del doc["orderId"]
    elif how == "bad_created":
        doc["createdTime"] = "yesterday"
    elif how == "bad_quantity":
        doc["orderItems"][0]["quantityOrdered"] = "two"
    return doc


class UnreadableOrderTests(SyncTestCase):
    """One order that breaks the model does not fail its page; it is kept aside for staff."""

    def setUp(self) -> None:
        super().setUp()
        self.auth = self.authorize_orders()
        ids = sorted(self.expected_ids())
        self.how = dict(
            zip(ids[:4], ["no_marketplace", "no_order_id", "bad_created", "bad_quantity"], strict=True)
        )
        real = sandbox_orders.order_json

        def answer(order: Any, at: Any, included: Any = ()) -> dict[str, Any]:
            doc = real(order, at, included)
            return broken(doc, self.how[order.order_id]) if order.order_id in self.how else doc

        with mock.patch.object(sandbox_orders, "order_json", answer):
            self.result = tasks.sync_orders(self.store.pk)

    def unreadable_ids(self) -> set[str]:
        return {i for i, how in self.how.items() if how != "no_marketplace"}

    def test_the_rest_of_the_page_is_stored_and_the_cursor_moves_on(self) -> None:
        self.assertEqual(self.result, "done")
        stored = set(Order.objects.filter(store=self.store).values_list("amazon_order_id", flat=True))
        self.assertEqual(stored, self.expected_ids() - self.unreadable_ids())
        s = self.state()
        self.assertEqual(s.phase, OrderSync.Phase.INCREMENTAL)
        self.assertEqual(s.last_error, "")

    def test_an_order_without_a_marketplace_id_is_read_as_the_model_allows(self) -> None:
        [order_id] = [i for i, how in self.how.items() if how == "no_marketplace"]
        order = Order.objects.get(store=self.store, amazon_order_id=order_id)
        self.assertEqual(order.marketplace_id, "")
        self.assertTrue(order.items.exists())

    def test_each_unreadable_order_is_kept_with_its_reason_and_what_amazon_sent(self) -> None:
        rows = {u.amazon_order_id: u for u in UnreadableOrder.objects.filter(store=self.store)}
        by_how = {how: i for i, how in self.how.items()}
        self.assertEqual(set(rows), {"", by_how["bad_created"], by_how["bad_quantity"]})
        self.assertEqual(rows[""].reason, "order.orderId is missing")
        self.assertIn("createdTime", rows[by_how["bad_created"]].reason)
        self.assertIn("orderItems[0].quantityOrdered", rows[by_how["bad_quantity"]].reason)
        self.assertEqual(json.loads(rows[by_how["bad_quantity"]].raw)["orderId"], by_how["bad_quantity"])
        self.assertIn(by_how["no_order_id"][:3], rows[""].raw)

    def test_seen_again_it_stays_one_row_with_a_new_last_seen(self) -> None:
        row = UnreadableOrder.objects.get(store=self.store, amazon_order_id=self.how_id("bad_created"))
        again = orders_api.Unreadable(row.amazon_order_id, "createdTime is not a date-time", "{}")
        order_store.keep_aside(self.store, orders_api.Page([], "", None, None, (again, again)))
        rows = UnreadableOrder.objects.filter(store=self.store, amazon_order_id=row.amazon_order_id)
        self.assertEqual(rows.count(), 1)
        self.assertEqual(rows[0].first_seen, row.first_seen)
        self.assertGreater(rows[0].last_seen, row.last_seen)
        self.assertEqual(rows[0].reason, "createdTime is not a date-time")

    def test_an_order_read_fine_later_is_no_longer_unreadable(self) -> None:
        order_id = self.how_id("bad_quantity")
        self.make_due()
        Order.objects.filter(store=self.store).delete()
        OrderSync.objects.filter(store=self.store).update(
            phase=OrderSync.Phase.BACKFILL,
            backfill_done_until=None,
            backfill_finished_at=None,
            window_end=None,
        )
        self.assertEqual(tasks.sync_orders(self.store.pk), "done")
        self.assertTrue(Order.objects.filter(store=self.store, amazon_order_id=order_id).exists())
        self.assertFalse(UnreadableOrder.objects.filter(store=self.store, amazon_order_id=order_id).exists())

    def how_id(self, how: str) -> str:
        return next(i for i, h in self.how.items() if h == how)

    def test_the_store_page_and_the_orders_page_count_them(self) -> None:
        self.login(self.vera)
        r = self.client.get(reverse("stores:detail", args=[self.store.code]))
        self.assertContains(r, 'data-testid="unreadable-orders"')
        self.assertContains(r, "3 orders Amazon sent could not be read and were not loaded")
        self.assertNotContains(r, reverse("admin:sync_unreadableorder_changelist"))
        r = self.client.get(reverse("sync:orders", args=[self.store.code]))
        self.assertContains(r, "3 orders Amazon sent could not be read and are not listed here")

    def test_staff_see_them_read_only_in_django_admin(self) -> None:
        User.objects.filter(pk=self.alice.pk).update(is_staff=True, is_superuser=True)
        self.login(self.alice)
        r = self.client.get(reverse("stores:detail", args=[self.store.code]))
        link = f"{reverse('admin:sync_unreadableorder_changelist')}?store__id__exact={self.store.pk}"
        self.assertContains(r, link.replace("&", "&amp;"))
        r = self.client.get(link)
        self.assertEqual(r.status_code, 200)
        self.assertContains(r, self.how_id("bad_quantity"))
        row = UnreadableOrder.objects.get(store=self.store, amazon_order_id=self.how_id("bad_quantity"))
        r = self.client.get(reverse("admin:sync_unreadableorder_change", args=[row.pk]))
        self.assertContains(r, "quantityOrdered")
        self.assertNotContains(r, 'name="_save"')
        self.assertEqual(self.client.get(reverse("admin:sync_unreadableorder_add")).status_code, 403)
        r = self.client.post(reverse("admin:sync_unreadableorder_change", args=[row.pk]), {"reason": "x"})
        self.assertEqual(r.status_code, 403)

    def test_people_who_are_not_staff_do_not_get_into_the_admin(self) -> None:
        self.login(self.alice)
        r = self.client.get(reverse("admin:sync_unreadableorder_changelist"))
        self.assertEqual(r.status_code, 302)
        self.assertIn(reverse("admin:login"), r["Location"])


def minimal_order(**changes: Any) -> dict[str, Any]:
    """An order with exactly the fields orders_2026-01-01.json requires, and nothing else."""
    doc: dict[str, Any] = {
        "orderId": "111-0000000-0000001",
        "createdTime": "2026-01-05T10:00:00Z",
        "lastUpdatedTime": "2026-01-05T10:30:00Z",
        "salesChannel": {"channelName": "AMAZON"},
        "orderItems": [{"orderItemId": "1", "quantityOrdered": 2, "product": {}}],
    }
    doc.update(changes)
    return doc


class ParsingTests(SimpleTestCase):
    """amazon/orders.py reads what the model requires and leaves what it makes optional optional."""

    def assert_unreadable(self, doc: Any, reason: str) -> None:
        with self.assertRaises(orders_api.BadOrder) as caught:
            orders_api.parse_order(doc)
        self.assertIn(reason, str(caught.exception))

    def test_an_order_with_only_the_required_fields_is_read_with_the_optional_ones_empty(self) -> None:
        o = orders_api.parse_order(minimal_order())
        self.assertEqual(
            (o.order_id, o.marketplace_id, o.status, o.total, o.currency),
            (minimal_order()["orderId"], None, None, None, None),
        )
        [item] = o.items
        self.assertEqual(
            (item.order_item_id, item.quantity, item.sku, item.asin, item.unit_price),
            ("1", 2, None, None, None),
        )

    def test_every_required_field_of_an_order_is_required(self) -> None:
        for name in ("orderId", "createdTime", "lastUpdatedTime", "salesChannel", "orderItems"):
            with self.subTest(name=name):
                doc = minimal_order()
                del doc[name]
                self.assert_unreadable(doc, name)

    def test_every_required_field_of_an_item_is_required(self) -> None:
        for name in ("orderItemId", "quantityOrdered", "product"):
            with self.subTest(name=name):
                doc = minimal_order()
                del doc["orderItems"][0][name]
                self.assert_unreadable(doc, f"orderItems[0].{name}")

    def test_money_needs_both_amount_and_currency_code(self) -> None:
        self.assert_unreadable(minimal_order(proceeds={"grandTotal": {"amount": "1.00"}}), "currencyCode")
        self.assert_unreadable(minimal_order(proceeds={"grandTotal": {"currencyCode": "USD"}}), "amount")
        o = orders_api.parse_order(
            minimal_order(proceeds={"grandTotal": {"amount": "12.50", "currencyCode": "USD"}})
        )
        self.assertEqual((str(o.total), o.currency), ("12.50", "USD"))

    def test_a_fulfillment_block_needs_its_status(self) -> None:
        self.assert_unreadable(minimal_order(fulfillment={"fulfilledBy": "MERCHANT"}), "fulfillmentStatus")
        o = orders_api.parse_order(minimal_order(fulfillment={"fulfillmentStatus": "SHIPPED"}))
        self.assertEqual(o.status, "SHIPPED")

    def test_an_order_id_too_long_to_store_is_not_cut_short(self) -> None:
        self.assert_unreadable(minimal_order(orderId="1" * 41), "longer than 40")

    def test_one_bad_order_leaves_the_rest_of_the_page_readable(self) -> None:
        body = {
            "orders": [
                minimal_order(),
                "not an order",
                minimal_order(orderId="111-0000000-0000002", createdTime=5),
            ]
        }
        page = orders_api._page(spapi.Answer(200, body, None))
        self.assertEqual([o.order_id for o in page.orders], ["111-0000000-0000001"])
        self.assertEqual(
            [(u.order_id, u.reason) for u in page.unreadable],
            [
                ("", "order is not an object"),
                ("111-0000000-0000002", "createdTime is not an ISO 8601 date-time with offset"),
            ],
        )

    def test_a_page_without_an_orders_list_is_still_a_bad_response(self) -> None:
        with self.assertRaises(orders_api.OrdersApiError) as caught:
            orders_api._page(spapi.Answer(200, {"pagination": {}}, None))
        self.assertEqual(caught.exception.kind, "bad_response")
