"""CSRF on every POST route, enumerated from the resolver; the exemptions are an explicit allow-list."""

from __future__ import annotations

from datetime import timedelta

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership
from authorizations.models import AuthorizationAttempt, hash_state, new_state
from tests.base import PASSWORD, BaseTestCase
from tests.security.routes import Fixtures, Route, UnknownParameter, all_routes, generic_url, tenant_url

# Views without CSRF protection, with the reason. All are the sandbox's imitation of Amazon's machine-to-machine
# JSON APIs: they are called by the portal's server with a client secret or an access token, never by a browser
# with cookies, exactly like the Amazon endpoints they stand in for.
CSRF_EXEMPT = {
    # The platform API accepts only `Authorization: Bearer <key>` (never the session cookie), so a forged
    # cross-site request carries no credential; tests/api proves a browser session alone is refused.
    "api/v1/stores/": "Platform API, API key header only, no cookies.",
    "api/v1/stores/<str:code>/": "Platform API, API key header only, no cookies.",
    "api/v1/stores/<str:code>/recheck": "Platform API, API key header only, no cookies.",
    "api/v1/orders/": "Platform API, API key header only, no cookies.",
    "api/v1/orders/changes/": "Platform API, API key header only, no cookies.",
    "api/v1/orders/<str:amazon_order_id>/": "Platform API, API key header only, no cookies.",
    "api/v1/orders/<str:amazon_order_id>/shipments": "Platform API, API key header only, no cookies.",
    "api/v1/schema/": "The public OpenAPI document (GET), no credential at all.",
    "api/v1/^.*$": "The platform API's JSON 404 for any other address: reads and changes nothing.",
    "sandbox/<region:region>/auth/o2/token": "Login with Amazon token endpoint: server-to-server, authenticated "
    "by the client secret (form or Basic auth), no cookies.",
    "sandbox/<region:region>/sp/sellers/v1/marketplaceParticipations": "SP-API imitation: authenticated by the "
    "x-amz-access-token header, no cookies.",
    "sandbox/<region:region>/sp/orders/2026-01-01/orders": "SP-API imitation (searchOrders), access token header.",
    "sandbox/<region:region>/sp/orders/v0/orders/<str:order_id>/shipmentConfirmation": "SP-API imitation "
    "(confirmShipment), access token header.",
    "sandbox/<region:region>/sp/reports/2021-06-30/reports": "SP-API imitation (createReport), access token header.",
    "sandbox/<region:region>/sp/reports/2021-06-30/reports/<str:report_id>": "SP-API imitation (getReport), access "
    "token header.",
    "sandbox/<region:region>/sp/reports/2021-06-30/documents/<str:document_id>": "SP-API imitation "
    "(getReportDocument), access token header.",
    "sandbox/<region:region>/sp/feeds/2021-06-30/documents": "SP-API imitation (createFeedDocument), access token "
    "header.",
    "sandbox/<region:region>/sp/feeds/2021-06-30/documents/<str:document_id>": "SP-API imitation (getFeedDocument), "
    "access token header.",
    "sandbox/<region:region>/sp/feeds/2021-06-30/feeds": "SP-API imitation (createFeed), access token header.",
    "sandbox/<region:region>/sp/feeds/2021-06-30/feeds/<str:feed_id>": "SP-API imitation (getFeed), access token "
    "header.",
    "sandbox/<region:region>/s3/<str:document_id>": "S3 imitation: presigned document URLs (a signature in the "
    "query), no cookies.",
    "sandbox/<region:region>/sp/orders/2026-01-01/orders/<str:order_id>": "SP-API imitation (getOrder), access "
    "token header.",
    "sandbox/<region:region>/sp/listings/2021-08-01/items/<str:seller_id>/<path:sku>": "SP-API imitation "
    "(listings PUT/PATCH/DELETE), access token header.",
    "sandbox/<region:region>/sp/listings/2021-08-01/items/<str:seller_id>": "SP-API imitation "
    "(searchListingsItems), access token header.",
    "sandbox/<region:region>/sp/applications/2023-11-30/clientSecret": "SP-API imitation "
    "(rotateApplicationClientSecret), grantless access token header.",
    "sandbox/<region:region>/sp/notifications/v1/destinations": "SP-API imitation (createDestination, "
    "getDestinations), grantless access token header.",
    "sandbox/<region:region>/sp/notifications/v1/destinations/<str:destination_id>": "SP-API imitation "
    "(getDestination, deleteDestination), grantless access token header.",
    "sandbox/<region:region>/sp/notifications/v1/subscriptions": "SP-API imitation (getSubscriptions), the "
    "seller's access token header.",
    "sandbox/<region:region>/sp/notifications/v1/subscriptions/<str:notification_type>": "SP-API imitation "
    "(createSubscription, getSubscription), the seller's access token header.",
    "sandbox/<region:region>/sp/notifications/v1/subscriptions/<str:notification_type>/<str:subscription_id>": "SP-API "
    "imitation (getSubscriptionById, deleteSubscriptionById), grantless access token header.",
}


