"""patchListingsItem (Listings Items 2021-08-01) and the Ads API profile list."""

from __future__ import annotations

import json
from typing import Any

from django.test import TestCase

from sandbox import api
from tests.sandbox.helpers import (
    ADS_CALLBACK,
    CA,
    US,
    ads_app,
    assert_matches_model,
    connect,
    listings_app,
    new_seller,
    query,
)

PATCH_OP = ("listingsItems_2021-08-01.json", "/listings/2021-08-01/items/{sellerId}/{sku}", "patch")


def quantity_patch(quantity: Any) -> dict[str, Any]:
    return {
        "productType": "PRODUCT",
        "patches": [
            {
                "op": "replace",
                "path": "/attributes/fulfillment_availability",
                "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": quantity}],
            }
        ],
    }


class PatchListingsItemTests(TestCase):
    def setUp(self) -> None:
        api.set_time_scale(0)
        self.seller = new_seller(marketplace_ids=[US, CA])
        self.token = connect(self.client, self.seller, listings_app())["access_token"]

    def patch(self, body: Any, sku: str = "SBX-MUG-001", seller_id: str = "", marketplaces: str = US) -> Any:
        seller_id = seller_id or self.seller.selling_partner_id
        return self.client.patch(
            f"/sandbox/na/sp/listings/2021-08-01/items/{seller_id}/{sku}?marketplaceIds={marketplaces}",
            data=body if isinstance(body, str) else json.dumps(body),
            content_type="application/json",
            HTTP_X_AMZ_ACCESS_TOKEN=self.token,
        )

    def test_a_quantity_patch_is_accepted_and_stored(self) -> None:
        response = self.patch(quantity_patch(17))
        self.assertEqual(response.status_code, 200)
        body = assert_matches_model(*PATCH_OP, response)
        self.assertEqual(body["sku"], "SBX-MUG-001")
        self.assertEqual(body["status"], "ACCEPTED")
        self.assertTrue(body["submissionId"])
        self.assertEqual(body["issues"], [])
        self.assertEqual(response["x-amzn-RateLimit-Limit"], "5")
        self.assertEqual(api.listing_quantity(self.seller, "SBX-MUG-001", US), 17)
        self.assertIsNone(api.listing_quantity(self.seller, "SBX-MUG-001", CA))

    def test_a_later_patch_replaces_the_quantity_in_every_given_marketplace(self) -> None:
        self.patch(quantity_patch(17))
        self.patch(quantity_patch(3), marketplaces=f"{US},{CA}")
        self.assertEqual(api.listing_quantity(self.seller.selling_partner_id, "SBX-MUG-001", US), 3)
        self.assertEqual(api.listing_quantity(self.seller.selling_partner_id, "SBX-MUG-001", CA), 3)

    def test_a_negative_quantity_is_reported_as_an_invalid_submission(self) -> None:
        response = self.patch(quantity_patch(-1))
        self.assertEqual(response.status_code, 200)
        body = assert_matches_model(*PATCH_OP, response)
        self.assertEqual(body["status"], "INVALID")
        self.assertEqual(body["issues"][0]["severity"], "ERROR")
        self.assertIsNone(api.listing_quantity(self.seller, "SBX-MUG-001", US))

    def test_another_sellers_id_in_the_path_is_forbidden(self) -> None:
        other = new_seller("Other")
        response = self.patch(quantity_patch(1), seller_id=other.selling_partner_id)
        self.assertEqual(response.status_code, 403)
        assert_matches_model(*PATCH_OP, response)
        self.assertIsNone(api.listing_quantity(other, "SBX-MUG-001", US))

    def test_a_malformed_body_is_a_400_in_the_error_list_shape(self) -> None:
        for body in ("{not json", {"patches": []}, {"productType": "PRODUCT", "patches": []},
                     {"productType": "PRODUCT", "patches": [{"op": "explode", "path": "/x"}]}):  # fmt: skip
            response = self.patch(body)
            self.assertEqual(response.status_code, 400, body)
            errors = assert_matches_model(*PATCH_OP, response)["errors"]
            self.assertEqual(errors[0]["code"], "InvalidInput")

    def test_marketplace_ids_are_required(self) -> None:
        response = self.client.patch(
            f"/sandbox/na/sp/listings/2021-08-01/items/{self.seller.selling_partner_id}/SKU-1",
            data=json.dumps(quantity_patch(1)),
            content_type="application/json",
            HTTP_X_AMZ_ACCESS_TOKEN=self.token,
        )
        self.assertEqual(response.status_code, 400)
        assert_matches_model(*PATCH_OP, response)

    def test_a_sku_with_special_characters_round_trips(self) -> None:
        response = self.patch(quantity_patch(4), sku="MUG%2FBLUE%20XL")
        self.assertEqual(response.json()["sku"], "MUG/BLUE XL")
        self.assertEqual(api.listing_quantity(self.seller, "MUG/BLUE XL", US), 4)

    def test_past_the_burst_of_5_patches_answer_429(self) -> None:
        statuses = [self.patch(quantity_patch(n)).status_code for n in range(6)]
        self.assertEqual(statuses, [200] * 5 + [429])
        api.advance_clock(0.2)  # 5 per second: one token back
        self.assertEqual(self.patch(quantity_patch(9)).status_code, 200)


