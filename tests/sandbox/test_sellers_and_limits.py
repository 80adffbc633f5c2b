"""getMarketplaceParticipations, the access-token check shared by all SP-API operations, and the usage plans."""

from __future__ import annotations

import time

import requests
from django.test import TestCase

from sandbox import api
from tests.sandbox.helpers import CA, US, assert_matches_model, connect, new_seller, orders_app, refresh
from tests.sandbox_http import SANDBOX_BASE, sandbox_http

PARTICIPATIONS = "/sandbox/na/sp/sellers/v1/marketplaceParticipations"
SELLERS = ("sellers.json", "/sellers/v1/marketplaceParticipations", "get")
UNAUTHORIZED = {"code": "Unauthorized", "message": "Access to requested resource is denied."}


class MarketplaceParticipationsTests(TestCase):
    def setUp(self) -> None:
        api.set_time_scale(0)
        self.seller = new_seller("Maple Goods", marketplace_ids=[US, CA])
        self.token = connect(self.client, self.seller)["access_token"]

    def get(self, token: str | None = None, path: str = PARTICIPATIONS):  # type: ignore[no-untyped-def]
        return self.client.get(path, HTTP_X_AMZ_ACCESS_TOKEN=self.token if token is None else token)

    def test_lists_the_sellers_participating_marketplaces_in_the_models_shape(self) -> None:
        response = self.get()
        self.assertEqual(response.status_code, 200)
        body = assert_matches_model(*SELLERS, response)
        self.assertEqual([p["marketplace"]["id"] for p in body["payload"]], [US, CA])
        first = body["payload"][0]
        self.assertEqual(first["marketplace"]["countryCode"], "US")
        self.assertEqual(first["marketplace"]["defaultCurrencyCode"], "USD")
        self.assertEqual(first["marketplace"]["name"], "Amazon.com")
        self.assertEqual(first["participation"], {"isParticipating": True, "hasSuspendedListings": False})
        self.assertEqual(first["storeName"], "Maple Goods")

    def test_success_carries_the_rate_limit_and_a_request_id(self) -> None:
        response = self.get()
        self.assertEqual(response["x-amzn-RateLimit-Limit"], "0.016")
        self.assertTrue(response["x-amzn-RequestId"])

    def test_the_united_kingdom_reports_country_code_gb(self) -> None:
        seller = new_seller("Thames Ltd", region="EU", marketplace_ids=["A1F83G8C2ARO7P"])
        token = connect(self.client, seller)["access_token"]
        response = self.get(token, "/sandbox/eu/sp/sellers/v1/marketplaceParticipations")
        body = assert_matches_model(*SELLERS, response)
        self.assertEqual(body["payload"][0]["marketplace"]["countryCode"], "GB")

    def test_a_missing_token_is_denied_with_403(self) -> None:
        response = self.client.get(PARTICIPATIONS)
        self.assertEqual(response.status_code, 403)
        body = assert_matches_model(*SELLERS, response)
        self.assertLessEqual(UNAUTHORIZED.items(), body["errors"][0].items())
        self.assertNotIn("x-amzn-RateLimit-Limit", response)

    def test_an_unknown_token_is_denied_with_403(self) -> None:
        response = self.get("Atza|made-up")
        self.assertEqual(response.status_code, 403)
        self.assertEqual(response.json()["errors"][0]["code"], "Unauthorized")

    def test_an_access_token_expires_after_an_hour(self) -> None:
        api.advance_clock(3599)
        self.assertEqual(self.get().status_code, 200)
        api.advance_clock(2)
        response = self.get()
        self.assertEqual(response.status_code, 403)
        error = assert_matches_model(*SELLERS, response)["errors"][0]
        self.assertEqual(error["code"], "Unauthorized")
        self.assertEqual(error["details"], "The access token you provided has expired.")

    def test_a_refreshed_access_token_works_after_the_old_one_expired(self) -> None:
        tokens = connect(self.client, self.seller)
        api.advance_clock(3700)
        fresh = refresh(self.client, tokens["refresh_token"]).json()["access_token"]
        self.assertEqual(self.get(fresh).status_code, 200)

    def test_access_tokens_stop_working_when_the_seller_revokes(self) -> None:
        api.revoke(self.seller.selling_partner_id, orders_app()["app_id"])
        self.assertEqual(self.get().status_code, 403)

    def test_a_token_is_denied_on_another_regions_host(self) -> None:
        response = self.get(path="/sandbox/eu/sp/sellers/v1/marketplaceParticipations")
        self.assertEqual(response.status_code, 403)

    def test_an_ads_token_is_not_accepted_by_the_sp_api(self) -> None:
        from tests.sandbox.helpers import ads_app

        tokens = api.issue_tokens(
            self.seller, ads_app()["client_id"], "http://localhost/amazon/ads/callback/"
        )
        self.assertEqual(self.get(tokens["access_token"]).status_code, 403)

    def test_the_operation_answers_a_real_http_client(self) -> None:
        with sandbox_http():
            response = requests.get(
                f"{SANDBOX_BASE}/na/sp/sellers/v1/marketplaceParticipations",
                headers={"x-amz-access-token": self.token},
                timeout=5,
            )
        self.assertEqual(response.status_code, 200)
        assert_matches_model(*SELLERS, response)
        self.assertEqual(response.headers["x-amzn-RateLimit-Limit"], "0.016")


