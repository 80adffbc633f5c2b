"""Fault injection per endpoint group: 500s, 429 storms, slow answers and timeouts."""

from __future__ import annotations

import time
from datetime import timedelta

from django.test import TestCase

from sandbox import api
from tests.sandbox.helpers import US, assert_matches_model, connect, new_seller, refresh

SELLERS = ("sellers.json", "/sellers/v1/marketplaceParticipations", "get")
SEARCH_OP = ("orders_2026-01-01.json", "/orders/2026-01-01/orders", "get")
PARTICIPATIONS = "/sandbox/na/sp/sellers/v1/marketplaceParticipations"


class FaultInjectionTests(TestCase):
    def setUp(self) -> None:
        api.set_time_scale(0)
        self.seller = new_seller(marketplace_ids=[US])
        self.tokens = connect(self.client, self.seller)

    def participations(self):  # type: ignore[no-untyped-def]
        return self.client.get(PARTICIPATIONS, HTTP_X_AMZ_ACCESS_TOKEN=self.tokens["access_token"])

    def test_a_token_endpoint_500_answers_with_a_server_error(self) -> None:
        api.set_fault("token", "http500")
        response = refresh(self.client, self.tokens["refresh_token"])
        self.assertEqual(response.status_code, 500)
        self.assertEqual(response.json()["error"], "server_error")
        api.clear_faults()
        self.assertEqual(refresh(self.client, self.tokens["refresh_token"]).status_code, 200)

    def test_an_sp_api_500_uses_the_error_list_shape(self) -> None:
        api.set_fault("sellers", "http500")
        response = self.participations()
        self.assertEqual(response.status_code, 500)
        assert_matches_model(*SELLERS, response)
        self.assertEqual(response.json()["errors"][0]["code"], "InternalFailure")

    def test_a_429_storm_throttles_every_call_whatever_the_bucket(self) -> None:
        api.set_fault("orders", "storm429")
        after = (api.now() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        for _ in range(3):
            response = self.client.get(
                "/sandbox/na/sp/orders/2026-01-01/orders",
                {"marketplaceIds": US, "createdAfter": after},
                HTTP_X_AMZ_ACCESS_TOKEN=self.tokens["access_token"],
            )
            self.assertEqual(response.status_code, 429)
            assert_matches_model(*SEARCH_OP, response)
            self.assertEqual(response.json()["errors"][0]["code"], "QuotaExceeded")
        # Other endpoint groups are untouched.
        self.assertEqual(self.participations().status_code, 200)

    def test_a_slow_endpoint_answers_normally_after_the_delay(self) -> None:
        api.set_fault("sellers", "slow", delay=0.3)
        started = time.monotonic()
        response = self.participations()
        self.assertGreaterEqual(time.monotonic() - started, 0.3)
        self.assertEqual(response.status_code, 200)

    def test_a_timeout_sleeps_for_the_configured_time_then_gives_up(self) -> None:
        api.set_fault("ads", "timeout", delay=0.2)
        started = time.monotonic()
        response = self.client.get("/sandbox/na/ads/v2/profiles")
        self.assertGreaterEqual(time.monotonic() - started, 0.2)
        self.assertEqual(response.status_code, 503)

    def test_a_timeout_without_delay_outlasts_the_portals_read_timeout(self) -> None:
        from django.conf import settings

        from sandbox import faults

        api.set_fault("orders", "timeout")
        self.assertGreater(faults.get("orders")["delay"], settings.HTTP_READ_TIMEOUT)  # type: ignore[index]

    def test_unknown_endpoints_and_kinds_are_refused(self) -> None:
        with self.assertRaises(ValueError):
            api.set_fault("nowhere", "http500")
        with self.assertRaises(ValueError):
            api.set_fault("orders", "meltdown")

    def test_setting_none_removes_a_fault(self) -> None:
        api.set_fault("sellers", "http500")
        api.set_fault("sellers", "none")
        self.assertEqual(self.participations().status_code, 200)
