"""The LWA token endpoint: grants, single-use codes, expiries, revocation, client authentication."""

from __future__ import annotations

import requests
from django.test import TestCase

from sandbox import api
from sandbox.models import SandboxAppAuthorization
from tests.sandbox.helpers import (
    CALLBACK,
    confirm_consent,
    connect,
    exchange,
    listings_app,
    new_seller,
    orders_app,
    refresh,
)
from tests.sandbox_http import SANDBOX_BASE, sandbox_http

# LWA's whole sentence for a refresh token it no longer takes, after a revoke or a lapse
# (amzn/selling-partner-api-docs issues #2379 and #2723).
REVOKED = (
    "The request has an invalid grant parameter : refresh_token. "
    "User may have revoked or didn't grant the permission."
)


class AuthorizationCodeGrantTests(TestCase):
    def setUp(self) -> None:
        api.set_time_scale(0)
        self.seller = new_seller()
        self.code = confirm_consent(self.client, self.seller)["spapi_oauth_code"]

    def test_a_code_is_exchanged_for_an_access_and_a_refresh_token(self) -> None:
        response = exchange(self.client, self.code)
        self.assertEqual(response.status_code, 200)
        body = response.json()
        self.assertEqual(set(body), {"access_token", "refresh_token", "token_type", "expires_in"})
        self.assertTrue(body["access_token"].startswith("Atza|"))
        self.assertTrue(body["refresh_token"].startswith("Atzr|"))
        self.assertEqual(body["token_type"], "bearer")
        self.assertEqual(body["expires_in"], 3600)

    def test_a_used_code_is_rejected_with_invalid_grant(self) -> None:
        self.assertEqual(exchange(self.client, self.code).status_code, 200)
        response = exchange(self.client, self.code)
        self.assertEqual(response.status_code, 400)
        self.assertEqual(response.json()["error"], "invalid_grant")
        self.assertIn("error_description", response.json())

    def test_a_code_expires_after_five_minutes(self) -> None:
        api.advance_clock(5 * 60 + 1)
        response = exchange(self.client, self.code)
        self.assertEqual(response.status_code, 400)
        self.assertEqual(response.json()["error"], "invalid_grant")

    def test_a_code_is_still_valid_just_before_five_minutes(self) -> None:
        api.advance_clock(5 * 60 - 1)
        self.assertEqual(exchange(self.client, self.code).status_code, 200)

    def test_a_redirect_uri_different_from_the_consent_one_gives_invalid_grant(self) -> None:
        response = exchange(self.client, self.code, redirect_uri="http://localhost:9999/amazon/callback/")
        self.assertEqual(response.status_code, 400)
        self.assertEqual(response.json()["error"], "invalid_grant")
        # The failed attempt did not burn the code.
        self.assertEqual(exchange(self.client, self.code).status_code, 200)

    def test_an_unknown_code_gives_invalid_grant(self) -> None:
        response = exchange(self.client, "ANsb-not-a-code")
        self.assertEqual(response.json()["error"], "invalid_grant")

    def test_a_code_of_another_application_gives_invalid_grant(self) -> None:
        response = exchange(self.client, self.code, app=listings_app())
        self.assertEqual(response.status_code, 400)
        self.assertEqual(response.json()["error"], "invalid_grant")

    def test_an_unknown_client_gives_invalid_client_401(self) -> None:
        response = exchange(
            self.client, self.code, app={"client_id": "amzn1.application-oa2-client.x", "client_secret": "s"}
        )
        self.assertEqual(response.status_code, 401)
        self.assertEqual(response.json()["error"], "invalid_client")

    def test_a_wrong_secret_gives_invalid_client_401(self) -> None:
        response = exchange(self.client, self.code, app={**orders_app(), "client_secret": "wrong"})
        self.assertEqual(response.status_code, 401)
        self.assertEqual(response.json()["error"], "invalid_client")

    def test_a_missing_code_is_an_invalid_request(self) -> None:
        response = exchange(self.client, "")
        self.assertEqual(response.status_code, 400)
        self.assertEqual(response.json()["error"], "invalid_request")

    def test_an_unknown_grant_type_is_unsupported(self) -> None:
        app = orders_app()
        response = self.client.post(
            "/sandbox/na/auth/o2/token",
            {"grant_type": "password", "client_id": app["client_id"], "client_secret": app["client_secret"]},
        )
        self.assertEqual(response.status_code, 400)
        self.assertEqual(response.json()["error"], "unsupported_grant_type")

    def test_a_missing_grant_type_is_an_invalid_request(self) -> None:
        response = self.client.post("/sandbox/na/auth/o2/token", {"code": self.code})
        self.assertEqual(response.status_code, 400)
        self.assertEqual(response.json()["error"], "invalid_request")

    def test_the_exchange_works_through_a_real_http_client(self) -> None:
        app = orders_app()
        with sandbox_http():
            response = requests.post(
                f"{SANDBOX_BASE}/na/auth/o2/token",
                data={
                    "grant_type": "authorization_code",
                    "code": self.code,
                    "redirect_uri": CALLBACK,
                    "client_id": app["client_id"],
                    "client_secret": app["client_secret"],
                },
                timeout=5,
            )
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json()["token_type"], "bearer")

    def test_the_regional_ads_token_hosts_refuse_sp_api_applications(self) -> None:
        # SP-API tokens come from api.amazon.com for every region; EU/FE token paths play Amazon Ads' hosts.
        app = orders_app()
        for region in ("eu", "fe"):
            with self.subTest(region=region), sandbox_http():
                response = requests.post(
                    f"{SANDBOX_BASE}/{region}/auth/o2/token",
                    data={
                        "grant_type": "authorization_code",
                        "code": self.code,
                        "redirect_uri": CALLBACK,
                        "client_id": app["client_id"],
                        "client_secret": app["client_secret"],
                    },
                    timeout=5,
                )
                self.assertEqual(response.status_code, 401)
                self.assertEqual(response.json()["error"], "invalid_client")


