"""searchOrders and getOrder as the Orders API 2026-01-01 model and Amazon's docs describe them.

includedData decides the optional blocks, marketplaceIds is optional, maxResultsPerPage and includedData may change
between pages, fulfillmentStatuses and fulfilledBy filter, old orders are past Amazon's retention, a marketplace the
seller does not participate in is refused as Amazon refuses it, and a request without an access token gets Amazon's
wording. Every answer is validated against the model (tests/fixtures/amazon-models/orders_2026-01-01.json).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sandbox import api
from sandbox.models import SandboxOrder
from tests.sandbox.helpers import CA, JP, US, assert_matches_model, connect, new_seller
from tests.sandbox.test_orders import GET_OP, SEARCH, SEARCH_OP, OrdersTestCase, iso, parse

MX, DE = "A1AM78C64UM0Y8", "A1PA6795UKMFR9"
ORDER_BLOCKS = {
    "proceeds",
    "fulfillment",
    "buyer",
    "recipient",
    "tax",
    "payment",
    "packages",
    "fulfillmentOrders",
}
ITEM_BLOCKS = {"proceeds", "fulfillment", "expense", "promotion", "cancellation", "tax"}


def blocks(order: dict[str, Any]) -> tuple[set[str], set[str]]:
    """The optional blocks present on the order, and on any of its items."""
    on_items = {key for item in order["orderItems"] for key in item if key in ITEM_BLOCKS}
    return {key for key in order if key in ORDER_BLOCKS}, on_items


class IncludedDataTests(OrdersTestCase):
    def orders(self, **params: Any) -> list[dict[str, Any]]:
        response = self.search(createdAfter=iso(self.now - timedelta(days=3)), **params)
        self.assertEqual(response.status_code, 200, response.content)
        body = assert_matches_model(*SEARCH_OP, response)
        self.assertTrue(body["orders"])
        return list(body["orders"])

    def test_without_included_data_an_order_carries_only_the_basic_information(self) -> None:
        for order in self.orders():
            self.assertEqual(blocks(order), (set(), set()))
            self.assertTrue(
                order["orderId"] and order["createdTime"] and order["salesChannel"]["marketplaceId"]
            )
            self.assertTrue(all(item["product"]["sellerSku"] for item in order["orderItems"]))

    def test_proceeds_alone_brings_the_totals_and_nothing_else(self) -> None:
        for order in self.orders(includedData="PROCEEDS"):
            self.assertEqual(blocks(order), ({"proceeds"}, {"proceeds"}))

    def test_fulfillment_alone_brings_the_status_and_nothing_else(self) -> None:
        for order in self.orders(includedData="FULFILLMENT"):
            self.assertEqual(blocks(order), ({"fulfillment"}, {"fulfillment"}))
            self.assertIn(
                order["fulfillment"]["fulfillmentStatus"], ("PENDING", "UNSHIPPED", "SHIPPED", "CANCELLED")
            )

    def test_both_together_bring_both(self) -> None:
        for order in self.orders(includedData="PROCEEDS,FULFILLMENT"):
            self.assertEqual(blocks(order), ({"proceeds", "fulfillment"}, {"proceeds", "fulfillment"}))

    def test_a_dataset_the_sandbox_has_nothing_for_is_accepted_and_left_out(self) -> None:
        for order in self.orders(includedData="BUYER,TAX,PROCEEDS"):
            self.assertEqual(blocks(order)[0], {"proceeds"})

    def test_a_value_outside_the_models_enum_is_400(self) -> None:
        response = self.search(createdAfter=iso(self.now - timedelta(days=1)), includedData="ITEMS")
        self.assertEqual(response.status_code, 400)
        self.assertEqual(assert_matches_model(*SEARCH_OP, response)["errors"][0]["code"], "InvalidInput")

    def test_get_order_follows_included_data_too(self) -> None:
        order = api.generated_orders(self.seller, [US], self.now - timedelta(days=3)).first()
        assert order is not None
        url = f"{SEARCH}/{order.order_id}"
        basic = assert_matches_model(*GET_OP, self.client.get(url, HTTP_X_AMZ_ACCESS_TOKEN=self.token))
        self.assertEqual(blocks(basic["order"]), (set(), set()))
        full = self.client.get(
            url, {"includedData": "PROCEEDS,FULFILLMENT"}, HTTP_X_AMZ_ACCESS_TOKEN=self.token
        )
        body = assert_matches_model(*GET_OP, full)
        self.assertEqual(blocks(body["order"]), ({"proceeds", "fulfillment"}, {"proceeds", "fulfillment"}))


class MarketplaceIdsTests(OrdersTestCase):
    def test_without_marketplace_ids_the_search_covers_every_marketplace_of_the_seller(self) -> None:
        after = iso(self.now - timedelta(days=4))
        response = self.client.get(SEARCH, {"createdAfter": after}, HTTP_X_AMZ_ACCESS_TOKEN=self.token)
        self.assertEqual(response.status_code, 200, response.content)
        orders = assert_matches_model(*SEARCH_OP, response)["orders"]
        self.assertEqual({o["salesChannel"]["marketplaceId"] for o in orders}, {US, CA})
        self.assertEqual(orders, self.search(createdAfter=after).json()["orders"])

    def test_a_marketplace_of_the_region_the_seller_does_not_participate_in_is_403_access_denied(
        self,
    ) -> None:
        response = self.search(createdAfter=iso(self.now - timedelta(days=1)), marketplaceIds=f"{US},{MX}")
        self.assertEqual(response.status_code, 403)
        [error] = assert_matches_model(*SEARCH_OP, response)["errors"]
        self.assertEqual(
            (error["code"], error["message"]), ("Unauthorized", "Access to requested resource is denied.")
        )
        self.assertNotIn("x-amzn-RateLimit-Limit", response)

    def test_a_marketplace_of_another_region_is_403_not_valid_for_region(self) -> None:
        response = self.search(createdAfter=iso(self.now - timedelta(days=1)), marketplaceIds=DE)
        self.assertEqual(response.status_code, 403)
        [error] = assert_matches_model(*SEARCH_OP, response)["errors"]
        self.assertEqual(error["code"], "Unauthorized")
        self.assertEqual(error["details"], "The marketplaces you provided are not valid for region.")

    def test_an_id_that_is_no_marketplace_is_refused_too(self) -> None:
        response = self.search(
            createdAfter=iso(self.now - timedelta(days=1)), marketplaceIds="NOT-A-MARKETPLACE"
        )
        self.assertEqual(response.status_code, 403)
        assert_matches_model(*SEARCH_OP, response)


class PagingTests(OrdersTestCase):
    def next_page(self, token: str, **params: Any) -> Any:
        return self.search(paginationToken=token, **params)

    def test_max_results_per_page_may_change_between_pages(self) -> None:
        after = iso(self.now - timedelta(days=6))
        first = self.search(createdAfter=after, maxResultsPerPage=3).json()
        second = self.next_page(first["pagination"]["nextToken"], createdAfter=after, maxResultsPerPage=7)
        self.assertEqual(second.status_code, 200, second.content)
        body = assert_matches_model(*SEARCH_OP, second)
        self.assertEqual(len(body["orders"]), 7)
        expected = [o.order_id for o in api.generated_orders(self.seller, [US, CA], parse(after))]
        self.assertEqual([o["orderId"] for o in first["orders"] + body["orders"]], expected[:10])

    def test_included_data_may_change_between_pages(self) -> None:
        after = iso(self.now - timedelta(days=6))
        first = self.search(createdAfter=after, maxResultsPerPage=3).json()
        self.assertEqual(blocks(first["orders"][0]), (set(), set()))
        second = self.next_page(first["pagination"]["nextToken"], createdAfter=after, includedData="PROCEEDS")
        body = assert_matches_model(*SEARCH_OP, second)
        self.assertTrue(all(blocks(o)[0] == {"proceeds"} for o in body["orders"]))

    def test_a_filter_sent_again_with_another_value_is_400(self) -> None:
        after = iso(self.now - timedelta(days=6))
        token = self.search(createdAfter=after, maxResultsPerPage=3).json()["pagination"]["nextToken"]
        for changed in (
            {"createdAfter": iso(self.now - timedelta(days=5))},
            {"marketplaceIds": US},
            {"fulfillmentStatuses": "SHIPPED"},
            {"fulfilledBy": "AMAZON"},
        ):
            with self.subTest(changed=changed):
                response = self.next_page(token, **{"createdAfter": after, **changed})
                self.assertEqual(response.status_code, 400, response.content)
                self.assertEqual(
                    assert_matches_model(*SEARCH_OP, response)["errors"][0]["code"], "InvalidInput"
                )

    def test_the_same_filters_sent_again_are_accepted(self) -> None:
        after = iso(self.now - timedelta(days=6))
        token = self.search(createdAfter=after, maxResultsPerPage=3).json()["pagination"]["nextToken"]
        response = self.next_page(token, createdAfter=after, marketplaceIds=f"{CA},{US}")
        self.assertEqual(response.status_code, 200, response.content)


class FilterTests(OrdersTestCase):
    def test_fulfilled_by_returns_only_orders_fulfilled_by_that_party(self) -> None:
        after = self.now - timedelta(days=5)
        generated = api.generated_orders(self.seller, [US, CA], after)
        amazon = set(generated.filter(index=0).values_list("order_id", flat=True))
        SandboxOrder.objects.filter(order_id__in=amazon).update(fulfilled_by="AMAZON")
        by_amazon = self.all_pages(createdAfter=iso(after), fulfilledBy="AMAZON", includedData="FULFILLMENT")
        self.assertEqual({o["orderId"] for o in by_amazon}, amazon)
        self.assertEqual({o["fulfillment"]["fulfilledBy"] for o in by_amazon}, {"AMAZON"})
        by_merchant = self.all_pages(createdAfter=iso(after), fulfilledBy="MERCHANT")
        self.assertFalse({o["orderId"] for o in by_merchant} & amazon)
        both = self.all_pages(createdAfter=iso(after), fulfilledBy="AMAZON,MERCHANT")
        self.assertEqual(len(both), len(by_amazon) + len(by_merchant))

    def test_fulfilled_by_and_fulfillment_statuses_outside_the_enum_are_400(self) -> None:
        for params in ({"fulfilledBy": "SELLER"}, {"fulfillmentStatuses": "DELIVERED"}):
            with self.subTest(params=params):
                response = self.search(createdAfter=iso(self.now - timedelta(days=1)), **params)
                self.assertEqual(response.status_code, 400)
                assert_matches_model(*SEARCH_OP, response)


class RetentionTests(OrdersTestCase):
    """Orders API: "does not display order data that is more than two years old, except in the JP, AU, and SG
    marketplaces, for which data from 2016 and after is available" (orders_2026-01-01.json, info)."""

    def long_history(self, name: str, region: str, marketplace: str) -> tuple[str, str]:
        seller = new_seller(name, region=region, marketplace_ids=[marketplace], orders_per_day=1)
        return connect(self.client, seller)["access_token"], seller.selling_partner_id

    def oldest(self, host: str, token: str, marketplace: str) -> list[dict[str, Any]]:
        found, params = (
            [],
            {"createdAfter": iso(self.now - timedelta(days=3 * 365)), "marketplaceIds": marketplace},
        )
        response = self.client.get(
            f"/sandbox/{host}/sp/orders/2026-01-01/orders", params, HTTP_X_AMZ_ACCESS_TOKEN=token
        )
        while True:
            self.assertEqual(response.status_code, 200, response.content)
            body = assert_matches_model(*SEARCH_OP, response)
            found.extend(body["orders"])
            if "pagination" not in body:
                return found
            response = self.client.get(
                f"/sandbox/{host}/sp/orders/2026-01-01/orders",
                {**params, "paginationToken": body["pagination"]["nextToken"]},
                HTTP_X_AMZ_ACCESS_TOKEN=token,
            )

    def test_a_us_search_from_three_years_ago_answers_200_without_orders_older_than_two_years(self) -> None:
        token, seller = self.long_history("Old US", "NA", US)
        two_years = self.now.replace(year=self.now.year - 2)
        generated = api.generated_orders(seller, [US], self.now - timedelta(days=3 * 365))
        self.assertTrue(generated.filter(created_time__lt=two_years).exists(), "the sandbox has older orders")
        orders = self.oldest("na", token, US)
        self.assertTrue(orders)
        self.assertGreaterEqual(min(parse(o["createdTime"]) for o in orders), two_years)
        self.assertEqual(len(orders), generated.filter(created_time__gte=two_years).count())

    def test_get_order_of_an_order_past_retention_is_404(self) -> None:
        token, seller = self.long_history("Old US", "NA", US)
        two_years = self.now.replace(year=self.now.year - 2)
        old = api.generated_orders(seller, [US], self.now - timedelta(days=3 * 365)).first()
        assert old is not None and old.created_time < two_years
        response = self.client.get(f"{SEARCH}/{old.order_id}", HTTP_X_AMZ_ACCESS_TOKEN=token)
        self.assertEqual(response.status_code, 404)
        assert_matches_model(*GET_OP, response)

    def test_japan_keeps_orders_older_than_two_years(self) -> None:
        token, _seller = self.long_history("Old JP", "FE", JP)
        orders = self.oldest("fe", token, JP)
        self.assertLess(min(parse(o["createdTime"]) for o in orders), self.now - timedelta(days=2 * 366))


