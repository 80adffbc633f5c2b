"""Which Amazon host each kind of call goes to (Amazon's docs decide; see amazon/endpoints.py)."""

from __future__ import annotations

from django.test import SimpleTestCase, override_settings

from amazon import endpoints
from authorizations.models import Authorization, AuthStatus
from sandbox import api as sandbox_api
from tests.authorizations.helpers import FlowTestCase
from tests.base import make_store


class RealEndpointTests(SimpleTestCase):
    @override_settings(AMAZON_USE_SANDBOX=False)
    def test_the_sp_api_token_endpoint_is_api_amazon_com_for_every_region(self) -> None:
        self.assertEqual(endpoints.spapi_token(), "https://api.amazon.com/auth/o2/token")

    @override_settings(AMAZON_USE_SANDBOX=False)
    def test_amazon_ads_keeps_its_regional_token_hosts(self) -> None:
        hosts = {r: endpoints.for_region(r).ads_token for r in ("NA", "EU", "FE")}
        self.assertEqual(
            hosts,
            {
                "NA": "https://api.amazon.com/auth/o2/token",
                "EU": "https://api.amazon.co.uk/auth/o2/token",
                "FE": "https://api.amazon.co.jp/auth/o2/token",
            },
        )


class RegionalStoreTests(FlowTestCase):
    def test_an_eu_store_gets_its_sp_api_tokens_from_the_global_host(self) -> None:
        seller = sandbox_api.create_seller("EU Seller", "EU", ["A1PA6795UKMFR9"])
        eu = make_store(self.tenant, nickname="DE store", region="EU", sites=["DE"])
        r = self.authorize("orders", seller_id=seller.selling_partner_id, store=eu)
        self.assertEqual(r.status_code, 302)
        self.assertEqual(
            Authorization.objects.get(store=eu, capability="orders").status, AuthStatus.AUTHORIZED
        )
        token_calls = [str(c.request.url) for c in self.rsps.calls if "/auth/o2/token" in str(c.request.url)]
        self.assertTrue(token_calls)
        self.assertTrue(all("/sandbox/na/auth/o2/token" in u for u in token_calls), token_calls)
