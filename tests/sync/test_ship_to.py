"""The ship-to address through order loading at the sandbox: asked for only with the restricted role, stored
encrypted by the one bulk upsert, shown to members (audited), erased 30 days after shipment or cancellation."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

import time_machine
from django.db import connection
from django.template.loader import render_to_string
from django.test import RequestFactory, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Membership, User
from amazon import orders as api
from authorizations import crypto
from authorizations.models import AuditEvent
from sync import order_state, schedules, ship_to, tasks
from sync.models import Order
from tests.api.order_helpers import amazon_order, store_orders
from tests.base import BaseTestCase
from tests.sync.helpers import SyncTestCase
from tests.sync.ship_to_helpers import amazon_address, with_role


def orders_calls(rsps: Any) -> list[dict[str, list[str]]]:
    """The query of every searchOrders/getOrder call the portal made to the sandbox."""
    return [
        parse_qs(urlsplit(c.request.url).query)
        for c in rsps.calls
        if "/orders/2026-01-01/orders" in urlsplit(c.request.url).path
    ]


class LoadingTests(SyncTestCase):
    def load(self) -> list[Order]:
        self.authorize_orders()
        self.assertEqual(self.run_again(), "done")
        orders = list(Order.objects.filter(store=self.store))
        self.assertTrue(orders)
        return orders

    def test_without_the_restricted_role_orders_load_as_today_and_no_recipient_is_asked_for(self) -> None:
        orders = self.load()
        asked = orders_calls(self.rsps)
        self.assertTrue(asked)
        for query in asked:
            self.assertEqual(query["includedData"], ["PROCEEDS,FULFILLMENT,CANCELLATION"])
        for o in orders:
            self.assertEqual((o.ship_to_personal, o.ship_to_city, o.ship_to_received_at), ("", "", None))
            self.assertEqual(ship_to.status(o), ship_to.NOT_AUTHORIZED)
        self.assertEqual(str(ship_to.STATUS_LABELS[ship_to.NOT_AUTHORIZED]), "Ship-to address not authorized")

    def test_with_the_setting_but_no_role_at_amazon_only_city_state_and_country_come_and_it_is_not_authorized(
        self,
    ) -> None:
        with with_role(granted_at_amazon=False):
            orders = self.load()
        self.assertTrue(all("RECIPIENT" in q["includedData"][0] for q in orders_calls(self.rsps)))
        for o in orders:
            self.assertEqual(o.ship_to_personal, "")
            self.assertTrue(o.ship_to_city and o.ship_to_country)
            self.assertEqual(o.ship_to_postal_code, "")  # Amazon counts postalCode as PII too
            self.assertEqual(ship_to.status(o), ship_to.NOT_AUTHORIZED)

    def test_with_the_role_the_address_is_stored_encrypted_and_reads_back_as_amazon_sent_it(self) -> None:
        with with_role(ORDER_SYNC_KEEP_RAW=True):
            orders = self.load()
        for o in orders:
            sent = amazon_address(o)
            self.assertNotIn(sent["name"], o.ship_to_personal)
            self.assertNotIn(sent["addressLine1"], o.ship_to_personal)
            self.assertIn(sent["name"], crypto.decrypt(o.ship_to_personal))
            # Amazon's raw answer is kept (ORDER_SYNC_KEEP_RAW) without the recipient.
            assert o.raw is not None
            self.assertNotIn("recipient", o.raw)
            self.assertNotIn(sent["name"], json.dumps(o.raw))
            shown = ship_to.document(o)
            assert shown is not None
            self.assertEqual(
                (shown["name"], shown["address_line1"], shown["address_line2"], shown["phone"]),
                (sent["name"], sent["addressLine1"], sent["addressLine2"], sent["phone"]),
            )
            self.assertEqual(
                (shown["city"], shown["state_or_region"], shown["postal_code"], shown["country_code"]),
                (sent["city"], sent["stateOrRegion"], sent["postalCode"], sent["countryCode"]),
            )
            self.assertEqual((o.ship_to_city, o.ship_to_postal_code), (sent["city"], sent["postalCode"]))
            self.assertNotIn(sent["name"], str(o))

    def test_a_later_copy_without_the_recipient_keeps_the_stored_address(self) -> None:
        with with_role():
            orders = self.load()
        before = {o.pk: o.ship_to_personal for o in orders}
        newer = [
            amazon_order(o.amazon_order_id, purchased=o.purchase_date, version=10**6, status="UNSHIPPED")
            for o in orders[:3]
        ]
        store_orders(self.store, newer)
        for o in Order.objects.filter(pk__in=[o.pk for o in orders[:3]]):
            self.assertEqual(o.ship_to_personal, before[o.pk])
            self.assertIsNotNone(ship_to.document(o))


def with_address(order_id: str, version: int = 0, status: str = "UNSHIPPED", **kw: Any) -> api.Order:
    base = amazon_order(order_id, version=version, status=status, **kw)
    address = api.ShipTo(
        name=f"Buyer {order_id}",
        address_line1=f"{order_id} Main St",
        phone="+1 206-555-0100",
        city="Seattle",
        state="WA",
        postal_code="98101",
        country_code="US",
    )
    return dataclasses.replace(base, ship_to=address)


class StorageTests(BaseTestCase):
    def test_a_page_with_addresses_costs_the_same_statements_whatever_its_size(self) -> None:
        counts = []
        for n, prefix in ((1, "111-0000001"), (40, "111-0000002")):
            page = [with_address(f"{prefix}-{i:07d}") for i in range(n)]
            with CaptureQueriesContext(connection) as queries:
                store_orders(self.store, page)
            counts.append(len(queries))
        self.assertEqual(counts[0], counts[1])
        self.assertEqual(Order.objects.exclude(ship_to_personal="").count(), 41)

    def test_every_shipped_or_cancelled_order_loses_its_personal_fields_thirty_days_later(self) -> None:
        start = timezone.now()
        with time_machine.travel(start, tick=False):
            store_orders(
                self.store,
                [with_address(f"111-0000003-{i:07d}", purchased=start - timedelta(days=2)) for i in range(6)],
            )
            # Three ship and two are cancelled now (Amazon's update time: now); one stays unshipped.
            store_orders(
                self.store,
                [
                    with_address(
                        f"111-0000003-{i:07d}", version=1, status=s, purchased=start - timedelta(days=1)
                    )
                    for i, s in enumerate(["SHIPPED", "SHIPPED", "SHIPPED", "CANCELLED", "CANCELLED"])
                ],
            )
        Order.objects.filter(status__in=["SHIPPED", "CANCELLED"]).update(last_updated=start)
        Order.objects.filter(shipped_at__isnull=False).update(shipped_at=start)
        Order.objects.filter(cancelled_at__isnull=False).update(cancelled_at=start)
        with time_machine.travel(start + timedelta(days=29), tick=False):
            self.assertEqual(tasks.erase_ship_to(), 0)
        self.assertEqual(Order.objects.exclude(ship_to_personal="").count(), 6)
        with time_machine.travel(start + timedelta(days=30, hours=1), tick=False):
            self.assertEqual(tasks.erase_ship_to(), 5)
        closed = Order.objects.filter(status__in=["SHIPPED", "CANCELLED"])
        self.assertEqual(closed.count(), 5)
        for o in closed:
            self.assertEqual(o.ship_to_personal, "")
            self.assertIsNotNone(o.ship_to_erased_at)
            self.assertEqual(ship_to.status(o), ship_to.ERASED)
            self.assertIsNone(ship_to.document(o))
            # City, state, postal code and country may stay.
            self.assertEqual((o.ship_to_city, o.ship_to_country), ("Seattle", "US"))
            for value in ("Buyer", "Main St", "555-0100"):
                self.assertNotIn(
                    value, json.dumps(list(Order.objects.filter(pk=o.pk).values())[0], default=str)
                )
        open_order = Order.objects.get(status="UNSHIPPED")
        self.assertNotEqual(open_order.ship_to_personal, "")
        # A later copy from Amazon, with the address again, never brings it back.
        store_orders(self.store, [with_address("111-0000003-0000000", version=5, status="SHIPPED")])
        self.assertEqual(Order.objects.get(amazon_order_id="111-0000003-0000000").ship_to_personal, "")

    def test_the_erasure_runs_daily_as_a_schedule(self) -> None:
        planned = {p.name: p for p in schedules.PLANNED}
        self.assertEqual(planned["ship-to-erasure"].func, "sync.tasks.erase_ship_to")
        self.assertEqual(planned["ship-to-erasure"].schedule_type, "D")

    def test_cancelled_and_shipped_times_are_amazons_time_of_the_first_such_copy(self) -> None:
        store_orders(self.store, [amazon_order("111-0000004-0000001", version=0)])
        store_orders(self.store, [amazon_order("111-0000004-0000001", version=1, status="CANCELLED")])
        first = Order.objects.get().last_updated
        store_orders(self.store, [amazon_order("111-0000004-0000001", version=2, status="CANCELLED")])
        order = Order.objects.get()
        self.assertEqual(order.cancelled_at, first)
        self.assertTrue(order_state.is_cancelled(order))
        self.assertEqual(order.total_amount, Decimal("19.99"))


class OrderPageTests(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        store_orders(self.store, [with_address("111-0000005-0000001")])
        self.order = Order.objects.select_related("store").get()

    def request_of(self, user: User) -> Any:
        request: Any = RequestFactory().get("/orders/")
        request.user = user
        request.membership = Membership.objects.filter(user=user, tenant=self.store.tenant).first()
        return request

    def test_a_member_sees_the_whole_address_and_the_read_is_audited_without_the_address(self) -> None:
        shown = ship_to.for_page(self.request_of(self.bob), self.order)
        assert shown is not None and shown["address"] is not None
        self.assertEqual(shown["address"]["name"], "Buyer 111-0000005-0000001")
        html = render_to_string("sync/order_ship_to.html", {"ship_to": shown})
        self.assertIn("111-0000005-0000001 Main St", html)
        event = AuditEvent.objects.get(action=ship_to.READ_ACTION)
        self.assertEqual((event.store, event.user), (self.store, self.bob))
        self.assertIn("111-0000005-0000001", event.detail)
        self.assertNotIn("Buyer", event.detail)
        self.assertNotIn("Main St", event.detail)

    def test_a_viewer_sees_city_and_country_only_and_nothing_is_audited(self) -> None:
        shown = ship_to.for_page(self.request_of(self.vera), self.order)
        assert shown is not None
        self.assertEqual(shown["address"], {"city": "Seattle", "state_or_region": "WA", "country_code": "US"})
        html = render_to_string("sync/order_ship_to.html", {"ship_to": shown})
        self.assertNotIn("Main St", html)
        self.assertIn("Seattle", html)
        self.assertFalse(AuditEvent.objects.filter(action=ship_to.READ_ACTION).exists())

    def test_an_outsider_gets_nothing(self) -> None:
        self.assertIsNone(ship_to.for_page(self.request_of(self.charlie), self.order))

    def test_an_order_without_the_role_says_ship_to_address_not_authorized_never_revoked(self) -> None:
        store_orders(self.store, [amazon_order("111-0000005-0000002")])
        order = Order.objects.select_related("store").get(amazon_order_id="111-0000005-0000002")
        shown = ship_to.for_page(self.request_of(self.bob), order)
        assert shown is not None
        html = render_to_string("sync/order_ship_to.html", {"ship_to": shown})
        self.assertIn("Ship-to address not authorized", html)
        self.assertNotIn("revoked", html.lower())


@override_settings(LANGUAGE_CODE="zh-hans")
class ChineseTests(BaseTestCase):
    def test_the_not_authorized_words_are_translated(self) -> None:
        from django.utils import translation

        with translation.override("zh-hans"):
            self.assertEqual(str(ship_to.STATUS_LABELS[ship_to.NOT_AUTHORIZED]), "收货地址未获授权")
