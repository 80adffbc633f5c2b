"""Failures of Amazon's token endpoint, mocked with `responses` (no sandbox): each becomes a readable failed attempt."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import requests
import responses
from django.test import override_settings
from django.urls import reverse

from authorizations.models import Authorization, AuthorizationAttempt, AuthStatus
from tests.base import BaseTestCase

BASE = "http://amazon.test/sandbox"
TOKEN_URL = f"{BASE}/na/auth/o2/token"


@override_settings(SANDBOX_BASE_URL=BASE, AMAZON_USE_SANDBOX=True)
class CodeExchangeFailureTests(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.rsps = self.enterContext(responses.RequestsMock(assert_all_requests_are_fired=False))
        self.login(self.alice)
        self.client.post(
            reverse("authorizations:begin", args=[self.store.code, "orders"]), {"usual_environment": "on"}
        )
        self.attempt = AuthorizationAttempt.objects.get()
        self.state = parse_qs(urlsplit(self.attempt.consent_url).query)["state"][0]

    def finish(self) -> AuthorizationAttempt:
        r = self.client.get(
            reverse("amazon:callback"),
            {"state": self.state, "spapi_oauth_code": "ANxyz", "selling_partner_id": "A2SELLER0000X"},
        )
        self.assertEqual(r.status_code, 302)
        page = self.client.get(r["Location"])
        self.assertEqual(page.status_code, 200)
        self.attempt.refresh_from_db()
        self.page = page
        return self.attempt

    def assert_failed(self, reason: str, text: str) -> None:
        a = self.finish()
        self.assertEqual((a.outcome, a.reason), (AuthorizationAttempt.Outcome.FAILED, reason))
        self.assertContains(self.page, text)
        self.assertEqual(
            Authorization.objects.get(store=self.store, capability="orders").status, AuthStatus.NOT_AUTHORIZED
        )

    def test_an_invalid_grant_says_the_code_expired_or_was_used(self) -> None:
        self.rsps.add(
            "POST",
            TOKEN_URL,
            status=400,
            json={"error": "invalid_grant", "error_description": "invalid grant parameter : code"},
        )
        self.assert_failed("code_invalid", "expired or was already used")

    def test_a_500_is_an_amazon_error(self) -> None:
        self.rsps.add("POST", TOKEN_URL, status=500, body="<html>oops</html>")
        self.assert_failed("amazon_error", "Amazon reported an error")

    def test_invalid_client_is_an_amazon_error(self) -> None:
        self.rsps.add(
            "POST", TOKEN_URL, status=401, json={"error": "invalid_client", "error_description": "bad"}
        )
        self.assert_failed("amazon_error", "Amazon reported an error")

    def test_a_timeout_says_amazon_did_not_answer(self) -> None:
        self.rsps.add("POST", TOKEN_URL, body=requests.exceptions.ReadTimeout("slow"))
        self.assert_failed("network", "Amazon did not answer in time")

    def test_a_refused_connection_says_amazon_did_not_answer(self) -> None:
        self.rsps.add("POST", TOKEN_URL, body=requests.exceptions.ConnectionError("refused"))
        self.assert_failed("network", "Amazon did not answer in time")

    def test_invalid_json_is_a_bad_response(self) -> None:
        self.rsps.add("POST", TOKEN_URL, status=200, body="{not json", content_type="application/json")
        self.assert_failed("bad_response", "could not read")

    def test_a_200_without_tokens_is_a_bad_response(self) -> None:
        self.rsps.add("POST", TOKEN_URL, status=200, json={"hello": "world"})
        self.assert_failed("bad_response", "could not read")

    def test_marketplace_participations_refused_fails_verification(self) -> None:
        self.rsps.add(
            "POST",
            TOKEN_URL,
            json={
                "access_token": "Atza|a",
                "refresh_token": "Atzr|r",
                "token_type": "bearer",
                "expires_in": 3600,
            },
        )
        self.rsps.add(
            "GET",
            re.compile(f"{re.escape(BASE)}/na/sp/sellers/.*"),
            status=403,
            json={
                "errors": [
                    {
                        "code": "Unauthorized",
                        "message": "Access to requested resource is denied.",
                        "details": "",
                    }
                ]
            },
        )
        self.assert_failed("verification_failed", "refused access")

    def test_the_code_is_exchanged_with_the_app_credentials_and_redirect_uri(self) -> None:
        self.rsps.add(
            "POST",
            TOKEN_URL,
            json={
                "access_token": "Atza|a",
                "refresh_token": "Atzr|r",
                "token_type": "bearer",
                "expires_in": 3600,
            },
        )
        self.rsps.add(
            "GET",
            re.compile(f"{re.escape(BASE)}/na/sp/sellers/.*"),
            json={
                "payload": [
                    {
                        "marketplace": {"id": "ATVPDKIKX0DER", "countryCode": "US", "name": "Amazon.com"},
                        "participation": {"isParticipating": True, "hasSuspendedListings": False},
                    }
                ]
            },
        )
        a = self.finish()
        self.assertEqual(a.outcome, AuthorizationAttempt.Outcome.SUCCEEDED)
        sent = parse_qs(self.rsps.calls[0].request.body)
        self.assertEqual(sent["grant_type"], ["authorization_code"])
        self.assertEqual(sent["code"], ["ANxyz"])
        self.assertEqual(sent["client_id"], ["amzn1.application-oa2-client.sandbox-orders"])
        self.assertEqual(sent["redirect_uri"], ["http://testserver/amazon/callback/"])
        self.assertEqual(self.rsps.calls[1].request.headers["x-amz-access-token"], "Atza|a")