class AccessTokenTests(OrdersTestCase):
    def test_a_request_without_an_access_token_gets_amazons_missing_token_wording(self) -> None:
        response = self.client.get(SEARCH, {"createdAfter": iso(self.now - timedelta(days=1))})
        self.assertEqual(response.status_code, 403)
        [error] = assert_matches_model(*SEARCH_OP, response)["errors"]
        self.assertEqual(
            error,
            {
                "code": "Unauthorized",
                "message": "Access to requested resource is denied.",
                "details": "Access token is missing in the request header.",
            },
        )

    def test_an_invalid_or_expired_token_keeps_access_denied_with_its_own_details(self) -> None:
        response = self.client.get(
            SEARCH, {"createdAfter": iso(self.now)}, HTTP_X_AMZ_ACCESS_TOKEN="Atza|nope"
        )
        [error] = assert_matches_model(*SEARCH_OP, response)["errors"]
        self.assertEqual(error["message"], "Access to requested resource is denied.")
        self.assertEqual(error["details"], "The access token you provided is revoked, malformed or invalid.")
        api.advance_clock(3700)
        expired = self.client.get(SEARCH, {"createdAfter": iso(self.now)}, HTTP_X_AMZ_ACCESS_TOKEN=self.token)
        self.assertEqual(expired.status_code, 403)
        [error] = assert_matches_model(*SEARCH_OP, expired)["errors"]
        self.assertEqual(error["message"], "Access to requested resource is denied.")
        self.assertEqual(error["details"], "The access token you provided has expired.")

    def test_every_sp_api_operation_shares_the_missing_token_wording(self) -> None:
        response = self.client.get("/sandbox/na/sp/sellers/v1/marketplaceParticipations")
        self.assertEqual(response.status_code, 403)
        self.assertEqual(
            response.json()["errors"][0]["details"], "Access token is missing in the request header."
        )