class UsagePlanTests(TestCase):
    def setUp(self) -> None:
        api.set_time_scale(0)
        self.seller = new_seller(marketplace_ids=[US])
        self.token = connect(self.client, self.seller)["access_token"]

    def call(self):  # type: ignore[no-untyped-def]
        return self.client.get(PARTICIPATIONS, HTTP_X_AMZ_ACCESS_TOKEN=self.token)

    def test_the_burst_of_15_is_served_then_429_quota_exceeded(self) -> None:
        for _ in range(15):
            self.assertEqual(self.call().status_code, 200)
        response = self.call()
        self.assertEqual(response.status_code, 429)
        body = assert_matches_model(*SELLERS, response)
        self.assertEqual(
            body["errors"][0],
            {
                "code": "QuotaExceeded",
                "message": "You exceeded your quota for the requested resource.",
                "details": "",
            },
        )
        self.assertNotIn("x-amzn-RateLimit-Limit", response)
        self.assertTrue(response["x-amzn-RequestId"])

    def test_the_bucket_refills_at_the_published_rate_in_virtual_time(self) -> None:
        for _ in range(15):
            self.call()
        self.assertEqual(self.call().status_code, 429)
        # 0.016 requests per second: one token takes 62.5 seconds.
        api.advance_clock(60)
        self.assertEqual(self.call().status_code, 429)
        api.advance_clock(3)
        self.assertEqual(self.call().status_code, 200)
        self.assertEqual(self.call().status_code, 429)

    def test_the_bucket_never_holds_more_than_the_burst(self) -> None:
        api.advance_clock(3000)  # enough refill for 48 calls, but the bucket caps at 15
        statuses = [self.call().status_code for _ in range(16)]
        self.assertEqual(statuses.count(200), 15)
        self.assertEqual(statuses[-1], 429)

    def test_buckets_are_per_seller_and_application(self) -> None:
        for _ in range(15):
            self.call()
        self.assertEqual(self.call().status_code, 429)
        other = new_seller("Other", marketplace_ids=[US])
        other_token = connect(self.client, other)["access_token"]
        response = self.client.get(PARTICIPATIONS, HTTP_X_AMZ_ACCESS_TOKEN=other_token)
        self.assertEqual(response.status_code, 200)
        from tests.sandbox.helpers import listings_app

        listings_token = connect(self.client, self.seller, listings_app())["access_token"]
        response = self.client.get(PARTICIPATIONS, HTTP_X_AMZ_ACCESS_TOKEN=listings_token)
        self.assertEqual(response.status_code, 200)

    def test_a_time_scale_compresses_the_refill(self) -> None:
        for _ in range(15):
            self.call()
        self.assertEqual(self.call().status_code, 429)
        api.set_time_scale(1000)
        time.sleep(0.1)  # at least 100 virtual seconds: more than the 62.5 s one token needs
        api.set_time_scale(0)
        self.assertEqual(self.call().status_code, 200)
