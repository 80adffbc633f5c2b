"""searchOrders and getOrder (Orders API 2026-01-01): filters, paging, generated data, status changes over time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from django.test import TestCase

from sandbox import api
from sandbox.models import SandboxOrder, SandboxOrderDay
from tests.sandbox.helpers import CA, US, assert_matches_model, connect, new_seller

SEARCH = "/sandbox/na/sp/orders/2026-01-01/orders"
SEARCH_OP = ("orders_2026-01-01.json", "/orders/2026-01-01/orders", "get")
GET_OP = ("orders_2026-01-01.json", "/orders/2026-01-01/orders/{orderId}", "get")


def iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


class OrdersTestCase(TestCase):
    def setUp(self) -> None:
        api.set_time_scale(0)
        self.seller = new_seller("Order Seller", marketplace_ids=[US, CA], orders_per_day=4)
        self.token = connect(self.client, self.seller)["access_token"]
        self.now = api.now()

    def advance(self, seconds: float) -> None:
        """Move virtual time on; the old access token has expired by then, so take a new one."""
        api.advance_clock(seconds)
        self.token = connect(self.client, self.seller)["access_token"]

    def search(self, **params: Any) -> Any:
        params.setdefault("marketplaceIds", f"{US},{CA}")
        return self.client.get(SEARCH, params, HTTP_X_AMZ_ACCESS_TOKEN=self.token)

    def all_pages(self, **params: Any) -> list[dict[str, Any]]:
        """Every page; each page request sends every parameter again with the token, as the model's Pagination asks."""
        found: list[dict[str, Any]] = []
        response = self.search(**params)
        while True:
            self.assertEqual(response.status_code, 200, response.content)
            body = assert_matches_model(*SEARCH_OP, response)
            found.extend(body["orders"])
            token = body.get("pagination", {}).get("nextToken")
            if not token:
                return found
            response = self.search(**params, paginationToken=token)


