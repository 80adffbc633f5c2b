from __future__ import annotations

from django.urls import reverse
from django.utils.translation import override

from authorizations.models import Authorization, AuthorizationAttempt, AuthStatus
from authorizations.status import label as status_label
from sandbox import api as sandbox_api
from stores.models import CombinedStatus
from tests.authorizations.helpers import FlowTestCase
from tests.sandbox_http import sandbox_path

Outcome = AuthorizationAttempt.Outcome


class AdsTests(FlowTestCase):
    def amazon_allow(self, attempt: AuthorizationAttempt, action: str = "allow") -> str:
        url = sandbox_path(attempt.consent_url)
        self.assertEqual(self.amazon.get(url).status_code, 200)
        r = self.amazon.post(url, {"seller": self.seller.selling_partner_id, "action": action})
        self.assertEqual(r.status_code, 302)
        return str(r["Location"])

    def test_the_ads_consent_goes_to_login_with_amazon_with_the_ads_scope(self) -> None:
        attempt = self.begin("ads")
        self.assertIn("/na/ap/oa?", attempt.consent_url)
        self.assertIn("scope=advertising%3A%3Acampaign_management", attempt.consent_url)
        self.assertIn("response_type=code", attempt.consent_url)
        self.assertIn(
            "redirect_uri=http%3A%2F%2Ftestserver%2Famazon%2Fads%2Fcallback%2F", attempt.consent_url
        )

    def test_advertising_alone_is_authorized_and_keeps_the_profiles_of_the_store_sites(self) -> None:
        self.store.sites = ["US", "CA", "MX"]
        self.store.save()
        attempt = self.begin("ads")
        r = self.callback(self.amazon_allow(attempt))
        self.assertRedirects(
            r, reverse("stores:detail", args=[self.store.code]), fetch_redirect_response=False
        )
        auth = Authorization.objects.get(store=self.store, capability="ads")
        self.assertEqual(auth.status, AuthStatus.AUTHORIZED)
        self.assertEqual({p["country_code"] for p in auth.ads_profiles}, {"US", "CA"})
        for p in auth.ads_profiles:
            self.assertTrue(
                {"profile_id", "currency_code", "timezone", "account_type", "account_name"} <= set(p)
            )
        self.store.refresh_from_db()
        self.assertEqual(self.store.authorization_status, CombinedStatus.NOT_AUTHORIZED)
        self.assertEqual(self.store.selling_partner_id, "")
        with override("en"):
            self.assertEqual(status_label(self.store), "Not authorized · advertising authorized")
        page = self.client.get(reverse("stores:detail", args=[self.store.code]))
        self.assertContains(page, "No advertising profile for: MX")
        self.assertContains(page, "profile")

    def test_agency_profiles_and_other_sellers_profiles_are_shown_as_not_usable_with_the_reason(self) -> None:
        self.authorize("orders")  # the store learns its seller
        self.callback(self.amazon_allow(self.begin("ads")))
        auth = Authorization.objects.get(store=self.store, capability="ads")
        kinds = {p["account_type"] for p in auth.ads_profiles}
        self.assertEqual(kinds, {"seller", "agency"})
        self.assertTrue(all(p["account_type"] == "seller" for p in auth.matching_profiles))
        self.assertTrue(
            all(p["account_id"] == self.seller.selling_partner_id for p in auth.matching_profiles)
        )
        unusable = auth.unusable_profiles
        self.assertEqual([p["account_type"] for p in unusable], ["agency"])
        with override("en"):
            page = self.client.get(reverse("stores:detail", args=[self.store.code]))
        self.assertContains(page, "an agency account, not the seller")
        # A seller profile of another seller is not usable either.
        other = dict(auth.matching_profiles[0], account_id="A0THERSELLER")
        self.assertIn("another seller account", auth.profile_problem(other))

    def test_the_label_names_advertising_beside_authorized(self) -> None:
        self.authorize("orders")
        self.authorize("listings")
        self.callback(self.amazon_allow(self.begin("ads")))
        self.store.refresh_from_db()
        with override("en"):
            self.assertEqual(status_label(self.store), "Authorized · advertising authorized")

    def test_after_an_sp_authorization_the_store_offers_advertising_next(self) -> None:
        self.authorize("orders")
        page = self.client.get(reverse("stores:detail", args=[self.store.code]))
        self.assertContains(page, "Continue with advertising authorization")

    def test_cancel_at_login_with_amazon_is_cancelled(self) -> None:
        attempt = self.begin("ads")
        self.callback(self.amazon_allow(attempt, action="cancel"))
        attempt.refresh_from_db()
        self.assertEqual(attempt.outcome, Outcome.CANCELLED)

    def test_an_sp_state_is_refused_on_the_ads_callback(self) -> None:
        attempt = self.begin("orders")
        state = attempt.consent_url.split("state=")[1].split("&")[0]
        r = self.client.get(reverse("amazon:ads_callback"), {"state": state, "code": "x"})
        self.assertEqual(r.status_code, 400)

    def test_recheck_and_reauthorize_work_for_advertising(self) -> None:
        self.callback(self.amazon_allow(self.begin("ads")))
        sandbox_api.revoke(self.seller, "amzn1.application-oa2-client.sandbox-ads")
        self.client.post(reverse("authorizations:recheck", args=[self.store.code, "ads"]))
        auth = Authorization.objects.get(store=self.store, capability="ads")
        self.assertEqual(auth.status, AuthStatus.NEEDS_REAUTHORIZATION)
        self.store.refresh_from_db()
        self.assertEqual(self.store.authorization_status, CombinedStatus.ATTENTION)
        self.callback(self.amazon_allow(self.begin("ads")))
        auth.refresh_from_db()
        self.assertEqual(auth.status, AuthStatus.AUTHORIZED)
