""" "Query authorization result" answers with the capability's state now, checked live at Amazon (issue 22, item 1)."""

from __future__ import annotations

from django.urls import reverse

from authorizations.models import Authorization, AuthStatus
from sandbox import api as sandbox_api
from tests.authorizations.helpers import FlowTestCase

ORDERS_APP = "amzn1.sp.solution.sandbox-orders-0001"


class QueryResultTests(FlowTestCase):
    def query(self, capability: str = "orders") -> object:
        return self.client.post(
            reverse("authorizations:query", args=[self.store.code, capability]), follow=True
        )

    def test_after_a_revoke_in_the_portal_the_result_says_not_authorized_not_succeeded(self) -> None:
        self.authorize("orders")
        self.client.post(
            reverse("authorizations:lifecycle_apply", args=[self.store.code, "orders", "revoke"])
        )
        r = self.query()
        self.assertNotContains(r, "Authorization succeeded")
        self.assertNotContains(r, "Order loading is authorized (seller")
        self.assertContains(r, "Order loading is not authorized")
        self.assertContains(r, "Authorize order loading on the store page.")

    def test_after_a_revoke_at_amazon_the_result_is_checked_live_and_says_re_authorize(self) -> None:
        self.authorize("orders")
        sandbox_api.revoke(self.seller, ORDERS_APP)
        r = self.query()
        self.assertEqual(
            Authorization.objects.get(store=self.store, capability="orders").status,
            AuthStatus.NEEDS_REAUTHORIZATION,
        )
        self.assertNotContains(r, "Authorization succeeded")
        self.assertContains(r, "Order loading needs re-authorization")
        self.assertContains(r, "revoked or has expired")
        self.assertContains(r, reverse("authorizations:start", args=[self.store.code, "orders"]))

    def test_a_working_authorization_is_confirmed_at_amazon_when_queried(self) -> None:
        self.authorize("orders")
        Authorization.objects.filter(store=self.store, capability="orders").update(last_checked_at=None)
        r = self.query()
        self.assertContains(r, "Authorization succeeded")
        self.assertContains(r, "Amazon confirms the authorization works")
        self.assertIsNotNone(Authorization.objects.get(store=self.store, capability="orders").last_checked_at)

    def test_a_disabled_capability_says_it_is_disabled_and_offers_enable(self) -> None:
        self.authorize("orders")
        self.client.post(
            reverse("authorizations:lifecycle_apply", args=[self.store.code, "orders", "disable"])
        )
        r = self.query()
        self.assertNotContains(r, "Authorization succeeded")
        self.assertContains(r, "Order loading is disabled")
        self.assertContains(
            r, reverse("authorizations:lifecycle_confirm", args=[self.store.code, "orders", "enable"])
        )

    def test_a_failed_renewal_still_says_the_earlier_authorization_works(self) -> None:
        self.authorize("orders")
        attempt = self.begin("orders")
        self.callback(self.amazon_answer(attempt, action="cancel"))
        r = self.query()
        self.assertContains(r, "Cancelled at Amazon")
        self.assertContains(r, "Order loading is authorized")

    def test_a_viewer_opening_the_result_after_a_revoke_sees_the_state_now(self) -> None:
        self.authorize("orders")
        self.client.post(
            reverse("authorizations:lifecycle_apply", args=[self.store.code, "orders", "revoke"])
        )
        self.login(self.vera)
        r = self.client.get(reverse("authorizations:latest", args=[self.store.code, "orders"]), follow=True)
        self.assertNotContains(r, "Authorization succeeded")
        self.assertContains(r, "Order loading is not authorized")