class SearchOrdersTests(OrdersTestCase):
    def test_paging_returns_exactly_the_generated_orders_without_duplicates(self) -> None:
        after = self.now - timedelta(days=10)
        orders = self.all_pages(createdAfter=iso(after), maxResultsPerPage=9)
        ids = [o["orderId"] for o in orders]
        expected = list(api.generated_orders(self.seller.selling_partner_id, [US, CA], created_after=after))
        self.assertGreater(len(expected), 9 * 4)
        self.assertEqual(len(ids), len(set(ids)))
        self.assertEqual(ids, [o.order_id for o in expected])

    def test_a_page_is_at_most_max_results_per_page_and_the_last_has_no_next_token(self) -> None:
        body = self.search(createdAfter=iso(self.now - timedelta(days=3)), maxResultsPerPage=5).json()
        self.assertEqual(len(body["orders"]), 5)
        self.assertIn("nextToken", body["pagination"])
        body = self.search(createdAfter=iso(self.now - timedelta(days=3)), maxResultsPerPage=100).json()
        self.assertNotIn("pagination", body)

    def test_success_carries_the_search_orders_rate_limit(self) -> None:
        response = self.search(createdAfter=iso(self.now - timedelta(days=1)))
        self.assertEqual(response["x-amzn-RateLimit-Limit"], "0.0056")
        self.assertTrue(response["x-amzn-RequestId"])

    def test_orders_have_items_with_skus_quantities_and_totals_in_the_marketplace_currency(self) -> None:
        orders = self.all_pages(createdAfter=iso(self.now - timedelta(days=5)), includedData="PROCEEDS")
        for order in orders:
            currency = "USD" if order["salesChannel"]["marketplaceId"] == US else "CAD"
            self.assertEqual(order["proceeds"]["grandTotal"]["currencyCode"], currency)
            self.assertGreaterEqual(len(order["orderItems"]), 1)
            item_sum = sum(float(i["proceeds"]["proceedsTotal"]["amount"]) for i in order["orderItems"])
            self.assertAlmostEqual(item_sum, float(order["proceeds"]["grandTotal"]["amount"]), places=2)
            for item in order["orderItems"]:
                self.assertTrue(item["product"]["sellerSku"])
                self.assertGreaterEqual(item["quantityOrdered"], 1)

    def test_only_orders_created_before_now_exist_and_more_appear_as_time_passes(self) -> None:
        after = self.now - timedelta(days=2)
        before = self.all_pages(createdAfter=iso(after))
        self.assertTrue(all(parse(o["createdTime"]) <= self.now for o in before))
        self.advance(2 * 86400)
        later = self.all_pages(createdAfter=iso(after))
        self.assertGreater(len(later), len(before))
        self.assertTrue({o["orderId"] for o in before} <= {o["orderId"] for o in later})

    def test_created_before_bounds_the_search_and_is_echoed(self) -> None:
        after, before = self.now - timedelta(days=6), self.now - timedelta(days=3)
        body = self.search(createdAfter=iso(after), createdBefore=iso(before)).json()
        self.assertEqual(body["createdBefore"], iso(before))
        self.assertTrue(all(after <= parse(o["createdTime"]) <= before for o in body["orders"]))
        expected = api.generated_orders(self.seller.selling_partner_id, [US, CA], after, before)
        self.assertEqual(len(body["orders"]), expected.count())

    def test_a_marketplace_filter_returns_only_that_marketplace(self) -> None:
        orders = self.all_pages(createdAfter=iso(self.now - timedelta(days=4)), marketplaceIds=CA)
        self.assertTrue(orders)
        self.assertEqual({o["salesChannel"]["marketplaceId"] for o in orders}, {CA})

    def test_repeated_marketplace_parameters_are_accepted_like_a_csv_list(self) -> None:
        after = iso(self.now - timedelta(days=3))
        repeated = self.client.get(
            f"{SEARCH}?marketplaceIds={US}&marketplaceIds={CA}&createdAfter={after}",
            HTTP_X_AMZ_ACCESS_TOKEN=self.token,
        ).json()
        self.assertEqual(repeated["orders"], self.search(createdAfter=after).json()["orders"])

    def test_generated_orders_are_deterministic(self) -> None:
        after = self.now - timedelta(days=3)
        first = [(o.order_id, o.total, o.items) for o in api.generated_orders(self.seller, [US], after)]
        SandboxOrder.objects.all().delete()
        SandboxOrderDay.objects.all().delete()
        again = [(o.order_id, o.total, o.items) for o in api.generated_orders(self.seller, [US], after)]
        self.assertEqual(first, again)

    def test_history_reaches_back_more_than_two_years(self) -> None:
        seller = new_seller("Long History", marketplace_ids=[US], orders_per_day=1)
        after = self.now - timedelta(days=731)
        orders = api.generated_orders(seller, [US], after)
        self.assertGreaterEqual(orders.count(), 730)
        self.assertLess(orders.first().created_time, self.now - timedelta(days=729))  # type: ignore[union-attr]

    def test_status_follows_virtual_time(self) -> None:
        orders = self.all_pages(createdAfter=iso(self.now - timedelta(days=3)), includedData="FULFILLMENT")
        for order in orders:
            status = order["fulfillment"]["fulfillmentStatus"]
            age = self.now - parse(order["createdTime"])
            updated = parse(order["lastUpdatedTime"])
            self.assertLessEqual(updated, self.now)
            if status == "CANCELLED":
                self.assertLess(age, timedelta(days=3))
                continue
            if age < timedelta(minutes=30):
                self.assertEqual(status, "PENDING")
            elif age < timedelta(days=1):
                self.assertEqual(status, "UNSHIPPED")
                self.assertEqual(updated, parse(order["createdTime"]) + timedelta(minutes=30))
            elif age >= timedelta(hours=32):
                self.assertEqual(status, "SHIPPED")

    def test_last_updated_after_returns_the_orders_whose_status_changed(self) -> None:
        mark = self.now
        self.advance(2 * 86400)
        orders = self.all_pages(lastUpdatedAfter=iso(mark), includedData="FULFILLMENT")
        self.assertTrue(orders)
        self.assertTrue(all(parse(o["lastUpdatedTime"]) >= mark for o in orders))
        older = [o for o in orders if parse(o["createdTime"]) < mark]
        self.assertTrue(older, "orders created before the mark changed status after it")
        self.assertTrue(
            all(o["fulfillment"]["fulfillmentStatus"] in ("SHIPPED", "CANCELLED", "UNSHIPPED") for o in older)
        )
        expected = api.generated_orders(self.seller, [US, CA], last_updated_after=mark)
        self.assertEqual([o["orderId"] for o in orders], [o.order_id for o in expected])
        body = self.search(lastUpdatedAfter=iso(mark)).json()
        self.assertEqual(body["lastUpdatedBefore"], iso(api.now()))

    def test_fulfillment_statuses_filter(self) -> None:
        orders = self.all_pages(
            createdAfter=iso(self.now - timedelta(days=5)),
            fulfillmentStatuses="SHIPPED",
            includedData="FULFILLMENT",
        )
        self.assertTrue(orders)
        self.assertEqual({o["fulfillment"]["fulfillmentStatus"] for o in orders}, {"SHIPPED"})

    def test_pages_stay_stable_while_time_passes(self) -> None:
        after = iso(self.now - timedelta(days=4))
        first = self.search(createdAfter=after, maxResultsPerPage=10).json()
        self.advance(23 * 3600)  # a day of new orders, inside the token's 24 hours
        second = self.client.get(
            SEARCH, {"paginationToken": first["pagination"]["nextToken"]}, HTTP_X_AMZ_ACCESS_TOKEN=self.token
        ).json()
        expected = list(api.generated_orders(self.seller, [US, CA], created_after=parse(after)))
        # The token pins the moment of the first page, so page 2 continues the same listing.
        ids = [o["orderId"] for o in first["orders"] + second["orders"]]
        self.assertEqual(len(ids), len(set(ids)))
        self.assertEqual(ids[:10], [o.order_id for o in expected[:10]])


