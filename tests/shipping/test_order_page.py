"""The order page (/stores/<code>/orders/<id>/): the order, its packages, and the tracking form, over HTTP."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.urls import reverse
from django.utils import timezone, translation

from authorizations.models import AuditEvent
from sandbox import api as sandbox_api
from sandbox.models import SandboxOrder
from shipping.models import Package
from sync import ship_to
from sync.models import Order
from tests.api.order_helpers import store_orders
from tests.base import BaseTestCase
from tests.shipping.helpers import ShippingTestCase
from tests.sync.test_ship_to import with_address


class OrderPageTests(ShippingTestCase):
    def setUp(self) -> None:
        super().setUp()
        [self.order] = self.unshipped(1)
        self.url = reverse("shipping:order", args=[self.store.code, self.order.order_id])

    def form(self, **changes: Any) -> dict[str, Any]:
        return {
            "package_reference_id": "1",
            "carrier_code": "USPS",
            "carrier_name": "",
            "shipping_method": "Priority",
            "tracking_number": "9400100000000000000001",
            "ship_date": (self.now - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
            f"qty_{self.order.order_id}-1": "2",
            **changes,
        }

    def submit(self, **changes: Any) -> Any:
        with self.enqueued():
            return self.client.post(self.url, self.form(**changes))

    def test_a_member_sends_tracking_from_the_form_and_amazon_ships_the_order(self) -> None:
        self.login(self.bob)
        r = self.submit()
        self.assertRedirects(r, self.url)
        self.assertEqual(self.work(), ["confirmed"])
        self.assertEqual(self.sandbox_status(self.order.order_id), "SHIPPED")
        page = self.client.get(self.url)
        self.assertContains(page, "9400100000000000000001")
        self.assertContains(page, "Confirmed at Amazon")
        self.assertEqual(Package.objects.get().created_by, self.bob)

    def test_the_page_shows_a_refused_package_with_its_reason_in_chinese(self) -> None:
        self.login(self.alice)
        self.submit()
        SandboxOrder.objects.filter(pk=self.order.pk).update(
            cancelled_at=sandbox_api.now(), unshipped_at=None
        )
        self.work()
        with translation.override("zh-hans"):
            page = self.client.get(self.url, HTTP_ACCEPT_LANGUAGE="zh-hans")
        self.assertContains(page, 'data-testid="package-reason"')
        self.assertContains(page, "订单已取消：亚马逊不接受其发货确认。")
        self.assertContains(page, "发货")

    def test_a_wrong_item_quantity_is_an_error_next_to_the_form_and_nothing_is_sent(self) -> None:
        self.login(self.alice)
        r = self.submit(**{f"qty_{self.order.order_id}-1": "0"})
        self.assertEqual(r.status_code, 400)
        self.assertContains(r, "Enter the quantity of at least one item", status_code=400)
        self.assertFalse(Package.objects.exists())

    def test_other_without_a_name_is_an_error_next_to_the_field(self) -> None:
        self.login(self.alice)
        r = self.submit(carrier_code="Other")
        self.assertContains(r, "The carrier is Other but its name is missing.", status_code=400)
        self.assertEqual(self.queue, [])

    def test_a_cancelled_order_shows_no_form_and_a_post_is_refused_before_amazon(self) -> None:
        self.store.orders.filter(amazon_order_id=self.order.order_id).update(status="Canceled")
        self.login(self.alice)
        page = self.client.get(self.url)
        self.assertContains(page, 'data-testid="order-cancelled"')
        self.assertNotContains(page, 'data-testid="package-form"')
        r = self.submit()
        self.assertContains(r, "The order was cancelled", status_code=400)
        self.assertEqual((self.queue, list(sandbox_api.confirmed_packages(self.order.order_id))), ([], []))

    def test_a_viewer_sees_the_order_without_the_form_and_may_not_post(self) -> None:
        self.login(self.vera)
        page = self.client.get(self.url)
        self.assertContains(page, self.order.order_id)
        self.assertNotContains(page, 'data-testid="package-form"')
        self.assertEqual(self.submit().status_code, 403)
        self.assertFalse(Package.objects.exists())

    def test_an_outsider_gets_404_for_the_page_and_the_post(self) -> None:
        self.login(self.charlie)
        self.assertEqual(self.client.get(self.url).status_code, 404)
        self.assertEqual(self.submit().status_code, 404)
        self.assertFalse(Package.objects.exists())

    def test_an_order_id_the_store_does_not_have_is_404(self) -> None:
        self.login(self.alice)
        url = reverse("shipping:order", args=[self.store.code, "999-0000000-0000000"])
        self.assertEqual(self.client.get(url).status_code, 404)

    def test_each_row_of_the_orders_list_links_to_its_order_page(self) -> None:
        self.login(self.alice)
        page = self.client.get(reverse("sync:orders", args=[self.store.code]))
        self.assertContains(page, f'href="{self.url}"')


class OrderPageShipToTests(BaseTestCase):
    """The ship-to address on the order page (sync/ship_to.py `for_page`), over HTTP: whole for members, audited;
    city and country for viewers; a buyer's cancellation request flagged."""

    def setUp(self) -> None:
        super().setUp()
        store_orders(self.store, [with_address("111-0000007-0000001")])
        self.url = reverse("shipping:order", args=[self.store.code, "111-0000007-0000001"])

    def test_a_member_reads_the_whole_address_and_the_read_is_audited_without_it(self) -> None:
        self.login(self.bob)
        page = self.client.get(self.url)
        self.assertContains(page, "111-0000007-0000001 Main St")
        self.assertContains(page, "Buyer 111-0000007-0000001")
        event = AuditEvent.objects.get(action=ship_to.READ_ACTION)
        self.assertEqual(event.user, self.bob)
        self.assertNotIn("Main St", event.detail)

    def test_a_viewer_sees_the_city_and_country_only(self) -> None:
        self.login(self.vera)
        page = self.client.get(self.url)
        self.assertContains(page, "Seattle")
        self.assertNotContains(page, "Main St")
        self.assertNotContains(page, "Buyer 111-0000007-0000001")
        self.assertFalse(AuditEvent.objects.filter(action=ship_to.READ_ACTION).exists())

    def test_a_buyers_cancellation_request_is_flagged_on_the_page(self) -> None:
        Order.objects.update(cancel_requested_at=timezone.now())
        self.login(self.alice)
        self.assertContains(self.client.get(self.url), 'data-testid="cancel-requested"')