class RefreshTokenGrantTests(TestCase):
    def setUp(self) -> None:
        api.set_time_scale(0)
        self.seller = new_seller()
        self.tokens = connect(self.client, self.seller)

    def test_a_refresh_gives_a_new_access_token_and_echoes_the_refresh_token(self) -> None:
        response = refresh(self.client, self.tokens["refresh_token"])
        self.assertEqual(response.status_code, 200)
        body = response.json()
        self.assertEqual(body["refresh_token"], self.tokens["refresh_token"])
        self.assertNotEqual(body["access_token"], self.tokens["access_token"])
        self.assertEqual(body["expires_in"], 3600)
        self.assertEqual(body["token_type"], "bearer")

    def test_after_a_revoke_the_refresh_gives_invalid_grant(self) -> None:
        api.revoke(self.seller.selling_partner_id, orders_app()["app_id"])
        response = refresh(self.client, self.tokens["refresh_token"])
        self.assertEqual(response.status_code, 400)
        self.assertEqual(response.json(), {"error": "invalid_grant", "error_description": REVOKED})

    def test_after_the_authorization_expires_the_refresh_gives_invalid_grant(self) -> None:
        api.expire(self.seller.selling_partner_id, orders_app()["client_id"])
        response = refresh(self.client, self.tokens["refresh_token"])
        self.assertEqual(response.status_code, 400)
        self.assertEqual(response.json(), {"error": "invalid_grant", "error_description": REVOKED})

    def test_an_authorization_lapses_by_itself_after_365_days(self) -> None:
        api.advance_clock(364 * 86400)
        self.assertEqual(refresh(self.client, self.tokens["refresh_token"]).status_code, 200)
        api.advance_clock(2 * 86400)
        self.assertEqual(refresh(self.client, self.tokens["refresh_token"]).json()["error"], "invalid_grant")

    def test_a_new_consent_after_a_revoke_does_not_revive_the_old_refresh_token(self) -> None:
        api.revoke(self.seller.selling_partner_id, orders_app()["app_id"])
        fresh = connect(self.client, self.seller)
        self.assertEqual(refresh(self.client, fresh["refresh_token"]).status_code, 200)
        self.assertEqual(refresh(self.client, self.tokens["refresh_token"]).json()["error"], "invalid_grant")

    def test_a_refresh_token_of_another_application_gives_invalid_grant(self) -> None:
        response = refresh(self.client, self.tokens["refresh_token"], app=listings_app())
        self.assertEqual(response.json()["error"], "invalid_grant")

    def test_a_missing_refresh_token_is_an_invalid_request(self) -> None:
        response = refresh(self.client, "")
        self.assertEqual(response.json()["error"], "invalid_request")

    def test_each_seller_and_application_pair_has_its_own_authorization(self) -> None:
        connect(self.client, self.seller, listings_app())
        self.assertEqual(SandboxAppAuthorization.objects.filter(seller=self.seller).count(), 2)
        api.revoke(self.seller.selling_partner_id, listings_app()["app_id"])
        self.assertEqual(refresh(self.client, self.tokens["refresh_token"]).status_code, 200)
