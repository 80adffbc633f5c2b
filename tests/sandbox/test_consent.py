"""The Seller Central consent page and the Login with Amazon authorize page, per Amazon's website workflow."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

from django.test import TestCase, override_settings

from sandbox import api
from sandbox.models import SandboxAppAuthorization, SandboxApplication, SandboxAuthCode, SandboxSeller
from tests.sandbox.helpers import (
    ADS_CALLBACK,
    CALLBACK,
    US,
    ads_app,
    consent_url,
    new_seller,
    orders_app,
    query,
)


class ConsentPageTests(TestCase):
    def setUp(self) -> None:
        api.set_time_scale(0)
        self.seller = new_seller("Acme Outdoor")

    def test_the_page_names_the_asking_application_and_its_developer_and_says_it_is_simulated(self) -> None:
        response = self.client.get(consent_url(orders_app()["app_id"]))
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "Amazon sandbox (simulated)")
        self.assertContains(response, "Platform Order Loader")
        self.assertContains(response, "Distribution Platform (sandbox)")
        self.assertContains(response, "Acme Outdoor")
        self.assertContains(response, "I understand")
        # The OAuth values in the URL must not leak to other sites.
        self.assertIn(response["Referrer-Policy"], ("no-referrer", "same-origin"))

    def test_the_sign_in_offers_only_sellers_of_the_hosts_region(self) -> None:
        new_seller("Berlin Books", region="EU")
        response = self.client.get(
            consent_url(orders_app()["app_id"], host="sellercentral-europe.amazon.com")
        )
        self.assertContains(response, "Berlin Books")
        self.assertNotContains(response, "Acme Outdoor")

    def test_confirm_redirects_with_state_selling_partner_id_and_a_code(self) -> None:
        response = self.client.post(
            consent_url(orders_app()["app_id"], state="abc123"),
            {"seller": self.seller.selling_partner_id, "understand": "1", "action": "confirm"},
        )
        self.assertEqual(response.status_code, 302)
        self.assertTrue(response["Location"].startswith(CALLBACK + "?"))
        params = query(response["Location"])
        self.assertEqual(params["state"], "abc123")
        self.assertEqual(params["selling_partner_id"], self.seller.selling_partner_id)
        self.assertTrue(SandboxAuthCode.objects.filter(code=params["spapi_oauth_code"]).exists())
        self.assertNotIn("error", params)

    def test_confirm_records_an_authorization_valid_for_365_days(self) -> None:
        self.client.post(
            consent_url(orders_app()["app_id"]),
            {"seller": self.seller.selling_partner_id, "understand": "1", "action": "confirm"},
        )
        auth = SandboxAppAuthorization.objects.get(seller=self.seller)
        self.assertEqual(auth.application.application_id, orders_app()["app_id"])
        self.assertEqual(auth.expires_at - auth.authorized_at, timedelta(days=365))
        self.assertIsNone(auth.revoked_at)

    def test_confirm_after_a_revoke_renews_the_authorization(self) -> None:
        api.authorize(self.seller, orders_app()["app_id"])
        api.revoke(self.seller.selling_partner_id, orders_app()["app_id"])
        self.client.post(
            consent_url(orders_app()["app_id"]),
            {"seller": self.seller.selling_partner_id, "understand": "1", "action": "confirm"},
        )
        auth = SandboxAppAuthorization.objects.get(seller=self.seller)
        self.assertIsNone(auth.revoked_at)
        self.assertEqual(auth.status(api.now()), "active")

    def test_a_new_seller_can_be_created_while_signing_in(self) -> None:
        response = self.client.post(
            consent_url(orders_app()["app_id"]),
            {"seller": "new", "new_name": "Fresh Seller", "new_marketplaces": [US], "understand": "1",
             "action": "confirm"},
        )  # fmt: skip
        self.assertEqual(response.status_code, 302)
        seller = SandboxSeller.objects.get(name="Fresh Seller")
        self.assertRegex(seller.selling_partner_id, r"^A[A-Z0-9]{13}$")
        self.assertEqual(seller.marketplace_ids, [US])
        self.assertEqual(query(response["Location"])["selling_partner_id"], seller.selling_partner_id)

    def test_confirm_without_i_understand_stays_on_the_page(self) -> None:
        response = self.client.post(
            consent_url(orders_app()["app_id"]),
            {"seller": self.seller.selling_partner_id, "action": "confirm"},
        )
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "I understand")
        self.assertFalse(SandboxAuthCode.objects.exists())

    def test_an_unticked_box_does_not_create_the_new_seller(self) -> None:
        self.client.post(
            consent_url(orders_app()["app_id"]),
            {"seller": "new", "new_name": "Half Seller", "action": "confirm"},
        )
        self.assertFalse(SandboxSeller.objects.filter(name="Half Seller").exists())

    def test_cancel_redirects_with_access_denied_and_no_code(self) -> None:
        response = self.client.post(consent_url(orders_app()["app_id"], state="s-9"), {"action": "cancel"})
        self.assertEqual(response.status_code, 302)
        params = query(response["Location"])
        self.assertEqual(params["state"], "s-9")
        self.assertEqual(params["error"], "access_denied")
        self.assertTrue(params["error_description"])
        self.assertNotIn("spapi_oauth_code", params)
        self.assertFalse(SandboxAppAuthorization.objects.exists())

    def test_an_unknown_application_id_shows_an_error_page_without_redirect(self) -> None:
        response = self.client.get(consent_url("amzn1.sp.solution.unknown"))
        self.assertEqual(response.status_code, 400)
        self.assertContains(response, "MD1000", status_code=400)
        self.assertNotIn("Location", response)

    @override_settings(
        AMAZON_SPAPI_APPS={
            "orders": {
                "app_id": "amzn1.sp.solution.draft-app",
                "client_id": "amzn1.application-oa2-client.draft",
                "client_secret": "draft-secret",
                "beta": True,
            }
        }
    )
    def test_a_draft_application_needs_version_beta(self) -> None:
        url = consent_url("amzn1.sp.solution.draft-app")
        response = self.client.get(url)
        self.assertContains(response, "MD1000", status_code=400)
        response = self.client.get(url + "&version=beta")
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "Platform Order Loader")

    def test_a_redirect_uri_outside_the_registered_paths_gives_md5101(self) -> None:
        response = self.client.get(
            consent_url(orders_app()["app_id"], redirect_uri="https://evil.example/steal")
        )
        self.assertContains(response, "MD5101", status_code=400)
        response = self.client.post(
            consent_url(orders_app()["app_id"], redirect_uri="https://evil.example/steal"),
            {"seller": self.seller.selling_partner_id, "understand": "1", "action": "confirm"},
        )
        self.assertEqual(response.status_code, 400)
        self.assertFalse(SandboxAuthCode.objects.exists())

    def test_the_redirect_uri_is_compared_whole(self) -> None:
        # Amazon compares redirect_uri with the registered URIs exactly: another port, scheme, host or path is
        # MD5101 even when the path matches.
        for uri in (
            "http://127.0.0.1:54321/amazon/callback/",
            "https://localhost:8000/amazon/callback/",
            "http://localhost:8000/amazon/callback",
            "http://localhost:8000/amazon/callback/?x=1",
            "http://evil.example:8000/amazon/callback/",
        ):
            with self.subTest(uri=uri):
                response = self.client.get(consent_url(orders_app()["app_id"], redirect_uri=uri))
                self.assertContains(response, "MD5101", status_code=400)
        self.assertEqual(self.client.get(consent_url(orders_app()["app_id"])).status_code, 200)

    def test_without_a_redirect_uri_amazon_uses_the_first_registered_one(self) -> None:
        # redirect_uri is optional in the consent URL (website authorization workflow, step 1).
        url = "/sandbox/sellercentral/sellercentral.amazon.com/apps/authorize/consent?" + urlencode(
            {"application_id": orders_app()["app_id"], "state": "x"}
        )
        self.assertEqual(self.client.get(url).status_code, 200)
        r = self.client.post(
            url, {"seller": self.seller.selling_partner_id, "understand": "1", "action": "confirm"}
        )
        self.assertEqual(r.status_code, 302)
        first = SandboxApplication.objects.get(application_id=orders_app()["app_id"]).redirect_uris[0]
        self.assertTrue(r["Location"].startswith(first + "?"), r["Location"])

    def test_an_unknown_seller_central_host_is_not_found(self) -> None:
        self.assertEqual(
            self.client.get(consent_url(orders_app()["app_id"], host="example.com")).status_code, 404
        )

    def test_the_ads_client_cannot_be_authorized_on_the_seller_central_page(self) -> None:
        response = self.client.get(consent_url(ads_app()["client_id"], redirect_uri=ADS_CALLBACK))
        self.assertEqual(response.status_code, 400)


def lwa_url(**overrides: str) -> str:
    params = {
        "client_id": ads_app()["client_id"],
        "scope": "advertising::campaign_management",
        "response_type": "code",
        "redirect_uri": ADS_CALLBACK,
        "state": "ads-state",
    }
    params.update(overrides)
    return "/sandbox/na/ap/oa?" + urlencode(params)


class LoginWithAmazonAuthorizeTests(TestCase):
    def setUp(self) -> None:
        api.set_time_scale(0)
        self.seller = new_seller("Ads Seller")

    def test_the_page_shows_the_ads_client_and_allow_and_cancel(self) -> None:
        response = self.client.get(lwa_url())
        self.assertContains(response, "Platform Advertising")
        self.assertContains(response, "Amazon sandbox (simulated)")
        self.assertContains(response, "Allow")

    def test_allow_redirects_with_code_scope_and_state(self) -> None:
        response = self.client.post(lwa_url(), {"seller": self.seller.selling_partner_id, "action": "allow"})
        self.assertEqual(response.status_code, 302)
        params = query(response["Location"])
        self.assertEqual(params["state"], "ads-state")
        self.assertEqual(params["scope"], "advertising::campaign_management")
        self.assertTrue(SandboxAuthCode.objects.filter(code=params["code"]).exists())

    def test_cancel_redirects_with_access_denied(self) -> None:
        response = self.client.post(lwa_url(), {"action": "cancel"})
        params = query(response["Location"])
        self.assertEqual(params["error"], "access_denied")
        self.assertEqual(params["state"], "ads-state")
        self.assertIn("error_description", params)

    def test_an_unknown_client_shows_an_error_page(self) -> None:
        response = self.client.get(lwa_url(client_id="amzn1.application-oa2-client.nope"))
        self.assertEqual(response.status_code, 400)
        self.assertNotIn("Location", response)

    def test_a_wrong_scope_redirects_with_invalid_scope(self) -> None:
        response = self.client.get(lwa_url(scope="profile"))
        self.assertEqual(response.status_code, 302)
        params = query(response["Location"])
        self.assertEqual(params["error"], "invalid_scope")
        self.assertEqual(params["state"], "ads-state")

    def test_an_unregistered_return_url_shows_an_error_page(self) -> None:
        response = self.client.get(lwa_url(redirect_uri="http://localhost:8000/amazon/callback/"))
        self.assertEqual(response.status_code, 400)
