"""The ship-to address through the API: only for a key with the separate permission (never a platform key), each
request's reads audited without the address, and never in a webhook body."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from django.core.cache import cache
from django.urls import reverse

from amazon import orders as api
from api.models import ApiKey
from authorizations.models import AuditEvent
from sync import ship_to
from sync.models import Order
from tests.api.helpers import bearer, make_key
from tests.api.order_helpers import amazon_order, store_orders
from tests.base import BaseTestCase
from webhooks import payloads

ORDERS = "/api/v1/orders/"
WITH = "111-0000009-0000001"
WITHOUT = "111-0000009-0000002"
NAME, STREET, PHONE = "Jordan Rivera", "12 Maple Ave", "+1 206-555-0199"


def with_address(order_id: str) -> api.Order:
    address = api.ShipTo(
        name=NAME, address_line1=STREET, phone=PHONE, city="Seattle", state="WA", postal_code="98101",
        country_code="US",
    )  # fmt: skip
    return dataclasses.replace(amazon_order(order_id), ship_to=address)


class ShipToApiTests(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        cache.clear()
        store_orders(self.store, [with_address(WITH), amazon_order(WITHOUT)])
        self.plain, self.plain_secret = make_key(self.tenant, self.alice)
        self.allowed, self.allowed_secret = make_key(self.tenant, self.alice)
        ApiKey.objects.filter(pk=self.allowed.pk).update(ship_to=True)

    def get(self, url: str, secret: str) -> dict[str, Any]:
        r = self.client.get(url, **bearer(secret))
        self.assertEqual(r.status_code, 200, r.content)
        body: dict[str, Any] = r.json()
        return body

    def reads(self) -> list[AuditEvent]:
        return list(AuditEvent.objects.filter(action=ship_to.READ_ACTION))

    def test_a_key_without_the_permission_sees_no_address_and_is_told_why(self) -> None:
        body = self.get(f"{ORDERS}{WITH}/", self.plain_secret)
        self.assertEqual((body["ship_to"], body["ship_to_status"]), (None, "not_permitted"))
        self.assertNotIn(NAME, json.dumps(body))
        self.assertEqual(self.reads(), [])

    def test_a_key_with_the_permission_reads_the_address_and_the_read_is_audited_without_it(self) -> None:
        body = self.get(f"{ORDERS}{WITH}/", self.allowed_secret)
        self.assertEqual(body["ship_to_status"], "available")
        self.assertEqual(
            {k: body["ship_to"][k] for k in ("name", "address_line1", "phone", "city", "postal_code")},
            {
                "name": NAME,
                "address_line1": STREET,
                "phone": PHONE,
                "city": "Seattle",
                "postal_code": "98101",
            },
        )
        [event] = self.reads()
        self.assertEqual(event.store, self.store)
        self.assertIn(WITH, event.detail)
        self.assertIn(self.allowed.prefix, event.detail)
        for value in (NAME, STREET, PHONE):
            self.assertNotIn(value, f"{event.detail} {event.outcome} {event.user_agent}")

    def test_an_order_loaded_without_the_role_says_not_authorized_to_every_key(self) -> None:
        for secret in (self.plain_secret, self.allowed_secret):
            body = self.get(f"{ORDERS}{WITHOUT}/", secret)
            self.assertEqual((body["ship_to"], body["ship_to_status"]), (None, "not_authorized"))
        self.assertEqual(self.reads(), [])

    def test_the_list_and_the_changes_feed_audit_one_read_per_request_naming_the_orders(self) -> None:
        listed = self.get(ORDERS, self.allowed_secret)["results"]
        self.assertEqual({o["amazon_order_id"]: o["ship_to_status"] for o in listed}, {
            WITH: "available", WITHOUT: "not_authorized",
        })  # fmt: skip
        self.assertEqual(len(self.reads()), 1)
        feed = self.get(f"{ORDERS}changes/", self.allowed_secret)["results"]
        self.assertEqual([o["ship_to"]["name"] for o in feed if o["ship_to"]], [NAME])
        events = self.reads()
        self.assertEqual(len(events), 2)
        self.assertTrue(all(WITH in e.detail and WITHOUT not in e.detail for e in events))

    def test_an_erased_address_says_erased(self) -> None:
        with self.settings(SHIP_TO_RETENTION_DAYS=0):
            store_orders(
                self.store,
                [
                    dataclasses.replace(
                        with_address(WITH),
                        status="SHIPPED",
                        last_updated=amazon_order(WITH, version=1).last_updated,
                    )
                ],
            )
            self.assertEqual(ship_to.erase_due(), 1)
        body = self.get(f"{ORDERS}{WITH}/", self.allowed_secret)
        self.assertEqual((body["ship_to"], body["ship_to_status"]), (None, "erased"))

    def test_a_platform_key_never_reads_an_address(self) -> None:
        platform, secret = make_key(None)
        ApiKey.objects.filter(pk=platform.pk).update(ship_to=True)
        body = self.get(f"{ORDERS}{WITH}/", secret)
        self.assertEqual((body["ship_to"], body["ship_to_status"]), (None, "not_permitted"))

    def test_a_webhook_body_never_carries_the_address(self) -> None:
        order = Order.objects.select_related("store").get(amazon_order_id=WITH)
        data = payloads.order_payload(order)
        self.assertIsNone(data["ship_to"])
        for value in (NAME, STREET, PHONE):
            self.assertNotIn(value, json.dumps(data))


class KeyPageTests(BaseTestCase):
    def test_the_ship_to_permission_is_a_separate_checkbox_off_by_default(self) -> None:
        self.login(self.alice)
        page = self.client.get(reverse("api_keys:keys"))
        self.assertContains(page, 'name="ship_to"')
        self.assertNotContains(page, 'name="ship_to" checked')
        self.client.post(reverse("api_keys:keys"), {"name": "Plain", "scope": "read"})
        self.client.post(reverse("api_keys:keys"), {"name": "Shipping", "scope": "read", "ship_to": "on"})
        self.assertEqual(
            dict(ApiKey.objects.values_list("name", "ship_to")), {"Plain": False, "Shipping": True}
        )