class CsrfTests(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        now = timezone.now()
        attempt = AuthorizationAttempt.objects.create(
            state_hash=hash_state(new_state()),
            store=self.store,
            capability="orders",
            expires_at=now + timedelta(minutes=15),
        )
        self.fx = Fixtures(
            store_code=str(self.store.code),
            tenant_code=str(self.tenant.code),
            membership_code=str(Membership.objects.get(user=self.bob, tenant=self.tenant).code),
            attempt_code=str(attempt.code),
        )

    def url(self, route: Route) -> str:
        try:
            return tenant_url(route, self.fx)
        except UnknownParameter:
            return generic_url(route)

    def browser(self, with_cookie: bool) -> Client:
        client = Client(enforce_csrf_checks=True)
        client.force_login(self.alice)
        if with_cookie:
            client.get(reverse("stores:list"))  # a page with a form sets the csrftoken cookie
            assert "csrftoken" in client.cookies
        return client

    def assert_refused_by_csrf(self, client: Client, url: str, data: dict[str, str]) -> None:
        with self.assertLogs("django.security.csrf", "WARNING") as logs:
            r = client.post(url, data)
        self.assertEqual(r.status_code, 403)
        self.assertIn("Forbidden", logs.output[0])

    def test_the_csrf_exempt_views_are_exactly_the_allow_list(self) -> None:
        exempt = {r.route for r in all_routes() if getattr(r.callback, "csrf_exempt", False)}
        self.assertEqual(exempt, set(CSRF_EXEMPT))

    def test_every_post_route_refuses_a_post_without_a_csrf_cookie(self) -> None:
        client = self.browser(with_cookie=False)
        checked = 0
        for route in all_routes():
            if route.route in CSRF_EXEMPT or route.is_regex:
                continue  # regex routes (admin app index, allauth keys) are covered by the exempt-list test
            with self.subTest(route=str(route)):
                self.assert_refused_by_csrf(client, self.url(route), {"usual_environment": "on"})
                checked += 1
        self.assertGreater(checked, 40)

    def test_every_post_route_refuses_a_post_with_the_cookie_but_without_the_token(self) -> None:
        client = self.browser(with_cookie=True)
        for route in all_routes():
            if route.route in CSRF_EXEMPT or route.is_regex:
                continue
            with self.subTest(route=str(route)):
                self.assert_refused_by_csrf(client, self.url(route), {"usual_environment": "on"})

    def test_every_post_route_refuses_a_wrong_token(self) -> None:
        client = self.browser(with_cookie=True)
        wrong = {"csrfmiddlewaretoken": "x" * 64, "usual_environment": "on"}
        for route in all_routes():
            if route.route in CSRF_EXEMPT or route.is_regex:
                continue
            with self.subTest(route=str(route)):
                self.assert_refused_by_csrf(client, self.url(route), wrong)

    def test_a_post_with_the_right_token_goes_through(self) -> None:
        # The control for the tests above: the same client is accepted with the token from the cookie.
        client = self.browser(with_cookie=True)
        token = client.cookies["csrftoken"].value
        r = client.post(
            reverse("set_language"), {"language": "en", "next": "/", "csrfmiddlewaretoken": token}
        )
        self.assertEqual(r.status_code, 302)

    def test_the_login_form_is_protected_against_login_csrf(self) -> None:
        client = Client(enforce_csrf_checks=True)
        with self.assertLogs("django.security.csrf", "WARNING"):
            r = client.post(reverse("account_login"), {"login": "alice@example.org", "password": PASSWORD})
        self.assertEqual(r.status_code, 403)
        self.assertNotIn("_auth_user_id", client.session)

    def test_a_get_to_logout_does_not_log_the_user_out(self) -> None:
        client = self.browser(with_cookie=False)
        client.get(reverse("account_logout"))
        self.assertEqual(client.get(reverse("stores:list")).status_code, 200)