class AdsProfilesTests(TestCase):
    def setUp(self) -> None:
        api.set_time_scale(0)
        self.seller = new_seller("Ads Seller", marketplace_ids=[US, CA])
        response = self.client.post(
            "/sandbox/na/ap/oa?"
            + "&".join(
                f"{k}={v}"
                for k, v in {
                    "client_id": ads_app()["client_id"],
                    "scope": "advertising::campaign_management",
                    "response_type": "code",
                    "redirect_uri": ADS_CALLBACK,
                    "state": "s",
                }.items()
            ),
            {"seller": self.seller.selling_partner_id, "action": "allow"},
        )
        code = query(response["Location"])["code"]
        tokens = self.client.post(
            "/sandbox/na/auth/o2/token",
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": ADS_CALLBACK,
                "client_id": ads_app()["client_id"],
                "client_secret": ads_app()["client_secret"],
            },
        ).json()
        self.token = tokens["access_token"]

    def profiles(self, token: str | None = None, client_id: str | None = None, region: str = "na") -> Any:
        return self.client.get(
            f"/sandbox/{region}/ads/v2/profiles",
            HTTP_AUTHORIZATION=f"Bearer {self.token if token is None else token}",
            HTTP_AMAZON_ADVERTISING_API_CLIENTID=ads_app()["client_id"] if client_id is None else client_id,
        )

    def test_one_profile_per_participating_marketplace(self) -> None:
        response = self.profiles()
        self.assertEqual(response.status_code, 200)
        profiles = [p for p in response.json() if p["accountInfo"]["type"] == "seller"]
        self.assertEqual([p["accountInfo"]["marketplaceStringId"] for p in profiles], [US, CA])
        us = profiles[0]
        self.assertIsInstance(us["profileId"], int)
        self.assertEqual(us["countryCode"], "US")
        self.assertEqual(us["currencyCode"], "USD")
        self.assertEqual(us["timezone"], "America/Los_Angeles")
        self.assertIsInstance(us["dailyBudget"], float)
        self.assertEqual(us["accountInfo"]["id"], self.seller.selling_partner_id)
        self.assertEqual(us["accountInfo"]["type"], "seller")
        self.assertEqual(us["accountInfo"]["name"], "Ads Seller")
        self.assertTrue(us["accountInfo"]["validPaymentMethod"])

    def test_the_user_also_manages_an_agency_account_as_amazon_ads_lists_it(self) -> None:
        agency = [p for p in self.profiles().json() if p["accountInfo"]["type"] != "seller"]
        self.assertEqual([p["accountInfo"]["type"] for p in agency], ["agency"])
        self.assertNotEqual(agency[0]["accountInfo"]["id"], self.seller.selling_partner_id)

    def test_profile_ids_are_stable(self) -> None:
        self.assertEqual(self.profiles().json(), self.profiles().json())

    def test_a_bad_token_is_401(self) -> None:
        response = self.profiles(token="Atza|nope")
        self.assertEqual(response.status_code, 401)
        self.assertEqual(response.json()["code"], "UNAUTHORIZED")

    def test_a_wrong_client_id_header_is_401(self) -> None:
        self.assertEqual(self.profiles(client_id="amzn1.application-oa2-client.other").status_code, 401)

    def test_an_sp_api_token_is_not_an_ads_token(self) -> None:
        sp_token = connect(self.client, self.seller)["access_token"]
        self.assertEqual(self.profiles(token=sp_token).status_code, 401)

    def test_a_revoked_ads_grant_is_401(self) -> None:
        api.revoke(self.seller, ads_app()["client_id"])
        self.assertEqual(self.profiles().status_code, 401)

    def test_another_regions_host_lists_no_profiles(self) -> None:
        self.assertEqual(self.profiles(region="eu").json(), [])
