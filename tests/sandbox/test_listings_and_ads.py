"""patchListingsItem and getListingsItem (Listings Items 2021-08-01) and the Ads API profile list."""

from __future__ import annotations

import json
from typing import Any

from django.test import TestCase

from sandbox import api, spapi
from sandbox.models import SandboxListing
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
GET_OP = ("listingsItems_2021-08-01.json", "/listings/2021-08-01/items/{sellerId}/{sku}", "get")
MX = "A1AM78C64UM0Y8"
PROCESSED = spapi.PROCESSING_DELAY.total_seconds() + 1


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


def fulfillment_patch(op: str, **entry: Any) -> dict[str, Any]:
    return {
        "productType": "PRODUCT",
        "patches": [{"op": op, "path": "/attributes/fulfillment_availability", "value": [entry]}],
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

    def test_a_merge_changes_only_the_quantity_and_keeps_lead_time_and_restock_date(self) -> None:
        # "Merge a listing": a merge with the selector and quantity leaves restock_date and lead time as they are.
        full = fulfillment_patch(
            "replace",
            fulfillment_channel_code="DEFAULT",
            quantity=5,
            lead_time_to_ship_max_days=3,
            restock_date="2031-01-15",
        )
        self.assertEqual(self.patch(full).json()["status"], "ACCEPTED")
        response = self.patch(fulfillment_patch("merge", fulfillment_channel_code="DEFAULT", quantity=8))
        self.assertEqual(assert_matches_model(*PATCH_OP, response)["status"], "ACCEPTED")
        listing = SandboxListing.objects.get(seller=self.seller, sku="SBX-MUG-001", marketplace_id=US)
        self.assertEqual(listing.quantity, 8)
        self.assertEqual(listing.lead_time_to_ship_max_days, 3)
        self.assertEqual(str(listing.restock_date), "2031-01-15")

    def test_a_replace_replaces_the_whole_fulfillment_availability(self) -> None:
        self.patch(
            fulfillment_patch(
                "replace", fulfillment_channel_code="DEFAULT", quantity=5, lead_time_to_ship_max_days=3
            )
        )
        self.patch(quantity_patch(4))
        listing = SandboxListing.objects.get(seller=self.seller, sku="SBX-MUG-001", marketplace_id=US)
        self.assertEqual((listing.quantity, listing.lead_time_to_ship_max_days), (4, None))

    def test_a_merge_removes_a_member_set_to_null(self) -> None:
        self.patch(
            fulfillment_patch(
                "replace", fulfillment_channel_code="DEFAULT", quantity=5, lead_time_to_ship_max_days=3
            )
        )
        self.patch(
            fulfillment_patch("merge", fulfillment_channel_code="DEFAULT", lead_time_to_ship_max_days=None)
        )
        listing = SandboxListing.objects.get(seller=self.seller, sku="SBX-MUG-001", marketplace_id=US)
        self.assertEqual((listing.quantity, listing.lead_time_to_ship_max_days), (5, None))

    def test_a_merge_without_the_selector_is_an_invalid_submission(self) -> None:
        # "Merge a listing": "You must provide non-empty values for the selector field".
        for entry in ({"quantity": 3}, {"fulfillment_channel_code": "", "quantity": 3}):
            response = self.patch(fulfillment_patch("merge", **entry))
            body = assert_matches_model(*PATCH_OP, response)
            self.assertEqual(body["status"], "INVALID", entry)
            self.assertEqual(body["issues"][0]["attributeNames"], ["fulfillment_availability"])
            self.assertEqual(body["issues"][0]["marketplaceIds"], [US])
        self.assertIsNone(api.listing_quantity(self.seller, "SBX-MUG-001", US))

    def test_bad_fulfillment_members_are_an_invalid_submission(self) -> None:
        for entry in (
            {"lead_time_to_ship_max_days": -1},
            {"lead_time_to_ship_max_days": "2"},
            {"restock_date": "next week"},
            {"restock_date": None},
            {"quantity": True},
            {"quantity": 2**31},
        ):
            api.advance_clock(1)  # past the burst of 5
            body = self.patch(
                fulfillment_patch("replace", fulfillment_channel_code="DEFAULT", **entry)
            ).json()
            self.assertEqual(body["status"], "INVALID", entry)
        self.assertFalse(SandboxListing.objects.exists())

    def test_a_marketplace_the_seller_does_not_sell_in_is_refused_as_amazon_does(self) -> None:
        response = self.patch(quantity_patch(1), marketplaces=MX)
        self.assertEqual(response.status_code, 400)
        error = assert_matches_model(*PATCH_OP, response)["errors"][0]
        self.assertEqual(error["code"], "InvalidInput")
        self.assertEqual(error["message"], "Invalid 'sellerId' and 'marketplaceId' combination provided.")
        response = self.patch(quantity_patch(1), marketplaces="NOTAMARKETPLACE")
        self.assertEqual(response.json()["errors"][0]["message"], "Invalid 'marketplaceIds' provided.")
        self.assertFalse(SandboxListing.objects.exists())

    def test_only_top_level_attributes_can_be_patched(self) -> None:
        for path in ("/attributes/fulfillment_availability/0/quantity", "/sku", "/attributes/"):
            body = {
                "productType": "PRODUCT",
                "patches": [{"op": "replace", "path": path, "value": [{"a": 1}]}],
            }
            response = self.patch(body)
            self.assertEqual(response.status_code, 400, path)
            assert_matches_model(*PATCH_OP, response)

    def test_issue_locale_and_validation_preview_are_accepted(self) -> None:
        seller_id = self.seller.selling_partner_id
        url = f"/sandbox/na/sp/listings/2021-08-01/items/{seller_id}/SKU-1?marketplaceIds={US}&issueLocale=fr_CA"
        response = self.client.patch(
            url + "&mode=VALIDATION_PREVIEW",
            data=json.dumps(quantity_patch(2)),
            content_type="application/json",
            HTTP_X_AMZ_ACCESS_TOKEN=self.token,
        )
        self.assertEqual(assert_matches_model(*PATCH_OP, response)["status"], "VALID")
        self.assertFalse(SandboxListing.objects.exists())
        response = self.client.patch(
            url,
            data=json.dumps(quantity_patch(2)),
            content_type="application/json",
            HTTP_X_AMZ_ACCESS_TOKEN=self.token,
        )
        self.assertEqual(assert_matches_model(*PATCH_OP, response)["status"], "ACCEPTED")

    def test_a_nul_in_a_patch_value_is_refused(self) -> None:
        response = self.patch(
            fulfillment_patch("replace", fulfillment_channel_code="DEF\x00AULT", quantity=1)
        )
        self.assertEqual(response.status_code, 400)
        self.assertFalse(SandboxListing.objects.exists())


class GetListingsItemTests(TestCase):
    def setUp(self) -> None:
        api.set_time_scale(0)
        self.seller = new_seller(marketplace_ids=[US, CA])
        self.token = connect(self.client, self.seller, listings_app())["access_token"]

    def patch(self, body: Any, sku: str = "SBX-MUG-001", marketplaces: str = US) -> Any:
        response = self.client.patch(
            f"/sandbox/na/sp/listings/2021-08-01/items/{self.seller.selling_partner_id}/{sku}"
            f"?marketplaceIds={marketplaces}",
            data=json.dumps(body),
            content_type="application/json",
            HTTP_X_AMZ_ACCESS_TOKEN=self.token,
        )
        assert response.json()["status"] == "ACCEPTED", response.content
        return response

    def get(
        self, sku: str = "SBX-MUG-001", query: str = "", seller_id: str = "", marketplaces: str = US
    ) -> Any:
        seller_id = seller_id or self.seller.selling_partner_id
        return self.client.get(
            f"/sandbox/na/sp/listings/2021-08-01/items/{seller_id}/{sku}?marketplaceIds={marketplaces}{query}",
            HTTP_X_AMZ_ACCESS_TOKEN=self.token,
        )

    def test_an_unknown_sku_is_a_404_not_found(self) -> None:
        response = self.get("NO-SUCH-SKU")
        self.assertEqual(response.status_code, 404)
        error = assert_matches_model(*GET_OP, response)["errors"][0]
        self.assertEqual(error["code"], "NOT_FOUND")
        self.assertIn("NO-SUCH-SKU", error["message"])

    def test_another_sellers_id_is_forbidden(self) -> None:
        self.patch(quantity_patch(1))
        api.advance_clock(PROCESSED)
        response = self.get(seller_id=new_seller("Other").selling_partner_id)
        self.assertEqual(response.status_code, 403)
        assert_matches_model(*GET_OP, response)

    def test_a_patch_shows_only_after_amazon_has_processed_it(self) -> None:
        query = "&includedData=fulfillmentAvailability"
        self.patch(quantity_patch(7))
        self.assertEqual(self.get(query=query).status_code, 404)  # a new listing is not there yet
        api.advance_clock(PROCESSED)
        response = self.get(query=query)
        self.assertEqual(response.status_code, 200)
        body = assert_matches_model(*GET_OP, response)
        self.assertEqual(
            body["fulfillmentAvailability"], [{"fulfillmentChannelCode": "DEFAULT", "quantity": 7}]
        )
        self.patch(fulfillment_patch("merge", fulfillment_channel_code="DEFAULT", quantity=3))
        self.patch(fulfillment_patch("merge", fulfillment_channel_code="DEFAULT", quantity=4))
        self.assertEqual(self.get(query=query).json()["fulfillmentAvailability"][0]["quantity"], 7)
        self.assertEqual(api.listing_quantity(self.seller, "SBX-MUG-001", US), 4)  # what Amazon will show
        api.advance_clock(PROCESSED)
        self.assertEqual(self.get(query=query).json()["fulfillmentAvailability"][0]["quantity"], 4)

    def test_summaries_are_the_default_data_set(self) -> None:
        self.patch(quantity_patch(2))
        api.advance_clock(PROCESSED)
        response = self.get()
        self.assertEqual(response["x-amzn-RateLimit-Limit"], "5")
        body = assert_matches_model(*GET_OP, response)
        self.assertEqual(set(body), {"sku", "summaries"})
        [summary] = body["summaries"]
        self.assertEqual(summary["marketplaceId"], US)
        self.assertEqual(summary["productType"], "PRODUCT")
        self.assertEqual(summary["asin"], "B0SBX00001")
        self.assertEqual(summary["status"], ["BUYABLE", "DISCOVERABLE"])

    def test_every_included_data_set_matches_the_model(self) -> None:
        self.patch(
            fulfillment_patch(
                "replace",
                fulfillment_channel_code="DEFAULT",
                quantity=0,
                lead_time_to_ship_max_days=2,
                restock_date="2031-02-01",
            ),
            marketplaces=f"{US},{CA}",
        )
        api.advance_clock(PROCESSED)
        response = self.get(query="&includedData=" + ",".join(spapi.INCLUDED_DATA), marketplaces=f"{US},{CA}")
        body = assert_matches_model(*GET_OP, response)
        self.assertEqual(set(body), {"sku", *spapi.INCLUDED_DATA})
        self.assertEqual([s["marketplaceId"] for s in body["summaries"]], [US, CA])
        self.assertEqual(body["summaries"][0]["status"], ["DISCOVERABLE"])  # nothing in stock: not buyable
        self.assertEqual(
            body["attributes"]["fulfillment_availability"],
            [
                {
                    "fulfillment_channel_code": "DEFAULT",
                    "quantity": 0,
                    "lead_time_to_ship_max_days": 2,
                    "restock_date": "2031-02-01",
                }
            ],
        )
        self.assertEqual(
            body["fulfillmentAvailability"], [{"fulfillmentChannelCode": "DEFAULT", "quantity": 0}]
        )
        self.assertEqual(body["issues"], [])

    def test_other_attributes_are_kept_and_merged_by_their_selectors(self) -> None:
        name = {"marketplace_id": US, "language_tag": "en_US"}
        self.patch(
            {
                "productType": "HOME",
                "patches": [
                    {"op": "replace", "path": "/attributes/item_name", "value": [{**name, "value": "Mug"}]}
                ],
            }
        )
        self.patch(fulfillment_patch("merge", fulfillment_channel_code="DEFAULT", quantity=1))
        self.patch(
            {
                "productType": "HOME",
                "patches": [
                    {"op": "merge", "path": "/attributes/item_name", "value": [{**name, "value": "Cup"}]}
                ],
            }
        )
        api.advance_clock(PROCESSED)
        attributes = assert_matches_model(*GET_OP, self.get(query="&includedData=attributes"))["attributes"]
        self.assertEqual(attributes["item_name"], [{**name, "value": "Cup"}])
        self.assertEqual(attributes["fulfillment_availability"][0]["quantity"], 1)

    def test_issues_amazon_reports_later_are_returned(self) -> None:
        self.patch(quantity_patch(2))
        api.advance_clock(PROCESSED)
        issue = {
            "code": "8541",
            "message": "The quantity could not be applied.",
            "severity": "ERROR",
            "attributeNames": ["fulfillment_availability"],
            "categories": ["INVALID_ATTRIBUTE"],
        }
        SandboxListing.objects.filter(sku="SBX-MUG-001").update(issues=[issue])
        response = self.get(query="&includedData=issues&issueLocale=de_DE")
        self.assertEqual(
            assert_matches_model(*GET_OP, response)["issues"], [{**issue, "marketplaceIds": [US]}]
        )

    def test_bad_parameters_are_400s_in_the_error_list_shape(self) -> None:
        self.patch(quantity_patch(2))
        api.advance_clock(PROCESSED)
        for params, marketplaces in (("&includedData=everything", US), ("", MX), ("", "")):
            response = self.get(query=params, marketplaces=marketplaces)
            self.assertEqual(response.status_code, 400, params or marketplaces)
            assert_matches_model(*GET_OP, response)
        self.assertEqual(
            self.get(marketplaces=MX).json()["errors"][0]["message"],
            "Invalid 'sellerId' and 'marketplaceId' combination provided.",
        )

    def test_the_usage_plan_is_rate_5_burst_10(self) -> None:
        statuses = [self.get("NO-SUCH-SKU").status_code for _ in range(11)]
        self.assertEqual(statuses, [404] * 10 + [429])
        # The patch bucket is its own.
        self.assertEqual(self.patch(quantity_patch(1)).status_code, 200)

    def test_other_methods_are_not_simulated(self) -> None:
        response = self.client.put(
            f"/sandbox/na/sp/listings/2021-08-01/items/{self.seller.selling_partner_id}/SKU-1?marketplaceIds={US}",
            data="{}",
            content_type="application/json",
            HTTP_X_AMZ_ACCESS_TOKEN=self.token,
        )
        self.assertEqual(response.status_code, 405)


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
