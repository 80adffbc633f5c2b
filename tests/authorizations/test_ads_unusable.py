"""Advertising authorized without a profile for any of the store's sites says it cannot be used yet (issue 22, item 4)."""

from __future__ import annotations

from django.urls import reverse

from authorizations.models import Authorization, AuthorizationAttempt
from tests.authorizations.helpers import FlowTestCase
from tests.sandbox_http import sandbox_path

NOT_USABLE = "advertising authorized, but not usable yet: no advertising profile for this store&#x27;s sites"


class AdsWithoutProfileTests(FlowTestCase):
    def authorize_ads(self) -> None:
        attempt: AuthorizationAttempt = self.begin("ads")
        url = sandbox_path(attempt.consent_url)
        self.amazon.get(url)
        r = self.amazon.post(url, {"seller": self.seller.selling_partner_id, "action": "allow"})
        self.callback(str(r["Location"]))

    def setUp(self) -> None:
        super().setUp()
        # The seller advertises in US and CA (the sandbox gives a profile per marketplace); this store sells in MX.
        self.store.sites = ["MX"]
        self.store.save()
        self.authorize_ads()
        self.auth = Authorization.objects.get(store=self.store, capability="ads")

    def test_the_capability_card_says_advertising_cannot_be_used_yet_and_why(self) -> None:
        self.assertEqual(self.auth.status, "authorized")
        self.assertEqual(self.auth.matching_profiles, [])
        page = self.client.get(reverse("stores:detail", args=[self.store.code]))
        self.assertContains(page, 'data-testid="ads-not-usable"')
        self.assertContains(page, "Not usable yet")
        self.assertContains(
            page,
            "Advertising authorized, but no advertising profile for this store's sites (MX): create one in "
            "Amazon Ads, or check the store's sites; then re-check.",
        )

    def test_the_status_label_beside_the_combined_status_says_it_is_not_usable(self) -> None:
        page = self.client.get(reverse("stores:detail", args=[self.store.code]))
        self.assertContains(page, "Not authorized · " + NOT_USABLE)
        self.assertNotContains(page, "Not authorized · advertising authorized<")

    def test_the_store_list_says_it_is_not_usable(self) -> None:
        page = self.client.get(reverse("stores:list"))
        self.assertContains(page, NOT_USABLE)

    def test_the_authorization_result_does_not_read_as_a_plain_success(self) -> None:
        r = self.client.get(reverse("authorizations:latest", args=[self.store.code, "ads"]), follow=True)
        self.assertContains(r, "Advertising authorized, but it cannot be used yet")
        self.assertContains(r, "No advertising profile for this store&#x27;s sites (MX).")

    def test_a_profile_for_the_store_site_makes_it_usable_again(self) -> None:
        self.store.sites = ["US"]
        self.store.save()
        page = self.client.get(reverse("stores:detail", args=[self.store.code]))
        self.assertNotContains(page, "Not usable yet")
        self.assertContains(page, "Not authorized · advertising authorized")

    def test_the_card_and_the_label_say_it_in_chinese_too(self) -> None:
        from django.conf import settings

        self.client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
        page = self.client.get(reverse("stores:detail", args=[self.store.code]))
        self.assertContains(page, "暂不可用")
        self.assertContains(page, "广告功能已授权，但本店铺的站点（MX）没有广告配置文件")
        self.assertContains(page, "广告功能已授权，但暂不可用：本店铺的站点没有广告配置文件")