class SearchOrdersValidationTests(OrdersTestCase):
    def assert_invalid(self, **params: Any) -> dict[str, Any]:
        response = self.search(**params)
        self.assertEqual(response.status_code, 400, response.content)
        body = assert_matches_model(*SEARCH_OP, response)
        self.assertEqual(body["errors"][0]["code"], "InvalidInput")
        return body

    def test_created_after_or_last_updated_after_is_required(self) -> None:
        self.assert_invalid()

    def test_created_after_and_last_updated_after_are_mutually_exclusive(self) -> None:
        self.assert_invalid(
            createdAfter=iso(self.now - timedelta(days=2)), lastUpdatedAfter=iso(self.now - timedelta(days=1))
        )

    def test_created_after_excludes_last_updated_before(self) -> None:
        self.assert_invalid(
            createdAfter=iso(self.now - timedelta(days=2)),
            lastUpdatedBefore=iso(self.now - timedelta(days=1)),
        )

    def test_last_updated_after_excludes_created_before(self) -> None:
        self.assert_invalid(
            lastUpdatedAfter=iso(self.now - timedelta(days=2)),
            createdBefore=iso(self.now - timedelta(days=1)),
        )

    def test_created_before_alone_is_not_enough(self) -> None:
        self.assert_invalid(createdBefore=iso(self.now - timedelta(days=1)))

    def test_created_before_must_be_two_minutes_before_now(self) -> None:
        self.assert_invalid(
            createdAfter=iso(self.now - timedelta(days=1)),
            createdBefore=iso(self.now - timedelta(seconds=60)),
        )

    def test_created_before_must_not_precede_created_after(self) -> None:
        self.assert_invalid(
            createdAfter=iso(self.now - timedelta(days=1)), createdBefore=iso(self.now - timedelta(days=2))
        )

    def test_max_results_per_page_is_between_1_and_100(self) -> None:
        self.assert_invalid(createdAfter=iso(self.now - timedelta(days=1)), maxResultsPerPage=0)
        self.assert_invalid(createdAfter=iso(self.now - timedelta(days=1)), maxResultsPerPage=101)

    def test_a_marketplace_the_seller_does_not_sell_in_is_refused_with_403(self) -> None:
        # Its details and the optional marketplaceIds: tests/sandbox/test_orders_model.py.
        response = self.search(
            createdAfter=iso(self.now - timedelta(days=1)), marketplaceIds="A1AM78C64UM0Y8"
        )
        self.assertEqual(response.status_code, 403, response.content)
        self.assertEqual(assert_matches_model(*SEARCH_OP, response)["errors"][0]["code"], "Unauthorized")

    def test_a_date_that_is_not_iso_8601_is_rejected(self) -> None:
        self.assert_invalid(createdAfter="yesterday")

    def test_a_forged_pagination_token_is_rejected(self) -> None:
        self.assert_invalid(paginationToken="not-a-token")

    def test_a_pagination_token_expires_after_24_hours_each_token_from_its_own_page(self) -> None:
        """The model's Pagination: "The token will expire after 24 hours." A refused token is the operation's 400,
        code InvalidInput (orders_2026-01-01.json searchOrders responses; Amazon's wording for a token it does not
        take, selling-partner-api-models issue #5144)."""
        after = iso(self.now - timedelta(days=4))
        first = self.search(createdAfter=after, maxResultsPerPage=5).json()["pagination"]["nextToken"]
        self.advance(24 * 3600 - 60)
        second = self.search(createdAfter=after, maxResultsPerPage=5, paginationToken=first)
        self.assertEqual(second.status_code, 200, second.content)
        later = second.json()["pagination"]["nextToken"]
        self.advance(61)
        body = self.assert_invalid(createdAfter=after, maxResultsPerPage=5, paginationToken=first)
        self.assertEqual(
            body["errors"][0]["message"],
            "The input you have submitted is not valid. Please check your input and try again.",
        )
        self.assertIn("expired", body["errors"][0]["details"])
        self.assertEqual(
            self.search(createdAfter=after, maxResultsPerPage=5, paginationToken=later).status_code, 200
        )

    def test_a_pagination_token_of_another_seller_is_rejected(self) -> None:
        body = self.search(createdAfter=iso(self.now - timedelta(days=3)), maxResultsPerPage=1).json()
        other = new_seller("Other", marketplace_ids=[US, CA])
        other_token = connect(self.client, other)["access_token"]
        response = self.client.get(
            SEARCH, {"paginationToken": body["pagination"]["nextToken"]}, HTTP_X_AMZ_ACCESS_TOKEN=other_token
        )
        self.assertEqual(response.status_code, 400)

    def test_a_bad_token_gives_403_in_the_error_list_shape(self) -> None:
        response = self.client.get(
            SEARCH, {"createdAfter": iso(self.now)}, HTTP_X_AMZ_ACCESS_TOKEN="Atza|nope"
        )
        self.assertEqual(response.status_code, 403)
        assert_matches_model(*SEARCH_OP, response)

    def test_past_the_burst_of_20_search_orders_answers_429(self) -> None:
        after = iso(self.now - timedelta(hours=6))
        statuses = [self.search(createdAfter=after).status_code for _ in range(21)]
        self.assertEqual(statuses[:20], [200] * 20)
        self.assertEqual(statuses[20], 429)
        response = self.search(createdAfter=after)
        assert_matches_model(*SEARCH_OP, response)
        self.assertEqual(response.json()["errors"][0]["code"], "QuotaExceeded")


