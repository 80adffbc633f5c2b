"""POST/GET /api/v1/orders/{id}/shipments over HTTP, the confirm job run as a worker would, Amazon played by the
sandbox (its confirmShipment, sandbox/shipments.py)."""

from __future__ import annotations

from api.models import ApiKey
from sandbox import api as sandbox_api
from shipping.models import Package
from tests.api.helpers import bearer, make_key
from tests.shipping.helpers import ShippingTestCase
from tests.sync.helpers import US


class ShipmentsApiTests(ShippingTestCase):
    def test_a_package_posted_is_confirmed_at_amazon_and_the_order_is_shipped_there(self) -> None:
        [order] = self.unshipped(1)
        r = self.post(order.order_id, self.body(order.order_id))
        self.assertEqual(r.status_code, 202, r.content)
        self.assertEqual(r.json()["status"], "pending")
        self.assertEqual(self.work(), ["confirmed"])
        [sent] = sandbox_api.confirmed_packages(order.order_id)
        self.assertEqual((sent.package_reference_id, sent.carrier_code, sent.requests), ("1", "UPS", 1))
        self.assertEqual(self.sandbox_status(order.order_id), "SHIPPED")
        listed = self.client.get(f"/api/v1/orders/{order.order_id}/shipments", **bearer(self.secret)).json()
        [package] = listed["results"]
        self.assertEqual((package["status"], package["attempts"], package["problem"]), ("confirmed", 1, ""))

    def test_two_packages_ship_an_order_partially_then_wholly(self) -> None:
        [order] = self.unshipped(1)
        self.post(order.order_id, self.body(order.order_id, 1, quantity=1), key="a")
        self.work()
        self.assertEqual(self.sandbox_status(order.order_id), "PARTIALLY_SHIPPED")
        self.post(order.order_id, self.body(order.order_id, 2, quantity=1), key="b")
        self.work()
        self.assertEqual(self.sandbox_status(order.order_id), "SHIPPED")
        self.assertEqual(
            [p.package_reference_id for p in sandbox_api.confirmed_packages(order.order_id)], ["1", "2"]
        )

    def test_a_replay_with_the_same_key_answers_the_first_answer_and_amazon_is_told_once(self) -> None:
        [order] = self.unshipped(1)
        first = self.post(order.order_id, self.body(order.order_id), key="same")
        self.work()
        again = self.post(order.order_id, self.body(order.order_id), key="same")
        self.assertEqual((again.status_code, again.json()), (first.status_code, first.json()))
        self.assertEqual(self.work(), [])
        [sent] = sandbox_api.confirmed_packages(order.order_id)
        self.assertEqual(sent.requests, 1)

    def test_the_same_key_with_another_body_is_refused_and_nothing_changes(self) -> None:
        [order] = self.unshipped(1)
        self.post(order.order_id, self.body(order.order_id), key="same")
        other = self.post(order.order_id, self.body(order.order_id, tracking_number="OTHER1"), key="same")
        self.assertEqual(other.status_code, 422)
        self.assertEqual(other.json()["error"]["code"], "idempotency_key_reused")
        self.assertEqual(Package.objects.get().tracking_number, "1Z999AA10123456781")

    def test_a_post_without_an_idempotency_key_is_refused(self) -> None:
        [order] = self.unshipped(1)
        r = self.client.post(
            f"/api/v1/orders/{order.order_id}/shipments",
            data=self.body(order.order_id),
            content_type="application/json",
            **bearer(self.secret),
        )
        self.assertEqual(r.status_code, 400)
        self.assertEqual(r.json()["error"]["code"], "idempotency_key_required")
        self.assertFalse(Package.objects.exists())

    def test_the_same_reference_again_edits_the_package_at_amazon(self) -> None:
        [order] = self.unshipped(1)
        self.post(order.order_id, self.body(order.order_id), key="a")
        self.work()
        r = self.post(order.order_id, self.body(order.order_id, tracking_number="1ZNEW"), key="b")
        self.assertEqual(r.status_code, 202, r.content)
        self.assertEqual(self.work(), ["confirmed"])
        [sent] = sandbox_api.confirmed_packages(order.order_id)
        self.assertEqual((sent.tracking_number, sent.requests), ("1ZNEW", 2))

    def test_a_carrier_amazon_does_not_list_is_a_named_error_and_amazon_is_not_asked(self) -> None:
        [order] = self.unshipped(1)
        r = self.post(order.order_id, self.body(order.order_id, carrier_code="ups"))
        self.assertEqual(r.status_code, 400)
        self.assertEqual(r.json()["error"]["code"], "carrier")
        self.assertIn("carrier_code", r.json()["error"]["fields"])
        self.assertEqual((self.queue, list(sandbox_api.confirmed_packages(order.order_id))), ([], []))

    def test_other_needs_the_carriers_name(self) -> None:
        [order] = self.unshipped(1)
        r = self.post(order.order_id, self.body(order.order_id, carrier_code="Other"))
        self.assertEqual(r.json()["error"]["code"], "carrier_name")
        ok = self.post(
            order.order_id,
            self.body(order.order_id, carrier_code="Other", carrier_name="Yun Express"),
            key="k2",
        )
        self.assertEqual(ok.status_code, 202, ok.content)
        self.work()
        [sent] = sandbox_api.confirmed_packages(order.order_id)
        self.assertEqual((sent.carrier_code, sent.carrier_name), ("Other", "Yun Express"))

    def test_an_item_of_another_order_is_a_named_error(self) -> None:
        first, second = self.unshipped(2)
        body = self.body(first.order_id, items=[{"order_item_id": f"{second.order_id}-1", "quantity": 1}])
        r = self.post(first.order_id, body)
        self.assertEqual(r.status_code, 400)
        self.assertEqual(r.json()["error"]["code"], "order_item")
        self.assertFalse(Package.objects.exists())

    def test_more_than_is_left_to_ship_is_a_named_error(self) -> None:
        [order] = self.unshipped(1)
        self.post(order.order_id, self.body(order.order_id, 1, quantity=2), key="a")
        r = self.post(order.order_id, self.body(order.order_id, 2, quantity=1), key="b")
        self.assertEqual(r.status_code, 400)
        self.assertEqual(r.json()["error"]["code"], "quantity")

    def test_a_cancelled_order_is_refused_before_amazon_is_asked(self) -> None:
        [order] = self.unshipped(1)
        self.store.orders.filter(amazon_order_id=order.order_id).update(status="CANCELLED")
        # At the sandbox the order is unshipped: only the portal's own check can refuse it.
        r = self.post(order.order_id, self.body(order.order_id))
        self.assertEqual(r.status_code, 409)
        self.assertEqual(r.json()["error"]["code"], "order_canceled")
        self.assertEqual(self.queue, [])
        calls = [c for c in self.rsps.calls if "shipmentConfirmation" in c.request.url]
        self.assertEqual(calls, [])

    def test_unknown_fields_are_refused(self) -> None:
        [order] = self.unshipped(1)
        r = self.post(order.order_id, {**self.body(order.order_id), "carrier": "UPS"})
        self.assertEqual(r.status_code, 400)
        self.assertIn("carrier", r.json()["error"]["fields"])

    def test_a_read_key_may_not_post_and_another_tenants_key_sees_no_order(self) -> None:
        [order] = self.unshipped(1)
        _key, read = make_key(self.tenant, self.alice, scope=ApiKey.Scope.READ)
        self.assertEqual(self.post(order.order_id, self.body(order.order_id), secret=read).status_code, 403)
        _other, stranger = make_key(self.other_tenant, self.charlie, scope=ApiKey.Scope.READ_WRITE)
        self.assertEqual(
            self.post(order.order_id, self.body(order.order_id), secret=stranger).status_code, 404
        )
        listed = self.client.get(f"/api/v1/orders/{order.order_id}/shipments", **bearer(stranger))
        self.assertEqual(listed.status_code, 404)
        self.assertFalse(Package.objects.exists())
        self.assertEqual(order.marketplace_id, US)