class GetOrderTests(OrdersTestCase):
    def test_an_order_is_returned_in_the_models_shape(self) -> None:
        order = api.generated_orders(self.seller, [US], self.now - timedelta(days=3)).first()
        assert order is not None
        response = self.client.get(f"{SEARCH}/{order.order_id}", HTTP_X_AMZ_ACCESS_TOKEN=self.token)
        self.assertEqual(response.status_code, 200)
        body = assert_matches_model(*GET_OP, response)
        self.assertEqual(body["order"]["orderId"], order.order_id)
        self.assertEqual(response["x-amzn-RateLimit-Limit"], "0.5")
        listed = self.search(createdAfter=iso(self.now - timedelta(days=3)), marketplaceIds=US).json()[
            "orders"
        ][0]
        self.assertEqual(listed, body["order"])

    def test_an_unknown_order_is_404_with_an_error_body(self) -> None:
        response = self.client.get(f"{SEARCH}/111-0000000-0000000", HTTP_X_AMZ_ACCESS_TOKEN=self.token)
        self.assertEqual(response.status_code, 404)
        assert_matches_model(*GET_OP, response)

    def test_another_sellers_order_is_404(self) -> None:
        other = new_seller("Other", marketplace_ids=[US])
        order = api.generated_orders(other, [US], self.now - timedelta(days=2)).first()
        assert order is not None
        response = self.client.get(f"{SEARCH}/{order.order_id}", HTTP_X_AMZ_ACCESS_TOKEN=self.token)
        self.assertEqual(response.status_code, 404)

    def test_an_order_not_yet_created_in_virtual_time_is_404(self) -> None:
        api.generated_orders(self.seller, [US], self.now - timedelta(days=1))
        future = SandboxOrder.objects.filter(seller=self.seller, created_time__gt=self.now).first()
        if future is None:  # every order of today is already in the past: make one from tomorrow's slot
            future = SandboxOrder.objects.filter(seller=self.seller).first()
            assert future is not None
            SandboxOrder.objects.filter(pk=future.pk).update(created_time=self.now + timedelta(hours=1))
        response = self.client.get(f"{SEARCH}/{future.order_id}", HTTP_X_AMZ_ACCESS_TOKEN=self.token)
        self.assertEqual(response.status_code, 404)

    def test_get_order_status_changes_after_a_day(self) -> None:
        order = (
            api.generated_orders(self.seller, [US, CA], self.now - timedelta(hours=23))
            .filter(cancelled_at__isnull=True, created_time__lte=self.now - timedelta(minutes=30))
            .first()
        )
        assert order is not None
        url = f"{SEARCH}/{order.order_id}?includedData=FULFILLMENT"
        before = self.client.get(url, HTTP_X_AMZ_ACCESS_TOKEN=self.token).json()["order"]
        self.assertEqual(before["fulfillment"]["fulfillmentStatus"], "UNSHIPPED")
        self.advance(33 * 3600)
        after = self.client.get(url, HTTP_X_AMZ_ACCESS_TOKEN=self.token).json()["order"]
        self.assertEqual(after["fulfillment"]["fulfillmentStatus"], "SHIPPED")
        self.assertGreater(parse(after["lastUpdatedTime"]), parse(before["lastUpdatedTime"]))
